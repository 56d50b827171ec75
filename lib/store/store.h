/* The pwb store: users, groups, memberships, SCIM tokens, id counters,
 * retired ids and the change log, in db-dir/store (root's), kept by a
 * backend (backend.h; Berkeley DB). Only one process opens it (pwbd, or
 * pwbadm offline). Every change runs inside pwb_store_write(), one durable
 * transaction that logs what it changed; once committed, the commit hook
 * (the publisher) brings the NSS snapshot up to date. */
#ifndef PWB_STORE_H
#define PWB_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "actor.h"
#include "config.h"
#include "error.h"
#include "names.h"
#include "progress.h"
#include "token.h" /* PWB_HASH_HEX_LEN */

#define PWB_ID_LEN	   36 /* a lower-case UUID: 8-4-4-4-12 */
#define PWB_TOKEN_NAME_MAX 64

struct pwb_store;
struct pwb_txn;

enum pwb_user_source {
	PWB_SOURCE_MANUAL = 0, /* pwbadm add-user */
	PWB_SOURCE_JIT = 1,    /* first sign-in */
	PWB_SOURCE_SCIM = 2,   /* pushed by the IdP */
};

const char *pwb_user_source_name(enum pwb_user_source s); /* "manual", "jit", "scim" */

struct pwb_user {
	char id[PWB_ID_LEN + 1];     /* SCIM id; generated on create when empty */
	char name[PWB_NAME_MAX + 1]; /* Linux user name */
	char *user_name;    /* SCIM userName as sent (unique, case-insensitive); NULL: = name */
	char *external_id;  /* SCIM externalId, unique; NULL if none */
	uint32_t uid;	    /* 0 on create: allocate */
	uint32_t gid;	    /* 0 on create: private group with GID = UID */
	bool private_group; /* set by the store: GID is the user's own group */
	char *gecos;	    /* display name; NULL: empty */
	char *home;	    /* NULL on create: user-homedir-path/NAME */
	char *shell;	    /* NULL on create: user-provisioning-default-shell */
	char *email;	    /* primary email, may be NULL */
	bool active;	    /* false: locked (shadow expired, PAM refuses) */
	enum pwb_user_source source;
	int64_t created;    /* unix seconds, set by the store */
	int64_t modified;   /* unix seconds, set by the store */
	int64_t last_login; /* unix seconds, 0 = never */
	uint64_t version;   /* bumped on every update; SCIM ETag */
	json_t *attrs;	    /* other SCIM attributes (name, emails, ...), owned; may be NULL */
	/* The IdP identity the account belongs to: set at JIT registration or at
	 * the first sign-in, changed only by pwb_user_bind(). */
	char *issuer;	    /* iss; NULL: not bound yet */
	char *subject;	    /* the auth-openid-subject-claim value at that issuer */
	bool bind_on_login; /* unbound, and the next sign-in binds it whatever
			     * auth-openid-bind-existing-users says: set on users
			     * created unbound (SCIM, pwbadm) and by an unbind */
};

struct pwb_group {
	char id[PWB_ID_LEN + 1];     /* SCIM id; generated on create when empty */
	char name[PWB_NAME_MAX + 1]; /* Linux group name, unique */
	char *display_name;	     /* SCIM displayName as sent; NULL: = name */
	char *external_id;	     /* unique; NULL if none */
	uint32_t gid;		     /* 0 on create: allocate */
	int64_t created, modified;
	uint64_t version;
	json_t *attrs; /* other SCIM attributes, owned; may be NULL */
};

struct pwb_token {
	char name[PWB_TOKEN_NAME_MAX + 1];
	char hash[PWB_HASH_HEX_LEN + 1]; /* SHA-256 of the token, hex; never the token */
	char masked[16];		 /* first characters + "...", for listings */
	int64_t created;
	int64_t expires;   /* 0 = never */
	int64_t last_used; /* 0 = never */
};

/* A group's display name: as the IdP sent it, else its Linux name. */
const char *pwb_group_display(const struct pwb_group *g);
/* Whether g is the group of display_name: display names match without
 * regard to ASCII case (SCIM displayName is not case-exact). */
bool pwb_group_display_is(const struct pwb_group *g, const char *display_name);

