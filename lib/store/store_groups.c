/* Groups and memberships in the store. Membership is kept twice (group ->
 * users, user -> groups, sorted duplicates) so that group lines and
 * initgroups are both index lookups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "log.h"
#include "policy.h"
#include "other_sources.h"
#include "internal/store_internal.h"
#include "store.h"
#include "util.h"

#define TEXT_FIELD_MAX 1024

/* Logs a change of group g (op "create", "update", "delete"): old, set
 * when its keys moved (rename, new gid, delete), is tombstoned by the
 * publisher; what is PWB_CH_ALL (a group re-renders whole) or 0 when NSS
 * shows nothing of it. changed names the attributes (may be NULL). */
static int log_group(struct pwb_txn *txn, const char *op, const struct pwb_group *g,
		     const struct pwb_group *old, unsigned what, json_t *changed,
		     struct pwb_error *err)
{
	struct pwb_change_entry change;

	pwb_change_init(&change, 'g', op, g->id, strcmp(op, "delete") == 0 ? "" : g->name, what);
	change.changed = changed;
	if (old) {
		memcpy(change.old_name, old->name, sizeof(change.old_name));
		change.old_num = old->gid;
	}
	return pwb_change_append(txn, &change, err);
}

/* A membership or a group's gid changed: the user's initgroups list. */
static int log_user(struct pwb_txn *txn, const char *user_id, const char *attr,
		    struct pwb_error *err)
{
	struct pwb_change_entry change;

	pwb_change_init(&change, 'u', "member", user_id, "", PWB_CH_INITGROUPS);
	if (pwb_change_note(&change, attr) < 0)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return pwb_change_append(txn, &change, err);
}

/* Names the attributes an update changed (never their values). */
static json_t *group_changes(const struct pwb_group *a, const struct pwb_group *b)
{
	const struct {
		const char *name;
		bool differs;
	} attrs[] = {
	    {"name", strcmp(a->name, b->name) != 0},
	    {"displayName", pwb_str_differs(a->display_name, b->display_name)},
	    {"externalId", pwb_str_differs(a->external_id, b->external_id)},
	    {"gid", a->gid != b->gid},
	    {"attrs", !json_equal(a->attrs, b->attrs) && (a->attrs || b->attrs)},
	};
	json_t *list = json_array();
	size_t i;

	for (i = 0; list && i < PWB_ARRAY_SIZE(attrs); i++)
		if (attrs[i].differs &&
		    json_array_append_new(list, json_string(attrs[i].name)) < 0) {
			json_decref(list);
			return NULL;
		}
	return list;
}

static int check_fields(const struct pwb_group *g, struct pwb_error *err)
{
	if (!pwb_names_is_valid(g->name))
		return pwb_error_set(err, PWB_EINVAL, "invalid group name");
	if (g->display_name && (!*g->display_name || strlen(g->display_name) >= TEXT_FIELD_MAX))
		return pwb_error_set(err, PWB_EINVAL,
				     "displayName of group %s is empty or too long", g->name);
	if (g->external_id && (!*g->external_id || strlen(g->external_id) >= TEXT_FIELD_MAX))
		return pwb_error_set(err, PWB_EINVAL, "externalId of group %s is empty or too long",
				     g->name);
	return pwb_attrs_check(g->attrs, g->name, err);
}

/* A name the deny list holds (admin, docker, ...) or a local source owns
 * is never a pwb group's: sudoers and root-equivalent groups go by name. */
static int check_name_allowed(struct pwb_txn *txn, const char *name, struct pwb_error *err)
{
	int r = pwb_policy_group_name(txn->st->cfg, name, err);

	if (r < 0)
		return r;
	r = pwb_other_source_group(name, err);
	if (r < 0)
		return r;
	if (r > 0)
		return pwb_error_set(err, PWB_ELOCAL,
				     "'%s' is a local group (in /etc/group or another NSS source)",
				     name);
	return 0;
}

/* Two display names that give one Linux name ("Data Scientists",
 * "data_scientists") are never merged: the second is refused, naming the
 * group that holds the name. */
