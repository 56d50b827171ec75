/* The one generic resource endpoint: the response helpers, and the list,
 * GET, POST, PUT, PATCH and DELETE flows every resource type shares. A
 * type brings only its operations table (scim_endpoint.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "log.h"
#include "scim_endpoint.h"
#include "scim_patch.h"
#include "scim_resource.h"
#include "util.h"

/* ---- responses ---- */

int pwb_scim_respond(struct pwb_scim_ctx *c, int status, json_t *body)
{
	json_decref(c->resp->body);
	c->resp->status = status;
	c->resp->body = body;
	c->resp->retry_after = status == 503 ? PWB_SCIM_RETRY_AFTER : 0;
	return 0;
}

int pwb_scim_respond_error(struct pwb_scim_ctx *c, const struct pwb_scim_error *err, int code)
{
	c->resp->location[0] = '\0';
	c->resp->etag[0] = '\0';
	pwb_scim_respond(c, err->status ? err->status : 500, pwb_scim_error_body(err));
	return code < 0 ? code : PWB_EINVAL;
}

int pwb_scim_respond_store(struct pwb_scim_ctx *c, int code, const struct pwb_error *err)
{
	struct pwb_scim_error serr = {0};

	if (code == -ENOMEM)
		pwb_scim_fail(&serr, 500, NULL, "out of memory");
	else
		pwb_scim_fail_store(&serr, code, pwb_error_text(err, code));
	if (serr.status >= 500)
		pwb_log(LOG_ERR, "pwb-scim: store: %s", pwb_error_text(err, code));
	return pwb_scim_respond_error(c, &serr, code);
}

int pwb_scim_respond_not_allowed(struct pwb_scim_ctx *c)
{
	struct pwb_scim_error serr = {0};

	pwb_scim_fail(&serr, 405, NULL, "%.16s is not allowed here", c->req->method);
	return pwb_scim_respond_error(c, &serr, PWB_EINVAL);
}

/* 412 unless If-Match is absent, "*", or the current ETag. */
static int check_if_match(struct pwb_scim_ctx *c, uint64_t version)
{
	const char *want = c->req->if_match;
	struct pwb_scim_error serr = {0};
	char etag[32];

	if (!want || !*want || strcmp(want, "*") == 0)
		return 0;
	pwb_scim_etag(version, etag);
	/* a strong form of the same version is the same version */
	if (strcmp(want, etag) == 0 || strcmp(want, etag + 2) == 0)
		return 0;
	pwb_scim_fail(&serr, 412, NULL, "If-Match does not match the current version %s", etag);
	return pwb_scim_respond_error(c, &serr, PWB_ECONFLICT);
}

/* The record's response document, with Location (from meta.location) and
 * ETag. */
static int respond_record(struct pwb_scim_ctx *c, const struct pwb_scim_resource_ops *ops,
			  int status, const void *rec)
{
	const char *loc;
	json_t *doc;
	int r = ops->encode(c, rec, PWB_SCIM_VIEW_RESPONSE, &doc);

	if (r < 0)
		return r;
	pwb_scim_project(doc, c->query);
	loc = json_string_value(json_object_get(json_object_get(doc, "meta"), "location"));
	snprintf(c->resp->location, sizeof(c->resp->location), "%s", loc ? loc : "");
	pwb_scim_etag(ops->version(rec), c->resp->etag);
	return pwb_scim_respond(c, status, doc);
}

/* ---- one record ---- */

/* A record of the type, zeroed; freed (and cleared) by release. */
static void *record_new(const struct pwb_scim_resource_ops *ops)
{
	return calloc(1, ops->record_size);
}

static void record_free(const struct pwb_scim_resource_ops *ops, void *rec)
{
	if (!rec)
		return;
	ops->clear(rec);
	free(rec);
}

/* Loads the path's record into rec. damaged (may be NULL): a record the
 * store cannot decode is loaded as its id alone and flagged, so that
 * DELETE can remove it; otherwise it is 500. */
