/* The PostgreSQL backend (backend.h; cluster.h's model), built as the
 * object pwb_store_pg.so that only pwbd loads (cluster.c: dlopen) and that
 * exports one symbol, pwb_store_pg_ops.
 *
 * Schema (version 1, created by pwb_cluster_init in the DSN's current
 * schema):
 *   pwb_NAME for each table of backend.h (NAME as in dbi.c):
 *     (key bytea, val bytea, version bigint, deleted bool), primary key
 *     key; the membership tables pwb_members and pwb_member_of are keyed
 *     (key, val). Deletes are tombstones (deleted, version bumped) until
 *     pwb_cluster_prune. pwb_changes and pwb_change_request are not kv
 *     tables: the change log is pwb_change.
 *   pwb_counter: one row (seq, cluster_id uuid, horizon, schema), taken
 *     first by every write transaction (UPDATE ... RETURNING): writers
 *     serialise on it and rows they write get version = seq at start + 1.
 *     DBI_META's key "seq" is this row's seq (as bdb.c's counter is).
 *   pwb_change (seq bigint primary key, rec bytea, request_id text,
 *     commit_token text, recorded_at timestamptz, actor jsonb generated
 *     from rec).
 *   pwb_hosts (name, role, applied, reported_at) and pwb_local_ids (host,
 *     kind, id), written only through the SECURITY DEFINER function
 *     pwb_host_report, which a reader role may EXECUTE.
 *   Unique partial indexes over the live users' "name" and "uid" and the
 *   groups' "name" and "gid" (the records' JSON): a backstop behind the
 *   rules.
 * Transactions: reads REPEATABLE READ READ ONLY; writes READ COMMITTED
 * plus the counter row's lock. Deadlock and serialisation failures mark
 * the transaction for retry; a lost connection reconnects at the next
 * begin, and a COMMIT whose answer was lost is settled by the commit token
 * of the change entries it wrote. After a write that logged a change:
 * NOTIFY pwb_change with the last seq. One connection, LISTENing, with
 * TCP keepalives and tcp_user_timeout; it is made without waiting
 * (PQconnectStartParams, PQconnectPoll: pwbd's loop drives it) or, for
 * one-shot callers, waiting at most store-timeout. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cleanup.h"
#include "cluster.h"
#include "config.h"
#include "log.h"
#include "internal/store_types.h"

#define SCHEMA_LATEST 1
#define TOKEN_LEN     32
#define MAX_PARAMS    6

struct pwb_backend {
	PGconn *conn;
	char *dsn;
	char *password;
	char where[128]; /* the DSN's host:port (the one tried), for messages */
	/* A DSN naming several hosts (host=db1,db2): each attempt tries one,
	 * the next after a failure. libpq's own walk down the list moves on
	 * only when a host fails or its connect_timeout passes, and a
	 * non-blocking attempt has no connect_timeout: a silent first host
	 * would hold every attempt. NULL lists: one host, libpq's defaults. */
	char *hosts, *hostaddrs, *ports;
	unsigned nhosts, host_next;
	unsigned timeout;
	unsigned schema;
	/* the write transaction under way */
	uint64_t start_seq; /* the counter when it began */
	uint64_t seq;	    /* the counter now (appends move it) */
	bool logged;	    /* it wrote change entries: NOTIFY, commit token */
	bool down;	    /* the last connection attempt failed (logged once) */
	/* a connection attempt under way (PQconnectStartParams) */
	bool connecting;
	PostgresPollingStatusType polling; /* what PQconnectPoll said last */
	int64_t deadline_ms;		   /* monotonic: store-timeout after the start */
	char token[TOKEN_LEN + 1];
};

static struct pwb_backend *be_of(const struct pwb_txn *txn)
{
	return txn->st->be;
}

/* ---- parameters ---- */

struct args {
	const char *v[MAX_PARAMS];
	int len[MAX_PARAMS];
	int fmt[MAX_PARAMS];
	char num[MAX_PARAMS][24];
	int n;
};

static void arg_bytes(struct args *a, const void *p, size_t n)
{
	a->v[a->n] = n ? p : "";
	a->len[a->n] = (int)n;
	a->fmt[a->n++] = 1;
}

static void arg_text(struct args *a, const char *s)
{
	a->v[a->n] = s;
	a->len[a->n] = 0;
	a->fmt[a->n++] = 0;
}

static void arg_u64(struct args *a, uint64_t v)
{
	snprintf(a->num[a->n], sizeof(a->num[0]), "%" PRIu64, v);
	arg_text(a, a->num[a->n]);
}

static uint64_t col_u64(const PGresult *res, int row, int col)
{
	const unsigned char *p = (const unsigned char *)PQgetvalue(res, row, col);
	uint64_t v = 0;
	int i;

	if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != 8)
		return 0;
	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void pqclear(PGresult **res)
{
	if (*res)
		PQclear(*res);
}
#define _cleanup_pq_ _cleanup_(pqclear)

/* ---- errors and the connection ---- */

static bool lost(struct pwb_backend *be)
{
	return !be->conn || be->connecting || PQstatus(be->conn) != CONNECTION_OK;
}

static void disconnect(struct pwb_backend *be)
{
	if (be->conn)
		PQfinish(be->conn);
	be->conn = NULL;
	be->connecting = false;
}

static int unavailable(struct pwb_backend *be, struct pwb_error *err)
{
	return pwb_error_set(err, PWB_EUNAVAIL, "the cluster database at %s cannot be reached",
			     be->where);
}

/* Whether a failed statement means the connection is gone: libpq says so,
 * or the server does (class 08; 57P01-57P03: shut down, crashed, starting
 * up, which an immediate shutdown sends to a session mid-statement before
 * closing its socket). */
static bool connection_gone(struct pwb_backend *be, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return lost(be) || (state && (!strncmp(state, "08", 2) || !strcmp(state, "57P01") ||
				      !strcmp(state, "57P02") || !strcmp(state, "57P03")));
}

/* A failed statement: marks the transaction for retry on a conflict or a
 * lost connection; the message names what and the server's words. */
static int sql_fail(struct pwb_txn *txn, const PGresult *res, const char *what,
		    struct pwb_error *err)
{
	struct pwb_backend *be = be_of(txn);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (state && (!strcmp(state, "40P01") || !strcmp(state, "40001"))) {
		txn->retry = true;
		return pwb_error_set(err, PWB_ESTORE, "%s: a conflict (retried)", what);
	}
	if (connection_gone(be, res)) {
		disconnect(be);
		if (txn)
			txn->retry = true;
		return unavailable(be, err);
	}
	if (state && !strcmp(state, "23505"))
		return pwb_error_set(err, PWB_EEXIST, "%s: %s", what, msg ? msg : "duplicate");
	return pwb_error_set(err, PWB_ESTORE, "%s: %s", what, msg ? msg : PQerrorMessage(be->conn));
}

static PGresult *run(struct pwb_backend *be, const char *sql, const struct args *a)
{
	if (!be->conn)
		return NULL;
	return PQexecParams(be->conn, sql, a ? a->n : 0, NULL, a ? a->v : NULL, a ? a->len : NULL,
			    a ? a->fmt : NULL, 1);
}

static bool ok(const PGresult *res)
{
	return res &&
	       (PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK);
}

/* Runs sql in txn; 0 with *out (may be NULL: cleared) or a failure. */
static int q(struct pwb_txn *txn, const char *sql, const struct args *a, const char *what,
	     PGresult **out, struct pwb_error *err)
{
	PGresult *res = run(be_of(txn), sql, a);

	if (!ok(res)) {
		int r = sql_fail(txn, res, what, err);

		if (res)
			PQclear(res);
		return r;
	}
	if (out)
		*out = res;
	else
		PQclear(res);
	return 0;
}

