/* The store's environment and transactions: opening (with crash recovery
 * and failchk), the write/read transaction runners with deadlock retry,
 * and raw key/value helpers used by the record files. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cleanup.h"
#include "fsid.h"
#include "log.h"
#include "publish.h"
#include "internal/store_internal.h"

#define STORE_FILE	 "store.db"
#define WRITE_LOCK_FILE	 "write.lock"
#define CHECKPOINT_EVERY 64
#define CACHE_BYTES	 (8 * 1024 * 1024)
/* Every PAM login opens the environment, so its regions stay small. Locks
 * are per page: a transaction writing 100k users takes about 30k. */
#define MAX_LOCKS 60000
/* How long a transaction keeps retrying on lock conflicts before giving up. */
#define TXN_PATIENCE_USEC (60LL * 1000 * 1000)

static const struct {
	const char *name;
	bool dup;
} dbdefs[DBI_COUNT] = {
    [DBI_META] = {"meta", false},
    [DBI_USERS] = {"users", false},
    [DBI_USER_NAME] = {"user_name", false},
    [DBI_USER_UNAME] = {"user_username", false},
    [DBI_USER_UID] = {"user_uid", false},
    [DBI_USER_EXT] = {"user_external_id", false},
    [DBI_GROUPS] = {"groups", false},
    [DBI_GROUP_NAME] = {"group_name", false},
    [DBI_GROUP_GID] = {"group_gid", false},
    [DBI_GROUP_EXT] = {"group_external_id", false},
    [DBI_MEMBERS] = {"members", true},
    [DBI_MEMBER_OF] = {"member_of", true},
    [DBI_TOKENS] = {"tokens", false},
    [DBI_TOKEN_HASH] = {"token_hash", false},
    [DBI_RETIRED] = {"retired", false},
    [DBI_CHANGES] = {"changes", false},
    [DBI_USER_SUBJECT] = {"user_subject", false},
    [DBI_USER_HOME] = {"user_home", false},
};

int pwb_store_db_error(struct pwb_error *err, int ret, const char *what)
{
	if (ret == DB_LOCK_DEADLOCK || ret == DB_LOCK_NOTGRANTED)
		return pwb_error_set(err, PWB_ESTORE, "%s: deadlock (retried)", what);
	return pwb_error_set(err, PWB_ESTORE, "%s: %s", what, db_strerror(ret));
}

/* Deadlocks are retried by the transaction runner, whatever fn returned. */
int pwb_txn_fail(struct pwb_txn *txn, int ret, const char *what, struct pwb_error *err)
{
	if (ret == DB_LOCK_DEADLOCK || ret == DB_LOCK_NOTGRANTED)
		txn->deadlocked = true;
	if (ret == DB_RUNRECOVERY)
		txn->panicked = true;
	return pwb_store_db_error(err, ret, what);
}

int pwb_kv_get(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen, char **val,
	       size_t *vlen, bool for_update, struct pwb_error *err)
{
	DBT k = {0}, v = {0};
	int ret;

	*val = NULL;
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	v.flags = DB_DBT_MALLOC;
	ret = txn->st->db[dbi]->get(txn->st->db[dbi], txn->tid, &k, &v,
				    for_update && txn->write ? DB_RMW : 0);
	if (ret == DB_NOTFOUND)
		return PWB_ENOTFOUND;
	if (ret != 0)
		return pwb_txn_fail(txn, ret, dbdefs[dbi].name, err);
	/* NUL-terminate for the JSON and text callers. */
	*val = realloc(v.data, v.size + 1);
	if (!*val) {
		free(v.data);
		return pwb_error_set(err, -ENOMEM, "out of memory");
	}
	(*val)[v.size] = '\0';
	if (vlen)
		*vlen = v.size;
	return 0;
}

