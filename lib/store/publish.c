/* NSS snapshot publisher: change log -> delta -> mid -> base (snapshot.h).
 * Publishing is serialised by a lock file and re-reads committed state, so
 * concurrent writers converge on the same snapshot. Files are written
 * beside the live ones, fsync'ed, and swapped in with one rename(2). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cleanup.h"
#include "log.h"
#include "publish.h"
#include "internal/bdb.h"
#include "internal/store_internal.h"
#include "store_records.h"

#define BUILD_CACHE_BYTES (64 * 1024 * 1024)
#define TRIM_EVERY	  64

/* ---- an in-memory sorted set of key/value pairs ---- */

struct kv {
	char *key;
	char *val;
	size_t klen, vlen;
	size_t order; /* insertion order: the later of two equal keys wins */
};

struct kvset {
	struct kv *v;
	size_t n, cap;
};

static void kvset_free(struct kvset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].key);
		free(s->v[i].val);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int kvset_add(struct kvset *s, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct kv *e;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct kv *grown = realloc(s->v, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		s->v = grown;
		s->cap = cap;
	}
	e = &s->v[s->n];
	e->key = malloc(klen + 1);
	e->val = malloc(vlen + 1);
	if (!e->key || !e->val) {
		free(e->key);
		free(e->val);
		return -ENOMEM;
	}
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	if (vlen)
		memcpy(e->val, val, vlen);
	e->val[vlen] = '\0';
	e->klen = klen;
	e->vlen = vlen;
	e->order = s->n;
	s->n++;
	return 0;
}

static int kvset_adds(struct kvset *s, const char *key, const char *val)
{
	return kvset_add(s, key, strlen(key), val, strlen(val));
}

static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);

	if (c)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->order > y->order ? -1 : (x->order < y->order); /* newest first */
}

static bool same_key(const struct kv *a, const struct kv *b)
{
	return a->klen == b->klen && memcmp(a->key, b->key, a->klen) == 0;
}

/* Sorts by key and keeps only the newest value of each key, dropping that
 * too when it is a tombstone and drop_tombstones is set (a base level has
 * nothing under it to hide). */
static void kvset_settle(struct kvset *s, bool drop_tombstones)
{
	size_t i, run, o = 0;

	if (s->n) /* qsort's array must not be NULL, even when empty */
		qsort(s->v, s->n, sizeof(*s->v), kv_cmp);
	for (i = 0; i < s->n; i = run) {
		/* s->v[i] is the newest of its run of equal keys. */
		for (run = i + 1; run < s->n && same_key(&s->v[i], &s->v[run]); run++) {
			free(s->v[run].key);
			free(s->v[run].val);
		}
		if (drop_tombstones && s->v[i].vlen == 0) {
			free(s->v[i].key);
			free(s->v[i].val);
			continue;
		}
		s->v[o++] = s->v[i];
	}
	s->n = o;
	for (i = 0; i < s->n; i++)
		s->v[i].order = i;
}

/* Same keys and values, both settled (a file read back is sorted too). */
static bool kvset_equal(const struct kvset *a, const struct kvset *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (!same_key(&a->v[i], &b->v[i]) || a->v[i].vlen != b->v[i].vlen ||
		    memcmp(a->v[i].val, b->v[i].val, a->v[i].vlen) != 0)
			return false;
	return true;
}