static int read_password(struct pwb_backend *be, const char *path, struct pwb_error *err)
{
	_cleanup_close_ int fd = -1;
	struct stat sb;
	char buf[1024];
	ssize_t n;

	if (!path || !*path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return pwb_error_set(err, PWB_ECONFIG, "store-password-file %s: %s", path,
				     strerror(errno));
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (sb.st_mode & 077) ||
	    (geteuid() == 0 && sb.st_uid != 0))
		return pwb_error_set(
		    err, PWB_ECONFIG,
		    "store-password-file %s: must be a regular file of mode 0600%s", path,
		    geteuid() == 0 ? " owned by root" : "");
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return pwb_error_set(err, PWB_ECONFIG, "store-password-file %s: %s", path,
				     strerror(errno));
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	be->password = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	if (!be->password)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* The number of comma-separated items in list (0 for NULL or ""). */
static unsigned count_items(const char *list)
{
	unsigned n = list && *list ? 1 : 0;

	for (const char *c = list; c && *c; c++)
		n += *c == ',';
	return n;
}

/* Item i of a comma-separated list into out ("" when there is none); a
 * one-item list applies to every host, as in libpq. */
static void nth_item(const char *list, unsigned i, char *out, size_t len)
{
	const char *p = list, *end;

	*out = '\0';
	if (!list || !*list)
		return;
	if (count_items(list) == 1)
		i = 0;
	for (; i > 0 && p; i--) {
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	if (!p)
		return;
	end = strchr(p, ',');
	snprintf(out, len, "%.*s", (int)(end ? (size_t)(end - p) : strlen(p)), p);
}

/* Sets be->where to host i's host:port, for messages. */
static void describe_host(struct pwb_backend *be, unsigned i)
{
	char host[256], addr[128], port[16]; /* a DNS name, a socket directory; an address */

	nth_item(be->hosts, i, host, sizeof(host));
	nth_item(be->hostaddrs, i, addr, sizeof(addr));
	nth_item(be->ports, i, port, sizeof(port));
	snprintf(be->where, sizeof(be->where), "%s:%s",
		 *host	 ? host
		 : *addr ? addr
			 : "localhost",
		 *port ? port : "5432");
}

static int dup_list(char **out, const char *val)
{
	if (!val || !*val)
		return 0;
	*out = strdup(val);
	return *out ? 0 : -ENOMEM;
}

/* Notes the DSN's hosts and ports (for messages, and one attempt per host
 * when it names several); refuses a DSN that does not parse or that holds
 * a password (store-password-file holds it). */
static int describe_dsn(struct pwb_backend *be, struct pwb_error *err)
{
	PQconninfoOption *opts = PQconninfoParse(be->dsn, NULL), *o;
	bool password = false;
	int r = 0;

	if (!opts)
		return pwb_error_set(err, PWB_ECONFIG, "store-dsn: not a libpq connection string");
	for (o = opts; o->keyword && r == 0; o++) {
		if (!strcmp(o->keyword, "host"))
			r = dup_list(&be->hosts, o->val);
		else if (!strcmp(o->keyword, "hostaddr"))
			r = dup_list(&be->hostaddrs, o->val);
		else if (!strcmp(o->keyword, "port"))
			r = dup_list(&be->ports, o->val);
		else if (!strcmp(o->keyword, "password") && o->val && *o->val)
			password = true;
	}
	PQconninfoFree(opts);
	if (r < 0)
		return pwb_error_set(err, r, "out of memory");
	be->nhosts = count_items(be->hosts) > count_items(be->hostaddrs)
			 ? count_items(be->hosts)
			 : count_items(be->hostaddrs);
	describe_host(be, 0);
	return password ? pwb_error_set(err, PWB_ECONFIG,
					"store-dsn holds a password: put it in store-password-file")
			: 0;
}

/* Reads the schema version (0: none) on a fresh connection. */
static int read_schema(struct pwb_backend *be, struct pwb_error *err)
{
	_cleanup_pq_ PGresult *res = NULL;
	_cleanup_pq_ PGresult *ver = NULL;

	be->schema = 0;
	res = PQexecParams(be->conn, "SELECT to_regclass('pwb_counter') IS NOT NULL", 0, NULL, NULL,
			   NULL, NULL, 1);
	if (ok(res) && PQntuples(res) == 1 && *PQgetvalue(res, 0, 0) == 0)
		return 0; /* no schema */
	if (ok(res))
		ver = PQexecParams(be->conn, "SELECT schema::bigint FROM pwb_counter", 0, NULL,
				   NULL, NULL, NULL, 1);
	if (!ok(res) || !ok(ver))
		return pwb_error_set(err, PWB_ESTORE, "the cluster database at %s: %s", be->where,
				     PQerrorMessage(be->conn));
	if (PQntuples(ver) == 1)
		be->schema = (unsigned)col_u64(ver, 0, 0);
	return 0;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned timeout_s(const struct pwb_backend *be)
{
	return be->timeout ? be->timeout : 10;
}

/* A failed attempt: libpq's reason (never the password) on one line,
 * logged once per outage. */
static int connect_failed(struct pwb_backend *be, const char *reason, struct pwb_error *err)
{
	char why[256];
	int r;

	snprintf(why, sizeof(why), "%s", reason && *reason ? reason : "out of memory");
	why[strcspn(why, "\n")] = '\0';
	if (!be->down)
		pwb_log(LOG_WARNING, "pwb store: the cluster database at %s: %s", be->where, why);
	be->down = true;
	be->connecting = false;
	disconnect(be);
	r = pwb_error_set(err, PWB_EUNAVAIL, "the cluster database at %s cannot be reached: %s",
			  be->where, why);
	if (be->nhosts > 1) /* the next attempt tries the next host */
		be->host_next = (be->host_next + 1) % be->nhosts;
	return r;
}

/* Starts a connection attempt without waiting (connect_step drives it).
 * The keepalives and tcp_user_timeout come before "dbname", which expands
 * the DSN in place: a DSN that sets its own wins. The password comes
 * after it (a DSN holding one is refused at open). connect_timeout does
 * not bound PQconnectPoll: connect_step enforces store-timeout itself. */
static int connect_start(struct pwb_backend *be, struct pwb_error *err)
{
	char timeout[16], idle[16], interval[16], user_timeout[24];
	char host[256], addr[128], port[16]; /* a DNS name, a socket directory; an address */
	const char *keys[14] = {"keepalives",	       "keepalives_idle",
				"keepalives_interval", "keepalives_count",
				"tcp_user_timeout",    "dbname",
				"connect_timeout",     "fallback_application_name"};
	const char *vals[14] = {"1", idle, interval, "3", user_timeout, be->dsn, timeout, "pwbd"};
	size_t n = 8;
	unsigned t = timeout_s(be);

	disconnect(be);
	if (be->nhosts > 1) {
		/* this attempt's host only (after "dbname": it overrides the list) */
		nth_item(be->hosts, be->host_next, host, sizeof(host));
		nth_item(be->hostaddrs, be->host_next, addr, sizeof(addr));
		nth_item(be->ports, be->host_next, port, sizeof(port));
		keys[n] = "host", vals[n++] = host;
		keys[n] = "hostaddr", vals[n++] = addr;
		keys[n] = "port", vals[n++] = port;
		describe_host(be, be->host_next);
	}
	if (be->password)
		keys[n] = "password", vals[n++] = be->password;
	snprintf(timeout, sizeof(timeout), "%u", t);
	/* a dead peer is noticed within about twice store-timeout when idle,
	 * and within store-timeout when data waits for its acknowledgement */
	snprintf(idle, sizeof(idle), "%u", t);
	snprintf(interval, sizeof(interval), "%u", t / 3 ? t / 3 : 1);
	snprintf(user_timeout, sizeof(user_timeout), "%llu", (unsigned long long)t * 1000);
	be->conn = PQconnectStartParams(keys, vals, 1);
	if (!be->conn || PQstatus(be->conn) == CONNECTION_BAD)
		return connect_failed(be, be->conn ? PQerrorMessage(be->conn) : NULL, err);
	be->connecting = true;
	be->polling = PGRES_POLLING_WRITING; /* libpq: as if PQconnectPoll said so */
	be->deadline_ms = monotonic_ms() + (int64_t)t * 1000;
	return 0;
}

/* Connected: LISTEN and read the schema version. */
static int connect_done(struct pwb_backend *be, struct pwb_error *err)
{
	_cleanup_pq_ PGresult *res = NULL;

	be->connecting = false;
	if (be->down)
		pwb_log(LOG_NOTICE, "pwb store: the cluster database at %s is reachable again",
			be->where);
	be->down = false;
	res = PQexec(be->conn, "LISTEN pwb_change");
	if (!ok(res)) {
		disconnect(be);
		return unavailable(be, err);
	}
	return read_schema(be, err);
}

/* Drives the attempt as far as its socket allows without waiting: 1 (in
 * progress: poll *fd for *events), 0 (connected), or PWB_EUNAVAIL. */
static int connect_step(struct pwb_backend *be, int *fd, short *events, struct pwb_error *err)
{
	*fd = -1;
	*events = 0;
	if (!be->connecting)
		return be->conn && !lost(be) ? 0 : unavailable(be, err);
	for (;;) {
		struct pollfd p;
		int n;

		if (be->polling == PGRES_POLLING_OK)
			return connect_done(be, err);
		if (be->polling == PGRES_POLLING_FAILED)
			return connect_failed(be, PQerrorMessage(be->conn), err);
		p = (struct pollfd){.fd = PQsocket(be->conn),
				    .events =
					be->polling == PGRES_POLLING_READING ? POLLIN : POLLOUT};
		n = p.fd < 0 ? 1 : poll(&p, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			if (monotonic_ms() >= be->deadline_ms) {
				char why[64];

				snprintf(why, sizeof(why), "no answer within %u s (store-timeout)",
					 timeout_s(be));
				return connect_failed(be, why, err);
			}
			*fd = p.fd;
			*events = p.events;
			return 1;
		}
		be->polling = PQconnectPoll(be->conn);
	}
}

/* Connects if not connected, waiting at most store-timeout (an attempt
 * already under way is carried on, within its own deadline). */
static int connect_db(struct pwb_backend *be, struct pwb_error *err)
{
	int fd, r;
	short events;

	if (be->conn && !lost(be))
		return 0;
	if (!be->connecting && (r = connect_start(be, err)) < 0)
		return r;
	while ((r = connect_step(be, &fd, &events, err)) == 1) {
		struct pollfd p = {.fd = fd, .events = events};
		int64_t left = be->deadline_ms - monotonic_ms();

		(void)poll(&p, 1, left <= 0 ? 0 : left > 1000 ? 1000 : (int)left);
	}
	return r;
}

static const char *schema_problem(unsigned schema)
{
	if (schema == 0)
		return "has no pwb schema: run pwbadm cluster init";
	if (schema < SCHEMA_LATEST)
		return "has an older pwb schema: run pwbadm cluster migrate";
	if (schema > SCHEMA_LATEST)
		return "has a newer pwb schema than this pwb knows";
	return NULL;
}

/* The schema must be the latest. A version read earlier that was not is
 * read again first: another host may have run `pwbadm cluster init` or
 * `migrate` since this connection was made. */
static int need_schema(struct pwb_backend *be, struct pwb_error *err)
{
	const char *why = schema_problem(be->schema);
	int r;

	if (why && be->conn && !lost(be)) {
		if ((r = read_schema(be, err)) < 0)
			return r;
		why = schema_problem(be->schema);
	}

	return why ? pwb_error_set(err, PWB_ECONFIG, "the cluster database at %s %s", be->where,
				   why)
		   : 0;
}

/* ---- the backend's life ---- */

static int pg_open(struct pwb_store *st, struct pwb_error *err)
{
	const struct pwb_config *cfg = st->cfg;
	struct pwb_backend *be = calloc(1, sizeof(*be));
	int r;

	if (!be)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	st->be = be;
	if (!cfg->store_dsn || !*cfg->store_dsn)
		return pwb_error_set(err, PWB_ECONFIG, "store-backend=postgresql needs store-dsn");
	if (!(be->dsn = strdup(cfg->store_dsn)))
		return pwb_error_set(err, -ENOMEM, "out of memory");
	be->timeout = cfg->store_timeout;
	if ((r = describe_dsn(be, err)) < 0 ||
	    (r = read_password(be, cfg->store_password_file, err)) < 0)
		return r;
	if (st->open_nowait)
		return 0;
	/* Unreachable is not an error: the store opens disconnected. */
	r = connect_db(be, err);
	if (r == PWB_EUNAVAIL) {
		if (err)
			memset(err, 0, sizeof(*err));
		return 0;
	}
	if (r < 0)
		return r;
	if (be->schema > SCHEMA_LATEST)
		return need_schema(be, err);
	return 0;
}

static void pg_close(struct pwb_store *st)
{
	struct pwb_backend *be = st->be;

	if (!be)
		return;
	disconnect(be);
	free(be->dsn);
	free(be->hosts);
	free(be->hostaddrs);
	free(be->ports);
	if (be->password) {
		explicit_bzero(be->password, strlen(be->password));
		free(be->password);
	}
	free(be);
	st->be = NULL;
}

static int pg_repair(struct pwb_store *st, struct pwb_error *err)
{
	return connect_db(st->be, err);
}

static int pg_verify(struct pwb_store *st, struct pwb_error *err)
{
	struct pwb_backend *be = st->be;
	int r = connect_db(be, err);

	return r < 0 ? r : need_schema(be, err);
}

/* ---- transactions ---- */

static void make_token(char out[TOKEN_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[TOKEN_LEN / 2];
	size_t i;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw)) {
		/* unique enough for a commit check: time and pid */
		snprintf((char *)raw, sizeof(raw), "%lx%x", (long)time(NULL), (unsigned)getpid());
	}
	if (fd >= 0)
		close(fd);
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[TOKEN_LEN] = '\0';
}

static int pg_begin(struct pwb_txn *txn, bool write, struct pwb_error *err)
{
	struct pwb_backend *be = be_of(txn);
	_cleanup_pq_ PGresult *res = NULL;
	int r;

	txn->write = write;
	if ((r = connect_db(be, err)) < 0) {
		/* a write keeps trying for store-timeout (the runner's backoff) */
		txn->retry = write && r == PWB_EUNAVAIL;
		return r;
	}
	if ((r = need_schema(be, err)) < 0)
		return r;
	r = q(txn,
	      write ? "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE"
		    : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	      NULL, "begin", NULL, err);
	if (r < 0 || !write)
		return r;
	be->logged = false;
	make_token(be->token);
	r = q(txn, "UPDATE pwb_counter SET seq = seq RETURNING seq", NULL, "pwb_counter", &res,
	      err);
	if (r < 0)
		return r;
	if (PQntuples(res) != 1)
		return pwb_error_set(err, PWB_ESTORE, "pwb_counter: no counter row");
	be->start_seq = be->seq = col_u64(res, 0, 0);
	return 0;
}

/* The COMMIT's answer was lost: did it commit? Only a transaction that
 * logged a change can tell (its entries carry the commit token). */
static int settle_lost_commit(struct pwb_txn *txn, struct pwb_error *err)
{
	struct pwb_backend *be = be_of(txn);
	_cleanup_pq_ PGresult *res = NULL;
	struct args a = {0};

	if (!be->logged || connect_db(be, NULL) < 0) {
		txn->retry = be->logged ? txn->retry : true;
		return unavailable(be, err);
	}
	arg_text(&a, be->token);
	res = run(be, "SELECT 1 FROM pwb_change WHERE commit_token = $1 LIMIT 1", &a);
	if (!ok(res)) {
		disconnect(be);
		return unavailable(be, err);
	}
	if (PQntuples(res) > 0)
		return 0;
	txn->retry = true;
	return unavailable(be, err);
}

static int pg_commit(struct pwb_txn *txn, struct pwb_error *err)
{
	struct pwb_backend *be = be_of(txn);
	PGresult *res;
	int r;

	if (txn->write && be->logged) {
		struct args a = {0};

		arg_u64(&a, be->seq);
		if ((r = q(txn, "SELECT pg_notify('pwb_change', $1)", &a, "notify", NULL, err)) < 0)
			return r;
	}
	res = run(be, "COMMIT", NULL);
	if (ok(res)) {
		PQclear(res);
		return 0;
	}
	if (!res || connection_gone(be, res)) {
		if (res)
			PQclear(res);
		disconnect(be);
		return txn->write ? settle_lost_commit(txn, err) : 0;
	}
	r = sql_fail(txn, res, "commit", err);
	PQclear(res);
	return r;
}

static void pg_abort(struct pwb_txn *txn)
{
	struct pwb_backend *be = be_of(txn);
	PGresult *res;

	if (lost(be))
		return;
	res = PQexec(be->conn, "ROLLBACK");
	if (res)
		PQclear(res);
}

static bool pg_should_retry(const struct pwb_txn *txn)
{
	return txn->retry;
}

/* ---- tables ---- */

/* The SQL table of dbi: pwb_NAME (dbi.c's names are identifiers). */
static void table(enum pwb_dbi dbi, char out[64])
{
	snprintf(out, 64, "pwb_%s", pwb_dbi_name(dbi));
}

static bool is_seq_key(enum pwb_dbi dbi, const void *key, size_t klen)
{
	return dbi == DBI_META && klen == 3 && !memcmp(key, "seq", 3);
}

static int pg_kv_get(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		     char **val, size_t *vlen, bool for_update, struct pwb_error *err)
{
	_cleanup_pq_ PGresult *res = NULL;
	struct args a = {0};
	char t[64], sql[256];
	size_t n;
	int r;

	if (is_seq_key(dbi, key, klen)) {
		r = q(txn, "SELECT seq::text FROM pwb_counter", NULL, "pwb_counter", &res, err);
	} else {
		table(dbi, t);
		snprintf(sql, sizeof(sql),
			 "SELECT val FROM %s WHERE key = $1 AND NOT deleted ORDER BY val LIMIT 1%s",
			 t, for_update && txn->write ? " FOR UPDATE" : "");
		arg_bytes(&a, key, klen);
		r = q(txn, sql, &a, t, &res, err);
	}
	if (r < 0)
		return r;
	if (PQntuples(res) == 0)
		return PWB_ENOTFOUND;
	n = (size_t)PQgetlength(res, 0, 0);
	if (!(*val = malloc(n + 1)))
		return pwb_error_set(err, -ENOMEM, "out of memory");
	memcpy(*val, PQgetvalue(res, 0, 0), n);
	(*val)[n] = '\0';
	if (vlen)
		*vlen = n;
	return 0;
}

static int write_only(struct pwb_txn *txn, const char *what, struct pwb_error *err)
{
	return txn->write
		   ? 0
		   : pwb_error_set(err, PWB_ESTORE, "internal: %s in a read transaction", what);
}

static int set_seq(struct pwb_txn *txn, uint64_t seq, struct pwb_error *err)
{
	struct args a = {0};
	int r;

	arg_u64(&a, seq);
	r = q(txn, "UPDATE pwb_counter SET seq = $1", &a, "pwb_counter", NULL, err);
	if (r == 0)
		be_of(txn)->seq = seq;
	return r;
}

static int pg_kv_put(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		     const void *val, size_t vlen, struct pwb_error *err)
{
	struct args a = {0};
	char t[64], sql[384];
	int r;

	if ((r = write_only(txn, "put", err)) < 0)
		return r;
	if (is_seq_key(dbi, key, klen)) {
		char buf[24];
		uint64_t v;

		if (vlen >= sizeof(buf))
			return pwb_error_set(err, PWB_EINVAL, "meta seq: not a number");
		memcpy(buf, val, vlen);
		buf[vlen] = '\0';
		v = strtoull(buf, NULL, 10);
		return v > be_of(txn)->seq ? set_seq(txn, v, err) : 0;
	}
	table(dbi, t);
	if (pwb_dbi_is_set(dbi))
		snprintf(
		    sql, sizeof(sql),
		    "INSERT INTO %s (key, val, version, deleted) VALUES ($1, $2, $3, false) "
		    "ON CONFLICT (key, val) DO UPDATE SET version = excluded.version, deleted = "
		    "false WHERE %s.deleted",
		    t, t);
	else
		snprintf(sql, sizeof(sql),
			 "INSERT INTO %s (key, val, version, deleted) VALUES ($1, $2, $3, false) "
			 "ON CONFLICT (key) DO UPDATE SET val = excluded.val, version = "
			 "excluded.version, deleted = false",
			 t);
	arg_bytes(&a, key, klen);
	arg_bytes(&a, val, vlen);
	arg_u64(&a, be_of(txn)->start_seq + 1);
	return q(txn, sql, &a, t, NULL, err);
}

/* Tombstones the live rows of key (and val, when given). */
static int tombstone(struct pwb_txn *txn, enum pwb_dbi dbi, const char *col, const void *key,
		     size_t klen, const void *val, size_t vlen, struct pwb_error *err)
{
	struct args a = {0};
	char t[64], sql[256];
	int r;

	if ((r = write_only(txn, "delete", err)) < 0)
		return r;
	table(dbi, t);
	snprintf(sql, sizeof(sql),
		 "UPDATE %s SET deleted = true, version = $1%s WHERE %s = $2%s AND NOT deleted", t,
		 pwb_dbi_is_set(dbi) ? "" : ", val = NULL", col, val ? " AND val = $3" : "");
	arg_u64(&a, be_of(txn)->start_seq + 1);
	arg_bytes(&a, key, klen);
	if (val)
		arg_bytes(&a, val, vlen);
	return q(txn, sql, &a, t, NULL, err);
}

static int pg_kv_del(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		     struct pwb_error *err)
{
	return tombstone(txn, dbi, "key", key, klen, NULL, 0, err);
}

static bool pg_kv_exists(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen)
{
	_cleanup_free_ char *val = NULL;

	return pg_kv_get(txn, dbi, key, klen, &val, NULL, false, NULL) == 0;
}

static int pg_kv_foreach(struct pwb_txn *txn, enum pwb_dbi dbi, pwb_kv_cb cb, void *ctx,
			 struct pwb_error *err)
{
	_cleanup_pq_ PGresult *res = NULL;
	char t[64], sql[192];
	int i, r;

	table(dbi, t);
	snprintf(sql, sizeof(sql), "SELECT key, val FROM %s WHERE NOT deleted ORDER BY key, val",
		 t);
	if ((r = q(txn, sql, NULL, t, &res, err)) < 0)
		return r;
	for (i = 0; i < PQntuples(res); i++) {
		r = cb(PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0), PQgetvalue(res, i, 1),
		       (size_t)PQgetlength(res, i, 1), ctx, err);
		if (r != 0)
			return r;
	}
	return 0;
}

static int pg_kv_count(struct pwb_txn *txn, enum pwb_dbi dbi, uint64_t *count,
		       struct pwb_error *err)
{
	_cleanup_pq_ PGresult *res = NULL;
	char t[64], sql[192];
	int r;

	table(dbi, t);
	snprintf(sql, sizeof(sql), "SELECT count(DISTINCT key)::bigint FROM %s WHERE NOT deleted",
		 t);
	if ((r = q(txn, sql, NULL, t, &res, err)) < 0)
		return r;
	*count = col_u64(res, 0, 0);
	return 0;
}

static int pg_kv_del_by_value(struct pwb_txn *txn, enum pwb_dbi dbi, const void *val, size_t vlen,
			      pwb_kv_key_cb cb, void *ctx, struct pwb_error *err)
{
	_cleanup_pq_ PGresult *res = NULL;
	struct args a = {0};
	char t[64], sql[192];
	int i, r;

	if ((r = write_only(txn, "delete", err)) < 0)
		return r;
	table(dbi, t);
	snprintf(sql, sizeof(sql), "SELECT key FROM %s WHERE val = $1 AND NOT deleted ORDER BY key",
		 t);
	arg_bytes(&a, val, vlen);
	if ((r = q(txn, sql, &a, t, &res, err)) < 0)
		return r;
	for (i = 0; cb && i < PQntuples(res); i++)
		cb(dbi, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0), ctx);
	return tombstone(txn, dbi, "val", val, vlen, NULL, 0, err);
}

