/* SCIM bearer tokens: made from the CSPRNG, stored only as SHA-256. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "token.h"
#include "util.h"

int pwb_token_generate(char out[PWB_TOKEN_TEXT_MAX])
{
	unsigned char raw[PWB_TOKEN_BYTES];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -EIO;
	pwb_base64url_encode(raw, sizeof(raw), out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int pwb_token_hash(const char *text, size_t len, char out[PWB_HASH_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return -EIO;
	for (i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

bool pwb_token_hash_equal(const char *a, const char *b)
{
	if (strlen(a) != PWB_HASH_HEX_LEN || strlen(b) != PWB_HASH_HEX_LEN)
		return false;
	return CRYPTO_memcmp(a, b, PWB_HASH_HEX_LEN) == 0;
}

void pwb_token_mask(const char *text, char out[16])
{
	snprintf(out, 16, "%.4s...", text);
}