/* Appends everything of src to dst as newer entries. */
static int kvset_append(struct kvset *dst, const struct kvset *src)
{
	size_t i;
	int r;

	for (i = 0; i < src->n; i++) {
		r = kvset_add(dst, src->v[i].key, src->v[i].klen, src->v[i].val, src->v[i].vlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- snapshot files ---- */

/* Berkeley DB syncs a file when it is closed. Delta files are rewritten on
 * every change and are derived data: a delta lost to a power cut is rebuilt
 * from the store by the next publish (read_file_into fails -> full
 * rebuild), so they are written without fsync; mid and base files, written
 * rarely, are synced. The switch is per thread and only ever set around a
 * delta write; every other Berkeley DB sync in the process (the store's
 * commits) is untouched. */
static __thread bool skip_sync;
static pthread_once_t sync_hook_once = PTHREAD_ONCE_INIT;

static int pwb_db_fsync(int fd)
{
	return skip_sync ? 0 : fdatasync(fd);
}

static void install_sync_hook(void)
{
	db_env_set_func_fsync(pwb_db_fsync);
}

void pwb_publish_init(void)
{
	pthread_once(&sync_hook_once, install_sync_hook);
}

struct level_names {
	unsigned long long mid, base;
	uint64_t seq;
};

static int read_file_into(const char *path, struct kvset *s, struct level_names *meta)
{
	DB *db = NULL;
	DBC *c = NULL;
	DBT k = {0}, v = {0};
	int ret, r = 0;

	ret = db_create(&db, NULL, 0);
	if (ret == 0)
		ret = db->open(db, NULL, path, NULL, DB_BTREE, DB_RDONLY, 0);
	if (ret != 0) {
		if (db)
			db->close(db, 0);
		return ret == ENOENT ? -ENOENT : -EIO;
	}
	ret = db->cursor(db, NULL, &c, 0);
	k.flags = v.flags = DB_DBT_REALLOC;
	while (ret == 0 && (ret = c->get(c, &k, &v, DB_NEXT)) == 0) {
		if (k.size > 0 && ((char *)k.data)[0] == '@') {
			char buf[32] = {0};

			if (meta && v.size < sizeof(buf)) {
				memcpy(buf, v.data, v.size);
				if (k.size == 4 && memcmp(k.data, PWB_SNAP_META_MID, 4) == 0)
					meta->mid = strtoull(buf, NULL, 10);
				else if (k.size == 5 && memcmp(k.data, PWB_SNAP_META_BASE, 5) == 0)
					meta->base = strtoull(buf, NULL, 10);
				else if (k.size == 4 && memcmp(k.data, PWB_SNAP_META_SEQ, 4) == 0)
					meta->seq = strtoull(buf, NULL, 10);
			}
			continue;
		}
		if (s && (r = kvset_add(s, k.data, k.size, v.data, v.size)) < 0)
			break;
	}
	free(k.data);
	free(v.data);
	if (c)
		c->close(c);
	db->close(db, 0);
	if (r < 0)
		return r;
	return ret == DB_NOTFOUND ? 0 : -EIO;
}

/* Writes s (sorted) plus optional meta to a new file in dir, fsyncs it, and
 * renames it to name. */
static int write_file(const char *dir, const char *name, const struct kvset *s,
		      const struct level_names *meta, mode_t mode, bool durable,
		      struct pwb_error *err)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	DB *db = NULL;
	DBT k = {0}, v = {0};
	size_t i;
	int ret = 0, fd;

	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s-%ld", dir, name, (long)getpid());
	snprintf(final, sizeof(final), "%s/%s", dir, name);
	unlink(tmp);
	skip_sync = !durable; /* creating the file syncs too */
	ret = db_create(&db, NULL, 0);
	if (ret == 0 && s->n > 10000)
		ret = db->set_cachesize(db, 0, BUILD_CACHE_BYTES, 1);
	if (ret == 0)
		ret = db->open(db, NULL, tmp, NULL, DB_BTREE, DB_CREATE | DB_EXCL, mode);
	for (i = 0; ret == 0 && i < s->n; i++) {
		k.data = s->v[i].key;
		k.size = (u_int32_t)s->v[i].klen;
		v.data = s->v[i].val;
		v.size = (u_int32_t)s->v[i].vlen;
		ret = db->put(db, NULL, &k, &v, 0);
	}
	if (ret == 0 && meta) {
		char buf[3][24];
		const char *keys[3] = {PWB_SNAP_META_MID, PWB_SNAP_META_BASE, PWB_SNAP_META_SEQ};
		int j;

		snprintf(buf[0], sizeof(buf[0]), "%llu", meta->mid);
		snprintf(buf[1], sizeof(buf[1]), "%llu", meta->base);
		snprintf(buf[2], sizeof(buf[2]), "%llu", (unsigned long long)meta->seq);
		for (j = 0; ret == 0 && j < 3; j++) {
			k.data = (void *)keys[j];
			k.size = (u_int32_t)strlen(keys[j]);
			v.data = buf[j];
			v.size = (u_int32_t)strlen(buf[j]);
			ret = db->put(db, NULL, &k, &v, 0);
		}
	}
	if (db) {
		int cret;

		cret = db->close(db, 0);
		if (ret == 0)
			ret = cret;
	}
	skip_sync = false;
	if (ret != 0) {
		unlink(tmp);
		return pwb_error_set(err, PWB_ESTORE, "%s: writing: %s", tmp, db_strerror(ret));
	}
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, mode) < 0 || (durable && fsync(fd) < 0)) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return pwb_error_set(err, -e, "%s: %s", tmp, strerror(e));
	}
	close(fd);
	if (rename(tmp, final) < 0) {
		int e = errno;

		unlink(tmp);
		return pwb_error_set(err, -e, "%s: rename: %s", final, strerror(e));
	}
	return 0;
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static void level_path(char *out, size_t len, const char *dir, bool shadow, bool mid,
		       unsigned long long g)
{
	char name[64];

	if (mid)
		snprintf(name, sizeof(name), shadow ? PWB_SNAP_SHADOW_MID_FMT : PWB_SNAP_MID_FMT,
			 g);
	else
		snprintf(name, sizeof(name), shadow ? PWB_SNAP_SHADOW_BASE_FMT : PWB_SNAP_BASE_FMT,
			 g);
	snprintf(out, len, "%s/%s", dir, name);
}

