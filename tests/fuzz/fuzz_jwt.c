/* libFuzzer target: the JWS parser and the algorithm and claim checks
 * (lib/jwt.c), as a hostile token would reach them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pwb_jwt *jwt = NULL;
	struct pwb_error err = {0};
	struct pwb_jwt_expect expect = {.issuer = "https://idp.example.com",
					.client_id = "client",
					.now = 1795868400,
					.leeway = 60};
	static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";

	if (pwb_jwt_parse((const char *)data, size, &jwt, &err) != 0)
		return 0;
	pwb_jwt_check_alg(jwt, "RS256,ES256,EdDSA,HS256", &err);
	pwb_jwt_verify_hmac(jwt, key, sizeof(key), &err);
	pwb_jwt_check_claims(jwt, &expect, &err);
	pwb_jwt_claim_string(jwt, "preferred_username");
	pwb_jwt_free(jwt);
	return 0;
}
