/* Users in the store: create, read (by id, name, userName, uid,
 * externalId, bound issuer and subject), update, bind, delete, iterate. Secondary indexes are kept
 * by hand in the same transaction so that a conflict names the field at fault. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
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

static int check_fields(struct pwb_user *u, struct pwb_error *err)
{
	const char *un = user_name_of(u);

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
	return pwb_attrs_check(u->attrs, u->name, err);
}

static const char *const retired_home_prefix = "h=";

/* The user id that held home before (retired), or NULL. */
static char *retired_home_holder(struct pwb_txn *txn, const char *home)
{
	_cleanup_free_ char *key = NULL;
	char *id = NULL;

	if (asprintf(&key, "%s%s", retired_home_prefix, home) < 0)
		return NULL;
	if (pwb_kv_get(txn, DBI_RETIRED, key, strlen(key), &id, NULL, false, NULL) < 0)
		return NULL;
	return id;
}

static int retire_home(struct pwb_txn *txn, const char *home, const char *id, struct pwb_error *err)
{
	_cleanup_free_ char *key = NULL;

	if (asprintf(&key, "%s%s", retired_home_prefix, home) < 0)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return pwb_kv_put(txn, DBI_RETIRED, key, strlen(key), id, PWB_ID_LEN, err);
}

struct retired_homes {
	pwb_retired_home_cb cb;
	void *ctx;
};

static int retired_home_one(const void *key, size_t klen, const void *val, size_t vlen, void *ctx,
			    struct pwb_error *err)
{
	struct retired_homes *w = ctx;
	size_t plen = strlen(retired_home_prefix);
	_cleanup_free_ char *home = NULL;
	char id[PWB_ID_LEN + 1];

	if (klen <= plen || memcmp(key, retired_home_prefix, plen) != 0 || vlen != PWB_ID_LEN)
		return 0;
	home = strndup((const char *)key + plen, klen - plen);
	if (!home)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	memcpy(id, val, PWB_ID_LEN);
	id[PWB_ID_LEN] = '\0';
	return w->cb(home, id, w->ctx);
}

int pwb_store_retired_homes_foreach(struct pwb_txn *txn, pwb_retired_home_cb cb, void *ctx,
				    struct pwb_error *err)
{
	struct retired_homes w = {cb, ctx};

	return pwb_kv_foreach(txn, DBI_RETIRED, retired_home_one, &w, err);
}

int pwb_store_retire_home(struct pwb_txn *txn, const char *home, const char *former_id,
			  struct pwb_error *err)
{
	_cleanup_free_ char *holder = NULL;
	char shown[96];
	int r;

	pwb_names_escape(home ? home : "", shown, sizeof(shown));
	if (!home || home[0] != '/' || strlen(home) >= TEXT_FIELD_MAX || has_control(home) ||
	    !pwb_uuid_is_valid(former_id))
		return pwb_error_set(err, PWB_EINVAL, "cannot retire home '%s'", shown);
	r = pwb_kv_get(txn, DBI_USER_HOME, home, strlen(home), &holder, NULL, false, err);
	if (r == 0 && strcmp(holder, former_id) != 0)
		return pwb_error_set(err, PWB_EEXIST, "home '%s' is in use, it cannot be retired",
				     shown);
	if (r < 0 && r != PWB_ENOTFOUND)
		return r;
	return retire_home(txn, home, former_id, err);
}

/* True if the home index gives home to user id. */
static bool home_held_by(struct pwb_txn *txn, const char *home, const char *id)
{
	_cleanup_free_ char *holder = NULL;

	return pwb_kv_get(txn, DBI_USER_HOME, home, strlen(home), &holder, NULL, false, NULL) ==
		   0 &&
	       strcmp(holder, id) == 0;
}

/* Refuses a home another user holds or held (the files there belong to
 * that user's uid, which is never reused either). */
static int check_home_free(struct pwb_txn *txn, const struct pwb_user *u, bool by_default,
			   struct pwb_error *err)
{
	_cleanup_free_ char *holder = NULL;
	char shown[96], holder_name[PWB_NAME_MAX + 1] = "";
	const char *hint = by_default ? "; set homeDirectory explicitly" : "";
	const char *what = by_default ? "the default homeDirectory" : "homeDirectory";
	int r;

