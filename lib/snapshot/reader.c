/* The one reader of the published snapshot (reader.h). Its handles live in
 * one private Berkeley DB environment per reader (memory only, read-only
 * files memory-mapped, so lookups cost no read(2)); they stay open until
 * a new generation is published. The usual call costs no system call: it
 * compares the publisher's mapped generation counter, and fstat's the held
 * delta only when the counter moved or about once a second. */
#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "backoff.h"
#include "error.h"
#include "reader.h"

/* A named mid/base vanished under us (a writer swapped a new generation
 * in, so the new delta is already there): re-read it at once, then pausing
 * a little longer each time, but never long: a snapshot that stays broken
 * must not slow every lookup on the host (about 2 ms at most). */
#define REOPEN_FIRST_US	   0
#define REOPEN_MAX_US	   500
#define REOPEN_PATIENCE_US 2000

/* Read-only files up to this size are mapped rather than copied into the
 * cache: address space only, the pages are the kernel's shared page cache. */
#define MMAP_MAX    ((size_t)1 << 30)
#define CACHE_BYTES (256 * 1024)

/* A counter file that vanished or was replaced costs freshness of at most
 * this long, never correctness of what a checked delta says. */
#define FULL_CHECK_NSEC 1000000000LL

/* Levels holding more keys than this get no filter (and a base never does:
 * nearly every lookup ends there anyway). */
#define BLOOM_MAX_KEYS	   (1u << 20)
#define BLOOM_BITS_PER_KEY 16

/* One open level. Small levels (delta, mid) carry a Bloom filter of their
 * keys, so the common lookup (a user in the base) skips them without a
 * B-tree search. */
struct snap_level {
	DB *db;			/* NULL: absent or empty */
	DBC *cursor;		/* kept for point lookups: no cursor setup per call */
	unsigned long long gen; /* mid/base: the generation open (or known empty) */
	bool known;		/* gen is meaningful */
	uint64_t *bloom;	/* NULL: no filter, always search */
	uint32_t bloom_mask;	/* bits - 1 */
};

struct snap_set {
	struct snap_level level[PWB_SNAPSHOT_LEVELS];
	bool open;
	int delta_fd; /* Berkeley DB's descriptor of the delta */
	/* the publisher's counter when the delta was last checked */
	uint64_t gen_seen;
	bool gen_valid;
	struct timespec checked; /* when the delta was last fstat'ed */
	uid_t opener;		 /* shadow: the effective UID that could open the files */
	/* identity of the delta.db the handles belong to */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	unsigned long long seq; /* @seq of that delta */
};

struct pwb_snapshot_reader {
	char dir[PATH_MAX];
	DB_ENV *env;
	const uint64_t *gen_map; /* the publisher's counter, mapped read-only */
	dev_t gen_dev;
	ino_t gen_ino;
	uint64_t opens;
	struct snap_set sets[2];
};

static uint64_t key_hash(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 14695981039346656037ull; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static bool bloom_maybe(const struct snap_level *l, uint64_t h)
{
	uint32_t a = (uint32_t)h & l->bloom_mask, b = (uint32_t)(h >> 32) & l->bloom_mask;

	if (!l->bloom)
		return true;
	return (l->bloom[a / 64] >> (a % 64) & 1) && (l->bloom[b / 64] >> (b % 64) & 1);
}

/* Reads every key of a small level into a filter. A level with no key is
 * closed (nothing to search); failure just leaves the level unfiltered. */
static void build_bloom(struct snap_level *l)
{
	DBT key = {0}, val = {.flags = DB_DBT_PARTIAL}; /* keys only */
	uint64_t *hashes = NULL, *grown, bits;
	size_t n = 0, cap = 0;
	DBC *c = NULL;
	int r;

	if (l->db->cursor(l->db, NULL, &c, 0) != 0)
		return;
	while ((r = c->get(c, &key, &val, DB_NEXT)) == 0 && n < BLOOM_MAX_KEYS) {
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			grown = realloc(hashes, cap * sizeof(*hashes));
			if (!grown)
				break;
			hashes = grown;
		}
		hashes[n++] = key_hash(key.data, key.size);
	}
	c->close(c);
	if (r == DB_NOTFOUND && n == 0) {
		l->db->close(l->db, DB_NOSYNC);
		l->db = NULL;
	} else if (r == DB_NOTFOUND) {
		for (bits = 1024; bits < (uint64_t)n * BLOOM_BITS_PER_KEY; bits *= 2)
			;
		l->bloom = calloc(bits / 64, sizeof(uint64_t));
		l->bloom_mask = (uint32_t)(bits - 1);
		for (size_t i = 0; l->bloom && i < n; i++) {
			uint32_t a = (uint32_t)hashes[i] & l->bloom_mask;
			uint32_t b = (uint32_t)(hashes[i] >> 32) & l->bloom_mask;

			l->bloom[a / 64] |= 1ull << (a % 64);
			l->bloom[b / 64] |= 1ull << (b % 64);
		}
	}
	free(hashes);
}

