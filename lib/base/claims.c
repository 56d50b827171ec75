/* Lifetime of the claims handed from pam_pwb_oidc to pam_pwb_mkhome. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "claims.h"

struct pwb_claims *pwb_claims_new(void)
{
	return calloc(1, sizeof(struct pwb_claims));
}

int pwb_claims_add_group(struct pwb_claims *c, const char *group)
{
	char **grown, *copy;

	copy = strdup(group);
	if (!copy)
		return -ENOMEM;
	grown = realloc(c->groups, (c->n_groups + 1) * sizeof(*grown));
	if (!grown) {
		free(copy);
		return -ENOMEM;
	}
	c->groups = grown;
	c->groups[c->n_groups++] = copy;
	return 0;
}

void pwb_claims_free(struct pwb_claims *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_groups; i++)
		free(c->groups[i]);
	free(c->groups);
	free(c->issuer);
	free(c->subject);
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->name);
	free(c->email);
	free(c);
}

void pwb_claims_pam_cleanup(void *pamh, void *data, int error_status)
{
	pwb_claims_free(data);
}
