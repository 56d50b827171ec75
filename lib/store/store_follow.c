/* The cluster follower (cluster.h): applies what the cluster committed
 * into this host's Berkeley DB replica. One batch is one replica write
 * transaction that streams a pull (rows, then change entries in seq order)
 * into the replica's tables, re-validates every user and group record the
 * batch wrote with the store's own policy, and records how far it got in
 * DBI_META ("cluster.id", "cluster.applied", "cluster.applied_at"). A
 * record the policy refuses makes the batch run again without it and
 * without every row whose key or value is its id (the replica keeps what
 * it had); it is logged at LOG_ALERT. The commit hook (the publisher) is
 * held back while the batches run and called once after the last, so a
 * catch-up of thousands of changes costs one publish (over nss-mid-max
 * changes it is a full rebuild: one, not one per batch); a full resync
 * replaces the replicated tables and publishes everything. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cleanup.h"
#include "cluster.h"
#include "log.h"
#include "policy.h"
#include "publish.h"
#include "internal/store_internal.h"
#include "util.h"
#include "writer.h"

#define META_ID		"cluster.id"
#define META_APPLIED	"cluster.applied"
#define META_APPLIED_AT "cluster.applied_at"
/* The change log's counter in DBI_META (the last sequence): a full resync
 * sets it to the cluster's, which may be behind what the replica had. */
#define META_SEQ "seq"
/* A batch runs again at most this often to drop records it refused. */
#define MAX_RERUNS 16
/* Internal: the pull found that a full resync is needed (negative, so the
 * transaction aborts; outside errno's and pwb's codes). */
#define NEED_FULL (-1999)

/* ---- this host's local accounts ---- */

static int add_account(struct pwb_local_account **v, size_t *n, const char *name, uint32_t id)
{
	struct pwb_local_account *grown = realloc(*v, (*n + 1) * sizeof(**v));

	if (!grown)
		return -ENOMEM;
	*v = grown;
	grown[*n].name = strdup(name);
	grown[*n].id = id;
	if (!grown[*n].name)
		return -ENOMEM;
	(*n)++;
	return 0;
}

int pwb_local_accounts_load(const char *passwd, const char *group, struct pwb_local_accounts *out,
			    struct pwb_error *err)
{
	_cleanup_fclose_ FILE *pf = NULL;
	_cleanup_fclose_ FILE *gf = NULL;
	struct passwd *pw;
	struct group *gr;

	memset(out, 0, sizeof(*out));
	if (!(pf = fopen(passwd, "re")))
		return pwb_error_set(err, -errno, "%s: %s", passwd, strerror(errno));
	if (!(gf = fopen(group, "re")))
		return pwb_error_set(err, -errno, "%s: %s", group, strerror(errno));
	while ((pw = fgetpwent(pf)) != NULL)
		if (add_account(&out->users, &out->nusers, pw->pw_name, pw->pw_uid) < 0)
			return pwb_error_set(err, -ENOMEM, "out of memory");
	while ((gr = fgetgrent(gf)) != NULL)
		if (add_account(&out->groups, &out->ngroups, gr->gr_name, gr->gr_gid) < 0)
			return pwb_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

static void free_accounts(struct pwb_local_account *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

void pwb_local_accounts_free(struct pwb_local_accounts *la)
{
	free_accounts(la->users, la->nusers);
	free_accounts(la->groups, la->ngroups);
	memset(la, 0, sizeof(*la));
}

/* The local account with that name or that id (NULL: none). */
static const struct pwb_local_account *local_clash(const struct pwb_local_account *v, size_t n,
						   const char *name, uint32_t id)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].id == id || strcmp(v[i].name, name) == 0)
			return &v[i];
	}
	return NULL;
}

/* ---- the replica's own state ---- */

static int meta_get(struct pwb_txn *txn, const char *key, char *out, size_t len,
		    struct pwb_error *err)
{
	_cleanup_free_ char *val = NULL;
	int r = pwb_kv_get(txn, DBI_META, key, strlen(key), &val, NULL, false, err);

	out[0] = '\0';
	if (r == PWB_ENOTFOUND) {
		memset(err, 0, sizeof(*err));
		return 0;
	}
	if (r == 0)
		snprintf(out, len, "%s", val);
	return r;
}

