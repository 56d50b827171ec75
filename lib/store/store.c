/* The store's life and transactions: opening (directories, the open lock,
 * taking over an older release's store, the format version), the write and
 * read transaction runners, and the commit hook. Storage itself is the
 * backend's (backend.h); the rules live in the store_*.c files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backoff.h"
#include "cleanup.h"
#include "log.h"
#include "internal/store_internal.h"

#define OPEN_LOCK_FILE "open.lock"
/* How long a transaction keeps retrying on lock conflicts (between threads
 * of this process) before giving up. */
#define TXN_PATIENCE_USEC    (60LL * 1000 * 1000)
#define TXN_FIRST_PAUSE_USEC 100
#define TXN_MAX_PAUSE_USEC   20000

/* Makes dir if missing (root only; owned by the caller's euid). */
static int make_dir(const char *path, mode_t mode, struct pwb_error *err)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return 0;
	if (errno != ENOENT)
		return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (geteuid() != 0)
		return pwb_error_set(err, -ENOENT, "%s: does not exist (create it as root)", path);
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return pwb_error_set(err, -errno, "%s: mkdir: %s", path, strerror(errno));
	if (chmod(path, mode) < 0)
		return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
	return 0;
}

/* Checks a directory: never world-writable; with strict, owned by this
 * process's euid (root in production) with exactly mode. */
static int check_dir(const char *path, mode_t mode, bool strict, struct pwb_error *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return pwb_error_set(err, PWB_ESTORE, "%s: not a directory", path);
	if (st.st_mode & S_IWOTH)
		return pwb_error_set(err, PWB_ESTORE, "%s: world-writable (mode %04o); chmod %04o",
				     path, (unsigned)(st.st_mode & 07777), (unsigned)mode);
	if (strict && (st.st_uid != geteuid() || (st.st_mode & 07777) != mode))
		return pwb_error_set(err, PWB_ESTORE,
				     "%s: owner %u mode %04o, expected owner %u mode %04o", path,
				     (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
				     (unsigned)geteuid(), (unsigned)mode);
	return 0;
}

/* A store an older release left to its store-user (store/ and nss/ owned
 * by it) becomes root's: the directory and every entry in it the old owner
 * owns, through a directory fd and without following a symlink (the old
 * owner could have planted one, or a hard link, to make root chown
 * something else). */
static int take_over(const char *path, struct pwb_error *err)
{
	_cleanup_close_ int fd = -1;
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int dfd, r = 0;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT
			   ? 0
			   : pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (st.st_uid == 0 && st.st_gid == 0)
		return 0;
	dfd = dup(fd);
	dir = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!dir) {
		if (dfd >= 0)
			close(dfd);
		return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
	}
	while (r == 0 && (de = readdir(dir)) != NULL) {
		struct stat e;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* Only what the old owner owns, and no hard link to a file
		 * elsewhere (chown would clear a setuid bit on it). */
		if (fstatat(fd, de->d_name, &e, AT_SYMLINK_NOFOLLOW) < 0 || e.st_uid != st.st_uid ||
		    (S_ISREG(e.st_mode) && e.st_nlink > 1)) {
			pwb_log(LOG_WARNING, "pwb store: %s/%s: left as it is (not the store's)",
				path, de->d_name);
			continue;
		}
		if (fchownat(fd, de->d_name, 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
			r = pwb_error_set(err, -errno, "%s/%s: chown: %s", path, de->d_name,
					  strerror(errno));
	}
	closedir(dir);
	if (r == 0 && fchown(fd, 0, 0) < 0)
		r = pwb_error_set(err, -errno, "%s: chown: %s", path, strerror(errno));
	if (r == 0)
		pwb_log(LOG_NOTICE, "pwb store: %s: taken over from uid %u (the store is root's)",
			path, (unsigned)st.st_uid);
	return r;
}

/* Only one process has the store open: an exclusive flock on open.lock,
 * held until pwb_store_close (the kernel drops it when the holder dies).
 * The holder's pid is in the file, for the message. */
static int open_lock(struct pwb_store *st, struct pwb_error *err)
{
	char path[PATH_MAX + 16], buf[24] = {0};
	ssize_t n;
	int len;

	snprintf(path, sizeof(path), "%s/%s", st->store_dir, OPEN_LOCK_FILE);
	st->open_lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->open_lock_fd < 0)
		return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (flock(st->open_lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		n = pread(st->open_lock_fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, " \n")] = '\0';
		close(st->open_lock_fd);
		st->open_lock_fd = -1;
		if (e != EWOULDBLOCK)
			return pwb_error_set(err, -e, "%s: %s", path, strerror(e));
		return pwb_error_set(err, PWB_EBUSY,
				     "%s: the store is open in process %s (pwbd, or an offline "
				     "pwbadm); stop it first",
				     st->store_dir, buf[0] ? buf : "(unknown)");
	}
	/* A pid left in the file: its process died with the store open (a
	 * clean close empties the file). */
	st->unclean = pread(st->open_lock_fd, buf, 1, 0) == 1;
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(st->open_lock_fd, 0) < 0 ||
	    pwrite(st->open_lock_fd, buf, (size_t)len, 0) != len)
		pwb_log(LOG_WARNING, "pwb store: %s: cannot record the pid", path);
	return 0;
}

