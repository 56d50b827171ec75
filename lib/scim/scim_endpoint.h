/* Internal to libpwb_scim: the one generic resource endpoint. Each
 * resource type (scim_users.c, scim_groups.c) is a table of operations on
 * its store records; pwb_scim_endpoint_handle runs the list, GET, POST, PUT,
 * PATCH and DELETE flows with them, and owns the response helpers. The
 * request's state inside its store transaction is a pwb_scim_ctx; flows and
 * hooks fill c->resp and return 0 to commit or a negative code (the store's
 * own, so deadlocks are retried) to abort. */
#ifndef PWB_SCIM_ENDPOINT_H
#define PWB_SCIM_ENDPOINT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "scim_error.h"
#include "scim_filter.h"
#include "scim_list.h"
#include "scim_request.h"

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

/* What a document is built for: a response (everything the projection
 * keeps), matching the filter (only the computed attributes the filter
 * mentions), or the base a PATCH applies to (what the record stores). */
enum pwb_scim_view {
	PWB_SCIM_VIEW_RESPONSE,
	PWB_SCIM_VIEW_FILTER,
	PWB_SCIM_VIEW_PATCH,
};

/* A record walk: cb returns 0 to go on, > 0 to stop, < 0 to fail. A
 * type's foreach passes a pwb_scim_walk as its store walk's context. */
typedef int (*pwb_scim_record_cb)(const void *rec, void *ctx);
struct pwb_scim_walk {
	pwb_scim_record_cb cb;
	void *ctx;
};

/* An attribute a list filter can find with one index lookup ("attr eq
 * value"; the whole filter still decides). get: 0, PWB_ENOTFOUND or a
 * store failure. */
struct pwb_scim_index {
	const char *attr;
	int (*get)(struct pwb_txn *txn, const char *value, void *rec, struct pwb_error *err);
};

/* One resource type. rec is the type's store record (record_size bytes,
 * zeroed before use, released with clear). */
struct pwb_scim_resource_ops {
	const char *type; /* "User": in messages */
	size_t record_size;
	const struct pwb_scim_index *indexed; /* ended by attr NULL; "id" is generic */
	void (*clear)(void *rec);
	const char *(*id)(const void *rec);
	uint64_t (*version)(const void *rec);
	/* get: by id (a valid UUID); a record the store cannot decode is
	 * PWB_EDAMAGED with its id still set */
	int (*get)(struct pwb_txn *txn, const char *id, void *rec, struct pwb_error *err);
	int (*foreach)(struct pwb_txn *txn, pwb_scim_record_cb cb, void *ctx,
		       struct pwb_error *err);
	int (*count)(struct pwb_txn *txn, uint64_t *count, struct pwb_error *err);
	int (*del)(struct pwb_txn *txn, const char *id, struct pwb_error *err);
	/* encode: the record's document for view (computed attributes from
	 * the store); a store failure is returned, not rendered */
	int (*encode)(struct pwb_scim_ctx *c, const void *rec, enum pwb_scim_view view,
		      json_t **out);
	/* decode: a body (POST, PUT) or patched document into rec (zeroed),
	 * validated; old is NULL on create. Failures fill serr. */
	int (*decode)(struct pwb_scim_ctx *c, json_t *doc, const void *old, void *rec,
		      struct pwb_scim_error *serr);
	/* write: creates (create) or updates rec, plus what doc says beyond
	 * the record (a group's members). Renders its own failure. */
	int (*write)(struct pwb_scim_ctx *c, void *rec, json_t *doc, bool create);
};

/* Runs the request's method on the resource type (405 for a method the
 * path does not allow). */
int pwb_scim_endpoint_handle(struct pwb_scim_ctx *c, const struct pwb_scim_resource_ops *ops);

/* Sets status and body (stolen; NULL for none). Returns 0. */
int pwb_scim_respond(struct pwb_scim_ctx *c, int status, json_t *body);
/* Renders err as the response and returns code (or PWB_EINVAL if 0). */
int pwb_scim_respond_error(struct pwb_scim_ctx *c, const struct pwb_scim_error *err, int code);
/* The same for a store failure: maps code, keeps the store's message. */
int pwb_scim_respond_store(struct pwb_scim_ctx *c, int code, const struct pwb_error *err);
/* 405: the request's method is not allowed on this path. */
int pwb_scim_respond_not_allowed(struct pwb_scim_ctx *c);

#endif