static int read_state(struct pwb_txn *txn, struct pwb_follow_state *out, struct pwb_error *err)
{
	char applied[24], at[24];
	int r;

	memset(out, 0, sizeof(*out));
	r = meta_get(txn, META_ID, out->cluster_id, sizeof(out->cluster_id), err);
	r = r ?: meta_get(txn, META_APPLIED, applied, sizeof(applied), err);
	r = r ?: meta_get(txn, META_APPLIED_AT, at, sizeof(at), err);
	if (r < 0)
		return r;
	out->applied = strtoull(applied, NULL, 10);
	out->applied_at = strtoll(at, NULL, 10);
	return 0;
}

static int read_state_txn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return read_state(txn, ctx, err);
}

int pwb_follow_state(struct pwb_store *replica, struct pwb_follow_state *out, struct pwb_error *err)
{
	return pwb_store_read(replica, read_state_txn, out, err);
}

static int meta_put_u64(struct pwb_txn *txn, const char *key, uint64_t v, struct pwb_error *err)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%llu", (unsigned long long)v);

	return pwb_kv_put(txn, DBI_META, key, strlen(key), text, (size_t)n, err);
}

/* ---- one batch ---- */

struct idlist {
	char (*v)[PWB_ID_LEN + 1];
	size_t n, cap;
};

static bool idlist_has(const struct idlist *l, const void *id, size_t len)
{
	if (len != PWB_ID_LEN)
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (memcmp(l->v[i], id, PWB_ID_LEN) == 0)
			return true;
	return false;
}

static int idlist_add(struct idlist *l, const void *id, size_t len)
{
	if (len != PWB_ID_LEN || idlist_has(l, id, len))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char(*grown)[PWB_ID_LEN + 1] = realloc(l->v, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		l->v = grown;
		l->cap = cap;
	}
	memcpy(l->v[l->n], id, PWB_ID_LEN);
	l->v[l->n++][PWB_ID_LEN] = '\0';
	return 0;
}

struct batch {
	/* in */
	pwb_follow_pull_fn pull;
	void *src;
	bool full, accept;
	size_t max_changes;
	struct pwb_local_accounts *local; /* read at the first record to check */
	bool local_read;
	const char *host;
	struct idlist skip; /* refused records: their rows are not applied */
	/* per attempt */
	struct pwb_txn *txn;
	struct pwb_follow_state before;
	struct pwb_cluster_state db;
	struct idlist users, groups; /* records the batch wrote */
	struct idlist refused;	     /* found refused in this attempt */
	uint64_t last;		     /* the replica's log's last sequence */
	size_t changes;
};

static int on_state(const struct pwb_cluster_state *s, void *ctx, struct pwb_error *err)
{
	struct batch *b = ctx;

	b->db = *s;
	if (s->schema == 0)
		return pwb_error_set(
		    err, PWB_ECONFIG,
		    "the cluster database has no pwb schema: run pwbadm cluster init");
	if (!b->accept && b->before.cluster_id[0] && strcmp(b->before.cluster_id, s->cluster_id))
		return pwb_error_set(err, PWB_ECONFLICT,
				     "the database is another cluster (%s) than the one this host "
				     "followed (%s): check it, then run pwbadm cluster accept",
				     s->cluster_id, b->before.cluster_id);
	if (!b->accept && s->seq < b->before.applied)
		return pwb_error_set(err, PWB_ECONFLICT,
				     "the database is behind this host (database at seq %llu, this "
				     "host applied %llu): check it, then run pwbadm cluster accept",
				     (unsigned long long)s->seq,
				     (unsigned long long)b->before.applied);
	if (!b->full && (!b->before.cluster_id[0] || s->horizon > b->before.applied))
		return NEED_FULL;
	return 0;
}

static int on_row(const struct pwb_cluster_row *row, void *ctx, struct pwb_error *err)
{
	struct batch *b = ctx;
	bool set = row->dbi == DBI_MEMBERS || row->dbi == DBI_MEMBER_OF;
	int r;

	if (row->dbi == DBI_META || row->dbi == DBI_CHANGE_REQUEST || row->dbi == DBI_CHANGES ||
	    row->dbi >= DBI_COUNT)
		return 0; /* host-local, writer-local, or the log's own */
	if (idlist_has(&b->skip, row->key, row->klen) ||
	    (row->val && idlist_has(&b->skip, row->val, row->vlen)))
		return 0;
	if (row->deleted)
		return set ? pwb_kv_dup_del(b->txn, row->dbi, row->key, row->klen, row->val,
					    row->vlen, err)
			   : pwb_kv_del(b->txn, row->dbi, row->key, row->klen, err);
	r = pwb_kv_put(b->txn, row->dbi, row->key, row->klen, row->val, row->vlen, err);
	if (r == 0 && row->dbi == DBI_USERS)
		r = idlist_add(&b->users, row->key, row->klen);
	else if (r == 0 && row->dbi == DBI_GROUPS)
		r = idlist_add(&b->groups, row->key, row->klen);
	return r == -ENOMEM ? pwb_error_set(err, r, "out of memory") : r;
}

