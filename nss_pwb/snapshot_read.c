/* Reader of the published snapshot, shared by every map of nss_pwb. All
 * handles live in one private Berkeley DB environment (memory only, read-
 * only files memory-mapped, so lookups cost no read(2)) behind one mutex;
 * they stay open until delta.db is replaced by a new generation. Every
 * value passes the trust checks (trust.h), reloaded with each generation. */
#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "names.h"
#include "snapshot.h"
#include "snapshot_read.h"
#include "trust.h"

enum {
	LEVEL_DELTA = 0,
	LEVEL_MID = 1,
	LEVEL_BASE = 2,
	LEVELS = 3
};

/* Tries to open a consistent generation this many times when a writer
 * swaps it under us (a mid/base named by the delta we read is gone). */
#define OPEN_ATTEMPTS 5

/* Read-only files up to this size are mapped rather than copied into the
 * cache: address space only, the pages are the kernel's shared page cache. */
#define MMAP_MAX    ((size_t)1 << 30)
#define CACHE_BYTES (256 * 1024)

static const char *const delta_names[] = {
    [PWB_SNAP_SET_PUBLIC] = PWB_SNAP_DELTA,
    [PWB_SNAP_SET_SHADOW] = PWB_SNAP_SHADOW_DELTA,
};

/* The file name of generation gen of a mid or base level (literal formats,
 * so the compiler checks them). */
static void level_name(enum pwb_snap_set set, int level, unsigned long long gen, char *out,
		       size_t outlen)
{
	if (set == PWB_SNAP_SET_SHADOW)
		snprintf(out, outlen,
			 level == LEVEL_MID ? PWB_SNAP_SHADOW_MID_FMT : PWB_SNAP_SHADOW_BASE_FMT,
			 gen);
	else
		snprintf(out, outlen, level == LEVEL_MID ? PWB_SNAP_MID_FMT : PWB_SNAP_BASE_FMT,
			 gen);
}

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

struct snap_state {
	struct snap_level level[LEVELS];
	int delta_fd; /* Berkeley DB's descriptor of the delta */
	/* the publisher's counter (gen_map) when the delta was last checked */
	uint64_t gen_seen;
	bool gen_valid;
	struct timespec checked; /* when the delta was last fstat'ed */
	uid_t opener;		 /* shadow: the effective UID that could open the files */
	/* identity of the delta.db the handles belong to */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	char delta_path[PATH_MAX];
};

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;

/* The publisher's generation counter (snapshot.h), mapped read-only: while
 * it is unchanged, a call needs no system call at all. Any change, or a
 * second without a check, sends the call through the fstat of delta.db,
 * so a counter file that vanished or was replaced costs freshness of at
 * most a second, never correctness of what a checked delta says. */
#define FULL_CHECK_NSEC 1000000000LL
static const uint64_t *gen_map;
static dev_t gen_dev;
static ino_t gen_ino;
static DB_ENV *snap_env;
static char snap_dir[PATH_MAX]; /* db-dir/nss, resolved when nothing is open */
static struct snap_state snap_sets[2];

/* What values are checked against (trust.h): loaded whenever a set is
 * (re-)opened, so it is never older than the generation being served,
 * and when one of the files it came from changed (seen in the once-a-
 * second check). Present whenever a set is open. */
static struct pwb_nss_trust snap_trust;
static bool trust_loaded;
static bool trust_problem_logged; /* a load failed and said so; quiet until one works */
static const char *local_files[2] = {"/etc/passwd", "/etc/group"};

/* A file's identity, to notice it was replaced or rewritten. */
struct file_id {
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};
static struct file_id trust_files[3]; /* pwb.conf, then the local files */

/* Taken around every use of the handles. Cancellation is held off while
 * the lock is held: Berkeley DB's open/pread are cancellation points, and a
 * thread cancelled there would leave every later lookup blocked. */
static int snap_lock_enter(void)
{
	int cancel_state;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	pthread_mutex_lock(&snap_lock);
	return cancel_state;
}

static void snap_lock_leave(int cancel_state)
{
	pthread_mutex_unlock(&snap_lock);
	pthread_setcancelstate(cancel_state, NULL);
}

/* Levels holding more keys than this get no filter (and a base never does:
 * nearly every lookup ends there anyway). */