/* Releases what a record owns and zeroes it; safe on a zeroed record. */
void pwb_user_clear(struct pwb_user *u);
void pwb_group_clear(struct pwb_group *g);
/* Deep copy; dst must be cleared/zeroed. */
int pwb_user_copy(struct pwb_user *dst, const struct pwb_user *src);
int pwb_group_copy(struct pwb_group *dst, const struct pwb_group *src);

/* Opens db-dir/store, recovering after a crash. Only one process opens
 * the store: pwbd, or pwbadm's offline maintenance while pwbd is stopped.
 * Opening takes an exclusive lock (db-dir/store/open.lock, held until
 * close) and fails with PWB_EBUSY, naming the holder's pid, while another
 * process has the store open. As root it creates what is missing (db-dir
 * 0755; store/ 0700, nss/ 0755 and cache/ 0700, all root's) and takes over
 * a store an older release left owned by store-user (store-user itself is
 * ignored). Publishing a missing snapshot is the publisher's, when it is
 * attached (pwb_publish_attach). Fails with a clear message if a directory
 * has the wrong owner or mode.
 * The store carries a format version: an older store is upgraded on open
 * (in one transaction), a newer one is refused (PWB_ESTORE), never misread. */
int pwb_store_open(const struct pwb_config *cfg, struct pwb_store **out, struct pwb_error *err);
void pwb_store_close(struct pwb_store *st);
const struct pwb_config *pwb_store_config(const struct pwb_store *st);

/* A transaction body. It may run more than once (deadlock retry), so it
 * must not keep state from an earlier attempt. Returns 0 to commit or a
 * negative code to abort. */
typedef int (*pwb_txn_fn)(struct pwb_txn *txn, void *ctx, struct pwb_error *err);

/* Runs fn in one write transaction, commits durably, then calls the
 * commit hook (the publisher) before returning. One process owns the
 * store, so writers are serialised and ids allocated inside can never
 * collide. Every change fn makes is logged with the actor and request id
 * set by pwb_store_set_request(). A hook failure after a successful commit
 * is logged and does not fail the call (the next publish or `pwbadm
 * rebuild-nss` catches up). */
int pwb_store_write(struct pwb_store *st, pwb_txn_fn fn, void *ctx, struct pwb_error *err);

/* Runs fn in a read-only transaction (a consistent view; no publish). */
int pwb_store_read(struct pwb_store *st, pwb_txn_fn fn, void *ctx, struct pwb_error *err);

/* Cluster mode (cluster.h): */
/* Links this host's replica (a Berkeley DB store) to the cluster store:
 * from now on pwb_store_write(replica, ...) first calls wait(ctx, 0) (the
 * gate: a negative return refuses the write, e.g. on a reader host or
 * while the database is behind this host), then runs its transaction on
 * the cluster store (with the replica's actor, request id and progress)
 * and, when it logged a change, calls wait(ctx, seq) before returning, so
 * that the replica (and NSS) already show it; wait's error is the write's.
 * pwb_store_read(replica) reads the replica. cluster NULL unlinks. */
typedef int (*pwb_store_wait_fn)(void *ctx, uint64_t seq, struct pwb_error *err);
void pwb_store_link_writer(struct pwb_store *replica, struct pwb_store *cluster,
			   pwb_store_wait_fn wait, void *ctx);
/* A write that stays on this host whatever the link: the publisher's
 * cursor and the local log trim, and the follower's apply. */
int pwb_store_write_local(struct pwb_store *st, pwb_txn_fn fn, void *ctx, struct pwb_error *err);

/* After every commit that logged a change: seq is the last change's
 * sequence. pwbd and pwbadm's offline mode install the publisher
 * (pwb_publish_attach in publish.h); NULL removes the hook. */
typedef void (*pwb_store_commit_hook)(struct pwb_store *st, uint64_t seq, void *ctx);
void pwb_store_on_commit(struct pwb_store *st, pwb_store_commit_hook hook, void *ctx);
/* The hook installed (NULL: none) and its ctx, for a caller that wraps it
 * (pwbd times the publisher). */
