/* pwbd's admin operations on users: user.list, user.show, user.add,
 * user.lock, user.unlock, user.delete, user.groups.set. Names arrive mapped
 * (pwbadm maps them as JIT and SCIM do) and are validated again here;
 * records leave in the codec's public form. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "admin.h"
#include "policy.h"
#include "provision.h"
#include "store.h"
#include "util.h"

/* ---- user.list {all, after, seen} -> {users: [...], next | damaged} ----
 * Paged (see admin.h); "seen" carries the readable records of the pages
 * before, so the last page can tell how many the store skipped. */

struct list_ctx {
	bool all;
	int64_t seen; /* records the walk returned, locked ones included */
	struct admin_page page;
	json_t *users, *damaged;
};

static int list_one(const struct pwb_user *u, void *vctx)
{
	struct list_ctx *c = vctx;

	if (admin_page_skip(&c->page, u->id))
		return 0;
	if (admin_page_full(&c->page))
		return 1;
	c->seen++;
	if (!c->all && !u->active) {
		snprintf(c->page.next, sizeof(c->page.next), "%s", u->id);
		return 0;
	}
	return admin_page_add(&c->page, c->users, u->id, pwb_user_to_json(u));
}

static int list_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct list_ctx *c = vctx;
	int64_t before = c->seen;
	int rc;

	/* The body may run again after a retry: start from nothing. */
	json_array_clear(c->users);
	json_decref(c->damaged);
	c->damaged = NULL;
	c->page.bytes = 0;
	c->page.full = false;
	c->page.next[0] = '\0';
	rc = pwb_user_foreach(txn, list_one, c, err);
	if (rc == -ENOMEM)
		return pwb_error_set(err, rc, "out of memory while listing users");
	if (rc == 1)
		rc = 0;
	if (rc == 0 && !c->page.full)
		rc = admin_damaged(txn, c->seen, -1, &c->damaged, err);
	if (rc < 0)
		c->seen = before;
	return rc;
}

int admin_user_list(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	json_t *args = call->req->args;
	struct list_ctx c = {.all = admin_arg_bool(args, "all"), .users = json_array()};
	int rc;

	if (!c.users)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	c.seen = json_integer_value(json_object_get(args, "seen"));
	rc = admin_page_init(&c.page, args, err);
	if (rc == 0)
		rc = pwb_store_read(call->st, list_txn, &c, err);
	if (rc == 0 && c.page.full)
		*result = json_pack("{s:O, s:s, s:I}", "users", c.users, "next", c.page.next,
				    "seen", (json_int_t)c.seen);
	else if (rc == 0)
		*result = json_pack("{s:O, s:O}", "users", c.users, "damaged", c.damaged);
	json_decref(c.users);
	json_decref(c.damaged);
	return rc < 0 ? rc : *result ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

/* ---- user.show {name} -> {user: {..., groups: [...]}} ---- */

struct show_ctx {
	const char *name;
	json_t *user;
};

static int show_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct show_ctx *c = vctx;
	struct pwb_user u = {0};
	json_t *groups = NULL;
	int rc;

	json_decref(c->user);
	c->user = NULL;
	rc = pwb_user_get_by_name(txn, c->name, &u, err);
	if (rc == 0)
		rc = admin_user_groups(txn, u.id, &groups, err);
	if (rc == 0) {
		c->user = pwb_user_to_json(&u);
		if (!c->user || json_object_set(c->user, "groups", groups) < 0)
			rc = pwb_error_set(err, -ENOMEM, "out of memory");
	}
	json_decref(groups);
	pwb_user_clear(&u);
	return rc;
}

int admin_user_show(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	char name[PWB_NAME_MAX + 1];
	struct show_ctx c = {name, NULL};
	int rc;

	if ((rc = admin_arg_name(call->req->args, "name", name, err)) < 0)
		return rc;
	rc = pwb_store_read(call->st, show_txn, &c, err);
	if (rc == 0 && !(*result = json_pack("{s:o}", "user", c.user)))
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if (rc < 0)
		json_decref(c.user);
	return rc;
}

/* ---- user.add {name, uid?, home?, groups?} -> {user} ---- */

struct add_ctx {
	const char *name;
	uint32_t uid;
	const char *home;
	json_t *groups;
	json_t *created;
};

