/* pam_pwb_test_claims: a test-only PAM module (never installed) standing
 * in for pam_pwb_mkhome. In the account stage it writes the claims that
 * pam_pwb_oidc left on the handle (PWB_PAM_DATA_CLAIMS) to the file given
 * as its argument, one key=value per line, and fails when there are none:
 * so a test can check the hand-over contract end to end. */
#include <stdio.h>
#include <security/pam_modules.h>
#include "claims.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const void *data = NULL;
	const struct pwb_claims *c;
	FILE *f;
	size_t i;

	if (argc != 1)
		return PAM_SERVICE_ERR;
	f = fopen(argv[0], "w");
	if (!f)
		return PAM_SERVICE_ERR;
	if (pam_get_data(pamh, PWB_PAM_DATA_CLAIMS, &data) != PAM_SUCCESS || !data) {
		fputs("none\n", f);
		fclose(f);
		return PAM_PERM_DENIED;
	}
	c = data;
	fprintf(f, "username=%s\nissuer=%s\nsubject=%s\nname=%s\nemail=%s\nlocal=%d\ngroups=",
		c->username, c->issuer, c->subject ? c->subject : "(null)",
		c->name ? c->name : "(null)", c->email ? c->email : "(null)", c->local_account);
	for (i = 0; i < c->n_groups; i++)
		fprintf(f, "%s%s", i ? "," : "", c->groups[i]);
	fputc('\n', f);
	fclose(f);
	return PAM_SUCCESS;
}
