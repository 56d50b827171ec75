/* NSS snapshot publisher: change log -> delta -> mid -> base (snapshot.h).
 * This file is the level policy (when to write which level, the lock file,
 * the commit hook); render.c turns records into keys and lib/snapshot's
 * writer writes the files. Publishing is serialised by a lock file and
 * re-reads committed state through public store calls, so it always
 * converges on what the store holds. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include "cleanup.h"
#include "log.h"
#include "publish.h"
#include "render.h"
#include "writer.h"

/* The publish cursor is recorded (a small durable write) once per this
 * many changes: the store may trim the log up to it. */
#define CURSOR_EVERY 64

/* One change the publisher applies: which entity, which of its keys, and
 * the keys it had before (tombstoned first). */
struct pending {
	char kind; /* 'u' or 'g' */
	unsigned what;
	char id[PWB_ID_LEN + 1];
	char old_name[PWB_NAME_MAX + 1];
	uint32_t old_num, old_gid;
	bool old_private;
};

struct levels {
	char dir[PATH_MAX];
	struct pwb_snapshot_meta meta; /* what the live delta says */
	size_t delta_max, mid_max;
};

static int nss_dir_of(struct pwb_store *st, char *out, size_t len, struct pwb_error *err)
{
	const char *db_dir = pwb_store_config(st)->db_dir;

	if ((size_t)snprintf(out, len, "%s/%s", db_dir, PWB_SNAP_DIR) >= len)
		return pwb_error_set(err, PWB_ECONFIG, "db-dir %s: path too long", db_dir);
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

static const char *name_of(enum pwb_snapshot_set set, enum pwb_snapshot_level level,
			   unsigned long long gen, char *buf, size_t len)
{
	pwb_snapshot_level_name(set, level, gen, buf, len);
	return buf;
}

/* Writes a mid or base level of both sets (synced: they are written
 * rarely and outlive many deltas). */
static int write_levels(const struct levels *lv, const struct pwb_snapshot_kvset *pub,
			const struct pwb_snapshot_kvset *shadow, enum pwb_snapshot_level level,
			unsigned long long gen, struct pwb_error *err)
{
	char name[64];
	int r;

	r = pwb_snapshot_level_write(lv->dir,
				     name_of(PWB_SNAPSHOT_SHADOW, level, gen, name, sizeof(name)),
				     shadow, NULL, 0600, true, err);
	return r
		   ?: pwb_snapshot_level_write(
			  lv->dir, name_of(PWB_SNAPSHOT_PUBLIC, level, gen, name, sizeof(name)),
			  pub, NULL, 0644, true, err);
}

/* Swaps in new deltas (shadow NULL: its delta is unchanged and is not
 * rewritten), then tells mapped readers. */
static int write_deltas(const struct levels *lv, const struct pwb_snapshot_kvset *pub,
			const struct pwb_snapshot_kvset *shadow,
			const struct pwb_snapshot_meta *meta, struct pwb_error *err)
{
	int r = 0;

	if (shadow)
		r = pwb_snapshot_level_write(lv->dir, PWB_SNAP_SHADOW_DELTA, shadow, meta, 0600,
					     false, err);
	r = r ?: pwb_snapshot_level_write(lv->dir, PWB_SNAP_DELTA, pub, meta, 0644, false, err);
	if (r == 0 && pwb_snapshot_generation_bump(lv->dir, err) < 0) {
		/* Readers still see the new delta within a second (their fstat). */
		pwb_log(LOG_ERR, "pwb publish: %s", err->msg);
		memset(err, 0, sizeof(*err));
	}
	return r;
}

static unsigned long long next_gen(const struct pwb_snapshot_meta *m)
{
	return (m->mid > m->base ? m->mid : m->base) + 1;
}

/* ---- full rebuild ---- */

struct full_ctx {
	struct pwb_snapshot_kvset pub, shadow;
	uint64_t seq;
};

static void full_ctx_clear(struct full_ctx *f)
{
	pwb_snapshot_kvset_free(&f->pub);
	pwb_snapshot_kvset_free(&f->shadow);
	f->seq = 0;
}

static int read_everything(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct full_ctx *f = ctx;

	full_ctx_clear(f); /* an earlier attempt's */
	f->seq = pwb_store_change_seq(txn);
	return pwb_render_all(txn, &f->pub, &f->shadow, err);
}

static int full_locked(struct pwb_store *st, struct levels *lv, struct pwb_error *err)
{
	struct pwb_snapshot_kvset empty = {0};
	struct pwb_snapshot_meta next = {0};
	struct full_ctx f = {0};
	int r;

	r = pwb_store_read(st, read_everything, &f, err);
	if (r == 0) {
		pwb_snapshot_kvset_settle(&f.pub, true);
		pwb_snapshot_kvset_settle(&f.shadow, true);
		next.seq = f.seq;
		next.mid = next.base = next_gen(&lv->meta);
		r = write_levels(lv, &f.pub, &f.shadow, PWB_SNAPSHOT_BASE, next.base, err);
	}
	r = r ?: write_levels(lv, &empty, &empty, PWB_SNAPSHOT_MID, next.mid, err);
	r = r ?: write_deltas(lv, &empty, &empty, &next, err);
	if (r == 0) {
		pwb_snapshot_sync_dir(lv->dir);
		pwb_snapshot_remove_stale(lv->dir, &next);
		lv->meta = next;
	}
	full_ctx_clear(&f);
	return r;
}

/* ---- changes ---- */

struct changes_ctx {
	uint64_t after;
	size_t limit;
	struct pending *v;
	size_t n, cap;
	uint64_t last;
	bool too_many; /* more than limit, or not all in the log: rebuild */
};

static int collect_change(const struct pwb_change_entry *e, void *ctx)
{
	struct changes_ctx *c = ctx;
	struct pending *p;

	if (e->seq > c->last)
		c->last = e->seq;
	/* An upgrade that could not convert every entry asks for a rebuild. */
	if (e->kind == 's' && strcmp(e->op, "upgrade") == 0) {
		c->too_many = true;
		return 1;
	}
	if ((e->kind != 'u' && e->kind != 'g') || !e->what)
		return 0; /* tokens, logins: nothing NSS shows */
	if (c->n == c->limit) {
		c->too_many = true;
		return 1;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct pending *grown = realloc(c->v, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		c->v = grown;
		c->cap = cap;
	}
	p = &c->v[c->n++];
	memset(p, 0, sizeof(*p));
	p->kind = e->kind;
	p->what = e->what;
	snprintf(p->id, sizeof(p->id), "%s", e->id);
	memcpy(p->old_name, e->old_name, sizeof(p->old_name));
	p->old_num = e->old_num;
	p->old_gid = e->old_gid;
	p->old_private = e->old_private;
	return 0;
}

/* The changes after ctx->after, at most limit (else too_many, as when the
 * log was trimmed past them: rebuild instead). */
static int read_changes(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct changes_ctx *c = ctx;
	uint64_t first = 0, in_log = 0;
	int r;

	c->n = 0; /* an earlier attempt's */
	c->last = c->after;
	c->too_many = false;
	r = pwb_change_foreach(txn, c->after, 0, collect_change, c, &in_log, err);
	if (r == -ENOMEM)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if (r < 0)
		return r;
	if (in_log > c->after && !c->too_many) {
		r = pwb_change_first_seq(txn, &first, err);
		if (r < 0)
			return r;
		c->too_many = first > c->after + 1; /* entries we never saw are gone */
	}
	return 0;
}

static int pending_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->id, y->id);
}