/* The group names of args.groups as a C array (borrowed strings). */
static const char **names_array(json_t *groups)
{
	const char **names = calloc(json_array_size(groups) + 1, sizeof(*names));
	json_t *g;
	size_t i;

	if (names)
		json_array_foreach(groups, i, g) names[i] = json_string_value(g);
	return names;
}

/* pwbadm asks for these groups exactly: one it may not have (deny-listed,
 * another source's) fails the whole change, naming it. */
struct skip {
	char name[PWB_NAME_MAX + 1];
	char why[256];
};

static void note_skip(const char *name, const char *why, void *ctx)
{
	struct skip *s = ctx;

	if (!s->name[0]) {
		snprintf(s->name, sizeof(s->name), "%s", name);
		snprintf(s->why, sizeof(s->why), "%s", why);
	}
}

/* Makes the user's groups exactly groups (created when missing, as JIT
 * does), through the one provisioning step JIT and SCIM use. */
static int groups_set(struct pwb_txn *txn, const char *user_id, json_t *groups,
		      struct pwb_error *err)
{
	const char **names = names_array(groups);
	struct skip skip = {0};
	int rc;

	if (!names)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	rc = pwb_provision_user_groups_set(txn, user_id, names, json_array_size(groups), true,
					   note_skip, &skip, NULL, NULL, err);
	free(names);
	if (rc == 0 && skip.name[0])
		rc = pwb_error_set(err, PWB_EINVAL, "group %s: %s", skip.name, skip.why);
	return rc;
}

static int add_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct add_ctx *c = vctx;
	struct pwb_user u = {0};
	int rc;

	json_decref(c->created);
	c->created = NULL;
	strcpy(u.name, c->name);
	u.uid = c->uid;
	u.active = true;
	u.source = PWB_SOURCE_MANUAL;
	if (c->home && !(u.home = strdup(c->home)))
		return pwb_error_set(err, -ENOMEM, "out of memory");
	rc = pwb_user_create(txn, &u, err);
	if (rc == 0 && json_array_size(c->groups))
		rc = groups_set(txn, u.id, c->groups, err);
	if (rc == 0 && !(c->created = pwb_user_to_json(&u)))
		rc = pwb_error_set(err, -ENOMEM, "out of memory");
	pwb_user_clear(&u);
	return rc;
}

/* args.groups: an array of valid names (or absent). */
static int groups_arg(json_t *args, json_t **out, struct pwb_error *err)
{
	json_t *groups = json_object_get(args, "groups"), *g;
	size_t i;

	*out = groups;
	if (!groups)
		return 0;
	if (!json_is_array(groups))
		return pwb_error_set(err, PWB_EINVAL, "argument groups: not a list of names");
	json_array_foreach(groups, i, g)
	{
		if (!pwb_names_is_valid(json_string_value(g) ?: ""))
			return pwb_error_set(err, PWB_EINVAL,
					     "argument groups: item %zu is not a valid name",
					     i + 1);
	}
	return 0;
}

int admin_user_add(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	json_t *args = call->req->args, *uid = json_object_get(args, "uid");
	char name[PWB_NAME_MAX + 1];
	struct add_ctx c = {.name = name};
	int rc;

	if ((rc = admin_arg_name(args, "name", name, err)) < 0 ||
	    (rc = admin_arg_text(args, "home", &c.home, err)) < 0 ||
	    (rc = groups_arg(args, &c.groups, err)) < 0)
		return rc;
	if (uid && (!json_is_integer(uid) || json_integer_value(uid) < 1 ||
		    json_integer_value(uid) >= (json_int_t)UINT32_MAX))
		return pwb_error_set(err, PWB_EINVAL, "argument uid: not a UID");
	c.uid = (uint32_t)json_integer_value(uid);
	if (c.home && (c.home[0] != '/' || strlen(c.home) >= PATH_MAX || strstr(c.home, "/../") ||
		       strstr(c.home, "/./") || pwb_policy_passwd_field("home", c.home, err) < 0))
		return pwb_error_set(err, PWB_EINVAL,
				     "home must be an absolute, normalised path without ':' or "
				     "control characters");
	rc = pwb_store_write(call->st, add_txn, &c, err);
	if (rc == 0 && !(*result = json_pack("{s:o}", "user", c.created)))
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if (rc < 0)
		json_decref(c.created);
	return rc;
}

/* ---- user.lock, user.unlock {name} -> {changed} ---- */

