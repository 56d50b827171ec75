/* pwbd in cluster mode (store-backend=postgresql): pwbd/cluster.c holds the
 * cluster store's connection, links this host's Berkeley DB store to it as
 * its replica (lib/store/cluster.h), follows the change log (LISTEN plus a
 * poll every cluster-poll-interval) into the replica, reports this host
 * (applied sequence, local account ids) and gates writes: refused on a
 * reader host, while the database is behind this host or is another
 * cluster (until `pwbadm cluster accept`), and when it cannot be reached.
 * A single host has no struct pwbd_cluster at all (d->cluster NULL). */
#ifndef PWBD_CLUSTER_H
#define PWBD_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>
#include "../lib/store/cluster.h" /* not this header: same name */
#include "error.h"

struct pwbd;
struct pwbd_cluster;

struct pwbd_cluster_status {
	char host[PWB_CLUSTER_HOST_MAX + 1]; /* cluster-host-name or the hostname */
	bool reader;			     /* cluster-role=reader */
	bool connected;			     /* the database answers */
	bool schema_ready;		     /* `pwbadm cluster init` was run */
	bool refusing;			     /* writes refused until `pwbadm cluster accept` */
	char why[256];			/* why writes are refused, or the last error ("" none) */
	struct pwb_follow_state follow; /* the replica: applied seq, when, cluster id */
	uint64_t db_seq;		/* the database's sequence at the last contact */
	int64_t last_contact;		/* unix seconds of the last successful contact */
	uint64_t refused_records;	/* records the follower refused since start */
};

/* Opens the cluster store and links d->st to it when the configuration
 * says store-backend=postgresql (d->cluster stays NULL otherwise). Never
 * fails because the database is down, and never waits for it: the loop
 * connects (polling the attempt's socket), pwbd serves from the replica
 * meanwhile and keeps reconnecting. */
int pwbd_cluster_open(struct pwbd *d, struct pwb_error *err);
void pwbd_cluster_close(struct pwbd *d);
/* For the accept loop: the fd to poll besides the listening socket (-1:
 * none), the poll timeout in ms (-1: none), and the work to do when the fd
 * is readable or the timeout passed (follow, reconnect, report). */
int pwbd_cluster_poll_fd(struct pwbd *d);
/* The events to poll that fd for: POLLIN for notifications, or what a
 * connection attempt under way waits for (the loop never waits on it). */
short pwbd_cluster_poll_events(struct pwbd *d);
int pwbd_cluster_poll_timeout(struct pwbd *d);
void pwbd_cluster_tick(struct pwbd *d);

int pwbd_cluster_status(struct pwbd_cluster *c, struct pwbd_cluster_status *out);
/* The cluster store (NULL when the schema is not there yet is fine: the
 * admin ops init and migrate use it). */
struct pwb_store *pwbd_cluster_store(struct pwbd_cluster *c);
/* Follows now (after `cluster init`, or before answering a read that must
 * be current). */
int pwbd_cluster_sync(struct pwbd_cluster *c, struct pwb_follow_result *out, struct pwb_error *err);
/* Before a write: follows when the database answers, or answers within a
 * short wait for a connection attempt (never longer: the write's gate then
 * refuses with the reason). */
void pwbd_cluster_refresh(struct pwbd_cluster *c);
/* `pwbadm cluster accept`: a full resync that accepts the database as it
 * is, and lifts the refusal. */
int pwbd_cluster_accept(struct pwbd_cluster *c, struct pwb_follow_result *out,
			struct pwb_error *err);

#endif