static int pg_dup_del(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		      const void *val, size_t vlen, struct pwb_error *err)
{
	return tombstone(txn, dbi, "key", key, klen, val, vlen, err);
}

static bool pg_dup_exists(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
			  const void *val, size_t vlen)
{
	_cleanup_pq_ PGresult *res = NULL;
	struct args a = {0};
	char t[64], sql[192];

	table(dbi, t);
	snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE key = $1 AND val = $2 AND NOT deleted",
		 t);
	arg_bytes(&a, key, klen);
	arg_bytes(&a, val, vlen);
	return q(txn, sql, &a, t, &res, NULL) == 0 && PQntuples(res) > 0;
}

static int pg_dup_foreach(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
			  pwb_id_cb cb, void *ctx, struct pwb_error *err)
{
	_cleanup_pq_ PGresult *res = NULL;
	struct args a = {0};
	char t[64], sql[192], id[PWB_ID_LEN + 1];
	int i, r;

	table(dbi, t);
	snprintf(sql, sizeof(sql), "SELECT val FROM %s WHERE key = $1 AND NOT deleted ORDER BY val",
		 t);
	arg_bytes(&a, key, klen);
	if ((r = q(txn, sql, &a, t, &res, err)) < 0)
		return r;
	for (i = 0; i < PQntuples(res); i++) {
		if (PQgetlength(res, i, 0) != PWB_ID_LEN)
			continue;
		memcpy(id, PQgetvalue(res, i, 0), PWB_ID_LEN);
		id[PWB_ID_LEN] = '\0';
		if ((r = cb(id, ctx)) != 0)
			return r;
	}
	return 0;
}

