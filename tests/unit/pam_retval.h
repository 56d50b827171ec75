/* What the PAM modules' pam_start_confdir() return-value tests share
 * (pam_pwb_oidc/tst-retval.c, pam_pwb_mkhome/tst-retval.c): a table of
 * cases, each run on a fresh handle from a service file written in the
 * test's directory; TAP output. */
#ifndef PWB_PAM_RETVAL_H
#define PWB_PAM_RETVAL_H

#include <stddef.h>
#include <security/pam_appl.h>

struct pam_retval_case {
	const char *what;
	const char *lines; /* the service file, after "#%PAM-1.0" */
	const char *user;
	const char *token; /* what the conversation answers; NULL: no conversation */
	int (*fn)(pam_handle_t *, int);
	int want;
};

/* Runs every case under service (a file name in the current directory,
 * removed at the end); the exit status: 1 if a case failed. */
int pam_retval_main(const char *service, const struct pam_retval_case *cases, size_t n);

#endif
