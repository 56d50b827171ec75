/* Group name mappings in the store (pwbadm map-group): a display name, ASCII
 * case folded, to the Linux name an administrator chose for it, with a
 * reverse index so that the Linux name stays reserved for that display
 * name (see store.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "other_sources.h"
#include "policy.h"
#include "internal/store_internal.h"
#include "store.h"
#include "util.h"

/* The key: the display name with ASCII upper case folded (SCIM displayName
 * is not case-exact); other bytes as they are. */
static int fold_key(const char *display, char key[PWB_GROUP_DISPLAY_MAX + 1], struct pwb_error *err)
{
	size_t i, len = display ? strlen(display) : 0;

	if (len == 0 || len > PWB_GROUP_DISPLAY_MAX)
		return pwb_error_set(err, PWB_EINVAL,
				     "group display name is empty or longer than %d bytes",
				     PWB_GROUP_DISPLAY_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)display[i];

		if (c < 0x20 || c == 0x7f)
			return pwb_error_set(err, PWB_EINVAL,
					     "group display name contains a control character");
		key[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	key[len] = '\0';
	return 0;
}

/* A mapping names its Linux name in the log, never more. */
static int log_map(struct pwb_txn *txn, const char *op, const char *name, struct pwb_error *err)
{
	struct pwb_change_entry change;

	pwb_change_init(&change, 'm', op, name, name, 0);
	return pwb_change_append(txn, &change, err);
}

static int get_by_key(struct pwb_txn *txn, const char *key, struct pwb_group_map *out,
		      struct pwb_error *err)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = pwb_kv_get(txn, DBI_GROUP_MAP, key, strlen(key), &text, NULL, txn->write, err);
	if (r < 0)
		return r;
	if (pwb_group_map_decode(text, out) < 0)
		return pwb_error_set(err, PWB_ESTORE, "group mapping: damaged record");
	return 0;
}

int pwb_group_map_get(struct pwb_txn *txn, const char *display_name, struct pwb_group_map *out,
		      struct pwb_error *err)
{
	char key[PWB_GROUP_DISPLAY_MAX + 1];

	memset(out, 0, sizeof(*out));
	if (fold_key(display_name, key, NULL) < 0)
		return PWB_ENOTFOUND;
	return get_by_key(txn, key, out, err);
}

int pwb_group_map_get_by_name(struct pwb_txn *txn, const char *name, struct pwb_group_map *out,
			      struct pwb_error *err)
{
	_cleanup_free_ char *key = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (!pwb_names_is_valid(name))
		return PWB_ENOTFOUND;
	r = pwb_kv_get(txn, DBI_GROUP_MAP_NAME, name, strlen(name), &key, NULL, false, err);
	return r < 0 ? r : get_by_key(txn, key, out, err);
}

/* A group already holding the name must agree with the mapping (the Linux
 * name of an existing group never changes); a name no pwb group holds must
 * not be a local group's. */
static int check_groups(struct pwb_txn *txn, const struct pwb_group_map *m, struct pwb_error *err)
{
	struct pwb_group g = {0};
	const char *shown_display;
	int r;

	r = pwb_group_get_by_name(txn, m->name, &g, err);
	if (r == PWB_ENOTFOUND) {
		memset(err, 0, sizeof(*err));
		r = pwb_other_source_group(m->name, err);
		if (r > 0)
			r = pwb_error_set(err, PWB_ELOCAL,
					  "'%s' is a local group (in /etc/group or another NSS "
					  "source)",
					  m->name);
		return r;
	}
	if (r == 0) {
		shown_display = pwb_group_display(&g);
		if (!pwb_group_display_is(&g, m->display_name)) {
			char shown[PWB_GROUP_DISPLAY_MAX + 8];

			pwb_names_escape(shown_display, shown, sizeof(shown));
			r = pwb_error_set(err, PWB_EEXIST,
					  "group %s exists with display name \"%s\"", m->name,
					  shown);
		}
	}
	pwb_group_clear(&g);
	return r;
}

struct display_find {
	const char *display;
	char name[PWB_NAME_MAX + 1];
};

static int find_display(const struct pwb_group *g, void *vctx)
{
	struct display_find *f = vctx;

	if (!pwb_group_display_is(g, f->display))
		return 0;
	snprintf(f->name, sizeof(f->name), "%s", g->name);
	return 1;
}

