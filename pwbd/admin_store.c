/* pwbd's admin operations on the whole store: group.list, store.export
 * (users, groups with members, group name mappings, token metadata and
 * retired ids, in the record codec's public form), snapshot.rebuild. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "admin.h"
#include "store.h"

struct walk_ctx {
	struct pwb_txn *txn;
	struct admin_page *page; /* group.list: one page; NULL: everything */
	json_t *users, *groups, *tokens, *retired_uids, *retired_gids, *maps;
	int64_t user_total; /* store.export's progress; -1: unknown */
};

static int add_user(const struct pwb_user *u, void *vctx)
{
	struct walk_ctx *c = vctx;

	if (json_array_append_new(c->users, pwb_user_to_json(u)))
		return -ENOMEM;
	pwb_txn_progress(c->txn, "exporting", json_array_size(c->users), c->user_total, "users");
	return 0;
}

static int add_group(const struct pwb_group *g, void *vctx)
{
	struct walk_ctx *c = vctx;
	struct pwb_error err = {0};
	json_t *o, *members;
	int rc;

	if (c->page && admin_page_skip(c->page, g->id))
		return 0;
	if (c->page && admin_page_full(c->page))
		return 1;
	rc = admin_group_members(c->txn, g->id, &members, &err);
	if (rc < 0)
		return rc;
	o = pwb_group_to_json(g);
	rc = o && json_object_set_new(o, "members", members) == 0 ? 0 : -ENOMEM;
	if (!o)
		json_decref(members);
	if (rc == 0 && c->page)
		return admin_page_add(c->page, c->groups, g->id, o);
	return rc == 0 && json_array_append_new(c->groups, o) == 0 ? 0 : -ENOMEM;
}

static int add_token(const struct pwb_token *t, void *vctx)
{
	struct walk_ctx *c = vctx;

	return json_array_append_new(c->tokens, pwb_token_to_json(t)) ? -ENOMEM : 0;
}

static int add_map(const struct pwb_group_map *m, void *vctx)
{
	struct walk_ctx *c = vctx;

	return json_array_append_new(c->maps, pwb_group_map_to_json(m)) ? -ENOMEM : 0;
}

static int add_retired(char kind, uint32_t id, void *vctx)
{
	struct walk_ctx *c = vctx;

	return json_array_append_new(kind == 'u' ? c->retired_uids : c->retired_gids,
				     json_integer(id))
		   ? -ENOMEM
		   : 0;
}

static void walk_free(struct walk_ctx *c)
{
	json_decref(c->users);
	json_decref(c->groups);
	json_decref(c->tokens);
	json_decref(c->retired_uids);
	json_decref(c->retired_gids);
	json_decref(c->maps);
	memset(c, 0, sizeof(*c));
}

static int walk_reset(struct walk_ctx *c, struct pwb_txn *txn, struct pwb_error *err)
{
	struct admin_page *page = c->page;

	walk_free(c);
	c->txn = txn;
	c->page = page;
	if (page) {
		page->bytes = 0;
		page->full = false;
		page->next[0] = '\0';
	}
	c->users = json_array();
	c->groups = json_array();
	c->tokens = json_array();
	c->retired_uids = json_array();
	c->retired_gids = json_array();
	c->maps = json_array();
	if (!c->users || !c->groups || !c->tokens || !c->retired_uids || !c->retired_gids ||
	    !c->maps)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* ---- group.list {after} -> {groups: [... with members], next} (paged) ---- */

static int groups_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	int rc = walk_reset(vctx, txn, err);

	if (rc == 0)
		rc = pwb_group_foreach(txn, add_group, vctx, err);
	if (rc < 0 && !err->msg[0])
		pwb_error_set(err, rc, "%s", pwb_strerror(rc));
	return rc < 0 ? rc : 0;
}

int admin_group_list(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	struct admin_page page;
	struct walk_ctx c = {.page = &page};
	int rc;

	rc = admin_page_init(&page, call->req->args, err);
	if (rc == 0)
		rc = pwb_store_read(call->st, groups_txn, &c, err);
	if (rc == 0 &&
	    !(*result = page.full ? json_pack("{s:O, s:s}", "groups", c.groups, "next", page.next)
				  : json_pack("{s:O}", "groups", c.groups)))
		rc = pwb_error_set(err, -ENOMEM, "out of memory");
	walk_free(&c);
	return rc;
}

/* ---- store.export -> {users, groups, groupmaps, tokens, retired, damaged} ---- */

struct export_ctx {
	struct walk_ctx walk;
	json_t *damaged;
};

static int export_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct export_ctx *c = vctx;
	uint64_t count;
	int rc;

	json_decref(c->damaged);
	c->damaged = NULL;
	rc = walk_reset(&c->walk, txn, err);
	c->walk.user_total =
	    pwb_user_count(txn, &count, &(struct pwb_error){0}) == 0 ? (int64_t)count : -1;
	if (rc == 0)
		rc = pwb_user_foreach(txn, add_user, &c->walk, err);
	if (rc == 0)
		rc = pwb_group_foreach(txn, add_group, &c->walk, err);
	if (rc == 0)
		rc = pwb_group_map_foreach(txn, add_map, &c->walk, err);
	if (rc == 0)
		rc = pwb_token_foreach(txn, add_token, &c->walk, err);
	if (rc == 0)
		rc = pwb_store_retired_foreach(txn, add_retired, &c->walk, err);
	if (rc == 0)
		rc = admin_damaged(txn, (int64_t)json_array_size(c->walk.users),
				   (int64_t)json_array_size(c->walk.groups), &c->damaged, err);
	if (rc < 0 && !err->msg[0])
		pwb_error_set(err, rc, "%s", pwb_strerror(rc));
	return rc;
}

int admin_store_export(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	struct export_ctx c = {0};
	int rc;

	rc = pwb_store_read(call->st, export_txn, &c, err);
	/* Retired ids travel too, so an imported store never hands out an id
	 * whose files may still exist. */
	if (rc == 0 &&
	    !(*result = json_pack("{s:O, s:O, s:O, s:O, s:o, s:O}", "users", c.walk.users, "groups",
				  c.walk.groups, "groupmaps", c.walk.maps, "tokens", c.walk.tokens,
				  "retired",
				  pwb_retired_to_json(c.walk.retired_uids, c.walk.retired_gids),
				  "damaged", c.damaged)))
		rc = pwb_error_set(err, -ENOMEM, "out of memory");
	walk_free(&c.walk);
	json_decref(c.damaged);
	/* One consistent export is one read transaction and one reply: a store
	 * larger than a reply is exported by pwbadm --offline. */
	if (rc == 0 && !call->in_process &&
	    json_dumpb(*result, NULL, 0, JSON_COMPACT) > ADMIN_REPLY_MAX) {
		json_decref(*result);
		*result = NULL;
		rc = pwb_error_set(err, PWB_EINVAL,
				   "the store is larger than one reply of pwbd (%u bytes): stop "
				   "pwbd and run pwbadm --offline export",
				   ADMIN_REPLY_MAX);
	}
	return rc;
}

/* ---- snapshot.rebuild -> {dir} ---- */

int admin_snapshot_rebuild(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	int rc = pwb_store_publish_all(call->st, err);

	if (rc == 0 && !(*result = json_pack("{s:s++}", "dir", call->cfg->db_dir, "/nss", "")))
		rc = pwb_error_set(err, -ENOMEM, "out of memory");
	return rc;
}
