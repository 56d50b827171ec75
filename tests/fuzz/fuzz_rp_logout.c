/* libFuzzer target: the back-channel logout token rules (lib/oidc/rp.c)
 * after the JWS parser, as a hostile POST to backchannel-logout would reach
 * them (the signature check needs the issuer's keys and is fuzzed through
 * fuzz_jwt). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "jwt.h"
#include "rp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct pwb_config *config(void)
{
	static struct pwb_config cfg;
	static int ready;
	static const char text[] = "auth-openid-issuer=https://idp.example.com\n"
				   "auth-openid-audiences=other, second\n";
	struct pwb_error err = {0};

	if (!ready) {
		if (pwb_config_defaults(&cfg) != 0 ||
		    pwb_config_parse(text, "fuzz.conf", &cfg, &err) != 0)
			abort();
		ready = 1;
	}
	return &cfg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pwb_jwt *jwt = NULL;
	struct pwb_rp_logout l;
	struct pwb_error err = {0};

	if (pwb_jwt_parse((const char *)data, size, &jwt, &err) != 0)
		return 0;
	if (pwb_rp_logout_claims_check(config(), "client", jwt, 1795868400, 120, &l, &err) == 0)
		pwb_rp_logout_clear(&l);
	pwb_jwt_free(jwt);
	return 0;
}
