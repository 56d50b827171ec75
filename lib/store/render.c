/* Store records -> snapshot keys and lines (render.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "log.h"
#include "render.h"

/* A growing comma-separated list (members, gids). */
struct list {
	char *buf;
	size_t len, cap;
};

static int list_append(struct list *l, const char *s)
{
	size_t n = strlen(s);

	if (l->len + n + 2 > l->cap) {
		size_t cap = (l->len + n + 2) * 2;
		char *grown = realloc(l->buf, cap);

		if (!grown)
			return -ENOMEM;
		l->buf = grown;
		l->cap = cap;
	}
	if (l->len)
		l->buf[l->len++] = ',';
	memcpy(l->buf + l->len, s, n + 1);
	l->len += n;
	return 0;
}

static const char *list_text(const struct list *l)
{
	return l->len ? l->buf : "";
}

/* gecos is free text from the IdP: keep it on one line and out of the
 * field separators. */
static void clean_field(char *s)
{
	for (; s && *s; s++)
		if (*s == ':' || (unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

int pwb_render_passwd(const struct pwb_user *u, char **out)
{
	_cleanup_free_ char *gecos = strdup(u->gecos ? u->gecos : "");

	if (!gecos)
		return -ENOMEM;
	clean_field(gecos);
	if (asprintf(out, "%s:x:%u:%u:%s:%s:%s", u->name, u->uid, u->gid, gecos,
		     u->home ? u->home : "/", u->shell ? u->shell : "/bin/sh") < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

int pwb_render_shadow(const struct pwb_user *u, char **out)
{
	/* lastchg 0 would force a password change; never 0. A locked user's
	 * account expired on day 1, so pam_unix and sshd refuse it too. */
	long lastchg = (long)(u->modified / 86400);

	if (lastchg < 1)
		lastchg = 1;
	if (asprintf(out, "%s:%s:%ld:0:99999:7::%s:", u->name, u->active ? "*" : "!*", lastchg,
		     u->active ? "" : "1") < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

int pwb_render_binding(const struct pwb_user *u, char **out)
{
	*out = NULL;
	if (!u->issuer || !u->subject || !u->issuer[0] || !u->subject[0])
		return 0;
	if (asprintf(out, "%s\n%s", u->issuer, u->subject) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int put_name_key(struct pwb_snapshot_kvset *s, const char *prefix, const char *name,
			const char *val)
{
	char key[PWB_SNAPSHOT_KEY_MAX];

	snprintf(key, sizeof(key), "%s%s", prefix, name);
	return pwb_snapshot_kvset_adds(s, key, val);
}

static int put_id_key(struct pwb_snapshot_kvset *s, const char *prefix, uint32_t id,
		      const char *val)
{
	char key[PWB_SNAPSHOT_KEY_MAX];

	snprintf(key, sizeof(key), "%s%u", prefix, id);
	return pwb_snapshot_kvset_adds(s, key, val);
}

static int put_group_keys(struct pwb_snapshot_kvset *pub, const char *name, uint32_t gid,
			  const char *members)
{
	_cleanup_free_ char *line = NULL;
	int r;

	if (asprintf(&line, "%s:x:%u:%s", name, gid, members) < 0) {
		line = NULL;
		return -ENOMEM;
	}
	r = put_name_key(pub, PWB_SNAP_KEY_GROUP_NAME, name, line);
	return r ?: put_id_key(pub, PWB_SNAP_KEY_GROUP_GID, gid, line);
}

/* The binding key follows the shadow key: present while bound, a
 * tombstone (absent) once unbound. */
static int put_shadow_keys(struct pwb_snapshot_kvset *shadow, const struct pwb_user *u)
{
	_cleanup_free_ char *sp = NULL, *binding = NULL;
	int r;

	r = pwb_render_shadow(u, &sp);
	r = r ?: pwb_render_binding(u, &binding);
	r = r ?: put_name_key(shadow, PWB_SNAP_KEY_SHADOW_NAME, u->name, sp);
	return r ?: put_name_key(shadow, PWB_SNAP_KEY_BINDING, u->name, binding ? binding : "");
}

static int put_user_keys(struct pwb_snapshot_kvset *pub, struct pwb_snapshot_kvset *shadow,
			 const struct pwb_user *u, unsigned what, const char *initgroups)
{
	_cleanup_free_ char *pw = NULL;
	int r = 0;

	if (what & PWB_CH_PASSWD) {
		r = pwb_render_passwd(u, &pw);
		r = r ?: put_name_key(pub, PWB_SNAP_KEY_PASSWD_NAME, u->name, pw);
		r = r ?: put_id_key(pub, PWB_SNAP_KEY_PASSWD_UID, u->uid, pw);
	}
	if (r == 0 && (what & PWB_CH_SHADOW))
		r = put_shadow_keys(shadow, u);
	if (r == 0 && (what & PWB_CH_INITGROUPS))
		r = put_name_key(pub, PWB_SNAP_KEY_INITGROUPS, u->name, initgroups);
	if (r < 0 || !(what & PWB_CH_PRIVGROUP) || !u->private_group)
		return r;
	return put_group_keys(pub, u->name, u->gid, "");
}

int pwb_render_tombstones(struct pwb_snapshot_kvset *pub, struct pwb_snapshot_kvset *shadow,
			  char kind, const char *old_name, uint32_t old_num, uint32_t old_gid,
			  bool old_private)
{
	int r;

	if (!old_name || !old_name[0])
		return 0;
	if (kind != 'u') {
		r = put_name_key(pub, PWB_SNAP_KEY_GROUP_NAME, old_name, "");
		return r ?: put_id_key(pub, PWB_SNAP_KEY_GROUP_GID, old_num, "");
	}
	r = put_name_key(pub, PWB_SNAP_KEY_PASSWD_NAME, old_name, "");
	r = r ?: put_id_key(pub, PWB_SNAP_KEY_PASSWD_UID, old_num, "");
	r = r ?: put_name_key(pub, PWB_SNAP_KEY_INITGROUPS, old_name, "");
	r = r ?: put_name_key(shadow, PWB_SNAP_KEY_SHADOW_NAME, old_name, "");
	r = r ?: put_name_key(shadow, PWB_SNAP_KEY_BINDING, old_name, "");
	if (r < 0 || !old_private)
		return r;
	r = put_name_key(pub, PWB_SNAP_KEY_GROUP_NAME, old_name, "");
	return r ?: put_id_key(pub, PWB_SNAP_KEY_GROUP_GID, old_gid, "");
}

/* One record that cannot be decoded must not stop everyone else's from
 * being published: it is logged and left out (its old lines stay until
 * it is deleted). */
static int skip_damaged(char kind, const char *id, struct pwb_error *err)
{
	pwb_log(LOG_ERR, "pwb publish: %s %s: damaged record skipped (%s)",
		kind == 'u' ? "user" : "group", id, err ? err->msg : "");
	if (err)
		memset(err, 0, sizeof(*err));
	return 0;
}

struct lookup_ctx {
	struct pwb_txn *txn;
	struct list list;
	struct pwb_error *err;
};

static int add_gid_of_group(const char *group_id, void *ctx)
{
	struct lookup_ctx *c = ctx;
	struct pwb_group g = {0};
	char num[16];
	int r = pwb_group_get(c->txn, group_id, &g, c->err);

	if (r == PWB_ENOTFOUND || r == PWB_EDAMAGED)
		return 0; /* a damaged group is reported where it is rendered */
	if (r < 0)
		return r;
	snprintf(num, sizeof(num), "%u", g.gid);
	pwb_group_clear(&g);
	return list_append(&c->list, num);
}

static int add_name_of_user(const char *user_id, void *ctx)
{
	struct lookup_ctx *c = ctx;
	struct pwb_user u = {0};
	int r = pwb_user_get(c->txn, user_id, &u, c->err);

	if (r == PWB_ENOTFOUND || r == PWB_EDAMAGED)
		return 0;
	if (r < 0)
		return r;
	r = list_append(&c->list, u.name);
	pwb_user_clear(&u);
	return r;
}

int pwb_render_user(struct pwb_txn *txn, const char *id, unsigned what,
		    struct pwb_snapshot_kvset *pub, struct pwb_snapshot_kvset *shadow,
		    struct pwb_error *err)
{
	struct lookup_ctx c = {txn, {0}, err};
	struct pwb_user u = {0};
	int r = pwb_user_get(txn, id, &u, err);

	if (r == PWB_ENOTFOUND)
		return 0; /* deleted: its tombstones are already in */
	if (r == PWB_EDAMAGED)
		return skip_damaged('u', id, err);
	if (r < 0)
		return r;
	if (what & PWB_CH_INITGROUPS)
		r = pwb_member_foreach_group(txn, u.id, add_gid_of_group, &c, err);
	if (r == 0)
		r = put_user_keys(pub, shadow, &u, what, list_text(&c.list));
	pwb_user_clear(&u);
	free(c.list.buf);
	return r;
}

int pwb_render_group(struct pwb_txn *txn, const char *id, struct pwb_snapshot_kvset *pub,
		     struct pwb_error *err)
{
	struct lookup_ctx c = {txn, {0}, err};
	struct pwb_group g = {0};
	int r = pwb_group_get(txn, id, &g, err);

	if (r == PWB_ENOTFOUND)
		return 0;
	if (r == PWB_EDAMAGED)
		return skip_damaged('g', id, err);
	if (r < 0)
		return r;
	r = pwb_member_foreach_user(txn, g.id, add_name_of_user, &c, err);
	if (r == 0)
		r = put_group_keys(pub, g.name, g.gid, list_text(&c.list));
	pwb_group_clear(&g);
	free(c.list.buf);
	return r;
}

/* ---- everything, for a base ---- */

/* id -> name and number of every user or group, sorted by id, so that
 * membership lists resolve without a record lookup per member. */
struct id_entry {
	char id[PWB_ID_LEN + 1];
	char name[PWB_NAME_MAX + 1];
	uint32_t num;
};

struct id_table {
	struct id_entry *v;
	size_t n, cap;
};

static int id_table_add(struct id_table *t, const char *id, const char *name, uint32_t num)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct id_entry *grown = realloc(t->v, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		t->v = grown;
		t->cap = cap;
	}
	snprintf(t->v[t->n].id, sizeof(t->v[t->n].id), "%s", id);
	snprintf(t->v[t->n].name, sizeof(t->v[t->n].name), "%s", name);
	t->v[t->n].num = num;
	t->n++;
	return 0;
}

static int id_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct id_entry *)a)->id, ((const struct id_entry *)b)->id);
}

static void id_table_sort(struct id_table *t)
{
	if (t->n) /* an empty table's array is NULL, which qsort must not get */
		qsort(t->v, t->n, sizeof(*t->v), id_entry_cmp);
}

static const struct id_entry *id_table_find(const struct id_table *t, const char *id)
{
	struct id_entry probe;

	snprintf(probe.id, sizeof(probe.id), "%s", id);
	return t->n ? bsearch(&probe, t->v, t->n, sizeof(*t->v), id_entry_cmp) : NULL;
}

struct full {
	struct pwb_snapshot_kvset *pub, *shadow;
	struct id_table users, groups;
	const struct id_table *values; /* what a membership list resolves through */
	bool by_name;		       /* a group's member names, else a user's gids */
	struct list list;
	struct pwb_txn *txn; /* progress goes to its store's listener */
	int64_t user_total;  /* for progress; -1: unknown */
};

static int full_user(const struct pwb_user *u, void *ctx)
{
	struct full *f = ctx;
	int r = id_table_add(&f->users, u->id, u->name, u->uid);

	pwb_txn_progress(f->txn, "publishing", f->users.n, f->user_total, "users");
	/* initgroups come later, from the memberships. */
	return r ?: put_user_keys(f->pub, f->shadow, u, PWB_CH_ALL, "");
}

static int full_group(const struct pwb_group *g, void *ctx)
{
	struct full *f = ctx;

	return id_table_add(&f->groups, g->id, g->name, g->gid);
}

static int full_list_add(const char *id, void *ctx)
{
	struct full *f = ctx;
	const struct id_entry *e = id_table_find(f->values, id);
	char num[16];

	if (!e)
		return 0; /* a damaged record, skipped where it is rendered */
	if (f->by_name)
		return list_append(&f->list, e->name);
	snprintf(num, sizeof(num), "%u", e->num);
	return list_append(&f->list, num);
}

/* Each group's line with its members, then each user's initgroups. */
static int full_lists(struct pwb_txn *txn, struct full *f, struct pwb_error *err)
{
	int r = 0;

	f->by_name = true;
	f->values = &f->users;
	for (size_t i = 0; r == 0 && i < f->groups.n; i++) {
		f->list.len = 0;
		r = pwb_member_foreach_user(txn, f->groups.v[i].id, full_list_add, f, err);
		if (r == 0)
			r = put_group_keys(f->pub, f->groups.v[i].name, f->groups.v[i].num,
					   list_text(&f->list));
	}
	f->by_name = false;
	f->values = &f->groups;
	for (size_t i = 0; r == 0 && i < f->users.n; i++) {
		f->list.len = 0;
		r = pwb_member_foreach_group(txn, f->users.v[i].id, full_list_add, f, err);
		if (r == 0 && f->list.len)
			r = put_name_key(f->pub, PWB_SNAP_KEY_INITGROUPS, f->users.v[i].name,
					 list_text(&f->list));
	}
	return r;
}

int pwb_render_all(struct pwb_txn *txn, struct pwb_snapshot_kvset *pub,
		   struct pwb_snapshot_kvset *shadow, struct pwb_error *err)
{
	struct full f = {.pub = pub, .shadow = shadow, .txn = txn, .user_total = -1};
	uint64_t count;
	int r;

	if (pwb_user_count(txn, &count, &(struct pwb_error){0}) == 0)
		f.user_total = (int64_t)count;
	r = pwb_user_foreach(txn, full_user, &f, err);
	if (r == 0 &&
	    (int64_t)f.users.n != f.user_total) /* the last report, when the count was off */
		pwb_txn_progress(txn, "publishing", f.users.n, (int64_t)f.users.n, "users");
	if (r == 0)
		r = pwb_group_foreach(txn, full_group, &f, err);
	if (r == 0) {
		id_table_sort(&f.users);
		id_table_sort(&f.groups);
		r = full_lists(txn, &f, err);
	}
	free(f.users.v);
	free(f.groups.v);
	free(f.list.buf);
	return r;
}
