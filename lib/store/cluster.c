/* Cluster mode's store (cluster.h): loads the PostgreSQL backend object
 * (pwb_store_pg.so, which alone links libpq), opens a store on its
 * operations table, forwards cluster.h's PostgreSQL calls to it, and seeds
 * an empty cluster from a local Berkeley DB store through the backend
 * contract (backend.h) alone. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cluster.h"
#include "internal/store_types.h"

static const char *module_path(char *buf, size_t len)
{
	const char *env = secure_getenv("PWB_STORE_PG_MODULE");

	if (env && *env)
		return env;
	snprintf(buf, len, "%s/%s", PWB_PKGLIBDIR, PWB_STORE_PG_MODULE);
	return buf;
}

static int open_cluster(const struct pwb_config *cfg, bool nowait, struct pwb_store **out,
			struct pwb_error *err)
{
	const struct pwb_backend_ops *ops;
	struct pwb_store *st;
	char buf[4096];
	const char *path = module_path(buf, sizeof(buf));
	void *module;
	int r;

	*out = NULL;
	module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!module)
		return pwb_error_set(err, PWB_ECONFIG,
				     "store-backend=postgresql: cannot load %s: %s (is pwb's "
				     "PostgreSQL backend installed?)",
				     path, dlerror());
	ops = dlsym(module, PWB_STORE_PG_OPS_SYMBOL);
	if (!ops || ops->abi != PWB_BACKEND_ABI || ops->size != sizeof(*ops)) {
		dlclose(module);
		return pwb_error_set(err, PWB_ECONFIG,
				     "%s: not this pwb's PostgreSQL backend (no %s of ABI %d)",
				     path, PWB_STORE_PG_OPS_SYMBOL, PWB_BACKEND_ABI);
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		dlclose(module);
		return pwb_error_set(err, -ENOMEM, "out of memory");
	}
	st->cfg = cfg;
	st->open_lock_fd = -1;
	st->ops = ops;
	st->module = module;
	st->open_nowait = nowait;
	pwb_store_set_request(st, NULL, NULL);
	r = pwb_be_open(st, err);
	if (r < 0) {
		/* the object stays loaded: pwb_store_close does not unload it */
		pwb_store_close(st);
		return r;
	}
	*out = st;
	return 0;
}

int pwb_store_open_cluster(const struct pwb_config *cfg, struct pwb_store **out,
			   struct pwb_error *err)
{
	return open_cluster(cfg, false, out, err);
}

int pwb_store_open_cluster_nowait(const struct pwb_config *cfg, struct pwb_store **out,
				  struct pwb_error *err)
{
	return open_cluster(cfg, true, out, err);
}

/* The cluster operation of cl, or NULL with err set (not a cluster store). */
static const struct pwb_backend_ops *cluster_ops(struct pwb_store *cl, struct pwb_error *err)
{
	if (!cl || !cl->ops || !cl->ops->cluster_state) {
		pwb_error_set(err, PWB_EINVAL, "internal: not a cluster store");
		return NULL;
	}
	return cl->ops;
}

int pwb_cluster_pull(struct pwb_store *cl, uint64_t after, bool full, size_t max_changes,
		     const struct pwb_cluster_pull_cb *cb, void *ctx, uint64_t *upto,
		     struct pwb_error *err)
{
	const struct pwb_backend_ops *ops = cluster_ops(cl, err);

	return ops ? ops->cluster_pull(cl, after, full, max_changes, cb, ctx, upto, err)
		   : PWB_EINVAL;
}

int pwb_cluster_fd(struct pwb_store *cl)
{
	const struct pwb_backend_ops *ops = cluster_ops(cl, NULL);

	return ops ? ops->cluster_fd(cl) : -1;
}

int pwb_cluster_drain(struct pwb_store *cl, struct pwb_error *err)
{
	const struct pwb_backend_ops *ops = cluster_ops(cl, err);

	return ops ? ops->cluster_drain(cl, err) : PWB_EINVAL;
}

int pwb_cluster_connect(struct pwb_store *cl, struct pwb_error *err)
{
	const struct pwb_backend_ops *ops = cluster_ops(cl, err);

	return ops ? ops->cluster_connect(cl, err) : PWB_EINVAL;
}

int pwb_cluster_connect_start(struct pwb_store *cl, struct pwb_error *err)
{
	const struct pwb_backend_ops *ops = cluster_ops(cl, err);

	return ops ? ops->cluster_connect_start(cl, err) : PWB_EINVAL;
}

int pwb_cluster_connect_step(struct pwb_store *cl, int *fd, short *events, struct pwb_error *err)
{
	const struct pwb_backend_ops *ops = cluster_ops(cl, err);

	*fd = -1;
	*events = 0;
	return ops ? ops->cluster_connect_step(cl, fd, events, err) : PWB_EINVAL;
}

