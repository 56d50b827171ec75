/* The Berkeley DB backend (backend.h): one transactional environment in
 * db-dir/store, every table a named sub-database of store.db. Only one
 * process ever has the environment open (store.c holds open.lock for the
 * store's whole life), so nothing here handles other processes: no
 * registry, no failchk, no stale regions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "log.h"
#include "internal/bdb.h"
#include "internal/store_types.h"
#include "util.h"

#define STORE_FILE	 "store.db"
#define CHECKPOINT_EVERY 64
#define CACHE_BYTES	 (8 * 1024 * 1024)
/* Locks are per page: a transaction writing 100k users takes about 30k. */
#define MAX_LOCKS 60000

/* The last sequence handed out ("seq" predates format 3: kept). */
#define SEQ_COUNTER "seq"

static DB_TXN *tid_of(const struct pwb_txn *txn)
{
	return txn->be_txn;
}

static DB *db_of(const struct pwb_txn *txn, enum pwb_dbi dbi)
{
	return txn->st->be->db[dbi];
}

DB *pwb_bdb_db(struct pwb_store *st, enum pwb_dbi dbi)
{
	return st->be->db[dbi];
}

DB_TXN *pwb_bdb_tid(struct pwb_txn *txn)
{
	return tid_of(txn);
}

int pwb_store_db_error(struct pwb_error *err, int ret, const char *what)
{
	if (ret == DB_LOCK_DEADLOCK || ret == DB_LOCK_NOTGRANTED)
		return pwb_error_set(err, PWB_ESTORE, "%s: deadlock (retried)", what);
	return pwb_error_set(err, PWB_ESTORE, "%s: %s", what, db_strerror(ret));
}

int pwb_txn_fail(struct pwb_txn *txn, int ret, const char *what, struct pwb_error *err)
{
	if (ret == DB_LOCK_DEADLOCK || ret == DB_LOCK_NOTGRANTED)
		txn->retry = true;
	if (ret == DB_RUNRECOVERY)
		txn->retry = txn->panicked = true;
	return pwb_store_db_error(err, ret, what);
}

/* ---- environment ---- */

static void db_errcall(const DB_ENV *env, const char *prefix, const char *msg)
{
	pwb_log(LOG_ERR, "pwb store: %s", msg);
}

static void db_msgcall(const DB_ENV *env, const char *msg)
{
	pwb_log(LOG_NOTICE, "pwb store: %s", msg);
}

static void close_env(struct pwb_backend *be)
{
	size_t i;

	for (i = 0; i < DBI_COUNT; i++) {
		if (be->db[i])
			be->db[i]->close(be->db[i], 0);
		be->db[i] = NULL;
	}
	if (be->env)
		be->env->close(be->env, 0);
	be->env = NULL;
}

/* DB_RECOVER on every open, without DB_REGISTER: this process holds the
 * store's open lock, so no other process has the environment open and
 * running recovery is always right. After a crash (SIGKILL of pwbd mid-
 * write) the next opener is the only opener, and recovery rolls back what
 * the dead process had not committed and redoes what it had, from the log
 * (commits are synchronous), exactly as a normal open would. */