#define BLOOM_MAX_KEYS	   (1u << 20)
#define BLOOM_BITS_PER_KEY 16

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

static void close_set(struct snap_state *s)
{
	for (int i = 0; i < LEVELS; i++)
		close_level(&s->level[i]);
}

static bool any_open(void)
{
	for (size_t i = 0; i < 2; i++)
		if (snap_sets[i].level[LEVEL_DELTA].db)
			return true;
	return false;
}

static void silent_errcall(const DB_ENV *env, const char *prefix, const char *msg)
{
	/* A module inside someone else's process never prints. */
}

static void silent_msgcall(const DB_ENV *env, const char *msg)
{
}

static void file_id_of(const char *path, struct file_id *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (stat(path, &st) != 0)
		return;
	id->exists = true;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
}

static bool file_id_equal(const struct file_id *a, const struct file_id *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Did pwb.conf or a local file change since the trust was loaded? One we
 * cannot see now (the process chrooted or dropped privileges) counts as
 * unchanged: what it said when it could be read still stands. */
static bool trust_files_changed(void)
{
	const char *paths[3] = {pwb_config_path(NULL), local_files[0], local_files[1]};
	struct file_id now;

	for (size_t i = 0; i < 3; i++) {
		file_id_of(paths[i], &now);
		if (now.exists && !file_id_equal(&now, &trust_files[i]))
			return true;
	}
	return false;
}

static void trust_drop(void)
{
	pwb_nss_trust_free(&snap_trust);
	trust_loaded = false;
}

/* Reads pwb.conf ($PWB_CONFIG through secure_getenv, else the default; no
 * file: the defaults), noting its identity first: a change after that is
 * seen by the next check. Returns 0, -EINVAL for a malformed one (logged
 * once: a host where nss_pwb serves nothing should say why) or another
 * negative errno when it cannot be read. */
static int read_config(struct pwb_nss_config *cfg, struct file_id *id)
{
	const char *path = pwb_config_path(NULL);
	char shown[128];
	int r;

	file_id_of(path, id);
	r = pwb_config_read_nss(path, cfg);
	if (r == -EINVAL && !trust_problem_logged) {
		pwb_names_escape(path, shown, sizeof(shown));
		pwb_nss_trust_log("nss_pwb: %s: malformed %s; serving no pwb users until fixed",
				  shown, cfg->bad ? cfg->bad : "value");
		trust_problem_logged = true;
	}
	return r == -ENOENT ? 0 : r;
}

/* Loads the trust from cfg (NULL: read pwb.conf again) and the local
 * files. A malformed pwb.conf leaves nothing served. Files that cannot be
 * read leave the trust loaded before in place (a process that chrooted or
 * dropped privileges keeps what root-owned files said), or, with none,
 * nothing served, logged once. */
static int load_trust(const struct pwb_nss_config *cfg, const struct file_id *cfg_id)
{
	struct pwb_nss_config fresh;
	struct pwb_nss_trust t;
	struct file_id ids[3];
	int r;

	if (cfg) {
		ids[0] = *cfg_id;
	} else {
		r = read_config(&fresh, &ids[0]);
		if (r == -EINVAL || (r < 0 && !trust_loaded))
			return PWB_SNAP_UNAVAIL;
		if (r < 0)
			return 0;
		cfg = &fresh;
	}
	file_id_of(local_files[0], &ids[1]);
	file_id_of(local_files[1], &ids[2]);
	r = pwb_nss_trust_load(&t, cfg, local_files[0], local_files[1]);
	if (r < 0 && trust_loaded)
		return 0;
	if (r < 0) {
		if (!trust_problem_logged)
			pwb_nss_trust_log("nss_pwb: cannot read %s or %s (%s); serving no pwb "
					  "users until they can be read",
					  local_files[0], local_files[1], strerror(-r));
		trust_problem_logged = true;
		return PWB_SNAP_UNAVAIL;
	}
	pwb_nss_trust_free(&snap_trust);
	snap_trust = t;
	trust_loaded = true;
	trust_problem_logged = false;
	memcpy(trust_files, ids, sizeof(trust_files));
	return 0;
}

static int open_env(void)
{
	DB_ENV *env = NULL;

	if (snap_env)
		return 0;
	if (db_env_create(&env, 0) != 0)
		return PWB_SNAP_UNAVAIL;
	env->set_errcall(env, silent_errcall);
	env->set_msgcall(env, silent_msgcall);
	/* DB_PRIVATE: regions in this process's heap, no file is created. The
	 * home is "/" because Berkeley DB reads DB_CONFIG from it: only root can
	 * plant one there (not the cwd's owner, not the store user). */
	if (env->set_cachesize(env, 0, CACHE_BYTES, 1) != 0 ||
	    env->set_mp_mmapsize(env, MMAP_MAX) != 0 ||
	    env->open(env, "/", DB_CREATE | DB_PRIVATE | DB_INIT_MPOOL, 0) != 0) {
		env->close(env, 0);
		return PWB_SNAP_UNAVAIL;
	}
	snap_env = env;
	return 0;
}

/* Opens one file of the snapshot; ENOENT is told apart so that a file
 * swapped away mid-open can be retried. */
static int open_db(const char *path, DB **out)
{
	DB *db = NULL;
	int r, fd;

	*out = NULL;
	if (db_create(&db, snap_env, 0) != 0)
		return PWB_SNAP_UNAVAIL;
	r = db->open(db, NULL, path, NULL, DB_BTREE, DB_RDONLY, 0);
	if (r != 0) {
		db->close(db, DB_NOSYNC);
		return r == ENOENT ? -ENOENT : PWB_SNAP_UNAVAIL;
	}
	/* Berkeley DB sets FD_CLOEXEC right after its open(2); make sure,
	 * since the host's children must never inherit the descriptor. */
	if (db->fd(db, &fd) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
		db->close(db, DB_NOSYNC);
		return PWB_SNAP_UNAVAIL;
	}
	*out = db;
	return 0;
}

/* Reads a decimal meta value ("@mid", "@base") from the delta. */
static int read_meta(DB *delta, const char *name, unsigned long long *out)
{
	DBT key = {.data = (void *)name, .size = (u_int32_t)strlen(name)};
	DBT val = {0};
	char text[24];
	char *end;

	if (delta->get(delta, NULL, &key, &val, 0) != 0)
		return PWB_SNAP_NOTFOUND;
	if (val.size == 0 || val.size >= sizeof(text))
		return PWB_SNAP_UNAVAIL;
	memcpy(text, val.data, val.size);
	text[val.size] = '\0';
	errno = 0;
	*out = strtoull(text, &end, 10);
	if (errno || *end || text[0] < '0' || text[0] > '9')
		return PWB_SNAP_UNAVAIL;
	return 0;
}

/* Makes level `level` the generation the delta names, keeping the open one
 * when it is already that generation (the usual case: most publishes only
 * replace the delta). */
static int open_level(enum pwb_snap_set set, int level, DB *delta, struct snap_level *l)
{
	const char *meta = level == LEVEL_MID ? PWB_SNAP_META_MID : PWB_SNAP_META_BASE;
	unsigned long long gen;
	char name[64], path[PATH_MAX];
	int r;

	r = read_meta(delta, meta, &gen);
	if (r < 0) {
		close_level(l);
		return r;
	}
	if (l->known && l->gen == gen)
		return 0;
	close_level(l);
	level_name(set, level, gen, name, sizeof(name));
	r = snprintf(path, sizeof(path), "%s/%s", snap_dir, name);
	if (r < 0 || (size_t)r >= sizeof(path))
		return PWB_SNAP_UNAVAIL;
	r = open_db(path, &l->db);
	if (r < 0)
		return r;
	l->gen = gen;
	l->known = true;
	if (level == LEVEL_MID)
		build_bloom(l);
	return 0;
}

/* Opens delta.db and the mid and base it names. -EAGAIN: a named file was
 * already replaced, read the new delta. */
static int open_generation(enum pwb_snap_set set)
{
	struct snap_state *s = &snap_sets[set];
	struct snap_level *delta = &s->level[LEVEL_DELTA];
	struct stat st;
	int fd, r;

	close_level(delta);
	r = open_db(s->delta_path, &delta->db);
	if (r < 0) {
		close_set(s);
		return PWB_SNAP_UNAVAIL; /* no snapshot published (yet), or not ours to read */
	}
	/* The identity of the file we opened, not of a path that may have been
	 * swapped since: later calls compare against this. */
	if (delta->db->fd(delta->db, &fd) != 0 || fstat(fd, &st) != 0) {
		close_set(s);
		return PWB_SNAP_UNAVAIL;
	}
	s->delta_fd = fd;
	s->opener = geteuid();
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mtime = st.st_mtim;

	r = open_level(set, LEVEL_BASE, delta->db, &s->level[LEVEL_BASE]);
	if (r == PWB_SNAP_NOTFOUND)
		r = PWB_SNAP_UNAVAIL; /* every delta names its base */
	if (r == 0)
		r = open_level(set, LEVEL_MID, delta->db, &s->level[LEVEL_MID]);
	if (r == PWB_SNAP_NOTFOUND)
		r = 0; /* tolerate a delta sitting directly on its base */
	if (r < 0) {
		close_set(s);
		return r == -ENOENT ? -EAGAIN : PWB_SNAP_UNAVAIL;
	}
	build_bloom(delta);
	if (!delta->db) {
		close_set(s); /* not even meta keys: not a delta */
		return PWB_SNAP_UNAVAIL;
	}
	return 0;
}

static void unmap_generation(void)
{
	if (gen_map)
		munmap((void *)gen_map, sizeof(*gen_map));
	gen_map = NULL;
}

/* Maps db-dir/nss/generation, or re-maps it if the file there is another
 * one; leaves gen_map NULL (stat every call) when there is none. */
static void map_generation(void)
{
	char path[PATH_MAX];
	struct stat st;
	void *p;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", snap_dir, PWB_SNAP_GENERATION) >=
	    sizeof(path))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		unmap_generation();
		return;
	}
	if (fstat(fd, &st) == 0 && gen_map && st.st_ino == gen_ino && st.st_dev == gen_dev) {
		close(fd);
		return; /* the file we map */
	}
	unmap_generation();
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (off_t)sizeof(uint64_t)) {
		p = mmap(NULL, sizeof(uint64_t), PROT_READ, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED) {
			gen_map = p;
			gen_dev = st.st_dev;
			gen_ino = st.st_ino;
		}
	}
	close(fd);
}

