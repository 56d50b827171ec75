/* pam_pwb_mkhome's return values through libpam itself, as Linux-PAM's
 * own modules test theirs: a service file in the test's directory, loaded
 * with pam_start_confdir(), the module from the build tree (the runner:
 * tests/unit/pam_retval.c). Needs neither pwbd nor a pwb.conf: every case
 * is decided before. */
#include "pam_retval.h"

#ifndef MODULE_PATH
#error "MODULE_PATH (the built pam_pwb_mkhome.so) must be defined"
#endif

#define NO_CONF " config=/nonexistent/pwb.conf"

static const struct pam_retval_case cases[] = {
    {"acct_mgmt, unknown argument", "account required " MODULE_PATH " bogus\n", "alice", NULL,
     pam_acct_mgmt, PAM_SERVICE_ERR},
    {"acct_mgmt, relative config=", "account required " MODULE_PATH " config=rel/pwb.conf\n",
     "alice", NULL, pam_acct_mgmt, PAM_SERVICE_ERR},
    {"acct_mgmt, invalid user name", "account required " MODULE_PATH NO_CONF "\n", "bad:name", NULL,
     pam_acct_mgmt, PAM_USER_UNKNOWN},
    {"open_session, bad umask", "session required " MODULE_PATH " umask=0999\n", "alice", NULL,
     pam_open_session, PAM_SERVICE_ERR},
    {"open_session, invalid user name", "session required " MODULE_PATH NO_CONF "\n", "bad/name",
     NULL, pam_open_session, PAM_SESSION_ERR},
    {"close_session", "session required " MODULE_PATH "\n", "alice", NULL, pam_close_session,
     PAM_SUCCESS},
    {"setcred is ignored", "auth optional " MODULE_PATH "\nauth required pam_permit.so\n", "alice",
     NULL, pam_setcred, PAM_SUCCESS},
};

int main(void)
{
	return pam_retval_main("tst-pam_pwb_mkhome-retval", cases,
			       sizeof(cases) / sizeof(cases[0]));
}