/* ---- counters (DBI_META, decimal text; under the counter row's lock) ---- */

static int pg_counter_get(struct pwb_txn *txn, const char *name, uint64_t def, uint64_t *out,
			  struct pwb_error *err)
{
	_cleanup_free_ char *val = NULL;
	char *end;
	int r;

	r = pg_kv_get(txn, DBI_META, name, strlen(name), &val, NULL, true, err);
	if (r == PWB_ENOTFOUND) {
		*out = def;
		return 0;
	}
	if (r < 0)
		return r;
	errno = 0;
	*out = strtoull(val, &end, 10);
	if (errno || end == val || *end)
		return pwb_error_set(err, PWB_ESTORE, "counter %s is damaged", name);
	return 0;
}

static int pg_counter_set(struct pwb_txn *txn, const char *name, uint64_t value,
			  struct pwb_error *err)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64, value);

	return pg_kv_put(txn, DBI_META, name, strlen(name), buf, (size_t)n, err);
}

/* ---- the change log: pwb_change ---- */

static int pg_change_last(struct pwb_txn *txn, uint64_t *seq, struct pwb_error *err)
{
	_cleanup_pq_ PGresult *res = NULL;
	int r;

	if (txn->write) {
		*seq = be_of(txn)->seq;
		return 0;
	}
	if ((r = q(txn, "SELECT seq FROM pwb_counter", NULL, "pwb_counter", &res, err)) < 0)
		return r;
	*seq = PQntuples(res) ? col_u64(res, 0, 0) : 0;
	return 0;
}