int pwb_kv_put(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen, const void *val,
	       size_t vlen, struct pwb_error *err)
{
	DBT k = {0}, v = {0};
	int ret;

	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	v.data = (void *)val;
	v.size = (u_int32_t)vlen;
	ret = txn->st->db[dbi]->put(txn->st->db[dbi], txn->tid, &k, &v,
				    dbdefs[dbi].dup ? DB_NODUPDATA : 0);
	if (ret == DB_KEYEXIST)
		return 0; /* a sorted duplicate already present: idempotent */
	if (ret != 0)
		return pwb_txn_fail(txn, ret, dbdefs[dbi].name, err);
	return 0;
}

int pwb_kv_del(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
	       struct pwb_error *err)
{
	DBT k = {0};
	int ret;

	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	ret = txn->st->db[dbi]->del(txn->st->db[dbi], txn->tid, &k, 0);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return pwb_txn_fail(txn, ret, dbdefs[dbi].name, err);
	return 0;
}

bool pwb_kv_exists(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen)
{
	DBT k = {0};
	int ret;

	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	ret = txn->st->db[dbi]->exists(txn->st->db[dbi], txn->tid, &k, 0);
	if (ret != 0 && ret != DB_NOTFOUND)
		pwb_txn_fail(txn, ret, dbdefs[dbi].name, NULL);
	return ret == 0;
}

int pwb_kv_dup_del(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		   const void *val, size_t vlen, struct pwb_error *err)
{
	DB *db = txn->st->db[dbi];
	DBC *c = NULL;
	DBT k = {0}, v = {0};
	int ret;

	ret = db->cursor(db, txn->tid, &c, 0);
	if (ret != 0)
		return pwb_txn_fail(txn, ret, dbdefs[dbi].name, err);
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	v.data = (void *)val;
	v.size = (u_int32_t)vlen;
	ret = c->get(c, &k, &v, DB_GET_BOTH | DB_RMW);
	if (ret == 0)
		ret = c->del(c, 0);
	c->close(c);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return pwb_txn_fail(txn, ret, dbdefs[dbi].name, err);
	return 0;
}

int pwb_kv_dup_foreach(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		       pwb_id_cb cb, void *ctx, struct pwb_error *err)
{
	DB *db = txn->st->db[dbi];
	DBC *c = NULL;
	DBT k = {0}, v = {0};
	char id[PWB_ID_LEN + 1];
	int ret, r = 0;
	u_int32_t flag = DB_SET;

	ret = db->cursor(db, txn->tid, &c, 0);
	if (ret != 0)
		return pwb_txn_fail(txn, ret, dbdefs[dbi].name, err);
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	v.flags = DB_DBT_REALLOC;
	while ((ret = c->get(c, &k, &v, flag)) == 0) {
		flag = DB_NEXT_DUP;
		if (v.size != PWB_ID_LEN)
			continue;
		memcpy(id, v.data, PWB_ID_LEN);
		id[PWB_ID_LEN] = '\0';
		r = cb(id, ctx);
		if (r != 0)
			break;
	}
	free(v.data);
	c->close(c);
	if (r != 0)
		return r;
	if (ret != 0 && ret != DB_NOTFOUND)
		return pwb_txn_fail(txn, ret, dbdefs[dbi].name, err);
	return 0;
}

int pwb_kv_foreach(struct pwb_txn *txn, enum pwb_dbi dbi, pwb_kv_cb cb, void *ctx,
		   struct pwb_error *err)
{
	DB *db = txn->st->db[dbi];
	DBC *c = NULL;
	DBT k = {0}, v = {0};
	int ret, r = 0;

	ret = db->cursor(db, txn->tid, &c, 0);
	if (ret != 0)
		return pwb_txn_fail(txn, ret, dbdefs[dbi].name, err);
	k.flags = v.flags = DB_DBT_REALLOC;
	while ((ret = c->get(c, &k, &v, DB_NEXT)) == 0) {
		r = cb(k.data, k.size, v.data, v.size, ctx, err);
		if (r != 0)
			break;
	}
	free(k.data);
	free(v.data);
	c->close(c);
	if (r != 0)
		return r;
	if (ret != DB_NOTFOUND)
		return pwb_txn_fail(txn, ret, dbdefs[dbi].name, err);
	return 0;
}