static const char *level_name(char *buf, size_t len, bool shadow, bool mid, unsigned long long g)
{
	if (mid)
		snprintf(buf, len, shadow ? PWB_SNAP_SHADOW_MID_FMT : PWB_SNAP_MID_FMT, g);
	else
		snprintf(buf, len, shadow ? PWB_SNAP_SHADOW_BASE_FMT : PWB_SNAP_BASE_FMT, g);
	return buf;
}

/* Removes level files other than the live ones, and stale temp files. */
static void remove_stale(const char *dir, const struct level_names *live)
{
	char keep[4][64];
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	level_name(keep[0], sizeof(keep[0]), false, true, live->mid);
	level_name(keep[1], sizeof(keep[1]), false, false, live->base);
	level_name(keep[2], sizeof(keep[2]), true, true, live->mid);
	level_name(keep[3], sizeof(keep[3]), true, false, live->base);
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		bool level = strncmp(n, "mid-", 4) == 0 || strncmp(n, "base-", 5) == 0 ||
			     strncmp(n, "shadow-mid-", 11) == 0 ||
			     strncmp(n, "shadow-base-", 12) == 0;
		int i;

		if (strncmp(n, ".tmp-", 5) == 0) {
			unlinkat(dirfd(d), n, 0);
			continue;
		}
		if (!level)
			continue;
		for (i = 0; i < 4; i++)
			if (strcmp(n, keep[i]) == 0)
				break;
		if (i == 4)
			unlinkat(dirfd(d), n, 0);
	}
	closedir(d);
}

/* ---- rendering records into NSS lines ---- */

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

struct render {
	struct pwb_txn *txn;
	struct kvset *pub, *shadow;
	struct pwb_error *err;
	char *buf; /* a growing comma list */
	size_t len, cap;
};

static int buf_append(struct render *r, const char *s)
{
	size_t n = strlen(s);

	if (r->len + n + 2 > r->cap) {
		size_t cap = (r->len + n + 2) * 2;
		char *grown = realloc(r->buf, cap);

		if (!grown)
			return -ENOMEM;
		r->buf = grown;
		r->cap = cap;
	}
	if (r->len)
		r->buf[r->len++] = ',';
	memcpy(r->buf + r->len, s, n + 1);
	r->len += n;
	return 0;
}

/* One record that cannot be decoded must not stop everyone else's from
 * being published: it is logged and left out (its old lines stay until
 * it is deleted). */
static int skip_damaged(struct render *r, char kind, const char *id)
{
	pwb_log(LOG_ERR, "pwb publish: %s %s: damaged record skipped (%s)",
		kind == 'u' ? "user" : "group", id, r->err ? r->err->msg : "");
	if (r->err)
		memset(r->err, 0, sizeof(*r->err));
	return 0;
}

static int add_gid_of_group(const char *group_id, void *ctx)
{
	struct render *r = ctx;
	struct pwb_group g = {0};
	char num[16];
	int rc = pwb_group_get(r->txn, group_id, &g, r->err);

	if (rc == PWB_ENOTFOUND || rc == PWB_EDAMAGED)
		return 0; /* a damaged group is reported where it is rendered */
	if (rc < 0)
		return rc;
	snprintf(num, sizeof(num), "%u", g.gid);
	pwb_group_clear(&g);
	return buf_append(r, num);
}

static int add_name_of_user(const char *user_id, void *ctx)
{
	struct render *r = ctx;
	struct pwb_user u = {0};
	int rc = pwb_user_get(r->txn, user_id, &u, r->err);

	if (rc == PWB_ENOTFOUND || rc == PWB_EDAMAGED)
		return 0;
	if (rc < 0)
		return rc;
	rc = buf_append(r, u.name);
	pwb_user_clear(&u);
	return rc;
}