	pwb_names_escape(u->home, shown, sizeof(shown));
	r = pwb_kv_get(txn, DBI_USER_HOME, u->home, strlen(u->home), &holder, NULL, false, err);
	if (r < 0 && r != PWB_ENOTFOUND)
		return r;
	if (r == 0 && strcmp(holder, u->id) != 0) {
		struct pwb_user h = {0};

		if (pwb_user_get(txn, holder, &h, NULL) == 0)
			snprintf(holder_name, sizeof(holder_name), "%s", h.name);
		pwb_user_clear(&h);
		return pwb_error_set(err, PWB_EEXIST, "%s '%s' of '%s' is held by user '%s'%s",
				     what, shown, u->name, holder_name[0] ? holder_name : holder,
				     hint);
	}
	free(holder);
	holder = retired_home_holder(txn, u->home);
	if (holder && strcmp(holder, u->id) != 0)
		return pwb_error_set(err, PWB_EEXIST,
				     "%s '%s' of '%s' belonged to another (since deleted or moved) "
				     "user and is retired%s",
				     what, shown, u->name, hint);
	return 0;
}

/* Decides the home: an explicit one through the policy (stored
 * normalised), NULL = the stored one on update, user-homedir-path/NAME on
 * create. An unchanged home is not checked again. */
static int settle_home(struct pwb_txn *txn, struct pwb_user *u, const struct pwb_user *old,
		       struct pwb_error *err)
{
	const struct pwb_config *cfg = txn->st->cfg;
	_cleanup_free_ char *by_default = NULL;
	char *norm = NULL;
	int r;

	if (!u->home && old && old->home) {
		u->home = strdup(old->home);
		return u->home ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
	}
	if (u->home && old && old->home && strcmp(u->home, old->home) == 0)
		return 0;
	if (!u->home && asprintf(&by_default, "%s/%s", cfg->homedir_path, u->name) < 0) {
		by_default = NULL;
		return pwb_error_set(err, -ENOMEM, "out of memory");
	}
	r = pwb_policy_home(cfg, u->home ? u->home : by_default, &norm, err);
	if (r < 0)
		return r;
	free(u->home);
	u->home = norm;
	if (old && old->home && strcmp(u->home, old->home) == 0)
		return 0;
	return check_home_free(txn, u, by_default != NULL, err);
}

static int settle_shell(struct pwb_txn *txn, struct pwb_user *u, const struct pwb_user *old,
			struct pwb_error *err)
{
	if (!u->shell && old && old->shell)
		u->shell = strdup(old->shell);
	else if (!u->shell)
		u->shell = strdup(txn->st->cfg->default_shell);
	else if (!old || !old->shell || strcmp(u->shell, old->shell) != 0)
		return pwb_policy_shell(u->shell, err);
	return u->shell ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
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
	if (pwb_user_decode(id, text, out) < 0) {
		memcpy(out->id, id, PWB_ID_LEN + 1);
		return pwb_error_set(err, PWB_EDAMAGED,
				     "user %s: damaged record (pwbadm delete-user removes it)", id);
	}
	return 0;
}

int pwb_user_get_by_name(struct pwb_txn *txn, const char *name, struct pwb_user *out,
			 struct pwb_error *err)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (!pwb_names_is_valid(name))
		return PWB_ENOTFOUND;
	r = get_by_index(txn, DBI_USER_NAME, name, strlen(name), out, err);
	if (r == PWB_EDAMAGED)
		snprintf(out->name, sizeof(out->name), "%s", name);
	return r;
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

/* The index entries that point at u: Linux name, folded userName, uid,
 * and home and externalId when set. */
struct user_index {
	enum pwb_dbi dbi;
	const void *key;
	size_t klen;
};

static size_t user_indexes(const struct pwb_user *u, const char *folded, const unsigned char uid[4],
			   struct user_index out[5])
{
	size_t n = 0;