int pwb_kv_del_by_value(struct pwb_txn *txn, enum pwb_dbi dbi, const void *val, size_t vlen,
			pwb_kv_key_cb cb, void *ctx, struct pwb_error *err)
{
	DB *db = txn->st->db[dbi];
	DBC *c = NULL;
	DBT k = {0}, v = {0};
	int ret;

	ret = db->cursor(db, txn->tid, &c, 0);
	if (ret != 0)
		return pwb_txn_fail(txn, ret, dbdefs[dbi].name, err);
	k.flags = v.flags = DB_DBT_REALLOC;
	while ((ret = c->get(c, &k, &v, DB_NEXT | DB_RMW)) == 0) {
		if (v.size != vlen || memcmp(v.data, val, vlen) != 0)
			continue;
		if (cb)
			cb(dbi, k.data, k.size, ctx);
		ret = c->del(c, 0);
		if (ret != 0)
			break;
	}
	free(k.data);
	free(v.data);
	c->close(c);
	if (ret != 0 && ret != DB_NOTFOUND)
		return pwb_txn_fail(txn, ret, dbdefs[dbi].name, err);
	return 0;
}

/* ---- environment ---- */

static int is_alive(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

static void thread_id(DB_ENV *env, pid_t *pid, db_threadid_t *tid)
{
	if (pid)
		*pid = getpid();
	if (tid)
		*tid = pthread_self();
}

static void db_errcall(const DB_ENV *env, const char *prefix, const char *msg)
{
	pwb_log(LOG_ERR, "pwb store: %s", msg);
}

/* failchk's reports ("freeing locks of dead process N") go to syslog. */
static void db_msgcall(const DB_ENV *env, const char *msg)
{
	pwb_log(LOG_NOTICE, "pwb store: %s", msg);
}

/* Makes dir if missing (root only), then checks owner and mode. */
static int prepare_dir(const char *path, mode_t mode, uid_t uid, gid_t gid, bool strict,
		       struct pwb_error *err)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
		if (geteuid() != 0)
			return pwb_error_set(err, -ENOENT, "%s: does not exist (create it as root)",
					     path);
		if (mkdir(path, mode) < 0 && errno != EEXIST)
			return pwb_error_set(err, -errno, "%s: mkdir: %s", path, strerror(errno));
		if (chown(path, uid, gid) < 0 || chmod(path, mode) < 0)
			return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
		if (lstat(path, &st) < 0)
			return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return pwb_error_set(err, PWB_ESTORE, "%s: not a directory", path);
	if (st.st_mode & S_IWOTH)
		return pwb_error_set(err, PWB_ESTORE, "%s: world-writable (mode %04o); chmod %04o",
				     path, (unsigned)(st.st_mode & 07777), (unsigned)mode);
	if (strict && (st.st_uid != uid || (st.st_mode & 07777) != mode))
		return pwb_error_set(err, PWB_ESTORE,
				     "%s: owner %u mode %04o, expected owner %u mode %04o "
				     "(the store user)",
				     path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
				     (unsigned)uid, (unsigned)mode);
	return 0;
}

static int lookup_store_user(const char *name, uid_t *uid, gid_t *gid, struct pwb_error *err)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int r;

	r = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (r != 0 || !res)
		return pwb_error_set(err, PWB_ECONFIG,
				     "store-user '%s' does not exist (create it: useradd --system "
				     "--no-create-home %s)",
				     name, name);
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

/* Environments this process has open: while one is, its Berkeley DB
 * registry lock is a POSIX lock that closing any descriptor of the
 * registry would drop, so clear_stale_regions() must not run. Opens are
 * serialised within the process (POSIX locks do not conflict between its
 * own threads, so the registry alone cannot tell them apart). */
static int open_environments;
static pthread_mutex_t open_mutex = PTHREAD_MUTEX_INITIALIZER;

/* Berkeley DB's registry (__db.register): one 25-byte "%24lu\n" slot per
 * process, each holding a one-byte fcntl lock at its offset while alive;
 * byte 1 serialises openers. */
#define REGISTRY_SLOT_LEN  25
#define REGISTRY_OPEN_BYTE 1