static void close_level(struct snap_level *l)
{
	if (l->cursor)
		l->cursor->close(l->cursor);
	if (l->db)
		l->db->close(l->db, DB_NOSYNC);
	free(l->bloom);
	memset(l, 0, sizeof(*l));
}

static void close_set(struct snap_set *s)
{
	for (int i = 0; i < PWB_SNAPSHOT_LEVELS; i++)
		close_level(&s->level[i]);
	s->open = false;
}

static void silent_errcall(const DB_ENV *env, const char *prefix, const char *msg)
{
	/* A reader inside someone else's process never prints. */
}

static void silent_msgcall(const DB_ENV *env, const char *msg)
{
}

int pwb_snapshot_reader_new(const char *nss_dir, struct pwb_snapshot_reader **out)
{
	struct pwb_snapshot_reader *r;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if ((size_t)snprintf(r->dir, sizeof(r->dir), "%s", nss_dir) >= sizeof(r->dir)) {
		free(r);
		return -ENAMETOOLONG;
	}
	*out = r;
	return 0;
}

static void unmap_generation(struct pwb_snapshot_reader *r)
{
	if (r->gen_map)
		munmap((void *)r->gen_map, sizeof(*r->gen_map));
	r->gen_map = NULL;
}

void pwb_snapshot_reader_close(struct pwb_snapshot_reader *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < 2; i++)
		close_set(&r->sets[i]);
	if (r->env)
		r->env->close(r->env, 0);
	r->env = NULL;
	unmap_generation(r);
}

void pwb_snapshot_reader_free(struct pwb_snapshot_reader *r)
{
	pwb_snapshot_reader_close(r);
	free(r);
}

uint64_t pwb_snapshot_opens(const struct pwb_snapshot_reader *r)
{
	return r->opens;
}

static int open_env(struct pwb_snapshot_reader *r)
{
	DB_ENV *env = NULL;

	if (r->env)
		return 0;
	if (db_env_create(&env, 0) != 0)
		return PWB_EUNAVAIL;
	env->set_errcall(env, silent_errcall);
	env->set_msgcall(env, silent_msgcall);
	/* DB_PRIVATE: regions in this process's heap, no file is created. The
	 * home is "/" because Berkeley DB reads DB_CONFIG from it: only root can
	 * plant one there (not the cwd's owner). */
	if (env->set_cachesize(env, 0, CACHE_BYTES, 1) != 0 ||
	    env->set_mp_mmapsize(env, MMAP_MAX) != 0 ||
	    env->open(env, "/", DB_CREATE | DB_PRIVATE | DB_INIT_MPOOL, 0) != 0) {
		env->close(env, 0);
		return PWB_EUNAVAIL;
	}
	r->env = env;
	return 0;
}

/* Opens one file of the snapshot: 0, -ENOENT (no such file: maybe swapped
 * away mid-open, retried) or PWB_EUNAVAIL. */
static int open_db(struct pwb_snapshot_reader *r, const char *name, DB **out)
{
	char path[PATH_MAX];
	DB *db = NULL;
	int ret, fd;

	*out = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", r->dir, name) >= sizeof(path))
		return PWB_EUNAVAIL;
	if (db_create(&db, r->env, 0) != 0)
		return PWB_EUNAVAIL;
	ret = db->open(db, NULL, path, NULL, DB_BTREE, DB_RDONLY, 0);
	if (ret != 0) {
		db->close(db, DB_NOSYNC);
		return ret == ENOENT ? -ENOENT : PWB_EUNAVAIL;
	}
	/* Berkeley DB sets FD_CLOEXEC right after its open(2); make sure,
	 * since the host's children must never inherit the descriptor. */
	if (db->fd(db, &fd) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
		db->close(db, DB_NOSYNC);
		return PWB_EUNAVAIL;
	}
	*out = db;
	return 0;
}

/* Reads a decimal meta value ("@mid", "@base", "@seq") from the delta:
 * 0, PWB_ENOTFOUND or PWB_EUNAVAIL (malformed). */