struct render_ctx {
	struct changes_ctx *changes;
	const struct pwb_snapshot_kvset *pub_in, *shadow_in; /* the live deltas */
	struct pwb_snapshot_kvset pub, shadow;		     /* those plus the changes */
};

/* Renders the current state of every entity the changes name, after the
 * tombstones of their old keys (so a key reused in the same batch wins),
 * on top of the live deltas. */
static int render_changes(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct render_ctx *rc = ctx;
	struct pending *v;
	size_t n;
	int r;

	pwb_snapshot_kvset_free(&rc->pub); /* an earlier attempt's */
	pwb_snapshot_kvset_free(&rc->shadow);
	/* The changes and the records they name, in one consistent view. */
	r = read_changes(txn, rc->changes, err);
	if (r < 0 || rc->changes->too_many)
		return r;
	v = rc->changes->v;
	n = rc->changes->n;
	r = pwb_snapshot_kvset_append(&rc->pub, rc->pub_in);
	r = r ?: pwb_snapshot_kvset_append(&rc->shadow, rc->shadow_in);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = pwb_render_tombstones(&rc->pub, &rc->shadow, v[i].kind, v[i].old_name,
					  v[i].old_num, v[i].old_gid, v[i].old_private);
	for (size_t i = 0; r == 0 && i < n; i++) {
		unsigned what = v[i].what;

		/* One render per entity, of the union of what its changes touched. */
		while (i + 1 < n && pending_cmp(&v[i], &v[i + 1]) == 0)
			what |= v[++i].what;
		r = v[i].kind == 'u'
			? pwb_render_user(txn, v[i].id, what, &rc->pub, &rc->shadow, err)
			: pwb_render_group(txn, v[i].id, &rc->pub, err);
	}
	return r;
}

