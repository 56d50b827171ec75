/* SCIM bearer tokens: generation (256 bits from the OpenSSL CSPRNG,
 * base64url), hashing (SHA-256, hex) and constant-time comparison. The
 * store keeps only hashes; a token is shown once, when generated. */
#ifndef PWB_TOKEN_H
#define PWB_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define PWB_HASH_HEX_LEN   64 /* SHA-256 in hex */
#define PWB_TOKEN_BYTES	   32
#define PWB_TOKEN_TEXT_MAX 64 /* base64url of 32 bytes is 43 characters */

/* Writes a fresh token (NUL-terminated) into out[PWB_TOKEN_TEXT_MAX]. */
int pwb_token_generate(char out[PWB_TOKEN_TEXT_MAX]);

/* SHA-256 of text, as lower-case hex, into out[PWB_HASH_HEX_LEN + 1]. */
int pwb_token_hash(const char *text, size_t len, char out[PWB_HASH_HEX_LEN + 1]);

/* Constant-time equality of two NUL-terminated hex hashes. */
bool pwb_token_hash_equal(const char *a, const char *b);

/* "abcd…" from a token, for listings. */
void pwb_token_mask(const char *text, char out[16]);

#endif
