/* Cluster mode (store-backend=postgresql; DESIGN.md "Cluster mode"): the
 * contract between
 *   - the PostgreSQL backend: lib/store/internal/pg.c, built as the object
 *     pwb_store_pg.so that only pwbd loads (dlopen), only when configured;
 *     lib/store/cluster.c loads it and forwards the calls below;
 *   - the follower: lib/store/store_follow.c, which applies what the
 *     cluster committed into this host's Berkeley DB replica;
 *   - pwbd (pwbd/cluster.c): the loop, the host report, the admin ops.
 *
 * The model. PostgreSQL holds the same tables as Berkeley DB (backend.h),
 * one SQL table per enum pwb_dbi, each row also carrying `version` (the
 * sequence its last writer's transaction started after, plus one) and
 * `deleted` (a tombstone). A write transaction first takes the one counter
 * row (UPDATE ... RETURNING), so writers are serialised and the change
 * log's sequence (taken from that row) is gap-free and in commit order.
 * A follower that has applied everything up to A asks for the rows with
 * version > A and the change entries with seq > A, in one snapshot, and
 * applies them to its replica in one Berkeley DB transaction; the
 * replica's publisher then publishes the NSS snapshot as on one host. */
#ifndef PWB_STORE_CLUSTER_H
#define PWB_STORE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "backend.h"
#include "store.h"

/* ---- opening (lib/store/cluster.c) ---- */

/* Where pwb_store_pg.so is installed (configure: $(pkglibdir)); tests
 * point $PWB_STORE_PG_MODULE at the build tree's copy (secure_getenv). */
#ifndef PWB_PKGLIBDIR
#define PWB_PKGLIBDIR "/usr/lib/pwb"
#endif
#define PWB_STORE_PG_MODULE "pwb_store_pg.so"

/* Opens the cluster store from cfg (store-dsn, store-password-file,
 * store-timeout): loads the backend object (an error naming the file when
 * it is missing), connects, and reads the schema version. A database
 * without the schema opens (state.schema 0) so that pwb_cluster_init can
 * create it; every other call then fails with a PWB_ECONFIG message
 * saying to run `pwbadm cluster init`. An older schema: "run pwbadm
 * cluster migrate"; a newer one is refused. A database that cannot be
 * reached is not an error either: the store opens disconnected and each
 * call returns PWB_EUNAVAIL naming the DSN's host (never the password)
 * until pwb_cluster_connect succeeds. */
int pwb_store_open_cluster(const struct pwb_config *cfg, struct pwb_store **out,
			   struct pwb_error *err);
/* The same without connecting (nor waiting): the store opens disconnected
 * and the caller's loop connects it (pwb_cluster_connect_start below). */
int pwb_store_open_cluster_nowait(const struct pwb_config *cfg, struct pwb_store **out,
				  struct pwb_error *err);

/* pwb_store_link_writer and pwb_store_write_local (the replica's link to
 * the cluster store) are declared in store.h, which store.c implements:
 * the store stays below cluster mode (scripts/check-includes). */

/* ---- what the follower reads (PostgreSQL backend) ---- */

struct pwb_cluster_state {
	unsigned schema;		 /* schema version (0: no schema) */
	char cluster_id[PWB_ID_LEN + 1]; /* a UUID made at init, never changed */
	uint64_t seq;			 /* the last sequence committed */
	uint64_t horizon;		 /* tombstones and log entries up to here were pruned */
};

/* One replicated row: a key of table dbi, its value (NULL when deleted). A
 * membership table's row is one (key, member) pair: val is the member id,
 * and deleted says that pair was removed. */
struct pwb_cluster_row {
	enum pwb_dbi dbi;
	const void *key;
	size_t klen;
	const void *val;
	size_t vlen;
	bool deleted;
};

struct pwb_cluster_pull_cb {
	int (*state)(const struct pwb_cluster_state *s, void *ctx, struct pwb_error *err);
	int (*row)(const struct pwb_cluster_row *row, void *ctx, struct pwb_error *err);
	pwb_be_change_cb change; /* seq, the entry's bytes (as the rules encoded them) */
};