static uint64_t read_generation(void)
{
	return gen_map ? __atomic_load_n(gen_map, __ATOMIC_ACQUIRE) : 0;
}

static long long elapsed_ns(const struct timespec *since, const struct timespec *now)
{
	return (now->tv_sec - since->tv_sec) * 1000000000LL + (now->tv_nsec - since->tv_nsec);
}

/* Has delta.db been replaced since we opened it? A rename over it leaves
 * our inode with no link; an in-place rewrite changes its mtime or size.
 * fstat of the held descriptor costs no path walk, and the held inode
 * cannot be recycled for a newer delta. */
static bool delta_current(const struct snap_state *s)
{
	struct stat st;

	if (fstat(s->delta_fd, &st) != 0)
		return false;
	return st.st_nlink > 0 && st.st_ino == s->ino && st.st_dev == s->dev &&
	       st.st_size == s->size && st.st_mtim.tv_sec == s->mtime.tv_sec &&
	       st.st_mtim.tv_nsec == s->mtime.tv_nsec;
}

/* Nothing may be served without a current trust: close every set. */
static int fail_closed(void)
{
	for (size_t i = 0; i < 2; i++)
		close_set(&snap_sets[i]);
	trust_drop();
	return PWB_SNAP_UNAVAIL;
}

/* Makes the set's handles current. Called with snap_lock held. The usual
 * call reads the mapped generation counter and returns; otherwise one fstat
 * of the held delta decides whether to re-open. */
