/* Percent-decoding and HTTP reason phrases (see urltext.h): one decoder
 * for every front end, strict where a value is trusted for a decision
 * (pwb-login's state, return URL, tokens), lenient where SCIM clients
 * expect it. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "error.h"
#include "urltext.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pwb_percent_decode(const char *in, size_t n, unsigned flags, char **out)
{
	_cleanup_free_ char *s = malloc(n + 1);
	bool strict = flags & PWB_PERCENT_STRICT;
	size_t o = 0;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '%' && i + 2 < n && hex_value(in[i + 1]) >= 0 &&
		    hex_value(in[i + 2]) >= 0) {
			c = (unsigned char)(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
			i += 2;
		} else if (c == '%' && strict) {
			return PWB_EINVAL;
		} else if (c == '+' && (flags & PWB_PERCENT_PLUS)) {
			c = ' ';
		}
		if (c == '\0' || (strict && (c < 0x20 || c == 0x7f)))
			return PWB_EINVAL;
		s[o++] = (char)c;
	}
	s[o] = '\0';
	*out = PWB_TAKE_PTR(s);
	return 0;
}

const char *pwb_http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 302:
		return "Found";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Payload Too Large";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	default:
		return status >= 500 ? "Internal Server Error" : "Error";
	}
}