static int name_taken(struct pwb_txn *txn, const char *name, const char *owner,
		      struct pwb_error *err)
{
	struct pwb_group o = {0};
	char shown[PWB_GROUP_DISPLAY_MAX + 8] = "";
	int r = pwb_group_get(txn, owner, &o, err);

	if (r < 0 && r != PWB_EDAMAGED)
		return r;
	pwb_names_escape(o.name[0] ? pwb_group_display(&o) : name, shown, sizeof(shown));
	pwb_group_clear(&o);
	return pwb_error_set(err, PWB_EEXIST,
			     "group name '%s' is already taken by group \"%s\" (id %s)", name,
			     shown, owner);
}

/* A name that pwbadm map-group reserved goes only to a group of the mapped
 * display name. */
static int check_reserved(struct pwb_txn *txn, const struct pwb_group *g, struct pwb_error *err)
{
	struct pwb_group_map m = {0};
	char shown[PWB_GROUP_DISPLAY_MAX + 8];
	int r = pwb_group_map_get_by_name(txn, g->name, &m, err);

	if (r == PWB_ENOTFOUND) {
		memset(err, 0, sizeof(*err));
		return 0;
	}
	if (r == 0 && !pwb_group_display_is(g, m.display_name)) {
		pwb_names_escape(m.display_name, shown, sizeof(shown));
		r = pwb_error_set(err, PWB_EEXIST,
				  "group name '%s' is reserved for group \"%s\" (pwbadm map-group)",
				  g->name, shown);
	}
	pwb_group_map_clear(&m);
	return r;
}

static int check_unique(struct pwb_txn *txn, const struct pwb_group *g, const char *self,
			struct pwb_error *err)
{
	_cleanup_free_ char *owner = NULL;
	struct pwb_user u = {0};
	int r;

	r = pwb_kv_get(txn, DBI_GROUP_NAME, g->name, strlen(g->name), &owner, NULL, false, err);
	if (r == 0 && (!self || strcmp(owner, self) != 0))
		return name_taken(txn, g->name, owner, err);
	if (r < 0 && r != PWB_ENOTFOUND)
		return r;
	free(owner);
	owner = NULL;
	if (g->external_id) {
		r = pwb_kv_get(txn, DBI_GROUP_EXT, g->external_id, strlen(g->external_id), &owner,
			       NULL, false, err);
		if (r == 0 && (!self || strcmp(owner, self) != 0))
			return pwb_error_set(err, PWB_EEXIST,
					     "externalId of group '%s' is already taken", g->name);
		if (r < 0 && r != PWB_ENOTFOUND)
			return r;
	}
	/* A user's private group carries the user's name. */
	r = pwb_user_get_by_name(txn, g->name, &u, err);
	if (r == 0) {
		bool private_group = u.private_group;

		pwb_user_clear(&u);
		if (private_group)
			return pwb_error_set(
			    err, PWB_EEXIST,
			    "group name '%s' is taken by that user's private group", g->name);
	} else if (r != PWB_ENOTFOUND) {
		return r;
	}
	return 0;
}

static int put_all(struct pwb_txn *txn, const struct pwb_group *g, struct pwb_error *err)
{
	_cleanup_free_ char *text = pwb_group_encode(g);
	unsigned char gid[4];
	int r;

	if (!text)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	pwb_be32(g->gid, gid);
	if ((r = pwb_kv_put(txn, DBI_GROUPS, g->id, PWB_ID_LEN, text, strlen(text), err)) < 0 ||
	    (r = pwb_kv_put(txn, DBI_GROUP_NAME, g->name, strlen(g->name), g->id, PWB_ID_LEN,
			    err)) < 0 ||
	    (r = pwb_kv_put(txn, DBI_GROUP_GID, gid, sizeof(gid), g->id, PWB_ID_LEN, err)) < 0)
		return r;
	if (g->external_id)
		return pwb_kv_put(txn, DBI_GROUP_EXT, g->external_id, strlen(g->external_id), g->id,
				  PWB_ID_LEN, err);
	return 0;
}

