/* libFuzzer target: the JWKS parser (lib/jwks.c) on an issuer's answer. */
#include <stdint.h>
#include <stdlib.h>
#include "jwks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pwb_jwks *jwks = NULL;
	struct pwb_error err = {0};
	size_t i;

	if (pwb_jwks_parse((const char *)data, size, &jwks, &err) != 0)
		return 0;
	for (i = 0; i < jwks->n; i++) {
		pwb_jwk_fits(&jwks->keys[i], pwb_jws_alg_find("RS256"));
		pwb_jwk_fits(&jwks->keys[i], pwb_jws_alg_find("ES256"));
	}
	pwb_jwks_free(jwks);
	return 0;
}