pwb_store_commit_hook pwb_store_commit_hook_of(const struct pwb_store *st, void **ctx);
/* How many times this process ran a transaction again after it lost a
 * conflict (deadlock or lock timeout), all stores together. */
uint64_t pwb_store_retries(void);

/* Who the following writes are for (copied): the change log records actor
 * and request_id with every change. NULL actor: the daemon itself
 * ("pwbd"); NULL request_id: none. pwbd sets it per request. */
void pwb_store_set_request(struct pwb_store *st, const struct pwb_actor *actor,
			   const char *request_id);

/* The config and store a transaction belongs to. */
struct pwb_store *pwb_txn_store(struct pwb_txn *txn);

/* Says that what this write transaction stores may be lost in a crash
 * (a sign-in time, nothing NSS shows): its commit does not wait for the
 * log to reach the disk. A transaction that logged a change (see
 * pwb_store_on_commit) commits durably all the same. */
void pwb_txn_relax_durability(struct pwb_txn *txn);

/* Who hears the progress of the following long walks (copied; NULL:
 * nobody), like pwb_store_set_request: pwbd sets it for a request that
 * asked for progress, pwbadm --offline for a terminal. Long loops (import,
 * export, a full snapshot rebuild) report through pwb_txn_progress. */
void pwb_store_set_progress(struct pwb_store *st, const struct pwb_progress *progress);
void pwb_txn_progress(struct pwb_txn *txn, const char *stage, uint64_t done, int64_t total,
		      const char *unit);

/* ---- users ---- */

/* Validates and inserts u; fills id, uid, gid, home, shell, created,
 * modified, version where unset. Refuses (PWB_EEXIST) a taken name,
 * userName, externalId, uid, gid or home; (PWB_ELOCAL) a name, uid or gid
 * owned by another NSS source; (PWB_EINVAL) an invalid name, an explicit
 * uid outside what may be used, or a value the policy refuses (below);
 * (PWB_ENOIDS) an exhausted range; (PWB_EUNAVAIL) a failed lookup in
 * another NSS source (allocation fails closed).
 *
 * The policy, the same for SCIM, JIT, pwbadm and import:
 * - gid (gidNumber) is the user's own private group (0 or = uid) or the gid
 *   of a pwb group inside group-provisioning-start-gid..end-gid; never a
 *   local group, another user's private group or a retired gid.
 * - home (homeDirectory) passes pwb_policy_home() and is stored
 *   normalised; NULL means user-homedir-path/NAME. A home belongs to one
 *   user: no two users share a path, and a path a user held before (it was
 *   deleted, or moved to another home) is retired, never given to another
 *   user (PWB_EEXIST naming the holder). The user itself may return to it.
 * - shell (loginShell) passes pwb_policy_shell(); NULL means
 *   user-provisioning-default-shell.
 * - the private group's name passes pwb_policy_group_name().
 * - attrs nest at most PWB_ATTRS_MAX_DEPTH deep and encode to at most
 *   64 KiB, so that every stored record can be read back and published.
 * Values an update leaves unchanged are not checked again (a record from
 * before a policy can still be locked or deleted); pwbadm check reports
 * them (pwb_store_policy_audit). */
int pwb_user_create(struct pwb_txn *txn, struct pwb_user *u, struct pwb_error *err);

/* Lookups fill *out (which must be zeroed or cleared) or return PWB_ENOTFOUND.
 * A stored record that cannot be decoded returns PWB_EDAMAGED with only
 * out->id set (and out->name, for a lookup by name), so that a caller can
 * still pwb_user_delete() it by id (`pwbadm delete-user NAME`). */
int pwb_user_get(struct pwb_txn *txn, const char *id, struct pwb_user *out, struct pwb_error *err);
int pwb_user_get_by_name(struct pwb_txn *txn, const char *name, struct pwb_user *out,
			 struct pwb_error *err);
int pwb_user_get_by_user_name(struct pwb_txn *txn, const char *user_name, struct pwb_user *out,
			      struct pwb_error *err); /* case-insensitive */
int pwb_user_get_by_uid(struct pwb_txn *txn, uint32_t uid, struct pwb_user *out,
			struct pwb_error *err);
