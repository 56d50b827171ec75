/* TEMPORARY (h15-fw, until h15-be's lib/store/cluster.c is merged): the
 * cluster store's calls as stubs that say the backend is not built, so
 * the follower and pwbd link. Removed at the merge. */
#include "cluster.h"

int pwb_store_open_cluster(const struct pwb_config *cfg, struct pwb_store **out,
			   struct pwb_error *err)
{
	(void)cfg;
	*out = NULL;
	return pwb_error_set(err, PWB_ECONFIG, "the PostgreSQL backend is not built");
}

int pwb_cluster_pull(struct pwb_store *cl, uint64_t after, bool full, size_t max_changes,
		     const struct pwb_cluster_pull_cb *cb, void *ctx, uint64_t *upto,
		     struct pwb_error *err)
{
	(void)cl, (void)after, (void)full, (void)max_changes, (void)cb, (void)ctx, (void)upto;
	return pwb_error_set(err, PWB_EUNAVAIL, "the PostgreSQL backend is not built");
}

int pwb_cluster_fd(struct pwb_store *cl)
{
	(void)cl;
	return -1;
}

int pwb_cluster_drain(struct pwb_store *cl, struct pwb_error *err)
{
	(void)cl;
	return pwb_error_set(err, PWB_EUNAVAIL, "the PostgreSQL backend is not built");
}

int pwb_cluster_connect(struct pwb_store *cl, struct pwb_error *err)
{
	(void)cl;
	return pwb_error_set(err, PWB_EUNAVAIL, "the PostgreSQL backend is not built");
}

bool pwb_cluster_connected(struct pwb_store *cl)
{
	(void)cl;
	return false;
}

int pwb_cluster_report(struct pwb_store *cl, const struct pwb_cluster_host *self,
		       const uint32_t *uids, size_t nuids, const uint32_t *gids, size_t ngids,
		       struct pwb_error *err)
{
	(void)cl, (void)self, (void)uids, (void)nuids, (void)gids, (void)ngids;
	return pwb_error_set(err, PWB_EUNAVAIL, "the PostgreSQL backend is not built");
}

int pwb_cluster_state(struct pwb_store *cl, struct pwb_cluster_state *out, struct pwb_error *err)
{
	(void)cl, (void)out;
	return pwb_error_set(err, PWB_EUNAVAIL, "the PostgreSQL backend is not built");
}