static int put_user_keys(struct kvset *pub, struct kvset *shadow, const struct pwb_user *u,
			 unsigned what, const char *initgroups)
{
	_cleanup_free_ char *pw = NULL, *sp = NULL, *gr = NULL;
	char key[64];
	int r;

	if (what & PWB_CH_PASSWD) {
		if ((r = pwb_render_passwd(u, &pw)) < 0)
			return r;
		snprintf(key, sizeof(key), "%s%s", PWB_SNAP_KEY_PASSWD_NAME, u->name);
		if ((r = kvset_adds(pub, key, pw)) < 0)
			return r;
		snprintf(key, sizeof(key), "%s%u", PWB_SNAP_KEY_PASSWD_UID, u->uid);
		if ((r = kvset_adds(pub, key, pw)) < 0)
			return r;
	}
	if (what & PWB_CH_SHADOW) {
		if ((r = pwb_render_shadow(u, &sp)) < 0)
			return r;
		snprintf(key, sizeof(key), "%s%s", PWB_SNAP_KEY_SHADOW_NAME, u->name);
		if ((r = kvset_adds(shadow, key, sp)) < 0)
			return r;
	}
	if (what & PWB_CH_INITGROUPS) {
		snprintf(key, sizeof(key), "%s%s", PWB_SNAP_KEY_INITGROUPS, u->name);
		if ((r = kvset_adds(pub, key, initgroups)) < 0)
			return r;
	}
	if (!(what & PWB_CH_PRIVGROUP) || !u->private_group)
		return 0;
	if (asprintf(&gr, "%s:x:%u:", u->name, u->gid) < 0) {
		gr = NULL;
		return -ENOMEM;
	}
	snprintf(key, sizeof(key), "%s%s", PWB_SNAP_KEY_GROUP_NAME, u->name);
	if ((r = kvset_adds(pub, key, gr)) < 0)
		return r;
	snprintf(key, sizeof(key), "%s%u", PWB_SNAP_KEY_GROUP_GID, u->gid);
	return kvset_adds(pub, key, gr);
}

static int render_user(struct render *r, const char *id, unsigned what)
{
	struct pwb_user u = {0};
	int rc = pwb_user_get(r->txn, id, &u, r->err);

	if (rc == PWB_ENOTFOUND)
		return 0; /* deleted: its tombstones are already in */
	if (rc == PWB_EDAMAGED)
		return skip_damaged(r, 'u', id);
	if (rc < 0)
		return rc;
	r->len = 0;
	if (r->buf)
		r->buf[0] = '\0';
	if (what & PWB_CH_INITGROUPS)
		rc = pwb_member_foreach_group(r->txn, u.id, add_gid_of_group, r, r->err);
	if (rc == 0)
		rc = put_user_keys(r->pub, r->shadow, &u, what, r->len ? r->buf : "");
	pwb_user_clear(&u);
	return rc;
}

static int put_group_keys(struct kvset *pub, const struct pwb_group *g, const char *members)
{
	_cleanup_free_ char *line = NULL;
	char key[64];
	int r;

	if (asprintf(&line, "%s:x:%u:%s", g->name, g->gid, members) < 0) {
		line = NULL;
		return -ENOMEM;
	}
	snprintf(key, sizeof(key), "%s%s", PWB_SNAP_KEY_GROUP_NAME, g->name);
	if ((r = kvset_adds(pub, key, line)) < 0)
		return r;
	snprintf(key, sizeof(key), "%s%u", PWB_SNAP_KEY_GROUP_GID, g->gid);
	return kvset_adds(pub, key, line);
}

static int render_group(struct render *r, const char *id)
{
	struct pwb_group g = {0};
	int rc = pwb_group_get(r->txn, id, &g, r->err);

	if (rc == PWB_ENOTFOUND)
		return 0;
	if (rc == PWB_EDAMAGED)
		return skip_damaged(r, 'g', id);
	if (rc < 0)
		return rc;
	r->len = 0;
	if (r->buf)
		r->buf[0] = '\0';
	rc = pwb_member_foreach_user(r->txn, g.id, add_name_of_user, r, r->err);
	if (rc == 0)
		rc = put_group_keys(r->pub, &g, r->len ? r->buf : "");
	pwb_group_clear(&g);
	return rc;
}

