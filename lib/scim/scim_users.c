/* The /Users endpoint: create, read, list (indexed lookups for userName,
 * externalId and id equality; a filtered scan otherwise), replace, patch,
 * delete. A user's "groups" is computed from memberships, never stored. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "scim_handlers.h"
#include "scim_patch.h"
#include "scim_resource.h"
#include "util.h"

struct groups_ctx {
	struct pwb_scim_ctx *c;
	json_t *groups;
};

static int add_group_ref(const char *group_id, void *vctx)
{
	struct groups_ctx *g = vctx;
	struct pwb_group grp = {0};
	struct pwb_error err = {0};
	char ref[512];
	int r;

	r = pwb_group_get(g->c->txn, group_id, &grp, &err);
	if (r == PWB_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	snprintf(ref, sizeof(ref), "%s/Groups/%s", g->c->base_url, group_id);
	r = json_array_append_new(g->groups,
				  json_pack("{s:s,s:s,s:s,s:s}", "value", group_id, "display",
					    grp.display_name ? grp.display_name : grp.name, "$ref",
					    ref, "type", "direct"));
	pwb_group_clear(&grp);
	return r < 0 ? -ENOMEM : 0;
}

/* The user's document with its computed groups. */
static int user_doc(struct pwb_scim_ctx *c, const struct pwb_user *u, bool with_groups,
		    json_t **out)
{
	struct groups_ctx g = {.c = c, .groups = json_array()};
	struct pwb_error err = {0};
	int r;

	*out = NULL;
	if (!g.groups)
		return -ENOMEM;
	if (with_groups) {
		r = pwb_member_foreach_group(c->txn, u->id, add_group_ref, &g, &err);
		if (r < 0) {
			json_decref(g.groups);
			return r;
		}
	}
	*out = pwb_scim_user_to_json(u, g.groups, c->base_url);
	return *out ? 0 : -ENOMEM;
}

static int respond_user(struct pwb_scim_ctx *c, int status, const struct pwb_user *u)
{
	json_t *doc;
	int r = user_doc(c, u, true, &doc);

	if (r < 0)
		return r;
	pwb_scim_project(doc, c->query);
	pwb_scim_set_resource_headers(c, doc, u->version);
	return pwb_scim_respond(c, status, doc);
}

/* damaged (may be NULL): a record the store cannot decode is loaded as its
 * id alone and flagged, so that DELETE can remove it; otherwise it is 500. */
static int load_user(struct pwb_scim_ctx *c, struct pwb_user *u, bool *damaged)
{
	struct pwb_error err = {0};
	struct pwb_scim_error serr = {0};
	int r;

	if (!pwb_uuid_is_valid(c->id)) {
		pwb_scim_fail(&serr, 404, NULL, "no User with that id");
		return pwb_scim_respond_error(c, &serr, PWB_ENOTFOUND);
	}
	r = pwb_user_get(c->txn, c->id, u, &err);
	if (r == PWB_EDAMAGED && damaged && u->id[0]) {
		*damaged = true;
		return 0;
	}
	if (r == PWB_ENOTFOUND) {
		pwb_scim_fail(&serr, 404, NULL, "no User with id %s", c->id);
		return pwb_scim_respond_error(c, &serr, r);
	}
	return r < 0 ? pwb_scim_respond_store(c, r, &err) : 0;
}

static int user_create(struct pwb_scim_ctx *c)
{
	struct pwb_user u = {0};
	struct pwb_scim_error serr = {0};
	struct pwb_error err = {0};
	int r;

	r = pwb_scim_user_from_json(c->body, c->cfg, NULL, &u, &serr);
	if (r < 0)
		return pwb_scim_respond_error(c, &serr, r);
	r = pwb_user_create(c->txn, &u, &err);
	if (r < 0)
		r = pwb_scim_respond_store(c, r, &err);
	else
		r = respond_user(c, 201, &u);
	pwb_user_clear(&u);
	return r;
}

static int user_get(struct pwb_scim_ctx *c)
{
	struct pwb_user u = {0};
	int r = load_user(c, &u, NULL);

	if (r == 0)
		r = respond_user(c, 200, &u);
	pwb_user_clear(&u);
	return r;
}

/* PUT and PATCH end here: the new document replaces the record. */
static int user_store(struct pwb_scim_ctx *c, json_t *doc, const struct pwb_user *old)
{
	struct pwb_user u = {0};
	struct pwb_scim_error serr = {0};
	struct pwb_error err = {0};
	int r;

	r = pwb_scim_user_from_json(doc, c->cfg, old, &u, &serr);
	if (r < 0)
		return pwb_scim_respond_error(c, &serr, r);
	r = pwb_user_update(c->txn, &u, &err);
	if (r < 0)
		r = pwb_scim_respond_store(c, r, &err);
	else
		r = respond_user(c, 200, &u);
	pwb_user_clear(&u);
	return r;
}

static int user_replace(struct pwb_scim_ctx *c)
{
	struct pwb_user old = {0};
	int r = load_user(c, &old, NULL);

	if (r == 0)
		r = pwb_scim_check_if_match(c, old.version);
	if (r == 0)
		r = user_store(c, c->body, &old);
	pwb_user_clear(&old);
	return r;
}

static int user_patch(struct pwb_scim_ctx *c)
{
	struct pwb_user old = {0};
	struct pwb_scim_error serr = {0};
	json_t *doc = NULL;
	int r = load_user(c, &old, NULL);

	if (r == 0)
		r = pwb_scim_check_if_match(c, old.version);
	if (r == 0)
		r = user_doc(c, &old, false, &doc);
	if (r == 0) {
		r = pwb_scim_patch_apply(doc, c->body, &serr);
		r = r < 0 ? pwb_scim_respond_error(c, &serr, r) : user_store(c, doc, &old);
	}
	json_decref(doc);
	pwb_user_clear(&old);
	return r;
}