static int registry_lock(int fd, off_t pos, short type, bool wait)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = pos, .l_len = 1};

	return fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl);
}

/* When every process in the registry is dead, nobody is attached to the
 * regions and DB_RECOVER will rebuild them from the log anyway. Remove
 * them first: Berkeley DB would otherwise attach them to mark them
 * panicked and block for ever on a mutex that a process killed inside a
 * transaction still holds (SIGKILL of pwb-scim or pwbadm mid-write). */
static bool clear_stale_regions(const char *store_dir)
{
	char path[PATH_MAX + 16], slot[REGISTRY_SLOT_LEN];
	bool dead = false, alive = false, removed = false;
	struct dirent *de;
	off_t pos;
	DIR *dir;
	int fd;

	if (__atomic_load_n(&open_environments, __ATOMIC_SEQ_CST) > 0)
		return false;
	snprintf(path, sizeof(path), "%s/__db.register", store_dir);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	if (registry_lock(fd, REGISTRY_OPEN_BYTE, F_WRLCK, true) < 0)
		goto out;
	for (pos = 0; pread(fd, slot, sizeof(slot), pos) == (ssize_t)sizeof(slot);
	     pos += REGISTRY_SLOT_LEN) {
		if (slot[0] == 'X' || slot[REGISTRY_SLOT_LEN - 2] == ' ')
			continue; /* an empty slot */
		if (registry_lock(fd, pos, F_WRLCK, false) < 0) {
			alive = true;
			break;
		}
		registry_lock(fd, pos, F_UNLCK, false);
		dead = true;
	}
	if (!dead || alive)
		goto out;
	dir = opendir(store_dir);
	if (!dir)
		goto out;
	while ((de = readdir(dir)) != NULL) {
		if (strncmp(de->d_name, "__db.0", 6) != 0)
			continue;
		if (unlinkat(dirfd(dir), de->d_name, 0) != 0)
			continue;
		removed = true;
		pwb_log(LOG_WARNING, "pwb store: %s/%s: removed the stale region of a dead process",
			store_dir, de->d_name);
	}
	closedir(dir);
out:
	close(fd); /* drops the locks taken here */
	return removed;
}

static void close_env(struct pwb_store *st)
{
	size_t i;

	for (i = 0; i < DBI_COUNT; i++) {
		if (st->db[i])
			st->db[i]->close(st->db[i], 0);
		st->db[i] = NULL;
	}
	if (st->env) {
		st->env->close(st->env, 0);
		__atomic_fetch_sub(&open_environments, 1, __ATOMIC_SEQ_CST);
	}
	st->env = NULL;
}