static int open_env(struct pwb_store *st, struct pwb_error *err)
{
	struct pwb_backend *be = st->be;
	DB_ENV *env = NULL;
	u_int32_t flags = DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL |
			  DB_THREAD | DB_RECOVER;
	size_t i;
	int ret;

	ret = db_env_create(&env, 0);
	if (ret != 0)
		return pwb_store_db_error(err, ret, "db_env_create");
	be->env = env;
	env->set_errcall(env, db_errcall);
	env->set_msgcall(env, db_msgcall);
	if ((ret = env->set_lk_detect(env, DB_LOCK_DEFAULT)) != 0 ||
	    (ret = env->set_cachesize(env, 0, CACHE_BYTES, 1)) != 0 ||
	    (ret = env->set_lk_max_locks(env, MAX_LOCKS)) != 0 ||
	    (ret = env->set_lk_max_objects(env, MAX_LOCKS)) != 0 ||
	    (ret = env->set_lk_max_lockers(env, 2000)) != 0 ||
	    (ret = env->set_lg_bsize(env, 1024 * 1024)) != 0 ||
	    (ret = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1)) != 0) {
		close_env(be);
		return pwb_store_db_error(err, ret, "configuring the store environment");
	}
	ret = env->open(env, st->store_dir, flags, 0600);
	if (ret != 0) {
		close_env(be);
		return pwb_error_set(err, PWB_ESTORE, "%s: opening the store: %s", st->store_dir,
				     db_strerror(ret));
	}
	for (i = 0; i < DBI_COUNT; i++) {
		DB *db = NULL;

		ret = db_create(&db, env, 0);
		if (ret == 0 && pwb_dbi_is_set(i))
			ret = db->set_flags(db, DB_DUPSORT);
		if (ret == 0)
			ret = db->open(db, NULL, STORE_FILE, pwb_dbi_name(i), DB_BTREE,
				       DB_CREATE | DB_AUTO_COMMIT | DB_THREAD, 0600);
		if (ret != 0) {
			if (db)
				db->close(db, 0);
			close_env(be);
			return pwb_error_set(err, PWB_ESTORE, "%s/%s: opening database %s: %s",
					     st->store_dir, STORE_FILE, pwb_dbi_name(i),
					     db_strerror(ret));
		}
		be->db[i] = db;
	}
	return 0;
}

static int bdb_be_open(struct pwb_store *st, struct pwb_error *err)
{
	int r;

	st->be = calloc(1, sizeof(*st->be));
	if (!st->be)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	r = open_env(st, err);
	if (r < 0) {
		free(st->be);
		st->be = NULL;
	}
	return r;
}

static void bdb_be_close(struct pwb_store *st)
{
	if (!st->be)
		return;
	if (st->be->env && st->be->writes_since_checkpoint)
		st->be->env->txn_checkpoint(st->be->env, 0, 0, 0);
	close_env(st->be);
	free(st->be);
	st->be = NULL;
}

/* A panic (DB_RUNRECOVERY) needs the environment re-opened, which runs
 * recovery; this process is the only one that has it open. */
static int bdb_be_repair(struct pwb_store *st, struct pwb_error *err)
{
	pwb_log(LOG_WARNING, "pwb store: environment needs recovery; re-opening %s", st->store_dir);
	close_env(st->be);
	return open_env(st, err);
}

static int bdb_be_verify(struct pwb_store *st, struct pwb_error *err)
{
	char path[PATH_MAX + 16];
	DB *db = NULL;
	int ret;

	/* Flush the cache so the file on disk is complete, then verify it
	 * with a fresh handle (DB->verify consumes the handle). */
	st->be->env->txn_checkpoint(st->be->env, 0, 0, DB_FORCE);
	st->be->env->memp_sync(st->be->env, NULL);
	snprintf(path, sizeof(path), "%s/%s", st->store_dir, STORE_FILE);
	ret = db_create(&db, NULL, 0);
	if (ret == 0)
		ret = db->verify(db, path, NULL, NULL, DB_NOORDERCHK);
	if (ret != 0)
		return pwb_error_set(err, PWB_ESTORE, "%s: verification failed: %s", path,
				     db_strerror(ret));
	return 0;
}

/* ---- transactions ---- */

/* Never waits for a lock: the only conflicts left are between threads of
 * this process, and the runner retries them with a short back-off. */
static int bdb_be_begin(struct pwb_txn *txn, bool write, struct pwb_error *err)
{
	DB_ENV *env = txn->st->be->env;
	DB_TXN *tid = NULL;
	int ret;

	txn->write = write;
	txn->be_txn = NULL;
	ret = env->txn_begin(env, NULL, &tid, DB_TXN_NOWAIT | (write ? 0 : DB_READ_COMMITTED));
	if (ret != 0)
		return pwb_txn_fail(txn, ret, "beginning a transaction", err);
	txn->be_txn = tid;
	return 0;
}