static int insert_change(struct pwb_txn *txn, uint64_t seq, const void *rec, size_t len,
			 const char *request_id, struct pwb_error *err)
{
	struct pwb_backend *be = be_of(txn);
	struct args a = {0};
	int r;

	arg_u64(&a, seq);
	arg_bytes(&a, rec, len);
	if (request_id && *request_id)
		arg_text(&a, request_id);
	else
		arg_text(&a, NULL);
	arg_text(&a, be->token);
	r = q(txn,
	      "INSERT INTO pwb_change (seq, rec, request_id, commit_token) VALUES ($1, $2, $3, $4)",
	      &a, "pwb_change", NULL, err);
	if (r == 0)
		r = set_seq(txn, seq, err);
	if (r == 0)
		be->logged = true;
	return r;
}

static int pg_change_append(struct pwb_txn *txn, const void *rec, size_t len,
			    const char *request_id, uint64_t *seq, struct pwb_error *err)
{
	uint64_t next = be_of(txn)->seq + 1;
	int r;

	if ((r = write_only(txn, "change", err)) < 0)
		return r;
	if ((r = insert_change(txn, next, rec, len, request_id, err)) < 0)
		return r;
	*seq = next;
	return 0;
}

static int pg_change_put(struct pwb_txn *txn, uint64_t seq, const void *rec, size_t len,
			 struct pwb_error *err)
{
	uint64_t last = be_of(txn)->seq;
	int r;

	if ((r = write_only(txn, "change", err)) < 0)
		return r;
	if (seq <= last)
		return pwb_error_set(err, PWB_EINVAL,
				     "change %" PRIu64 ": not past the last (%" PRIu64 ")", seq,
				     last);
	return insert_change(txn, seq, rec, len, NULL, err);
}

static int pg_change_replace(struct pwb_txn *txn, uint64_t seq, const void *rec, size_t len,
			     struct pwb_error *err)
{
	struct args a = {0};

	arg_u64(&a, seq);
	arg_bytes(&a, rec, len);
	return q(txn, "UPDATE pwb_change SET rec = $2 WHERE seq = $1", &a, "pwb_change", NULL, err);
}

static int walk_changes(struct pwb_txn *txn, const char *sql, const struct args *a,
			pwb_be_change_cb cb, void *ctx, struct pwb_error *err)
{
	_cleanup_pq_ PGresult *res = NULL;
	int i, r;

	if ((r = q(txn, sql, a, "pwb_change", &res, err)) < 0)
		return r;
	for (i = 0; i < PQntuples(res); i++) {
		r = cb(col_u64(res, i, 0), PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1),
		       ctx, err);
		if (r != 0)
			return r;
	}
	return 0;
}

static int pg_change_foreach(struct pwb_txn *txn, uint64_t after, size_t limit, pwb_be_change_cb cb,
			     void *ctx, struct pwb_error *err)
{
	struct args a = {0};

	if (after >= INT64_MAX)
		return 0;
	arg_u64(&a, after);
	arg_u64(&a, limit);
	return walk_changes(txn,
			    "SELECT seq, rec FROM pwb_change WHERE seq > $1 ORDER BY seq "
			    "LIMIT NULLIF($2::bigint, 0)",
			    &a, cb, ctx, err);
}

static int pg_change_foreach_back(struct pwb_txn *txn, uint64_t before, size_t limit,
				  pwb_be_change_cb cb, void *ctx, struct pwb_error *err)
{
	struct args a = {0};

	arg_u64(&a, before);
	arg_u64(&a, limit);
	return walk_changes(txn,
			    "SELECT seq, rec FROM pwb_change WHERE $1::bigint = 0 OR seq < $1 "
			    "ORDER BY seq DESC LIMIT NULLIF($2::bigint, 0)",
			    &a, cb, ctx, err);
}

static int pg_change_first(struct pwb_txn *txn, uint64_t *seq, struct pwb_error *err)
{
	_cleanup_pq_ PGresult *res = NULL;
	int r;

	if ((r = q(txn, "SELECT min(seq) FROM pwb_change", NULL, "pwb_change", &res, err)) < 0)
		return r;
	if (!PQgetisnull(res, 0, 0)) {
		*seq = col_u64(res, 0, 0);
		return 0;
	}
	if ((r = pg_change_last(txn, seq, err)) < 0)
		return r;
	(*seq)++;
	return 0;
}

static int pg_change_by_request(struct pwb_txn *txn, const char *request_id, uint64_t *seq,
				struct pwb_error *err)
{
	_cleanup_pq_ PGresult *res = NULL;
	struct args a = {0};
	int r;

	if (!request_id || !*request_id)
		return PWB_ENOTFOUND;
	arg_text(&a, request_id);
	r = q(txn, "SELECT max(seq) FROM pwb_change WHERE request_id = $1", &a, "pwb_change", &res,
	      err);
	if (r < 0)
		return r;
	if (PQgetisnull(res, 0, 0))
		return PWB_ENOTFOUND;
	*seq = col_u64(res, 0, 0);
	return 0;
}

static int pg_change_trim(struct pwb_txn *txn, uint64_t upto, struct pwb_error *err)
{
	struct args a = {0};

	arg_u64(&a, upto);
	return q(txn, "DELETE FROM pwb_change WHERE seq <= $1", &a, "pwb_change", NULL, err);
}