/* Files an older release used for what one process makes unnecessary. */
static void remove_obsolete(const char *store_dir)
{
	static const char *const names[] = {"write.lock", "__db.register"};
	char path[PATH_MAX + 32];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", store_dir, names[i]);
		if (unlink(path) < 0 && errno != ENOENT)
			pwb_log(LOG_WARNING, "pwb store: %s: %s", path, strerror(errno));
	}
}

static int prepare(struct pwb_store *st, struct pwb_error *err)
{
	const struct pwb_config *cfg = st->cfg;
	char cache_dir[PATH_MAX];
	bool root = geteuid() == 0;
	int r;

	if ((size_t)snprintf(cache_dir, sizeof(cache_dir), "%s/cache", cfg->db_dir) >=
	    sizeof(cache_dir))
		return pwb_error_set(err, PWB_ECONFIG, "db-dir %s: path too long", cfg->db_dir);
	if ((r = make_dir(cfg->db_dir, 0755, err)) < 0 ||
	    (r = check_dir(cfg->db_dir, 0755, false, err)) < 0 ||
	    (r = make_dir(st->store_dir, 0700, err)) < 0)
		return r;
	if (root && (r = take_over(st->store_dir, err)) < 0)
		return r;
	if ((r = check_dir(st->store_dir, 0700, true, err)) < 0 || (r = open_lock(st, err)) < 0)
		return r;
	/* Under the lock: nobody else is in the store now. */
	if (root && (r = take_over(st->nss_dir, err)) < 0)
		return r;
	if ((r = make_dir(st->nss_dir, 0755, err)) < 0 ||
	    (r = check_dir(st->nss_dir, 0755, true, err)) < 0)
		return r;
	if (root && ((r = make_dir(cache_dir, 0700, err)) < 0 ||
		     (r = check_dir(cache_dir, 0700, true, err)) < 0))
		return r;
	remove_obsolete(st->store_dir);
	return 0;
}

/* ---- format version ---- */

#define FORMAT_KEY "format"