static int load(struct pwb_scim_ctx *c, const struct pwb_scim_resource_ops *ops, void *rec,
		bool *damaged)
{
	struct pwb_error err = {0};
	struct pwb_scim_error serr = {0};
	int r;

	if (!pwb_uuid_is_valid(c->id)) {
		pwb_scim_fail(&serr, 404, NULL, "no %s with that id", ops->type);
		return pwb_scim_respond_error(c, &serr, PWB_ENOTFOUND);
	}
	r = ops->get(c->txn, c->id, rec, &err);
	if (r == PWB_EDAMAGED && damaged && ops->id(rec)[0]) {
		*damaged = true;
		return 0;
	}
	if (r == PWB_ENOTFOUND) {
		pwb_scim_fail(&serr, 404, NULL, "no %s with id %s", ops->type, c->id);
		return pwb_scim_respond_error(c, &serr, r);
	}
	return r < 0 ? pwb_scim_respond_store(c, r, &err) : 0;
}

/* POST, PUT and PATCH end here: doc becomes the record (old NULL: a new
 * one). */
static int store_doc(struct pwb_scim_ctx *c, const struct pwb_scim_resource_ops *ops, json_t *doc,
		     const void *old)
{
	struct pwb_scim_error serr = {0};
	void *rec = record_new(ops);
	int r;

	if (!rec)
		return -ENOMEM;
	r = ops->decode(c, doc, old, rec, &serr);
	if (r < 0)
		r = pwb_scim_respond_error(c, &serr, r);
	else if ((r = ops->write(c, rec, doc, !old)) == 0)
		r = respond_record(c, ops, old ? 200 : 201, rec);
	record_free(ops, rec);
	return r;
}

static int get_one(struct pwb_scim_ctx *c, const struct pwb_scim_resource_ops *ops)
{
	void *rec = record_new(ops);
	int r;

	if (!rec)
		return -ENOMEM;
	r = load(c, ops, rec, NULL);
	if (r == 0)
		r = respond_record(c, ops, 200, rec);
	record_free(ops, rec);
	return r;
}

/* PUT (patch false: the body is the new document) and PATCH (the body's
 * operations apply to the stored document). */
static int change_one(struct pwb_scim_ctx *c, const struct pwb_scim_resource_ops *ops, bool patch)
{
	struct pwb_scim_error serr = {0};
	json_t *doc = NULL;
	void *old = record_new(ops);
	int r;

	if (!old)
		return -ENOMEM;
	r = load(c, ops, old, NULL);
	if (r == 0)
		r = check_if_match(c, ops->version(old));
	if (r == 0 && !patch)
		r = store_doc(c, ops, c->body, old);
	else if (r == 0 && (r = ops->encode(c, old, PWB_SCIM_VIEW_PATCH, &doc)) == 0) {
		r = pwb_scim_patch_apply(doc, c->body, &serr);
		r = r < 0 ? pwb_scim_respond_error(c, &serr, r) : store_doc(c, ops, doc, old);
	}
	json_decref(doc);
	record_free(ops, old);
	return r;
}

static int delete_one(struct pwb_scim_ctx *c, const struct pwb_scim_resource_ops *ops)
{
	struct pwb_error err = {0};
	bool damaged = false;
	void *old = record_new(ops);
	int r;

	if (!old)
		return -ENOMEM;
	r = load(c, ops, old, &damaged);
	/* a damaged record has no version to match: it can only go */
	if (r == 0 && !damaged)
		r = check_if_match(c, ops->version(old));
	if (r == 0) {
		r = ops->del(c->txn, ops->id(old), &err);
		r = r < 0 ? pwb_scim_respond_store(c, r, &err) : pwb_scim_respond(c, 204, NULL);
	}
	record_free(ops, old);
	return r;
}

/* ---- listing ---- */

struct list_ctx {
	struct pwb_scim_ctx *c;
	const struct pwb_scim_resource_ops *ops;
	json_t *resources;
	uint64_t total;
	bool sorting; /* collect every match, page after sorting */
};