/* Tombstones for the keys an entity had before a change. */
static int tombstone(struct kvset *pub, struct kvset *shadow, const struct pwb_change *c)
{
	char key[64];
	int r = 0;

	if (c->old_name[0] == '\0')
		return 0;
	if (c->kind == 'u') {
		snprintf(key, sizeof(key), "%s%s", PWB_SNAP_KEY_PASSWD_NAME, c->old_name);
		r = kvset_adds(pub, key, "");
		snprintf(key, sizeof(key), "%s%u", PWB_SNAP_KEY_PASSWD_UID, c->old_num);
		r = r ?: kvset_adds(pub, key, "");
		snprintf(key, sizeof(key), "%s%s", PWB_SNAP_KEY_INITGROUPS, c->old_name);
		r = r ?: kvset_adds(pub, key, "");
		snprintf(key, sizeof(key), "%s%s", PWB_SNAP_KEY_SHADOW_NAME, c->old_name);
		r = r ?: kvset_adds(shadow, key, "");
		if (!c->old_private)
			return r;
		snprintf(key, sizeof(key), "%s%s", PWB_SNAP_KEY_GROUP_NAME, c->old_name);
		r = r ?: kvset_adds(pub, key, "");
		snprintf(key, sizeof(key), "%s%u", PWB_SNAP_KEY_GROUP_GID, c->old_gid);
		return r ?: kvset_adds(pub, key, "");
	}
	snprintf(key, sizeof(key), "%s%s", PWB_SNAP_KEY_GROUP_NAME, c->old_name);
	r = kvset_adds(pub, key, "");
	snprintf(key, sizeof(key), "%s%u", PWB_SNAP_KEY_GROUP_GID, c->old_num);
	return r ?: kvset_adds(pub, key, "");
}

static int change_cmp(const void *a, const void *b)
{
	const struct pwb_change *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Renders the current state of every entity the changes name, after the
 * tombstones of their old keys (so a key reused in the same batch wins). */
static int render_changes(struct pwb_txn *txn, struct pwb_change *changes, size_t n,
			  struct kvset *pub, struct kvset *shadow, struct pwb_error *err)
{
	struct render r = {txn, pub, shadow, err, NULL, 0, 0};
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < n; i++)
		rc = tombstone(pub, shadow, &changes[i]);
	if (n)
		qsort(changes, n, sizeof(*changes), change_cmp);
	for (i = 0; rc == 0 && i < n; i++) {
		unsigned what = changes[i].what;

		/* One render per entity, of the union of what its changes touched. */
		while (i + 1 < n && change_cmp(&changes[i], &changes[i + 1]) == 0)
			what |= changes[++i].what;
		rc = changes[i].kind == 'u' ? render_user(&r, changes[i].id, what)
					    : render_group(&r, changes[i].id);
	}
	free(r.buf);
	return rc;
}

/* ---- full rebuild ---- */

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
	memcpy(t->v[t->n].id, id, PWB_ID_LEN + 1);
	snprintf(t->v[t->n].name, sizeof(t->v[t->n].name), "%s", name);
	t->v[t->n].num = num;
	t->n++;
	return 0;
}

static int id_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct id_entry *)a)->id, ((const struct id_entry *)b)->id);
}

static const struct id_entry *id_table_find(const struct id_table *t, const char *id)
{
	struct id_entry probe;

	memcpy(probe.id, id, PWB_ID_LEN);
	probe.id[PWB_ID_LEN] = '\0';
	return t->n ? bsearch(&probe, t->v, t->n, sizeof(*t->v), id_entry_cmp) : NULL;
}

struct full {
	struct kvset *pub, *shadow;
	struct id_table users, groups;
};

static int full_user(const struct pwb_user *u, void *ctx)
{
	struct full *f = ctx;
	_cleanup_free_ char *pw = NULL, *sp = NULL;
	int r = id_table_add(&f->users, u->id, u->name, u->uid);

	/* initgroups come later, from the membership table. */
	return r ?: put_user_keys(f->pub, f->shadow, u, PWB_CH_ALL, "");
}

static int full_group(const struct pwb_group *g, void *ctx)
{
	struct full *f = ctx;

	return id_table_add(&f->groups, g->id, g->name, g->gid);
}

/* Walks a whole sorted-duplicate membership table: for each key, the list
 * of names (members) or gids (initgroups) of its values. */
static int full_lists(struct pwb_txn *txn, enum pwb_dbi dbi, const struct id_table *keys,
		      const struct id_table *values, bool by_name, struct full *f,
		      struct pwb_error *err)
{
	DB *db = pwb_bdb_db(txn->st, dbi);
	DBC *c = NULL;
	DBT k = {0}, v = {0};
	char cur[PWB_ID_LEN + 1] = "";
	struct render list = {0};
	int ret, r = 0;