static int open_env_serialised(struct pwb_store *st, struct pwb_error *err)
{
	DB_ENV *env = NULL;
	u_int32_t flags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL |
			  DB_THREAD | DB_REGISTER | DB_RECOVER | DB_FAILCHK;
	size_t i;
	int ret;

	st->recovered = clear_stale_regions(st->store_dir);
	ret = db_env_create(&env, 0);
	if (ret != 0)
		return pwb_store_db_error(err, ret, "db_env_create");
	st->env = env;
	__atomic_fetch_add(&open_environments, 1, __ATOMIC_SEQ_CST);
	env->set_errcall(env, db_errcall);
	env->set_msgcall(env, db_msgcall);
	if ((ret = env->set_thread_count(env, 512)) != 0 ||
	    (ret = env->set_isalive(env, is_alive)) != 0 ||
	    (ret = env->set_thread_id(env, thread_id)) != 0 ||
	    (ret = env->set_lk_detect(env, DB_LOCK_DEFAULT)) != 0 ||
	    (ret = env->set_cachesize(env, 0, CACHE_BYTES, 1)) != 0 ||
	    (ret = env->set_lk_max_locks(env, MAX_LOCKS)) != 0 ||
	    (ret = env->set_lk_max_objects(env, MAX_LOCKS)) != 0 ||
	    (ret = env->set_lk_max_lockers(env, 2000)) != 0 ||
	    (ret = env->set_lg_bsize(env, 1024 * 1024)) != 0 ||
	    (ret = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1)) != 0) {
		close_env(st);
		return pwb_store_db_error(err, ret, "configuring the store environment");
	}
	ret = env->open(env, st->store_dir, flags, 0600);
	if (ret != 0) {
		close_env(st);
		return pwb_error_set(err, PWB_ESTORE, "%s: opening the store: %s", st->store_dir,
				     db_strerror(ret));
	}
	/* Berkeley DB makes its registry 0640 whatever the mode asked: every
	 * store file is private to the store user. */
	{
		char reg[PATH_MAX + 16];

		snprintf(reg, sizeof(reg), "%s/__db.register", st->store_dir);
		if (chmod(reg, 0600) < 0 && errno != ENOENT)
			pwb_log(LOG_WARNING, "pwb store: %s: chmod: %s", reg, strerror(errno));
	}
	for (i = 0; i < DBI_COUNT; i++) {
		DB *db = NULL;

		ret = db_create(&db, env, 0);
		if (ret == 0 && dbdefs[i].dup)
			ret = db->set_flags(db, DB_DUPSORT);
		if (ret == 0)
			ret = db->open(db, NULL, STORE_FILE, dbdefs[i].name, DB_BTREE,
				       DB_CREATE | DB_AUTO_COMMIT | DB_THREAD, 0600);
		if (ret != 0) {
			if (db)
				db->close(db, 0);
			close_env(st);
			return pwb_error_set(err, PWB_ESTORE, "%s/%s: opening database %s: %s",
					     st->store_dir, STORE_FILE, dbdefs[i].name,
					     db_strerror(ret));
		}
		st->db[i] = db;
	}
	return 0;
}

static int open_env(struct pwb_store *st, struct pwb_error *err)
{
	int r;

	pthread_mutex_lock(&open_mutex);
	r = open_env_serialised(st, err);
	pthread_mutex_unlock(&open_mutex);
	return r;
}

static int open_write_lock(struct pwb_store *st, struct pwb_error *err)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s", st->store_dir, WRITE_LOCK_FILE);
	st->write_lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->write_lock_fd < 0)
		return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
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
	char text[16];
	unsigned format;
	int r, n;

	r = read_format(txn, &format, err);
	if (r < 0 || format >= PWB_STORE_FORMAT)
		return r; /* another process upgraded it meanwhile */
	if ((r = pwb_user_count(txn, users, err)) < 0)
		return r;
	if (format < 2 && (r = pwb_user_index_homes(txn, err)) < 0)
		return r;
	n = snprintf(text, sizeof(text), "%u", PWB_STORE_FORMAT);
	return pwb_kv_put(txn, DBI_META, FORMAT_KEY, strlen(FORMAT_KEY), text, (size_t)n, err);
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

/* A new store publishes its (empty) snapshot at once, so NSS answers
 * "not found" rather than "unavailable". */
static int publish_if_missing(struct pwb_store *st, struct pwb_error *err)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s", st->nss_dir, PWB_SNAP_DELTA);
	if (access(path, F_OK) == 0)
		return 0;
	return pwb_publish_full(st, err);
}

