/* The relying-party half of OpenID Connect, for pwb-login: the provider's
 * endpoints from discovery, random values and PKCE (RFC 7636, S256), the
 * authorization request, the code exchange at the token endpoint
 * (client_secret_basic or client_secret_post), RP-initiated logout, and the
 * validation of back-channel logout tokens (OpenID Connect Back-Channel
 * Logout 1.0, section 2.6). No endpoint is hard-coded: every URL comes
 * from the issuer's discovery document. Errors never contain a code, a
 * token, a verifier or the client secret. */
#ifndef PWB_RP_H
#define PWB_RP_H

#include <stddef.h>
#include <stdint.h>
#include "cleanup.h"
#include "config.h"
#include "error.h"
#include "jwt.h"

/* base64url (no padding) of PWB_RP_RANDOM_BYTES random bytes: state, nonce,
 * PKCE verifier, session ids. */
#define PWB_RP_RANDOM_BYTES 32
#define PWB_RP_RANDOM_LEN   43 /* characters, without the NUL */

/* The provider's endpoints, from discovery. Strings are malloc'd;
 * end_session_endpoint is NULL when the provider has none. */
struct pwb_rp_provider {
	char *issuer;
	char *authorization_endpoint;
	char *token_endpoint;
	char *end_session_endpoint;
};

/* Reads the endpoints from the issuer's discovery document (cached: see
 * pwb_oidc_discovery). Refused (PWB_EUNAVAIL) when an endpoint is missing
 * or not https, or when code_challenge_methods_supported is given and
 * lacks S256. */
int pwb_rp_provider_load(const struct pwb_config *cfg, struct pwb_rp_provider *out,
			 struct pwb_error *err);
void pwb_rp_provider_clear(struct pwb_rp_provider *p);
#define _cleanup_rp_provider_ _cleanup_(pwb_rp_provider_clear)

/* out receives PWB_RP_RANDOM_LEN base64url characters and a NUL, from
 * the OpenSSL CSPRNG. -EIO when it fails. */
int pwb_rp_random(char out[PWB_RP_RANDOM_LEN + 1]);

/* The S256 code_challenge of verifier: base64url(SHA-256(verifier)). */
int pwb_rp_pkce_challenge(const char *verifier, char out[PWB_RP_RANDOM_LEN + 1]);

/* Percent-encodes text (RFC 3986: the unreserved characters A-Z a-z 0-9
 * "-._~" kept, every other byte %XX), which is right both in a query and in
 * an application/x-www-form-urlencoded body. *out malloc'd. */
int pwb_rp_url_encode(const char *text, char **out);

/* What an authorization request carries. */
struct pwb_rp_authz {
	const char *client_id;
	const char *redirect_uri;
	const char *scopes; /* space separated, must contain "openid" */
	const char *state, *nonce, *code_challenge;
};

/* The authorization endpoint URL with response_type=code, client_id,
 * redirect_uri, scope, state, nonce, code_challenge and
 * code_challenge_method=S256, each percent-encoded. *url is malloc'd. */
int pwb_rp_authorize_url(const struct pwb_rp_provider *p, const struct pwb_rp_authz *a, char **url,
			 struct pwb_error *err);

/* The token endpoint's answer. Strings malloc'd (free with
 * pwb_rp_tokens_clear, which wipes them). */
struct pwb_rp_tokens {
	char *id_token;
	char *access_token;
	char *refresh_token; /* NULL when none */
	int64_t expires_in;  /* -1 when absent */
};
void pwb_rp_tokens_clear(struct pwb_rp_tokens *t);
#define _cleanup_rp_tokens_ _cleanup_(pwb_rp_tokens_clear)

/* How the client authenticates at the token endpoint. */
enum pwb_rp_auth_method {
	PWB_RP_CLIENT_SECRET_BASIC, /* Authorization: Basic (RFC 6749 2.3.1 form-encoding) */
	PWB_RP_CLIENT_SECRET_POST,  /* client_id and client_secret in the body */
};

/* Parses auth-openid-token-method ("client_secret_basic",
 * "client_secret_post"); PWB_ECONFIG naming the value otherwise. */
