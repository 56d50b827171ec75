/* nss_pwb's per-process cache (cache.h): the one snapshot reader handle
 * (lib/snapshot/reader.c does the reading), the lock around it, the fork
 * handlers, and the trust every value passes (trust.h), reloaded with each
 * generation the reader opens and when a file it came from changed. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "cache.h"
#include "config.h"
#include "names.h"
#include "snapshot.h"
#include "trust.h"

/* How often the files the trust came from are stat'ed (pwb.conf, the local
 * passwd and group): a local account added later is seen within this. */
#define TRUST_CHECK_NSEC 1000000000LL

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* The reader of db-dir/nss (NULL: none yet; made from pwb.conf's db-dir).
 * A set that failed is marked; with both failed the handle is dropped, so
 * the next call picks up a config written since. */
static struct pwb_snapshot_reader *reader;
static bool set_failed[2];

/* What values are checked against (trust.h): loaded whenever the reader
 * opened a generation (so it is never older than the one being served),
 * and when one of the files it came from changed. */
static struct pwb_nss_trust snap_trust;
static bool trust_loaded;
static uint64_t trust_opens;	      /* pwb_snapshot_opens() when it was loaded */
static struct timespec trust_checked; /* when its files were last stat'ed */
static bool trust_problem_logged;     /* a load failed and said so; quiet until one works */
static const char *local_files[2] = {"/etc/passwd", "/etc/group"};

/* Taken around every use of the handle. Cancellation is held off while
 * the lock is held: Berkeley DB's open/pread are cancellation points, and a
 * thread cancelled there would leave every later lookup blocked. */
static int cache_lock_enter(void)
{
	int cancel_state;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	pthread_mutex_lock(&cache_lock);
	return cancel_state;
}

static void cache_lock_leave(int cancel_state)
{
	pthread_mutex_unlock(&cache_lock);
	pthread_setcancelstate(cancel_state, NULL);
}

/* A file's identity, to notice it was replaced or rewritten. */
struct file_id {
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};
static struct file_id trust_files[3]; /* pwb.conf, then the local files */

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
			return PWB_EUNAVAIL;
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
		return PWB_EUNAVAIL;
	}
	pwb_nss_trust_free(&snap_trust);
	snap_trust = t;
	trust_loaded = true;
	trust_problem_logged = false;
	memcpy(trust_files, ids, sizeof(trust_files));
	return 0;
}

static void reader_drop(void)
{
	pwb_snapshot_reader_free(reader);
	reader = NULL;
	set_failed[0] = set_failed[1] = false;
}

/* Nothing may be served without a current trust: close everything. */
static int fail_closed(void)
{
	reader_drop();
	trust_drop();
	return PWB_EUNAVAIL;
}

/* The reader of the configured db-dir, made when there is none. */
static int reader_get(void)
{
	struct pwb_nss_config cfg;
	struct file_id cfg_id;
	char dir[PATH_MAX];
	int r;

	if (reader)
		return 0;
	if (read_config(&cfg, &cfg_id) < 0)
		return PWB_EUNAVAIL; /* malformed, or not ours to read */
	r = snprintf(dir, sizeof(dir), "%s/%s", cfg.db_dir, PWB_SNAP_DIR);
	if (r < 0 || (size_t)r >= sizeof(dir))
		return PWB_EUNAVAIL;
	return pwb_snapshot_reader_new(dir, &reader) < 0 ? PWB_EUNAVAIL : 0;
}

static long long elapsed_ns(const struct timespec *since, const struct timespec *now)
{
	return (now->tv_sec - since->tv_sec) * 1000000000LL + (now->tv_nsec - since->tv_nsec);
}

/* After a reader call r on set: records a failure, and makes the trust
 * current (a new generation, or its files changed, seen once a second).
 * Returns r, or PWB_EUNAVAIL when nothing may be served. */