struct state_ctx {
	const char *name;
	bool active;
	bool unchanged;
};

static int state_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct state_ctx *c = vctx;
	struct pwb_user u = {0};
	int rc;

	c->unchanged = false;
	rc = pwb_user_get_by_name(txn, c->name, &u, err);
	if (rc == 0 && u.active == c->active)
		c->unchanged = true;
	else if (rc == 0) {
		u.active = c->active;
		rc = pwb_user_update(txn, &u, err);
	}
	pwb_user_clear(&u);
	return rc;
}

static int set_state(struct pwbd_call *call, bool active, json_t **result, struct pwb_error *err)
{
	char name[PWB_NAME_MAX + 1];
	struct state_ctx c = {name, active, false};
	int rc;

	if ((rc = admin_arg_name(call->req->args, "name", name, err)) < 0)
		return rc;
	rc = pwb_store_write(call->st, state_txn, &c, err);
	if (rc == 0 && !(*result = json_pack("{s:b}", "changed", !c.unchanged)))
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return rc;
}

int admin_user_lock(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	return set_state(call, false, result, err);
}

int admin_user_unlock(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	return set_state(call, true, result, err);
}

/* ---- user.delete {name | id} -> {id, uid, home, damaged} ---- */

struct delete_ctx {
	const char *name; /* a user name, or the id of a damaged record */
	bool by_id;
	bool damaged; /* the record could not be read: removed by its id */
	struct pwb_user deleted;
};

static int delete_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct delete_ctx *c = vctx;
	int rc;

	pwb_user_clear(&c->deleted);
	c->damaged = false;
	rc = c->by_id ? pwb_user_get(txn, c->name, &c->deleted, err)
		      : pwb_user_get_by_name(txn, c->name, &c->deleted, err);
	/* The store still knows a damaged record's id: that is enough. */
	if (rc == PWB_EDAMAGED && c->deleted.id[0]) {
		c->damaged = true;
		memset(err, 0, sizeof(*err));
		rc = 0;
	}
	if (rc == 0)
		rc = pwb_user_delete(txn, c->deleted.id, err);
	return rc;
}

int admin_user_delete(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	json_t *args = call->req->args;
	const char *id = json_string_value(json_object_get(args, "id"));
	char name[PWB_NAME_MAX + 1];
	struct delete_ctx c = {0};
	int rc;

	if (id) {
		if (!pwb_uuid_is_valid(id))
			return pwb_error_set(err, PWB_EINVAL, "argument id: not a record id");
		c.name = id;
		c.by_id = true;
	} else if ((rc = admin_arg_name(args, "name", name, err)) < 0) {
		return rc;
	} else {
		c.name = name;
	}
	rc = pwb_store_write(call->st, delete_txn, &c, err);
	if (rc == 0 &&
	    !(*result = json_pack("{s:s, s:I, s:s, s:b}", "id", c.deleted.id, "uid",
				  (json_int_t)c.deleted.uid, "home",
				  c.deleted.home ? c.deleted.home : "", "damaged", c.damaged)))
		rc = pwb_error_set(err, -ENOMEM, "out of memory");
	pwb_user_clear(&c.deleted);
	return rc;
}

/* ---- user.groups.set {name, groups} -> {count} ---- */

struct set_groups_ctx {
	const char *name;
	json_t *groups;
};

static int set_groups_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct set_groups_ctx *c = vctx;
	struct pwb_user u = {0};
	int rc;

	rc = pwb_user_get_by_name(txn, c->name, &u, err);
	if (rc == PWB_ENOTFOUND)
		pwb_error_set(err, rc, "no user named %s", c->name);
	if (rc == 0)
		rc = groups_set(txn, u.id, c->groups, err);
	pwb_user_clear(&u);
	return rc;
}

int admin_user_groups_set(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	char name[PWB_NAME_MAX + 1];
	struct set_groups_ctx c = {.name = name};
	int rc;

	if ((rc = admin_arg_name(call->req->args, "name", name, err)) < 0 ||
	    (rc = groups_arg(call->req->args, &c.groups, err)) < 0)
		return rc;
	rc = pwb_store_write(call->st, set_groups_txn, &c, err);
	if (rc == 0 &&
	    !(*result = json_pack("{s:I}", "count", (json_int_t)json_array_size(c.groups))))
		rc = pwb_error_set(err, -ENOMEM, "out of memory");
	return rc;
}
