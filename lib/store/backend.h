/* The store's backend contract: the few primitives the rules (store.c,
 * store_users.c, store_groups.c, store_ids.c, store_tokens.c) are built
 * on. The rules own validation, uniqueness, id allocation, retirement and
 * the change log's content; a backend only keeps bytes, transactionally.
 * Berkeley DB implements it (internal/bdb.c); a PostgreSQL backend (cluster
 * mode) implements the same functions with the same semantics:
 *
 * - Transactions. Every primitive runs inside a transaction begun with
 *   pwb_be_begin: a read transaction sees one consistent committed state
 *   (SQL: REPEATABLE READ, read only); a write transaction is serialised
 *   with every other write transaction (one writer: SQL SERIALIZABLE or an
 *   advisory lock taken at begin). Nothing a write transaction did is
 *   visible to anyone if it aborts; once pwb_be_commit returns 0 the whole
 *   transaction is durable (survives SIGKILL and power loss). A primitive
 *   that fails because of a conflict the backend resolves by aborting
 *   (deadlock, serialisation failure) marks the transaction
 *   (pwb_be_should_retry): the runner aborts and runs the body again.
 * - Tables (enum pwb_dbi) map byte-string keys to byte-string values, in
 *   key order (bytewise). Membership tables (DBI_MEMBERS, DBI_MEMBER_OF)
 *   map one key to a sorted set of values.
 * - Idempotency: put overwrites; delete of an absent key is 0; adding a
 *   present member or removing an absent one is 0. Only get reports
 *   absence (PWB_ENOTFOUND).
 * - Errors: a negative pwb code with err set naming the table; never a
 *   partial effect inside a transaction the caller then commits (the
 *   caller aborts on any error).
 */
#ifndef PWB_STORE_BACKEND_H
#define PWB_STORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"

/* The rules' types, declared here and not included: the backend sits below
 * the rules (store.h), which include this header. */
#define PWB_ID_LEN 36 /* as in store.h: a lower-case UUID */
struct pwb_store;
struct pwb_txn;
typedef int (*pwb_id_cb)(const char *id, void *ctx); /* as in store.h */

/* The tables. Keys and values are bytes; the comments give the rules'
 * encoding (uid/gid keys are 4 bytes big-endian so they sort by number). */
enum pwb_dbi {
	DBI_META,	/* "format", "next_uid", "next_gid", "cursor.READER" */
	DBI_USERS,	/* id -> user JSON */
	DBI_USER_NAME,	/* Linux name -> id */
	DBI_USER_UNAME, /* lower-cased SCIM userName -> id */
	DBI_USER_UID,	/* uid (4 bytes, big-endian) -> id */
	DBI_USER_EXT,	/* externalId -> id */
	DBI_GROUPS,	/* id -> group JSON */
	DBI_GROUP_NAME, /* Linux name -> id */
	DBI_GROUP_GID,	/* gid (big-endian) -> id */
	DBI_GROUP_EXT,	/* externalId -> id */
	DBI_MEMBERS,	/* group id -> user ids (a set) */
	DBI_MEMBER_OF,	/* user id -> group ids (a set) */
	DBI_TOKENS,	/* token name -> token JSON */
	DBI_TOKEN_HASH, /* token hash -> name */
	DBI_RETIRED,	/* "u=UID" / "g=GID" -> ""; "h=HOME" -> former holder's id */
	DBI_CHANGES,	/* the change log: owned by the pwb_be_change_* primitives */
	/* "issuer\nsubject" -> id: the IdP identity a user is bound to */
	DBI_USER_SUBJECT,
	DBI_USER_HOME,	    /* normalised home path -> id (format 2) */
	DBI_CHANGE_REQUEST, /* request id -> its last change's seq (format 3) */
	/* pwbadm map-group (format 4): ASCII-lower-cased display name -> the
	 * mapping's JSON, and the Linux name it reserves -> that key */
	DBI_GROUP_MAP,
	DBI_GROUP_MAP_NAME,
	DBI_COUNT
};

/* ---- the backend's life ---- */

/* Opens (creating what is missing) the backend for st: for Berkeley DB the
 * environment in st->store_dir, recovering after a crash. */
int pwb_be_open(struct pwb_store *st, struct pwb_error *err);
/* Makes everything durable and closes; safe on a backend never opened. */
void pwb_be_close(struct pwb_store *st);
/* Checks the stored data for damage (pwbadm check). */
int pwb_be_verify(struct pwb_store *st, struct pwb_error *err);