	out[n++] = (struct user_index){DBI_USER_NAME, u->name, strlen(u->name)};
	out[n++] = (struct user_index){DBI_USER_UNAME, folded, strlen(folded)};
	out[n++] = (struct user_index){DBI_USER_UID, uid, 4};
	if (u->home)
		out[n++] = (struct user_index){DBI_USER_HOME, u->home, strlen(u->home)};
	if (u->external_id)
		out[n++] =
		    (struct user_index){DBI_USER_EXT, u->external_id, strlen(u->external_id)};
	return n;
}

/* Drops u's home from the index if u holds it there (two users of a store
 * from before the index may share a path: only one is its holder). */
static int del_home_index(struct pwb_txn *txn, const struct pwb_user *u, struct pwb_error *err)
{
	_cleanup_free_ char *holder = NULL;
	int r;

	if (!u->home)
		return 0;
	r = pwb_kv_get(txn, DBI_USER_HOME, u->home, strlen(u->home), &holder, NULL, true, err);
	if (r == PWB_ENOTFOUND)
		return 0;
	if (r < 0 || strcmp(holder, u->id) != 0)
		return r;
	return pwb_kv_del(txn, DBI_USER_HOME, u->home, strlen(u->home), err);
}

/* Writes (put) or removes every index entry that points at u. */
static int apply_indexes(struct pwb_txn *txn, const struct pwb_user *u, bool put,
			 struct pwb_error *err)
{
	_cleanup_free_ char *folded = fold_case(user_name_of(u));
	struct user_index idx[5];
	unsigned char uid[4];
	size_t i, n;
	int r;