int pwb_user_get_by_external_id(struct pwb_txn *txn, const char *external_id, struct pwb_user *out,
				struct pwb_error *err);

/* Replaces the stored user whose id is u->id with u (same uniqueness rules
 * and policy as create; uid/gid may change only to free ids). A NULL home
 * keeps the stored one: the home is bound to the user, so a rename never
 * moves it nor frees the old path for a new user of the old name. A
 * private group follows a uid change. Bumps version and modified and
 * writes them back into u. */
int pwb_user_update(struct pwb_txn *txn, struct pwb_user *u, struct pwb_error *err);

/* Binds the user to (issuer, subject), or unbinds with both NULL (which
 * sets bind_on_login: the next sign-in binds). Refuses (PWB_EEXIST) a pair
 * another user holds. pwb_user_update never changes a binding. */
int pwb_user_bind(struct pwb_txn *txn, const char *id, const char *issuer, const char *subject,
		  struct pwb_error *err);
int pwb_user_get_by_subject(struct pwb_txn *txn, const char *issuer, const char *subject,
			    struct pwb_user *out, struct pwb_error *err);

/* Records a sign-in time without touching anything NSS shows. */
int pwb_user_touch_login(struct pwb_txn *txn, const char *id, int64_t when, struct pwb_error *err);

/* Removes the user and their memberships; their UID (and private GID) and
 * home path are retired, never handed out again. Also removes a record
 * that cannot be decoded (found through its index entries). */
int pwb_user_delete(struct pwb_txn *txn, const char *id, struct pwb_error *err);

/* Calls cb for each user in id order until cb returns non-zero (which is
 * then returned). The record is only valid during the call. A record that
 * cannot be decoded is logged (naming its id) and skipped. */
typedef int (*pwb_user_cb)(const struct pwb_user *u, void *ctx);
int pwb_user_foreach(struct pwb_txn *txn, pwb_user_cb cb, void *ctx, struct pwb_error *err);
int pwb_user_count(struct pwb_txn *txn, uint64_t *count, struct pwb_error *err);

/* ---- groups ---- */

/* Groups follow the users' rules (PWB_EDAMAGED, the attrs bounds, deletion
 * and skipping of damaged records). A name in group-provisioning-deny-names
 * is refused (PWB_EINVAL), one that a local source owns too (PWB_ELOCAL). */
int pwb_group_create(struct pwb_txn *txn, struct pwb_group *g, struct pwb_error *err);
int pwb_group_get(struct pwb_txn *txn, const char *id, struct pwb_group *out,
		  struct pwb_error *err);
int pwb_group_get_by_name(struct pwb_txn *txn, const char *name, struct pwb_group *out,
			  struct pwb_error *err);
int pwb_group_get_by_gid(struct pwb_txn *txn, uint32_t gid, struct pwb_group *out,
			 struct pwb_error *err);
int pwb_group_get_by_external_id(struct pwb_txn *txn, const char *external_id,
				 struct pwb_group *out, struct pwb_error *err);
int pwb_group_update(struct pwb_txn *txn, struct pwb_group *g, struct pwb_error *err);
/* Removes the group and its memberships; its GID is retired. */
int pwb_group_delete(struct pwb_txn *txn, const char *id, struct pwb_error *err);
typedef int (*pwb_group_cb)(const struct pwb_group *g, void *ctx);
int pwb_group_foreach(struct pwb_txn *txn, pwb_group_cb cb, void *ctx, struct pwb_error *err);
int pwb_group_count(struct pwb_txn *txn, uint64_t *count, struct pwb_error *err);

/* ---- group name mappings (pwbadm map-group) ----
 * An administrator's choice of the Linux name for a group display name, for
 * IdPs that cannot send the posix extension (Okta's Push Groups): applied
 * by pwb_provision_group_name to SCIM creates and JIT claims. The display
 * name matches without regard to ASCII case (SCIM displayName is not
 * case-exact). The Linux name is reserved: pwb_group_create refuses it
 * (PWB_EEXIST) to a group of any other display name. */
