/* pam_pwb_oidc's return values through libpam itself, as Linux-PAM's own
 * modules test theirs: a service file in the test's directory, loaded with
 * pam_start_confdir(), the module from the build tree (the runner:
 * tests/unit/pam_retval.c). Needs no issuer: every case is decided before
 * a token is checked. */
#include "pam_retval.h"

#ifndef MODULE_PATH
#error "MODULE_PATH (the built pam_pwb_oidc.so) must be defined"
#endif

#define NO_CONF "auth required " MODULE_PATH " config=/nonexistent/pwb.conf"

static const struct pam_retval_case cases[] = {
    /* libpam's pam_get_authtok() fails so without a conversation. */
    {"authenticate, no token and no conversation", NO_CONF "\n", "alice", NULL, pam_authenticate,
     PAM_AUTHTOK_ERR},
    {"authenticate, unreadable config", NO_CONF "\n", "alice", "e30.e30.sig", pam_authenticate,
     PAM_AUTHINFO_UNAVAIL},
    {"setcred", "auth required " MODULE_PATH "\n", "alice", NULL, pam_setcred, PAM_SUCCESS},
    {"authenticate, unknown argument is logged, not fatal", NO_CONF " bogus\n", "alice",
     "e30.e30.sig", pam_authenticate, PAM_AUTHINFO_UNAVAIL},
};

int main(void)
{
	return pam_retval_main("tst-pam_pwb_oidc-retval", cases, sizeof(cases) / sizeof(cases[0]));
}