/* Merges the new delta into the middle level, or rebuilds everything when
 * that is full too. */
static int merge_into_mid(struct pwb_store *st, struct levels *lv, struct pwb_snapshot_meta *meta,
			  struct pwb_snapshot_kvset *pub, struct pwb_snapshot_kvset *shadow,
			  struct pwb_error *err)
{
	struct pwb_snapshot_kvset mid_pub = {0}, mid_shadow = {0}, empty = {0};
	struct pwb_snapshot_meta next = *meta;
	char name[64];
	int r;

	r = pwb_snapshot_level_load(
	    lv->dir, name_of(PWB_SNAPSHOT_PUBLIC, PWB_SNAPSHOT_MID, meta->mid, name, sizeof(name)),
	    &mid_pub, NULL);
	r = r
		?: pwb_snapshot_level_load(lv->dir,
					   name_of(PWB_SNAPSHOT_SHADOW, PWB_SNAPSHOT_MID, meta->mid,
						   name, sizeof(name)),
					   &mid_shadow, NULL);
	r = r ?: pwb_snapshot_kvset_append(&mid_pub, pub);
	r = r ?: pwb_snapshot_kvset_append(&mid_shadow, shadow);
	if (r == 0) {
		pwb_snapshot_kvset_settle(&mid_pub, false);
		pwb_snapshot_kvset_settle(&mid_shadow, false);
	}
	if (r < 0 || mid_pub.n + mid_shadow.n > lv->mid_max) {
		pwb_snapshot_kvset_free(&mid_pub);
		pwb_snapshot_kvset_free(&mid_shadow);
		return full_locked(st, lv, err);
	}
	next.mid = next_gen(meta);
	r = write_levels(lv, &mid_pub, &mid_shadow, PWB_SNAPSHOT_MID, next.mid, err);
	r = r ?: write_deltas(lv, &empty, &empty, &next, err);
	if (r == 0) {
		pwb_snapshot_remove_stale(lv->dir, &next);
		lv->meta = next;
	}
	pwb_snapshot_kvset_free(&mid_pub);
	pwb_snapshot_kvset_free(&mid_shadow);
	return r;
}

static int changes_locked(struct pwb_store *st, struct levels *lv, struct pwb_error *err)
{
	struct pwb_snapshot_kvset pub = {0}, shadow = {0};
	struct changes_ctx changes = {0};
	struct render_ctx rc = {&changes, &pub, &shadow, {0}, {0}};
	struct pwb_snapshot_meta meta = {0};
	int r;

	r = pwb_snapshot_level_load(lv->dir, PWB_SNAP_DELTA, &pub, &meta);
	r = r ?: pwb_snapshot_level_load(lv->dir, PWB_SNAP_SHADOW_DELTA, &shadow, NULL);
	lv->meta = meta;
	if (r < 0 || meta.base == 0) {
		/* No snapshot yet, or a damaged one: start from scratch. */
		r = full_locked(st, lv, err);
		goto out;
	}
	changes.after = meta.seq;
	changes.limit = lv->mid_max;
	r = pwb_store_read(st, render_changes, &rc, err);
	if (r == 0 && changes.too_many) {
		r = full_locked(st, lv, err);
		goto out;
	}
	if (r < 0 || changes.last <= meta.seq)
		goto out; /* nothing new */
	pwb_snapshot_kvset_settle(&rc.pub, false);
	pwb_snapshot_kvset_settle(&rc.shadow, false);
	pwb_snapshot_kvset_settle(&shadow, false);
	meta.seq = changes.last;
	if (rc.pub.n + rc.shadow.n <= lv->delta_max) {
		r = write_deltas(lv, &rc.pub,
				 pwb_snapshot_kvset_equal(&rc.shadow, &shadow) ? NULL : &rc.shadow,
				 &meta, err);
		if (r == 0)
			lv->meta = meta;
	} else {
		r = merge_into_mid(st, lv, &meta, &rc.pub, &rc.shadow, err);
	}
out:
	free(changes.v);
	pwb_snapshot_kvset_free(&pub);
	pwb_snapshot_kvset_free(&shadow);
	pwb_snapshot_kvset_free(&rc.pub);
	pwb_snapshot_kvset_free(&rc.shadow);
	return r;
}