static bool pg_id_used_elsewhere(struct pwb_txn *txn, char kind, uint32_t id)
{
	_cleanup_pq_ PGresult *res = NULL;
	struct args a = {0};
	char k[2] = {kind, '\0'};

	arg_text(&a, k);
	arg_u64(&a, id);
	return q(txn, "SELECT 1 FROM pwb_local_ids WHERE kind = $1 AND id = $2 LIMIT 1", &a,
		 "pwb_local_ids", &res, NULL) == 0 &&
	       PQntuples(res) > 0;
}

/* ---- cluster.h: outside the store's transactions ---- */

/* Runs body in a transaction of its own on cl (begin, body, commit). */
static int in_txn(struct pwb_store *cl, bool write,
		  int (*body)(struct pwb_txn *, void *, struct pwb_error *), void *ctx,
		  struct pwb_error *err)
{
	struct pwb_txn txn = {.st = cl};
	int r;

	if ((r = pg_begin(&txn, write, err)) < 0)
		return r;
	if ((r = body(&txn, ctx, err)) != 0) {
		pg_abort(&txn); /* an error, or a callback's stop value */
		return r;
	}
	return pg_commit(&txn, err);
}

static int read_state(struct pwb_txn *txn, struct pwb_cluster_state *s, struct pwb_error *err)
{
	_cleanup_pq_ PGresult *res = NULL;
	int r;

	memset(s, 0, sizeof(*s));
	r = q(txn, "SELECT schema::bigint, cluster_id::text, seq, horizon FROM pwb_counter", NULL,
	      "pwb_counter", &res, err);
	if (r < 0)
		return r;
	if (PQntuples(res) != 1)
		return pwb_error_set(err, PWB_ESTORE, "pwb_counter: no counter row");
	s->schema = (unsigned)col_u64(res, 0, 0);
	snprintf(s->cluster_id, sizeof(s->cluster_id), "%.*s", PQgetlength(res, 0, 1),
		 PQgetvalue(res, 0, 1));
	s->seq = col_u64(res, 0, 2);
	s->horizon = col_u64(res, 0, 3);
	return 0;
}

struct pull {
	uint64_t after;
	bool full;
	size_t max_changes;
	const struct pwb_cluster_pull_cb *cb;
	void *ctx;
	uint64_t *upto;
};

static bool replicated(enum pwb_dbi dbi)
{
	return dbi != DBI_META && dbi != DBI_CHANGE_REQUEST && dbi != DBI_CHANGES;
}

static int pull_body(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct pull *p = ctx;
	struct pwb_cluster_state s;
	struct args a = {0};
	uint64_t upto;
	int d, i, r;

	if ((r = read_state(txn, &s, err)) < 0)
		return r;
	if (p->cb->state && (r = p->cb->state(&s, p->ctx, err)) != 0)
		return r;
	arg_u64(&a, p->full ? 0 : p->after);
	for (d = 0; d < DBI_COUNT; d++) {
		_cleanup_pq_ PGresult *res = NULL;
		char t[64], sql[192];

		if (!replicated((enum pwb_dbi)d))
			continue;
		table((enum pwb_dbi)d, t);
		snprintf(sql, sizeof(sql),
			 "SELECT key, val, deleted FROM %s WHERE version > $1%s ORDER BY key, val",
			 t, p->full ? " AND NOT deleted" : "");
		if ((r = q(txn, sql, &a, t, &res, err)) < 0)
			return r;
		for (i = 0; p->cb->row && i < PQntuples(res); i++) {
			bool deleted = *PQgetvalue(res, i, 2) != 0;
			struct pwb_cluster_row row = {
			    .dbi = (enum pwb_dbi)d,
			    .key = PQgetvalue(res, i, 0),
			    .klen = (size_t)PQgetlength(res, i, 0),
			    .val = PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1),
			    .vlen = (size_t)PQgetlength(res, i, 1),
			    .deleted = deleted,
			};

			if (deleted && !pwb_dbi_is_set((enum pwb_dbi)d)) {
				row.val = NULL;
				row.vlen = 0;
			}
			if ((r = p->cb->row(&row, p->ctx, err)) != 0)
				return r;
		}
	}
	upto = s.seq;
	if (p->max_changes && p->after + p->max_changes < upto)
		upto = p->after + p->max_changes;
	*p->upto = upto;
	if (!p->cb->change || upto <= p->after)
		return 0;
	{
		struct args c = {0};

		arg_u64(&c, p->after);
		arg_u64(&c, upto);
		return walk_changes(txn,
				    "SELECT seq, rec FROM pwb_change WHERE seq > $1 AND seq <= $2 "
				    "ORDER BY seq",
				    &c, p->cb->change, p->ctx, err);
	}
}

static int pg_cluster_pull(struct pwb_store *cl, uint64_t after, bool full, size_t max_changes,
			   const struct pwb_cluster_pull_cb *cb, void *ctx, uint64_t *upto,
			   struct pwb_error *err)
{
	struct pull p = {after, full, max_changes, cb, ctx, upto};

	*upto = after;
	return in_txn(cl, false, pull_body, &p, err);
}

static int pg_cluster_fd(struct pwb_store *cl)
{
	struct pwb_backend *be = cl->be;

	return lost(be) ? -1 : PQsocket(be->conn);
}

static int pg_cluster_drain(struct pwb_store *cl, struct pwb_error *err)
{
	struct pwb_backend *be = cl->be;
	PGnotify *n;
	int got = 0;

	if (be->connecting) /* the attempt is connect_step's to finish or fail */
		return unavailable(be, err);
	if (lost(be) || !PQconsumeInput(be->conn) || lost(be)) {
		disconnect(be);
		return unavailable(be, err);
	}
	while ((n = PQnotifies(be->conn))) {
		got = 1;
		PQfreemem(n);
	}
	return got;
}

static int pg_cluster_connect(struct pwb_store *cl, struct pwb_error *err)
{
	return connect_db(cl->be, err);
}

static int pg_cluster_connect_start(struct pwb_store *cl, struct pwb_error *err)
{
	struct pwb_backend *be = cl->be;

	if (be->connecting || (be->conn && !lost(be)))
		return 0;
	return connect_start(be, err);
}

static int pg_cluster_connect_step(struct pwb_store *cl, int *fd, short *events,
				   struct pwb_error *err)
{
	return connect_step(cl->be, fd, events, err);
}

static bool pg_cluster_connecting(struct pwb_store *cl)
{
	return cl->be->connecting;
}

static bool pg_cluster_connected(struct pwb_store *cl)
{
	return !lost(cl->be);
}

static int state_body(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return read_state(txn, ctx, err);
}

static int pg_cluster_state(struct pwb_store *cl, struct pwb_cluster_state *out,
			    struct pwb_error *err)
{
	struct pwb_backend *be = cl->be;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = connect_db(be, err)) < 0)
		return r;
	if (be->schema == 0)
		return 0;
	return in_txn(cl, false, state_body, out, err);
}

/* ---- hosts ---- */

/* {1,2,3}: an array literal of ids. */
static char *id_array(const uint32_t *ids, size_t n)
{
	char *s = malloc(n * 11 + 3), *p;
	size_t i;

	if (!s)
		return NULL;
	p = s;
	*p++ = '{';
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s%u", i ? "," : "", ids[i]);
	*p++ = '}';
	*p = '\0';
	return s;
}

static int pg_cluster_report(struct pwb_store *cl, const struct pwb_cluster_host *self,
			     const uint32_t *uids, size_t nuids, const uint32_t *gids, size_t ngids,
			     struct pwb_error *err)
{
	struct pwb_backend *be = cl->be;
	_cleanup_free_ char *u = id_array(uids, nuids), *g = id_array(gids, ngids);
	_cleanup_pq_ PGresult *res = NULL;
	struct args a = {0};
	int r;

	if (!u || !g)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if ((r = connect_db(be, err)) < 0 || (r = need_schema(be, err)) < 0)
		return r;
	arg_text(&a, self->name);
	arg_text(&a, self->role);
	arg_u64(&a, self->applied);
	arg_text(&a, u);
	arg_text(&a, g);
	res = run(be, "SELECT pwb_host_report($1, $2, $3, $4::bigint[], $5::bigint[])", &a);
	if (!ok(res)) {
		struct pwb_txn t = {.st = cl};

		return sql_fail(&t, res, "pwb_host_report", err);
	}
	return 0;
}

