/* Builds RFC 7644 §3.12 error documents and maps store errors onto them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include "error.h"
#include "scim_error.h"

int pwb_scim_fail(struct pwb_scim_error *err, int status, const char *scim_type, const char *fmt,
		  ...)
{
	va_list ap;

	if (!err)
		return PWB_EINVAL;
	err->status = status;
	err->scim_type = scim_type;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	return PWB_EINVAL;
}

json_t *pwb_scim_error_body(const struct pwb_scim_error *err)
{
	char status[16];
	json_t *body;

	snprintf(status, sizeof(status), "%d", err->status);
	body = json_pack("{s:[s],s:s,s:s}", "schemas", PWB_SCIM_ERROR_SCHEMA, "status", status,
			 "detail", err->detail);
	if (body && err->scim_type)
		json_object_set_new(body, "scimType", json_string(err->scim_type));
	return body;
}

int pwb_scim_fail_store(struct pwb_scim_error *err, int code, const char *msg)
{
	switch (code) {
	case PWB_ENOTFOUND:
		return pwb_scim_fail(err, 404, NULL, "%s", msg);
	case PWB_EEXIST:
	case PWB_ELOCAL:
		return pwb_scim_fail(err, 409, "uniqueness", "%s", msg);
	case PWB_EINVAL:
		return pwb_scim_fail(err, 400, "invalidValue", "%s", msg);
	case PWB_ECONFLICT:
		return pwb_scim_fail(err, 412, NULL, "%s", msg);
	case PWB_EPERM:
		/* the store refuses writes here: a cluster reader host */
		return pwb_scim_fail(err, 403, NULL, "%s", msg);
	case PWB_EUNAVAIL:
		/* the store's message names the database's host: for the log */
		return pwb_scim_fail(err, 503, NULL,
				     "the store cannot be reached right now; retry later");
	default:
		return pwb_scim_fail(err, 500, NULL, "%s", msg);
	}
}