static int del_indexes(struct pwb_txn *txn, const struct pwb_group *g, struct pwb_error *err)
{
	unsigned char gid[4];
	int r;

	pwb_be32(g->gid, gid);
	if ((r = pwb_kv_del(txn, DBI_GROUP_NAME, g->name, strlen(g->name), err)) < 0 ||
	    (r = pwb_kv_del(txn, DBI_GROUP_GID, gid, sizeof(gid), err)) < 0)
		return r;
	if (g->external_id)
		return pwb_kv_del(txn, DBI_GROUP_EXT, g->external_id, strlen(g->external_id), err);
	return 0;
}

int pwb_group_get(struct pwb_txn *txn, const char *id, struct pwb_group *out, struct pwb_error *err)
{
	_cleanup_free_ char *text = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (!id || strlen(id) != PWB_ID_LEN)
		return PWB_ENOTFOUND;
	r = pwb_kv_get(txn, DBI_GROUPS, id, PWB_ID_LEN, &text, NULL, txn->write, err);
	if (r < 0)
		return r;
	if (pwb_group_decode(id, text, out) < 0) {
		memcpy(out->id, id, PWB_ID_LEN + 1);
		return pwb_error_set(err, PWB_EDAMAGED,
				     "group %s: damaged record (deleting the group removes it)",
				     id);
	}
	return 0;
}

static int get_by_index(struct pwb_txn *txn, enum pwb_dbi idx, const void *key, size_t klen,
			struct pwb_group *out, struct pwb_error *err)
{
	_cleanup_free_ char *id = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = pwb_kv_get(txn, idx, key, klen, &id, NULL, false, err);
	if (r < 0)
		return r;
	return pwb_group_get(txn, id, out, err);
}

int pwb_group_get_by_name(struct pwb_txn *txn, const char *name, struct pwb_group *out,
			  struct pwb_error *err)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (!pwb_names_is_valid(name))
		return PWB_ENOTFOUND;
	r = get_by_index(txn, DBI_GROUP_NAME, name, strlen(name), out, err);
	if (r == PWB_EDAMAGED)
		snprintf(out->name, sizeof(out->name), "%s", name);
	return r;
}

int pwb_group_get_by_gid(struct pwb_txn *txn, uint32_t gid, struct pwb_group *out,
			 struct pwb_error *err)
{
	unsigned char key[4];

	pwb_be32(gid, key);
	return get_by_index(txn, DBI_GROUP_GID, key, sizeof(key), out, err);
}

int pwb_group_get_by_external_id(struct pwb_txn *txn, const char *external_id,
				 struct pwb_group *out, struct pwb_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!external_id || !*external_id)
		return PWB_ENOTFOUND;
	return get_by_index(txn, DBI_GROUP_EXT, external_id, strlen(external_id), out, err);
}

int pwb_group_create(struct pwb_txn *txn, struct pwb_group *g, struct pwb_error *err)
{
	int r;

	r = check_fields(g, err);
	if (r < 0)
		return r;
	if (g->id[0] == '\0') {
		if (pwb_uuid_generate(g->id) < 0)
			return pwb_error_set(err, -EIO, "no randomness for a new id");
	} else if (!pwb_uuid_is_valid(g->id)) {
		return pwb_error_set(err, PWB_EINVAL, "id of group '%s' is not a UUID", g->name);
	}
	if (pwb_kv_exists(txn, DBI_GROUPS, g->id, PWB_ID_LEN))
		return pwb_error_set(err, PWB_EEXIST, "group id %s is already taken", g->id);
	r = check_unique(txn, g, NULL, err);
	if (r == 0)
		r = check_reserved(txn, g, err);
	if (r < 0)
		return r;
	r = check_name_allowed(txn, g->name, err);
	if (r < 0)
		return r;
	r = g->gid == 0 ? pwb_ids_alloc_gid(txn, &g->gid, err)
			: pwb_ids_check_gid(txn, g->gid, err);
	if (r < 0)
		return r;
	g->created = g->modified = pwb_now();
	g->version = 1;
	r = put_all(txn, g, err);
	if (r < 0)
		return r;
	return log_group(txn, "create", g, NULL, PWB_CH_ALL, NULL, err);
}