static int read_meta(DB *delta, const char *name, unsigned long long *out)
{
	DBT key = {.data = (void *)name, .size = (u_int32_t)strlen(name)};
	DBT val = {0};
	char text[24];
	char *end;

	if (delta->get(delta, NULL, &key, &val, 0) != 0)
		return PWB_ENOTFOUND;
	if (val.size == 0 || val.size >= sizeof(text))
		return PWB_EUNAVAIL;
	memcpy(text, val.data, val.size);
	text[val.size] = '\0';
	errno = 0;
	*out = strtoull(text, &end, 10);
	if (errno || *end || text[0] < '0' || text[0] > '9')
		return PWB_EUNAVAIL;
	return 0;
}

/* Makes level the generation the delta names, keeping the open one when it
 * is already that generation (the usual case: most publishes only replace
 * the delta). 0, PWB_ENOTFOUND (the delta names none), -ENOENT (the file
 * is gone) or PWB_EUNAVAIL. */
static int open_level(struct pwb_snapshot_reader *r, enum pwb_snapshot_set set,
		      enum pwb_snapshot_level level, DB *delta, struct snap_level *l)
{
	const char *meta = level == PWB_SNAPSHOT_MID ? PWB_SNAP_META_MID : PWB_SNAP_META_BASE;
	unsigned long long gen;
	char name[64];
	int rc;

	rc = read_meta(delta, meta, &gen);
	if (rc < 0) {
		close_level(l);
		return rc;
	}
	if (l->known && l->gen == gen)
		return 0;
	close_level(l);
	if (pwb_snapshot_level_name(set, level, gen, name, sizeof(name)) < 0)
		return PWB_EUNAVAIL;
	rc = open_db(r, name, &l->db);
	if (rc < 0)
		return rc;
	l->gen = gen;
	l->known = true;
	if (level == PWB_SNAPSHOT_MID)
		build_bloom(l);
	return 0;
}

/* Opens the delta and the mid and base it names. -EAGAIN: a named file
 * was already replaced, read the new delta; PWB_EUNAVAIL otherwise. */
static int open_generation(struct pwb_snapshot_reader *r, enum pwb_snapshot_set set)
{
	struct snap_set *s = &r->sets[set];
	struct snap_level *delta = &s->level[PWB_SNAPSHOT_DELTA];
	char name[64];
	struct stat st;
	int fd, rc;

	close_level(delta);
	s->open = false;
	pwb_snapshot_level_name(set, PWB_SNAPSHOT_DELTA, 0, name, sizeof(name));
	rc = open_db(r, name, &delta->db);
	if (rc < 0) {
		close_set(s);
		return PWB_EUNAVAIL; /* no snapshot published (yet), or not ours to read */
	}
	/* The identity of the file we opened, not of a path that may have been
	 * swapped since: later calls compare against this. */
	if (delta->db->fd(delta->db, &fd) != 0 || fstat(fd, &st) != 0) {
		close_set(s);
		return PWB_EUNAVAIL;
	}
	s->delta_fd = fd;
	s->opener = geteuid();
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mtime = st.st_mtim;
	if (read_meta(delta->db, PWB_SNAP_META_SEQ, &s->seq) < 0)
		s->seq = 0;

	rc = open_level(r, set, PWB_SNAPSHOT_BASE, delta->db, &s->level[PWB_SNAPSHOT_BASE]);
	if (rc == PWB_ENOTFOUND)
		rc = PWB_EUNAVAIL; /* every delta names its base */
	if (rc == 0)
		rc = open_level(r, set, PWB_SNAPSHOT_MID, delta->db, &s->level[PWB_SNAPSHOT_MID]);
	if (rc == PWB_ENOTFOUND)
		rc = 0; /* tolerate a delta sitting directly on its base */
	if (rc < 0) {
		close_set(s);
		/* Only a vanished file is worth a retry; a malformed meta value
		 * (PWB_EUNAVAIL, never equal to -ENOENT) is not. */
		return rc == -ENOENT ? -EAGAIN : PWB_EUNAVAIL;
	}
	build_bloom(delta);
	if (!delta->db) {
		close_set(s); /* not even meta keys: not a delta */
		return PWB_EUNAVAIL;
	}
	s->open = true;
	r->opens++;
	return 0;
}

/* Maps nss/generation, or re-maps it if the file there is another one;
 * leaves gen_map NULL (fstat every call) when there is none. */