bool pwb_cluster_connecting(struct pwb_store *cl)
{
	const struct pwb_backend_ops *ops = cluster_ops(cl, NULL);

	return ops && ops->cluster_connecting(cl);
}

bool pwb_cluster_connected(struct pwb_store *cl)
{
	const struct pwb_backend_ops *ops = cluster_ops(cl, NULL);

	return ops && ops->cluster_connected(cl);
}

int pwb_cluster_report(struct pwb_store *cl, const struct pwb_cluster_host *self,
		       const uint32_t *uids, size_t nuids, const uint32_t *gids, size_t ngids,
		       struct pwb_error *err)
{
	const struct pwb_backend_ops *ops = cluster_ops(cl, err);

	return ops ? ops->cluster_report(cl, self, uids, nuids, gids, ngids, err) : PWB_EINVAL;
}

int pwb_cluster_hosts(struct pwb_store *cl, int (*cb)(const struct pwb_cluster_host *h, void *ctx),
		      void *ctx, struct pwb_error *err)
{
	const struct pwb_backend_ops *ops = cluster_ops(cl, err);

	return ops ? ops->cluster_hosts(cl, cb, ctx, err) : PWB_EINVAL;
}

int pwb_cluster_init(struct pwb_store *cl, const char *reader_role, struct pwb_error *err)
{
	const struct pwb_backend_ops *ops = cluster_ops(cl, err);

	return ops ? ops->cluster_init(cl, reader_role, err) : PWB_EINVAL;
}

int pwb_cluster_migrate(struct pwb_store *cl, unsigned *from, unsigned *to, struct pwb_error *err)
{
	const struct pwb_backend_ops *ops = cluster_ops(cl, err);

	return ops ? ops->cluster_migrate(cl, from, to, err) : PWB_EINVAL;
}

int pwb_cluster_prune(struct pwb_store *cl, uint64_t upto, struct pwb_error *err)
{
	const struct pwb_backend_ops *ops = cluster_ops(cl, err);

	return ops ? ops->cluster_prune(cl, upto, err) : PWB_EINVAL;
}

int pwb_cluster_state(struct pwb_store *cl, struct pwb_cluster_state *out, struct pwb_error *err)
{
	const struct pwb_backend_ops *ops = cluster_ops(cl, err);

	return ops ? ops->cluster_state(cl, out, err) : PWB_EINVAL;
}

/* ---- seeding: the local store's tables and log into one cluster write ---- */

struct seed {
	struct pwb_txn *to; /* the cluster's write transaction */
	enum pwb_dbi dbi;
};

static int seed_row(const void *key, size_t klen, const void *val, size_t vlen, void *ctx,
		    struct pwb_error *err)
{
	struct seed *s = ctx;
	static const char cursor[] = "cursor.";

	/* the readers' cursors are this host's */
	if (s->dbi == DBI_META && klen >= sizeof(cursor) - 1 &&
	    memcmp(key, cursor, sizeof(cursor) - 1) == 0)
		return 0;
	return pwb_kv_put(s->to, s->dbi, key, klen, val, vlen, err);
}

static int seed_change(uint64_t seq, const void *rec, size_t len, void *ctx, struct pwb_error *err)
{
	struct seed *s = ctx;

	return pwb_be_change_put(s->to, seq, rec, len, err);
}

static int seed_from(struct pwb_txn *local, void *ctx, struct pwb_error *err)
{
	struct seed *s = ctx;
	int d, r;

	/* The log first: DBI_META's "seq" (copied below) then keeps the last
	 * sequence even where the local log was trimmed. */
	if ((r = pwb_be_change_foreach(local, 0, 0, seed_change, s, err)) < 0)
		return r;
	for (d = 0; d < DBI_COUNT; d++) {
		if (d == DBI_CHANGES || d == DBI_CHANGE_REQUEST)
			continue;
		s->dbi = (enum pwb_dbi)d;
		if ((r = pwb_kv_foreach(local, s->dbi, seed_row, s, err)) < 0)
			return r;
	}
	return 0;
}

static int seed_into(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct pwb_store *local = ctx;
	struct seed s = {txn, DBI_META};
	int r;

	if ((r = txn->st->ops->cluster_empty(txn, err)) < 0)
		return r;
	return pwb_store_read(local, seed_from, &s, err);
}

int pwb_cluster_seed(struct pwb_store *cl, struct pwb_store *local, struct pwb_error *err)
{
	if (!cluster_ops(cl, err))
		return PWB_EINVAL;
	if (local->ops)
		return pwb_error_set(err, PWB_EINVAL, "internal: seeding from a cluster store");
	return pwb_store_write_local(cl, seed_into, local, err);
}
