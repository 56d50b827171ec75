/* libFuzzer target: the pwb.conf parser (lib/config.c) on arbitrary text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pwb_config cfg;
	struct pwb_error err = {0};
	char *text = malloc(size + 1);
	size_t i;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (pwb_config_defaults(&cfg) == 0) {
		if (pwb_config_parse(text, "fuzz", &cfg, &err) == 0) {
			char buf[4096];

			for (i = 0; pwb_config_key_name(i); i++)
				pwb_config_value_text(&cfg, pwb_config_key_name(i), buf,
						      sizeof(buf));
		}
		pwb_config_free(&cfg);
	}
	free(text);
	return 0;
}
