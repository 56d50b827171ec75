/* The SCIM service: one HTTP request in, one response out, against the
 * store. Routing, bearer-token authentication, and the Users, Groups and
 * discovery endpoints. A read runs in one read transaction; a write is
 * first authenticated in a read transaction (an unauthenticated caller
 * never takes the write lock), then runs in one write transaction, so
 * nothing is ever half-written. The FastCGI/CGI adapter in scim-cgi/main.c
 * only moves bytes and headers. */
#ifndef PWB_SCIM_SERVICE_H
#define PWB_SCIM_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "store.h"

#define PWB_SCIM_CONTENT_TYPE	      "application/scim+json"
#define PWB_SCIM_TOKEN_TOUCH_INTERVAL 60 /* seconds between last-used writes */

struct pwb_scim_request {
	const char *method;	   /* REQUEST_METHOD */
	const char *uri;	   /* REQUEST_URI: path and query, as sent */
	const char *query;	   /* QUERY_STRING (NULL: taken from uri) */
	const char *authorization; /* HTTP_AUTHORIZATION or NULL */
	const char *if_match;	   /* HTTP_IF_MATCH or NULL */
	const char *scheme;	   /* "https" or "http" */
	const char *host;	   /* HTTP_HOST (checked before use) */
	const char *body;	   /* not NUL-terminated */
	size_t body_len;
	bool body_too_large; /* CONTENT_LENGTH over scim-max-request-bytes */
};

struct pwb_scim_response {
	int status;
	json_t *body; /* NULL: no body (204) */
	char location[512];
	char etag[32];
	bool www_authenticate;
	char token_name[PWB_TOKEN_NAME_MAX + 1]; /* who asked, for the log; "-" if nobody */
};

struct pwb_scim_service;

/* The service keeps st and cfg (not owned) for its lifetime. */
int pwb_scim_service_new(struct pwb_store *st, const struct pwb_config *cfg,
			 struct pwb_scim_service **out);
void pwb_scim_service_free(struct pwb_scim_service *svc);

/* Handles one request; resp is filled (status always set). */
void pwb_scim_service_handle(struct pwb_scim_service *svc, const struct pwb_scim_request *req,
			     struct pwb_scim_response *resp);
void pwb_scim_response_clear(struct pwb_scim_response *resp);

#endif