/* ---- transactions ---- */

/* Begins a read or write transaction into txn (txn->st set by the caller). */
int pwb_be_begin(struct pwb_txn *txn, bool write, struct pwb_error *err);
/* Commits: for a write transaction durably (synchronously) before
 * returning 0. On failure nothing of it is kept. */
int pwb_be_commit(struct pwb_txn *txn, struct pwb_error *err);
/* Aborts: nothing the transaction did remains. */
void pwb_be_abort(struct pwb_txn *txn);
/* True when a primitive failed because of a conflict: abort and re-run. */
bool pwb_be_should_retry(const struct pwb_txn *txn);
/* After a failed begin or a retry: repairs the backend if it must be
 * (Berkeley DB: a panicked environment is re-opened with recovery). */
int pwb_be_repair(struct pwb_store *st, struct pwb_error *err);

/* ---- tables ---- */

/* get: PWB_ENOTFOUND if absent; *val malloc'd and NUL-terminated (*vlen,
 * which may be NULL, excludes the NUL). for_update (write transactions)
 * locks the row until the transaction ends (SELECT ... FOR UPDATE). */
int pwb_kv_get(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen, char **val,
	       size_t *vlen, bool for_update, struct pwb_error *err);
/* put: insert or overwrite; on a membership table, adds val to the set. */
int pwb_kv_put(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen, const void *val,
	       size_t vlen, struct pwb_error *err);
/* del: removes the key (on a membership table, the whole set). */
int pwb_kv_del(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
	       struct pwb_error *err);
/* exists: false also on an error (which marks a conflict for retry). */
bool pwb_kv_exists(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen);
/* Walks a whole table in key order (a membership table: every pair);
 * cb's non-zero return stops the walk and is returned. Key and value are
 * only valid during the call. */
typedef int (*pwb_kv_cb)(const void *key, size_t klen, const void *val, size_t vlen, void *ctx,
			 struct pwb_error *err);
int pwb_kv_foreach(struct pwb_txn *txn, enum pwb_dbi dbi, pwb_kv_cb cb, void *ctx,
		   struct pwb_error *err);
/* Number of keys (a membership table: of sets). */
int pwb_kv_count(struct pwb_txn *txn, enum pwb_dbi dbi, uint64_t *count, struct pwb_error *err);
/* Deletes every entry of dbi whose value is val (an index pointing at a
 * record that can no longer be decoded), calling cb with each key first
 * (cb may be NULL). A full scan: only for removing damaged records. */
typedef void (*pwb_kv_key_cb)(enum pwb_dbi dbi, const void *key, size_t klen, void *ctx);
int pwb_kv_del_by_value(struct pwb_txn *txn, enum pwb_dbi dbi, const void *val, size_t vlen,
			pwb_kv_key_cb cb, void *ctx, struct pwb_error *err);

/* ---- membership sets (DBI_MEMBERS, DBI_MEMBER_OF): ids of PWB_ID_LEN ----
 * Add is pwb_kv_put (idempotent). */
int pwb_kv_dup_del(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		   const void *val, size_t vlen, struct pwb_error *err); /* idempotent */
bool pwb_kv_dup_exists(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		       const void *val, size_t vlen);
/* Calls cb with each value of key, in order. */
int pwb_kv_dup_foreach(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		       pwb_id_cb cb, void *ctx, struct pwb_error *err);

/* ---- counters (DBI_META, decimal text) ----
 * Read-modify-write inside the write transaction: the read locks the
 * counter until commit, so no other writer can read the same value. */
int pwb_be_counter_get(struct pwb_txn *txn, const char *name, uint64_t def, uint64_t *out,
		       struct pwb_error *err);
int pwb_be_counter_set(struct pwb_txn *txn, const char *name, uint64_t value,
		       struct pwb_error *err);

/* ---- the change log ----
 * Entries are opaque bytes to the backend (the rules encode them). */

/* Appends rec in a write transaction and returns its sequence: the last
 * sequence plus one, allocated under the counter's lock, so sequences are
 * gap-free and in commit order (an aborted transaction's sequence is
 * handed out again). A non-empty request_id's index entry now points at
 * this sequence (the last change of that request). */
int pwb_be_change_append(struct pwb_txn *txn, const void *rec, size_t len, const char *request_id,
			 uint64_t *seq, struct pwb_error *err);
/* Calls cb with each entry whose seq > after, in order, at most limit
 * entries (0: all); cb's non-zero return stops and is returned. */