static int pg_cluster_hosts(struct pwb_store *cl,
			    int (*cb)(const struct pwb_cluster_host *h, void *ctx), void *ctx,
			    struct pwb_error *err)
{
	struct pwb_backend *be = cl->be;
	_cleanup_pq_ PGresult *res = NULL;
	int i, r;

	if ((r = connect_db(be, err)) < 0 || (r = need_schema(be, err)) < 0)
		return r;
	res = run(be,
		  "SELECT name, role, applied, "
		  "extract(epoch FROM reported_at)::bigint FROM pwb_hosts ORDER BY name",
		  NULL);
	if (!ok(res)) {
		struct pwb_txn t = {.st = cl};

		return sql_fail(&t, res, "pwb_hosts", err);
	}
	for (i = 0; i < PQntuples(res); i++) {
		struct pwb_cluster_host h = {0};

		snprintf(h.name, sizeof(h.name), "%.*s", PQgetlength(res, i, 0),
			 PQgetvalue(res, i, 0));
		snprintf(h.role, sizeof(h.role), "%.*s", PQgetlength(res, i, 1),
			 PQgetvalue(res, i, 1));
		h.applied = col_u64(res, i, 2);
		h.reported_at = (int64_t)col_u64(res, i, 3);
		if ((r = cb(&h, ctx)) != 0)
			return r;
	}
	return 0;
}

/* ---- the schema and its migrations ---- */

/* Version 1's tables other than the kv tables (made from dbi.c's names). */
static const char schema_v1[] =
    "CREATE FUNCTION pwb_json(b bytea) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $f$ "
    "BEGIN RETURN convert_from(b, 'UTF8')::jsonb; "
    "EXCEPTION WHEN others THEN RETURN NULL; END $f$;"
    "CREATE TABLE pwb_counter (id boolean PRIMARY KEY DEFAULT true CHECK (id), "
    "  seq bigint NOT NULL DEFAULT 0, cluster_id uuid NOT NULL DEFAULT gen_random_uuid(), "
    "  horizon bigint NOT NULL DEFAULT 0, schema integer NOT NULL);"
    "CREATE TABLE pwb_change (seq bigint PRIMARY KEY, rec bytea NOT NULL, request_id text, "
    "  commit_token text, recorded_at timestamptz NOT NULL DEFAULT now(), "
    "  actor jsonb GENERATED ALWAYS AS (pwb_json(rec) -> 'actor') STORED);"
    "CREATE INDEX pwb_change_request ON pwb_change (request_id) WHERE request_id IS NOT NULL;"
    "CREATE INDEX pwb_change_token ON pwb_change (commit_token);"
    "CREATE TABLE pwb_hosts (name text PRIMARY KEY, role text NOT NULL, "
    "  applied bigint NOT NULL, reported_at timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE pwb_local_ids (host text NOT NULL REFERENCES pwb_hosts (name) "
    "  ON DELETE CASCADE, kind char(1) NOT NULL CHECK (kind IN ('u', 'g')), "
    "  id bigint NOT NULL, PRIMARY KEY (host, kind, id));"
    "CREATE INDEX pwb_local_ids_id ON pwb_local_ids (kind, id);"
    "CREATE UNIQUE INDEX pwb_users_live_name ON pwb_users ((pwb_json(val) ->> 'name')) "
    "  WHERE NOT deleted;"
    "CREATE UNIQUE INDEX pwb_users_live_uid ON pwb_users (((pwb_json(val) ->> 'uid')::bigint)) "
    "  WHERE NOT deleted;"
    "CREATE UNIQUE INDEX pwb_groups_live_name ON pwb_groups ((pwb_json(val) ->> 'name')) "
    "  WHERE NOT deleted;"
    "CREATE UNIQUE INDEX pwb_groups_live_gid ON pwb_groups "
    "  (((pwb_json(val) ->> 'gid')::bigint)) WHERE NOT deleted;";

/* The host report, SECURITY DEFINER with its schema pinned (%s twice). */
static const char report_fn[] =
    "CREATE FUNCTION pwb_host_report(p_name text, p_role text, p_applied bigint, "
    "  p_uids bigint[], p_gids bigint[]) RETURNS void LANGUAGE plpgsql SECURITY DEFINER "
    "  SET search_path = %s, pg_temp AS $f$ BEGIN "
    "  IF p_name !~ '^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$' OR p_role NOT IN ('writer', 'reader') "
    "  THEN RAISE EXCEPTION 'pwb_host_report: bad host name or role'; END IF; "
    "  INSERT INTO pwb_hosts (name, role, applied, reported_at) "
    "  VALUES (p_name, p_role, p_applied, now()) ON CONFLICT (name) DO UPDATE SET "
    "  role = excluded.role, applied = excluded.applied, reported_at = now(); "
    "  DELETE FROM pwb_local_ids WHERE host = p_name; "
    "  INSERT INTO pwb_local_ids (host, kind, id) SELECT DISTINCT p_name, 'u', x "
    "  FROM unnest(p_uids) AS x; "
    "  INSERT INTO pwb_local_ids (host, kind, id) SELECT DISTINCT p_name, 'g', x "
    "  FROM unnest(p_gids) AS x; END $f$;"
    "REVOKE ALL ON FUNCTION pwb_host_report(text, text, bigint, bigint[], bigint[]) "
    "  FROM PUBLIC;";

static int exec_sql(struct pwb_txn *txn, const char *sql, const char *what, struct pwb_error *err)
{
	PGresult *res = PQexec(be_of(txn)->conn, sql);
	int r = 0;

	if (!ok(res))
		r = sql_fail(txn, res, what, err);
	if (res)
		PQclear(res);
	return r;
}

static int migrate_to_1(struct pwb_txn *txn, struct pwb_error *err)
{
	_cleanup_pq_ PGresult *res = NULL;
	char sql[512], *schema;
	_cleanup_free_ char *fn = NULL;
	int d, r;

	for (d = 0; d < DBI_COUNT; d++) {
		char t[64];

		if (d == DBI_CHANGES || d == DBI_CHANGE_REQUEST)
			continue;
		table((enum pwb_dbi)d, t);
		snprintf(
		    sql, sizeof(sql),
		    "CREATE TABLE %s (key bytea NOT NULL, val bytea%s, version bigint NOT NULL, "
		    "deleted boolean NOT NULL DEFAULT false, PRIMARY KEY (key%s));"
		    "CREATE INDEX %s_version ON %s (version);",
		    t, pwb_dbi_is_set((enum pwb_dbi)d) ? " NOT NULL" : "",
		    pwb_dbi_is_set((enum pwb_dbi)d) ? ", val" : "", t, t);
		if ((r = exec_sql(txn, sql, t, err)) < 0)
			return r;
	}
	if ((r = exec_sql(txn, schema_v1, "schema", err)) < 0)
		return r;
	if ((r = q(txn, "SELECT quote_ident(current_schema())", NULL, "schema", &res, err)) < 0)
		return r;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
		return pwb_error_set(err, PWB_ESTORE, "no current schema in the DSN's database");
	if (!(schema = strndup(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0))))
		return pwb_error_set(err, -ENOMEM, "out of memory");
	r = asprintf(&fn, report_fn, schema);
	free(schema);
	if (r < 0)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return exec_sql(txn, fn, "pwb_host_report", err);
}

static int (*const migrations[SCHEMA_LATEST])(struct pwb_txn *, struct pwb_error *) = {
    migrate_to_1,
};

