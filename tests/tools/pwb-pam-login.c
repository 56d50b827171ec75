/* pwb-pam-login: runs a PAM service the way pwb-login does, for tests: the
 * expected nonce in the PAM environment (PWB_OIDC_NONCE, which pamtester
 * cannot set), the ID token from stdin as the password, then
 * pam_authenticate, pam_acct_mgmt, pam_open_session and pam_close_session
 * on one handle.
 *   pwb-pam-login [--nonce N] [--rhost H] SERVICE USER < token
 * Prints each step's result ("authenticate: Success") and every message the
 * modules send ("error: TEXT", "info: TEXT") on stdout. Exit status: 0 if
 * every step succeeded, 1 if one failed (the later steps are not run), 2 on
 * a usage or setup error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <security/pam_appl.h>

static char *secret;

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	(void)data;
	if (!r)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = strdup(secret);
		else if (msg[i]->msg_style == PAM_ERROR_MSG)
			printf("error: %s\n", msg[i]->msg);
		else if (msg[i]->msg_style == PAM_TEXT_INFO)
			printf("info: %s\n", msg[i]->msg);
	}
	fflush(stdout);
	*resp = r;
	return PAM_SUCCESS;
}

static char *read_stdin(void)
{
	size_t cap = 65536, len;
	char *buf = malloc(cap);

	if (!buf)
		return NULL;
	len = fread(buf, 1, cap - 1, stdin);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	return buf;
}

/* Prints the step's result; true when it succeeded. */
static int step(pam_handle_t *pamh, const char *name, int r)
{
	printf("%s: %s\n", name, pam_strerror(pamh, r));
	fflush(stdout);
	return r == PAM_SUCCESS;
}

int main(int argc, char **argv)
{
	const char *nonce = NULL, *rhost = NULL;
	struct pam_conv pc = {conv, NULL};
	pam_handle_t *pamh = NULL;
	char *env = NULL;
	int argi = 1, r, ok;

	while (argi + 1 < argc && strncmp(argv[argi], "--", 2) == 0) {
		if (strcmp(argv[argi], "--nonce") == 0)
			nonce = argv[argi + 1];
		else if (strcmp(argv[argi], "--rhost") == 0)
			rhost = argv[argi + 1];
		else
			break;
		argi += 2;
	}
	if (argc - argi != 2) {
		fprintf(stderr, "usage: pwb-pam-login [--nonce N] [--rhost H] SERVICE USER\n");
		return 2;
	}
	secret = read_stdin();
	if (!secret)
		return 2;
	r = pam_start(argv[argi], argv[argi + 1], &pc, &pamh);
	if (r != PAM_SUCCESS) {
		fprintf(stderr, "pam_start: %s\n", pam_strerror(pamh, r));
		return 2;
	}
	if (rhost && pam_set_item(pamh, PAM_RHOST, rhost) != PAM_SUCCESS)
		return 2;
	if (nonce) {
		if (asprintf(&env, "PWB_OIDC_NONCE=%s", nonce) < 0 ||
		    pam_putenv(pamh, env) != PAM_SUCCESS)
			return 2;
		free(env);
	}
	ok = step(pamh, "authenticate", r = pam_authenticate(pamh, 0)) &&
	     step(pamh, "acct_mgmt", r = pam_acct_mgmt(pamh, 0)) &&
	     step(pamh, "open_session", r = pam_open_session(pamh, 0)) &&
	     step(pamh, "close_session", r = pam_close_session(pamh, 0));
	pam_end(pamh, r);
	free(secret);
	return ok ? 0 : 1;
}
