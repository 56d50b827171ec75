/* Internals shared by store.c (records, transactions), store_ids.c (id
 * allocation, change log) and publish.c (NSS snapshot). Not for callers. */
#ifndef PWB_STORE_INTERNAL_H
#define PWB_STORE_INTERNAL_H

#include <db.h>
#include <limits.h>
#include <stdint.h>
#include "snapshot.h"
#include "store.h"

/* Every database is a named sub-database of one file, store.db. */
enum pwb_dbi {
	DBI_META,	/* "lock", "next_uid", "next_gid", "seq", "format" */
	DBI_USERS,	/* id -> user JSON */
	DBI_USER_NAME,	/* Linux name -> id */
	DBI_USER_UNAME, /* lower-cased SCIM userName -> id */
	DBI_USER_UID,	/* uid (4 bytes, big-endian) -> id */
	DBI_USER_EXT,	/* externalId -> id */
	DBI_GROUPS,	/* id -> group JSON */
	DBI_GROUP_NAME, /* Linux name -> id */
	DBI_GROUP_GID,	/* gid (big-endian) -> id */
	DBI_GROUP_EXT,	/* externalId -> id */
	DBI_MEMBERS,	/* group id -> user ids (sorted duplicates) */
	DBI_MEMBER_OF,	/* user id -> group ids (sorted duplicates) */
	DBI_TOKENS,	/* token name -> token JSON */
	DBI_TOKEN_HASH, /* token hash -> name */
	DBI_RETIRED,	/* "u=UID" / "g=GID" -> ""; "h=HOME" -> former holder's id */
	DBI_CHANGES,	/* seq (8 bytes, big-endian) -> change JSON */
	/* "issuer\nsubject" -> id: the IdP identity a user is bound to */
	DBI_USER_SUBJECT,
	DBI_USER_HOME, /* normalised home path -> id (format 2) */
	DBI_COUNT
};

struct pwb_store {
	const struct pwb_config *cfg;
	DB_ENV *env;
	DB *db[DBI_COUNT];
	uid_t store_uid;
	gid_t store_gid;
	char store_dir[PATH_MAX];
	char nss_dir[PATH_MAX];
	unsigned writes_since_checkpoint;
	int write_lock_fd;		   /* flock serialising writers (see store.c) */
	bool publish_conflict;		   /* a publisher's read lost a lock conflict */
	bool recovered;			   /* opening found and cleared a dead process's regions */
	pwb_store_commit_hook commit_hook; /* pwb_store_on_commit */
	void *commit_ctx;
	struct pwb_actor actor; /* pwb_store_set_request: who the writes are for */
	char request_id[65];
};

struct pwb_txn {
	struct pwb_store *st;
	DB_TXN *tid;
	bool write;
	bool changed;	 /* a change was logged: publish after commit */
	bool deadlocked; /* Berkeley DB chose this transaction as a deadlock victim */
	bool panicked;	 /* the environment needs recovery (DB_RUNRECOVERY) */
};

/* Maps a Berkeley DB return to a pwb code with a message naming what. */
int pwb_store_db_error(struct pwb_error *err, int ret, const char *what);
/* The same inside a transaction, also noting a lock conflict (the runner
 * then retries the whole transaction) or a panic (it re-opens). */
int pwb_txn_fail(struct pwb_txn *txn, int ret, const char *what, struct pwb_error *err);

/* Raw key/value helpers on one database within txn. get: PWB_ENOTFOUND if
 * absent; *val malloc'd and NUL-terminated (len excludes the NUL). */
int pwb_kv_get(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen, char **val,
	       size_t *vlen, bool for_update, struct pwb_error *err);
int pwb_kv_put(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen, const void *val,
	       size_t vlen, struct pwb_error *err);
int pwb_kv_del(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
	       struct pwb_error *err);
/* Walks a whole database in key order; cb's non-zero return stops the walk
 * and is returned. Key and value are only valid during the call. */
typedef int (*pwb_kv_cb)(const void *key, size_t klen, const void *val, size_t vlen, void *ctx,
			 struct pwb_error *err);
int pwb_kv_foreach(struct pwb_txn *txn, enum pwb_dbi dbi, pwb_kv_cb cb, void *ctx,
		   struct pwb_error *err);

/* Sorted-duplicate databases (memberships): delete one pair; iterate. */
int pwb_kv_dup_del(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		   const void *val, size_t vlen, struct pwb_error *err);
int pwb_kv_dup_foreach(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		       pwb_id_cb cb, void *ctx, struct pwb_error *err);
bool pwb_kv_exists(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen);