static int on_change(uint64_t seq, const void *rec, size_t len, void *ctx, struct pwb_error *err)
{
	struct batch *b = ctx;
	int r;

	if (seq <= b->last)
		return 0; /* the replica has it already */
	r = pwb_be_change_put(b->txn, seq, rec, len, err);
	if (r == 0) {
		b->last = seq;
		b->changes++;
	}
	return r;
}

/* Every table the cluster replicates, emptied for a full resync. */
static int collect_key(const void *key, size_t klen, const void *val, size_t vlen, void *ctx,
		       struct pwb_error *err)
{
	struct pwb_snapshot_kvset *keys = ctx;

	(void)val;
	(void)vlen;
	(void)err;
	return pwb_snapshot_kvset_add(keys, key, klen, "", 0);
}

static int clear_replicated(struct pwb_txn *txn, struct pwb_error *err)
{
	int r = 0;

	for (int dbi = 0; r == 0 && dbi < DBI_COUNT; dbi++) {
		struct pwb_snapshot_kvset keys = {0};

		if (dbi == DBI_META || dbi == DBI_CHANGE_REQUEST)
			continue;
		r = pwb_kv_foreach(txn, (enum pwb_dbi)dbi, collect_key, &keys, err);
		if (r == -ENOMEM)
			r = pwb_error_set(err, r, "out of memory");
		for (size_t i = 0; r == 0 && i < keys.n; i++)
			r = pwb_kv_del(txn, (enum pwb_dbi)dbi, keys.v[i].key, keys.v[i].klen, err);
		pwb_snapshot_kvset_free(&keys);
	}
	return r ?: pwb_be_counter_set(txn, META_SEQ, 0, err);
}

/* ---- re-validation ---- */

static int refuse(struct batch *b, char kind, const char *id, const char *name, const char *rule)
{
	if (idlist_add(&b->refused, id, strlen(id)) < 0)
		return -ENOMEM;
	pwb_log(LOG_ALERT,
		"pwb cluster: host %s refused the replicated %s %s (id %s): %s; not applied",
		b->host, kind == 'u' ? "user" : "group", name, id, rule);
	return 0;
}

static int on_audit(char kind, const char *id, const char *name, const char *message, void *ctx)
{
	return refuse(ctx, kind, id, name, message) ?: 1; /* one rule is enough */
}

/* What pwb_user_get or pwb_group_get said about a record of the batch:
 * 0 to check it, 1 when there is nothing to check (deleted again in the
 * same batch, or refused here: it does not decode), or an error. */
static int got_record(struct batch *b, int r, char kind, const char *id, struct pwb_error *err)
{
	if (r == PWB_ENOTFOUND || r == PWB_EDAMAGED)
		memset(err, 0, sizeof(*err));
	if (r == PWB_ENOTFOUND)
		return 1;
	if (r == PWB_EDAMAGED)
		return refuse(b, kind, id, "(undecodable)", "the record does not decode") ?: 1;
	return r;
}

/* The id rules (store_ids.c's for an explicit id: neither reserved nor in
 * the system range) and this host's local accounts (neither the name nor
 * the id of one): 1 when refused (logged), 0 when the record passes. */
static int refuse_ids(struct batch *b, char kind, const char *id, const char *name, uint32_t num)
{
	const struct pwb_config *cfg = pwb_store_config(b->txn->st);
	bool user = kind == 'u';
	uint32_t floor = user ? cfg->start_uid : cfg->start_gid;
	const struct pwb_local_account *clash = NULL;
	char why[256];

	if (floor > 1000)
		floor = 1000;
	if (b->local_read)
		clash = user ? local_clash(b->local->users, b->local->nusers, name, num)
			     : local_clash(b->local->groups, b->local->ngroups, name, num);
	if (pwb_id_reserved(num) || num < floor)
		snprintf(why, sizeof(why), "%s %u is reserved or in the system range",
			 user ? "uidNumber" : "gidNumber", num);
	else if (clash)
		snprintf(why, sizeof(why), "clashes with the local %s %s (%s %u)",
			 user ? "account" : "group", clash->name, user ? "uid" : "gid", clash->id);
	else
		return 0;
	return refuse(b, kind, id, name, why) ?: 1;
}