struct member_log_ctx {
	struct pwb_txn *txn;
	struct pwb_error *err;
	const char *group_id; /* set: also drop the membership */
};

static int log_member(const char *user_id, void *ctx)
{
	struct member_log_ctx *c = ctx;
	int r;

	if (c->group_id) {
		r = pwb_kv_dup_del(c->txn, DBI_MEMBER_OF, user_id, PWB_ID_LEN, c->group_id,
				   PWB_ID_LEN, c->err);
		if (r < 0)
			return r;
	}
	return log_user(c->txn, user_id, c->group_id ? "groups" : "gid", c->err);
}

int pwb_group_update(struct pwb_txn *txn, struct pwb_group *g, struct pwb_error *err)
{
	struct pwb_group old = {0};
	struct member_log_ctx c = {txn, err, NULL};
	json_t *changed;
	bool moved;
	int r;

	r = pwb_group_get(txn, g->id, &old, err);
	if (r == 0)
		r = check_fields(g, err);
	if (r == 0)
		r = check_unique(txn, g, g->id, err);
	if (r < 0)
		goto out;
	/* An unchanged name is not checked again (pwbadm check reports it). */
	if (strcmp(old.name, g->name) != 0 && ((r = check_name_allowed(txn, g->name, err)) < 0 ||
					       (r = check_reserved(txn, g, err)) < 0))
		goto out;
	if (g->gid == 0)
		g->gid = old.gid;
	if (g->gid != old.gid) {
		r = pwb_ids_check_gid(txn, g->gid, err);
		if (r == 0)
			r = pwb_ids_retire(txn, 'g', old.gid, err);
		if (r < 0)
			goto out;
	}
	g->created = old.created;
	g->modified = pwb_now();
	g->version = old.version + 1;
	if ((r = del_indexes(txn, &old, err)) < 0 || (r = put_all(txn, g, err)) < 0)
		goto out;
	moved = strcmp(old.name, g->name) != 0 || old.gid != g->gid;
	changed = group_changes(&old, g);
	if (!changed) {
		r = pwb_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* Every update is logged (the audit trail); NSS shows only name and gid. */
	r = log_group(txn, "update", g, moved ? &old : NULL, moved ? PWB_CH_ALL : 0, changed, err);
	/* Members' initgroups lists carry the gid. */
	if (r == 0 && old.gid != g->gid)
		r = pwb_kv_dup_foreach(txn, DBI_MEMBERS, g->id, PWB_ID_LEN, log_member, &c, err);
out:
	pwb_group_clear(&old);
	return r;
}

struct damaged_keys {
	char name[PWB_NAME_MAX + 1];
	uint32_t gid;
};

static void note_damaged_key(enum pwb_dbi dbi, const void *key, size_t klen, void *ctx)
{
	struct damaged_keys *k = ctx;
	const unsigned char *p = key;

	if (dbi == DBI_GROUP_NAME && klen <= PWB_NAME_MAX) {
		memcpy(k->name, key, klen);
		k->name[klen] = '\0';
	} else if (dbi == DBI_GROUP_GID && klen == 4) {
		k->gid = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	}
}

/* Removes a group whose record cannot be decoded, through its index
 * entries; its gid is retired as for any deleted group. */
static int delete_damaged(struct pwb_txn *txn, const char *id, struct pwb_error *err)
{
	static const enum pwb_dbi indexes[] = {DBI_GROUP_NAME, DBI_GROUP_GID, DBI_GROUP_EXT};
	struct member_log_ctx c = {txn, err, id};
	struct damaged_keys k = {0};
	struct pwb_group old = {0};
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < PWB_ARRAY_SIZE(indexes); i++)
		r = pwb_kv_del_by_value(txn, indexes[i], id, PWB_ID_LEN, note_damaged_key, &k, err);
	if (r == 0)
		r = pwb_kv_dup_foreach(txn, DBI_MEMBERS, id, PWB_ID_LEN, log_member, &c, err);
	if (r == 0)
		r = pwb_kv_del(txn, DBI_MEMBERS, id, PWB_ID_LEN, err);
	if (r == 0)
		r = pwb_kv_del(txn, DBI_GROUPS, id, PWB_ID_LEN, err);
	if (r == 0 && k.gid)
		r = pwb_ids_retire(txn, 'g', k.gid, err);
	if (r < 0)
		return r;
	pwb_log(LOG_WARNING, "pwb store: removed the damaged record of group %s (%s)", id,
		k.name[0] ? k.name : "name unknown");
	memcpy(old.id, id, sizeof(old.id));
	memcpy(old.name, k.name, sizeof(old.name));
	old.gid = k.gid;
	return log_group(txn, "delete", &old, k.name[0] ? &old : NULL, PWB_CH_ALL, NULL, err);
}

