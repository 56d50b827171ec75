/* pam_pwb_oidc's return values through libpam itself, as Linux-PAM's own
 * modules test theirs: a service file in the test's directory, loaded with
 * pam_start_confdir(), the module from the build tree. Prints TAP. Needs no
 * issuer: every case is decided before a token is checked. */
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MODULE_PATH
#error "MODULE_PATH (the built pam_pwb_oidc.so) must be defined"
#endif

static const char service[] = "tst-pam_pwb_oidc-retval";
static int n_test;
static int failed;

static void expect(const char *what, int got, int want)
{
	n_test++;
	if (got != want)
		failed = 1;
	printf("%sok %d - %s: %d (want %d)\n", got == want ? "" : "not ", n_test, what, got, want);
}

static int write_service(const char *lines)
{
	FILE *f = fopen(service, "w");

	if (!f)
		return -1;
	fprintf(f, "#%%PAM-1.0\n%s", lines);
	return fclose(f);
}

/* The conversation: answers every prompt with the token (appdata). */
static int answer_token(int n, const struct pam_message **msg, struct pam_response **resp,
			void *token)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	(void)msg;
	if (!r)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++)
		r[i].resp = strdup(token);
	*resp = r;
	return PAM_SUCCESS;
}

/* Runs fn on a fresh handle for user with the given stack; the
 * conversation answers with token, or is missing when token is NULL. */
static int run(const char *lines, const char *user, const char *token,
	       int (*fn)(pam_handle_t *, int))
{
	struct pam_conv conv = {token ? answer_token : NULL, (void *)token};
	pam_handle_t *pamh = NULL;
	int r;

	if (write_service(lines) != 0)
		return -1;
	r = pam_start_confdir(service, user, &conv, ".", &pamh);
	if (r != PAM_SUCCESS)
		return -100 - r;
	r = fn(pamh, 0);
	pam_end(pamh, r);
	return r;
}

int main(void)
{
	char buf[4096];

	printf("1..4\n");
	snprintf(buf, sizeof(buf), "auth required %s config=/nonexistent/pwb.conf\n", MODULE_PATH);
	/* libpam's pam_get_authtok() fails so without a conversation. */
	expect("authenticate, no token and no conversation",
	       run(buf, "alice", NULL, pam_authenticate), PAM_AUTHTOK_ERR);
	expect("authenticate, unreadable config",
	       run(buf, "alice", "e30.e30.sig", pam_authenticate), PAM_AUTHINFO_UNAVAIL);
	snprintf(buf, sizeof(buf), "auth required %s\n", MODULE_PATH);
	expect("setcred", run(buf, "alice", NULL, pam_setcred), PAM_SUCCESS);
	snprintf(buf, sizeof(buf), "auth required %s config=/nonexistent/pwb.conf bogus\n",
		 MODULE_PATH);
	expect("authenticate, unknown argument is logged, not fatal",
	       run(buf, "alice", "e30.e30.sig", pam_authenticate), PAM_AUTHINFO_UNAVAIL);
	unlink(service);
	return failed;
}