	ret = db->cursor(db, pwb_bdb_tid(txn), &c, 0);
	if (ret != 0)
		return pwb_txn_fail(txn, ret, "memberships", err);
	k.flags = v.flags = DB_DBT_REALLOC;
	for (;;) {
		char id[PWB_ID_LEN + 1] = "";
		bool done;

		ret = c->get(c, &k, &v, DB_NEXT);
		done = ret != 0;
		if (!done && (k.size != PWB_ID_LEN || v.size != PWB_ID_LEN))
			continue;
		if (!done)
			memcpy(id, k.data, PWB_ID_LEN);
		if (cur[0] && (done || strcmp(id, cur) != 0)) {
			const struct id_entry *owner = id_table_find(keys, cur);
			char key[64];

			if (owner && by_name) {
				struct pwb_group g = {0};

				memcpy(g.name, owner->name, sizeof(g.name));
				g.gid = owner->num;
				r = put_group_keys(f->pub, &g, list.len ? list.buf : "");
			} else if (owner) {
				snprintf(key, sizeof(key), "%s%s", PWB_SNAP_KEY_INITGROUPS,
					 owner->name);
				r = kvset_adds(f->pub, key, list.len ? list.buf : "");
			}
			list.len = 0;
			if (r < 0)
				break;
		}
		if (done)
			break;
		memcpy(cur, id, sizeof(cur));
		{
			const struct id_entry *val;
			char vid[PWB_ID_LEN + 1], num[16];

			memcpy(vid, v.data, PWB_ID_LEN);
			vid[PWB_ID_LEN] = '\0';
			val = id_table_find(values, vid);
			if (!val)
				continue;
			if (by_name) {
				r = buf_append(&list, val->name);
			} else {
				snprintf(num, sizeof(num), "%u", val->num);
				r = buf_append(&list, num);
			}
			if (r < 0)
				break;
		}
	}
	free(k.data);
	free(v.data);
	free(list.buf);
	c->close(c);
	if (r < 0)
		return pwb_error_set(err, r, "building membership lists");
	if (ret != DB_NOTFOUND)
		return pwb_txn_fail(txn, ret, "memberships", err);
	return 0;
}

/* Groups without members still need their lines. */
static int full_empty_groups(struct full *f)
{
	size_t i;
	int r;

	for (i = 0; i < f->groups.n; i++) {
		struct pwb_group g = {0};

		memcpy(g.name, f->groups.v[i].name, sizeof(g.name));
		g.gid = f->groups.v[i].num;
		/* Added first, so a line with members (added later) wins. */
		if ((r = put_group_keys(f->pub, &g, "")) < 0)
			return r;
	}
	return 0;
}

static int lock_nss(const char *dir, struct pwb_error *err)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, PWB_SNAP_LOCK);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;

			close(fd);
			return pwb_error_set(err, -e, "%s: lock: %s", path, strerror(e));
		}
	}
	return fd;
}

static int write_levels(const char *dir, const struct kvset *pub, const struct kvset *shadow,
			bool mid, unsigned long long g, struct pwb_error *err)
{
	char name[64];
	int r;

	r = write_file(dir, level_name(name, sizeof(name), true, mid, g), shadow, NULL, 0600, true,
		       err);
	if (r == 0)
		r = write_file(dir, level_name(name, sizeof(name), false, mid, g), pub, NULL, 0644,
			       true, err);
	return r;
}

/* Tells mapped readers that the deltas changed (snapshot.h): increments
 * the counter in place, after the renames. Publishing is serialised by the
 * lock file, so there is one incrementer at a time. */
static void bump_generation(const char *dir)
{
	char path[PATH_MAX];
	uint64_t gen = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, PWB_SNAP_GENERATION);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		pwb_log(LOG_ERR, "pwb publish: %s: %s", path, strerror(errno));
		return;
	}
	/* A new (or recreated) counter starts from the clock, so that it does
	 * not repeat a value a reader saw in the file it replaces. */
	if (pread(fd, &gen, sizeof(gen), 0) != (ssize_t)sizeof(gen)) {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		gen = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	}
	gen++;
	if (fchmod(fd, 0644) < 0 || pwrite(fd, &gen, sizeof(gen), 0) != (ssize_t)sizeof(gen))
		pwb_log(LOG_ERR, "pwb publish: %s: %s", path, strerror(errno));
	close(fd);
}

