/* Internal to libpwb_scim: the state of one request inside its store
 * transaction, shared by the service (routing, auth) and the Users and
 * Groups endpoint files. Handlers fill c->resp and return 0 to commit or a
 * negative code (the store's own, so deadlocks are retried) to abort. */
#ifndef PWB_SCIM_HANDLERS_H
#define PWB_SCIM_HANDLERS_H

#include <jansson.h>
#include "scim_error.h"
#include "scim_filter.h"
#include "scim_list.h"
#include "scim_service.h"

struct pwb_scim_ctx {
	struct pwb_txn *txn;
	const struct pwb_config *cfg;
	const struct pwb_scim_request *req;
	struct pwb_scim_response *resp;
	const char *id;			      /* resource id from the path, or NULL */
	json_t *body;			      /* the parsed request body, or NULL */
	const struct pwb_scim_query *query;   /* parsed query string */
	const struct pwb_scim_filter *filter; /* parsed filter, or NULL */
	const char *base_url;		      /* "https://host/scim/v2" */
	bool search;			      /* POST .../.search: list with body parameters */
};

/* Sets status and body (stolen; NULL for none). Returns 0. */
int pwb_scim_respond(struct pwb_scim_ctx *c, int status, json_t *body);
/* Renders err as the response and returns code (or PWB_EINVAL if 0). */
int pwb_scim_respond_error(struct pwb_scim_ctx *c, const struct pwb_scim_error *err, int code);
/* The same for a store failure: maps code, keeps the store's message. */
int pwb_scim_respond_store(struct pwb_scim_ctx *c, int code, const struct pwb_error *err);
/* 412 unless If-Match is absent, "*", or the current ETag. */
int pwb_scim_check_if_match(struct pwb_scim_ctx *c, uint64_t version);
/* Sets Location (from meta.location) and ETag from a resource document. */
void pwb_scim_set_resource_headers(struct pwb_scim_ctx *c, json_t *doc, uint64_t version);

int pwb_scim_users_handle(struct pwb_scim_ctx *c);
int pwb_scim_groups_handle(struct pwb_scim_ctx *c);

#endif