int pwb_group_delete(struct pwb_txn *txn, const char *id, struct pwb_error *err)
{
	struct pwb_group old = {0};
	struct member_log_ctx c = {txn, err, id};
	int r;

	r = pwb_group_get(txn, id, &old, err);
	if (r == PWB_EDAMAGED)
		return delete_damaged(txn, old.id, err);
	if (r == 0)
		r = pwb_kv_dup_foreach(txn, DBI_MEMBERS, old.id, PWB_ID_LEN, log_member, &c, err);
	if (r == 0)
		r = pwb_kv_del(txn, DBI_MEMBERS, old.id, PWB_ID_LEN, err);
	if (r == 0)
		r = del_indexes(txn, &old, err);
	if (r == 0)
		r = pwb_kv_del(txn, DBI_GROUPS, old.id, PWB_ID_LEN, err);
	if (r == 0)
		r = pwb_ids_retire(txn, 'g', old.gid, err);
	if (r == 0)
		r = log_group(txn, "delete", &old, &old, PWB_CH_ALL, NULL, err);
	pwb_group_clear(&old);
	return r;
}

struct group_walk {
	pwb_group_cb cb;
	void *ctx;
};

static int group_walk_one(char kind, const char *id, const void *record, void *ctx)
{
	struct group_walk *w = ctx;

	(void)kind;
	if (!record) {
		pwb_log(LOG_ERR, "pwb store: group %s: damaged record skipped", id);
		return 0;
	}
	return w->cb(record, w->ctx);
}

int pwb_group_foreach(struct pwb_txn *txn, pwb_group_cb cb, void *ctx, struct pwb_error *err)
{
	struct group_walk w = {cb, ctx};

	return pwb_records_walk(txn, 'g', group_walk_one, &w, err);
}

struct group_audit {
	struct pwb_txn *txn;
	pwb_audit_cb cb;
	void *ctx;
};

static int audit_group(const struct pwb_group *g, void *ctx)
{
	struct group_audit *a = ctx;
	struct pwb_error e = {0};
	int r;

	if (pwb_policy_group_name(a->txn->st->cfg, g->name, &e) < 0 &&
	    (r = a->cb('g', g->id, g->name, e.msg, a->ctx)) != 0)
		return r;
	memset(&e, 0, sizeof(e));
	if (pwb_attrs_check(g->attrs, g->name, &e) < 0)
		return a->cb('g', g->id, g->name, e.msg, a->ctx);
	return 0;
}

int pwb_group_audit_one(struct pwb_txn *txn, const struct pwb_group *g, pwb_audit_cb cb, void *ctx)
{
	struct group_audit a = {txn, cb, ctx};

	return audit_group(g, &a);
}

int pwb_group_audit(struct pwb_txn *txn, pwb_audit_cb cb, void *ctx, struct pwb_error *err)
{
	struct group_audit a = {txn, cb, ctx};
	int r = pwb_records_audit_damaged(txn, 'g', cb, ctx, err);

	return r ? r : pwb_group_foreach(txn, audit_group, &a, err);
}

int pwb_group_count(struct pwb_txn *txn, uint64_t *count, struct pwb_error *err)
{
	return pwb_kv_count(txn, DBI_GROUPS, count, err);
}