static int list_one(const void *rec, void *vctx)
{
	struct list_ctx *l = vctx;
	struct pwb_scim_ctx *c = l->c;
	const struct pwb_scim_query *q = c->query;
	json_t *doc = NULL;
	int r;

	if (c->filter) {
		if ((r = l->ops->encode(c, rec, PWB_SCIM_VIEW_FILTER, &doc)) < 0)
			return r;
		r = pwb_scim_filter_match(c->filter, doc);
		json_decref(doc);
		if (!r)
			return 0;
	}
	l->total++;
	/* without a filter or sorting nothing past the page matters */
	if (!l->sorting && (l->total < q->start || l->total >= q->start + q->count))
		return !c->filter && l->total >= q->start + q->count ? 1 : 0;
	if ((r = l->ops->encode(c, rec, PWB_SCIM_VIEW_RESPONSE, &doc)) < 0)
		return r;
	if (!l->sorting)
		pwb_scim_project(doc, q);
	return json_array_append_new(l->resources, doc) < 0 ? -ENOMEM : 0;
}

/* An indexed equality in the filter: one lookup, then the whole filter
 * still decides. *done false: no such equality, walk everything. */
static int list_indexed(struct list_ctx *l, bool *done, struct pwb_error *err)
{
	const struct pwb_scim_resource_ops *ops = l->ops;
	struct pwb_scim_ctx *c = l->c;
	const char *v = pwb_scim_filter_indexed_eq(c->filter, "id");
	void *rec;
	int r = PWB_ENOTFOUND;

	*done = true;
	if (!(rec = record_new(ops)))
		return -ENOMEM;
	if (v) {
		if (pwb_uuid_is_valid(v))
			r = ops->get(c->txn, v, rec, err);
	} else {
		const struct pwb_scim_index *ix = ops->indexed;

		while (ix->attr && !(v = pwb_scim_filter_indexed_eq(c->filter, ix->attr)))
			ix++;
		if (ix->attr)
			r = ix->get(c->txn, v, rec, err);
		else
			*done = false;
	}
	if (r == PWB_ENOTFOUND || !*done)
		r = 0;
	else if (r == 0 && (r = list_one(rec, l)) > 0)
		r = 0;
	record_free(ops, rec);
	return r;
}

static int list(struct pwb_scim_ctx *c, const struct pwb_scim_resource_ops *ops)
{
	const struct pwb_scim_query *q = c->query;
	struct list_ctx l = {.c = c, .ops = ops, .resources = json_array()};
	struct pwb_error err = {0};
	bool done = false;
	int r = 0;

	if (!l.resources)
		return -ENOMEM;
	l.sorting = q->sort_by && *q->sort_by;
	if (c->filter)
		r = list_indexed(&l, &done, &err);
	if (r == 0 && !done) {
		r = ops->foreach (c->txn, list_one, &l, &err);
		/* Counted only when the walk stopped past the page: a walk that
		 * ran to the end counted what it returned (the store's count also
		 * holds records it cannot decode and skips). */
		if (r > 0)
			r = ops->count(c->txn, &l.total, &err);
	}
	if (r < 0) {
		json_decref(l.resources);
		return pwb_scim_respond_store(c, r, &err);
	}
	if (l.sorting) {
		json_t *page = json_array(), *doc;
		size_t i;

		if (!page) {
			json_decref(l.resources);
			return -ENOMEM;
		}
		pwb_scim_sort(l.resources, q->sort_by, q->descending);
		json_array_foreach(l.resources, i, doc)
		{
			if (i + 1 >= q->start && i + 1 < q->start + q->count) {
				pwb_scim_project(doc, q);
				json_array_append(page, doc);
			}
		}
		json_decref(l.resources);
		l.resources = page;
	}
	return pwb_scim_respond(c, 200, pwb_scim_list_response(l.resources, l.total, q->start));
}

int pwb_scim_endpoint_handle(struct pwb_scim_ctx *c, const struct pwb_scim_resource_ops *ops)
{
	const char *m = c->req->method;

	if (c->search)
		return list(c, ops);
	if (strcmp(m, "GET") == 0)
		return c->id ? get_one(c, ops) : list(c, ops);
	if (strcmp(m, "POST") == 0 && !c->id)
		return store_doc(c, ops, c->body, NULL);
	if (strcmp(m, "PUT") == 0 && c->id)
		return change_one(c, ops, false);
	if (strcmp(m, "PATCH") == 0 && c->id)
		return change_one(c, ops, true);
	if (strcmp(m, "DELETE") == 0 && c->id)
		return delete_one(c, ops);
	return pwb_scim_respond_not_allowed(c);
}
