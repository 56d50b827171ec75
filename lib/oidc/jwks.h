/* JSON Web Key Sets (RFC 7517) as published at the issuer's jwks_uri:
 * parsed into OpenSSL public keys, and matched to a token by kid and by
 * whether the key's kty/crv/use/alg fit the token's algorithm. */
#ifndef PWB_JWKS_H
#define PWB_JWKS_H

#include <stdbool.h>
#include <stddef.h>
#include <openssl/evp.h>
#include "cleanup.h"
#include "error.h"
#include "jwt.h"

#define PWB_JWKS_MAX_KEYS 64

struct pwb_jwk {
	char *kid; /* may be NULL */
	char *kty; /* "RSA", "EC", "OKP" */
	char *crv; /* EC/OKP curve, else NULL */
	char *alg; /* may be NULL: any alg of the family */
	char *use; /* may be NULL; "sig" or absent to be used */
	EVP_PKEY *pkey;
};

struct pwb_jwks {
	struct pwb_jwk *keys;
	size_t n;
};

/* Parses a JWKS document. Keys that cannot serve signatures (unknown kty,
 * use "enc", symmetric keys, RSA under 2048 bits, malformed numbers) are
 * skipped; a document that is not {"keys": [...]} is PWB_EINVAL. */
int pwb_jwks_parse(const char *text, size_t len, struct pwb_jwks **out, struct pwb_error *err);
void pwb_jwks_free(struct pwb_jwks *jwks);
PWB_DEFINE_POINTER_CLEANUP(pwb_jwks_freep, struct pwb_jwks, pwb_jwks_free)
#define _cleanup_jwks_ _cleanup_(pwb_jwks_freep)

/* True if the key may verify `alg`: kty and curve fit the family, use is
 * absent or "sig", alg is absent or equal. */
bool pwb_jwk_fits(const struct pwb_jwk *key, const struct pwb_jws_alg *alg);

/* The keys that may verify a token: with a kid, the one key with that kid
 * (if it fits); without, every fitting key. Returns how many were written
 * to out (at most max). */
size_t pwb_jwks_select(const struct pwb_jwks *jwks, const char *kid, const struct pwb_jws_alg *alg,
		       const struct pwb_jwk **out, size_t max);

#endif