static int refresh(enum pwb_snap_set set)
{
	struct snap_state *s = &snap_sets[set];
	struct pwb_nss_config cfg;
	struct file_id cfg_id;
	bool have_cfg = false;
	struct timespec now;
	uint64_t gen;
	int r;

	/* Open shadow handles must not outlive the privilege that opened them:
	 * a root daemon that switches to a user keeps no shadow access. */
	if (set == PWB_SNAP_SET_SHADOW && s->level[LEVEL_DELTA].db && s->opener != geteuid())
		close_set(s);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now); /* vDSO: no system call */
	/* Read before any check: a swap after this read shows up next call. */
	gen = read_generation();
	if (s->level[LEVEL_DELTA].db) {
		bool recent = elapsed_ns(&s->checked, &now) < FULL_CHECK_NSEC;

		if (gen_map && s->gen_valid && gen == s->gen_seen && recent)
			return 0;
		if (!recent) {
			map_generation(); /* once a second: is it still the file we map? */
			gen =
			    read_generation(); /* of the file mapped now, still before the check */
			/* and are the ranges and local ids still those of the files? */
			if (trust_files_changed() && load_trust(NULL, NULL) < 0)
				return fail_closed();
		}
		if (delta_current(s)) {
			s->gen_seen = gen;
			s->gen_valid = gen_map != NULL;
			s->checked = now;
			return 0;
		}
	} else if (!any_open()) {
		/* Nothing open: pick up a config written since the last try. */
		if (read_config(&cfg, &cfg_id) < 0)
			return PWB_SNAP_UNAVAIL; /* malformed, or not ours to read */
		r = snprintf(snap_dir, sizeof(snap_dir), "%s/%s", cfg.db_dir, PWB_SNAP_DIR);
		if (r < 0 || (size_t)r >= sizeof(snap_dir))
			return PWB_SNAP_UNAVAIL;
		have_cfg = true;
		map_generation();
		gen = read_generation();
	}
	r = snprintf(s->delta_path, sizeof(s->delta_path), "%s/%s", snap_dir, delta_names[set]);
	if (r < 0 || (size_t)r >= sizeof(s->delta_path))
		return PWB_SNAP_UNAVAIL;
	if (open_env() < 0)
		return PWB_SNAP_UNAVAIL;
	for (int attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
		r = open_generation(set);
		if (r != -EAGAIN)
			break;
	}
	if (r == -EAGAIN)
		return PWB_SNAP_UNAVAIL;
	/* A new generation: checked against what the files say now. */
	if (r == 0 && load_trust(have_cfg ? &cfg : NULL, &cfg_id) < 0)
		return fail_closed();
	if (r == 0) {
		s->gen_seen = gen;
		s->gen_valid = gen_map != NULL;
		s->checked = now;
	}
	return r;
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
static int lookup(struct snap_state *s, DBT *key, DBT *val)
{
	uint64_t h = key_hash(key->data, key->size);

	for (int i = 0; i < LEVELS; i++) {
		DB *db = s->level[i].db;
		int r;

		if (!db || !bloom_maybe(&s->level[i], h))
			continue;
		if (!s->level[i].cursor && db->cursor(db, NULL, &s->level[i].cursor, 0) != 0)
			return PWB_SNAP_UNAVAIL;
		memset(val, 0, sizeof(*val));
		r = s->level[i].cursor->get(s->level[i].cursor, key, val, DB_SET);
		if (r == 0)
			return val->size ? 0 : PWB_SNAP_NOTFOUND;
		if (r != DB_NOTFOUND)
			return PWB_SNAP_UNAVAIL;
	}
	return PWB_SNAP_NOTFOUND;
}