static int bdb_be_commit(struct pwb_txn *txn, struct pwb_error *err)
{
	struct pwb_backend *be = txn->st->be;
	DB_TXN *tid = tid_of(txn);
	int ret;

	txn->be_txn = NULL;
	/* DB_TXN_SYNC: the log is on disk before the write is acknowledged;
	 * a relaxed write that logged no change only reaches the OS (the next
	 * synchronous commit flushes it too). */
	ret = tid->commit(tid, !txn->write		       ? 0
			       : txn->relaxed && !txn->changed ? DB_TXN_WRITE_NOSYNC
							       : DB_TXN_SYNC);
	if (ret != 0)
		return pwb_txn_fail(txn, ret, "committing", err);
	if (txn->write && ++be->writes_since_checkpoint >= CHECKPOINT_EVERY) {
		be->writes_since_checkpoint = 0;
		be->env->txn_checkpoint(be->env, 1024, 0, 0);
	}
	return 0;
}

static void bdb_be_abort(struct pwb_txn *txn)
{
	DB_TXN *tid = tid_of(txn);

	txn->be_txn = NULL;
	if (tid)
		tid->abort(tid);
}

static bool bdb_be_should_retry(const struct pwb_txn *txn)
{
	return txn->retry;
}

/* ---- tables ---- */