struct pwb_group_map {
	char *display_name;	     /* as typed, at most PWB_GROUP_DISPLAY_MAX bytes */
	char name[PWB_NAME_MAX + 1]; /* the Linux group name */
	int64_t created;	     /* set by the store */
};
void pwb_group_map_clear(struct pwb_group_map *m);
/* Stores m. Refuses (PWB_EEXIST, naming what holds it) a display name
 * already mapped, a Linux name another mapping or a group of another
 * display name holds, and a display name whose group exists under another
 * Linux name (the Linux name is fixed at creation); (PWB_EINVAL) an invalid
 * display name (empty, too long, a control character) or Linux name, or a
 * deny-listed one; (PWB_ELOCAL) a local group's name. */
int pwb_group_map_put(struct pwb_txn *txn, struct pwb_group_map *m, struct pwb_error *err);
int pwb_group_map_get(struct pwb_txn *txn, const char *display_name, struct pwb_group_map *out,
		      struct pwb_error *err);
int pwb_group_map_get_by_name(struct pwb_txn *txn, const char *name, struct pwb_group_map *out,
			      struct pwb_error *err);
/* Removes the mapping (PWB_ENOTFOUND if none); a group it named stays. */
int pwb_group_map_delete(struct pwb_txn *txn, const char *display_name, struct pwb_error *err);
typedef int (*pwb_group_map_cb)(const struct pwb_group_map *m, void *ctx);
int pwb_group_map_foreach(struct pwb_txn *txn, pwb_group_map_cb cb, void *ctx,
			  struct pwb_error *err);

/* ---- membership (user ids in group ids) ---- */

/* Idempotent: adding a present member or removing an absent one is 0.
 * Both ids must exist (PWB_ENOTFOUND otherwise). */
int pwb_member_add(struct pwb_txn *txn, const char *group_id, const char *user_id,
		   struct pwb_error *err);
int pwb_member_remove(struct pwb_txn *txn, const char *group_id, const char *user_id,
		      struct pwb_error *err);
bool pwb_member_is(struct pwb_txn *txn, const char *group_id, const char *user_id);
/* Calls cb with each member's user id (of a group) or group id (of a user). */
typedef int (*pwb_id_cb)(const char *id, void *ctx);
int pwb_member_foreach_user(struct pwb_txn *txn, const char *group_id, pwb_id_cb cb, void *ctx,
			    struct pwb_error *err);
int pwb_member_foreach_group(struct pwb_txn *txn, const char *user_id, pwb_id_cb cb, void *ctx,
			     struct pwb_error *err);

/* ---- SCIM bearer tokens (hashes only) ---- */

/* pwbadm status and check name tokens that expire within this many days,
 * and check those unused (never used: since created) for the other. */
#define PWB_TOKEN_EXPIRY_WARN_DAYS 30
#define PWB_TOKEN_UNUSED_WARN_DAYS 90

int pwb_token_put(struct pwb_txn *txn, const struct pwb_token *t, struct pwb_error *err);
int pwb_token_get(struct pwb_txn *txn, const char *name, struct pwb_token *out,
		  struct pwb_error *err);
int pwb_token_get_by_hash(struct pwb_txn *txn, const char *hash_hex, struct pwb_token *out,
			  struct pwb_error *err);
/* Records a token's last use (bookkeeping: no change logged, and the
 * transaction's durability relaxed, see pwb_txn_relax_durability). */
int pwb_token_touch(struct pwb_txn *txn, const char *name, int64_t when, struct pwb_error *err);
int pwb_token_delete(struct pwb_txn *txn, const char *name, struct pwb_error *err);
typedef int (*pwb_token_cb)(const struct pwb_token *t, void *ctx);
int pwb_token_foreach(struct pwb_txn *txn, pwb_token_cb cb, void *ctx, struct pwb_error *err);

/* ---- ids ---- */

/* True if uid/gid is retired (belonged to a deleted user or group). */
bool pwb_store_uid_retired(struct pwb_txn *txn, uint32_t uid);
bool pwb_store_gid_retired(struct pwb_txn *txn, uint32_t gid);

/* Retired ids for export/import: kind is 'u' (uid) or 'g' (gid).
 * pwb_store_retire refuses an id a user or group of the store holds. */
typedef int (*pwb_retired_cb)(char kind, uint32_t id, void *ctx);
int pwb_store_retired_foreach(struct pwb_txn *txn, pwb_retired_cb cb, void *ctx,
			      struct pwb_error *err);
