/* bench/login_phases: one sign-in through the real libpam, as pamtester
 * runs it (pam_start, authenticate, acct_mgmt, open_session,
 * close_session, pam_end in one fresh process), timing each call, for
 * bench/login's per-phase split. Linux-PAM loads every module of the
 * service (and the libraries they link) in pam_start, so "start" is the
 * module-loading cost. The secret (ID token) is read from stdin.
 * --host-openssl first loads libcrypto and uses it once, untimed, as a host
 * like sshd has before PAM runs (its key exchange initialised OpenSSL).
 *   login_phases [--host-openssl] SERVICE USER < secret
 * Prints "start_us A auth_us B account_us C session_us D end_us E cpu_us F",
 * F the process's own CPU time (user + system, exec and loading included,
 * exit handlers not): unlike wall time it hardly grows when other work
 * shares the machine. Exit status 0 only if every call returned
 * PAM_SUCCESS. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <security/pam_appl.h>

static char secret[16384];

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	(void)data;
	if (!r)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = strdup(secret);
	*resp = r;
	return PAM_SUCCESS;
}

static long since_us(struct timespec *t0)
{
	struct timespec t1;
	long us;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (t1.tv_sec - t0->tv_sec) * 1000000L + (t1.tv_nsec - t0->tv_nsec) / 1000;
	*t0 = t1;
	return us;
}

/* OpenSSL loaded and initialised (a first digest fetch) as a host's own
 * use would leave it; dlopen'd so that the other runs never map it. */
static int host_openssl(void)
{
	void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_GLOBAL);
	const void *(*sha256)(void);
	int (*digest)(const void *, size_t, unsigned char *, unsigned int *, const void *, void *);
	unsigned char md[64];
	unsigned int n;

	if (!h)
		return -1;
	*(void **)&sha256 = dlsym(h, "EVP_sha256");
	*(void **)&digest = dlsym(h, "EVP_Digest");
	if (!sha256 || !digest || !digest("x", 1, md, &n, sha256(), NULL))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct pam_conv pc = {conv, NULL};
	pam_handle_t *pamh = NULL;
	struct timespec t;
	struct rusage ru;
	long us[5];
	size_t len;
	int r;

	if (argc == 4 && strcmp(argv[1], "--host-openssl") == 0) {
		if (host_openssl() < 0) {
			fprintf(stderr, "login_phases: cannot load libcrypto.so.3\n");
			return 2;
		}
		argv++;
		argc--;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: login_phases [--host-openssl] SERVICE USER < secret\n");
		return 2;
	}
	len = fread(secret, 1, sizeof(secret) - 1, stdin);
	while (len > 0 && (secret[len - 1] == '\n' || secret[len - 1] == '\r'))
		len--;
	secret[len] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t);
	r = pam_start(argv[1], argv[2], &pc, &pamh);
	us[0] = since_us(&t);
	if (r == PAM_SUCCESS)
		r = pam_authenticate(pamh, 0);
	us[1] = since_us(&t);
	if (r == PAM_SUCCESS)
		r = pam_acct_mgmt(pamh, 0);
	us[2] = since_us(&t);
	if (r == PAM_SUCCESS && (r = pam_open_session(pamh, 0)) == PAM_SUCCESS)
		r = pam_close_session(pamh, 0);
	us[3] = since_us(&t);
	pam_end(pamh, r);
	us[4] = since_us(&t);
	getrusage(RUSAGE_SELF, &ru);
	if (r != PAM_SUCCESS) {
		fprintf(stderr, "login_phases: %s\n", pam_strerror(pamh, r));
		return 1;
	}
	printf("start_us %ld auth_us %ld account_us %ld session_us %ld end_us %ld cpu_us %ld\n",
	       us[0], us[1], us[2], us[3], us[4],
	       (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L + ru.ru_utime.tv_usec +
		   ru.ru_stime.tv_usec);
	return 0;
}
