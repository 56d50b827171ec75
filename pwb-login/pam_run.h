/* The PAM run of a browser sign-in: one handle for the callback's
 * authenticate, account and session steps, ended before the request ends.
 * The ID token is the password; the expected nonce travels in the PAM
 * environment (PWB_OIDC_NONCE) for pam_pwb_oidc's require-nonce. */
#ifndef PWB_LOGIN_PAM_RUN_H
#define PWB_LOGIN_PAM_RUN_H

#define PAM_RUN_MESSAGE_MAX 256

struct pam_run_result {
	int rc;		  /* PAM_SUCCESS or the failing step's PAM code */
	const char *step; /* "start", "authenticate", "account", "session" */
	/* the modules' user-facing PAM_ERROR_MSG texts, joined by "; " */
	char message[PAM_RUN_MESSAGE_MAX];
};

/* Runs service for user. rhost may be NULL. Returns 0 when every step
 * succeeded, else -1 with out saying where and why. */
int pam_run_signin(const char *service, const char *user, const char *nonce, const char *rhost,
		   const char *id_token, struct pam_run_result *out);

#endif