static int validate_user(struct batch *b, const char *id, struct pwb_error *err)
{
	struct pwb_user u = {0};
	int r = got_record(b, pwb_user_get(b->txn, id, &u, err), 'u', id, err);

	if (r == 0 && (r = refuse_ids(b, 'u', u.id, u.name, u.uid)) == 0 && u.gid == u.uid)
		r = refuse_ids(b, 'g', u.id, u.name, u.gid); /* the private group */
	if (r == 0)
		r = pwb_user_audit_one(b->txn, &u, on_audit, b, err);
	pwb_user_clear(&u);
	return r > 0 ? 0 : r;
}

static int validate_group(struct batch *b, const char *id, struct pwb_error *err)
{
	struct pwb_group g = {0};
	int r = got_record(b, pwb_group_get(b->txn, id, &g, err), 'g', id, err);

	if (r == 0 && (r = refuse_ids(b, 'g', g.id, g.name, g.gid)) == 0)
		r = pwb_group_audit_one(b->txn, &g, on_audit, b);
	pwb_group_clear(&g);
	return r > 0 ? 0 : r;
}

static int validate(struct batch *b, struct pwb_error *err)
{
	int r = 0;

	if (!b->users.n && !b->groups.n)
		return 0;
	/* The local accounts are read once per apply, and only when a record
	 * is to be checked against them (not at every poll). Unreadable, they
	 * stop the apply: a record clashing with a local account must not get
	 * in because /etc/group could not be read. */
	if (!b->local_read) {
		r = pwb_local_accounts_load("/etc/passwd", "/etc/group", b->local, err);
		if (r < 0) {
			pwb_local_accounts_free(b->local);
			return pwb_error_prefix(err, "checking replicated records against the "
						     "local accounts");
		}
		b->local_read = true;
	}

	for (size_t i = 0; r == 0 && i < b->users.n; i++)
		r = validate_user(b, b->users.v[i], err);
	for (size_t i = 0; r == 0 && i < b->groups.n; i++)
		r = validate_group(b, b->groups.v[i], err);
	return r == -ENOMEM ? pwb_error_set(err, r, "out of memory") : r;
}

static void attempt_reset(struct batch *b, struct pwb_txn *txn)
{
	b->txn = txn;
	b->users.n = b->groups.n = b->refused.n = 0;
	b->changes = 0;
	memset(&b->db, 0, sizeof(b->db));
}

static int apply_batch(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct batch *b = ctx;
	const struct pwb_cluster_pull_cb cb = {on_state, on_row, on_change};
	uint64_t upto = 0;
	int64_t now = pwb_now();
	int r;

	attempt_reset(b, txn);
	r = read_state(txn, &b->before, err);
	if (r == 0 && b->full)
		r = clear_replicated(txn, err);
	r = r ?: pwb_be_change_last(txn, &b->last, err);
	r = r
		?: b->pull(b->src, b->full ? 0 : b->before.applied, b->full,
			   b->full ? 0 : b->max_changes, &cb, b, &upto, err);
	r = r ?: validate(b, err);
	if (r == 0 && b->refused.n)
		return PWB_EINVAL; /* again without them: apply_batches */
	if (r < 0)
		return r;
	/* The log's last sequence is the cluster's, gaps (pruned entries)
	 * included, so the next entry follows it. */
	if (upto > b->last)
		r = pwb_be_counter_set(txn, META_SEQ, upto, err);
	r = r
		?: pwb_kv_put(txn, DBI_META, META_ID, strlen(META_ID), b->db.cluster_id,
			      strlen(b->db.cluster_id), err);
	r = r ?: meta_put_u64(txn, META_APPLIED, upto, err);
	r = r ?: meta_put_u64(txn, META_APPLIED_AT, (uint64_t)now, err);
	if (r == 0 && !b->full && upto > b->before.applied) {
		/* For the publisher: pwb_follow_run calls it after the batches. */
		txn->changed = true;
		txn->last_seq = upto;
	}
	b->before.applied = upto;
	return r;
}

