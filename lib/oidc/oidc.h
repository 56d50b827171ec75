/* ID-token sign-in, the whole decision pam_pwb_oidc delegates: discovery
 * and JWKS (cached on disk, refetched once per interval on an unknown kid),
 * signature, claims, username mapping and the local-account rule. The PAM
 * module only adapts arguments and results. */
#ifndef PWB_OIDC_H
#define PWB_OIDC_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "claims.h"
#include "config.h"
#include "error.h"
#include "jwt.h"

/* What the caller expects of a token beyond pwb.conf. */
struct pwb_oidc_expect {
	const char *client_id; /* a PAM service's client id (client-id=): when set it
				* is the only accepted audience (not the file's, not
				* auth-openid-audiences); NULL: the client-secret file's
				* client id and auth-openid-audiences */
	const char *nonce;     /* when set: the nonce claim must equal it */
	bool require_nonce;    /* refuse when nonce is NULL or empty */
	/* with client_id: that client's secret, the key of an HMAC token (the
	 * device client's); NULL: the client-secret file's */
	const char *hmac_secret;
};

/* Decides whether `token` signs `pam_user` in; expect may be NULL (no
 * per-service client id, no nonce). 0: *claims holds the
 * validated claims, with the subject from auth-openid-subject-claim
 * (caller frees with pwb_claims_free). Otherwise PWB_EAUTH (a check
 * failed), PWB_ELOCAL (the name belongs to a local account), PWB_EUNAVAIL
 * (issuer unreachable and nothing cached within auth-openid-cache-max-age) or
 * PWB_ECONFIG; err's message starts with the failed check's name ("exp:",
 * "aud:", "kid:", …) and never contains the token. */
int pwb_oidc_authenticate(const struct pwb_config *cfg, const char *pam_user, const char *token,
			  size_t token_len, const struct pwb_oidc_expect *expect,
			  struct pwb_claims **claims, struct pwb_error *err);

/* Maps an external user name (username claim, SCIM userName) to a Linux
 * name under the configured domain rules: "alice@example.com" -> "alice",
 * lower-cased; when auth-openid-username-domains is set, refused unless
 * the name carries one of those domains (a bare "alice" is refused too). */
int pwb_oidc_map_username(const struct pwb_config *cfg, const char *external,
			  char out[PWB_NAME_MAX + 1], struct pwb_error *err);

/* The Linux name jwt's auth-openid-username-claim maps to
 * (pwb_oidc_map_username), the one reading of that claim; *external (when
 * not NULL) points at the claim as sent. Nothing is verified here: callers
 * that have not verified the token use the name only to say whom
 * pwb_oidc_authenticate must find. PWB_EAUTH ("username: ...") when the
 * claim is missing or maps to no allowed name. */
int pwb_oidc_jwt_username(const struct pwb_config *cfg, const struct pwb_jwt *jwt,
			  const char **external, char user[PWB_NAME_MAX + 1],
			  struct pwb_error *err);

/* The issuer's discovery document (from the cache when fresh, else the
 * network), validated ("issuer" equals auth-openid-issuer, an https
 * jwks_uri). *doc: the caller's reference. PWB_EUNAVAIL or PWB_ECONFIG. */
int pwb_oidc_discovery(const struct pwb_config *cfg, json_t **doc, struct pwb_error *err);

/* Verifies jwt's signature against the issuer's JWKS (discovery, cache,
 * one refetch on an unknown kid); no claim is checked. Asymmetric
 * algorithms only (an HMAC token is PWB_EAUTH here). For tokens other than
 * sign-in ID tokens: back-channel logout tokens. */
int pwb_oidc_verify_jws(const struct pwb_config *cfg, const struct pwb_jwt *jwt,
			struct pwb_error *err);

#endif
