/* The store's and a transaction's state: types only, shared by the rules
 * (store_internal.h) and the backend (bdb.c), which sits below the rules
 * and must not include their header. */
#ifndef PWB_STORE_TYPES_H
#define PWB_STORE_TYPES_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include "actor.h"
#include "config.h"
#include "progress.h"

struct pwb_store;
typedef void (*pwb_store_commit_hook)(struct pwb_store *st, uint64_t seq, void *ctx); /* store.h */

struct pwb_backend;	/* the backend's state: internal/bdb.h */
struct pwb_backend_ops; /* backend.h: the primitives of the store's backend */
typedef int (*pwb_store_wait_fn)(void *ctx, uint64_t seq, struct pwb_error *err); /* cluster.h */

struct pwb_store {
	const struct pwb_config *cfg;
	struct pwb_backend *be;
	char store_dir[PATH_MAX];
	char nss_dir[PATH_MAX];
	int open_lock_fd;		   /* open.lock, flocked until close */
	bool unclean;			   /* the previous opener died with it open */
	pwb_store_commit_hook commit_hook; /* pwb_store_on_commit */
	void *commit_ctx;
	struct pwb_actor actor; /* pwb_store_set_request: who the writes are for */
	char request_id[65];
	struct pwb_progress progress; /* pwb_store_set_progress */
	/* cluster mode (cluster.h): the backend's operations (NULL: Berkeley
	 * DB), and on a replica the cluster store its writes go to */
	const struct pwb_backend_ops *ops;
	struct pwb_store *writer; /* pwb_store_link_writer */
	pwb_store_wait_fn wait;	  /* called after a write to the writer */
	void *wait_ctx;
	void *module;		 /* the dlopen handle of the backend's object */
	bool open_nowait;	 /* the backend opens without connecting (cluster.h) */
	uint64_t last_write_seq; /* the last change the latest write logged (0: none) */
};

struct pwb_txn {
	struct pwb_store *st;
	void *be_txn; /* the backend's transaction (a DB_TXN for Berkeley DB) */
	bool write;
	bool changed;	   /* a change was logged: call the commit hook */
	uint64_t last_seq; /* the last change logged */
	bool retry;	   /* a conflict the backend resolved by failing: run again */
	bool panicked;	   /* the backend needs repair (pwb_be_repair) first */
	bool relaxed;	   /* pwb_txn_relax_durability: no log flush at commit */
	char **lines;	   /* each change's syslog line, logged after the commit */
	size_t nlines;
};

#endif