/* In one REPEATABLE READ, READ ONLY snapshot: calls cb->state first (a
 * non-zero return stops the pull: the follower refuses a database that is
 * behind it or another cluster), then cb->row for every row with version
 * > after (full: every live row, and no tombstones), then cb->change for
 * each change entry with after < seq <= *upto, in order, where *upto is
 * set to min(state.seq, after + max_changes) (max_changes 0: no limit).
 * Rows of DBI_META and DBI_CHANGE_REQUEST are never delivered (host-local
 * and writer-local). PWB_EUNAVAIL when the database cannot be reached. */
int pwb_cluster_pull(struct pwb_store *cl, uint64_t after, bool full, size_t max_changes,
		     const struct pwb_cluster_pull_cb *cb, void *ctx, uint64_t *upto,
		     struct pwb_error *err);

/* ---- notifications and the connection ---- */

/* The connection's socket, to poll for NOTIFY (-1: not connected). */
int pwb_cluster_fd(struct pwb_store *cl);
/* Reads what arrived on the socket: 1 when a change was notified, 0 when
 * nothing, PWB_EUNAVAIL when the connection was lost. */
int pwb_cluster_drain(struct pwb_store *cl, struct pwb_error *err);
/* Connects if not connected (one attempt, or the one under way, bounded
 * by store-timeout; LISTENs, reads the schema version): 0 or PWB_EUNAVAIL
 * with libpq's reason. It waits: for one-shot callers (pwbadm cluster
 * init and migrate through pwbd, a write's retry). */
int pwb_cluster_connect(struct pwb_store *cl, struct pwb_error *err);
/* The same without waiting, for a poll loop: _start begins an attempt (0;
 * nothing when connected or one is under way); _step drives it as far as
 * its socket allows: 1 (in progress: poll *fd for *events, then step
 * again; step at least every few hundred ms, as it enforces the attempt's
 * deadline, store-timeout from the start), 0 (connected: LISTEN issued
 * and schema read) or PWB_EUNAVAIL with libpq's reason (never the
 * password). Every connection has TCP keepalives and a tcp_user_timeout
 * of store-timeout unless the DSN sets its own. */
int pwb_cluster_connect_start(struct pwb_store *cl, struct pwb_error *err);
int pwb_cluster_connect_step(struct pwb_store *cl, int *fd, short *events, struct pwb_error *err);
bool pwb_cluster_connecting(struct pwb_store *cl);
bool pwb_cluster_connected(struct pwb_store *cl);

/* ---- hosts ---- */

#define PWB_CLUSTER_HOST_MAX 63
struct pwb_cluster_host {
	char name[PWB_CLUSTER_HOST_MAX + 1];
	char role[8];	     /* "writer" or "reader" */
	uint64_t applied;    /* the sequence its replica has applied */
	int64_t reported_at; /* unix seconds, the database's clock */
};
/* Records this host's state and the uids and gids of its local accounts
 * (/etc/passwd, /etc/group), which the cluster's allocator then skips on
 * every host. Through a SECURITY DEFINER function, so a reader's role
 * (SELECT and LISTEN only) may call it. */
int pwb_cluster_report(struct pwb_store *cl, const struct pwb_cluster_host *self,
		       const uint32_t *uids, size_t nuids, const uint32_t *gids, size_t ngids,
		       struct pwb_error *err);
int pwb_cluster_hosts(struct pwb_store *cl, int (*cb)(const struct pwb_cluster_host *h, void *ctx),
		      void *ctx, struct pwb_error *err);

/* ---- administration (pwbadm cluster ...) ---- */

/* Creates the schema at the latest version (PWB_EEXIST when present);
 * reader_role (may be NULL) gets SELECT on every table and EXECUTE on the
 * report function. */
