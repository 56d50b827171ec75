/* The User resource type for the generic endpoint (scim_endpoint.c):
 * indexed lookups for userName and externalId, and the user's computed
 * "groups" (from memberships, never stored). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "scim_endpoint.h"
#include "scim_resource.h"
#include "scim_users.h"

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
	r = json_array_append_new(g->groups, json_pack("{s:s,s:s,s:s,s:s}", "value", group_id,
						       "display", pwb_group_display(&grp), "$ref",
						       ref, "type", "direct"));
	pwb_group_clear(&grp);
	return r < 0 ? -ENOMEM : 0;
}

/* The user's document; its groups unless a PATCH base, or a filter that
 * does not look at them. */
static int user_encode(struct pwb_scim_ctx *c, const void *rec, enum pwb_scim_view view,
		       json_t **out)
{
	const struct pwb_user *u = rec;
	struct groups_ctx g = {.c = c, .groups = json_array()};
	struct pwb_error err = {0};
	int r;

	*out = NULL;
	if (!g.groups)
		return -ENOMEM;
	if (view == PWB_SCIM_VIEW_RESPONSE ||
	    (view == PWB_SCIM_VIEW_FILTER && pwb_scim_filter_mentions(c->filter, "groups"))) {
		r = pwb_member_foreach_group(c->txn, u->id, add_group_ref, &g, &err);
		if (r < 0) {
			json_decref(g.groups);
			return r;
		}
	}
	*out = pwb_scim_user_to_json(u, g.groups, c->base_url);
	return *out ? 0 : -ENOMEM;
}

static int user_decode(struct pwb_scim_ctx *c, json_t *doc, const void *old, void *rec,
		       struct pwb_scim_error *serr)
{
	return pwb_scim_user_from_json(doc, c->cfg, old, rec, serr);
}

static int user_write(struct pwb_scim_ctx *c, void *rec, json_t *doc, bool create)
{
	struct pwb_error err = {0};
	int r = create ? pwb_user_create(c->txn, rec, &err) : pwb_user_update(c->txn, rec, &err);

	(void)doc;
	return r < 0 ? pwb_scim_respond_store(c, r, &err) : 0;
}

static int user_walk_one(const struct pwb_user *u, void *vwalk)
{
	struct pwb_scim_walk *w = vwalk;

	return w->cb(u, w->ctx);
}

static int user_foreach(struct pwb_txn *txn, pwb_scim_record_cb cb, void *ctx,
			struct pwb_error *err)
{
	struct pwb_scim_walk w = {cb, ctx};

	return pwb_user_foreach(txn, user_walk_one, &w, err);
}

static int user_get(struct pwb_txn *txn, const char *id, void *rec, struct pwb_error *err)
{
	return pwb_user_get(txn, id, rec, err);
}

static int user_get_by_user_name(struct pwb_txn *txn, const char *v, void *rec,
				 struct pwb_error *err)
{
	return pwb_user_get_by_user_name(txn, v, rec, err);
}

static int user_get_by_external_id(struct pwb_txn *txn, const char *v, void *rec,
				   struct pwb_error *err)
{
	return pwb_user_get_by_external_id(txn, v, rec, err);
}

static void user_clear(void *rec)
{
	pwb_user_clear(rec);
}

static const char *user_id(const void *rec)
{
	return ((const struct pwb_user *)rec)->id;
}

static uint64_t user_version(const void *rec)
{
	return ((const struct pwb_user *)rec)->version;
}

static const struct pwb_scim_index user_indexed[] = {
    {"userName", user_get_by_user_name},
    {"externalId", user_get_by_external_id},
    {NULL, NULL},
};

const struct pwb_scim_resource_ops pwb_scim_users_ops = {
    .type = "User",
    .record_size = sizeof(struct pwb_user),
    .indexed = user_indexed,
    .clear = user_clear,
    .id = user_id,
    .version = user_version,
    .get = user_get,
    .foreach = user_foreach,
    .count = pwb_user_count,
    .del = pwb_user_delete,
    .encode = user_encode,
    .decode = user_decode,
    .write = user_write,
};
