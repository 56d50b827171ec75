/* Compact JWS ID tokens: parsing (strict base64url, JSON objects),
 * the algorithm table and allow-list, signature verification with OpenSSL 3
 * EVP, and the OpenID Connect claim checks (iss, aud/azp, exp/nbf/iat).
 * Every refusal is PWB_EAUTH with a message that starts with the name of
 * the check that failed and never contains the token. */
#ifndef PWB_JWT_H
#define PWB_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "cleanup.h"
#include "error.h"

#define PWB_JWT_MAX_BYTES 16384

enum pwb_jws_family {
	PWB_JWS_RSA,   /* RSASSA-PKCS1-v1_5 */
	PWB_JWS_PSS,   /* RSASSA-PSS, salt = hash length */
	PWB_JWS_EC,    /* ECDSA, raw r||s signature */
	PWB_JWS_EDDSA, /* Ed25519 / Ed448 */
	PWB_JWS_HMAC,  /* keyed with the client secret, only when listed */
};

struct pwb_jws_alg {
	const char *name; /* "RS256" */
	enum pwb_jws_family family;
	const char *digest; /* OpenSSL digest name; NULL for EdDSA */
	const char *curve;  /* JWK crv for EC ("P-256"); NULL otherwise */
	size_t ec_size;	    /* bytes of r (and s) for EC */
};

/* The algorithm named `name`, or NULL (unknown, or "none"). */
const struct pwb_jws_alg *pwb_jws_alg_find(const char *name);

struct pwb_jwt {
	json_t *header;
	json_t *payload;
	const char *alg_name;	       /* header alg, in header */
	const char *kid;	       /* header kid or NULL, in header */
	const struct pwb_jws_alg *alg; /* NULL when unknown */
	char *signing_input;	       /* "header.payload" as received */
	size_t signing_input_len;
	unsigned char *sig;
	size_t sig_len;
};

/* Strict base64url without padding: *out malloc'd (NUL-terminated for
 * convenience), *outlen its length. PWB_EINVAL on any other byte. */
int pwb_jwt_base64url_decode(const char *in, size_t len, unsigned char **out, size_t *outlen);

/* Splits and decodes a compact JWS of at most PWB_JWT_MAX_BYTES. Refuses
 * (PWB_EAUTH) anything not three base64url parts of JSON objects, a header
 * without a string alg, and any `crit` header (no extension is
 * understood). jku/x5u/jwk/x5c headers are ignored: keys only ever come
 * from the issuer's JWKS. */
int pwb_jwt_parse(const char *token, size_t len, struct pwb_jwt **out, struct pwb_error *err);
void pwb_jwt_free(struct pwb_jwt *jwt);
PWB_DEFINE_POINTER_CLEANUP(pwb_jwt_freep, struct pwb_jwt, pwb_jwt_free)
#define _cleanup_jwt_ _cleanup_(pwb_jwt_freep)

/* The token's alg must be in `allowed` (comma list), known, and not "none". */
int pwb_jwt_check_alg(const struct pwb_jwt *jwt, const char *allowed, struct pwb_error *err);

/* Verifies the signature with an asymmetric key whose type fits the alg. */
int pwb_jwt_verify_key(const struct pwb_jwt *jwt, EVP_PKEY *key, struct pwb_error *err);

/* Verifies an HMAC signature (HS256/384/512), in constant time. */
int pwb_jwt_verify_hmac(const struct pwb_jwt *jwt, const void *key, size_t keylen,
			struct pwb_error *err);

/* The audience rule (OIDC Core 3.1.3.7, with OIDCIDTokenAudValues-style
 * extra ids): the accepted ids are client_id (NULL or "": none) and the
 * items of `audiences` (comma list, NULL: none). aud (a string or an array
 * of strings) must contain an accepted id; with several audiences azp is
 * required; azp, when present, must be an accepted id. */
int pwb_jwt_check_audience(const struct pwb_jwt *jwt, const char *client_id, const char *audiences,
			   struct pwb_error *err);

struct pwb_jwt_expect {
	const char *issuer;    /* iss must equal this exactly */
	const char *client_id; /* accepted audience (see pwb_jwt_check_audience) */
	int64_t now;
	uint32_t leeway;       /* seconds of clock skew allowed for exp, nbf, iat */
	const char *audiences; /* further accepted audiences, comma list, or NULL */
	const char *nonce;     /* when non-NULL: the nonce claim must be a string equal
				* to it (constant-time compare) */
};

int pwb_jwt_check_claims(const struct pwb_jwt *jwt, const struct pwb_jwt_expect *expect,
			 struct pwb_error *err);

/* A string claim, or NULL when absent or not a string. */
const char *pwb_jwt_claim_string(const struct pwb_jwt *jwt, const char *name);

#endif
