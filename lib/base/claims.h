/* The validated ID-token claims that pam_pwb_oidc hands to pam_pwb_mkhome
 * in the same PAM handle (pam_set_data under PWB_PAM_DATA_CLAIMS, cleanup
 * pwb_claims_pam_cleanup). Only a token that passed every check produces
 * one, so its presence means "this user was authenticated by the IdP". */
#ifndef PWB_CLAIMS_H
#define PWB_CLAIMS_H

#include <stdbool.h>
#include <stddef.h>
#include "cleanup.h"
#include "names.h"

#define PWB_PAM_DATA_CLAIMS "pwb_oidc_claims"

struct pwb_claims {
	char username[PWB_NAME_MAX + 1]; /* mapped Linux name, equal to PAM_USER */
	char *issuer;			 /* iss (= auth-openid-issuer) */
	char *subject;			 /* auth-openid-subject-claim value */
	char *name;			 /* "name" claim (gecos), may be NULL */
	char *email;			 /* "email" claim, may be NULL */
	char **groups;			 /* groups claim as sent (not yet name-checked) */
	size_t n_groups;
	bool local_account; /* an existing local account, allowed by config */
	char *token;	    /* the raw ID token, kept only where pwbd must validate it
			     * again (pam_pwb_oidc not running as root: Linux-PAM
			     * clears PAM_AUTHTOK when pam_authenticate returns);
			     * wiped when freed; never logged */
};

struct pwb_claims *pwb_claims_new(void);
/* Adds a copy of a group name; 0 or -ENOMEM. */
int pwb_claims_add_group(struct pwb_claims *c, const char *group);
void pwb_claims_free(struct pwb_claims *c);
PWB_DEFINE_POINTER_CLEANUP(pwb_claims_freep, struct pwb_claims, pwb_claims_free)
#define _cleanup_claims_ _cleanup_(pwb_claims_freep)
/* Signature of a pam_set_data cleanup function (void *pamh, void *data, int status). */
void pwb_claims_pam_cleanup(void *pamh, void *data, int error_status);

#endif
