/* pwbd in cluster mode (cluster.h): the cluster store's connection, the
 * link that sends d->st's writes there (with the gate before and the wait
 * for this host's replica after), the follower in the accept loop (LISTEN
 * plus a poll every cluster-poll-interval, reconnecting with backoff), the
 * host report (applied sequence and local account ids, every 30 s and
 * after each apply), and the refusal of writes while the database is
 * behind this host or is another cluster, with a LOG_ALERT a minute until
 * `pwbadm cluster accept`. pwbd is single-threaded: all of it runs between
 * requests, or inside a write's wait. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cluster.h"
#include "log.h"
#include "policy.h"
#include "pwbd.h"

/* Change entries per follower batch (one replica transaction, one publish). */
#define BATCH_CHANGES	   5000
#define REPORT_EVERY_MS	   (30 * 1000)
#define REPORT_SOON_MS	   1000 /* after an apply */
#define ALERT_EVERY_MS	   (60 * 1000)
#define RECONNECT_FIRST_MS 500
#define RECONNECT_MAX_MS   (30 * 1000)
/* A write finding the database down starts a connection attempt at most
 * this often, and waits for one under way at most GATE_WAIT_MS (a
 * database that was merely restarted answers within it; a silent one must
 * not hold pwbd's one loop). */
#define GATE_CONNECT_EVERY_MS 1000
#define GATE_WAIT_MS	      250
/* While an attempt is under way the loop wakes at least this often: the
 * attempt's deadline (store-timeout) is enforced by stepping it. */
#define CONNECT_STEP_MS 250

struct pwbd_cluster {
	struct pwbd *d;
	struct pwb_store *cl;
	char host[PWB_CLUSTER_HOST_MAX + 1];
	bool reader;
	bool refusing; /* until pwbadm cluster accept */
	bool schema_ready;
	bool reopen; /* the schema was missing: open the store again to see it */
	char why[256];
	struct pwb_follow_state follow;
	uint64_t db_seq;
	int64_t last_contact;
	uint64_t refused_records;
	int64_t next_poll, next_report, next_reconnect, next_alert; /* monotonic ms */
	int64_t next_gate_connect; /* the gate's next connect attempt (monotonic ms) */
	int backoff_ms;
	/* the attempt under way: poll conn_fd for conn_events, then step it */
	int conn_fd;
	short conn_events;
	int64_t gave_up_at; /* reach() last stopped waiting for it (monotonic ms) */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_why(struct pwbd_cluster *c, const char *msg)
{
	snprintf(c->why, sizeof(c->why), "%s", msg ? msg : "");
}

static void lost(struct pwbd_cluster *c, const struct pwb_error *err)
{
	if (pwb_cluster_connected(c->cl))
		return;
	if (c->next_reconnect == 0)
		pwb_log(LOG_WARNING, "pwbd: cluster: %s; serving from this host's replica",
			err->msg);
	set_why(c, err->msg);
	c->next_reconnect = now_ms() + c->backoff_ms;
	c->backoff_ms = c->backoff_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : c->backoff_ms * 2;
}

/* ---- the host report ---- */

static int collect_ids(const struct pwb_local_account *v, size_t n, uint32_t **out, size_t *nout)
{
	*out = calloc(n ? n : 1, sizeof(**out));
	*nout = 0;
	if (!*out)
		return -ENOMEM;
	/* System ids never meet pwb's ranges; the rest may. */
	for (size_t i = 0; i < n; i++)
		if (v[i].id >= 1000 && !pwb_id_reserved(v[i].id))
			(*out)[(*nout)++] = v[i].id;
	return 0;
}

static void report(struct pwbd_cluster *c)
{
	struct pwb_cluster_host self = {0};
	struct pwb_local_accounts local = {0};
	struct pwb_error err = {0};
	uint32_t *uids = NULL, *gids = NULL;
	size_t nuids = 0, ngids = 0;
	int r;

	c->next_report = now_ms() + REPORT_EVERY_MS;
	snprintf(self.name, sizeof(self.name), "%s", c->host);
	snprintf(self.role, sizeof(self.role), "%s", c->reader ? "reader" : "writer");
	self.applied = c->follow.applied;
	r = pwb_local_accounts_load("/etc/passwd", "/etc/group", &local, &err);
	if (r == 0 && (collect_ids(local.users, local.nusers, &uids, &nuids) < 0 ||
		       collect_ids(local.groups, local.ngroups, &gids, &ngids) < 0))
		r = pwb_error_set(&err, -ENOMEM, "out of memory");
	if (r == 0)
		r = pwb_cluster_report(c->cl, &self, uids, nuids, gids, ngids, &err);
	if (r == PWB_EUNAVAIL)
		lost(c, &err);
	else if (r < 0)
		pwb_log(LOG_WARNING, "pwbd: cluster: reporting host %s: %s", c->host, err.msg);
	pwb_local_accounts_free(&local);
	free(uids);
	free(gids);
}

/* ---- following ---- */

static void alert_refusing(struct pwbd_cluster *c)
{
	int64_t now = now_ms();

	if (now < c->next_alert)
		return;
	c->next_alert = now + ALERT_EVERY_MS;
	pwb_log(LOG_ALERT, "pwbd: cluster: host %s refuses writes: %s", c->host, c->why);
}

/* Applies what the cluster committed since the replica's applied seq. */
static int follow(struct pwbd_cluster *c, bool accept, struct pwb_follow_result *res,
		  struct pwb_error *err)
{
	struct pwb_follow_result local;
	struct pwb_error e = {0};
	int r;