static void map_generation(struct pwb_snapshot_reader *r)
{
	char path[PATH_MAX];
	struct stat st;
	void *p;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", r->dir, PWB_SNAP_GENERATION) >=
	    sizeof(path))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		unmap_generation(r);
		return;
	}
	if (fstat(fd, &st) == 0 && r->gen_map && st.st_ino == r->gen_ino &&
	    st.st_dev == r->gen_dev) {
		close(fd);
		return; /* the file we map */
	}
	unmap_generation(r);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (off_t)sizeof(uint64_t)) {
		p = mmap(NULL, sizeof(uint64_t), PROT_READ, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED) {
			r->gen_map = p;
			r->gen_dev = st.st_dev;
			r->gen_ino = st.st_ino;
		}
	}
	close(fd);
}

static uint64_t read_generation(const struct pwb_snapshot_reader *r)
{
	return r->gen_map ? __atomic_load_n(r->gen_map, __ATOMIC_ACQUIRE) : 0;
}

static long long elapsed_ns(const struct timespec *since, const struct timespec *now)
{
	return (now->tv_sec - since->tv_sec) * 1000000000LL + (now->tv_nsec - since->tv_nsec);
}

/* Has delta.db been replaced since we opened it? A rename over it leaves
 * our inode with no link; an in-place rewrite changes its mtime or size.
 * fstat of the held descriptor costs no path walk, and the held inode
 * cannot be recycled for a newer delta. */
static bool delta_current(const struct snap_set *s)
{
	struct stat st;

	if (fstat(s->delta_fd, &st) != 0)
		return false;
	return st.st_nlink > 0 && st.st_ino == s->ino && st.st_dev == s->dev &&
	       st.st_size == s->size && st.st_mtim.tv_sec == s->mtime.tv_sec &&
	       st.st_mtim.tv_nsec == s->mtime.tv_nsec;
}

/* Makes the set's handles current. The usual call reads the mapped
 * generation counter and returns; otherwise one fstat of the held delta
 * decides whether to re-open. */
static int refresh(struct pwb_snapshot_reader *r, enum pwb_snapshot_set set)
{
	struct snap_set *s = &r->sets[set];
	struct pwb_backoff backoff;
	struct timespec now;
	uint64_t gen;
	int rc;

	/* Open shadow handles must not outlive the privilege that opened them:
	 * a root daemon that switches to a user keeps no shadow access. (The
	 * public files are world-readable: no system call for them.) */
	if (set == PWB_SNAPSHOT_SHADOW && s->open && s->opener != geteuid())
		close_set(s);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now); /* vDSO: no system call */
	if (!s->open && !r->sets[!set].open)
		map_generation(r); /* nothing open: pick up a counter made since */
	/* Read before any check: a swap after this read shows up next call. */
	gen = read_generation(r);
	if (s->open) {
		bool recent = elapsed_ns(&s->checked, &now) < FULL_CHECK_NSEC;

		if (r->gen_map && s->gen_valid && gen == s->gen_seen && recent)
			return 0;
		if (!recent) {
			map_generation(r); /* once a second: is it still the file we map? */
			gen = read_generation(r);
		}
		if (delta_current(s)) {
			s->gen_seen = gen;
			s->gen_valid = r->gen_map != NULL;
			s->checked = now;
			return 0;
		}
	}
	if (open_env(r) < 0)
		return PWB_EUNAVAIL;
	pwb_backoff_init(&backoff, REOPEN_FIRST_US, REOPEN_MAX_US, REOPEN_PATIENCE_US);
	while ((rc = open_generation(r, set)) == -EAGAIN && pwb_backoff_wait(&backoff))
		;
	if (rc < 0)
		return PWB_EUNAVAIL;
	s->gen_seen = gen;
	s->gen_valid = r->gen_map != NULL;
	s->checked = now;
	return 0;
}

static int copy_value(const DBT *val, char *buf, size_t buflen, size_t *len)
{
	if ((size_t)val->size + 1 > buflen)
		return -ERANGE;
	memcpy(buf, val->data, val->size);
	buf[val->size] = '\0';
	*len = val->size;
	return 0;
}

/* The value of key at the first level holding it; tombstones read as
 * not found. val points into Berkeley DB's memory until the next call. */
static int lookup(struct snap_set *s, DBT *key, DBT *val)
{
	uint64_t h = key_hash(key->data, key->size);

	for (int i = 0; i < PWB_SNAPSHOT_LEVELS; i++) {
		struct snap_level *l = &s->level[i];
		int rc;

		if (!l->db || !bloom_maybe(l, h))
			continue;
		if (!l->cursor && l->db->cursor(l->db, NULL, &l->cursor, 0) != 0)
			return PWB_EUNAVAIL;
		memset(val, 0, sizeof(*val));
		rc = l->cursor->get(l->cursor, key, val, DB_SET);
		if (rc == 0)
			return val->size ? 0 : PWB_ENOTFOUND;
		if (rc != DB_NOTFOUND)
			return PWB_EUNAVAIL;
	}
	return PWB_ENOTFOUND;
}

