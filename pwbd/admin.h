/* Shared by pwbd's admin operations (op_admin.c, admin_*.c): reading the
 * arguments pwbadm sends and the damaged-record report every walk returns.
 * Internal to pwbd (and to pwbadm --offline, which runs the same handlers). */
#ifndef PWBD_ADMIN_H
#define PWBD_ADMIN_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "ops.h"

/* A valid Linux name in args[key] (PWB_EINVAL naming key otherwise). */
int admin_arg_name(json_t *args, const char *key, char out[PWB_NAME_MAX + 1],
		   struct pwb_error *err);
/* An optional string (NULL when absent); PWB_EINVAL if not a string. */
int admin_arg_text(json_t *args, const char *key, const char **out, struct pwb_error *err);
bool admin_arg_bool(json_t *args, const char *key);

/* Records the store skipped while walking users (users_seen, -1: not
 * walked) and groups, as {"count": N, "records": [{"kind": "u", "id":
 * ...}, ...]} (the first few, named from the policy audit). */
int admin_damaged(struct pwb_txn *txn, int64_t users_seen, int64_t groups_seen, json_t **out,
		  struct pwb_error *err);

/* A user's group names, sorted, as a JSON array (into *out). */
int admin_user_groups(struct pwb_txn *txn, const char *user_id, json_t **out,
		      struct pwb_error *err);
/* A group's member names, sorted. */
int admin_group_members(struct pwb_txn *txn, const char *group_id, json_t **out,
			struct pwb_error *err);
/* Sorts a JSON array of strings in place. */
int admin_strings_sort(json_t *array);

#define ADMIN_DAMAGED_SHOWN 10

/* Listings come in pages that fit one reply frame: a page holds records
 * past args.after (a record id; the walk is in id order) up to about
 * ADMIN_PAGE_BYTES of JSON, and says "next" (the id to go on after) when
 * more follow. */
#define ADMIN_PAGE_BYTES (PWB_RPC_MAX_FRAME / 2)
/* The largest result that leaves room for the reply's envelope. */
#define ADMIN_REPLY_MAX (PWB_RPC_MAX_FRAME - 4096u)
struct admin_page {
	const char *after; /* from args.after, or NULL: from the start */
	size_t bytes;	   /* JSON added to this page so far */
	char next[PWB_ID_LEN + 1];
	bool full;
};
int admin_page_init(struct admin_page *p, json_t *args, struct pwb_error *err);
/* 1: id is at or before the cursor (skip it); 0: take it. */
int admin_page_skip(const struct admin_page *p, const char *id);
/* Whether the page is full: the record at hand goes to the next page (stop
 * the walk). */
bool admin_page_full(struct admin_page *p);
/* Appends record (stolen) for id and moves the cursor past it: 0 or
 * -ENOMEM. */
int admin_page_add(struct admin_page *p, json_t *array, const char *id, json_t *record);

/* The handlers, by file. */
int admin_user_list(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_user_show(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_user_add(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_user_lock(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_user_unlock(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_user_delete(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_user_groups_set(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_user_rebind(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_group_list(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_group_map(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_group_unmap(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_group_maps(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_token_generate(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_token_list(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_token_revoke(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_snapshot_rebuild(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_store_export(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_store_import(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_store_audit(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_store_changes(struct pwbd_call *call, json_t **result, struct pwb_error *err);
int admin_store_status(struct pwbd_call *call, json_t **result, struct pwb_error *err);

/* The published snapshot under db_dir as store.status reports it ({path,
 * readable, generation, published, age_seconds, seq, users, bytes}); it
 * needs no store, so pwbadm status shows it when pwbd is down. 0 or
 * -ENOMEM. */
int admin_snapshot_status(const char *db_dir, json_t **out);

/* Cluster mode (op_cluster.c): this host's cluster state as cluster.status
 * and store.status report it, the database's state when it answers (NULL:
 * what this host saw at its last contact), hosts [] to be filled; and one
 * host's entry, its lag counted against db_seq. 0 or -ENOMEM. */
struct pwbd_cluster;
struct pwbd_cluster_status;
struct pwb_cluster_state;
struct pwb_cluster_host;
int pwbd_cluster_status_json(const struct pwbd_cluster_status *s,
			     const struct pwb_cluster_state *db, int64_t now, json_t **out);
int pwbd_cluster_host_json(const struct pwb_cluster_host *h, uint64_t db_seq, int64_t now,
			   json_t **out);
/* The whole of cluster.status: this host, the database, every host (when
 * the database cannot be asked: "hosts_error" says why). */
int pwbd_cluster_status_read(struct pwbd_cluster *c, json_t **out, struct pwb_error *err);

#endif
