/* SCIM error responses (RFC 7644 §3.12): an HTTP status, an optional
 * scimType and a detail that names the attribute or value at fault. The
 * parsers and the service fill one of these; the adapter renders it. */
#ifndef PWB_SCIM_ERROR_H
#define PWB_SCIM_ERROR_H

#include <jansson.h>

#define PWB_SCIM_ERROR_SCHEMA "urn:ietf:params:scim:api:messages:2.0:Error"

struct pwb_scim_error {
	int status;	       /* HTTP status, 0 = none recorded */
	const char *scim_type; /* "invalidFilter", "uniqueness", ...; NULL for none */
	char detail[512];
};

/* Records the error and returns PWB_EINVAL, so parsers can write
 * `return pwb_scim_fail(err, 400, "invalidFilter", "...")`. err may be NULL. */
int pwb_scim_fail(struct pwb_scim_error *err, int status, const char *scim_type, const char *fmt,
		  ...) __attribute__((format(printf, 4, 5)));

/* The RFC 7644 error body: schemas, status as a string, scimType, detail. */
json_t *pwb_scim_error_body(const struct pwb_scim_error *err);

/* Maps a store error code (PWB_E*) to a SCIM status and type, keeping the
 * store's message as the detail (PWB_EPERM, writes refused on this host, a
 * cluster reader: 403); PWB_EUNAVAIL (the store, in cluster mode
 * its database, cannot be reached) is 503 with a detail of its own. */
int pwb_scim_fail_store(struct pwb_scim_error *err, int code, const char *msg);

#endif
