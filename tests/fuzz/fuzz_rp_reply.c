/* libFuzzer target: the token endpoint's reply parser (lib/oidc/rp.c), as
 * a hostile or broken IdP would reach it. The first byte picks the HTTP
 * status (200, 400, 401, 302, 500), the rest is the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "rp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {200, 400, 401, 302, 500};
	struct pwb_rp_tokens t;
	struct pwb_error err = {0};
	long status;

	if (size < 1)
		return 0;
	status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
	if (pwb_rp_tokens_parse(status, (const char *)data + 1, size - 1, &t, &err) == 0)
		pwb_rp_tokens_clear(&t);
	return 0;
}