static int bdb_kv_get(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		      char **val, size_t *vlen, bool for_update, struct pwb_error *err)
{
	DB *db = db_of(txn, dbi);
	DBT k = {0}, v = {0};
	int ret;

	*val = NULL;
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	v.flags = DB_DBT_MALLOC;
	ret = db->get(db, tid_of(txn), &k, &v, for_update && txn->write ? DB_RMW : 0);
	if (ret == DB_NOTFOUND)
		return PWB_ENOTFOUND;
	if (ret != 0)
		return pwb_txn_fail(txn, ret, pwb_dbi_name(dbi), err);
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

static int bdb_kv_put(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		      const void *val, size_t vlen, struct pwb_error *err)
{
	DB *db = db_of(txn, dbi);
	DBT k = {0}, v = {0};
	int ret;

	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	v.data = (void *)val;
	v.size = (u_int32_t)vlen;
	ret = db->put(db, tid_of(txn), &k, &v, pwb_dbi_is_set(dbi) ? DB_NODUPDATA : 0);
	if (ret == DB_KEYEXIST)
		return 0; /* a member already present: idempotent */
	if (ret != 0)
		return pwb_txn_fail(txn, ret, pwb_dbi_name(dbi), err);
	return 0;
}

static int bdb_kv_del(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		      struct pwb_error *err)
{
	DB *db = db_of(txn, dbi);
	DBT k = {0};
	int ret;

	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	ret = db->del(db, tid_of(txn), &k, 0);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return pwb_txn_fail(txn, ret, pwb_dbi_name(dbi), err);
	return 0;
}

static bool bdb_kv_exists(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen)
{
	DB *db = db_of(txn, dbi);
	DBT k = {0};
	int ret;

	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	ret = db->exists(db, tid_of(txn), &k, 0);
	if (ret != 0 && ret != DB_NOTFOUND)
		pwb_txn_fail(txn, ret, pwb_dbi_name(dbi), NULL);
	return ret == 0;
}

/* Walks dbi in key order from the first key >= from (NULL: the first
 * key), until cb returns non-zero (returned). */
static int walk_from(struct pwb_txn *txn, enum pwb_dbi dbi, const void *from, size_t flen,
		     pwb_kv_cb cb, void *ctx, struct pwb_error *err)
{
	DB *db = db_of(txn, dbi);
	DBC *c = NULL;
	DBT k = {0}, v = {0};
	int ret, r = 0;

	ret = db->cursor(db, tid_of(txn), &c, 0);
	if (ret != 0)
		return pwb_txn_fail(txn, ret, pwb_dbi_name(dbi), err);
	k.flags = v.flags = DB_DBT_REALLOC;
	/* DB_SET_RANGE needs a key buffer it may overwrite. */
	if (from && !(k.data = malloc(flen))) {
		c->close(c);
		return pwb_error_set(err, -ENOMEM, "out of memory");
	}
	if (from) {
		memcpy(k.data, from, flen);
		k.size = (u_int32_t)flen;
	}
	for (ret = c->get(c, &k, &v, from ? DB_SET_RANGE : DB_NEXT); ret == 0;
	     ret = c->get(c, &k, &v, DB_NEXT)) {
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
		return pwb_txn_fail(txn, ret, pwb_dbi_name(dbi), err);
	return 0;
}

static int bdb_kv_foreach(struct pwb_txn *txn, enum pwb_dbi dbi, pwb_kv_cb cb, void *ctx,
			  struct pwb_error *err)
{
	return walk_from(txn, dbi, NULL, 0, cb, ctx, err);
}

static int bdb_kv_count(struct pwb_txn *txn, enum pwb_dbi dbi, uint64_t *count,
			struct pwb_error *err)
{
	DB *db = db_of(txn, dbi);
	DB_BTREE_STAT *sp = NULL;
	int ret;

	*count = 0;
	ret = db->stat(db, tid_of(txn), &sp, 0);
	if (ret != 0)
		return pwb_txn_fail(txn, ret, "counting", err);
	*count = sp->bt_nkeys;
	free(sp);
	return 0;
}

/* What a deleting walk does with one pair. */
enum verdict {
	KEEP,
	DELETE,
	STOP
};
typedef enum verdict (*pair_judge)(enum pwb_dbi dbi, const DBT *k, const DBT *v, void *ctx);

/* Walks dbi in key order, deleting each pair judge says to (keys_only: the
 * values are not read). */
static int delete_where(struct pwb_txn *txn, enum pwb_dbi dbi, bool keys_only, pair_judge judge,
			void *ctx, struct pwb_error *err)
{
	DB *db = db_of(txn, dbi);
	DBC *c = NULL;
	DBT k = {0}, v = {0};
	enum verdict verdict;
	int ret;

	ret = db->cursor(db, tid_of(txn), &c, 0);
	if (ret != 0)
		return pwb_txn_fail(txn, ret, pwb_dbi_name(dbi), err);
	k.flags = v.flags = DB_DBT_REALLOC;
	if (keys_only)
		v.flags |= DB_DBT_PARTIAL;
	while ((ret = c->get(c, &k, &v, DB_NEXT | DB_RMW)) == 0 &&
	       (verdict = judge(dbi, &k, &v, ctx)) != STOP) {
		if (verdict == DELETE && (ret = c->del(c, 0)) != 0)
			break;
	}
	free(k.data);
	free(v.data);
	c->close(c);
	if (ret != 0 && ret != DB_NOTFOUND)
		return pwb_txn_fail(txn, ret, pwb_dbi_name(dbi), err);
	return 0;
}

struct by_value {
	const void *val;
	size_t vlen;
	pwb_kv_key_cb cb;
	void *ctx;
};

static enum verdict judge_by_value(enum pwb_dbi dbi, const DBT *k, const DBT *v, void *ctx)
{
	struct by_value *b = ctx;

	if (v->size != b->vlen || memcmp(v->data, b->val, b->vlen) != 0)
		return KEEP;
	if (b->cb)
		b->cb(dbi, k->data, k->size, b->ctx);
	return DELETE;
}

static int bdb_kv_del_by_value(struct pwb_txn *txn, enum pwb_dbi dbi, const void *val, size_t vlen,
			       pwb_kv_key_cb cb, void *ctx, struct pwb_error *err)
{
	struct by_value b = {val, vlen, cb, ctx};

	return delete_where(txn, dbi, false, judge_by_value, &b, err);
}

/* ---- membership sets ---- */

static int bdb_kv_dup_del(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
			  const void *val, size_t vlen, struct pwb_error *err)
{
	DB *db = db_of(txn, dbi);
	DBC *c = NULL;
	DBT k = {0}, v = {0};
	int ret;

	ret = db->cursor(db, tid_of(txn), &c, 0);
	if (ret != 0)
		return pwb_txn_fail(txn, ret, pwb_dbi_name(dbi), err);
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
		return pwb_txn_fail(txn, ret, pwb_dbi_name(dbi), err);
	return 0;
}

static bool bdb_kv_dup_exists(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
			      const void *val, size_t vlen)
{
	DB *db = db_of(txn, dbi);
	DBT k = {0}, v = {0};
	char buf[256];
	int ret;

	if (vlen > sizeof(buf))
		return false;
	memcpy(buf, val, vlen);
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	v.data = buf;
	v.size = v.ulen = (u_int32_t)vlen;
	v.flags = DB_DBT_USERMEM;
	ret = db->get(db, tid_of(txn), &k, &v, DB_GET_BOTH);
	if (ret != 0 && ret != DB_NOTFOUND)
		pwb_txn_fail(txn, ret, pwb_dbi_name(dbi), NULL);
	return ret == 0;
}

static int bdb_kv_dup_foreach(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
			      pwb_id_cb cb, void *ctx, struct pwb_error *err)
{
	DB *db = db_of(txn, dbi);
	DBC *c = NULL;
	DBT k = {0}, v = {0};
	char id[PWB_ID_LEN + 1];
	int ret, r = 0;
	u_int32_t flag = DB_SET;

	ret = db->cursor(db, tid_of(txn), &c, 0);
	if (ret != 0)
		return pwb_txn_fail(txn, ret, pwb_dbi_name(dbi), err);
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
		return pwb_txn_fail(txn, ret, pwb_dbi_name(dbi), err);
	return 0;
}

/* ---- counters ---- */

static int bdb_be_counter_get(struct pwb_txn *txn, const char *name, uint64_t def, uint64_t *out,
			      struct pwb_error *err)
{
	_cleanup_free_ char *val = NULL;
	int64_t v = 0;
	int r;

	r = bdb_kv_get(txn, DBI_META, name, strlen(name), &val, NULL, true, err);
	if (r == PWB_ENOTFOUND) {
		*out = def;
		return 0;
	}
	if (r < 0)
		return r;
	if (pwb_parse_i64(val, &v) < 0 || v < 0)
		return pwb_error_set(err, PWB_ESTORE, "counter %s is damaged", name);
	*out = (uint64_t)v;
	return 0;
}

static int bdb_be_counter_set(struct pwb_txn *txn, const char *name, uint64_t value,
			      struct pwb_error *err)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)value);

	return bdb_kv_put(txn, DBI_META, name, strlen(name), buf, (size_t)n, err);
}