int pwb_rp_auth_method_parse(const char *text, enum pwb_rp_auth_method *out, struct pwb_error *err);

/* The client_secret_basic header value: "Basic " + base64(id ":" secret)
 * with id and secret form-urlencoded first (RFC 6749 2.3.1), so a ':' or a
 * non-ASCII byte in either survives. *out malloc'd; free with
 * pwb_free_secret. */
int pwb_rp_basic_authorization(const char *client_id, const char *client_secret, char **out);

/* Parses the token endpoint's reply (HTTP status and body, at most
 * PWB_RP_TOKEN_REPLY_MAX bytes): 200 with a JSON object holding string
 * id_token (at most PWB_JWT_MAX_BYTES) and access_token fills out; an
 * error object (RFC 6749 5.2) is PWB_EAUTH "token endpoint: ERROR:
 * DESCRIPTION" (escaped, bounded); anything else is PWB_EUNAVAIL. */
#define PWB_RP_TOKEN_REPLY_MAX (256 * 1024)
int pwb_rp_tokens_parse(long status, const char *body, size_t len, struct pwb_rp_tokens *out,
			struct pwb_error *err);

struct pwb_rp_exchange {
	const char *client_id, *client_secret;
	enum pwb_rp_auth_method method;
	const char *code, *redirect_uri, *code_verifier;
};

/* POSTs grant_type=authorization_code to the token endpoint (https only,
 * auth-openid-ca-file, auth-openid-http-timeout, bounded body). An error
 * response (RFC 6749 5.2) is PWB_EAUTH with "token endpoint: ERROR:
 * DESCRIPTION" (escaped, bounded); unreachable is PWB_EUNAVAIL; a reply
 * without id_token is PWB_EAUTH. */
int pwb_rp_exchange_code(const struct pwb_config *cfg, const struct pwb_rp_provider *p,
			 const struct pwb_rp_exchange *x, struct pwb_rp_tokens *out,
			 struct pwb_error *err);

/* The end_session_endpoint URL with id_token_hint, client_id,
 * post_logout_redirect_uri (when not NULL) and state (when not NULL).
 * PWB_ENOTFOUND when the provider has no end_session_endpoint. */
int pwb_rp_end_session_url(const struct pwb_rp_provider *p, const char *id_token_hint,
			   const char *client_id, const char *post_logout_redirect_uri,
			   const char *state, char **url, struct pwb_error *err);

/* A validated back-channel logout token's identifying claims (malloc'd;
 * sid or sub may be NULL, never both). */
struct pwb_rp_logout {
	char *sub, *sid, *jti;
	int64_t iat, exp; /* exp: 0 when absent */
};
void pwb_rp_logout_clear(struct pwb_rp_logout *l);
#define _cleanup_rp_logout_ _cleanup_(pwb_rp_logout_clear)

/* Validates a logout token (Back-Channel Logout 1.0, 2.6): a JWS signed by
 * the issuer's keys (pwb_oidc_verify_jws, alg in auth-openid-algorithms,
 * typ "logout+jwt" accepted), iss equal to auth-openid-issuer, aud holding
 * client_id or one of auth-openid-audiences, iat present and not in the
 * future beyond the leeway nor older than max_age_s, exp (when present)
 * not passed, "events" an object holding the member
 * "http://schemas.openid.net/event/backchannel-logout" with an object
 * value, a sid and/or a sub, a jti, and no nonce. Replay (jti already
 * seen) is the caller's check. PWB_EAUTH naming the failed check. */
int pwb_rp_logout_token_verify(const struct pwb_config *cfg, const char *client_id,
			       const char *token, size_t len, int64_t max_age_s,
			       struct pwb_rp_logout *out, struct pwb_error *err);

/* The claim checks of pwb_rp_logout_token_verify (everything but the
 * signature) on a parsed token, at time now. */
int pwb_rp_logout_claims_check(const struct pwb_config *cfg, const char *client_id,
			       const struct pwb_jwt *jwt, int64_t now, int64_t max_age_s,
			       struct pwb_rp_logout *out, struct pwb_error *err);

#endif
