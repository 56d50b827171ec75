/* The /Groups endpoint. A group's members are the store's memberships;
 * POST, PUT and PATCH compute the new member set and apply the difference,
 * so the IdP's one-member PATCHes stay cheap in the store. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "names.h"
#include "scim_handlers.h"
#include "scim_patch.h"
#include "scim_resource.h"
#include "util.h"

struct members_ctx {
	struct pwb_scim_ctx *c;
	json_t *members;
	bool with_display;
};

static int add_member_ref(const char *user_id, void *vctx)
{
	struct members_ctx *m = vctx;
	char ref[512];
	json_t *el;

	snprintf(ref, sizeof(ref), "%s/Users/%s", m->c->base_url, user_id);
	el = json_pack("{s:s,s:s,s:s}", "value", user_id, "$ref", ref, "type", "User");
	if (!el)
		return -ENOMEM;
	if (m->with_display) {
		struct pwb_user u = {0};
		struct pwb_error err = {0};
		int r = pwb_user_get(m->c->txn, user_id, &u, &err);

		if (r < 0 && r != PWB_ENOTFOUND) {
			json_decref(el);
			return r;
		}
		if (r == 0)
			json_object_set_new(el, "display",
					    json_string(u.user_name ? u.user_name : u.name));
		pwb_user_clear(&u);
	}
	return json_array_append_new(m->members, el) < 0 ? -ENOMEM : 0;
}

static bool members_excluded(const struct pwb_scim_query *q)
{
	json_t *probe = json_pack("{s:s,s:[]}", "id", "x", "members");
	bool gone;

	/* whatever the projection keeps of a probe decides */
	pwb_scim_project(probe, q);
	gone = !json_object_get(probe, "members");
	json_decref(probe);
	return gone;
}

static int group_doc(struct pwb_scim_ctx *c, const struct pwb_group *g, bool with_members,
		     bool with_display, json_t **out)
{
	struct members_ctx m = {.c = c, .members = json_array(), .with_display = with_display};
	struct pwb_error err = {0};
	int r;

	*out = NULL;
	if (!m.members)
		return -ENOMEM;
	if (with_members) {
		r = pwb_member_foreach_user(c->txn, g->id, add_member_ref, &m, &err);
		if (r < 0) {
			json_decref(m.members);
			return r;
		}
	}
	*out = pwb_scim_group_to_json(g, m.members, c->base_url);
	return *out ? 0 : -ENOMEM;
}

static int respond_group(struct pwb_scim_ctx *c, int status, const struct pwb_group *g)
{
	json_t *doc;
	int r = group_doc(c, g, !members_excluded(c->query), true, &doc);

	if (r < 0)
		return r;
	pwb_scim_project(doc, c->query);
	pwb_scim_set_resource_headers(c, doc, g->version);
	return pwb_scim_respond(c, status, doc);
}

/* damaged (may be NULL): a record the store cannot decode is loaded as its
 * id alone and flagged, so that DELETE can remove it; otherwise it is 500. */
static int load_group(struct pwb_scim_ctx *c, struct pwb_group *g, bool *damaged)
{
	struct pwb_error err = {0};
	struct pwb_scim_error serr = {0};
	int r;

	if (!pwb_uuid_is_valid(c->id)) {
		pwb_scim_fail(&serr, 404, NULL, "no Group with that id");
		return pwb_scim_respond_error(c, &serr, PWB_ENOTFOUND);
	}
	r = pwb_group_get(c->txn, c->id, g, &err);
	if (r == PWB_EDAMAGED && damaged && g->id[0]) {
		*damaged = true;
		return 0;
	}
	if (r == PWB_ENOTFOUND) {
		pwb_scim_fail(&serr, 404, NULL, "no Group with id %s", c->id);
		return pwb_scim_respond_error(c, &serr, r);
	}
	return r < 0 ? pwb_scim_respond_store(c, r, &err) : 0;
}

struct diff_ctx {
	json_t *wanted; /* object: user id -> true, taken off as found */
	json_t *gone;	/* array of current members not wanted */
};

static int note_current(const char *user_id, void *vctx)
{
	struct diff_ctx *d = vctx;

	if (json_object_get(d->wanted, user_id))
		return json_object_del(d->wanted, user_id) < 0 ? -ENOMEM : 0;
	return json_array_append_new(d->gone, json_string(user_id)) < 0 ? -ENOMEM : 0;
}