/* ---- the change log: DBI_CHANGES, seq (8 bytes big-endian) -> rec ---- */

static void be64(uint64_t v, unsigned char out[8])
{
	int i;

	for (i = 7; i >= 0; i--) {
		out[i] = (unsigned char)v;
		v >>= 8;
	}
}

static uint64_t from_be64(const unsigned char in[8])
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}

static int bdb_be_change_last(struct pwb_txn *txn, uint64_t *seq, struct pwb_error *err)
{
	return bdb_be_counter_get(txn, SEQ_COUNTER, 0, seq, err);
}

static int bdb_be_change_append(struct pwb_txn *txn, const void *rec, size_t len,
				const char *request_id, uint64_t *seq, struct pwb_error *err)
{
	unsigned char key[8];
	uint64_t last;
	int r;

	if (!txn->write)
		return pwb_error_set(err, PWB_ESTORE, "internal: change in a read transaction");
	/* Read under the write lock: the counter is this transaction's until
	 * it ends, and an abort rolls it back (no gap). */
	r = bdb_be_change_last(txn, &last, err);
	if (r < 0)
		return r;
	be64(last + 1, key);
	if ((r = bdb_be_counter_set(txn, SEQ_COUNTER, last + 1, err)) < 0 ||
	    (r = bdb_kv_put(txn, DBI_CHANGES, key, sizeof(key), rec, len, err)) < 0)
		return r;
	if (request_id && *request_id &&
	    (r = bdb_kv_put(txn, DBI_CHANGE_REQUEST, request_id, strlen(request_id), key,
			    sizeof(key), err)) < 0)
		return r;
	*seq = last + 1;
	return 0;
}

static int bdb_be_change_put(struct pwb_txn *txn, uint64_t seq, const void *rec, size_t len,
			     struct pwb_error *err)
{
	unsigned char key[8];
	uint64_t last;
	int r;

