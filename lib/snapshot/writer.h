/* Writing the published snapshot (format: snapshot.h): an in-memory set
 * of key/value pairs, a level file written beside the live one (a temp
 * file in the same directory, written, fsync'ed when asked, renamed over),
 * a level file read back for merging, and the generation counter bump that
 * tells mapped readers. libc and libdb only. Which levels to write when is
 * the publisher's policy (lib/store/publish.c). */
#ifndef PWB_SNAPSHOT_WRITER_H
#define PWB_SNAPSHOT_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "error.h"
#include "snapshot.h"

struct pwb_snapshot_kv {
	char *key;
	char *val; /* "" (vlen 0): a tombstone */
	size_t klen, vlen;
	size_t order; /* insertion order: the later of two equal keys wins */
};

struct pwb_snapshot_kvset {
	struct pwb_snapshot_kv *v;
	size_t n, cap;
};

/* What a delta says about its generation (the meta keys). */
struct pwb_snapshot_meta {
	unsigned long long mid, base;
	uint64_t seq;
};

void pwb_snapshot_kvset_free(struct pwb_snapshot_kvset *s);
int pwb_snapshot_kvset_add(struct pwb_snapshot_kvset *s, const void *key, size_t klen,
			   const void *val, size_t vlen);
int pwb_snapshot_kvset_adds(struct pwb_snapshot_kvset *s, const char *key, const char *val);
/* Appends everything of src to dst as newer entries. */
int pwb_snapshot_kvset_append(struct pwb_snapshot_kvset *dst, const struct pwb_snapshot_kvset *src);
/* Sorts by key and keeps only the newest value of each key, dropping that
 * too when it is a tombstone and drop_tombstones is set (a base level has
 * nothing under it to hide). */
void pwb_snapshot_kvset_settle(struct pwb_snapshot_kvset *s, bool drop_tombstones);
/* Same keys and values, both settled. */
bool pwb_snapshot_kvset_equal(const struct pwb_snapshot_kvset *a,
			      const struct pwb_snapshot_kvset *b);

/* Makes Berkeley DB's syncs of level files skippable (once per process,
 * before any environment exists: it installs a process-wide fsync hook
 * that only a delta write, on its own thread, ever switches off). */
void pwb_snapshot_writer_init(void);

/* Reads level file dir/name into s (may be NULL) and its meta keys into
 * meta (may be NULL). 0, -ENOENT, -ENOMEM or -EIO. */
int pwb_snapshot_level_load(const char *dir, const char *name, struct pwb_snapshot_kvset *s,
			    struct pwb_snapshot_meta *meta);

/* Writes s (settled) plus meta (NULL: none) as dir/name with mode: a temp
 * file in dir, fsync'ed when durable, renamed over name. A delta is
 * derived data rewritten on every change and goes without fsync. */
int pwb_snapshot_level_write(const char *dir, const char *name, const struct pwb_snapshot_kvset *s,
			     const struct pwb_snapshot_meta *meta, mode_t mode, bool durable,
			     struct pwb_error *err);

/* Increments the generation counter in place (snapshot.h), after the
 * deltas were swapped. Writers are serialised by the lock file. */
int pwb_snapshot_generation_bump(const char *dir, struct pwb_error *err);

/* Removes mid/base files other than the ones meta names, and stale temp
 * files; then fsyncs the directory when durable. */
void pwb_snapshot_remove_stale(const char *dir, const struct pwb_snapshot_meta *live);
void pwb_snapshot_sync_dir(const char *dir);

#endif