int pwb_store_retire(struct pwb_txn *txn, char kind, uint32_t id, struct pwb_error *err);

/* Retired home paths, each with the id of the user that held it, for
 * export/import. pwb_store_retire_home refuses (PWB_EEXIST) a path a user
 * holds and (PWB_EINVAL) a path that is not absolute or an id that is not
 * a UUID. */
typedef int (*pwb_retired_home_cb)(const char *home, const char *former_id, void *ctx);
int pwb_store_retired_homes_foreach(struct pwb_txn *txn, pwb_retired_home_cb cb, void *ctx,
				    struct pwb_error *err);
int pwb_store_retire_home(struct pwb_txn *txn, const char *home, const char *former_id,
			  struct pwb_error *err);

/* The sequence number of the last committed change; the published
 * snapshot's @seq equals it once the change is published. */
uint64_t pwb_store_change_seq(struct pwb_txn *txn);

/* ---- the change log ----
 * One entry per change, with a gap-free sequence. The publisher, the audit
 * trail and cluster sync read it, each from its own cursor; entries are
 * trimmed once every cursor is past them and they are older than
 * change-log-retention-days or beyond change-log-retention-entries. */
enum pwb_change_what {
	PWB_CH_PASSWD = 1 << 0,	    /* users: p.NAME, p=UID */
	PWB_CH_SHADOW = 1 << 1,	    /* users: s.NAME, b.NAME */
	PWB_CH_INITGROUPS = 1 << 2, /* users: i.NAME */
	PWB_CH_PRIVGROUP = 1 << 3,  /* users: the private group's g. / g= */
	PWB_CH_ALL = 0xff,	    /* everything; groups always re-render whole */
};

struct pwb_change_entry {
	uint64_t seq;
	int64_t time; /* unix seconds */
	struct pwb_actor actor;
	char request_id[65];		 /* "" if none */
	char kind;			 /* 'u' user, 'g' group, 't' token, 's' the store itself */
	char op[24];			 /* "create", "update", "delete", "bind", "login", "member",
					  * "token-put", "token-delete", "upgrade", ... */
	char id[PWB_TOKEN_NAME_MAX + 1]; /* the entity's id (a token's name for 't') */
	char name[PWB_NAME_MAX + 1];	 /* its Linux name after the change (a delete: the
					  * name it had; "" if unknown) */
	json_t *changed;		 /* array of attribute names changed, never values
					  * of secrets; may be NULL; owned by the entry */
	/* For the publisher: which keys to re-render, and (set only when keys
	 * themselves changed: rename, new uid/gid, delete) the old ones. */
	unsigned char what;
	char old_name[PWB_NAME_MAX + 1];
	uint32_t old_num; /* uid or gid */
	uint32_t old_gid; /* users: primary gid */
	bool old_private; /* users: had a private group */
};

/* An entry's kind as a word: "user", "group", "token", "groupmap", "store". */
const char *pwb_change_kind_name(char kind);

/* Calls cb with each entry whose seq > after, in order, at most limit
 * entries (0: no limit); cb's non-zero return stops and is returned. The
 * entry is valid only during the call. *last (may be NULL) receives the
 * last sequence in the log. */
typedef int (*pwb_change_cb)(const struct pwb_change_entry *e, void *ctx);
int pwb_change_foreach(struct pwb_txn *txn, uint64_t after, size_t limit, pwb_change_cb cb,
		       void *ctx, uint64_t *last, struct pwb_error *err);
/* The first sequence still in the log (a reader behind it must resync). */
int pwb_change_first_seq(struct pwb_txn *txn, uint64_t *first, struct pwb_error *err);
/* The sequence of the last change a request made: PWB_ENOTFOUND if it made
 * none (or it was trimmed). */
int pwb_change_by_request(struct pwb_txn *txn, const char *request_id, uint64_t *seq,
			  struct pwb_error *err);