typedef int (*pwb_be_change_cb)(uint64_t seq, const void *rec, size_t len, void *ctx,
				struct pwb_error *err);
int pwb_be_change_foreach(struct pwb_txn *txn, uint64_t after, size_t limit, pwb_be_change_cb cb,
			  void *ctx, struct pwb_error *err);
/* The same backwards: entries with seq < before (0: every entry), newest
 * first, at most limit (0: all). */
int pwb_be_change_foreach_back(struct pwb_txn *txn, uint64_t before, size_t limit,
			       pwb_be_change_cb cb, void *ctx, struct pwb_error *err);
/* The last sequence ever appended (0: none), and the first still kept
 * (last + 1 when the log is empty). */
int pwb_be_change_last(struct pwb_txn *txn, uint64_t *seq, struct pwb_error *err);
int pwb_be_change_first(struct pwb_txn *txn, uint64_t *seq, struct pwb_error *err);
/* The last sequence request_id appended: PWB_ENOTFOUND if none is kept. */
int pwb_be_change_by_request(struct pwb_txn *txn, const char *request_id, uint64_t *seq,
			     struct pwb_error *err);
/* Removes every entry with seq <= upto, and the request index entries
 * pointing at them; the last sequence is kept (never reused). Idempotent. */
int pwb_be_change_trim(struct pwb_txn *txn, uint64_t upto, struct pwb_error *err);
/* Stores rec under seq, which must be past the last sequence (else
 * PWB_EINVAL); the last sequence becomes seq, what lies between stays a
 * gap (restoring an exported log, no request index). */
int pwb_be_change_put(struct pwb_txn *txn, uint64_t seq, const void *rec, size_t len,
		      struct pwb_error *err);
/* Replaces the entry seq in place (format upgrades only). */
int pwb_be_change_replace(struct pwb_txn *txn, uint64_t seq, const void *rec, size_t len,
			  struct pwb_error *err);

/* ---- the operations table: two backends in one process ----
 * Every pwb_be_* / pwb_kv_* call above dispatches (backend.c) through
 * txn->st->ops (st->ops for the life calls); a store whose ops is NULL is
 * Berkeley DB (pwb_bdb_ops). The PostgreSQL backend (pwb_store_pg.so)
 * exports one table, pwb_store_pg_ops, which cluster.c loads; its cluster
 * members carry cluster.h's PostgreSQL calls (NULL for Berkeley DB). */
struct pwb_config;
struct pwb_cluster_state;
struct pwb_cluster_pull_cb;
struct pwb_cluster_host;

#define PWB_BACKEND_ABI 2 /* bumped when this struct changes */

struct pwb_backend_ops {
	unsigned abi; /* PWB_BACKEND_ABI */
	size_t size;  /* sizeof(struct pwb_backend_ops) */
	const char *name;
	int (*open)(struct pwb_store *st, struct pwb_error *err);
	void (*close)(struct pwb_store *st);
	int (*verify)(struct pwb_store *st, struct pwb_error *err);
	int (*begin)(struct pwb_txn *txn, bool write, struct pwb_error *err);
	int (*commit)(struct pwb_txn *txn, struct pwb_error *err);
	void (*abort)(struct pwb_txn *txn);
	bool (*should_retry)(const struct pwb_txn *txn);
	int (*repair)(struct pwb_store *st, struct pwb_error *err);
	int (*kv_get)(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		      char **val, size_t *vlen, bool for_update, struct pwb_error *err);
	int (*kv_put)(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		      const void *val, size_t vlen, struct pwb_error *err);
	int (*kv_del)(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		      struct pwb_error *err);
	bool (*kv_exists)(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen);
	int (*kv_foreach)(struct pwb_txn *txn, enum pwb_dbi dbi, pwb_kv_cb cb, void *ctx,
			  struct pwb_error *err);
	int (*kv_count)(struct pwb_txn *txn, enum pwb_dbi dbi, uint64_t *count,
			struct pwb_error *err);
	int (*kv_del_by_value)(struct pwb_txn *txn, enum pwb_dbi dbi, const void *val, size_t vlen,
			       pwb_kv_key_cb cb, void *ctx, struct pwb_error *err);
	int (*dup_del)(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		       const void *val, size_t vlen, struct pwb_error *err);
	bool (*dup_exists)(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
			   const void *val, size_t vlen);
	int (*dup_foreach)(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
			   pwb_id_cb cb, void *ctx, struct pwb_error *err);
	int (*counter_get)(struct pwb_txn *txn, const char *name, uint64_t def, uint64_t *out,
			   struct pwb_error *err);
	int (*counter_set)(struct pwb_txn *txn, const char *name, uint64_t value,
			   struct pwb_error *err);
	int (*change_append)(struct pwb_txn *txn, const void *rec, size_t len,
			     const char *request_id, uint64_t *seq, struct pwb_error *err);
	int (*change_foreach)(struct pwb_txn *txn, uint64_t after, size_t limit,
			      pwb_be_change_cb cb, void *ctx, struct pwb_error *err);
	int (*change_foreach_back)(struct pwb_txn *txn, uint64_t before, size_t limit,
				   pwb_be_change_cb cb, void *ctx, struct pwb_error *err);
	int (*change_last)(struct pwb_txn *txn, uint64_t *seq, struct pwb_error *err);
	int (*change_first)(struct pwb_txn *txn, uint64_t *seq, struct pwb_error *err);
	int (*change_by_request)(struct pwb_txn *txn, const char *request_id, uint64_t *seq,
				 struct pwb_error *err);
	int (*change_trim)(struct pwb_txn *txn, uint64_t upto, struct pwb_error *err);
	int (*change_put)(struct pwb_txn *txn, uint64_t seq, const void *rec, size_t len,
			  struct pwb_error *err);
	int (*change_replace)(struct pwb_txn *txn, uint64_t seq, const void *rec, size_t len,
			      struct pwb_error *err);
	/* True when another host reported id (kind 'u' or 'g') as one of its
	 * local accounts: the allocator skips it. NULL: no other host. */
	bool (*id_used_elsewhere)(struct pwb_txn *txn, char kind, uint32_t id);