/* Deletes every entry of dbi whose value is val (an index pointing at a
 * record that can no longer be decoded), calling cb with each key first
 * (cb may be NULL). A full scan: only for removing damaged records. */
typedef void (*pwb_kv_key_cb)(enum pwb_dbi dbi, const void *key, size_t klen, void *ctx);
int pwb_kv_del_by_value(struct pwb_txn *txn, enum pwb_dbi dbi, const void *val, size_t vlen,
			pwb_kv_key_cb cb, void *ctx, struct pwb_error *err);

/* The store's on-disk format (DBI_META "format"; a store without it is
 * format 1, written before the key existed). Opening upgrades an older
 * store in one transaction and refuses a newer one. */
#define PWB_STORE_FORMAT 2
/* Format 1 -> 2: fills the home index from the stored users. */
int pwb_user_index_homes(struct pwb_txn *txn, struct pwb_error *err);

/* Bounds on the extra SCIM attributes stored with a record: every record
 * must stay decodable (Jansson refuses nesting past 2048) and publishable.
 * 0, or PWB_EINVAL naming the attribute; whose names the record. */
#define PWB_ATTRS_MAX_DEPTH 32
#define PWB_ATTRS_MAX_BYTES (64 * 1024)
int pwb_attrs_check(const json_t *attrs, const char *whose, struct pwb_error *err);

/* Policy audit of the groups (store_groups.c), called by
 * pwb_store_policy_audit after the users. */
int pwb_group_audit(struct pwb_txn *txn, pwb_audit_cb cb, void *ctx, struct pwb_error *err);

/* Ids (store_ids.c). */
int pwb_ids_alloc_uid(struct pwb_txn *txn, uint32_t *out, struct pwb_error *err);
int pwb_ids_alloc_gid(struct pwb_txn *txn, uint32_t *out, struct pwb_error *err);
int pwb_ids_check_uid(struct pwb_txn *txn, uint32_t uid, struct pwb_error *err);
int pwb_ids_check_gid(struct pwb_txn *txn, uint32_t gid, struct pwb_error *err);
int pwb_store_count(struct pwb_txn *txn, int dbi, uint64_t *count, struct pwb_error *err);
int pwb_ids_retire(struct pwb_txn *txn, char kind, uint32_t id, struct pwb_error *err);

/* Change log (store_ids.c): what the publisher must re-render. kind is
 * 'u' or 'g'; old_* describe the keys the entity had before this change
 * (old_name NULL for a new entity). */
/* enum pwb_change_what is public (store.h). */

/* A change names the entity and which of its keys to re-render; old_*
 * (set only when keys themselves changed: rename, new uid/gid, delete, and
 * then with PWB_CH_ALL) are tombstoned first. */
struct pwb_change {
	char kind;
	unsigned char what;
	char id[PWB_ID_LEN + 1];
	char old_name[PWB_NAME_MAX + 1];
	uint32_t old_num; /* uid or gid */
	uint32_t old_gid; /* users: primary gid */
	bool old_private; /* users: had a private group */
};
int pwb_change_log(struct pwb_txn *txn, const struct pwb_change *c, struct pwb_error *err);
/* Reads changes with seq > after, in order, into a malloc'd array. */
int pwb_change_read(struct pwb_txn *txn, uint64_t after, struct pwb_change **out, size_t *n,
		    uint64_t *last_seq, size_t limit, struct pwb_error *err);
int pwb_change_trim(struct pwb_txn *txn, uint64_t upto, struct pwb_error *err);
uint64_t pwb_change_last_seq(struct pwb_txn *txn);

/* Publisher (publish.c), called after a commit with the fs identity set. */
int pwb_publish_changes(struct pwb_store *st, struct pwb_error *err);
int pwb_publish_full(struct pwb_store *st, struct pwb_error *err);

/* Runs a publisher pass, again (with backoff and failchk) as long as its
 * reads lose lock conflicts. */
int pwb_publish_retry(struct pwb_store *st, int (*once)(struct pwb_store *, struct pwb_error *),
		      struct pwb_error *err);

/* Read transactions for the publisher. */
int pwb_txn_begin_read(struct pwb_store *st, struct pwb_txn *txn, struct pwb_error *err);
void pwb_txn_end(struct pwb_txn *txn);

/* Big-endian 32-bit key for uid/gid indexes. */
static inline void pwb_be32(uint32_t v, unsigned char out[4])
{
	out[0] = (unsigned char)(v >> 24);
	out[1] = (unsigned char)(v >> 16);
	out[2] = (unsigned char)(v >> 8);
	out[3] = (unsigned char)v;
}

#endif