int pwb_snap_get(enum pwb_snap_set set, const char *key, char *buf, size_t buflen, size_t *len)
{
	DBT k = {.data = (void *)key, .size = (u_int32_t)strlen(key)};
	DBT val;
	int r, cancel_state;

	*len = 0;
	cancel_state = snap_lock_enter();
	r = refresh(set);
	if (r == 0)
		r = lookup(&snap_sets[set], &k, &val);
	if (r == 0)
		r = copy_value(&val, buf, buflen, len);
	if (r == 0)
		r = trust_loaded ? pwb_nss_trust_filter(&snap_trust, key, k.size, buf, len, buflen)
				 : PWB_SNAP_UNAVAIL;
	snap_lock_leave(cancel_state);
	return r;
}

/* True if a level newer than `level` holds key (live or tombstone), so the
 * entry at `level` is superseded. */
static bool superseded(struct snap_state *s, int level, DBT *key)
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
static int next_in_level(struct snap_state *s, const char *prefix, struct pwb_snap_cursor *cur,
			 char *buf, size_t buflen, size_t *len)
{
	DB *db = s->level[cur->level].db;
	size_t plen = strlen(prefix);
	DBC *c = NULL;
	DBT key, val;
	u_int32_t flag = DB_SET_RANGE;
	int r;

	if (!db)
		return PWB_SNAP_NOTFOUND;
	if (db->cursor(db, NULL, &c, 0) != 0)
		return PWB_SNAP_UNAVAIL;
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
		r = c->get(c, &key, &val, flag);
		flag = DB_NEXT;
		if (r == DB_NOTFOUND) {
			r = PWB_SNAP_NOTFOUND;
			break;
		}
		if (r != 0) {
			r = PWB_SNAP_UNAVAIL;
			break;
		}
		if (key.size < plen || memcmp(key.data, prefix, plen) != 0) {
			r = PWB_SNAP_NOTFOUND;
			break;
		}
		if (key.size >= PWB_SNAP_KEY_MAX || val.size == 0)
			continue;
		if (cur->pos_len == key.size && memcmp(cur->pos, key.data, key.size) == 0)
			continue;
		if (superseded(s, cur->level, &key))
			continue;
		r = copy_value(&val, buf, buflen, len);
		if (r == 0)
			r = trust_loaded ? pwb_nss_trust_filter(&snap_trust, key.data, key.size,
								buf, len, buflen)
					 : PWB_SNAP_UNAVAIL;
		if (r == PWB_SNAP_NOTFOUND)
			continue; /* dropped: the next entry */
		if (r == 0) {
			memcpy(cur->found, key.data, key.size);
			cur->found_len = key.size;
		}
		break;
	}
	c->close(c);
	return r;
}