static int settle(enum pwb_snapshot_set set, int r)
{
	struct timespec now;

	if (r == PWB_EUNAVAIL) {
		set_failed[set] = true;
		if (set_failed[!set])
			reader_drop();
		return r;
	}
	set_failed[set] = false;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now); /* vDSO: no system call */
	if (!trust_loaded || pwb_snapshot_opens(reader) != trust_opens) {
		if (load_trust(NULL, NULL) < 0)
			return fail_closed();
		trust_opens = pwb_snapshot_opens(reader);
		trust_checked = now;
	} else if (elapsed_ns(&trust_checked, &now) >= TRUST_CHECK_NSEC) {
		trust_checked = now;
		if (trust_files_changed() && load_trust(NULL, NULL) < 0)
			return fail_closed();
	}
	return trust_loaded ? r : fail_closed();
}

int pwb_nss_get(enum pwb_snapshot_set set, const char *key, char *buf, size_t buflen, size_t *len)
{
	int r, cancel_state;

	*len = 0;
	cancel_state = cache_lock_enter();
	r = reader_get();
	if (r == 0)
		r = settle(set, pwb_snapshot_get(reader, set, key, buf, buflen, len));
	if (r == 0)
		r = pwb_nss_trust_filter(&snap_trust, key, strlen(key), buf, len, buflen);
	cache_lock_leave(cancel_state);
	return r;
}

int pwb_nss_next(enum pwb_snapshot_set set, const char *prefix, struct pwb_snapshot_cursor *cur,
		 char *buf, size_t buflen, size_t *len)
{
	int r, cancel_state;

	*len = 0;
	cancel_state = cache_lock_enter();
	r = reader_get();
	while (r == 0) {
		r = settle(set, pwb_snapshot_next(reader, set, prefix, cur, buf, buflen, len));
		if (r < 0)
			break;
		r = pwb_nss_trust_filter(&snap_trust, cur->found, cur->found_len, buf, len, buflen);
		if (r != PWB_ENOTFOUND)
			break;
		pwb_snapshot_advance(cur); /* dropped by the trust: the next entry */
		r = 0;
	}
	cache_lock_leave(cancel_state);
	return r;
}

void pwb_nss_advance(struct pwb_snapshot_cursor *cur)
{
	int cancel_state;

	cancel_state = cache_lock_enter();
	pwb_snapshot_advance(cur);
	cache_lock_leave(cancel_state);
}

void pwb_nss_set_local_files(const char *passwd_path, const char *group_path)
{
	static char paths[2][PATH_MAX];
	int cancel_state;

	cancel_state = cache_lock_enter();
	snprintf(paths[0], sizeof(paths[0]), "%s", passwd_path ? passwd_path : "/etc/passwd");
	snprintf(paths[1], sizeof(paths[1]), "%s", group_path ? group_path : "/etc/group");
	local_files[0] = paths[0];
	local_files[1] = paths[1];
	cache_lock_leave(cancel_state);
}

void pwb_nss_rewind(struct pwb_snapshot_cursor *cur)
{
	int cancel_state;

	cancel_state = cache_lock_enter();
	memset(cur, 0, sizeof(*cur));
	cache_lock_leave(cancel_state);
}

void pwb_nss_close_all(void)
{
	/* At exit another thread may still be inside a lookup: then leave the
	 * handle to the process's end rather than wait. */
	if (pthread_mutex_trylock(&cache_lock) != 0)
		return;
	reader_drop();
	trust_drop();
	pthread_mutex_unlock(&cache_lock);
}

/* A fork while another thread holds the lock would leave the child's copy
 * locked forever: take it around fork so the child starts unlocked with
 * consistent handles (private memory, pread/mmap: usable in the child). */
static void cache_prefork(void)
{
	pthread_mutex_lock(&cache_lock);
}

static void cache_postfork(void)
{
	pthread_mutex_unlock(&cache_lock);
}

__attribute__((constructor)) static void cache_load(void)
{
	pthread_atfork(cache_prefork, cache_postfork, cache_postfork);
}

/* glibc unloads NSS modules at exit under valgrind (__libc_freeres): give
 * Berkeley DB's memory back so leak checkers see a clean process. */
__attribute__((destructor)) static void cache_unload(void)
{
	pwb_nss_close_all();
}