int pwb_store_open(const struct pwb_config *cfg, struct pwb_store **out, struct pwb_error *err)
{
	_cleanup_free_ struct pwb_store *st = NULL;
	struct pwb_fsid fsid;
	char cache_dir[PATH_MAX];
	int r;

	*out = NULL;
	pwb_publish_init();
	st = calloc(1, sizeof(*st));
	if (!st)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	st->cfg = cfg;
	st->write_lock_fd = -1;
	r = lookup_store_user(cfg->store_user, &st->store_uid, &st->store_gid, err);
	if (r < 0)
		return r;
	if ((size_t)snprintf(st->store_dir, sizeof(st->store_dir), "%s/store", cfg->db_dir) >=
		sizeof(st->store_dir) ||
	    (size_t)snprintf(st->nss_dir, sizeof(st->nss_dir), "%s/%s", cfg->db_dir,
			     PWB_SNAP_DIR) >= sizeof(st->nss_dir) ||
	    (size_t)snprintf(cache_dir, sizeof(cache_dir), "%s/cache", cfg->db_dir) >=
		sizeof(cache_dir))
		return pwb_error_set(err, PWB_ECONFIG, "db-dir %s: path too long", cfg->db_dir);
	r = prepare_dir(cfg->db_dir, 0755, 0, 0, false, err);
	if (r == 0)
		r = prepare_dir(st->store_dir, 0700, st->store_uid, st->store_gid, true, err);
	if (r == 0)
		r = prepare_dir(st->nss_dir, 0755, st->store_uid, st->store_gid, true, err);
	if (r == 0 && geteuid() == 0)
		r = prepare_dir(cache_dir, 0700, 0, 0, true, err);
	if (r < 0)
		return r;
	pwb_fsid_enter(&fsid, st->store_uid, st->store_gid);
	r = open_write_lock(st, err);
	if (r == 0)
		r = open_env(st, err);
	if (r == 0)
		r = settle_format(st, err);
	if (r == 0)
		r = publish_if_missing(st, err);
	/* A process died holding the store: what it committed but did not live
	 * to publish is published now, not at the next write. */
	if (r == 0 && st->recovered) {
		struct pwb_error perr = {0};

		if (pwb_publish_changes(st, &perr) < 0)
			pwb_log(LOG_ERR, "pwb store: publishing after recovery failed: %s",
				perr.msg);
	}
	pwb_fsid_leave(&fsid);
	if (r < 0) {
		if (st->env)
			close_env(st);
		if (st->write_lock_fd >= 0)
			close(st->write_lock_fd);
		return r;
	}
	*out = PWB_TAKE_PTR(st);
	return 0;
}

void pwb_store_close(struct pwb_store *st)
{
	struct pwb_fsid fsid;

	if (!st)
		return;
	pwb_fsid_enter(&fsid, st->store_uid, st->store_gid);
	if (st->env && st->writes_since_checkpoint)
		st->env->txn_checkpoint(st->env, 0, 0, 0);
	close_env(st);
	pwb_fsid_leave(&fsid);
	if (st->write_lock_fd >= 0)
		close(st->write_lock_fd);
	free(st);
}

void pwb_store_on_commit(struct pwb_store *st, pwb_store_commit_hook hook, void *ctx)
{
	st->commit_hook = hook;
	st->commit_ctx = ctx;
}

