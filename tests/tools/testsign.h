/* Test-only JWS signing with OpenSSL: makes real RS/PS/ES/EdDSA/HS
 * signatures, "alg":"none" tokens, and JWKs of public keys, for the unit
 * tests and the pwb-test-sign tool. Not linked into anything shipped. */
#ifndef PWB_TESTSIGN_H
#define PWB_TESTSIGN_H

#include <stddef.h>
#include <openssl/evp.h>

/* base64url without padding; malloc'd. */
char *testsign_b64url(const void *data, size_t len);

/* A compact JWS over header {"alg":alg,"typ":"JWT","kid":kid} merged with
 * header_extra (a JSON object text, may be NULL) and the payload text
 * claims exactly as given. key: private key for asymmetric algs; hmac_key:
 * the key bytes for HS*; "none": empty signature. NULL on error. */
char *testsign_token(const char *alg, const char *kid, const char *header_extra, const char *claims,
		     EVP_PKEY *key, const void *hmac_key, size_t hmac_len);

/* The public JWK of key as JSON text (kid and alg omitted when NULL). */
char *testsign_jwk(EVP_PKEY *key, const char *kid, const char *alg);

#endif