/* Makes the group's members exactly ids (an array of user ids). */
static int set_members(struct pwb_scim_ctx *c, const char *group_id, json_t *ids, bool fresh)
{
	struct diff_ctx d = {.wanted = json_object(), .gone = json_array()};
	struct pwb_error err = {0};
	struct pwb_scim_error serr = {0};
	const char *user_id;
	json_t *v;
	size_t i;
	int r = 0;

	if (!d.wanted || !d.gone) {
		r = -ENOMEM;
		goto out;
	}
	json_array_foreach(ids, i, v)
	{
		if (json_object_set_new(d.wanted, json_string_value(v), json_true()) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (!fresh && (r = pwb_member_foreach_user(c->txn, group_id, note_current, &d, &err)) < 0) {
		r = pwb_scim_respond_store(c, r, &err);
		goto out;
	}
	json_array_foreach(d.gone, i, v)
	{
		r = pwb_member_remove(c->txn, group_id, json_string_value(v), &err);
		if (r < 0) {
			r = pwb_scim_respond_store(c, r, &err);
			goto out;
		}
	}
	json_object_foreach(d.wanted, user_id, v)
	{
		r = pwb_member_add(c->txn, group_id, user_id, &err);
		if (r == PWB_ENOTFOUND) {
			pwb_scim_fail(&serr, 400, "invalidValue", "members: no User with id %s",
				      user_id);
			r = pwb_scim_respond_error(c, &serr, r);
			goto out;
		}
		if (r < 0) {
			r = pwb_scim_respond_store(c, r, &err);
			goto out;
		}
	}
out:
	json_decref(d.wanted);
	json_decref(d.gone);
	return r;
}

static int group_create(struct pwb_scim_ctx *c)
{
	struct pwb_group g = {0};
	struct pwb_scim_error serr = {0};
	struct pwb_error err = {0};
	json_t *ids = NULL;
	int r;

	r = pwb_scim_group_from_json(c->body, c->cfg, NULL, &g, &serr);
	if (r == 0)
		r = pwb_scim_group_member_ids(c->body, &ids, &serr);
	if (r < 0) {
		r = pwb_scim_respond_error(c, &serr, r);
		goto out;
	}
	r = pwb_group_create(c->txn, &g, &err);
	if (r < 0) {
		r = pwb_scim_respond_store(c, r, &err);
		goto out;
	}
	if (ids && (r = set_members(c, g.id, ids, true)) < 0)
		goto out;
	r = respond_group(c, 201, &g);
out:
	json_decref(ids);
	pwb_group_clear(&g);
	return r;
}

static int group_get(struct pwb_scim_ctx *c)
{
	struct pwb_group g = {0};
	int r = load_group(c, &g, NULL);

	if (r == 0)
		r = respond_group(c, 200, &g);
	pwb_group_clear(&g);
	return r;
}

/* PUT and PATCH end here. ids NULL: members unchanged. */
static int group_store(struct pwb_scim_ctx *c, json_t *doc, const struct pwb_group *old)
{
	struct pwb_group g = {0};
	struct pwb_scim_error serr = {0};
	struct pwb_error err = {0};
	json_t *ids = NULL;
	int r;

	r = pwb_scim_group_from_json(doc, c->cfg, old, &g, &serr);
	if (r == 0)
		r = pwb_scim_group_member_ids(doc, &ids, &serr);
	if (r < 0) {
		r = pwb_scim_respond_error(c, &serr, r);
		goto out;
	}
	r = pwb_group_update(c->txn, &g, &err);
	if (r < 0) {
		r = pwb_scim_respond_store(c, r, &err);
		goto out;
	}
	if (ids && (r = set_members(c, g.id, ids, false)) < 0)
		goto out;
	r = respond_group(c, 200, &g);
out:
	json_decref(ids);
	pwb_group_clear(&g);
	return r;
}

static int group_replace(struct pwb_scim_ctx *c)
{
	struct pwb_group old = {0};
	int r = load_group(c, &old, NULL);

	if (r == 0)
		r = pwb_scim_check_if_match(c, old.version);
	if (r == 0)
		r = group_store(c, c->body, &old);
	pwb_group_clear(&old);
	return r;
}

static int group_patch(struct pwb_scim_ctx *c)
{
	struct pwb_group old = {0};
	struct pwb_scim_error serr = {0};
	json_t *doc = NULL;
	int r = load_group(c, &old, NULL);

	if (r == 0)
		r = pwb_scim_check_if_match(c, old.version);
	if (r == 0)
		r = group_doc(c, &old, true, false, &doc);
	if (r == 0) {
		r = pwb_scim_patch_apply(doc, c->body, &serr);
		r = r < 0 ? pwb_scim_respond_error(c, &serr, r) : group_store(c, doc, &old);
	}
	json_decref(doc);
	pwb_group_clear(&old);
	return r;
}

static int group_delete(struct pwb_scim_ctx *c)
{
	struct pwb_group old = {0};
	struct pwb_error err = {0};
	bool damaged = false;
	int r = load_group(c, &old, &damaged);

	/* a damaged record has no version to match: it can only go */
	if (r == 0 && !damaged)
		r = pwb_scim_check_if_match(c, old.version);
	if (r == 0) {
		r = pwb_group_delete(c->txn, old.id, &err);
		r = r < 0 ? pwb_scim_respond_store(c, r, &err) : pwb_scim_respond(c, 204, NULL);
	}
	pwb_group_clear(&old);
	return r;
}

/* ---- listing ---- */

struct list_ctx {
	struct pwb_scim_ctx *c;
	json_t *resources;
	uint64_t total;
	bool sorting, need_members, with_members;
};

static int list_one(const struct pwb_group *g, void *vctx)
{
	struct list_ctx *l = vctx;
	struct pwb_scim_ctx *c = l->c;
	const struct pwb_scim_query *q = c->query;
	json_t *doc = NULL;
	int r;

	if (c->filter) {
		if ((r = group_doc(c, g, l->need_members, false, &doc)) < 0)
			return r;
		if (!pwb_scim_filter_match(c->filter, doc)) {
			json_decref(doc);
			return 0;
		}
		json_decref(doc);
	}
	l->total++;
	if (!l->sorting && (l->total < q->start || l->total >= q->start + q->count))
		return !c->filter && l->total >= q->start + q->count ? 1 : 0;
	if ((r = group_doc(c, g, l->with_members, true, &doc)) < 0)
		return r;
	if (!l->sorting)
		pwb_scim_project(doc, q);
	return json_array_append_new(l->resources, doc) < 0 ? -ENOMEM : 0;
}

static int list_indexed(struct list_ctx *l, bool *done)
{
	struct pwb_scim_ctx *c = l->c;
	struct pwb_group g = {0};
	struct pwb_error err = {0};
	char name[PWB_NAME_MAX + 1];
	const char *v;
	int r;

	*done = true;
	if ((v = pwb_scim_filter_indexed_eq(c->filter, "displayName")))
		r = pwb_names_to_linux(v, PWB_NAMES_LOWERCASE, NULL, name, NULL) < 0
			? PWB_ENOTFOUND
			: pwb_group_get_by_name(c->txn, name, &g, &err);
	else if ((v = pwb_scim_filter_indexed_eq(c->filter, "externalId")))
		r = pwb_group_get_by_external_id(c->txn, v, &g, &err);
	else if ((v = pwb_scim_filter_indexed_eq(c->filter, "id")))
		r = pwb_uuid_is_valid(v) ? pwb_group_get(c->txn, v, &g, &err) : PWB_ENOTFOUND;
	else {
		*done = false;
		return 0;
	}
	if (r == PWB_ENOTFOUND)
		return 0;
	if (r == 0) {
		r = list_one(&g, l);
		r = r > 0 ? 0 : r;
	}
	pwb_group_clear(&g);
	return r;
}

static int group_list(struct pwb_scim_ctx *c)
{
	const struct pwb_scim_query *q = c->query;
	struct list_ctx l = {.c = c, .resources = json_array()};
	struct pwb_error err = {0};
	bool done = false, counted = false;
	int r = 0;

	if (!l.resources)
		return -ENOMEM;
	l.sorting = q->sort_by && *q->sort_by;
	l.need_members = pwb_scim_filter_mentions(c->filter, "members");
	l.with_members = !members_excluded(q);
	if (c->filter)
		r = list_indexed(&l, &done);
	if (r == 0 && !done) {
		r = pwb_group_foreach(c->txn, list_one, &l, &err);
		counted = r == 0;
		if (r > 0)
			r = 0;
		if (r == 0 && !counted)
			r = pwb_group_count(c->txn, &l.total, &err);
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

int pwb_scim_groups_handle(struct pwb_scim_ctx *c)
{
	const char *m = c->req->method;
	struct pwb_scim_error serr = {0};

	if (c->search)
		return group_list(c);
	if (strcmp(m, "GET") == 0)
		return c->id ? group_get(c) : group_list(c);
	if (strcmp(m, "POST") == 0 && !c->id)
		return group_create(c);
	if (strcmp(m, "PUT") == 0 && c->id)
		return group_replace(c);
	if (strcmp(m, "PATCH") == 0 && c->id)
		return group_patch(c);
	if (strcmp(m, "DELETE") == 0 && c->id)
		return group_delete(c);
	pwb_scim_fail(&serr, 405, NULL, "%.16s is not allowed here", m);
	return pwb_scim_respond_error(c, &serr, PWB_EINVAL);
}
