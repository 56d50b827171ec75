/* pwbadm encrypt-password: reads the OIDC client secret (without echo on a
 * terminal, else from stdin) and prints it encrypted under secure-key-file
 * for the client-secret= line of the openid-client-secret file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "log.h"
#include "pwbadm.h"
#include "secret.h"
#include "util.h"

#define SECRET_MAX 4096

/* Reads one line into buf (without the newline); wipes what it drops.
 * Returns its length, or -1 when the input is empty or too long. */
static ssize_t read_line(FILE *in, char *buf, size_t size)
{
	size_t len = 0;
	int ch;

	while ((ch = getc(in)) != EOF && ch != '\n') {
		if (len + 1 >= size) {
			OPENSSL_cleanse(buf, size);
			while ((ch = getc(in)) != EOF && ch != '\n')
				;
			return -1;
		}
		buf[len++] = (char)ch;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return len == 0 && ch == EOF ? -1 : (ssize_t)len;
}

/* Prompts on stderr with echo off on the terminal that is stdin. */
static ssize_t read_hidden(const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	ssize_t len;

	if (tcgetattr(STDIN_FILENO, &old) < 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	fputs(prompt, stderr);
	fflush(stderr);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
		return -1;
	len = read_line(stdin, buf, size);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	return len;
}

/* Reads the secret into buf: twice on a terminal (the two must match),
 * else the first line of stdin. Prints its own error. */
static int read_secret(char *buf, size_t size)
{
	char again[SECRET_MAX];
	ssize_t len;
	int rc = 0;

	if (!isatty(STDIN_FILENO)) {
		len = read_line(stdin, buf, size);
		if (len <= 0)
			return pwbadm_fail("no secret on stdin (one line, at most %d bytes)",
					   SECRET_MAX - 1);
		return 0;
	}
	len = read_hidden("Secret: ", buf, size);
	if (len <= 0)
		return pwbadm_fail("no secret entered (or longer than %d bytes)", SECRET_MAX - 1);
	if (read_hidden("Again: ", again, sizeof(again)) < 0 || strcmp(buf, again) != 0)
		rc = pwbadm_fail("the two entries differ; nothing encrypted");
	OPENSSL_cleanse(again, sizeof(again));
	return rc;
}

int pwbadm_encrypt_password(struct pwbadm *adm, const struct pwbadm_args *a)
{
	struct pwb_error err = {0};
	char plain[SECRET_MAX];
	char *encrypted = NULL;
	int rc;

	(void)a;
	if (pwbadm_load_config(adm))
		return PWBADM_EXIT_FAILURE;
	if (read_secret(plain, sizeof(plain))) {
		OPENSSL_cleanse(plain, sizeof(plain));
		return PWBADM_EXIT_FAILURE;
	}
	rc = pwb_secret_encrypt(adm->cfg.secure_key_file, true, plain, &encrypted, &err);
	OPENSSL_cleanse(plain, sizeof(plain));
	if (rc < 0)
		return pwbadm_fail("cannot encrypt under %s: %s", adm->cfg.secure_key_file,
				   pwb_error_text(&err, rc));
	printf("%s\n", encrypted);
	pwb_free_secret(encrypted);
	return PWBADM_EXIT_OK;
}