	if (!txn->write)
		return pwb_error_set(err, PWB_ESTORE, "internal: change in a read transaction");
	if ((r = bdb_be_change_last(txn, &last, err)) < 0)
		return r;
	if (seq <= last)
		return pwb_error_set(err, PWB_EINVAL, "change %llu: not past the last (%llu)",
				     (unsigned long long)seq, (unsigned long long)last);
	be64(seq, key);
	if ((r = bdb_be_counter_set(txn, SEQ_COUNTER, seq, err)) < 0)
		return r;
	return bdb_kv_put(txn, DBI_CHANGES, key, sizeof(key), rec, len, err);
}

static int bdb_be_change_replace(struct pwb_txn *txn, uint64_t seq, const void *rec, size_t len,
				 struct pwb_error *err)
{
	unsigned char key[8];

	be64(seq, key);
	return bdb_kv_put(txn, DBI_CHANGES, key, sizeof(key), rec, len, err);
}

struct change_walk {
	pwb_be_change_cb cb;
	void *ctx;
	size_t limit, n;
	bool full; /* stopped at the limit */
};

static int change_walk_one(const void *key, size_t klen, const void *val, size_t vlen, void *ctx,
			   struct pwb_error *err)
{
	struct change_walk *w = ctx;

	if (klen != 8)
		return 0;
	if (w->limit && w->n++ == w->limit) {
		w->full = true;
		return 1;
	}
	return w->cb(from_be64(key), val, vlen, w->ctx, err);
}

static int bdb_be_change_foreach(struct pwb_txn *txn, uint64_t after, size_t limit,
				 pwb_be_change_cb cb, void *ctx, struct pwb_error *err)
{
	struct change_walk w = {cb, ctx, limit, 0, false};
	unsigned char from[8];
	int r;

	if (after == UINT64_MAX)
		return 0;
	be64(after + 1, from);
	r = walk_from(txn, DBI_CHANGES, from, sizeof(from), change_walk_one, &w, err);
	return w.full ? 0 : r;
}

static int bdb_be_change_foreach_back(struct pwb_txn *txn, uint64_t before, size_t limit,
				      pwb_be_change_cb cb, void *ctx, struct pwb_error *err)
{
	DB *db = db_of(txn, DBI_CHANGES);
	struct change_walk w = {cb, ctx, limit, 0, false};
	DBC *c = NULL;
	DBT k = {0}, v = {0};
	int ret, r = 0;

	ret = db->cursor(db, tid_of(txn), &c, 0);
	if (ret != 0)
		return pwb_txn_fail(txn, ret, "changes", err);
	k.flags = v.flags = DB_DBT_REALLOC;
	if (before) {
		/* the first entry at or past before, then one back */
		if (!(k.data = malloc(8))) {
			c->close(c);
			return pwb_error_set(err, -ENOMEM, "out of memory");
		}
		be64(before, k.data);
		k.size = 8;
		ret = c->get(c, &k, &v, DB_SET_RANGE);
		ret = ret == 0		   ? c->get(c, &k, &v, DB_PREV)
		      : ret == DB_NOTFOUND ? c->get(c, &k, &v, DB_LAST)
					   : ret;
	} else {
		ret = c->get(c, &k, &v, DB_LAST);
	}
	for (; ret == 0; ret = c->get(c, &k, &v, DB_PREV)) {
		r = change_walk_one(k.data, k.size, v.data, v.size, &w, err);
		if (r != 0)
			break;
	}
	free(k.data);
	free(v.data);
	c->close(c);
	if (w.full)
		return 0;
	if (r != 0)
		return r;
	if (ret != DB_NOTFOUND)
		return pwb_txn_fail(txn, ret, "changes", err);
	return 0;
}

