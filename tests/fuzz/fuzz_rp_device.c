/* libFuzzer target: the device grant's reply parsers (lib/oidc/rp.c), the
 * device authorization response and the token poll's answer, as a hostile
 * or broken IdP would reach them. The first byte picks the HTTP status
 * (200, 400, 401, 302, 500) and, by its low bit after that, the parser;
 * the rest is the body. What the device parser accepts is shown on a
 * terminal, so it must be printable ASCII: checked here too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "rp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_printable(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {200, 400, 401, 302, 500};
	struct pwb_rp_device d;
	struct pwb_rp_tokens t;
	enum pwb_rp_device_state state;
	struct pwb_error err = {0};
	const char *body = (const char *)data + 1;
	long status;

	if (size < 1)
		return 0;
	status = statuses[(data[0] >> 1) % (sizeof(statuses) / sizeof(statuses[0]))];
	if (data[0] & 1) {
		if (pwb_rp_device_parse(status, body, size - 1, &d, &state, &err) == 0) {
			check_printable(d.user_code);
			check_printable(d.verification_uri);
			check_printable(d.verification_uri_complete);
			if (d.expires_in <= 0 || d.interval <= 0)
				abort();
			pwb_rp_device_clear(&d);
		}
	} else if (pwb_rp_device_poll_parse(status, body, size - 1, &t, &state, &err) == 0) {
		if (state == PWB_RP_DEVICE_OK && !t.id_token)
			abort();
		pwb_rp_tokens_clear(&t);
	}
	return 0;
}