int pwb_cluster_init(struct pwb_store *cl, const char *reader_role, struct pwb_error *err);
/* Brings an older schema to the latest: *from and *to say which. */
int pwb_cluster_migrate(struct pwb_store *cl, unsigned *from, unsigned *to, struct pwb_error *err);
/* --from-local: copies every table of local (a Berkeley DB store) and its
 * change log into the cluster in one transaction, keeping every uid, gid,
 * binding and sequence; the cluster must be empty (PWB_EEXIST). */
int pwb_cluster_seed(struct pwb_store *cl, struct pwb_store *local, struct pwb_error *err);
/* Deletes tombstones and change entries with version/seq <= upto and
 * raises the horizon to upto: a follower behind it resyncs fully. */
int pwb_cluster_prune(struct pwb_store *cl, uint64_t upto, struct pwb_error *err);
/* The state without a pull (pwbadm status and check). */
int pwb_cluster_state(struct pwb_store *cl, struct pwb_cluster_state *out, struct pwb_error *err);

/* ---- the follower (lib/store/store_follow.c) ---- */

/* The replica's own record of what it follows (its DBI_META). */
struct pwb_follow_state {
	char cluster_id[PWB_ID_LEN + 1]; /* "" before the first sync */
	uint64_t applied;		 /* the last sequence applied */
	int64_t applied_at;		 /* unix seconds of the last apply */
};
int pwb_follow_state(struct pwb_store *replica, struct pwb_follow_state *out,
		     struct pwb_error *err);

struct pwb_follow_result {
	uint64_t applied; /* the replica's applied sequence afterwards */
	uint64_t db_seq;  /* the cluster's sequence the pull saw */
	size_t changes;	  /* change entries applied */
	size_t refused;	  /* records refused by the policy (logged) */
	bool full;	  /* a full resync ran */
};

/* Applies what the cluster committed after the replica's applied sequence,
 * in batches of at most max_changes change entries, each batch one
 * replica transaction (so one publish). Every user, group and membership
 * row is re-validated with the store's policy before it is applied; a
 * refused record is skipped with all rows that refer to it and logged
 * (LOG_ALERT, naming the record and the rule). A full resync (the first
 * sync, a horizon past the replica, or full) replaces the replicated
 * tables. PWB_ECONFLICT when the database's sequence is behind the
 * replica or its cluster id differs (writes must stop until an
 * administrator accepts: pwb_follow_accept); PWB_EUNAVAIL when the
 * database cannot be reached. */
int pwb_follow_apply(struct pwb_store *replica, struct pwb_store *cl, bool full, size_t max_changes,
		     struct pwb_follow_result *out, struct pwb_error *err);
/* `pwbadm cluster accept`: a full resync that also accepts a database
 * behind the replica or of another cluster id. */
int pwb_follow_accept(struct pwb_store *replica, struct pwb_store *cl,
		      struct pwb_follow_result *out, struct pwb_error *err);

/* The follower itself, with the source of rows and change entries as a
 * parameter (pwb_follow_apply passes pwb_cluster_pull over cl; the unit
 * tests a function of their own): accept as pwb_follow_accept. */
typedef int (*pwb_follow_pull_fn)(void *src, uint64_t after, bool full, size_t max_changes,
				  const struct pwb_cluster_pull_cb *cb, void *ctx, uint64_t *upto,
				  struct pwb_error *err);
int pwb_follow_run(struct pwb_store *replica, pwb_follow_pull_fn pull, void *src, bool full,
		   bool accept, size_t max_changes, struct pwb_follow_result *out,
		   struct pwb_error *err);

/* This host's local accounts, from the files only (/etc/passwd and
 * /etc/group; other NSS sources are the site's own): what the follower
 * refuses a replicated record to clash with, and what pwbd reports. */
struct pwb_local_account {
	char *name;
	uint32_t id;
};
struct pwb_local_accounts {
	struct pwb_local_account *users, *groups;
	size_t nusers, ngroups;
};
int pwb_local_accounts_load(const char *passwd, const char *group, struct pwb_local_accounts *out,
			    struct pwb_error *err);
void pwb_local_accounts_free(struct pwb_local_accounts *la);

#endif