static int bdb_be_change_first(struct pwb_txn *txn, uint64_t *seq, struct pwb_error *err)
{
	DB *db = db_of(txn, DBI_CHANGES);
	DBC *c = NULL;
	DBT k = {0}, v = {0};
	int ret;

	ret = db->cursor(db, tid_of(txn), &c, 0);
	if (ret != 0)
		return pwb_txn_fail(txn, ret, "changes", err);
	k.flags = DB_DBT_REALLOC;
	v.flags = DB_DBT_REALLOC | DB_DBT_PARTIAL; /* keys only */
	ret = c->get(c, &k, &v, DB_FIRST);
	if (ret == 0 && k.size == 8)
		*seq = from_be64(k.data);
	free(k.data);
	free(v.data);
	c->close(c);
	if (ret == DB_NOTFOUND) {
		int r = bdb_be_change_last(txn, seq, err);

		if (r < 0)
			return r;
		(*seq)++;
		return 0;
	}
	if (ret != 0)
		return pwb_txn_fail(txn, ret, "changes", err);
	return 0;
}

static int bdb_be_change_by_request(struct pwb_txn *txn, const char *request_id, uint64_t *seq,
				    struct pwb_error *err)
{
	_cleanup_free_ char *val = NULL;
	size_t len = 0;
	int r;

	if (!request_id || !*request_id)
		return PWB_ENOTFOUND;
	r = bdb_kv_get(txn, DBI_CHANGE_REQUEST, request_id, strlen(request_id), &val, &len, false,
		       err);
	if (r < 0)
		return r;
	if (len != 8)
		return pwb_error_set(err, PWB_ESTORE, "change_request: a damaged entry");
	*seq = from_be64((const unsigned char *)val);
	return 0;
}

/* DBI_CHANGES: keys are sequences, in order; what follows upto stays. */
static enum verdict judge_entry(enum pwb_dbi dbi, const DBT *k, const DBT *v, void *ctx)
{
	uint64_t upto = *(const uint64_t *)ctx;

	return k->size == 8 && from_be64(k->data) > upto ? STOP : DELETE;
}

/* DBI_CHANGE_REQUEST: values are sequences, in no order. */
static enum verdict judge_request(enum pwb_dbi dbi, const DBT *k, const DBT *v, void *ctx)
{
	uint64_t upto = *(const uint64_t *)ctx;

	return v->size == 8 && from_be64(v->data) > upto ? KEEP : DELETE;
}

/* The request index is walked whole: trims are rare (a cursor moved past
 * retention), and an index by sequence would cost every write. */
static int bdb_be_change_trim(struct pwb_txn *txn, uint64_t upto, struct pwb_error *err)
{
	int r = delete_where(txn, DBI_CHANGES, true, judge_entry, &upto, err);

	return r < 0 ? r : delete_where(txn, DBI_CHANGE_REQUEST, false, judge_request, &upto, err);
}

const struct pwb_backend_ops pwb_bdb_ops = {
    .abi = PWB_BACKEND_ABI,
    .size = sizeof(struct pwb_backend_ops),
    .name = "berkeleydb",
    .open = bdb_be_open,
    .close = bdb_be_close,
    .verify = bdb_be_verify,
    .begin = bdb_be_begin,
    .commit = bdb_be_commit,
    .abort = bdb_be_abort,
    .should_retry = bdb_be_should_retry,
    .repair = bdb_be_repair,
    .kv_get = bdb_kv_get,
    .kv_put = bdb_kv_put,
    .kv_del = bdb_kv_del,
    .kv_exists = bdb_kv_exists,
    .kv_foreach = bdb_kv_foreach,
    .kv_count = bdb_kv_count,
    .kv_del_by_value = bdb_kv_del_by_value,
    .dup_del = bdb_kv_dup_del,
    .dup_exists = bdb_kv_dup_exists,
    .dup_foreach = bdb_kv_dup_foreach,
    .counter_get = bdb_be_counter_get,
    .counter_set = bdb_be_counter_set,
    .change_append = bdb_be_change_append,
    .change_foreach = bdb_be_change_foreach,
    .change_foreach_back = bdb_be_change_foreach_back,
    .change_last = bdb_be_change_last,
    .change_first = bdb_be_change_first,
    .change_by_request = bdb_be_change_by_request,
    .change_trim = bdb_be_change_trim,
    .change_put = bdb_be_change_put,
    .change_replace = bdb_be_change_replace,
};
