/* libFuzzer target: the name gate (lib/names.c). Whatever it accepts must
 * be a valid Linux name; with domains listed, an accepted external name
 * carried a domain; messages must stay printable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[PWB_NAME_MAX + 1], *text;
	struct pwb_error err = {0};
	const char *domains;
	unsigned flags;
	size_t i;

	if (size < 1)
		return 0;
	flags = (data[0] & 3) | ((data[0] & 8) ? PWB_NAMES_ALLOW_BARE : 0);
	domains = (data[0] & 4) ? "example.com,b.org" : NULL;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (pwb_names_to_linux(text, flags, domains, out, &err) == 0) {
		if (!pwb_names_is_valid(out))
			abort();
		if (domains && (flags & PWB_NAMES_STRIP_DOMAIN) &&
		    !(flags & PWB_NAMES_ALLOW_BARE) && !strchr(text, '@'))
			abort(); /* the domain allow-list was bypassed */
	} else {
		for (i = 0; err.msg[i]; i++)
			if ((unsigned char)err.msg[i] < 0x20)
				abort(); /* a control byte would reach a log */
	}
	free(text);
	return 0;
}