	res = res ? res : &local;
	c->next_poll = now_ms() + c->d->cfg.cluster_poll_ms;
	r = accept ? pwb_follow_accept(c->d->st, c->cl, res, err)
		   : pwb_follow_apply(c->d->st, c->cl, false, BATCH_CHANGES, res, err);
	if (pwb_follow_state(c->d->st, &c->follow, &e) < 0)
		pwb_log(LOG_WARNING, "pwbd: cluster: the replica's state: %s", e.msg);
	c->refused_records += res->refused;
	if (r == 0) {
		c->db_seq = res->db_seq;
		c->last_contact = (int64_t)time(NULL);
		c->schema_ready = true;
		if (!c->refusing)
			set_why(c, "");
		/* The new applied seq is reported by the loop within a second, not
		 * here: this runs inside each write's wait, and a report reads
		 * /etc/passwd and /etc/group and is a database transaction. */
		if ((res->changes || res->full) && c->next_report > now_ms() + REPORT_SOON_MS)
			c->next_report = now_ms() + REPORT_SOON_MS;
		return 0;
	}
	if (r == PWB_EUNAVAIL) {
		lost(c, err);
	} else if (r == PWB_ECONFLICT) {
		c->refusing = true;
		set_why(c, err->msg);
		c->next_alert = 0;
		alert_refusing(c);
	} else {
		if (r == PWB_ECONFIG) /* no schema yet: `pwbadm cluster init` on a host */
			c->schema_ready = false, c->reopen = true;
		set_why(c, err->msg);
		pwb_log(LOG_ERR, "pwbd: cluster: following: %s", err->msg);
	}
	return r;
}

static void connected(struct pwbd_cluster *c)
{
	if (c->next_reconnect)
		pwb_log(LOG_NOTICE, "pwbd: cluster: connected again");
	c->next_reconnect = 0;
	c->backoff_ms = RECONNECT_FIRST_MS;
}

/* An attempt's end, r: connected (0), or lost with the reason. */
static int settle(struct pwbd_cluster *c, int r, struct pwb_error *err)
{
	c->conn_fd = -1;
	if (r < 0) {
		lost(c, err);
		return r;
	}
	connected(c);
	return 0;
}

/* Connects, waiting up to store-timeout: only for the admin ops that
 * legitimately wait (cluster init, accept, sync), never from the loop. */
static int connect_now(struct pwbd_cluster *c, struct pwb_error *err)
{
	return settle(c, pwb_cluster_connect(c->cl, err), err);
}

/* Steps the attempt under way without waiting: 1 (in progress), 0
 * (connected) or PWB_EUNAVAIL. */
static int connect_step(struct pwbd_cluster *c, struct pwb_error *err)
{
	int r = pwb_cluster_connect_step(c->cl, &c->conn_fd, &c->conn_events, err);

	return r == 1 ? 1 : settle(c, r, err);
}

/* Starts an attempt (unless one is under way) and steps it once. */
static int connect_begin(struct pwbd_cluster *c, struct pwb_error *err)
{
	int r = pwb_cluster_connect_start(c->cl, err);

	if (r < 0) {
		lost(c, err);
		return r;
	}
	return connect_step(c, err);
}

/* Connected, or an attempt (started at most once a second from here)
 * connected within GATE_WAIT_MS: 0; else PWB_EUNAVAIL with the last
 * reason. Never waits longer, whatever the database does, and not again
 * within GATE_WAIT_MS of giving up (a write's refresh then its gate, a
 * burst of writes): the loop is never held more than half the time. */
static int reach(struct pwbd_cluster *c, struct pwb_error *err)
{
	int64_t now = now_ms();
	int64_t deadline = now - c->gave_up_at >= GATE_WAIT_MS ? now + GATE_WAIT_MS : now;
	int r = 1;

	if (pwb_cluster_connected(c->cl))
		return 0;
	if (!pwb_cluster_connecting(c->cl) && now_ms() >= c->next_gate_connect) {
		c->next_gate_connect = now_ms() + GATE_CONNECT_EVERY_MS;
		if ((r = connect_begin(c, err)) < 0)
			return r;
	}
	while (pwb_cluster_connecting(c->cl) && (r = connect_step(c, err)) == 1) {
		struct pollfd p = {.fd = c->conn_fd, .events = c->conn_events};
		int64_t left = deadline - now_ms();

		if (left <= 0)
			break;
		(void)poll(&p, 1, (int)left);
	}
	if (r == 0 && pwb_cluster_connected(c->cl))
		return 0;
	if (r < 0)
		return r;
	c->gave_up_at = now_ms();
	return pwb_error_set(err, PWB_EUNAVAIL, "%s",
			     c->why[0] ? c->why
				       : "the cluster database cannot be reached (no answer yet)");
}

/* ---- the link's wait: the gate (seq 0) and the wait for a write ---- */

static int gate(struct pwbd_cluster *c, struct pwb_error *err)
{
	if (c->reader)
		return pwb_error_set(err, PWB_EPERM,
				     "this host is a cluster reader (cluster-role=reader); make "
				     "changes on a writer host");
	if (c->refusing)
		return pwb_error_set(err, PWB_EUNAVAIL, "%s", c->why);
	/* Down: refused at once, or after a short wait for an attempt under
	 * way, so a silent database cannot hold every sign-in in pwbd's one
	 * loop; the loop carries the attempt on. */
	return reach(c, err);
}

static int wait_fn(void *ctx, uint64_t seq, struct pwb_error *err)
{
	struct pwbd_cluster *c = ctx;
	int64_t deadline = now_ms() + c->d->cfg.cluster_apply_ms;
	struct pwb_error e = {0};

	if (seq == 0)
		return gate(c, err);
	for (;;) {
		struct pollfd p = {.fd = pwb_cluster_fd(c->cl), .events = POLLIN};
		int64_t left;

		memset(&e, 0, sizeof(e));
		/* The connection went after the commit: the loop reconnects
		 * (without waiting) and the replica catches up then. */
		if (!pwb_cluster_connected(c->cl)) {
			pwb_error_set(&e, PWB_EUNAVAIL, "%s",
				      c->why[0] ? c->why
						: "the cluster database cannot be reached");
			break;
		}
		if (follow(c, false, NULL, &e) == 0 && c->follow.applied >= seq)
			return 0;
		left = deadline - now_ms();
		if (left <= 0 || c->refusing || p.fd < 0)
			break;
		if (poll(&p, 1, left > 50 ? 50 : (int)left) > 0 && pwb_cluster_drain(c->cl, &e) < 0)
			break;
	}
	pwb_log(LOG_WARNING,
		"pwbd: cluster: change %llu is committed, but this host's replica has applied "
		"only %llu after %u ms%s%s",
		(unsigned long long)seq, (unsigned long long)c->follow.applied,
		c->d->cfg.cluster_apply_ms, e.msg[0] ? ": " : "", e.msg);
	return 0; /* the write did commit */
}

/* ---- life ---- */

static void host_name(const struct pwb_config *cfg, char *out, size_t len)
{
	if (cfg->cluster_host_name && *cfg->cluster_host_name) {
		snprintf(out, len, "%s", cfg->cluster_host_name);
		return;
	}
	if (gethostname(out, len) < 0)
		snprintf(out, len, "(unknown)");
	out[len - 1] = '\0';
}

int pwbd_cluster_open(struct pwbd *d, struct pwb_error *err)
{
	struct pwbd_cluster *c;
	struct pwb_error e = {0};
	int r;

	if (d->cluster || !d->st || !pwb_config_cluster(&d->cfg))
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	c->d = d;
	c->reader = strcmp(d->cfg.cluster_role, "reader") == 0;
	c->backoff_ms = RECONNECT_FIRST_MS;
	c->conn_fd = -1;
	host_name(&d->cfg, c->host, sizeof(c->host));
	r = pwb_store_open_cluster_nowait(&d->cfg, &c->cl, err);
	if (r < 0) {
		free(c);
		return r;
	}
	d->cluster = c;
	pwb_store_link_writer(d->st, c->cl, wait_fn, c);
	if (pwb_follow_state(d->st, &c->follow, &e) < 0)
		pwb_log(LOG_WARNING, "pwbd: cluster: the replica's state: %s", e.msg);
	pwb_log(LOG_INFO, "pwbd: cluster mode: host %s (%s), replica at seq %llu", c->host,
		c->reader ? "reader" : "writer", (unsigned long long)c->follow.applied);
	memset(&e, 0, sizeof(e));
	if (connect_begin(c, &e) == 0 && follow(c, false, NULL, &e) == 0)
		report(c);
	return 0;
}

void pwbd_cluster_close(struct pwbd *d)
{
	struct pwbd_cluster *c = d->cluster;

	if (!c)
		return;
	if (d->st)
		pwb_store_link_writer(d->st, NULL, NULL, NULL);
	pwb_store_close(c->cl);
	free(c);
	d->cluster = NULL;
}

int pwbd_cluster_poll_fd(struct pwbd *d)
{
	struct pwbd_cluster *c = d->cluster;

	if (!c)
		return -1;
	return pwb_cluster_connecting(c->cl) ? c->conn_fd : pwb_cluster_fd(c->cl);
}

short pwbd_cluster_poll_events(struct pwbd *d)
{
	struct pwbd_cluster *c = d->cluster;

	return c && pwb_cluster_connecting(c->cl) ? c->conn_events : POLLIN;
}

int pwbd_cluster_poll_timeout(struct pwbd *d)
{
	struct pwbd_cluster *c = d->cluster;
	int64_t now, next;

	if (!c)
		return -1;
	/* Only the deadlines tick acts on in the current state count: one that
	 * passed but waits for something else (a report while disconnected)
	 * would make every poll return at once, and pwbd spin. */
	now = now_ms();
	if (pwb_cluster_connected(c->cl)) {
		next = c->next_poll;
		if (c->next_report && c->next_report < next)
			next = c->next_report;
	} else if (pwb_cluster_connecting(c->cl)) {
		next = now + CONNECT_STEP_MS;
	} else {
		next = c->next_reconnect ? c->next_reconnect : c->next_poll;
		if (c->reopen && c->next_poll < next)
			next = c->next_poll;
	}
	if (c->refusing && c->next_alert < next)
		next = c->next_alert;
	return next <= now ? 0 : (int)(next - now);
}

/* The cluster store opened again (it reads the schema version when it
 * opens), linked as before. */
static void reopen(struct pwbd_cluster *c)
{
	struct pwb_store *fresh = NULL;
	struct pwb_error err = {0};

	c->reopen = false;
	if (pwb_store_open_cluster_nowait(&c->d->cfg, &fresh, &err) < 0) {
		pwb_log(LOG_ERR, "pwbd: cluster: opening the cluster store again: %s", err.msg);
		return;
	}
	pwb_store_link_writer(c->d->st, fresh, wait_fn, c);
	pwb_store_close(c->cl);
	c->cl = fresh;
}

void pwbd_cluster_tick(struct pwbd *d)
{
	struct pwbd_cluster *c = d->cluster;
	struct pwb_error err = {0};
	int64_t now = now_ms();
	int notified = 0;
	bool due;

	if (!c)
		return;
	/* The poll's deadline moves on whether or not this tick can follow
	 * (refusing, disconnected), so the loop sleeps until the next one. */
	due = now >= c->next_poll;
	if (due)
		c->next_poll = now + c->d->cfg.cluster_poll_ms;
	if (c->refusing)
		alert_refusing(c);
	if (c->reopen && due)
		reopen(c);
	if (pwb_cluster_connecting(c->cl)) {
		if (connect_step(c, &err) != 0)
			return;
		notified = 1; /* catch up with what happened meanwhile */
	} else if (!pwb_cluster_connected(c->cl)) {
		if (now < c->next_reconnect || connect_begin(c, &err) != 0)
			return;
		notified = 1;
	} else {
		if (c->next_reconnect) /* a one-shot caller connected it */
			connected(c);
		notified = pwb_cluster_drain(c->cl, &err);
		if (notified < 0) {
			lost(c, &err);
			return;
		}
	}
	memset(&err, 0, sizeof(err));
	if (!c->refusing && (notified > 0 || due))
		follow(c, false, NULL, &err);
	if (pwb_cluster_connected(c->cl) && now_ms() >= c->next_report)
		report(c);
}

int pwbd_cluster_status(struct pwbd_cluster *c, struct pwbd_cluster_status *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->host, sizeof(out->host), "%s", c->host);
	out->reader = c->reader;
	out->connected = pwb_cluster_connected(c->cl);
	out->schema_ready = c->schema_ready;
	out->refusing = c->refusing;
	snprintf(out->why, sizeof(out->why), "%s", c->why);
	out->follow = c->follow;
	out->db_seq = c->db_seq;
	out->last_contact = c->last_contact;
	out->refused_records = c->refused_records;
	return 0;
}