int pwb_snapshot_get(struct pwb_snapshot_reader *r, enum pwb_snapshot_set set, const char *key,
		     char *buf, size_t buflen, size_t *len)
{
	DBT k = {.data = (void *)key, .size = (u_int32_t)strlen(key)};
	DBT val;
	int rc;

	*len = 0;
	if (k.size == 0 || key[0] == '@')
		return PWB_ENOTFOUND; /* meta keys are not entries */
	rc = refresh(r, set);
	if (rc == 0)
		rc = lookup(&r->sets[set], &k, &val);
	if (rc == 0)
		rc = copy_value(&val, buf, buflen, len);
	return rc;
}

int pwb_snapshot_seq(struct pwb_snapshot_reader *r, uint64_t *seq)
{
	int rc = refresh(r, PWB_SNAPSHOT_PUBLIC);

	*seq = rc == 0 ? r->sets[PWB_SNAPSHOT_PUBLIC].seq : 0;
	return rc;
}

/* True if a level newer than level holds key (live or tombstone), so the
 * entry at level is superseded. */
static bool superseded(struct snap_set *s, int level, DBT *key)
{
	uint64_t h = key_hash(key->data, key->size);

	for (int i = 0; i < level; i++) {
		struct snap_level *l = &s->level[i];

		if (l->db && bloom_maybe(l, h) && l->db->exists(l->db, NULL, key, 0) == 0)
			return true;
	}
	return false;
}

/* Walks one level from the cursor's position to the next live, current
 * entry under prefix. */
static int next_in_level(struct snap_set *s, const char *prefix, struct pwb_snapshot_cursor *cur,
			 char *buf, size_t buflen, size_t *len)
{
	DB *db = s->level[cur->level].db;
	size_t plen = strlen(prefix);
	u_int32_t flag = DB_SET_RANGE;
	DBC *c = NULL;
	DBT key, val;
	int rc;

	if (!db)
		return PWB_ENOTFOUND;
	if (db->cursor(db, NULL, &c, 0) != 0)
		return PWB_EUNAVAIL;
	memset(&key, 0, sizeof(key));
	if (cur->pos_len) {
		key.data = cur->pos;
		key.size = (u_int32_t)cur->pos_len;
	} else {
		key.data = (void *)prefix;
		key.size = (u_int32_t)plen;
	}
	for (;;) {
		memset(&val, 0, sizeof(val));
		rc = c->get(c, &key, &val, flag);
		flag = DB_NEXT;
		if (rc == DB_NOTFOUND) {
			rc = PWB_ENOTFOUND;
			break;
		}
		if (rc != 0) {
			rc = PWB_EUNAVAIL;
			break;
		}
		if (key.size < plen || memcmp(key.data, prefix, plen) != 0) {
			rc = PWB_ENOTFOUND;
			break;
		}
		if (key.size >= PWB_SNAPSHOT_KEY_MAX || val.size == 0 ||
		    ((const char *)key.data)[0] == '@')
			continue;
		if (cur->pos_len == key.size && memcmp(cur->pos, key.data, key.size) == 0)
			continue;
		if (superseded(s, cur->level, &key))
			continue;
		rc = copy_value(&val, buf, buflen, len);
		if (rc == 0) {
			memcpy(cur->found, key.data, key.size);
			cur->found_len = key.size;
		}
		break;
	}
	c->close(c);
	return rc;
}

int pwb_snapshot_next(struct pwb_snapshot_reader *r, enum pwb_snapshot_set set, const char *prefix,
		      struct pwb_snapshot_cursor *cur, char *buf, size_t buflen, size_t *len)
{
	int rc;

	*len = 0;
	rc = refresh(r, set);
	while (rc == 0 && cur->level < PWB_SNAPSHOT_LEVELS) {
		rc = next_in_level(&r->sets[set], prefix, cur, buf, buflen, len);
		if (rc != PWB_ENOTFOUND)
			break;
		cur->level++;
		cur->pos_len = 0;
		rc = 0;
	}
	if (rc == 0 && cur->level >= PWB_SNAPSHOT_LEVELS)
		rc = PWB_ENOTFOUND;
	return rc;
}

void pwb_snapshot_advance(struct pwb_snapshot_cursor *cur)
{
	memcpy(cur->pos, cur->found, cur->found_len);
	cur->pos_len = cur->found_len;
}
