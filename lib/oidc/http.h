/* HTTPS for OpenID Connect: GET for discovery and JWKS (the Cache-Control
 * max-age the server sent, for the on-disk cache), and a form POST for the
 * token endpoint. libcurl with peer and host verification on, https only
 * (redirects too), bounded time and size; libcurl is loaded at the first
 * request (a process that never fetches never loads it). */
#ifndef PWB_HTTP_H
#define PWB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cleanup.h"
#include "error.h"

struct pwb_http_response {
	long status;	 /* HTTP status of the final response */
	char *body;	 /* NUL-terminated, malloc'd */
	size_t len;	 /* bytes in body */
	int64_t max_age; /* Cache-Control max-age in seconds; -1: none sent */
	bool no_store;	 /* Cache-Control no-store / no-cache */
};

/* Fetches url (must start with "https://") into resp. ca_file NULL: the
 * system CAs. A body over max_bytes, a timeout, a TLS failure or a status
 * other than 200 is PWB_EUNAVAIL with a message naming the URL. */
int pwb_http_get(const char *url, const char *ca_file, unsigned timeout_s, size_t max_bytes,
		 struct pwb_http_response *resp, struct pwb_error *err);

/* POSTs form (application/x-www-form-urlencoded, already encoded) to url
 * (must start with "https://"), never following a redirect. authorization:
 * an Authorization header value ("Basic ...") or NULL. Any HTTP status is
 * returned in resp->status with its body (a token endpoint answers errors
 * with 400 or 401 and JSON); a body over max_bytes, a timeout or a TLS
 * failure is PWB_EUNAVAIL with a message naming the URL, never the form. */
int pwb_http_post_form(const char *url, const char *ca_file, unsigned timeout_s, size_t max_bytes,
		       const char *authorization, const char *form, struct pwb_http_response *resp,
		       struct pwb_error *err);

void pwb_http_response_clear(struct pwb_http_response *resp);
#define _cleanup_http_response_ _cleanup_(pwb_http_response_clear)

/* Parses a Cache-Control header value: max-age=N (or s-maxage) into
 * *max_age (-1 when absent), no-store/no-cache into *no_store. */
void pwb_http_parse_cache_control(const char *value, int64_t *max_age, bool *no_store);

#endif