static int user_delete(struct pwb_scim_ctx *c)
{
	struct pwb_user old = {0};
	struct pwb_error err = {0};
	bool damaged = false;
	int r = load_user(c, &old, &damaged);

	/* a damaged record has no version to match: it can only go */
	if (r == 0 && !damaged)
		r = pwb_scim_check_if_match(c, old.version);
	if (r == 0) {
		r = pwb_user_delete(c->txn, old.id, &err);
		r = r < 0 ? pwb_scim_respond_store(c, r, &err) : pwb_scim_respond(c, 204, NULL);
	}
	pwb_user_clear(&old);
	return r;
}

/* ---- listing ---- */

struct list_ctx {
	struct pwb_scim_ctx *c;
	json_t *resources;
	uint64_t total;
	bool sorting;	  /* collect every match, page after sorting */
	bool need_groups; /* the filter looks at groups */
	bool count_only;  /* no filter: the store's count is the total */
};

static int list_one(const struct pwb_user *u, void *vctx)
{
	struct list_ctx *l = vctx;
	struct pwb_scim_ctx *c = l->c;
	const struct pwb_scim_query *q = c->query;
	json_t *doc = NULL;
	int r;

	if (c->filter) {
		r = user_doc(c, u, l->need_groups, &doc);
		if (r < 0)
			return r;
		if (!pwb_scim_filter_match(c->filter, doc)) {
			json_decref(doc);
			return 0;
		}
	}
	l->total++;
	if (!l->sorting && (l->total < q->start || l->total >= q->start + q->count)) {
		json_decref(doc);
		/* without a filter nothing past the page matters */
		return l->count_only && l->total >= q->start + q->count ? 1 : 0;
	}
	if (!doc || !l->need_groups) {
		json_decref(doc);
		if ((r = user_doc(c, u, true, &doc)) < 0)
			return r;
	}
	if (!l->sorting)
		pwb_scim_project(doc, q);
	return json_array_append_new(l->resources, doc) < 0 ? -ENOMEM : 0;
}

/* userName, externalId or id equality: one index lookup, then the whole
 * filter still decides. */
static int list_indexed(struct list_ctx *l, bool *done)
{
	struct pwb_scim_ctx *c = l->c;
	struct pwb_user u = {0};
	struct pwb_error err = {0};
	const char *v;
	int r;

	*done = true;
	if ((v = pwb_scim_filter_indexed_eq(c->filter, "userName")))
		r = pwb_user_get_by_user_name(c->txn, v, &u, &err);
	else if ((v = pwb_scim_filter_indexed_eq(c->filter, "externalId")))
		r = pwb_user_get_by_external_id(c->txn, v, &u, &err);
	else if ((v = pwb_scim_filter_indexed_eq(c->filter, "id")))
		r = pwb_uuid_is_valid(v) ? pwb_user_get(c->txn, v, &u, &err) : PWB_ENOTFOUND;
	else {
		*done = false;
		return 0;
	}
	if (r == PWB_ENOTFOUND)
		return 0;
	if (r == 0) {
		r = list_one(&u, l);
		r = r > 0 ? 0 : r;
	}
	pwb_user_clear(&u);
	return r;
}

static int user_list(struct pwb_scim_ctx *c)
{
	const struct pwb_scim_query *q = c->query;
	struct list_ctx l = {.c = c, .resources = json_array()};
	struct pwb_error err = {0};
	bool done = false;
	int r = 0;

	if (!l.resources)
		return -ENOMEM;
	l.sorting = q->sort_by && *q->sort_by;
	l.need_groups = pwb_scim_filter_mentions(c->filter, "groups");
	l.count_only = !c->filter && !l.sorting;
	if (c->filter)
		r = list_indexed(&l, &done);
	if (r == 0 && !done) {
		bool stopped;

		r = pwb_user_foreach(c->txn, list_one, &l, &err);
		stopped = r > 0;
		if (r > 0)
			r = 0;
		/* Counted only when the walk stopped past the page: a walk that
		 * ran to the end counted what it returned (the store's count also
		 * holds records it cannot decode and skips). */
		if (r == 0 && l.count_only && stopped)
			r = pwb_user_count(c->txn, &l.total, &err);
	}
	if (r < 0) {
		json_decref(l.resources);
		return pwb_scim_respond_store(c, r, &err);
	}
	if (l.sorting) {
		json_t *page = json_array(), *doc;
		size_t i;

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

int pwb_scim_users_handle(struct pwb_scim_ctx *c)
{
	const char *m = c->req->method;
	struct pwb_scim_error serr = {0};

	if (c->search)
		return user_list(c);
	if (strcmp(m, "GET") == 0)
		return c->id ? user_get(c) : user_list(c);
	if (strcmp(m, "POST") == 0 && !c->id)
		return user_create(c);
	if (strcmp(m, "PUT") == 0 && c->id)
		return user_replace(c);
	if (strcmp(m, "PATCH") == 0 && c->id)
		return user_patch(c);
	if (strcmp(m, "DELETE") == 0 && c->id)
		return user_delete(c);
	pwb_scim_fail(&serr, 405, NULL, "%.16s is not allowed here", m);
	return pwb_scim_respond_error(c, &serr, PWB_EINVAL);
}
