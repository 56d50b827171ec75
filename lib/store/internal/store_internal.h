/* Internals shared by the store's rule files (store.c: opening and
 * transactions; store_users.c, store_groups.c, store_tokens.c: records;
 * store_ids.c: id allocation; store_changes.c: the change log). Not for
 * callers. */
#ifndef PWB_STORE_INTERNAL_H
#define PWB_STORE_INTERNAL_H

#include <limits.h>
#include <stdint.h>
#include "snapshot.h"
#include "backend.h"
#include "store.h"
#include "internal/store_types.h"

/* The store's on-disk format (DBI_META "format"; a store without it is
 * format 1, written before the key existed). Opening upgrades an older
 * store in one transaction and refuses a newer one. */
#define PWB_STORE_FORMAT 4
/* Format 1 -> 2: fills the home index from the stored users. Format 2 -> 3
 * (change entries as JSON with actor and request id, the request index,
 * reader cursors): store_changes.c. Format 3 -> 4: the group name mappings
 * (store_group_maps.c), which start empty; the version says an older pwb,
 * which would ignore them, must not open the store. */
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
/* The same checks for one record (the cluster follower re-validates
 * each replicated record with them): cb as for the audit; a user's ids are
 * not looked up in other NSS sources (the follower checks the local
 * files: NSS also answers from pwb's own snapshot, behind the replica). */
int pwb_user_audit_one(struct pwb_txn *txn, const struct pwb_user *u, pwb_audit_cb cb, void *ctx,
		       struct pwb_error *err);
int pwb_group_audit_one(struct pwb_txn *txn, const struct pwb_group *g, pwb_audit_cb cb, void *ctx);
/* And of the group name mappings (store_group_maps.c): kind 'm'. */
int pwb_group_map_audit(struct pwb_txn *txn, pwb_audit_cb cb, void *ctx, struct pwb_error *err);

/* Ids (store_ids.c). */
int pwb_ids_alloc_uid(struct pwb_txn *txn, uint32_t *out, struct pwb_error *err);
int pwb_ids_alloc_gid(struct pwb_txn *txn, uint32_t *out, struct pwb_error *err);
int pwb_ids_check_uid(struct pwb_txn *txn, uint32_t uid, struct pwb_error *err);
int pwb_ids_check_gid(struct pwb_txn *txn, uint32_t gid, struct pwb_error *err);
int pwb_ids_retire(struct pwb_txn *txn, char kind, uint32_t id, struct pwb_error *err);

/* ---- the change log (store_changes.c) ---- */

/* Logs one change in txn: e names kind, op, id, name, changed (borrowed;
 * attribute names only; released here, whatever the result) and the
 * publisher's hints (what, old_*); seq, time, actor and request_id are
 * filled here from the store's request. */
int pwb_change_append(struct pwb_txn *txn, struct pwb_change_entry *e, struct pwb_error *err);
/* Sets e->id (bounded copy); kind, op and what as given. */
void pwb_change_init(struct pwb_change_entry *e, char kind, const char *op, const char *id,
		     const char *name, unsigned what);
/* Adds an attribute name to e->changed (creating the array); -ENOMEM. */
int pwb_change_note(struct pwb_change_entry *e, const char *attr);
/* At the end of a transaction attempt: when committed, writes each
 * change's syslog line (authpriv); always frees them. */
void pwb_change_txn_end(struct pwb_txn *txn, bool committed);
/* Format 2 -> 3 inside the upgrade transaction. */
int pwb_change_upgrade(struct pwb_txn *txn, struct pwb_error *err);
/* The time entries get and retention compares with: pwb_now(), unless a
 * test installs a clock (unit tests only; never read from the environment,
 * which a setuid caller controls). */
extern int64_t (*pwb_change_clock)(void);

/* A change entry as format 2 stored it (raw struct, the publisher's hints
 * only): what the upgrade to format 3 converts. */
struct pwb_change {
	char kind;
	unsigned char what;
	char id[PWB_ID_LEN + 1];
	char old_name[PWB_NAME_MAX + 1];
	uint32_t old_num; /* uid or gid */
	uint32_t old_gid; /* users: primary gid */
	bool old_private; /* users: had a private group */
};
uint64_t pwb_change_last_seq(struct pwb_txn *txn);

/* Big-endian 32-bit key for uid/gid indexes. */
static inline void pwb_be32(uint32_t v, unsigned char out[4])
{
	out[0] = (unsigned char)(v >> 24);
	out[1] = (unsigned char)(v >> 16);
	out[2] = (unsigned char)(v >> 8);
	out[3] = (unsigned char)v;
}

#endif