/* ---- the audit trail: reading the log by who, what and when ----
 * The filter's fields are ANDed; an unset field matches everything. user
 * and group match the entries of the account or group that has (or had)
 * that name: by name, former name, or its id (membership entries carry
 * the id only; their name is filled in from the record when it still
 * exists). actor matches an actor's kind ("scim", "jit", "pwbadm",
 * "pwb-login", "pwbd", "root") or its name (a token's, an administrator's).
 * since <= time < until (unix seconds; 0: open). */
struct pwb_change_filter {
	const char *user, *group, *actor;
	int64_t since, until;
};
/* Calls cb with each matching entry: forward, those after from; back (newest
 * first), those before from (0: from the newest). Stops after limit matches
 * (0: none) or scan_max entries looked at (0: none), setting *next to the
 * sequence to continue from; *next is 0 when the log was read to its end. */
int pwb_change_search(struct pwb_txn *txn, const struct pwb_change_filter *f, uint64_t from,
		      bool back, size_t limit, size_t scan_max, pwb_change_cb cb, void *ctx,
		      uint64_t *next, struct pwb_error *err);
/* An entry's public JSON form (store.changes, export lines): {seq, time,
 * actor: {kind, name, service, rhost, uid}, requestId, kind, op, id, name,
 * changed}; NULL when out of memory. */
json_t *pwb_change_to_json(const struct pwb_change_entry *e);
/* Restores an exported entry (that form, plus "type") as history under
 * its own sequence, with its time, actor, request and attributes; it asks
 * the publisher for nothing and logs no syslog line. An entry whose
 * sequence the store already has (the same history imported before, or the
 * store's own) is skipped: *restored says which. PWB_EINVAL names a field
 * that is missing, unknown or of the wrong type. */
int pwb_change_restore(struct pwb_txn *txn, json_t *record, bool *restored, struct pwb_error *err);
/* Logs an import that restored entries (kind 's', op "import", changed
 * "changes"; nothing when restored is 0): the marker between the history
 * and the import's own changes, with the importing actor. */
int pwb_change_log_import(struct pwb_txn *txn, size_t restored, struct pwb_error *err);

/* Records that reader ("publish", "audit", "cluster") has consumed the log
 * up to seq (its own small transaction; logs no change) and trims what
 * every reader and the retention allow. */
int pwb_store_cursor_set(struct pwb_store *st, const char *reader, uint64_t seq,
			 struct pwb_error *err);

/* Reports every stored record that breaks the policy above (one written
 * before it, or by hand): cb gets kind 'u', 'g' or 'm' (a group name
 * mapping: id and name are its Linux name), the record's id, its
 * name (NULL if the record cannot be decoded) and what is wrong, once per
 * problem; its non-zero return stops the audit and is returned. For
 * `pwbadm check`. */
typedef int (*pwb_audit_cb)(char kind, const char *id, const char *name, const char *message,
			    void *ctx);
int pwb_store_policy_audit(struct pwb_txn *txn, pwb_audit_cb cb, void *ctx, struct pwb_error *err);

/* Verifies every database file (DB->verify), for `pwbadm check`. */
int pwb_store_verify(struct pwb_store *st, struct pwb_error *err);

/* Publishes everything from scratch (pwbadm rebuild-nss); the publisher
 * (publish.c) implements it. */
int pwb_store_publish_all(struct pwb_store *st, struct pwb_error *err);

/* ---- the one record codec (store_records.c) ----
 * The one record codec: users, groups, tokens and retired ids as JSON.
 * Two forms of the same records:
 *  - the store's form (pwb_*_encode/decode): one compact JSON text per
 *    record, as kept in the database;
 *  - the public form (pwb_*_to_json/from_json): what pwbadm exports and
 *    imports and what pwbd's admin operations return ("type" and "id"
 *    included, absent optional text as null, a user's derived "bound").
 * from_json with PWB_RECORD_STRICT refuses unknown keys and wrong types,
 * with a message naming the record and the field. */
/* Encoders return malloc'd JSON text or NULL on ENOMEM. Decoders fill a
 * zeroed record and return 0 or -EINVAL for a damaged record. */