void pwb_store_set_request(struct pwb_store *st, const struct pwb_actor *actor,
			   const char *request_id)
{
	memset(&st->actor, 0, sizeof(st->actor));
	if (actor)
		st->actor = *actor;
	else
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

/* After a panic (DB_RUNRECOVERY: another process died badly and recovery
 * ran), a long-lived process re-opens the environment and carries on. */
static int reopen_env(struct pwb_store *st, struct pwb_error *err)
{
	pwb_log(LOG_WARNING, "pwb store: environment needs recovery; re-opening %s", st->store_dir);
	close_env(st);
	return open_env(st, err);
}

static void recover_dead_lockers(struct pwb_store *st)
{
	int ret = st->env->failchk(st->env, 0);

	if (ret != 0)
		pwb_log(LOG_ERR, "pwb store: failchk: %s", db_strerror(ret));
}

/* Writers serialise on an flock, which the kernel releases when a holder
 * dies, so ids allocated inside a transaction can never collide and writers
 * never wait on each other's Berkeley DB locks. The holder's pid stays in
 * the file while it writes: finding one there means the previous writer
 * died mid-transaction, and failchk releases what it held. */
static int write_lock(struct pwb_store *st, struct pwb_error *err)
{
	char buf[16] = {0};
	ssize_t n;

	while (flock(st->write_lock_fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return pwb_error_set(err, -errno, "%s/%s: %s", st->store_dir,
					     WRITE_LOCK_FILE, strerror(errno));
	n = pread(st->write_lock_fd, buf, sizeof(buf) - 1, 0);
	if (n > 0 && buf[0] != '0' && buf[0] != '\0') {
		pwb_log(LOG_WARNING,
			"pwb store: writer pid %.15s died mid-transaction; releasing its locks",
			buf);
		recover_dead_lockers(st);
	}
	snprintf(buf, sizeof(buf), "%-15ld", (long)getpid());
	if (pwrite(st->write_lock_fd, buf, 15, 0) != 15)
		return pwb_error_set(err, -EIO, "%s/%s: cannot write", st->store_dir,
				     WRITE_LOCK_FILE);
	return 0;
}

static void write_unlock(struct pwb_store *st)
{
	if (pwrite(st->write_lock_fd, "0              ", 15, 0) != 15)
		pwb_log(LOG_ERR, "pwb store: cannot clear %s", WRITE_LOCK_FILE);
	flock(st->write_lock_fd, LOCK_UN);
}

/* One attempt: begin (never waiting for a lock: a conflict, or a lock held
 * by a process that died, returns at once), run fn, commit. Returns fn's
 * result or a pwb error; *retry says the attempt lost a lock conflict. */
static int attempt_txn(struct pwb_store *st, bool write, pwb_txn_fn fn, void *ctx,
		       struct pwb_txn *t, bool *retry, struct pwb_error *err)
{
	int r, ret;

	*retry = false;
	memset(t, 0, sizeof(*t));
	t->st = st;
	t->write = write;
	if (err)
		memset(err, 0, sizeof(*err));
	ret = st->env->txn_begin(st->env, NULL, &t->tid,
				 DB_TXN_NOWAIT | (write ? 0 : DB_READ_COMMITTED));
	if (ret == DB_RUNRECOVERY) {
		t->panicked = *retry = true;
		return 0;
	}
	if (ret != 0)
		return pwb_store_db_error(err, ret, "beginning a transaction");
	r = fn(t, ctx, err);
	if (t->deadlocked || t->panicked || r < 0) {
		t->tid->abort(t->tid);
		*retry = t->deadlocked || t->panicked;
		return r;
	}
	ret = t->tid->commit(t->tid, 0);
	if (ret == DB_LOCK_DEADLOCK || ret == DB_LOCK_NOTGRANTED) {
		*retry = true;
		return 0;
	}
	if (ret != 0)
		return pwb_store_db_error(err, ret, "committing");
	return r;
}

static int run_txn(struct pwb_store *st, bool write, pwb_txn_fn fn, void *ctx,
		   struct pwb_error *err)
{
	struct pwb_txn t;
	long long waited = 0;
	useconds_t pause_us = 100;
	unsigned attempt;
	bool reopened = false, retry;
	int r;

	if (write && (r = write_lock(st, err)) < 0)
		return r;
	for (attempt = 0;; attempt++) {
		r = attempt_txn(st, write, fn, ctx, &t, &retry, err);
		if (!retry)
			break;
		if (t.panicked && !reopened) {
			reopened = true;
			r = reopen_env(st, err);
			if (r < 0)
				break;
			continue;
		}
		if (waited > TXN_PATIENCE_USEC) {
			r = pwb_error_set(err, PWB_ESTORE, "store busy: gave up after %u attempts",
					  attempt + 1);
			break;
		}
		/* A conflict with a live reader clears in microseconds; one with
		 * a dead process needs failchk. Back off, and check. */
		if (attempt % 8 == 7)
			recover_dead_lockers(st);
		usleep(pause_us);
		waited += pause_us;
		if (pause_us < 20000)
			pause_us *= 2;
	}
	/* Publish before the next writer may start: a writer that finds a
	 * record committed by another also finds it published, so what it then
	 * tells NSS-using code (a session opening for a user it just saw) holds. */
	if (write && r >= 0 && t.changed) {
		struct pwb_error perr = {0};

		if (pwb_publish_changes(st, &perr) < 0)
			pwb_log(LOG_ERR,
				"pwb store: committed, but publishing the NSS snapshot failed: %s "
				"(run pwbadm rebuild-nss)",
				perr.msg);
	}
	if (write)
		write_unlock(st);
	if (r < 0)
		return r;
	if (write && ++st->writes_since_checkpoint >= CHECKPOINT_EVERY) {
		st->writes_since_checkpoint = 0;
		st->env->txn_checkpoint(st->env, 1024, 0, 0);
	}
	return r;
}

int pwb_store_write(struct pwb_store *st, pwb_txn_fn fn, void *ctx, struct pwb_error *err)
{
	struct pwb_fsid fsid;
	int r;

	pwb_fsid_enter(&fsid, st->store_uid, st->store_gid);
	r = run_txn(st, true, fn, ctx, err);
	pwb_fsid_leave(&fsid);
	return r;
}

int pwb_store_read(struct pwb_store *st, pwb_txn_fn fn, void *ctx, struct pwb_error *err)
{
	struct pwb_fsid fsid;
	int r;

	pwb_fsid_enter(&fsid, st->store_uid, st->store_gid);
	r = run_txn(st, false, fn, ctx, err);
	pwb_fsid_leave(&fsid);
	return r;
}

int pwb_txn_begin_read(struct pwb_store *st, struct pwb_txn *txn, struct pwb_error *err)
{
	int ret;

	memset(txn, 0, sizeof(*txn));
	txn->st = st;
	/* Never waits for a lock (one held by a dead process would block
	 * forever): a conflict marks the transaction, and the publisher
	 * starts over (pwb_publish_retry). */
	ret = st->env->txn_begin(st->env, NULL, &txn->tid, DB_READ_COMMITTED | DB_TXN_NOWAIT);
	if (ret == DB_RUNRECOVERY)
		st->publish_conflict = true;
	if (ret != 0)
		return pwb_store_db_error(err, ret, "beginning a read transaction");
	return 0;
}

void pwb_txn_end(struct pwb_txn *txn)
{
	if (txn->deadlocked || txn->panicked)
		txn->st->publish_conflict = true;
	if (txn->tid)
		txn->tid->commit(txn->tid, 0);
	txn->tid = NULL;
}

int pwb_publish_retry(struct pwb_store *st, int (*once)(struct pwb_store *, struct pwb_error *),
		      struct pwb_error *err)
{
	useconds_t pause_us = 100;
	long long waited = 0;
	unsigned attempt;
	int r;

	for (attempt = 0;; attempt++) {
		st->publish_conflict = false;
		if (err)
			memset(err, 0, sizeof(*err));
		r = once(st, err);
		if (!st->publish_conflict || waited > TXN_PATIENCE_USEC)
			return r;
		if (attempt % 8 == 7)
			recover_dead_lockers(st);
		usleep(pause_us);
		waited += pause_us;
		if (pause_us < 20000)
			pause_us *= 2;
	}
}

int pwb_store_verify(struct pwb_store *st, struct pwb_error *err)
{
	struct pwb_fsid fsid;
	char path[PATH_MAX + 16];
	DB *db = NULL;
	int ret;

	pwb_fsid_enter(&fsid, st->store_uid, st->store_gid);
	/* Flush the cache so the file on disk is complete, then verify it
	 * with a fresh handle (DB->verify consumes the handle). */
	st->env->txn_checkpoint(st->env, 0, 0, DB_FORCE);
	st->env->memp_sync(st->env, NULL);
	snprintf(path, sizeof(path), "%s/%s", st->store_dir, STORE_FILE);
	ret = db_create(&db, NULL, 0);
	if (ret == 0)
		ret = db->verify(db, path, NULL, NULL, DB_NOORDERCHK);
	pwb_fsid_leave(&fsid);
	if (ret != 0)
		return pwb_error_set(err, PWB_ESTORE, "%s: verification failed: %s", path,
				     db_strerror(ret));
	return 0;
}

int pwb_store_publish_all(struct pwb_store *st, struct pwb_error *err)
{
	struct pwb_fsid fsid;
	int r;

	pwb_fsid_enter(&fsid, st->store_uid, st->store_gid);
	r = pwb_publish_full(st, err);
	pwb_fsid_leave(&fsid);
	return r;
}
