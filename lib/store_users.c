/* Users in the store: create, read (by id, name, userName, uid,
 * externalId, bound issuer and subject), update, bind, delete, iterate. Secondary indexes are kept
 * by hand in the same transaction so that a conflict names the field at fault. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "store_internal.h"
#include "store_records.h"
#include "util.h"

#define TEXT_FIELD_MAX 1024

/* Lower-cased copy for the case-insensitive userName index. */
static char *fold_case(const char *s)
{
	char *out = strdup(s);
	char *p;

	for (p = out; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

static const char *user_name_of(const struct pwb_user *u)
{
	return u->user_name ? u->user_name : u->name;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* home and shell end up in passwd lines: absolute, no ':' or control. */
static int check_path_field(const char *what, const char *v, struct pwb_error *err)
{
	if (v[0] != '/' || strlen(v) >= TEXT_FIELD_MAX || strchr(v, ':') || has_control(v) ||
	    strstr(v, "/../") || (strlen(v) >= 3 && strcmp(v + strlen(v) - 3, "/..") == 0))
		return pwb_error_set(err, PWB_EINVAL,
				     "%s must be an absolute path without ':', '..' or control "
				     "characters",
				     what);
	return 0;
}

static int check_fields(struct pwb_user *u, struct pwb_error *err)
{
	const char *un = user_name_of(u);
	int r;

	if (!pwb_names_is_valid(u->name))
		return pwb_error_set(err, PWB_EINVAL, "invalid user name");
	if (!*un || strlen(un) >= TEXT_FIELD_MAX || has_control(un))
		return pwb_error_set(err, PWB_EINVAL,
				     "userName of %s is empty, too long or has "
				     "control characters",
				     u->name);
	if (u->external_id && (!*u->external_id || strlen(u->external_id) >= TEXT_FIELD_MAX))
		return pwb_error_set(err, PWB_EINVAL, "externalId of %s is empty or too long",
				     u->name);
	if (u->gecos && strlen(u->gecos) >= TEXT_FIELD_MAX)
		return pwb_error_set(err, PWB_EINVAL, "display name of %s is too long", u->name);
	if (u->email && strlen(u->email) >= TEXT_FIELD_MAX)
		return pwb_error_set(err, PWB_EINVAL, "email of %s is too long", u->name);
	if (u->home && (r = check_path_field("home directory", u->home, err)) < 0)
		return r;
	if (u->shell && (r = check_path_field("shell", u->shell, err)) < 0)
		return r;
	return 0;
}

static int fill_defaults(struct pwb_txn *txn, struct pwb_user *u, struct pwb_error *err)
{
	const struct pwb_config *cfg = txn->st->cfg;

	if (!u->home) {
		if (asprintf(&u->home, "%s/%s", cfg->homedir_path, u->name) < 0) {
			u->home = NULL;
			return pwb_error_set(err, -ENOMEM, "out of memory");
		}
	}
	if (!u->shell && !(u->shell = strdup(cfg->default_shell)))
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int get_by_index(struct pwb_txn *txn, enum pwb_dbi idx, const void *key, size_t klen,
			struct pwb_user *out, struct pwb_error *err)
{
	_cleanup_free_ char *id = NULL;
	int r;

	r = pwb_kv_get(txn, idx, key, klen, &id, NULL, false, err);
	if (r < 0)
		return r;
	return pwb_user_get(txn, id, out, err);
}

int pwb_user_get(struct pwb_txn *txn, const char *id, struct pwb_user *out, struct pwb_error *err)
{
	_cleanup_free_ char *text = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (!id || strlen(id) != PWB_ID_LEN)
		return PWB_ENOTFOUND;
	r = pwb_kv_get(txn, DBI_USERS, id, PWB_ID_LEN, &text, NULL, txn->write, err);
	if (r < 0)
		return r;
	if (pwb_user_decode(id, text, out) < 0)
		return pwb_error_set(err, PWB_ESTORE, "user %s: damaged record", id);
	return 0;
}

int pwb_user_get_by_name(struct pwb_txn *txn, const char *name, struct pwb_user *out,
			 struct pwb_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!pwb_names_is_valid(name))
		return PWB_ENOTFOUND;
	return get_by_index(txn, DBI_USER_NAME, name, strlen(name), out, err);
}

int pwb_user_get_by_user_name(struct pwb_txn *txn, const char *user_name, struct pwb_user *out,
			      struct pwb_error *err)
{
	_cleanup_free_ char *folded = NULL;

	memset(out, 0, sizeof(*out));
	if (!user_name || !*user_name)
		return PWB_ENOTFOUND;
	folded = fold_case(user_name);
	if (!folded)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return get_by_index(txn, DBI_USER_UNAME, folded, strlen(folded), out, err);
}

int pwb_user_get_by_uid(struct pwb_txn *txn, uint32_t uid, struct pwb_user *out,
			struct pwb_error *err)
{
	unsigned char key[4];

	memset(out, 0, sizeof(*out));
	pwb_be32(uid, key);
	return get_by_index(txn, DBI_USER_UID, key, sizeof(key), out, err);
}

int pwb_user_get_by_external_id(struct pwb_txn *txn, const char *external_id, struct pwb_user *out,
				struct pwb_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!external_id || !*external_id)
		return PWB_ENOTFOUND;
	return get_by_index(txn, DBI_USER_EXT, external_id, strlen(external_id), out, err);
}

static int put_record(struct pwb_txn *txn, const struct pwb_user *u, struct pwb_error *err)
{
	_cleanup_free_ char *text = pwb_user_encode(u);

	if (!text)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return pwb_kv_put(txn, DBI_USERS, u->id, PWB_ID_LEN, text, strlen(text), err);
}

static int put_indexes(struct pwb_txn *txn, const struct pwb_user *u, struct pwb_error *err)
{
	_cleanup_free_ char *folded = fold_case(user_name_of(u));
	unsigned char uid[4];
	int r;

	if (!folded)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	pwb_be32(u->uid, uid);
	if ((r = pwb_kv_put(txn, DBI_USER_NAME, u->name, strlen(u->name), u->id, PWB_ID_LEN, err)) <
		0 ||
	    (r = pwb_kv_put(txn, DBI_USER_UNAME, folded, strlen(folded), u->id, PWB_ID_LEN, err)) <
		0 ||
	    (r = pwb_kv_put(txn, DBI_USER_UID, uid, sizeof(uid), u->id, PWB_ID_LEN, err)) < 0)
		return r;
	if (u->external_id)
		return pwb_kv_put(txn, DBI_USER_EXT, u->external_id, strlen(u->external_id), u->id,
				  PWB_ID_LEN, err);
	return 0;
}

static int del_indexes(struct pwb_txn *txn, const struct pwb_user *u, struct pwb_error *err)
{
	_cleanup_free_ char *folded = fold_case(user_name_of(u));
	unsigned char uid[4];
	int r;

	if (!folded)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	pwb_be32(u->uid, uid);
	if ((r = pwb_kv_del(txn, DBI_USER_NAME, u->name, strlen(u->name), err)) < 0 ||
	    (r = pwb_kv_del(txn, DBI_USER_UNAME, folded, strlen(folded), err)) < 0 ||
	    (r = pwb_kv_del(txn, DBI_USER_UID, uid, sizeof(uid), err)) < 0)
		return r;
	if (u->external_id)
		return pwb_kv_del(txn, DBI_USER_EXT, u->external_id, strlen(u->external_id), err);
	return 0;
}

/* Refuses keys that belong to another record (self: the id being updated). */
static int check_unique(struct pwb_txn *txn, const struct pwb_user *u, const char *self,
			struct pwb_error *err)
{
	_cleanup_free_ char *folded = fold_case(user_name_of(u));
	_cleanup_free_ char *owner = NULL;
	int r;

	if (!folded)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	r = pwb_kv_get(txn, DBI_USER_NAME, u->name, strlen(u->name), &owner, NULL, false, err);
	if (r == 0 && (!self || strcmp(owner, self) != 0))
		return pwb_error_set(err, PWB_EEXIST, "user name '%s' is already taken", u->name);
	free(owner);
	owner = NULL;
	if (r < 0 && r != PWB_ENOTFOUND)
		return r;
	r = pwb_kv_get(txn, DBI_USER_UNAME, folded, strlen(folded), &owner, NULL, false, err);
	if (r == 0 && (!self || strcmp(owner, self) != 0))
		return pwb_error_set(err, PWB_EEXIST, "userName of '%s' is already taken", u->name);
	free(owner);
	owner = NULL;
	if (r < 0 && r != PWB_ENOTFOUND)
		return r;
	if (u->external_id) {
		r = pwb_kv_get(txn, DBI_USER_EXT, u->external_id, strlen(u->external_id), &owner,
			       NULL, false, err);
		if (r == 0 && (!self || strcmp(owner, self) != 0))
			return pwb_error_set(err, PWB_EEXIST, "externalId of '%s' is already taken",
					     u->name);
		if (r < 0 && r != PWB_ENOTFOUND)
			return r;
	}
	return 0;
}

/* A private group shares the user's name: no pwb or local group may own it. */
static int check_private_group_name(struct pwb_txn *txn, const char *name, struct pwb_error *err)
{
	if (pwb_kv_exists(txn, DBI_GROUP_NAME, name, strlen(name)))
		return pwb_error_set(err, PWB_EEXIST,
				     "a pwb group named '%s' exists, so user '%s' cannot have a "
				     "private group of that name",
				     name, name);
	if (pwb_ids_group_name_is_local(name))
		return pwb_error_set(err, PWB_ELOCAL, "'%s' is the name of a local group", name);
	return 0;
}

/* Decides the primary group: explicit gid (a pwb group, a free gid equal to
 * the uid = private group, or any other existing gid), or 0 = private. */
static int settle_gid(struct pwb_txn *txn, struct pwb_user *u, uint32_t old_private_gid,
		      struct pwb_error *err)
{
	unsigned char key[4];
	int r;

	if (u->gid == 0)
		u->gid = u->uid;
	pwb_be32(u->gid, key);
	if (pwb_kv_exists(txn, DBI_GROUP_GID, key, sizeof(key))) {
		u->private_group = false;
		return 0;
	}
	if (u->gid != u->uid) {
		u->private_group = false;
		if (pwb_id_reserved(u->gid))
			return pwb_error_set(err, PWB_EINVAL, "gid %u may not be used", u->gid);
		return 0;
	}
	u->private_group = true;
	if (u->gid == old_private_gid)
		return 0;
	r = pwb_ids_check_gid(txn, u->gid, err);
	if (r < 0)
		return r;
	return check_private_group_name(txn, u->name, err);
}

/* The DBI_USER_SUBJECT key of an identity: "issuer\nsubject" (neither
 * may hold a control character, so the split is unambiguous). */
static char *subject_key(const char *issuer, const char *subject)
{
	char *key = NULL;

	if (asprintf(&key, "%s\n%s", issuer, subject) < 0)
		return NULL;
	return key;
}

static int check_identity(const char *issuer, const char *subject, struct pwb_error *err)
{
	if (!issuer || !subject || !*issuer || !*subject || strlen(issuer) >= TEXT_FIELD_MAX ||
	    strlen(subject) >= TEXT_FIELD_MAX || has_control(issuer) || has_control(subject))
		return pwb_error_set(err, PWB_EINVAL,
				     "issuer and subject must both be set, shorter than %d bytes "
				     "and free of control characters",
				     TEXT_FIELD_MAX);
	return 0;
}

/* Claims (issuer, subject) for id: refuses a pair another user holds. */
static int put_subject(struct pwb_txn *txn, const char *id, const char *issuer, const char *subject,
		       struct pwb_error *err)
{
	_cleanup_free_ char *key = NULL, *owner = NULL;
	int r;

	r = check_identity(issuer, subject, err);
	if (r < 0)
		return r;
	key = subject_key(issuer, subject);
	if (!key)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	r = pwb_kv_get(txn, DBI_USER_SUBJECT, key, strlen(key), &owner, NULL, true, err);
	if (r == 0 && strcmp(owner, id) != 0)
		return pwb_error_set(err, PWB_EEXIST,
				     "this issuer and subject are already bound to another user");
	if (r < 0 && r != PWB_ENOTFOUND)
		return r;
	return pwb_kv_put(txn, DBI_USER_SUBJECT, key, strlen(key), id, PWB_ID_LEN, err);
}

static int del_subject(struct pwb_txn *txn, const struct pwb_user *u, struct pwb_error *err)
{
	_cleanup_free_ char *key = NULL;
	int r;

	if (!u->issuer || !u->subject)
		return 0;
	key = subject_key(u->issuer, u->subject);
	if (!key)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	r = pwb_kv_del(txn, DBI_USER_SUBJECT, key, strlen(key), err);
	return r == PWB_ENOTFOUND ? 0 : r;
}

static int log_user_groups(struct pwb_txn *txn, const char *user_id, struct pwb_error *err);

int pwb_user_create(struct pwb_txn *txn, struct pwb_user *u, struct pwb_error *err)
{
	struct pwb_change change = {.kind = 'u', .what = PWB_CH_ALL};
	int r;

	if (!txn->write)
		return pwb_error_set(err, PWB_ESTORE, "internal: create in a read transaction");
	r = check_fields(u, err);
	if (r < 0)
		return r;
	if (u->id[0] == '\0') {
		if (pwb_uuid_generate(u->id) < 0)
			return pwb_error_set(err, -EIO, "no randomness for a new id");
	} else if (!pwb_uuid_is_valid(u->id)) {
		return pwb_error_set(err, PWB_EINVAL, "id of '%s' is not a UUID", u->name);
	}
	if (pwb_kv_exists(txn, DBI_USERS, u->id, PWB_ID_LEN))
		return pwb_error_set(err, PWB_EEXIST, "user id %s is already taken", u->id);
	r = check_unique(txn, u, NULL, err);
	if (r < 0)
		return r;
	if (pwb_ids_user_name_is_local(u->name))
		return pwb_error_set(err, PWB_ELOCAL,
				     "'%s' is a local account (in /etc/passwd or another NSS "
				     "source)",
				     u->name);
	if (u->uid == 0)
		r = pwb_ids_alloc_uid(txn, &u->uid, err);
	else
		r = pwb_ids_check_uid(txn, u->uid, err);
	if (r < 0)
		return r;
	r = settle_gid(txn, u, 0, err);
	if (r < 0)
		return r;
	r = fill_defaults(txn, u, err);
	if (r < 0)
		return r;
	/* Created with an identity (JIT) it is bound now; without one (SCIM,
	 * pwbadm) the first sign-in binds it. */
	u->bind_on_login = !u->issuer && !u->subject;
	if (!u->bind_on_login && (r = put_subject(txn, u->id, u->issuer, u->subject, err)) < 0)
		return r;
	u->created = u->modified = pwb_now();
	u->version = 1;
	if ((r = put_record(txn, u, err)) < 0 || (r = put_indexes(txn, u, err)) < 0)
		return r;
	memcpy(change.id, u->id, sizeof(change.id));
	return pwb_change_log(txn, &change, err);
}

static bool str_differs(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

/* Which NSS keys of a user an update changes; keys_moved: the keys
 * themselves (name, uid, gid) changed, so the old ones must go. */
static unsigned nss_change(const struct pwb_user *a, const struct pwb_user *b, bool *keys_moved)
{
	unsigned what = 0;

	*keys_moved = strcmp(a->name, b->name) != 0 || a->uid != b->uid || a->gid != b->gid ||
		      a->private_group != b->private_group;
	if (*keys_moved)
		return PWB_CH_ALL;
	if (str_differs(a->gecos, b->gecos) || str_differs(a->home, b->home) ||
	    str_differs(a->shell, b->shell))
		what |= PWB_CH_PASSWD;
	if (a->active != b->active)
		what |= PWB_CH_SHADOW;
	return what;
}

int pwb_user_update(struct pwb_txn *txn, struct pwb_user *u, struct pwb_error *err)
{
	struct pwb_user old = {0};
	struct pwb_change change = {.kind = 'u'};
	bool keys_moved;
	int r;

	r = pwb_user_get(txn, u->id, &old, err);
	if (r < 0)
		goto out;
	r = check_fields(u, err);
	if (r == 0)
		r = check_unique(txn, u, u->id, err);
	if (r < 0)
		goto out;
	if (strcmp(old.name, u->name) != 0 && pwb_ids_user_name_is_local(u->name)) {
		r = pwb_error_set(err, PWB_ELOCAL, "'%s' is a local account", u->name);
		goto out;
	}
	if (u->uid == 0)
		u->uid = old.uid;
	if (u->uid != old.uid) {
		r = pwb_ids_check_uid(txn, u->uid, err);
		/* The old uid still owns files on disk: never hand it out again. */
		if (r == 0)
			r = pwb_ids_retire(txn, 'u', old.uid, err);
		if (r < 0)
			goto out;
	}
	r = settle_gid(txn, u, old.private_group ? old.gid : 0, err);
	if (r == 0 && old.private_group && (!u->private_group || u->gid != old.gid))
		r = pwb_ids_retire(txn, 'g', old.gid, err);
	if (r == 0 && u->private_group && old.private_group && strcmp(old.name, u->name) != 0)
		r = check_private_group_name(txn, u->name, err);
	if (r == 0)
		r = fill_defaults(txn, u, err);
	if (r < 0)
		goto out;
	/* Only pwb_user_bind changes who the account belongs to. */
	free(u->issuer);
	free(u->subject);
	u->issuer = old.issuer;
	u->subject = old.subject;
	old.issuer = old.subject = NULL;
	u->bind_on_login = old.bind_on_login;
	u->created = old.created;
	u->modified = pwb_now();
	u->version = old.version + 1;
	if ((r = del_indexes(txn, &old, err)) < 0 || (r = put_record(txn, u, err)) < 0 ||
	    (r = put_indexes(txn, u, err)) < 0)
		goto out;
	change.what = (unsigned char)nss_change(&old, u, &keys_moved);
	if (change.what) {
		memcpy(change.id, u->id, sizeof(change.id));
		if (keys_moved) {
			memcpy(change.old_name, old.name, sizeof(change.old_name));
			change.old_num = old.uid;
			change.old_gid = old.gid;
			change.old_private = old.private_group;
		}
		r = pwb_change_log(txn, &change, err);
		/* Group lines list member names. */
		if (r == 0 && strcmp(old.name, u->name) != 0)
			r = log_user_groups(txn, u->id, err);
	}
out:
	pwb_user_clear(&old);
	return r;
}

int pwb_user_touch_login(struct pwb_txn *txn, const char *id, int64_t when, struct pwb_error *err)
{
	struct pwb_user u = {0};
	int r;

	r = pwb_user_get(txn, id, &u, err);
	if (r == 0) {
		u.last_login = when;
		r = put_record(txn, &u, err);
	}
	pwb_user_clear(&u);
	return r;
}

int pwb_user_bind(struct pwb_txn *txn, const char *id, const char *issuer, const char *subject,
		  struct pwb_error *err)
{
	struct pwb_user u = {0};
	int r;

	if (!txn->write)
		return pwb_error_set(err, PWB_ESTORE, "internal: bind in a read transaction");
	if ((issuer == NULL) != (subject == NULL))
		return pwb_error_set(err, PWB_EINVAL,
				     "issuer and subject are set or unset together");
	r = pwb_user_get(txn, id, &u, err);
	if (r < 0)
		goto out;
	if (issuer && (r = put_subject(txn, u.id, issuer, subject, err)) < 0)
		goto out;
	/* The old pair goes unless it is the one just put. */
	if (!issuer || !u.issuer || !u.subject || strcmp(u.issuer, issuer) != 0 ||
	    strcmp(u.subject, subject) != 0)
		r = del_subject(txn, &u, err);
	if (r < 0)
		goto out;
	free(u.issuer);
	free(u.subject);
	u.issuer = issuer ? strdup(issuer) : NULL;
	u.subject = subject ? strdup(subject) : NULL;
	if (issuer && (!u.issuer || !u.subject)) {
		r = pwb_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	u.bind_on_login = !issuer;
	r = put_record(txn, &u, err);
out:
	pwb_user_clear(&u);
	return r;
}

int pwb_user_get_by_subject(struct pwb_txn *txn, const char *issuer, const char *subject,
			    struct pwb_user *out, struct pwb_error *err)
{
	_cleanup_free_ char *key = NULL;

	memset(out, 0, sizeof(*out));
	if (!issuer || !subject || has_control(issuer) || has_control(subject))
		return PWB_ENOTFOUND;
	key = subject_key(issuer, subject);
	if (!key)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return get_by_index(txn, DBI_USER_SUBJECT, key, strlen(key), out, err);
}

struct group_log_ctx {
	struct pwb_txn *txn;
	struct pwb_error *err;
	const char *user_id; /* set: also drop the membership */
};

static int log_one_group(const char *group_id, void *ctx)
{
	struct group_log_ctx *c = ctx;
	struct pwb_change change = {.kind = 'g', .what = PWB_CH_ALL};

	memcpy(change.id, group_id, sizeof(change.id));
	if (c->user_id) {
		int r = pwb_kv_dup_del(c->txn, DBI_MEMBERS, group_id, PWB_ID_LEN, c->user_id,
				       PWB_ID_LEN, c->err);
		if (r < 0)
			return r;
	}
	return pwb_change_log(c->txn, &change, c->err);
}

static int log_user_groups(struct pwb_txn *txn, const char *user_id, struct pwb_error *err)
{
	struct group_log_ctx c = {txn, err, NULL};

	return pwb_kv_dup_foreach(txn, DBI_MEMBER_OF, user_id, PWB_ID_LEN, log_one_group, &c, err);
}

int pwb_user_delete(struct pwb_txn *txn, const char *id, struct pwb_error *err)
{
	struct pwb_user old = {0};
	struct pwb_change change = {.kind = 'u', .what = PWB_CH_ALL};
	struct group_log_ctx c = {txn, err, id};
	int r;

	r = pwb_user_get(txn, id, &old, err);
	if (r < 0)
		goto out;
	/* Memberships go first: each group's line changes. */
	r = pwb_kv_dup_foreach(txn, DBI_MEMBER_OF, old.id, PWB_ID_LEN, log_one_group, &c, err);
	if (r == 0)
		r = pwb_kv_del(txn, DBI_MEMBER_OF, old.id, PWB_ID_LEN, err);
	if (r == 0)
		r = del_indexes(txn, &old, err);
	if (r == 0)
		r = del_subject(txn, &old, err);
	if (r == 0)
		r = pwb_kv_del(txn, DBI_USERS, old.id, PWB_ID_LEN, err);
	if (r == 0)
		r = pwb_ids_retire(txn, 'u', old.uid, err);
	if (r == 0 && old.private_group)
		r = pwb_ids_retire(txn, 'g', old.gid, err);
	if (r < 0)
		goto out;
	memcpy(change.id, old.id, sizeof(change.id));
	memcpy(change.old_name, old.name, sizeof(change.old_name));
	change.old_num = old.uid;
	change.old_gid = old.gid;
	change.old_private = old.private_group;
	r = pwb_change_log(txn, &change, err);
out:
	pwb_user_clear(&old);
	return r;
}

struct user_walk {
	pwb_user_cb cb;
	void *ctx;
};

static int user_walk_one(const void *key, size_t klen, const void *val, size_t vlen, void *ctx,
			 struct pwb_error *err)
{
	struct user_walk *w = ctx;
	char id[PWB_ID_LEN + 1];
	_cleanup_free_ char *text = NULL;
	struct pwb_user u;
	int r;

	if (klen != PWB_ID_LEN)
		return 0;
	memcpy(id, key, PWB_ID_LEN);
	id[PWB_ID_LEN] = '\0';
	text = strndup(val, vlen);
	if (!text)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if (pwb_user_decode(id, text, &u) < 0)
		return pwb_error_set(err, PWB_ESTORE, "user %s: damaged record", id);
	r = w->cb(&u, w->ctx);
	pwb_user_clear(&u);
	return r;
}

int pwb_user_foreach(struct pwb_txn *txn, pwb_user_cb cb, void *ctx, struct pwb_error *err)
{
	struct user_walk w = {cb, ctx};

	return pwb_kv_foreach(txn, DBI_USERS, user_walk_one, &w, err);
}

int pwb_store_count(struct pwb_txn *txn, int dbi, uint64_t *count, struct pwb_error *err)
{
	DB *db = txn->st->db[dbi];
	DB_BTREE_STAT *sp = NULL;
	int ret;

	*count = 0;
	ret = db->stat(db, txn->tid, &sp, 0);
	if (ret != 0) {
		return pwb_txn_fail(txn, ret, "counting", err);
	}
	*count = sp->bt_nkeys;
	free(sp);
	return 0;
}

int pwb_user_count(struct pwb_txn *txn, uint64_t *count, struct pwb_error *err)
{
	return pwb_store_count(txn, DBI_USERS, count, err);
}