struct pwb_store *pwbd_cluster_store(struct pwbd_cluster *c)
{
	return c->cl;
}

int pwbd_cluster_sync(struct pwbd_cluster *c, struct pwb_follow_result *out, struct pwb_error *err)
{
	if (c->refusing)
		return pwb_error_set(err, PWB_ECONFLICT, "%s", c->why);
	if (!pwb_cluster_connected(c->cl) && connect_now(c, err) < 0)
		return PWB_EUNAVAIL;
	return follow(c, false, out, err);
}

void pwbd_cluster_refresh(struct pwbd_cluster *c)
{
	struct pwb_error err = {0};

	/* Unreachable or refusing: the write's gate says so, with the reason. */
	if (c->refusing || c->reader || reach(c, &err) < 0)
		return;
	(void)follow(c, false, NULL, &err);
}

int pwbd_cluster_accept(struct pwbd_cluster *c, struct pwb_follow_result *out,
			struct pwb_error *err)
{
	int r;

	if (!pwb_cluster_connected(c->cl) && (r = connect_now(c, err)) < 0)
		return r;
	r = follow(c, true, out, err);
	if (r < 0)
		return r;
	if (c->refusing)
		pwb_log(LOG_NOTICE,
			"pwbd: cluster: host %s accepted the database as it is (seq %llu); "
			"writes are allowed again",
			c->host, (unsigned long long)c->follow.applied);
	c->refusing = false;
	set_why(c, "");
	return 0;
}