	/* cluster.h's PostgreSQL calls (NULL for Berkeley DB) */
	int (*cluster_pull)(struct pwb_store *cl, uint64_t after, bool full, size_t max_changes,
			    const struct pwb_cluster_pull_cb *cb, void *ctx, uint64_t *upto,
			    struct pwb_error *err);
	int (*cluster_fd)(struct pwb_store *cl);
	int (*cluster_drain)(struct pwb_store *cl, struct pwb_error *err);
	int (*cluster_connect)(struct pwb_store *cl, struct pwb_error *err);
	int (*cluster_connect_start)(struct pwb_store *cl, struct pwb_error *err);
	int (*cluster_connect_step)(struct pwb_store *cl, int *fd, short *events,
				    struct pwb_error *err);
	bool (*cluster_connecting)(struct pwb_store *cl);
	bool (*cluster_connected)(struct pwb_store *cl);
	int (*cluster_report)(struct pwb_store *cl, const struct pwb_cluster_host *self,
			      const uint32_t *uids, size_t nuids, const uint32_t *gids,
			      size_t ngids, struct pwb_error *err);
	int (*cluster_hosts)(struct pwb_store *cl,
			     int (*cb)(const struct pwb_cluster_host *h, void *ctx), void *ctx,
			     struct pwb_error *err);
	int (*cluster_init)(struct pwb_store *cl, const char *reader_role, struct pwb_error *err);
	int (*cluster_migrate)(struct pwb_store *cl, unsigned *from, unsigned *to,
			       struct pwb_error *err);
	/* pwb_cluster_seed's check that the cluster is empty (0, or PWB_EEXIST) */
	int (*cluster_empty)(struct pwb_txn *txn, struct pwb_error *err);
	int (*cluster_prune)(struct pwb_store *cl, uint64_t upto, struct pwb_error *err);
	int (*cluster_state)(struct pwb_store *cl, struct pwb_cluster_state *out,
			     struct pwb_error *err);
};

/* ops->id_used_elsewhere, false when the backend has none (store_ids.c). */
bool pwb_be_id_used_elsewhere(struct pwb_txn *txn, char kind, uint32_t id);

/* The Berkeley DB backend (internal/bdb.c). */
extern const struct pwb_backend_ops pwb_bdb_ops;
/* The table a PostgreSQL backend object exports (dlsym name). */
#define PWB_STORE_PG_OPS_SYMBOL "pwb_store_pg_ops"
/* The names of the tables (bdb.c's sub-databases; PostgreSQL: pwb_NAME). */
const char *pwb_dbi_name(enum pwb_dbi dbi);
bool pwb_dbi_is_set(enum pwb_dbi dbi);

#endif