/* shadow may be NULL: its delta is unchanged and is not rewritten. */
static int write_deltas(const char *dir, const struct kvset *pub, const struct kvset *shadow,
			const struct level_names *meta, struct pwb_error *err)
{
	int r = shadow ? write_file(dir, PWB_SNAP_SHADOW_DELTA, shadow, meta, 0600, false, err) : 0;

	r = r ?: write_file(dir, PWB_SNAP_DELTA, pub, meta, 0644, false, err);
	if (r == 0)
		bump_generation(dir);
	return r;
}

static int full_locked(struct pwb_store *st, const struct level_names *cur, struct pwb_error *err)
{
	struct kvset pub = {0}, shadow = {0}, empty = {0};
	struct full f = {&pub, &shadow, {0}, {0}};
	struct level_names next = {0};
	struct pwb_txn txn;
	int r;

	r = pwb_txn_begin_read(st, &txn, err);
	if (r < 0)
		return r;
	next.seq = pwb_change_last_seq(&txn);
	r = pwb_user_foreach(&txn, full_user, &f, err);
	if (r == 0)
		r = pwb_group_foreach(&txn, full_group, &f, err);
	if (r == 0) {
		if (f.users.n) /* no users or groups: the arrays are NULL */
			qsort(f.users.v, f.users.n, sizeof(*f.users.v), id_entry_cmp);
		if (f.groups.n)
			qsort(f.groups.v, f.groups.n, sizeof(*f.groups.v), id_entry_cmp);
		r = full_empty_groups(&f);
	}
	if (r == 0)
		r = full_lists(&txn, DBI_MEMBERS, &f.groups, &f.users, true, &f, err);
	if (r == 0)
		r = full_lists(&txn, DBI_MEMBER_OF, &f.users, &f.groups, false, &f, err);
	pwb_txn_end(&txn);
	if (r < 0)
		goto out;
	kvset_settle(&pub, true);
	kvset_settle(&shadow, true);
	next.mid = next.base = (cur->mid > cur->base ? cur->mid : cur->base) + 1;
	r = write_levels(st->nss_dir, &pub, &shadow, false, next.base, err);
	if (r == 0)
		r = write_levels(st->nss_dir, &empty, &empty, true, next.mid, err);
	if (r == 0)
		r = write_deltas(st->nss_dir, &empty, &empty, &next, err);
	if (r == 0) {
		sync_dir(st->nss_dir);
		remove_stale(st->nss_dir, &next);
	}
out:
	free(f.users.v);
	free(f.groups.v);
	kvset_free(&pub);
	kvset_free(&shadow);
	return r;
}

static int publish_full_once(struct pwb_store *st, struct pwb_error *err)
{
	struct level_names cur = {0};
	char path[PATH_MAX];
	int lock, r;

	lock = lock_nss(st->nss_dir, err);
	if (lock < 0)
		return lock;
	snprintf(path, sizeof(path), "%s/%s", st->nss_dir, PWB_SNAP_DELTA);
	read_file_into(path, NULL, &cur);
	r = full_locked(st, &cur, err);
	close(lock);
	return r;
}

/* The publisher has consumed the log up to upto (the store trims what
 * every reader and the retention allow). */
static void trim_changes(struct pwb_store *st, uint64_t upto)
{
	struct pwb_error err = {0};

	if (pwb_store_cursor_set(st, "publish", upto, &err) < 0)
		pwb_log(LOG_WARNING, "pwb publish: moving the change-log cursor: %s", err.msg);
}

/* Merges the new delta into the middle level, or rebuilds everything when
 * that is full too. */
static int merge_into_mid(struct pwb_store *st, struct level_names *meta, struct kvset *pub,
			  struct kvset *shadow, struct pwb_error *err)
{
	struct kvset mid_pub = {0}, mid_shadow = {0}, empty = {0};
	struct level_names next = *meta;
	char path[PATH_MAX];
	int r;

	level_path(path, sizeof(path), st->nss_dir, false, true, meta->mid);
	r = read_file_into(path, &mid_pub, NULL);
	level_path(path, sizeof(path), st->nss_dir, true, true, meta->mid);
	if (r == 0)
		r = read_file_into(path, &mid_shadow, NULL);
	if (r == 0)
		r = kvset_append(&mid_pub, pub);
	if (r == 0)
		r = kvset_append(&mid_shadow, shadow);
	if (r < 0) {
		kvset_free(&mid_pub);
		kvset_free(&mid_shadow);
		return full_locked(st, meta, err);
	}
	kvset_settle(&mid_pub, false);
	kvset_settle(&mid_shadow, false);
	if (mid_pub.n + mid_shadow.n > st->cfg->nss_mid_max) {
		kvset_free(&mid_pub);
		kvset_free(&mid_shadow);
		return full_locked(st, meta, err);
	}
	next.mid = (meta->mid > meta->base ? meta->mid : meta->base) + 1;
	r = write_levels(st->nss_dir, &mid_pub, &mid_shadow, true, next.mid, err);
	if (r == 0)
		r = write_deltas(st->nss_dir, &empty, &empty, &next, err);
	if (r == 0)
		remove_stale(st->nss_dir, &next);
	kvset_free(&mid_pub);
	kvset_free(&mid_shadow);
	return r;
}

