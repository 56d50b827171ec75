/* pam_pwb_mkhome's return values through libpam itself, as Linux-PAM's
 * own modules test theirs: a service file in the test's directory, loaded
 * with pam_start_confdir(), the module from the build tree. Prints TAP.
 * Needs neither pwbd nor a pwb.conf: every case is decided before. */
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MODULE_PATH
#error "MODULE_PATH (the built pam_pwb_mkhome.so) must be defined"
#endif

static const char service[] = "tst-pam_pwb_mkhome-retval";
static int n_test;
static int failed;

static void expect(const char *what, int got, int want)
{
	n_test++;
	if (got != want)
		failed = 1;
	printf("%sok %d - %s: %d (want %d)\n", got == want ? "" : "not ", n_test, what, got, want);
}

/* Writes the service file: one line per PAM stack. */
static int write_service(const char *lines)
{
	FILE *f = fopen(service, "w");

	if (!f)
		return -1;
	fprintf(f, "#%%PAM-1.0\n%s", lines);
	return fclose(f);
}

/* Runs fn on a fresh handle for user with the given stack. */
static int run(const char *lines, const char *user, int (*fn)(pam_handle_t *, int))
{
	struct pam_conv conv = {NULL, NULL};
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

	printf("1..7\n");
	snprintf(buf, sizeof(buf), "account required %s bogus\n", MODULE_PATH);
	expect("acct_mgmt, unknown argument", run(buf, "alice", pam_acct_mgmt), PAM_SERVICE_ERR);
	snprintf(buf, sizeof(buf), "account required %s config=relative/pwb.conf\n", MODULE_PATH);
	expect("acct_mgmt, relative config=", run(buf, "alice", pam_acct_mgmt), PAM_SERVICE_ERR);
	snprintf(buf, sizeof(buf), "account required %s config=/nonexistent/pwb.conf\n",
		 MODULE_PATH);
	expect("acct_mgmt, invalid user name", run(buf, "bad:name", pam_acct_mgmt),
	       PAM_USER_UNKNOWN);
	snprintf(buf, sizeof(buf), "session required %s umask=0999\n", MODULE_PATH);
	expect("open_session, bad umask", run(buf, "alice", pam_open_session), PAM_SERVICE_ERR);
	snprintf(buf, sizeof(buf), "session required %s config=/nonexistent/pwb.conf\n",
		 MODULE_PATH);
	expect("open_session, invalid user name", run(buf, "bad/name", pam_open_session),
	       PAM_SESSION_ERR);
	snprintf(buf, sizeof(buf), "session required %s\n", MODULE_PATH);
	expect("close_session", run(buf, "alice", pam_close_session), PAM_SUCCESS);
	snprintf(buf, sizeof(buf), "auth optional %s\nauth required pam_permit.so\n", MODULE_PATH);
	expect("setcred is ignored", run(buf, "alice", pam_setcred), PAM_SUCCESS);
	unlink(service);
	return failed;
}
