/* The relying-party half of OpenID Connect (see rp.h). Stub: the contract
 * for pwb-login; implemented on its own branch. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "rp.h"

int pwb_rp_provider_load(const struct pwb_config *cfg, struct pwb_rp_provider *out,
			 struct pwb_error *err)
{
	memset(out, 0, sizeof(*out));
	return pwb_error_set(err, -ENOSYS, "not implemented");
}

void pwb_rp_provider_clear(struct pwb_rp_provider *p)
{
	free(p->issuer);
	free(p->authorization_endpoint);
	free(p->token_endpoint);
	free(p->end_session_endpoint);
	memset(p, 0, sizeof(*p));
}

int pwb_rp_random(char out[PWB_RP_RANDOM_LEN + 1])
{
	out[0] = '\0';
	return -ENOSYS;
}

int pwb_rp_pkce_challenge(const char *verifier, char out[PWB_RP_RANDOM_LEN + 1])
{
	out[0] = '\0';
	return -ENOSYS;
}

int pwb_rp_authorize_url(const struct pwb_rp_provider *p, const struct pwb_rp_authz *a, char **url,
			 struct pwb_error *err)
{
	*url = NULL;
	return pwb_error_set(err, -ENOSYS, "not implemented");
}

void pwb_rp_tokens_clear(struct pwb_rp_tokens *t)
{
	free(t->id_token);
	free(t->access_token);
	free(t->refresh_token);
	memset(t, 0, sizeof(*t));
}

int pwb_rp_auth_method_parse(const char *text, enum pwb_rp_auth_method *out, struct pwb_error *err)
{
	return pwb_error_set(err, -ENOSYS, "not implemented");
}

int pwb_rp_exchange_code(const struct pwb_config *cfg, const struct pwb_rp_provider *p,
			 const struct pwb_rp_exchange *x, struct pwb_rp_tokens *out,
			 struct pwb_error *err)
{
	memset(out, 0, sizeof(*out));
	return pwb_error_set(err, -ENOSYS, "not implemented");
}

int pwb_rp_end_session_url(const struct pwb_rp_provider *p, const char *id_token_hint,
			   const char *client_id, const char *post_logout_redirect_uri,
			   const char *state, char **url, struct pwb_error *err)
{
	*url = NULL;
	return pwb_error_set(err, -ENOSYS, "not implemented");
}

void pwb_rp_logout_clear(struct pwb_rp_logout *l)
{
	free(l->sub);
	free(l->sid);
	free(l->jti);
	memset(l, 0, sizeof(*l));
}

int pwb_rp_logout_token_verify(const struct pwb_config *cfg, const char *client_id,
			       const char *token, size_t len, int64_t max_age_s,
			       struct pwb_rp_logout *out, struct pwb_error *err)
{
	memset(out, 0, sizeof(*out));
	return pwb_error_set(err, -ENOSYS, "not implemented");
}