char *pwb_user_encode(const struct pwb_user *u);
int pwb_user_decode(const char *id, const char *text, struct pwb_user *u);
char *pwb_group_encode(const struct pwb_group *g);
int pwb_group_decode(const char *id, const char *text, struct pwb_group *g);
char *pwb_token_encode(const struct pwb_token *t);
int pwb_token_decode(const char *text, struct pwb_token *t);
char *pwb_group_map_encode(const struct pwb_group_map *m);
int pwb_group_map_decode(const char *text, struct pwb_group_map *m);

/* The one walk over the stored users ('u') or groups ('g'), in id order:
 * cb gets each decoded record (a struct pwb_user or pwb_group, valid during
 * the call), or NULL for a record that cannot be decoded. Its non-zero
 * return stops the walk and is returned. */
typedef int (*pwb_record_walk_cb)(char kind, const char *id, const void *record, void *ctx);
int pwb_records_walk(struct pwb_txn *txn, char kind, pwb_record_walk_cb cb, void *ctx,
		     struct pwb_error *err);

/* Calls cb(kind, id, NULL, message) for each user ('u') or group ('g')
 * record that does not decode, for the policy audit. */
int pwb_records_audit_damaged(struct pwb_txn *txn, char kind, pwb_audit_cb cb, void *ctx,
			      struct pwb_error *err);

/* ---- the public form ---- */

#define PWB_RECORD_TEXT_MAX 1024	  /* bytes of one text field */
#define PWB_IMPORT_LINE_MAX (1024 * 1024) /* bytes of one line of an export */

enum {
	PWB_RECORD_STRICT = 1 << 0, /* refuse unknown keys (else ignored) */
};

/* A user or group with "type" and "id"; a token's metadata only (never a
 * token). A group's members are the caller's to add ("members": names).
 * NULL on allocation failure. */
json_t *pwb_user_to_json(const struct pwb_user *u);
json_t *pwb_group_to_json(const struct pwb_group *g);
json_t *pwb_token_to_json(const struct pwb_token *t);
/* {"type":"groupmap","displayName":...,"name":...,"created":...} */
json_t *pwb_group_map_to_json(const struct pwb_group_map *m);
/* {"type":"retired","uids":[...],"gids":[...]}; takes its own references. */
json_t *pwb_retired_to_json(json_t *uids, json_t *gids);

/* Fills a zeroed record from the public form, validating every field:
 * names valid, ids lower-case UUIDs, id numbers in 1..2^32-2, times unix
 * seconds, text at most PWB_RECORD_TEXT_MAX bytes without NUL, gecos/home/
 * shell passwd fields (pwb_policy_passwd_field), home and shell absolute
 * when not empty, issuer and subject together, source manual/jit/scim.
 * "type" must match when present. Absent optional fields stay 0/NULL (the
 * caller sees which the object sets). *members (groups; may be NULL)
 * receives the validated "members" array (a new reference, or NULL).
 * Returns 0 or PWB_EINVAL ("user alice: field uid: not an id number",
 * "group staff: unknown field \"x\""), -ENOMEM. On failure the record is
 * cleared. */
int pwb_user_from_json(json_t *o, unsigned flags, struct pwb_user *u, struct pwb_error *err);
int pwb_group_from_json(json_t *o, unsigned flags, struct pwb_group *g, json_t **members,
			struct pwb_error *err);
int pwb_token_from_json(json_t *o, unsigned flags, struct pwb_token *t, struct pwb_error *err);
int pwb_group_map_from_json(json_t *o, unsigned flags, struct pwb_group_map *m,
			    struct pwb_error *err);
/* Validates a retired record; *uids and *gids borrow its arrays of ids. */
int pwb_retired_from_json(json_t *o, unsigned flags, json_t **uids, json_t **gids,
			  struct pwb_error *err);

/* An issuer or subject as the store keeps it: 1 to PWB_RECORD_IDENTITY_MAX
 * bytes, no control character (NULL is not one). */
#define PWB_RECORD_IDENTITY_MAX 1023
bool pwb_record_identity_ok(const char *s);

/* Whether a user is bound to an IdP identity (issuer and subject set), and
 * the binding as one word: "bound"; "pending" (the next sign-in binds it);
 * "unbound" (binds at sign-in only as the configuration allows). */
bool pwb_user_bound(const struct pwb_user *u);
const char *pwb_user_binding(const struct pwb_user *u);

#endif
