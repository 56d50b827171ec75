/* pwbd's core, shared by main.c (options, the listening socket), server.c
 * (the accept loop, peer credentials, config reload) and dispatch.c (op
 * lookup, roles, actor, reply). */
#ifndef PWBD_H
#define PWBD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "ops.h"

/* The daemon's state: the current pwb.conf and the store, open for the
 * daemon's lifetime (opened at the first request that needs it, reopened
 * when db-dir changes). */
struct pwbd {
	const char *config_path;
	struct pwb_config cfg;
	struct stat cfg_stat; /* of config_path when cfg was loaded */
	struct pwb_store *st;
	int read_timeout_ms;	      /* per connection: the request must arrive by then */
	int64_t next_trim;	      /* when the change log is next trimmed (unix seconds) */
	struct pwbd_cluster *cluster; /* cluster mode (cluster.h); NULL on one host */
};

/* Loads pwb.conf (first call) or reloads it when the file changed since;
 * reopens the store later if db-dir changed. A broken new file keeps the
 * old configuration (logged). */
int pwbd_config_refresh(struct pwbd *d, struct pwb_error *err);

/* Opens the store if it is not open, installing the publisher as its
 * commit hook. */
int pwbd_store_ensure(struct pwbd *d, struct pwb_error *err);

void pwbd_close(struct pwbd *d);

/* The caller's role from its uid (0: not allowed at all). */
unsigned pwbd_role_of(const struct pwbd *d, uid_t uid);

/* Handles one request payload from a caller with role and uid; returns
 * the reply text (malloc'd, never NULL unless out of memory). Progress
 * frames, when a root caller asked for them, go to progress_fd (-1: none). */
char *pwbd_dispatch(struct pwbd *d, unsigned role, uid_t uid, const char *payload, size_t len,
		    int progress_fd);

/* A reply refusing a caller before its request is read. */
char *pwbd_reply_error(const char *id, int code, const char *msg);

/* Serves connections on listen_fd until SIGTERM or SIGINT. */
int pwbd_serve(struct pwbd *d, int listen_fd);

#endif