	if (!folded)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	pwb_be32(u->uid, uid);
	n = user_indexes(u, folded, uid, idx);
	for (i = 0; i < n; i++) {
		if (put)
			r = pwb_kv_put(txn, idx[i].dbi, idx[i].key, idx[i].klen, u->id, PWB_ID_LEN,
				       err);
		else if (idx[i].dbi == DBI_USER_HOME)
			r = del_home_index(txn, u, err);
		else
			r = pwb_kv_del(txn, idx[i].dbi, idx[i].key, idx[i].klen, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int put_indexes(struct pwb_txn *txn, const struct pwb_user *u, struct pwb_error *err)
{
	return apply_indexes(txn, u, true, err);
}

static int del_indexes(struct pwb_txn *txn, const struct pwb_user *u, struct pwb_error *err)
{
	return apply_indexes(txn, u, false, err);
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

/* A private group shares the user's name: no pwb or local group may own
 * it, and it must not be a name that is never provisioned (admin, docker). */
/* old: the user as stored before this write (NULL: a new user). NSS also
 * answers with pwb's own published entries, so a group of that name whose
 * gid is the user's current private group is the user's own, not local
 * (a uid change moves the private group to a new gid under the same
 * name). */
static int check_private_group_name(struct pwb_txn *txn, const char *name,
				    const struct pwb_user *old, struct pwb_error *err)
{
	uint32_t gid = 0;
	int r;

	if (pwb_kv_exists(txn, DBI_GROUP_NAME, name, strlen(name)))
		return pwb_error_set(err, PWB_EEXIST,
				     "a pwb group named '%s' exists, so user '%s' cannot have a "
				     "private group of that name",
				     name, name);
	r = pwb_policy_group_name(txn->st->cfg, name, err);
	if (r < 0)
		return pwb_error_prefix(err, "private group of user '%s'", name);
	r = pwb_other_source_group_gid(name, &gid, err);
	if (r < 0)
		return r;
	if (r > 0 && old && old->private_group && strcmp(old->name, name) == 0 && gid == old->gid)
		return 0;
	if (r > 0)
		return pwb_error_set(err, PWB_ELOCAL, "'%s' is the name of a local group", name);
	return 0;
}

/* A pwb group as a primary group: inside the gid range, not retired, and
 * its gid not also a local group's (getgrgid finds pwb's own entry too,
 * under the same name). */
static int check_group_primary(struct pwb_txn *txn, const struct pwb_user *u, const char *group_id,
			       struct pwb_error *err)
{
	const struct pwb_config *cfg = txn->st->cfg;
	struct pwb_group g = {0};
	char local[PWB_NAME_MAX + 64] = "";
	int r;

	if (u->gid < cfg->start_gid || u->gid > cfg->end_gid)
		return pwb_error_set(
		    err, PWB_EINVAL,
		    "gidNumber %u of '%s' is outside group-provisioning-start-gid.."
		    "end-gid (%u-%u)",
		    u->gid, u->name, cfg->start_gid, cfg->end_gid);
	if (pwb_store_gid_retired(txn, u->gid))
		return pwb_error_set(err, PWB_EINVAL, "gidNumber %u of '%s' is retired", u->gid,
				     u->name);
	r = pwb_group_get(txn, group_id, &g, err);
	if (r < 0)
		return r;
	r = pwb_other_source_gid(u->gid, local, sizeof(local), err);
	if (r > 0 && strcmp(local, g.name) == 0)
		r = 0;
	pwb_group_clear(&g);
	if (r < 0)
		return r;
	if (r > 0)
		return pwb_error_set(err, PWB_EINVAL,
				     "gidNumber %u of '%s' is also a local group's gid", u->gid,
				     u->name);
	return 0;
}

/* Decides the primary group: 0 (or the uid) = the user's own private
 * group, or the gid of a pwb group; nothing else. A private group follows
 * a uid change; an unchanged gid is kept. */
static int settle_gid(struct pwb_txn *txn, struct pwb_user *u, const struct pwb_user *old,
		      struct pwb_error *err)
{
	_cleanup_free_ char *group_id = NULL;
	unsigned char key[4];
	int r;

	if (u->gid == 0 || (old && old->private_group && u->gid == old->gid && u->uid != old->uid))
		u->gid = u->uid;
	if (old && u->gid == old->gid && u->uid == old->uid) {
		u->private_group = old->private_group;
		return 0;
	}
	pwb_be32(u->gid, key);
	r = pwb_kv_get(txn, DBI_GROUP_GID, key, sizeof(key), &group_id, NULL, false, err);
	if (r < 0 && r != PWB_ENOTFOUND)
		return r;
	if (r == 0) {
		u->private_group = false;
		return check_group_primary(txn, u, group_id, err);
	}
	if (u->gid != u->uid)
		return pwb_error_set(err, PWB_EINVAL,
				     "gidNumber %u of '%s' is neither the user's own group "
				     "(gidNumber = uidNumber) nor a pwb group",
				     u->gid, u->name);
	u->private_group = true;
	if (old && old->private_group && u->gid == old->gid)
		return 0;
	if (old && u->uid == old->uid) {
		/* Back to its own group: gid = its uid was never anyone else's
		 * (uids are never reused), even if retired when it left. */
		char local[PWB_NAME_MAX + 64] = "";

		r = pwb_other_source_gid(u->gid, local, sizeof(local), err);
		if (r < 0)
			return r;
		if (r > 0 && strcmp(local, old->name) != 0 && strcmp(local, u->name) != 0)
			return pwb_error_set(err, PWB_ELOCAL,
					     "gidNumber %u is used by a local group", u->gid);
	} else if ((r = pwb_ids_check_gid(txn, u->gid, err)) < 0) {
		return pwb_error_prefix(err, "gidNumber");
	}
	return check_private_group_name(txn, u->name, old, err);
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
	struct pwb_change_entry change;
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
	r = pwb_other_source_user(u->name, err);
	if (r < 0)
		return r;
	if (r > 0)
		return pwb_error_set(err, PWB_ELOCAL,
				     "'%s' is a local account (in /etc/passwd or another NSS "
				     "source)",
				     u->name);
	if (u->uid == 0)
		r = pwb_ids_alloc_uid(txn, &u->uid, err);
	else
		r = pwb_ids_check_uid(txn, u->uid, err);
	if (r == 0)
		r = settle_gid(txn, u, NULL, err);
	if (r == 0)
		r = settle_home(txn, u, NULL, err);
	if (r == 0)
		r = settle_shell(txn, u, NULL, err);
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
	pwb_change_init(&change, 'u', "create", u->id, u->name, PWB_CH_ALL);
	return pwb_change_append(txn, &change, err);
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
	if (pwb_str_differs(a->gecos, b->gecos) || pwb_str_differs(a->home, b->home) ||
	    pwb_str_differs(a->shell, b->shell))
		what |= PWB_CH_PASSWD;
	if (a->active != b->active)
		what |= PWB_CH_SHADOW;
	return what;
}

/* Names the attributes an update changed (never their values). */
static int note_user_changes(const struct pwb_user *a, const struct pwb_user *b,
			     struct pwb_change_entry *e)
{
	const struct {
		const char *name;
		bool differs;
	} attrs[] = {
	    {"name", strcmp(a->name, b->name) != 0},
	    {"userName", pwb_str_differs(a->user_name, b->user_name)},
	    {"externalId", pwb_str_differs(a->external_id, b->external_id)},
	    {"uid", a->uid != b->uid},
	    {"gid", a->gid != b->gid || a->private_group != b->private_group},
	    {"gecos", pwb_str_differs(a->gecos, b->gecos)},
	    {"home", pwb_str_differs(a->home, b->home)},
	    {"shell", pwb_str_differs(a->shell, b->shell)},
	    {"email", pwb_str_differs(a->email, b->email)},
	    {"active", a->active != b->active},
	    {"attrs", !json_equal(a->attrs, b->attrs) && (a->attrs || b->attrs)},
	};
	size_t i;

	for (i = 0; i < PWB_ARRAY_SIZE(attrs); i++)
		if (attrs[i].differs && pwb_change_note(e, attrs[i].name) < 0)
			return -ENOMEM;
	return 0;
}

int pwb_user_update(struct pwb_txn *txn, struct pwb_user *u, struct pwb_error *err)
{
	struct pwb_user old = {0};
	struct pwb_change_entry change;
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
	if (strcmp(old.name, u->name) != 0 && (r = pwb_other_source_user(u->name, err)) != 0) {
		if (r > 0)
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
	r = settle_gid(txn, u, &old, err);
	if (r == 0 && old.private_group && (!u->private_group || u->gid != old.gid))
		r = pwb_ids_retire(txn, 'g', old.gid, err);
	if (r == 0 && u->private_group && old.private_group && u->gid == old.gid &&
	    strcmp(old.name, u->name) != 0)
		r = check_private_group_name(txn, u->name, &old, err);
	if (r == 0)
		r = settle_home(txn, u, &old, err);
	/* The old path keeps the old owner's files: only this user may return. */
	if (r == 0 && old.home && strcmp(old.home, u->home) != 0 &&
	    home_held_by(txn, old.home, old.id))
		r = retire_home(txn, old.home, old.id, err);
	if (r == 0)
		r = settle_shell(txn, u, &old, err);
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
	/* Every update is logged (the audit trail); what says which NSS keys
	 * the publisher re-renders (none for, say, an email). */
	pwb_change_init(&change, 'u', "update", u->id, u->name, nss_change(&old, u, &keys_moved));
	if (keys_moved) {
		memcpy(change.old_name, old.name, sizeof(change.old_name));
		change.old_num = old.uid;
		change.old_gid = old.gid;
		change.old_private = old.private_group;
	}
	if (note_user_changes(&old, u, &change) < 0) {
		json_decref(change.changed);
		r = pwb_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = pwb_change_append(txn, &change, err);
	/* Group lines list member names. */
	if (r == 0 && strcmp(old.name, u->name) != 0)
		r = log_user_groups(txn, u->id, err);
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

/* The binding is in the shadow set (b.NAME); the entry names the
 * attribute, never the issuer or subject. */
static int log_bind(struct pwb_txn *txn, const struct pwb_user *u, struct pwb_error *err)
{
	struct pwb_change_entry change;

	pwb_change_init(&change, 'u', "bind", u->id, u->name, PWB_CH_SHADOW);
	if (pwb_change_note(&change, "binding") < 0)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return pwb_change_append(txn, &change, err);
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
	if (r == 0)
		r = log_bind(txn, &u, err);
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
	struct pwb_change_entry change;

	/* The group's line lists member names. */
	pwb_change_init(&change, 'g', "member", group_id, "", PWB_CH_ALL);
	if (pwb_change_note(&change, "members") < 0)
		return pwb_error_set(c->err, -ENOMEM, "out of memory");
	if (c->user_id) {
		int r = pwb_kv_dup_del(c->txn, DBI_MEMBERS, group_id, PWB_ID_LEN, c->user_id,
				       PWB_ID_LEN, c->err);
		if (r < 0) {
			json_decref(change.changed);
			return r;
		}
	}
	return pwb_change_append(c->txn, &change, c->err);
}

static int log_user_groups(struct pwb_txn *txn, const char *user_id, struct pwb_error *err)
{
	struct group_log_ctx c = {txn, err, NULL};

	return pwb_kv_dup_foreach(txn, DBI_MEMBER_OF, user_id, PWB_ID_LEN, log_one_group, &c, err);
}

/* The keys a damaged record had, recovered from the indexes. */
struct damaged_keys {
	char name[PWB_NAME_MAX + 1];
	uint32_t uid;
	bool have_uid;
	char *home;
};

static void note_damaged_key(enum pwb_dbi dbi, const void *key, size_t klen, void *ctx)
{
	struct damaged_keys *k = ctx;
	const unsigned char *p = key;

	if (dbi == DBI_USER_NAME && klen <= PWB_NAME_MAX) {
		memcpy(k->name, key, klen);
		k->name[klen] = '\0';
	} else if (dbi == DBI_USER_UID && klen == 4) {
		k->uid = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		k->have_uid = true;
	} else if (dbi == DBI_USER_HOME && !k->home) {
		k->home = strndup(key, klen);
	}
}

/* Removes a user whose record cannot be decoded: its index entries are
 * found by value, and what they name (uid, its private gid, home) is
 * retired as for any deleted user. */
static int delete_damaged(struct pwb_txn *txn, const char *id, struct pwb_error *err)
{
	static const enum pwb_dbi indexes[] = {DBI_USER_NAME, DBI_USER_UNAME, DBI_USER_UID,
					       DBI_USER_EXT,  DBI_USER_HOME,  DBI_USER_SUBJECT};
	struct pwb_change_entry change;
	struct group_log_ctx c = {txn, err, id};
	struct damaged_keys k = {0};
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < PWB_ARRAY_SIZE(indexes); i++)
		r = pwb_kv_del_by_value(txn, indexes[i], id, PWB_ID_LEN, note_damaged_key, &k, err);
	if (r == 0)
		r = pwb_kv_dup_foreach(txn, DBI_MEMBER_OF, id, PWB_ID_LEN, log_one_group, &c, err);
	if (r == 0)
		r = pwb_kv_del(txn, DBI_MEMBER_OF, id, PWB_ID_LEN, err);
	if (r == 0)
		r = pwb_kv_del(txn, DBI_USERS, id, PWB_ID_LEN, err);
	/* gid = uid is never another's: it was this user's private group or
	 * unused (allocation skips a uid that is some group's gid). */
	if (r == 0 && k.have_uid)
		r = pwb_ids_retire(txn, 'u', k.uid, err);
	if (r == 0 && k.have_uid)
		r = pwb_ids_retire(txn, 'g', k.uid, err);
	if (r == 0 && k.home)
		r = retire_home(txn, k.home, id, err);
	free(k.home);
	if (r < 0)
		return r;
	pwb_log(LOG_WARNING, "pwb store: removed the damaged record of user %s (%s)", id,
		k.name[0] ? k.name : "name unknown");
	pwb_change_init(&change, 'u', "delete", id, "", PWB_CH_ALL);
	if (k.name[0] && k.have_uid) {
		memcpy(change.old_name, k.name, sizeof(change.old_name));
		change.old_num = change.old_gid = k.uid;
		/* Its private group's lines, unless a pwb group has that name. */
		change.old_private = !pwb_kv_exists(txn, DBI_GROUP_NAME, k.name, strlen(k.name));
	}
	return pwb_change_append(txn, &change, err);
}

int pwb_user_delete(struct pwb_txn *txn, const char *id, struct pwb_error *err)
{
	struct pwb_user old = {0};
	struct pwb_change_entry change;
	struct group_log_ctx c = {txn, err, id};
	int r;

	r = pwb_user_get(txn, id, &old, err);
	if (r == PWB_EDAMAGED)
		return delete_damaged(txn, old.id, err);
	if (r < 0)
		goto out;
	/* Memberships go first: each group's line changes. */
	r = pwb_kv_dup_foreach(txn, DBI_MEMBER_OF, old.id, PWB_ID_LEN, log_one_group, &c, err);
	if (r == 0)
		r = pwb_kv_del(txn, DBI_MEMBER_OF, old.id, PWB_ID_LEN, err);
	/* The home keeps the user's files: never another user's. */
	if (r == 0 && old.home && home_held_by(txn, old.home, old.id))
		r = retire_home(txn, old.home, old.id, err);
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
	pwb_change_init(&change, 'u', "delete", old.id, "", PWB_CH_ALL);
	memcpy(change.old_name, old.name, sizeof(change.old_name));
	change.old_num = old.uid;
	change.old_gid = old.gid;
	change.old_private = old.private_group;
	r = pwb_change_append(txn, &change, err);
out:
	pwb_user_clear(&old);
	return r;
}

struct user_walk {
	pwb_user_cb cb;
	void *ctx;
};

static int user_walk_one(char kind, const char *id, const void *record, void *ctx)
{
	struct user_walk *w = ctx;

	(void)kind;
	/* One bad record must not hide every other user (list, export,
	 * publishing): report it and go on. */
	if (!record) {
		pwb_log(LOG_ERR,
			"pwb store: user %s: damaged record skipped (pwbadm delete-user removes "
			"it)",
			id);
		return 0;
	}
	return w->cb(record, w->ctx);
}

int pwb_user_foreach(struct pwb_txn *txn, pwb_user_cb cb, void *ctx, struct pwb_error *err)
{
	struct user_walk w = {cb, ctx};

	return pwb_records_walk(txn, 'u', user_walk_one, &w, err);
}

/* ---- format upgrade and policy audit ---- */

struct index_homes {
	struct pwb_txn *txn;
	struct pwb_error *err;
};

static int index_one_home(const struct pwb_user *u, void *ctx)
{
	struct index_homes *c = ctx;
	_cleanup_free_ char *holder = NULL;
	int r;

	if (!u->home)
		return 0;
	r = pwb_kv_get(c->txn, DBI_USER_HOME, u->home, strlen(u->home), &holder, NULL, false,
		       c->err);
	if (r == 0) {
		/* Two users of an old store share a path: the first keeps it;
		 * pwbadm check reports the other. */
		pwb_log(LOG_WARNING, "pwb store: upgrade: user %s shares home %s with user %s",
			u->name, u->home, holder);
		return 0;
	}
	if (r != PWB_ENOTFOUND)
		return r;
	return pwb_kv_put(c->txn, DBI_USER_HOME, u->home, strlen(u->home), u->id, PWB_ID_LEN,
			  c->err);
}

int pwb_user_index_homes(struct pwb_txn *txn, struct pwb_error *err)
{
	struct index_homes c = {txn, err};

	return pwb_user_foreach(txn, index_one_home, &c, err);
}

struct audit {
	struct pwb_txn *txn;
	pwb_audit_cb cb;
	void *ctx;
	struct pwb_error *err;
	/* A cluster replica's check (pwb_user_audit_one): other NSS sources
	 * are not asked, pwb's own snapshot answers there and lags behind the
	 * replica (a renamed group); the follower checks the local files. */
	bool replica;
};

static int audit_report(struct audit *a, const struct pwb_user *u, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int audit_report(struct audit *a, const struct pwb_user *u, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return a->cb('u', u->id, u->name, msg, a->ctx);
}

/* The primary gid as settle_gid() would judge it on create, except that
 * the user's own uid and the own entries in the snapshot are its own. */
static int audit_gid(struct audit *a, const struct pwb_user *u)
{
	_cleanup_free_ char *group_id = NULL;
	struct pwb_error e = {0};
	char local[PWB_NAME_MAX + 64] = "";
	unsigned char key[4];
	int r;

	pwb_be32(u->gid, key);
	r = pwb_kv_get(a->txn, DBI_GROUP_GID, key, sizeof(key), &group_id, NULL, false, &e);
	if (r == 0 && a->replica)
		return 0; /* a pwb group: the follower checks it as a record of its own */
	if (r == 0) {
		r = check_group_primary(a->txn, u, group_id, &e);
		return r < 0 ? audit_report(a, u, "%s", e.msg) : 0;
	}
	if (u->gid != u->uid)
		return audit_report(a, u,
				    "primary gidNumber %u is neither the user's own group nor a "
				    "pwb group",
				    u->gid);
	if (pwb_store_gid_retired(a->txn, u->gid))
		return audit_report(a, u, "private gidNumber %u is retired", u->gid);
	r = a->replica ? 0 : pwb_other_source_gid(u->gid, local, sizeof(local), &e);
	if (r < 0)
		return audit_report(a, u, "%s", e.msg);
	if (r > 0 && strcmp(local, u->name) != 0)
		return audit_report(a, u, "private gidNumber %u is also the local group '%s'",
				    u->gid, local);
	memset(&e, 0, sizeof(e));
	if (u->private_group && pwb_policy_group_name(a->txn->st->cfg, u->name, &e) < 0)
		return audit_report(a, u, "private group: %s", e.msg);
	return 0;
}

static int audit_home(struct audit *a, const struct pwb_user *u)
{
	_cleanup_free_ char *norm = NULL, *holder = NULL;
	struct pwb_error e = {0};

	if (!u->home)
		return audit_report(a, u, "no homeDirectory");
	if (pwb_policy_home(a->txn->st->cfg, u->home, &norm, &e) < 0)
		return audit_report(a, u, "%s", e.msg);
	if (strcmp(norm, u->home) != 0)
		return audit_report(a, u, "homeDirectory '%s' is not normalised ('%s')", u->home,
				    norm);
	if (pwb_kv_get(a->txn, DBI_USER_HOME, u->home, strlen(u->home), &holder, NULL, false,
		       NULL) == 0 &&
	    strcmp(holder, u->id) != 0)
		return audit_report(a, u, "homeDirectory '%s' is also the home of user %s", u->home,
				    holder);
	return 0;
}

static int audit_user(const struct pwb_user *u, void *ctx)
{
	struct audit *a = ctx;
	struct pwb_error e = {0};
	int r;

	if ((r = audit_gid(a, u)) != 0 || (r = audit_home(a, u)) != 0)
		return r;
	if (u->shell && pwb_policy_shell(u->shell, &e) < 0 &&
	    (r = audit_report(a, u, "%s", e.msg)) != 0)
		return r;
	memset(&e, 0, sizeof(e));
	if (pwb_attrs_check(u->attrs, u->name, &e) < 0)
		return audit_report(a, u, "%s", e.msg);
	return 0;
}

int pwb_user_audit_one(struct pwb_txn *txn, const struct pwb_user *u, pwb_audit_cb cb, void *ctx,
		       struct pwb_error *err)
{
	struct audit a = {txn, cb, ctx, err, true};

	return audit_user(u, &a);
}

int pwb_store_policy_audit(struct pwb_txn *txn, pwb_audit_cb cb, void *ctx, struct pwb_error *err)
{
	struct audit a = {txn, cb, ctx, err, false};
	int r;

	r = pwb_records_audit_damaged(txn, 'u', cb, ctx, err);
	if (r == 0)
		r = pwb_user_foreach(txn, audit_user, &a, err);
	if (r == 0)
		r = pwb_group_audit(txn, cb, ctx, err);
	if (r == 0)
		r = pwb_group_map_audit(txn, cb, ctx, err);
	return r;
}

int pwb_user_count(struct pwb_txn *txn, uint64_t *count, struct pwb_error *err)
{
	return pwb_kv_count(txn, DBI_USERS, count, err);
}
