/* pwb_error: the message half of the one error idiom (see error.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "error.h"

int pwb_error_set(struct pwb_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int pwb_error_prefix(struct pwb_error *err, const char *fmt, ...)
{
	char prefix[256], old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return 0;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	return err->code;
}

const char *pwb_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
	case PWB_ENOTFOUND:
		return "not found";
	case PWB_EEXIST:
		return "already exists";
	case PWB_EINVAL:
		return "invalid value";
	case PWB_ENOIDS:
		return "no free id left in the configured range";
	case PWB_ECONFIG:
		return "configuration error";
	case PWB_ESTORE:
		return "store error";
	case PWB_ELOCAL:
		return "owned by a local account";
	case PWB_EAUTH:
		return "authentication failed";
	case PWB_EUNAVAIL:
		return "service unavailable";
	case PWB_ECONFLICT:
		return "modified concurrently";
	case PWB_EDAMAGED:
		return "damaged record";
	case PWB_ENODAEMON:
		return "pwbd cannot be reached";
	case PWB_EPERM:
		return "operation not permitted to this caller";
	case PWB_EBUSY:
		return "the store is in use by pwbd";
	default:
		return code < 0 && code > -4096 ? strerror(-code) : "unknown error";
	}
}

const char *pwb_error_text(const struct pwb_error *err, int code)
{
	if (err && err->msg[0])
		return err->msg;
	return pwb_strerror(code);
}