static const char *host_name(const struct pwb_config *cfg, char *buf, size_t len)
{
	if (cfg->cluster_host_name && *cfg->cluster_host_name)
		return cfg->cluster_host_name;
	if (gethostname(buf, len) < 0)
		snprintf(buf, len, "(unknown)");
	buf[len - 1] = '\0';
	return buf;
}

/* One batch, run again without the records it refused until none is. */
static int run_batch(struct pwb_store *replica, struct batch *b, struct pwb_follow_result *out,
		     struct pwb_error *err)
{
	int r;

	for (int i = 0;; i++) {
		r = pwb_store_write_local(replica, apply_batch, b, err);
		if (r != PWB_EINVAL || !b->refused.n)
			break;
		for (size_t j = 0; j < b->refused.n; j++)
			if (idlist_add(&b->skip, b->refused.v[j], PWB_ID_LEN) < 0)
				return pwb_error_set(err, -ENOMEM, "out of memory");
		out->refused += b->refused.n;
		if (i == MAX_RERUNS)
			return pwb_error_set(err, PWB_ESTORE,
					     "the cluster's batch still has refused records after "
					     "%d runs",
					     MAX_RERUNS);
	}
	if (r < 0)
		return r;
	out->changes += b->changes;
	out->db_seq = b->db.seq;
	out->applied = b->before.applied;
	return 0;
}

int pwb_follow_run(struct pwb_store *replica, pwb_follow_pull_fn pull, void *src, bool full,
		   bool accept, size_t max_changes, struct pwb_follow_result *out,
		   struct pwb_error *err)
{
	const struct pwb_config *cfg = pwb_store_config(replica);
	struct pwb_local_accounts local = {0};
	char host[PWB_CLUSTER_HOST_MAX + 1];
	uint64_t applied = UINT64_MAX;
	struct batch b = {.pull = pull,
			  .src = src,
			  .full = full || accept,
			  .accept = accept,
			  .max_changes = max_changes,
			  .local = &local};
	int r;

	void *hook_ctx = NULL;
	/* The publisher runs once for all the batches, not after each. */
	pwb_store_commit_hook hook = pwb_store_commit_hook_of(replica, &hook_ctx);

	memset(out, 0, sizeof(*out));
	pwb_store_on_commit(replica, NULL, NULL);
	replica->last_write_seq = 0;
	b.host = host_name(cfg, host, sizeof(host));
	for (;;) {
		r = run_batch(replica, &b, out, err);
		if (r == NEED_FULL && !b.full) {
			memset(err, 0, sizeof(*err));
			b.full = true;
			continue;
		}
		if (r < 0 || b.full || out->applied >= out->db_seq || out->applied == applied)
			break; /* done, caught up, or no progress (retried at the next tick) */
		applied = out->applied;
	}
	pwb_store_on_commit(replica, hook, hook_ctx);
	if (r == 0 && b.full) {
		out->full = true;
		pwb_log(LOG_NOTICE, "pwb cluster: host %s resynced fully at seq %llu", b.host,
			(unsigned long long)out->applied);
		r = pwb_publish_full(replica, err);
	} else if (replica->last_write_seq && hook) {
		/* What the batches committed, also when a later one failed. */
		hook(replica, replica->last_write_seq, hook_ctx);
	}
	pwb_local_accounts_free(&local);
	free(b.skip.v);
	free(b.users.v);
	free(b.groups.v);
	free(b.refused.v);
	return r;
}

static int cluster_pull(void *src, uint64_t after, bool full, size_t max_changes,
			const struct pwb_cluster_pull_cb *cb, void *ctx, uint64_t *upto,
			struct pwb_error *err)
{
	return pwb_cluster_pull(src, after, full, max_changes, cb, ctx, upto, err);
}

int pwb_follow_apply(struct pwb_store *replica, struct pwb_store *cl, bool full, size_t max_changes,
		     struct pwb_follow_result *out, struct pwb_error *err)
{
	return pwb_follow_run(replica, cluster_pull, cl, full, false, max_changes, out, err);
}

int pwb_follow_accept(struct pwb_store *replica, struct pwb_store *cl,
		      struct pwb_follow_result *out, struct pwb_error *err)
{
	return pwb_follow_run(replica, cluster_pull, cl, true, true, 0, out, err);
}
