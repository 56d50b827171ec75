/* The Group resource type for the generic endpoint (scim_endpoint.c). A
 * group's members are the store's memberships; POST, PUT and PATCH compute
 * the new member set and apply the difference, so the IdP's one-member
 * PATCHes stay cheap in the store. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "policy.h"
#include "names.h"
#include "provision.h"
#include "scim_endpoint.h"
#include "scim_groups.h"
#include "scim_resource.h"

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

/* The group's document: a response lists members (with display) unless
 * the projection drops them; a filter sees them only if it mentions them;
 * a PATCH base has them all, without display. */
static int group_encode(struct pwb_scim_ctx *c, const void *rec, enum pwb_scim_view view,
			json_t **out)
{
	const struct pwb_group *g = rec;
	struct members_ctx m = {.c = c, .members = json_array()};
	struct pwb_error err = {0};
	bool with_members;
	int r;

	*out = NULL;
	if (!m.members)
		return -ENOMEM;
	m.with_display = view == PWB_SCIM_VIEW_RESPONSE;
	with_members =
	    view == PWB_SCIM_VIEW_PATCH ||
	    (view == PWB_SCIM_VIEW_RESPONSE && !members_excluded(c->query)) ||
	    (view == PWB_SCIM_VIEW_FILTER && pwb_scim_filter_mentions(c->filter, "members"));
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

/* A rename changes only the display name, but never to one that names a
 * privileged group ("docker", "Wheel"): a reader of the IdP's console, and
 * JIT's claim lookup by display name, would take it for that group. */
static int renamed_display_allowed(struct pwb_scim_ctx *c, const struct pwb_group *old,
				   struct pwb_group *g, struct pwb_scim_error *serr)
{
	char derived[PWB_NAME_MAX + 1];
	struct pwb_error nerr = {0};

	if (pwb_group_display_is(old, g->display_name) ||
	    pwb_names_group_from_display(g->display_name, c->cfg->group_space_replacement[0],
					 derived, &nerr) < 0)
		return 0;
	if (pwb_policy_group_name(c->cfg, derived, &nerr) < 0) {
		pwb_group_clear(g);
		return pwb_scim_fail(serr, 400, "invalidValue", "displayName: %s", nerr.msg);
	}
	return 0;
}

/* A new group without an explicit groupName gets the name its displayName
 * gives: the mapping or the rule (provision.c), the one JIT uses too. */
static int group_decode(struct pwb_scim_ctx *c, json_t *doc, const void *old, void *rec,
			struct pwb_scim_error *serr)
{
	struct pwb_group *g = rec;
	struct pwb_error nerr = {0};
	int r = pwb_scim_group_from_json(doc, c->cfg, old, rec, serr);

	if (r == 0 && old)
		r = renamed_display_allowed(c, old, g, serr);
	if (r < 0 || g->name[0])
		return r;
	r = pwb_provision_group_name(c->txn, g->display_name, g->name, &nerr);
	if (r == PWB_EINVAL)
		r = pwb_scim_fail(serr, 400, "invalidValue", "displayName: %s", nerr.msg);
	else if (r < 0)
		pwb_scim_fail_store(serr, r, pwb_error_text(&nerr, r));
	if (r < 0)
		pwb_group_clear(g);
	return r;
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

/* The record, then the members doc lists (none listed: PUT and PATCH keep
 * them). */
static int group_write(struct pwb_scim_ctx *c, void *rec, json_t *doc, bool create)
{
	struct pwb_group *g = rec;
	struct pwb_scim_error serr = {0};
	struct pwb_error err = {0};
	json_t *ids = NULL;
	int r;

	r = pwb_scim_group_member_ids(doc, &ids, &serr);
	if (r < 0)
		return pwb_scim_respond_error(c, &serr, r);
	r = create ? pwb_group_create(c->txn, g, &err) : pwb_group_update(c->txn, g, &err);
	if (r < 0)
		r = pwb_scim_respond_store(c, r, &err);
	else if (ids)
		r = set_members(c, g->id, ids, create);
	json_decref(ids);
	return r;
}

static int group_walk_one(const struct pwb_group *g, void *vwalk)
{
	struct pwb_scim_walk *w = vwalk;

	return w->cb(g, w->ctx);
}

static int group_foreach(struct pwb_txn *txn, pwb_scim_record_cb cb, void *ctx,
			 struct pwb_error *err)
{
	struct pwb_scim_walk w = {cb, ctx};

	return pwb_group_foreach(txn, group_walk_one, &w, err);
}

static int group_get(struct pwb_txn *txn, const char *id, void *rec, struct pwb_error *err)
{
	return pwb_group_get(txn, id, rec, err);
}

/* displayName as the IdP sent it ("Data Scientists"), not the Linux name:
 * Okta and Entra look a group up this way before they create it. */
static int group_get_by_display_name(struct pwb_txn *txn, const char *v, void *rec,
				     struct pwb_error *err)
{
	return pwb_provision_group_find(txn, v, rec, err);
}

static int group_get_by_external_id(struct pwb_txn *txn, const char *v, void *rec,
				    struct pwb_error *err)
{
	return pwb_group_get_by_external_id(txn, v, rec, err);
}

static void group_clear(void *rec)
{
	pwb_group_clear(rec);
}

static const char *group_id(const void *rec)
{
	return ((const struct pwb_group *)rec)->id;
}

static uint64_t group_version(const void *rec)
{
	return ((const struct pwb_group *)rec)->version;
}

static const struct pwb_scim_index group_indexed[] = {
    {"displayName", group_get_by_display_name},
    {"externalId", group_get_by_external_id},
    {NULL, NULL},
};

const struct pwb_scim_resource_ops pwb_scim_groups_ops = {
    .type = "Group",
    .record_size = sizeof(struct pwb_group),
    .indexed = group_indexed,
    .clear = group_clear,
    .id = group_id,
    .version = group_version,
    .get = group_get,
    .foreach = group_foreach,
    .count = pwb_group_count,
    .del = pwb_group_delete,
    .encode = group_encode,
    .decode = group_decode,
    .write = group_write,
};
