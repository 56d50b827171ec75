/* The relying-party half of OpenID Connect, for pwb-login and
 * pam_pwb_oidc's device mode: the provider's endpoints from discovery,
 * random values and PKCE (RFC 7636, S256), the authorization request, the
 * code exchange at the token endpoint (client_secret_basic or
 * client_secret_post), the device authorization grant (RFC 8628: the
 * device request and the token poll, also for a public client),
 * RP-initiated logout, and the validation of back-channel logout tokens
 * (OpenID Connect Back-Channel Logout 1.0, section 2.6). No endpoint is
 * hard-coded: every URL comes from the issuer's discovery document. Errors
 * never contain a code, a device code, a token, a verifier or the client
 * secret. */
#ifndef PWB_RP_H
#define PWB_RP_H

#include <stdbool.h>
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
 * end_session_endpoint and device_authorization_endpoint are NULL when the
 * provider has none. */
struct pwb_rp_provider {
	char *issuer;
	char *authorization_endpoint;
	char *token_endpoint;
	char *end_session_endpoint;
	char *device_authorization_endpoint; /* RFC 8628 4 */
};

/* Reads the endpoints from the issuer's discovery document (cached: see
 * pwb_oidc_discovery). Refused (PWB_EUNAVAIL) when a required endpoint is
 * missing, when any endpoint given is not https, or when code_challenge_methods_supported is given
 * and lacks S256. */
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
	PWB_RP_CLIENT_NONE,	    /* a public client: client_id in the body, no secret */
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

/* Parses auth-openid-device-token-method: "auto" (client_secret_basic when
 * has_secret, none otherwise), "none", "client_secret_basic",
 * "client_secret_post". PWB_ECONFIG naming the value, or saying that a
 * secret method needs a client-secret= line. */
int pwb_rp_device_auth_method_parse(const char *text, bool has_secret, enum pwb_rp_auth_method *out,
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

/* A client at the device authorization and token endpoints (RFC 8628):
 * client_secret may be NULL with PWB_RP_CLIENT_NONE. */
struct pwb_rp_client {
	const char *client_id, *client_secret;
	enum pwb_rp_auth_method method;
};

/* The device authorization response (RFC 8628 3.2). Strings malloc'd;
 * device_code is a secret (wiped by pwb_rp_device_clear). user_code and
 * the URIs are shown to a person on a terminal, so they hold printable
 * ASCII only; the URIs are https. */
struct pwb_rp_device {
	char *device_code;
	char *user_code;
	char *verification_uri;		 /* also read from "verification_url" (Google) */
	char *verification_uri_complete; /* NULL when not given */
	int64_t expires_in;		 /* seconds, > 0 */
	int64_t interval;		 /* seconds between polls: 5 when not given */
};
void pwb_rp_device_clear(struct pwb_rp_device *d);
#define _cleanup_rp_device_ _cleanup_(pwb_rp_device_clear)

#define PWB_RP_DEVICE_INTERVAL	     5	/* RFC 8628 3.2: when the server sends none */
#define PWB_RP_DEVICE_INTERVAL_MAX   60 /* a larger interval is capped */
#define PWB_RP_DEVICE_SLOW_DOWN_STEP 5	/* RFC 8628 3.5: seconds added on slow_down */
#define PWB_RP_USER_CODE_MAX	     64 /* bytes of a user code */
#define PWB_RP_DEVICE_CODE_MAX	     4096
#define PWB_RP_VERIFICATION_MAX	     1024 /* bytes of a verification URI */

/* What a device-grant answer (authorization or token poll) means. Each
 * refusal comes with one line in err that names the reason and never a
 * device code, a token or a secret. */
enum pwb_rp_device_state {
	PWB_RP_DEVICE_OK,	   /* the answer carries what was asked for */
	PWB_RP_DEVICE_PENDING,	   /* authorization_pending: poll again after interval */
	PWB_RP_DEVICE_SLOW_DOWN,   /* slow_down: poll again after interval + 5 s */
	PWB_RP_DEVICE_DENIED,	   /* access_denied: the person (or a policy) said no */
	PWB_RP_DEVICE_EXPIRED,	   /* expired_token: the code ran out before approval */
	PWB_RP_DEVICE_NOT_ALLOWED, /* the provider does not allow this client the device
				    * grant: invalid_client, unauthorized_client,
				    * unsupported_grant_type, Entra's AADSTS7000218, Okta's
				    * "not authorized to use the provided grant type" */
	PWB_RP_DEVICE_FAILED,	   /* any other error answer, or an unusable reply */
};

/* Parses the device authorization endpoint's reply (at most
 * PWB_RP_TOKEN_REPLY_MAX bytes). 0 with *state PWB_RP_DEVICE_OK: out is
 * filled. Otherwise PWB_EAUTH (an error object; *state classifies it) or
 * PWB_EUNAVAIL (not JSON, a bad member, an unexpected status;
 * PWB_RP_DEVICE_FAILED). */
int pwb_rp_device_parse(long status, const char *body, size_t len, struct pwb_rp_device *out,
			enum pwb_rp_device_state *state, struct pwb_error *err);

/* POSTs client_id and scope (space separated, must hold "openid") to the
 * provider's device_authorization_endpoint with the client's
 * authentication, and parses the reply as pwb_rp_device_parse does.
 * PWB_ENOTFOUND when the provider has no such endpoint; PWB_EUNAVAIL when
 * it cannot be reached. */
int pwb_rp_device_authorize(const struct pwb_config *cfg, const struct pwb_rp_provider *p,
			    const struct pwb_rp_client *c, const char *scopes,
			    struct pwb_rp_device *out, enum pwb_rp_device_state *state,
			    struct pwb_error *err);

/* Parses a device-code token poll's reply: 0 with PWB_RP_DEVICE_OK (out
 * holds the tokens, as pwb_rp_tokens_parse), 0 with PWB_RP_DEVICE_PENDING
 * or PWB_RP_DEVICE_SLOW_DOWN, else PWB_EAUTH or PWB_EUNAVAIL with *state
 * saying why. */
int pwb_rp_device_poll_parse(long status, const char *body, size_t len, struct pwb_rp_tokens *out,
			     enum pwb_rp_device_state *state, struct pwb_error *err);

/* One poll of the token endpoint: grant_type
 * urn:ietf:params:oauth:grant-type:device_code with device_code and the
 * client's authentication; the reply as pwb_rp_device_poll_parse. */
int pwb_rp_device_poll(const struct pwb_config *cfg, const struct pwb_rp_provider *p,
		       const struct pwb_rp_client *c, const char *device_code,
		       struct pwb_rp_tokens *out, enum pwb_rp_device_state *state,
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