int pwb_group_map_put(struct pwb_txn *txn, struct pwb_group_map *m, struct pwb_error *err)
{
	char key[PWB_GROUP_DISPLAY_MAX + 1], shown[PWB_GROUP_DISPLAY_MAX + 8];
	struct display_find f = {0};
	struct pwb_group_map old = {0};
	_cleanup_free_ char *text = NULL;
	int r;

	if ((r = fold_key(m->display_name, key, err)) < 0)
		return r;
	if (!pwb_names_is_valid(m->name))
		return pwb_error_set(err, PWB_EINVAL, "invalid group name");
	pwb_names_escape(m->display_name, shown, sizeof(shown));
	r = get_by_key(txn, key, &old, err);
	if (r == 0) {
		r = pwb_error_set(err, PWB_EEXIST, "\"%s\" is already mapped to %s", shown,
				  old.name);
		pwb_group_map_clear(&old);
		return r;
	}
	if (r != PWB_ENOTFOUND)
		return r;
	memset(err, 0, sizeof(*err));
	r = pwb_group_map_get_by_name(txn, m->name, &old, err);
	if (r == 0) {
		pwb_names_escape(old.display_name, shown, sizeof(shown));
		r = pwb_error_set(err, PWB_EEXIST, "%s is already the mapping of \"%s\"", m->name,
				  shown);
		pwb_group_map_clear(&old);
		return r;
	}
	if (r != PWB_ENOTFOUND)
		return r;
	memset(err, 0, sizeof(*err));
	if ((r = pwb_policy_group_name(txn->st->cfg, m->name, err)) < 0)
		return r;
	if ((r = check_groups(txn, m, err)) < 0)
		return r;
	/* (the store sits below provision.c's lookup by display name: walk) */
	f.display = m->display_name;
	r = pwb_group_foreach(txn, find_display, &f, err);
	if (r < 0)
		return r;
	if (f.name[0] && strcmp(f.name, m->name) != 0)
		return pwb_error_set(
		    err, PWB_EEXIST,
		    "group \"%s\" exists as %s (a Linux name is fixed at creation)", shown, f.name);
	if (!m->created)
		m->created = pwb_now();
	if (!(text = pwb_group_map_encode(m)))
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if ((r = pwb_kv_put(txn, DBI_GROUP_MAP, key, strlen(key), text, strlen(text), err)) < 0 ||
	    (r = pwb_kv_put(txn, DBI_GROUP_MAP_NAME, m->name, strlen(m->name), key, strlen(key),
			    err)) < 0)
		return r;
	return log_map(txn, "map-put", m->name, err);
}

int pwb_group_map_delete(struct pwb_txn *txn, const char *display_name, struct pwb_error *err)
{
	char key[PWB_GROUP_DISPLAY_MAX + 1];
	struct pwb_group_map m = {0};
	int r;

	if (fold_key(display_name, key, NULL) < 0)
		return PWB_ENOTFOUND;
	r = get_by_key(txn, key, &m, err);
	if (r == 0 && (r = pwb_kv_del(txn, DBI_GROUP_MAP, key, strlen(key), err)) == 0 &&
	    (r = pwb_kv_del(txn, DBI_GROUP_MAP_NAME, m.name, strlen(m.name), err)) == 0)
		r = log_map(txn, "map-delete", m.name, err);
	pwb_group_map_clear(&m);
	return r;
}

struct map_walk {
	pwb_group_map_cb cb;
	void *ctx;
};

static int map_walk_one(const void *key, size_t klen, const void *val, size_t vlen, void *ctx,
			struct pwb_error *err)
{
	struct map_walk *w = ctx;
	_cleanup_free_ char *text = strndup(val, vlen);
	struct pwb_group_map m;
	int r;

	(void)key;
	(void)klen;
	if (!text)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if (pwb_group_map_decode(text, &m) < 0)
		return pwb_error_set(err, PWB_ESTORE, "group mappings: damaged record");
	r = w->cb(&m, w->ctx);
	pwb_group_map_clear(&m);
	return r;
}

int pwb_group_map_foreach(struct pwb_txn *txn, pwb_group_map_cb cb, void *ctx,
			  struct pwb_error *err)
{
	struct map_walk w = {cb, ctx};

	return pwb_kv_foreach(txn, DBI_GROUP_MAP, map_walk_one, &w, err);
}

struct map_audit {
	struct pwb_txn *txn;
	pwb_audit_cb cb;
	void *ctx;
};

/* A mapping written before the deny list or a local group took its name. */
static int audit_one(const void *key, size_t klen, const void *val, size_t vlen, void *vctx,
		     struct pwb_error *err)
{
	struct map_audit *a = vctx;
	_cleanup_free_ char *text = strndup(val, vlen), *shown_key = strndup(key, klen);
	struct pwb_group_map m;
	struct pwb_error e = {0};
	char msg[PWB_GROUP_DISPLAY_MAX + 256], shown[PWB_GROUP_DISPLAY_MAX + 8];
	int r = 0;

	if (!text || !shown_key)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if (pwb_group_map_decode(text, &m) < 0) {
		pwb_names_escape(shown_key, shown, sizeof(shown));
		return a->cb('m', shown, shown, "damaged group mapping record", a->ctx);
	}
	pwb_names_escape(m.display_name, shown, sizeof(shown));
	if (pwb_policy_group_name(a->txn->st->cfg, m.name, &e) < 0 ||
	    (!pwb_kv_exists(a->txn, DBI_GROUP_NAME, m.name, strlen(m.name)) &&
	     pwb_other_source_group(m.name, &e) > 0)) {
		snprintf(msg, sizeof(msg), "mapping of \"%s\": %s", shown,
			 e.msg[0] ? e.msg : "a local group has the name");
		r = a->cb('m', m.name, m.name, msg, a->ctx);
	}
	pwb_group_map_clear(&m);
	return r;
}

int pwb_group_map_audit(struct pwb_txn *txn, pwb_audit_cb cb, void *ctx, struct pwb_error *err)
{
	struct map_audit a = {txn, cb, ctx};

	return pwb_kv_foreach(txn, DBI_GROUP_MAP, audit_one, &a, err);
}