/* ---- membership ---- */

static int check_pair(struct pwb_txn *txn, const char *group_id, const char *user_id,
		      struct pwb_error *err)
{
	if (!group_id || strlen(group_id) != PWB_ID_LEN ||
	    !pwb_kv_exists(txn, DBI_GROUPS, group_id, PWB_ID_LEN))
		return pwb_error_set(err, PWB_ENOTFOUND, "no group with id %.40s",
				     group_id ? group_id : "");
	if (!user_id || strlen(user_id) != PWB_ID_LEN ||
	    !pwb_kv_exists(txn, DBI_USERS, user_id, PWB_ID_LEN))
		return pwb_error_set(err, PWB_ENOTFOUND, "no user with id %.40s",
				     user_id ? user_id : "");
	return 0;
}

bool pwb_member_is(struct pwb_txn *txn, const char *group_id, const char *user_id)
{
	if (!group_id || !user_id || strlen(group_id) != PWB_ID_LEN ||
	    strlen(user_id) != PWB_ID_LEN)
		return false;
	return pwb_kv_dup_exists(txn, DBI_MEMBERS, group_id, PWB_ID_LEN, user_id, PWB_ID_LEN);
}

/* One membership change: the group's line (op "member", changed
 * ["members"]) and the user's initgroups (changed ["groups"]). */
static int log_pair(struct pwb_txn *txn, const char *group_id, const char *user_id,
		    struct pwb_error *err)
{
	struct pwb_change_entry change;
	int r;

	pwb_change_init(&change, 'g', "member", group_id, "", PWB_CH_ALL);
	if (pwb_change_note(&change, "members") < 0)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	r = pwb_change_append(txn, &change, err);
	return r < 0 ? r : log_user(txn, user_id, "groups", err);
}

int pwb_member_add(struct pwb_txn *txn, const char *group_id, const char *user_id,
		   struct pwb_error *err)
{
	int r = check_pair(txn, group_id, user_id, err);

	if (r < 0)
		return r;
	if (pwb_member_is(txn, group_id, user_id))
		return 0;
	if ((r = pwb_kv_put(txn, DBI_MEMBERS, group_id, PWB_ID_LEN, user_id, PWB_ID_LEN, err)) <
		0 ||
	    (r = pwb_kv_put(txn, DBI_MEMBER_OF, user_id, PWB_ID_LEN, group_id, PWB_ID_LEN, err)) <
		0)
		return r;
	return log_pair(txn, group_id, user_id, err);
}

int pwb_member_remove(struct pwb_txn *txn, const char *group_id, const char *user_id,
		      struct pwb_error *err)
{
	int r = check_pair(txn, group_id, user_id, err);

	if (r < 0)
		return r;
	if (!pwb_member_is(txn, group_id, user_id))
		return 0;
	if ((r = pwb_kv_dup_del(txn, DBI_MEMBERS, group_id, PWB_ID_LEN, user_id, PWB_ID_LEN, err)) <
		0 ||
	    (r = pwb_kv_dup_del(txn, DBI_MEMBER_OF, user_id, PWB_ID_LEN, group_id, PWB_ID_LEN,
				err)) < 0)
		return r;
	return log_pair(txn, group_id, user_id, err);
}

int pwb_member_foreach_user(struct pwb_txn *txn, const char *group_id, pwb_id_cb cb, void *ctx,
			    struct pwb_error *err)
{
	if (!group_id || strlen(group_id) != PWB_ID_LEN)
		return PWB_ENOTFOUND;
	return pwb_kv_dup_foreach(txn, DBI_MEMBERS, group_id, PWB_ID_LEN, cb, ctx, err);
}

int pwb_member_foreach_group(struct pwb_txn *txn, const char *user_id, pwb_id_cb cb, void *ctx,
			     struct pwb_error *err)
{
	if (!user_id || strlen(user_id) != PWB_ID_LEN)
		return PWB_ENOTFOUND;
	return pwb_kv_dup_foreach(txn, DBI_MEMBER_OF, user_id, PWB_ID_LEN, cb, ctx, err);
}
