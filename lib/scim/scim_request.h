/* One SCIM HTTP request and its response, as the service sees them: what
 * the relay (pwb-scim) passes to pwbd and pwbd passes to the service, and
 * what comes back. Types only, shared by the service and the endpoint
 * flows so neither includes the other. */
#ifndef PWB_SCIM_REQUEST_H
#define PWB_SCIM_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "store.h"

#define PWB_SCIM_CONTENT_TYPE	      "application/scim+json"
#define PWB_SCIM_TOKEN_TOUCH_INTERVAL 60 /* seconds between last-used writes */
/* Retry-After (seconds) of every 503: the store (in cluster mode its
 * database) or pwbd cannot be reached right now. */
#define PWB_SCIM_RETRY_AFTER 5

struct pwb_scim_request {
	const char *method;	   /* REQUEST_METHOD */
	const char *uri;	   /* REQUEST_URI: path and query, as sent */
	const char *query;	   /* QUERY_STRING (NULL: taken from uri) */
	const char *authorization; /* HTTP_AUTHORIZATION or NULL */
	const char *if_match;	   /* HTTP_IF_MATCH or NULL */
	const char *if_none_match; /* HTTP_IF_NONE_MATCH or NULL (relayed; not acted on) */
	const char *content_type;  /* CONTENT_TYPE or NULL (relayed; not acted on) */
	const char *scheme;	   /* "https" or "http" */
	const char *host;	   /* HTTP_HOST (checked before use) */
	const char *body;	   /* not NUL-terminated */
	size_t body_len;
	bool body_too_large; /* CONTENT_LENGTH over scim-max-request-bytes */
	bool body_not_utf8;  /* the relay could not pass the body as text: 400 */
};

struct pwb_scim_response {
	int status;
	json_t *body; /* NULL: no body (204) */
	char location[512];
	char etag[32];
	bool www_authenticate;
	int retry_after; /* seconds for Retry-After (0: none): set with every 503 */
	char token_name[PWB_TOKEN_NAME_MAX + 1]; /* who asked, for the log; "-" if nobody */
};

#endif