static int publish_changes_once(struct pwb_store *st, struct pwb_error *err)
{
	struct kvset pub = {0}, shadow = {0}, old_shadow = {0};
	struct level_names meta = {0};
	struct pwb_change *changes = NULL;
	struct pwb_txn txn;
	char path[PATH_MAX];
	size_t n = 0;
	uint64_t last = 0;
	int lock, r;

	lock = lock_nss(st->nss_dir, err);
	if (lock < 0)
		return lock;
	snprintf(path, sizeof(path), "%s/%s", st->nss_dir, PWB_SNAP_DELTA);
	r = read_file_into(path, &pub, &meta);
	snprintf(path, sizeof(path), "%s/%s", st->nss_dir, PWB_SNAP_SHADOW_DELTA);
	if (r == 0)
		r = read_file_into(path, &shadow, NULL);
	if (r == 0)
		r = kvset_append(&old_shadow, &shadow);
	if (r < 0 || meta.base == 0) {
		/* No snapshot yet, or a damaged one: start from scratch. */
		r = full_locked(st, &meta, err);
		goto out;
	}
	r = pwb_txn_begin_read(st, &txn, err);
	if (r < 0)
		goto out;
	r = pwb_change_read(&txn, meta.seq, &changes, &n, &last, st->cfg->nss_mid_max, err);
	if (r == 0 && last == UINT64_MAX) {
		pwb_txn_end(&txn);
		r = full_locked(st, &meta, err);
		goto out;
	}
	if (r == 0 && n > 0)
		r = render_changes(&txn, changes, n, &pub, &shadow, err);
	pwb_txn_end(&txn);
	if (r < 0 || n == 0)
		goto out;
	kvset_settle(&pub, false);
	kvset_settle(&shadow, false);
	meta.seq = last;
	if (pub.n + shadow.n <= st->cfg->nss_delta_max)
		r = write_deltas(st->nss_dir, &pub,
				 kvset_equal(&shadow, &old_shadow) ? NULL : &shadow, &meta, err);
	else
		r = merge_into_mid(st, &meta, &pub, &shadow, err);
	if (r == 0 && last / TRIM_EVERY != (last - n) / TRIM_EVERY)
		trim_changes(st, last);
out:
	free(changes);
	kvset_free(&pub);
	kvset_free(&shadow);
	kvset_free(&old_shadow);
	close(lock);
	return r;
}

int pwb_publish_full(struct pwb_store *st, struct pwb_error *err)
{
	return publish_full_once(st, err);
}

int pwb_publish_changes(struct pwb_store *st, struct pwb_error *err)
{
	return publish_changes_once(st, err);
}

int pwb_store_publish_all(struct pwb_store *st, struct pwb_error *err)
{
	return pwb_publish_full(st, err);
}

/* Temporary (branch h13-store), until h13-snap's publisher lands: the
 * commit hook publishes what the commit logged. */
static void publish_hook(struct pwb_store *st, uint64_t seq, void *ctx)
{
	struct pwb_error err = {0};

	if (pwb_publish_changes(st, &err) < 0)
		pwb_log(LOG_ERR,
			"pwb store: committed, but publishing the NSS snapshot failed: %s "
			"(run pwbadm rebuild-nss)",
			err.msg);
}

int pwb_publish_attach(struct pwb_store *st, struct pwb_error *err)
{
	char path[PATH_MAX + 16];

	pwb_publish_init();
	pwb_store_on_commit(st, publish_hook, NULL);
	/* A new store publishes its (empty) snapshot at once, so NSS answers
	 * "not found" rather than "unavailable"; an existing one catches up
	 * with what a process that died after committing did not publish. */
	snprintf(path, sizeof(path), "%s/%s", st->nss_dir, PWB_SNAP_DELTA);
	if (access(path, F_OK) != 0)
		return pwb_publish_full(st, err);
	return pwb_publish_changes(st, err);
}