static int grant_reader(struct pwb_txn *txn, const char *role, struct pwb_error *err)
{
	struct pwb_backend *be = be_of(txn);
	char *ident, sql[1024];
	size_t i;
	int r;

	for (i = 0; role[i]; i++)
		if (!((role[i] >= 'a' && role[i] <= 'z') || role[i] == '_' ||
		      (i && role[i] >= '0' && role[i] <= '9')))
			break;
	if (!*role || role[i] || i > 63)
		return pwb_error_set(err, PWB_EINVAL, "reader role '%s': not a role name", role);
	if (!(ident = PQescapeIdentifier(be->conn, role, strlen(role))))
		return pwb_error_set(err, -ENOMEM, "out of memory");
	snprintf(
	    sql, sizeof(sql),
	    "DO $g$ DECLARE t text; BEGIN "
	    "EXECUTE 'GRANT USAGE ON SCHEMA ' || quote_ident(current_schema()) || ' TO %s'; "
	    "FOR t IN SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = "
	    "current_schema() AND tablename LIKE 'pwb\\_%%' LOOP "
	    "EXECUTE 'GRANT SELECT ON ' || t || ' TO %s'; END LOOP; END $g$;"
	    "GRANT EXECUTE ON FUNCTION pwb_host_report(text, text, bigint, bigint[], bigint[]) "
	    "TO %s;",
	    ident, ident, ident);
	PQfreemem(ident);
	r = exec_sql(txn, sql, "grant", err);
	return r;
}

struct admin {
	const char *reader_role;
	unsigned from, to;
};

static int run_migrations(struct pwb_txn *txn, struct admin *ad, struct pwb_error *err)
{
	struct args a = {0};
	unsigned v;
	int r;

	for (v = ad->from + 1; v <= SCHEMA_LATEST; v++)
		if ((r = migrations[v - 1](txn, err)) < 0)
			return r;
	arg_u64(&a, SCHEMA_LATEST);
	if (ad->from == 0)
		r = q(txn, "INSERT INTO pwb_counter (schema) VALUES ($1)", &a, "pwb_counter", NULL,
		      err);
	else
		r = q(txn, "UPDATE pwb_counter SET schema = $1", &a, "pwb_counter", NULL, err);
	if (r == 0)
		ad->to = SCHEMA_LATEST;
	return r;
}

/* DDL runs in a plain write transaction of its own (no counter yet). */
static int admin_txn(struct pwb_store *cl, struct admin *ad, struct pwb_error *err)
{
	struct pwb_backend *be = cl->be;
	struct pwb_txn txn = {.st = cl, .write = true};
	int r;

	if ((r = q(&txn, "BEGIN", NULL, "begin", NULL, err)) < 0)
		return r;
	/* one migrator at a time */
	r = q(&txn, "SELECT pg_advisory_xact_lock(7262730001)", NULL, "lock", NULL, err);
	if (r == 0 && (r = read_schema(be, err)) == 0 && be->schema != ad->from)
		r = pwb_error_set(err, PWB_ECONFLICT, "the schema changed meanwhile");
	if (r == 0)
		r = run_migrations(&txn, ad, err);
	if (r == 0 && ad->reader_role && *ad->reader_role)
		r = grant_reader(&txn, ad->reader_role, err);
	if (r < 0) {
		pg_abort(&txn);
		return r;
	}
	be->logged = false;
	if ((r = q(&txn, "COMMIT", NULL, "commit", NULL, err)) < 0)
		return r;
	be->schema = ad->to;
	return 0;
}

static int pg_cluster_init(struct pwb_store *cl, const char *reader_role, struct pwb_error *err)
{
	struct pwb_backend *be = cl->be;
	struct admin ad = {reader_role, 0, 0};
	int r;

	if ((r = connect_db(be, err)) < 0)
		return r;
	if (be->schema)
		return pwb_error_set(err, PWB_EEXIST,
				     "the cluster database at %s already has the pwb schema "
				     "(version %u)",
				     be->where, be->schema);
	return admin_txn(cl, &ad, err);
}

static int pg_cluster_migrate(struct pwb_store *cl, unsigned *from, unsigned *to,
			      struct pwb_error *err)
{
	struct pwb_backend *be = cl->be;
	struct admin ad = {NULL, 0, 0};
	int r;

	if ((r = connect_db(be, err)) < 0)
		return r;
	*from = *to = be->schema;
	if (be->schema == 0 || be->schema > SCHEMA_LATEST)
		return need_schema(be, err);
	if (be->schema == SCHEMA_LATEST)
		return 0;
	ad.from = be->schema;
	if ((r = admin_txn(cl, &ad, err)) < 0)
		return r;
	*to = ad.to;
	return 0;
}

static int pg_cluster_empty(struct pwb_txn *txn, struct pwb_error *err)
{
	_cleanup_pq_ PGresult *res = NULL;
	int d, r;

	if (be_of(txn)->seq != 0)
		return pwb_error_set(err, PWB_EEXIST,
				     "the cluster database is not empty (seq %" PRIu64 ")",
				     be_of(txn)->seq);
	for (d = 0; d < DBI_COUNT; d++) {
		char t[64], sql[128];

		if (!replicated((enum pwb_dbi)d))
			continue;
		table((enum pwb_dbi)d, t);
		snprintf(sql, sizeof(sql), "SELECT 1 FROM %s WHERE NOT deleted LIMIT 1", t);
		pqclear(&res);
		res = NULL;
		if ((r = q(txn, sql, NULL, t, &res, err)) < 0)
			return r;
		if (PQntuples(res) > 0)
			return pwb_error_set(err, PWB_EEXIST,
					     "the cluster database is not empty (%s)", t);
	}
	return 0;
}

static int prune_body(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	uint64_t upto = *(uint64_t *)ctx;
	struct args a = {0};
	int d, r;

	if (upto > be_of(txn)->seq)
		upto = be_of(txn)->seq;
	arg_u64(&a, upto);
	for (d = 0; d < DBI_COUNT; d++) {
		char t[64], sql[128];

		if (d == DBI_CHANGES || d == DBI_CHANGE_REQUEST)
			continue;
		table((enum pwb_dbi)d, t);
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE deleted AND version <= $1", t);
		if ((r = q(txn, sql, &a, t, NULL, err)) < 0)
			return r;
	}
	if ((r = q(txn, "DELETE FROM pwb_change WHERE seq <= $1", &a, "pwb_change", NULL, err)) < 0)
		return r;
	return q(txn, "UPDATE pwb_counter SET horizon = greatest(horizon, $1::bigint)", &a,
		 "pwb_counter", NULL, err);
}

static int pg_cluster_prune(struct pwb_store *cl, uint64_t upto, struct pwb_error *err)
{
	return in_txn(cl, true, prune_body, &upto, err);
}

__attribute__((visibility("default"))) const struct pwb_backend_ops pwb_store_pg_ops = {
    .abi = PWB_BACKEND_ABI,
    .size = sizeof(struct pwb_backend_ops),
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .verify = pg_verify,
    .begin = pg_begin,
    .commit = pg_commit,
    .abort = pg_abort,
    .should_retry = pg_should_retry,
    .repair = pg_repair,
    .kv_get = pg_kv_get,
    .kv_put = pg_kv_put,
    .kv_del = pg_kv_del,
    .kv_exists = pg_kv_exists,
    .kv_foreach = pg_kv_foreach,
    .kv_count = pg_kv_count,
    .kv_del_by_value = pg_kv_del_by_value,
    .dup_del = pg_dup_del,
    .dup_exists = pg_dup_exists,
    .dup_foreach = pg_dup_foreach,
    .counter_get = pg_counter_get,
    .counter_set = pg_counter_set,
    .change_append = pg_change_append,
    .change_foreach = pg_change_foreach,
    .change_foreach_back = pg_change_foreach_back,
    .change_last = pg_change_last,
    .change_first = pg_change_first,
    .change_by_request = pg_change_by_request,
    .change_trim = pg_change_trim,
    .change_put = pg_change_put,
    .change_replace = pg_change_replace,
    .id_used_elsewhere = pg_id_used_elsewhere,
    .cluster_pull = pg_cluster_pull,
    .cluster_fd = pg_cluster_fd,
    .cluster_drain = pg_cluster_drain,
    .cluster_connect = pg_cluster_connect,
    .cluster_connect_start = pg_cluster_connect_start,
    .cluster_connect_step = pg_cluster_connect_step,
    .cluster_connecting = pg_cluster_connecting,
    .cluster_connected = pg_cluster_connected,
    .cluster_report = pg_cluster_report,
    .cluster_hosts = pg_cluster_hosts,
    .cluster_init = pg_cluster_init,
    .cluster_migrate = pg_cluster_migrate,
    .cluster_empty = pg_cluster_empty,
    .cluster_prune = pg_cluster_prune,
    .cluster_state = pg_cluster_state,
};