/* Tells the store how far the publisher has read the change log, so that
 * it may trim what every reader is past. */
static void record_cursor(struct pwb_store *st, uint64_t before, uint64_t seq)
{
	struct pwb_error err = {0};

	if (seq / CURSOR_EVERY == before / CURSOR_EVERY && seq > before)
		return;
	if (pwb_store_cursor_set(st, "publish", seq, &err) < 0)
		pwb_log(LOG_WARNING, "pwb publish: moving the change-log cursor: %s", err.msg);
}

int pwb_publish_trim(struct pwb_store *st, struct pwb_error *err)
{
	struct pwb_snapshot_meta meta = {0};
	char dir[PATH_MAX];
	int r = nss_dir_of(st, dir, sizeof(dir), err);

	if (r < 0)
		return r;
	/* No snapshot: nothing is published, so nothing may go. */
	if (pwb_snapshot_level_load(dir, PWB_SNAP_DELTA, NULL, &meta) < 0)
		meta.seq = 0;
	return pwb_store_cursor_set(st, "publish", meta.seq, err);
}

typedef int (*publish_fn)(struct pwb_store *st, struct levels *lv, struct pwb_error *err);

/* One publish under the lock file, then the cursor. */
static int publish_locked(struct pwb_store *st, publish_fn fn, struct pwb_error *err)
{
	const struct pwb_config *cfg = pwb_store_config(st);
	struct levels lv = {.delta_max = cfg->nss_delta_max, .mid_max = cfg->nss_mid_max};
	uint64_t before;
	int lock, r;

	r = nss_dir_of(st, lv.dir, sizeof(lv.dir), err);
	if (r < 0)
		return r;
	lock = lock_nss(lv.dir, err);
	if (lock < 0)
		return lock;
	pwb_snapshot_level_load(lv.dir, PWB_SNAP_DELTA, NULL, &lv.meta);
	before = lv.meta.seq;
	r = fn(st, &lv, err);
	close(lock);
	if (r == 0 && lv.meta.seq != before)
		record_cursor(st, before, lv.meta.seq);
	return r;
}

int pwb_publish_full(struct pwb_store *st, struct pwb_error *err)
{
	return publish_locked(st, full_locked, err);
}

int pwb_publish_changes(struct pwb_store *st, struct pwb_error *err)
{
	return publish_locked(st, changes_locked, err);
}

void pwb_publish_init(void)
{
	pwb_snapshot_writer_init();
}

static void publish_hook(struct pwb_store *st, uint64_t seq, void *ctx)
{
	struct pwb_error err = {0};

	if (pwb_publish_changes(st, &err) < 0)
		pwb_log(LOG_ERR,
			"pwb publish: change %llu committed, but publishing the NSS snapshot "
			"failed: %s (run pwbadm rebuild-nss)",
			(unsigned long long)seq, err.msg);
}

int pwb_publish_attach(struct pwb_store *st, struct pwb_error *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int r;

	pwb_publish_init();
	pwb_store_on_commit(st, publish_hook, NULL);
	r = nss_dir_of(st, dir, sizeof(dir), err);
	if (r < 0)
		return r;
	/* A new store publishes its (empty) snapshot at once, so NSS answers
	 * "not found" rather than "unavailable"; an existing one catches up
	 * with what a process that died after committing did not publish. */
	snprintf(path, sizeof(path), "%s/%s", dir, PWB_SNAP_DELTA);
	if (access(path, F_OK) != 0)
		return pwb_publish_full(st, err);
	return pwb_publish_changes(st, err);
}

int pwb_store_publish_all(struct pwb_store *st, struct pwb_error *err)
{
	return pwb_publish_full(st, err);
}