/* The stored format: 1 if the key is missing (stores from before it). */
static int read_format(struct pwb_txn *txn, unsigned *out, struct pwb_error *err)
{
	_cleanup_free_ char *val = NULL;
	uint64_t n = 0;
	const char *p;
	int r;

	r = pwb_kv_get(txn, DBI_META, FORMAT_KEY, strlen(FORMAT_KEY), &val, NULL, txn->write, err);
	if (r == PWB_ENOTFOUND) {
		*out = 1;
		return 0;
	}
	if (r < 0)
		return r;
	for (p = val; *p >= '0' && *p <= '9' && n < 1000000; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	if (p == val || *p)
		return pwb_error_set(err, PWB_ESTORE, "%s: the store's format version is damaged",
				     txn->st->store_dir);
	*out = (unsigned)n;
	return 0;
}

static int check_format(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	unsigned *format = ctx;

	return read_format(txn, format, err);
}

/* One transaction: either the whole upgrade is there or none of it. */
static int upgrade_format(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	uint64_t *users = ctx;
	struct pwb_change_entry e;
	char text[16];
	unsigned format;
	int r, n;

	r = read_format(txn, &format, err);
	if (r < 0 || format >= PWB_STORE_FORMAT)
		return r;
	if ((r = pwb_user_count(txn, users, err)) < 0)
		return r;
	if (format < 2 && (r = pwb_user_index_homes(txn, err)) < 0)
		return r;
	if (format < 3 && (r = pwb_change_upgrade(txn, err)) < 0)
		return r;
	n = snprintf(text, sizeof(text), "%u", PWB_STORE_FORMAT);
	r = pwb_kv_put(txn, DBI_META, FORMAT_KEY, strlen(FORMAT_KEY), text, (size_t)n, err);
	if (r < 0 || !*users)
		return r;
	/* Not a new, empty store: the log says when it was upgraded. */
	pwb_change_init(&e, 's', "upgrade", "", "", 0);
	if (pwb_change_note(&e, "format") < 0) {
		json_decref(e.changed);
		return pwb_error_set(err, -ENOMEM, "out of memory");
	}
	return pwb_change_append(txn, &e, err);
}

static int run_txn(struct pwb_store *st, bool write, pwb_txn_fn fn, void *ctx,
		   struct pwb_error *err);

/* A store written by an older pwb is upgraded; one written by a newer pwb
 * is refused, never misread. */
static int settle_format(struct pwb_store *st, struct pwb_error *err)
{
	unsigned format = 0;
	uint64_t users = 0;
	int r;

	r = run_txn(st, false, check_format, &format, err);
	if (r < 0)
		return r;
	if (format > PWB_STORE_FORMAT)
		return pwb_error_set(err, PWB_ESTORE,
				     "%s: the store has format %u, newer than this pwb knows (%u); "
				     "install the pwb version that wrote it",
				     st->store_dir, format, PWB_STORE_FORMAT);
	if (format == PWB_STORE_FORMAT)
		return 0;
	r = run_txn(st, true, upgrade_format, &users, err);
	if (r < 0)
		return pwb_error_prefix(err, "%s: upgrading the store from format %u to %u",
					st->store_dir, format, PWB_STORE_FORMAT);
	if (users) /* not a new, empty store */
		pwb_log(LOG_NOTICE, "pwb store: %s: upgraded from format %u to %u", st->store_dir,
			format, PWB_STORE_FORMAT);
	return 0;
}

int pwb_store_open(const struct pwb_config *cfg, struct pwb_store **out, struct pwb_error *err)
{
	struct pwb_store *st;
	int r;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	st->cfg = cfg;
	st->open_lock_fd = -1;
	pwb_store_set_request(st, NULL, NULL);
	if ((size_t)snprintf(st->store_dir, sizeof(st->store_dir), "%s/store", cfg->db_dir) >=
		sizeof(st->store_dir) ||
	    (size_t)snprintf(st->nss_dir, sizeof(st->nss_dir), "%s/%s", cfg->db_dir,
			     PWB_SNAP_DIR) >= sizeof(st->nss_dir))
		r = pwb_error_set(err, PWB_ECONFIG, "db-dir %s: path too long", cfg->db_dir);
	else
		r = prepare(st, err);
	if (r == 0)
		r = pwb_be_open(st, err);
	if (r == 0)
		r = settle_format(st, err);
	if (r < 0) {
		pwb_store_close(st);
		return r;
	}
	*out = st;
	return 0;
}

void pwb_store_close(struct pwb_store *st)
{
	if (!st)
		return;
	pwb_be_close(st);
	if (st->open_lock_fd >= 0) {
		if (ftruncate(st->open_lock_fd, 0) < 0)
			pwb_log(LOG_WARNING, "pwb store: %s: %s", OPEN_LOCK_FILE, strerror(errno));
		close(st->open_lock_fd); /* drops the lock */
	}
	free(st);
}

void pwb_store_on_commit(struct pwb_store *st, pwb_store_commit_hook hook, void *ctx)
{
	st->commit_hook = hook;
	st->commit_ctx = ctx;
}

pwb_store_commit_hook pwb_store_commit_hook_of(const struct pwb_store *st, void **ctx)
{
	*ctx = st->commit_ctx;
	return st->commit_hook;
}

void pwb_store_set_request(struct pwb_store *st, const struct pwb_actor *actor,
			   const char *request_id)
{
	memset(&st->actor, 0, sizeof(st->actor));
	if (actor)
		st->actor = *actor;
	if (!st->actor.kind[0])
		snprintf(st->actor.kind, sizeof(st->actor.kind), "pwbd");
	snprintf(st->request_id, sizeof(st->request_id), "%s", request_id ? request_id : "");
}

const struct pwb_config *pwb_store_config(const struct pwb_store *st)
{
	return st->cfg;
}

struct pwb_store *pwb_txn_store(struct pwb_txn *txn)
{
	return txn->st;
}

void pwb_txn_relax_durability(struct pwb_txn *txn)
{
	txn->relaxed = true;
}

void pwb_store_set_progress(struct pwb_store *st, const struct pwb_progress *progress)
{
	st->progress = progress ? *progress : (struct pwb_progress){0};
}

void pwb_txn_progress(struct pwb_txn *txn, const char *stage, uint64_t done, int64_t total,
		      const char *unit)
{
	pwb_progress_report(&txn->st->progress, stage, done, total, unit);
}

/* One attempt: begin, run fn, commit. Returns fn's result or a pwb error;
 * t->retry says the attempt lost a conflict and should run again. */
static int attempt_txn(struct pwb_store *st, bool write, pwb_txn_fn fn, void *ctx,
		       struct pwb_txn *t, struct pwb_error *err)
{
	int r, c;

	memset(t, 0, sizeof(*t));
	t->st = st;
	if (err)
		memset(err, 0, sizeof(*err));
	r = pwb_be_begin(t, write, err);
	if (r < 0)
		return r;
	r = fn(t, ctx, err);
	if (t->retry || r < 0) {
		pwb_be_abort(t);
		pwb_change_txn_end(t, false);
		return r;
	}
	c = pwb_be_commit(t, err);
	/* The audit copy in syslog: only what was committed, once. */
	pwb_change_txn_end(t, c == 0);
	return c ?: r;
}

/* Transactions run again after losing a conflict, since the process
 * started (pwbd's metrics). */
static uint64_t txn_retries;

uint64_t pwb_store_retries(void)
{
	return __atomic_load_n(&txn_retries, __ATOMIC_RELAXED);
}

static int run_txn(struct pwb_store *st, bool write, pwb_txn_fn fn, void *ctx,
		   struct pwb_error *err)
{
	struct pwb_backoff backoff;
	struct pwb_txn t;
	bool repaired = false;
	int r;

	/* A cluster store (st->ops) retries for store-timeout seconds, with
	 * longer pauses (each attempt is a round trip, or a reconnection). */
	if (st->ops && st->cfg->store_timeout)
		pwb_backoff_init(&backoff, TXN_FIRST_PAUSE_USEC * 10, TXN_MAX_PAUSE_USEC * 10,
				 st->cfg->store_timeout * 1000000LL);
	else
		pwb_backoff_init(&backoff, TXN_FIRST_PAUSE_USEC, TXN_MAX_PAUSE_USEC,
				 TXN_PATIENCE_USEC);
	for (;;) {
		r = attempt_txn(st, write, fn, ctx, &t, err);
		if (!pwb_be_should_retry(&t))
			break;
		if (t.panicked && !repaired) {
			repaired = true;
			r = pwb_be_repair(st, err);
			if (r < 0)
				break;
			continue;
		}
		__atomic_add_fetch(&txn_retries, 1, __ATOMIC_RELAXED);
		if (!pwb_backoff_wait(&backoff)) {
			/* an unreachable cluster database keeps its own message */
			if (r != PWB_EUNAVAIL)
				r = pwb_error_set(err, PWB_ESTORE,
						  "store busy: gave up after %u attempts",
						  backoff.attempt + 1);
			break;
		}
	}
	if (r < 0)
		return r;
	/* The hook (the publisher) runs before the write returns: whoever
	 * gets the answer also finds the change published. */
	if (write && t.changed) {
		st->last_write_seq = t.last_seq;
		if (st->commit_hook)
			st->commit_hook(st, t.last_seq, st->commit_ctx);
	}
	return r;
}

int pwb_store_write_local(struct pwb_store *st, pwb_txn_fn fn, void *ctx, struct pwb_error *err)
{
	return run_txn(st, true, fn, ctx, err);
}

/* A write to a replica runs on its writer (the cluster store) under the
 * replica's request (actor, request id, progress), if st->wait lets it
 * (seq 0), and returns once the replica has applied it (st->wait with the
 * change's seq), so the caller's next read here, or NSS's, sees it. */
static int write_through(struct pwb_store *st, pwb_txn_fn fn, void *ctx, struct pwb_error *err)
{
	struct pwb_store *w = st->writer;
	int r, wr;

	w->actor = st->actor;
	memcpy(w->request_id, st->request_id, sizeof(w->request_id));
	w->progress = st->progress;
	w->last_write_seq = 0;
	if (st->wait && (r = st->wait(st->wait_ctx, 0, err)) < 0)
		return r; /* the gate: this host may not write now */
	r = run_txn(w, true, fn, ctx, err);
	if (r < 0 || !w->last_write_seq || !st->wait)
		return r;
	wr = st->wait(st->wait_ctx, w->last_write_seq, err);
	return wr < 0 ? wr : r;
}

int pwb_store_write(struct pwb_store *st, pwb_txn_fn fn, void *ctx, struct pwb_error *err)
{
	if (st->writer)
		return write_through(st, fn, ctx, err);
	return run_txn(st, true, fn, ctx, err);
}

void pwb_store_link_writer(struct pwb_store *local, struct pwb_store *cluster,
			   pwb_store_wait_fn wait, void *ctx)
{
	local->writer = cluster;
	local->wait = cluster ? wait : NULL;
	local->wait_ctx = cluster ? ctx : NULL;
}

int pwb_store_read(struct pwb_store *st, pwb_txn_fn fn, void *ctx, struct pwb_error *err)
{
	return run_txn(st, false, fn, ctx, err);
}

int pwb_store_verify(struct pwb_store *st, struct pwb_error *err)
{
	return pwb_be_verify(st, err);
}