int pwb_snap_next(enum pwb_snap_set set, const char *prefix, struct pwb_snap_cursor *cur, char *buf,
		  size_t buflen, size_t *len)
{
	int r, cancel_state;

	*len = 0;
	cancel_state = snap_lock_enter();
	r = refresh(set);
	while (r == 0 && cur->level < LEVELS) {
		r = next_in_level(&snap_sets[set], prefix, cur, buf, buflen, len);
		if (r == PWB_SNAP_NOTFOUND) {
			cur->level++;
			cur->pos_len = 0;
			r = 0;
		} else {
			break;
		}
	}
	if (r == 0 && cur->level >= LEVELS)
		r = PWB_SNAP_NOTFOUND;
	snap_lock_leave(cancel_state);
	return r;
}

void pwb_snap_advance(struct pwb_snap_cursor *cur)
{
	int cancel_state;

	cancel_state = snap_lock_enter();
	memcpy(cur->pos, cur->found, cur->found_len);
	cur->pos_len = cur->found_len;
	snap_lock_leave(cancel_state);
}

void pwb_snap_set_local_files(const char *passwd_path, const char *group_path)
{
	static char paths[2][PATH_MAX];
	int cancel_state;

	cancel_state = snap_lock_enter();
	snprintf(paths[0], sizeof(paths[0]), "%s", passwd_path ? passwd_path : "/etc/passwd");
	snprintf(paths[1], sizeof(paths[1]), "%s", group_path ? group_path : "/etc/group");
	local_files[0] = paths[0];
	local_files[1] = paths[1];
	snap_lock_leave(cancel_state);
}

void pwb_snap_rewind(struct pwb_snap_cursor *cur)
{
	int cancel_state;

	cancel_state = snap_lock_enter();
	memset(cur, 0, sizeof(*cur));
	snap_lock_leave(cancel_state);
}

void pwb_snap_close_all(void)
{
	/* At exit another thread may still be inside a lookup: then leave the
	 * handles to the process's end rather than wait. */
	if (pthread_mutex_trylock(&snap_lock) != 0)
		return;
	for (size_t i = 0; i < 2; i++)
		close_set(&snap_sets[i]);
	trust_drop();
	if (snap_env)
		snap_env->close(snap_env, 0);
	snap_env = NULL;
	pthread_mutex_unlock(&snap_lock);
}

/* A fork while another thread holds the lock would leave the child's copy
 * locked forever: take it around fork so the child starts unlocked with
 * consistent handles (private memory, pread/mmap: usable in the child). */
static void snap_prefork(void)
{
	pthread_mutex_lock(&snap_lock);
}

static void snap_postfork(void)
{
	pthread_mutex_unlock(&snap_lock);
}

__attribute__((constructor)) static void snap_load(void)
{
	pthread_atfork(snap_prefork, snap_postfork, snap_postfork);
}

/* glibc unloads NSS modules at exit under valgrind (__libc_freeres): give
 * Berkeley DB's memory back so leak checkers see a clean process. */
__attribute__((destructor)) static void snap_unload(void)
{
	pwb_snap_close_all();
}
