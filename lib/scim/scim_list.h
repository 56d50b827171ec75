/* Query parameters of SCIM list and read requests (RFC 7644 §3.4.2):
 * filter, startIndex/count pagination, sortBy/sortOrder, and
 * attributes/excludedAttributes projection; and the ListResponse. */
#ifndef PWB_SCIM_LIST_H
#define PWB_SCIM_LIST_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "scim_error.h"

#define PWB_SCIM_LIST_SCHEMA	    "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define PWB_SCIM_LIST_DEFAULT_COUNT 100
#define PWB_SCIM_LIST_MAX_COUNT	    1000

struct pwb_scim_query {
	char *filter;	  /* decoded, or NULL */
	uint64_t start;	  /* 1-based */
	uint64_t count;	  /* page size after clamping */
	char *sort_by;	  /* or NULL */
	bool descending;  /* sortOrder=descending */
	char *attributes; /* comma list or NULL */
	char *excluded;	  /* comma list or NULL */
};

/* Parses a URL query string ("a=b&c=d", percent- and '+'-decoded).
 * Unknown parameters are ignored; bad numbers are 400 invalidValue. */
int pwb_scim_query_parse(const char *query, struct pwb_scim_query *q, struct pwb_scim_error *err);
void pwb_scim_query_clear(struct pwb_scim_query *q);

#define PWB_SCIM_SEARCH_SCHEMA "urn:ietf:params:scim:api:messages:2.0:SearchRequest"

/* The same parameters from a POST .../.search body (RFC 7644 §3.4.3):
 * attributes and excludedAttributes as arrays (or comma strings). */
int pwb_scim_query_from_search(json_t *body, struct pwb_scim_query *q, struct pwb_scim_error *err);

/* Percent-decodes s[0..n) into a new string ('+' is a space when plus). */
char *pwb_scim_url_decode(const char *s, size_t n, bool plus);

/* Keeps only q->attributes (plus id and schemas) or drops q->excluded. */
void pwb_scim_project(json_t *resource, const struct pwb_scim_query *q);

/* {schemas, totalResults, startIndex, itemsPerPage, Resources}; steals
 * resources. */
json_t *pwb_scim_list_response(json_t *resources, uint64_t total, uint64_t start);

/* Sorts resources by the attribute path q->sort_by (case-insensitive
 * string order; absent values last). */
void pwb_scim_sort(json_t *resources, const char *sort_by, bool descending);

#endif
