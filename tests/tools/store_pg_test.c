/* The PostgreSQL backend's semantics (backend.h, cluster.h) against a real
 * PostgreSQL: a Check driver run by tests/integration/store_pg.sh, which
 * starts the server (tests/lib/pg.sh) and passes it in the environment:
 *   PWB_PG_DSN_WRITER, PWB_PG_PW_WRITER   the writer's DSN and password file
 *   PWB_PG_DSN_READER, PWB_PG_PW_READER   the reader's
 *   PWB_PG_DSN_SEED                       an empty database for the seed test
 *   PWB_STORE_PG_MODULE                   the build tree's pwb_store_pg.so
 *   PWB_PG_BIN, PWB_PG_DSN_ADMIN          psql, and the superuser's DSN
 * Every test opens its own cluster store on one shared database, so each
 * works on keys of its own and compares sequences relative to its start. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "backend.h"
#include "cluster.h"
#include "store.h"
#include "internal/store_types.h"

static char tmpdir[] = "/tmp/pwb-store-pg.XXXXXX";

/* Writes a cluster config for dsn and loads it into *cfg: 0 or -1. */
static int try_cfg(struct pwb_config *cfg, const char *dsn, const char *pwfile,
		   struct pwb_error *err)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/pwb.conf", tmpdir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
		"db-dir=%s/db\nstore-backend=postgresql\nstore-dsn=%s\n"
		"store-password-file=%s\nstore-timeout=2\n",
		tmpdir, dsn, pwfile);
	fclose(f);
	memset(cfg, 0, sizeof(*cfg));
	return pwb_config_load(path, false, cfg, err);
}

static void load_cfg(struct pwb_config *cfg, const char *dsn, const char *pwfile)
{
	struct pwb_error err = {0};

	ck_assert_msg(try_cfg(cfg, dsn, pwfile, &err) == 0, "%s", err.msg);
}

static struct pwb_config cfg;

static struct pwb_store *open_as(const char *who)
{
	struct pwb_error err = {0};
	struct pwb_store *cl = NULL;
	char dsn[64], pw[64];

	snprintf(dsn, sizeof(dsn), "PWB_PG_DSN_%s", who);
	snprintf(pw, sizeof(pw), "PWB_PG_PW_%s", who);
	ck_assert_ptr_nonnull(getenv(dsn));
	load_cfg(&cfg, getenv(dsn), getenv(pw) ? getenv(pw) : getenv("PWB_PG_PW_WRITER"));
	ck_assert_msg(pwb_store_open_cluster(&cfg, &cl, &err) == 0, "%s", err.msg);
	ck_assert(pwb_cluster_connected(cl));
	return cl;
}

static struct pwb_store *open_writer(void)
{
	return open_as("WRITER");
}

/* ---- a write or read body given as a function of its own ---- */

typedef void (*body_fn)(struct pwb_txn *txn);

static int run_body(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	(*(body_fn *)ctx)(txn);
	return 0;
}

static void write_txn(struct pwb_store *cl, body_fn fn)
{
	struct pwb_error err = {0};

	ck_assert_msg(pwb_store_write(cl, run_body, &fn, &err) == 0, "%s", err.msg);
}

static void read_txn(struct pwb_store *cl, body_fn fn)
{
	struct pwb_error err = {0};

	ck_assert_msg(pwb_store_read(cl, run_body, &fn, &err) == 0, "%s", err.msg);
}

#define OK(call)                                                                                   \
	do {                                                                                       \
		struct pwb_error e_ = {0};                                                         \
		int r_ = (call);                                                                   \
		ck_assert_msg(r_ == 0, "%s: %d %s", #call, r_, e_.msg);                            \
	} while (0)
#define E (&e_)

/* ---- tables ---- */

static char walked[1024];

static int walk_one(const void *key, size_t klen, const void *val, size_t vlen, void *ctx,
		    struct pwb_error *err)
{
	const char *prefix = ctx;

	if (klen < strlen(prefix) || memcmp(key, prefix, strlen(prefix)) != 0)
		return 0;
	snprintf(walked + strlen(walked), sizeof(walked) - strlen(walked), "%.*s=%.*s;", (int)klen,
		 (const char *)key, (int)vlen, (const char *)val);
	return 0;
}

static void kv_write(struct pwb_txn *txn)
{
	OK(pwb_kv_put(txn, DBI_TOKENS, "kv.b", 4, "2", 1, E));
	OK(pwb_kv_put(txn, DBI_TOKENS, "kv.a", 4, "1", 1, E));
	OK(pwb_kv_put(txn, DBI_TOKENS, "kv.c", 4, "x", 1, E));
	OK(pwb_kv_put(txn, DBI_TOKENS, "kv.c", 4, "3", 1, E)); /* overwrite */
	OK(pwb_kv_put(txn, DBI_TOKENS, "kv.d", 4, "4", 1, E));
	OK(pwb_kv_del(txn, DBI_TOKENS, "kv.d", 4, E));
	OK(pwb_kv_del(txn, DBI_TOKENS, "kv.absent", 9, E)); /* idempotent */
}

static void kv_read(struct pwb_txn *txn)
{
	struct pwb_error err = {0};
	char *val = NULL;
	size_t vlen = 0;

	ck_assert_int_eq(pwb_kv_get(txn, DBI_TOKENS, "kv.c", 4, &val, &vlen, false, &err), 0);
	ck_assert_str_eq(val, "3");
	ck_assert_uint_eq(vlen, 1);
	free(val);
	ck_assert_int_eq(pwb_kv_get(txn, DBI_TOKENS, "kv.d", 4, &val, NULL, false, &err),
			 PWB_ENOTFOUND);
	ck_assert(pwb_kv_exists(txn, DBI_TOKENS, "kv.a", 4));
	ck_assert(!pwb_kv_exists(txn, DBI_TOKENS, "kv.d", 4)); /* a tombstone is invisible */
	walked[0] = '\0';
	OK(pwb_kv_foreach(txn, DBI_TOKENS, walk_one, "kv.", E));
	ck_assert_str_eq(walked, "kv.a=1;kv.b=2;kv.c=3;");
}

START_TEST(kv_get_put_del_foreach)
{
	struct pwb_store *cl = open_writer();

	write_txn(cl, kv_write);
	read_txn(cl, kv_read);
	pwb_store_close(cl);
}
END_TEST

/* Bytewise key order, as Berkeley DB's btree: 0x00 < 'a' < 0xff, a prefix first. */
static void order_write(struct pwb_txn *txn)
{
	OK(pwb_kv_put(txn, DBI_USER_EXT, "o\xff", 2, "3", 1, E));
	OK(pwb_kv_put(txn, DBI_USER_EXT, "oa", 2, "2", 1, E));
	OK(pwb_kv_put(txn, DBI_USER_EXT, "o", 1, "0", 1, E));
	OK(pwb_kv_put(txn, DBI_USER_EXT, "o\x01", 2, "1", 1, E));
}

static void order_read(struct pwb_txn *txn)
{
	uint64_t n = 0;

	walked[0] = '\0';
	OK(pwb_kv_foreach(txn, DBI_USER_EXT, walk_one, "o", E));
	ck_assert_str_eq(walked, "o=0;o\x01=1;oa=2;o\xff=3;");
	OK(pwb_kv_count(txn, DBI_USER_EXT, &n, E));
	ck_assert_uint_ge(n, 4);
}

START_TEST(foreach_is_in_bytewise_key_order)
{
	struct pwb_store *cl = open_writer();

	write_txn(cl, order_write);
	read_txn(cl, order_read);
	pwb_store_close(cl);
}
END_TEST

/* ---- membership sets ---- */

#define G1 "g0000000-0000-0000-0000-000000000001"
#define U1 "u0000000-0000-0000-0000-000000000001"
#define U2 "u0000000-0000-0000-0000-000000000002"
#define U3 "u0000000-0000-0000-0000-000000000003"

static int id_walk(const char *id, void *ctx)
{
	strcat(walked, id);
	strcat(walked, ";");
	return 0;
}

static void dup_write(struct pwb_txn *txn)
{
	OK(pwb_kv_put(txn, DBI_MEMBERS, G1, 36, U3, 36, E));
	OK(pwb_kv_put(txn, DBI_MEMBERS, G1, 36, U1, 36, E));
	OK(pwb_kv_put(txn, DBI_MEMBERS, G1, 36, U2, 36, E));
	OK(pwb_kv_put(txn, DBI_MEMBERS, G1, 36, U1, 36, E)); /* present: idempotent */
	OK(pwb_kv_dup_del(txn, DBI_MEMBERS, G1, 36, U2, 36, E));
	OK(pwb_kv_dup_del(txn, DBI_MEMBERS, G1, 36, U2, 36, E)); /* absent: idempotent */
}

static void dup_read(struct pwb_txn *txn)
{
	ck_assert(pwb_kv_dup_exists(txn, DBI_MEMBERS, G1, 36, U1, 36));
	ck_assert(!pwb_kv_dup_exists(txn, DBI_MEMBERS, G1, 36, U2, 36));
	walked[0] = '\0';
	OK(pwb_kv_dup_foreach(txn, DBI_MEMBERS, G1, 36, id_walk, NULL, E));
	ck_assert_str_eq(walked, U1 ";" U3 ";");
}

static void dup_del_all(struct pwb_txn *txn)
{
	OK(pwb_kv_del(txn, DBI_MEMBERS, G1, 36, E));
	ck_assert(!pwb_kv_dup_exists(txn, DBI_MEMBERS, G1, 36, U1, 36));
	/* re-adding a removed member revives it */
	OK(pwb_kv_put(txn, DBI_MEMBERS, G1, 36, U2, 36, E));
}

static void dup_read_after(struct pwb_txn *txn)
{
	walked[0] = '\0';
	OK(pwb_kv_dup_foreach(txn, DBI_MEMBERS, G1, 36, id_walk, NULL, E));
	ck_assert_str_eq(walked, U2 ";");
}

START_TEST(membership_sets)
{
	struct pwb_store *cl = open_writer();

	write_txn(cl, dup_write);
	read_txn(cl, dup_read);
	write_txn(cl, dup_del_all);
	read_txn(cl, dup_read_after);
	pwb_store_close(cl);
}
END_TEST

/* ---- counters ---- */

static void counter_body(struct pwb_txn *txn)
{
	uint64_t v = 0;

	OK(pwb_be_counter_get(txn, "test_counter", 42, &v, E));
	ck_assert_uint_eq(v, 42);
	OK(pwb_be_counter_set(txn, "test_counter", 43, E));
	OK(pwb_be_counter_get(txn, "test_counter", 42, &v, E));
	ck_assert_uint_eq(v, 43);
}

START_TEST(counters)
{
	struct pwb_store *cl = open_writer();

	write_txn(cl, counter_body);
	pwb_store_close(cl);
}
END_TEST

/* ---- the change log ---- */

static uint64_t base_seq, got_seq[16];
static size_t ngot;

static int change_walk(uint64_t seq, const void *rec, size_t len, void *ctx, struct pwb_error *err)
{
	if (ngot < 16)
		got_seq[ngot++] = seq;
	return 0;
}

static void log_append(struct pwb_txn *txn)
{
	uint64_t s1, s2, s3, last;

	OK(pwb_be_change_last(txn, &base_seq, E));
	OK(pwb_be_change_append(txn, "{\"n\":1}", 7, "req-a", &s1, E));
	OK(pwb_be_change_append(txn, "{\"n\":2}", 7, "req-b", &s2, E));
	OK(pwb_be_change_append(txn, "{\"n\":3}", 7, "req-a", &s3, E));
	ck_assert_uint_eq(s1, base_seq + 1);
	ck_assert_uint_eq(s3, base_seq + 3);
	OK(pwb_be_change_last(txn, &last, E));
	ck_assert_uint_eq(last, base_seq + 3);
}

static void log_read(struct pwb_txn *txn)
{
	struct pwb_error err = {0};
	uint64_t seq = 0, last = 0;

	OK(pwb_be_change_last(txn, &last, E));
	ck_assert_uint_ge(last, base_seq + 3);
	ngot = 0;
	OK(pwb_be_change_foreach(txn, base_seq, 2, change_walk, NULL, E));
	ck_assert_uint_eq(ngot, 2);
	ck_assert_uint_eq(got_seq[0], base_seq + 1);
	ck_assert_uint_eq(got_seq[1], base_seq + 2);
	ngot = 0;
	OK(pwb_be_change_foreach_back(txn, base_seq + 3, 0, change_walk, NULL, E));
	ck_assert_uint_ge(ngot, 2);
	ck_assert_uint_eq(got_seq[0], base_seq + 2);
	ck_assert_uint_eq(got_seq[1], base_seq + 1);
	OK(pwb_be_change_by_request(txn, "req-a", &seq, E));
	ck_assert_uint_eq(seq, base_seq + 3); /* the request's last change */
	ck_assert_int_eq(pwb_be_change_by_request(txn, "req-none", &seq, &err), PWB_ENOTFOUND);
}

static void log_replace_trim_put(struct pwb_txn *txn)
{
	struct pwb_error err = {0};
	uint64_t first = 0, last = 0;

	OK(pwb_be_change_replace(txn, base_seq + 2, "{\"n\":22}", 8, E));
	OK(pwb_be_change_trim(txn, base_seq + 1, E));
	OK(pwb_be_change_first(txn, &first, E));
	ck_assert_uint_eq(first, base_seq + 2);
	ck_assert_int_eq(pwb_be_change_put(txn, base_seq + 3, "{}", 2, &err), PWB_EINVAL);
	OK(pwb_be_change_put(txn, base_seq + 10, "{\"n\":10}", 8, E));
	OK(pwb_be_change_last(txn, &last, E));
	ck_assert_uint_eq(last, base_seq + 10); /* a gap stays */
}

static char replaced[64];

static int rec_walk(uint64_t seq, const void *rec, size_t len, void *ctx, struct pwb_error *err)
{
	if (seq == base_seq + 2)
		snprintf(replaced, sizeof(replaced), "%.*s", (int)len, (const char *)rec);
	return change_walk(seq, rec, len, ctx, err);
}

static void log_read_after(struct pwb_txn *txn)
{
	ngot = 0;
	OK(pwb_be_change_foreach(txn, base_seq, 0, rec_walk, NULL, E));
	ck_assert_uint_eq(ngot, 3);
	ck_assert_uint_eq(got_seq[2], base_seq + 10);
	ck_assert_str_eq(replaced, "{\"n\":22}");
}

START_TEST(change_log)
{
	struct pwb_store *cl = open_writer();

	write_txn(cl, log_append);
	read_txn(cl, log_read);
	write_txn(cl, log_replace_trim_put);
	read_txn(cl, log_read_after);
	pwb_store_close(cl);
}
END_TEST

/* An aborted transaction's sequence is handed out again: no gap. */
static int append_then_fail(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	uint64_t seq;

	OK(pwb_be_change_last(txn, &base_seq, E));
	OK(pwb_be_change_append(txn, "{}", 2, NULL, &seq, E));
	return pwb_error_set(err, PWB_EINVAL, "abort on purpose");
}

static void append_one(struct pwb_txn *txn)
{
	uint64_t seq;

	OK(pwb_be_change_append(txn, "{}", 2, NULL, &seq, E));
	ck_assert_uint_eq(seq, base_seq + 1);
}

START_TEST(aborted_append_leaves_no_gap)
{
	struct pwb_store *cl = open_writer();
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_store_write(cl, append_then_fail, NULL, &err), PWB_EINVAL);
	write_txn(cl, append_one);
	pwb_store_close(cl);
}
END_TEST

/* ---- the follower's pull, tombstones, prune ---- */

struct pulled {
	struct pwb_cluster_state state;
	char rows[2048];
	size_t changes;
	bool meta_seen;
};

static int pull_state(const struct pwb_cluster_state *s, void *ctx, struct pwb_error *err)
{
	((struct pulled *)ctx)->state = *s;
	return 0;
}

static int pull_row(const struct pwb_cluster_row *row, void *ctx, struct pwb_error *err)
{
	struct pulled *p = ctx;
	size_t n = strlen(p->rows);

	if (row->dbi == DBI_META || row->dbi == DBI_CHANGE_REQUEST)
		p->meta_seen = true;
	if (row->dbi != DBI_TOKEN_HASH)
		return 0;
	snprintf(p->rows + n, sizeof(p->rows) - n, "%.*s=%s;", (int)row->klen,
		 (const char *)row->key,
		 row->deleted ? "(deleted)"
		 : row->val   ? (const char *)row->val
			      : "(null)");
	return 0;
}

static int pull_change(uint64_t seq, const void *rec, size_t len, void *ctx, struct pwb_error *err)
{
	((struct pulled *)ctx)->changes++;
	return 0;
}

static int stop_state(const struct pwb_cluster_state *s, void *ctx, struct pwb_error *err)
{
	return pwb_error_set(err, PWB_ECONFLICT, "another cluster");
}

static const struct pwb_cluster_pull_cb pull_cb = {pull_state, pull_row, pull_change};

static void pull_write1(struct pwb_txn *txn)
{
	uint64_t seq;

	OK(pwb_be_change_last(txn, &base_seq, E));
	OK(pwb_kv_put(txn, DBI_TOKEN_HASH, "p.keep", 6, "v1", 2, E));
	OK(pwb_kv_put(txn, DBI_TOKEN_HASH, "p.gone", 6, "v2", 2, E));
	OK(pwb_kv_put(txn, DBI_META, "p.meta", 6, "m", 1, E));
	OK(pwb_be_change_append(txn, "{}", 2, NULL, &seq, E));
}

static void pull_write2(struct pwb_txn *txn)
{
	uint64_t seq;

	OK(pwb_kv_del(txn, DBI_TOKEN_HASH, "p.gone", 6, E));
	OK(pwb_be_change_append(txn, "{}", 2, NULL, &seq, E));
	OK(pwb_be_change_append(txn, "{}", 2, NULL, &seq, E));
}

START_TEST(pull_rows_changes_tombstones_prune)
{
	struct pwb_store *cl = open_writer();
	struct pwb_error err = {0};
	struct pwb_cluster_state st;
	struct pulled p;
	uint64_t upto = 0, after1;

	write_txn(cl, pull_write1);
	after1 = base_seq + 1;
	write_txn(cl, pull_write2);

	memset(&p, 0, sizeof(p));
	ck_assert_msg(pwb_cluster_pull(cl, base_seq, false, 0, &pull_cb, &p, &upto, &err) == 0,
		      "%s", err.msg);
	ck_assert_uint_eq(upto, base_seq + 3);
	ck_assert_uint_eq(p.state.seq, base_seq + 3);
	ck_assert_uint_eq(p.state.schema, 1);
	ck_assert_uint_eq(strlen(p.state.cluster_id), 36);
	ck_assert_uint_eq(p.changes, 3);
	ck_assert_msg(strstr(p.rows, "p.keep=v1;") && strstr(p.rows, "p.gone=(deleted);"), "%s",
		      p.rows);
	ck_assert(!p.meta_seen);

	/* after the first write: only what the second changed */
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(pwb_cluster_pull(cl, after1, false, 1, &pull_cb, &p, &upto, &err), 0);
	ck_assert_uint_eq(upto, after1 + 1); /* max_changes */
	ck_assert_uint_eq(p.changes, 1);
	ck_assert_msg(!strstr(p.rows, "p.keep") && strstr(p.rows, "p.gone=(deleted);"), "%s",
		      p.rows);

	/* the state callback's non-zero return stops the pull and is returned */
	{
		struct pwb_cluster_pull_cb stop = {stop_state, pull_row, pull_change};

		memset(&p, 0, sizeof(p));
		ck_assert_int_eq(pwb_cluster_pull(cl, base_seq, false, 0, &stop, &p, &upto, &err),
				 PWB_ECONFLICT);
		ck_assert_uint_eq(p.changes, 0);
	}

	/* a full pull: live rows only */
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(pwb_cluster_pull(cl, base_seq, true, 0, &pull_cb, &p, &upto, &err), 0);
	ck_assert_msg(strstr(p.rows, "p.keep=v1;") && !strstr(p.rows, "p.gone"), "%s", p.rows);

	/* prune: tombstones and entries up to there go, the horizon rises */
	ck_assert_msg(pwb_cluster_prune(cl, base_seq + 2, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(pwb_cluster_state(cl, &st, &err), 0);
	ck_assert_uint_ge(st.horizon, base_seq + 2);
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(pwb_cluster_pull(cl, base_seq, false, 0, &pull_cb, &p, &upto, &err), 0);
	ck_assert_msg(!strstr(p.rows, "p.gone"), "%s", p.rows);
	ck_assert_uint_eq(p.changes, 1);
	pwb_store_close(cl);
}
END_TEST

/* ---- the unique backstop ---- */

static void dup_uid_write(struct pwb_txn *txn)
{
	OK(pwb_kv_put(txn, DBI_USERS, "b-user-1", 8, "{\"name\":\"bsa\",\"uid\":777001}", 27, E));
}

static int dup_uid_again(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_kv_put(txn, DBI_USERS, "b-user-2", 8, "{\"name\":\"bsb\",\"uid\":777001}", 27,
			  err);
}

static int dup_name_again(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_kv_put(txn, DBI_USERS, "b-user-3", 8, "{\"name\":\"bsa\",\"uid\":777003}", 27,
			  err);
}

static void del_user1(struct pwb_txn *txn)
{
	OK(pwb_kv_del(txn, DBI_USERS, "b-user-1", 8, E));
}

START_TEST(unique_backstop_refuses_duplicate_live_uid_and_name)
{
	struct pwb_store *cl = open_writer();
	struct pwb_error err = {0};

	write_txn(cl, dup_uid_write);
	ck_assert_int_eq(pwb_store_write(cl, dup_uid_again, NULL, &err), PWB_EEXIST);
	ck_assert_int_eq(pwb_store_write(cl, dup_name_again, NULL, &err), PWB_EEXIST);
	/* a deleted user's uid no longer collides (the rules retire it) */
	write_txn(cl, del_user1);
	ck_assert_msg(pwb_store_write(cl, dup_uid_again, NULL, &err) == 0, "%s", err.msg);
	pwb_store_close(cl);
}
END_TEST

/* ---- concurrent writers: serialised, gap-free ---- */

#define WRITES 40

static int append_rec(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	uint64_t seq;

	return pwb_be_change_append(txn, ctx, strlen(ctx), NULL, &seq, err);
}

static uint64_t last_seq(struct pwb_store *cl)
{
	struct pwb_cluster_state st;
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_cluster_state(cl, &st, &err), 0);
	return st.seq;
}

START_TEST(concurrent_writers_are_serialised_gap_free)
{
	struct pwb_store *cl = open_writer();
	uint64_t start = last_seq(cl), i;
	pid_t pid[2];
	int k, status;

	pwb_store_close(cl);
	for (k = 0; k < 2; k++) {
		pid[k] = fork();
		ck_assert_int_ge(pid[k], 0);
		if (pid[k] == 0) {
			struct pwb_error err = {0};
			struct pwb_store *c = NULL;
			const char *rec = k ? "{\"w\":1}" : "{\"w\":0}";

			if (pwb_store_open_cluster(&cfg, &c, &err) < 0)
				_exit(2);
			for (i = 0; i < WRITES; i++)
				if (pwb_store_write(c, append_rec, (void *)rec, &err) < 0)
					_exit(3);
			pwb_store_close(c);
			_exit(0);
		}
	}
	for (k = 0; k < 2; k++) {
		ck_assert_int_eq(waitpid(pid[k], &status, 0), pid[k]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d: %d", k,
			      status);
	}
	cl = open_writer();
	ck_assert_uint_eq(last_seq(cl), start + 2 * WRITES);
	{
		struct pulled p;
		struct pwb_error err = {0};
		uint64_t upto;

		memset(&p, 0, sizeof(p));
		ck_assert_int_eq(pwb_cluster_pull(cl, start, false, 0, &pull_cb, &p, &upto, &err),
				 0);
		ck_assert_uint_eq(p.changes, 2 * WRITES); /* every seq in between, once */
	}
	pwb_store_close(cl);
}
END_TEST

/* ---- a lost connection: the next write reconnects and runs again ---- */

START_TEST(lost_connection_reconnects)
{
	struct pwb_store *cl = open_writer();
	struct pwb_error err = {0};
	uint64_t before, retries;
	char *cmd = NULL;

	ck_assert_int_eq(pwb_store_write(cl, append_rec, "{}", &err), 0);
	before = last_seq(cl);
	/* the server ends every pwb_writer session (ours included) */
	ck_assert_int_ge(asprintf(&cmd,
				  "env -u LD_PRELOAD -u LD_LIBRARY_PATH '%s/psql' '%s' -XAtqc "
				  "\"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
				  "usename = 'pwb_writer'\" >/dev/null",
				  getenv("PWB_PG_BIN"), getenv("PWB_PG_DSN_ADMIN")),
			 0);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	retries = pwb_store_retries();
	ck_assert_msg(pwb_store_write(cl, append_rec, "{}", &err) == 0, "%s", err.msg);
	ck_assert_uint_gt(pwb_store_retries(), retries); /* it was lost, then re-run */
	ck_assert(pwb_cluster_connected(cl));
	ck_assert_uint_eq(last_seq(cl), before + 1); /* once, not twice */
	pwb_store_close(cl);
}
END_TEST

/* ---- hosts and the ids other hosts use ---- */

static void elsewhere_body(struct pwb_txn *txn)
{
	ck_assert(pwb_be_id_used_elsewhere(txn, 'u', 61001));
	ck_assert(pwb_be_id_used_elsewhere(txn, 'g', 61002));
	ck_assert(!pwb_be_id_used_elsewhere(txn, 'u', 61002));
}

static int host_seen;

static int host_cb(const struct pwb_cluster_host *h, void *ctx)
{
	if (!strcmp(h->name, "host-b") && !strcmp(h->role, "reader") && h->applied == 7 &&
	    h->reported_at > 0)
		host_seen = 1;
	return 0;
}

START_TEST(host_report_and_ids_used_elsewhere)
{
	struct pwb_store *cl = open_as("READER"); /* the reader's role may report */
	struct pwb_cluster_host self = {"host-b", "reader", 7, 0};
	uint32_t uids[] = {61001, 61001}, gids[] = {61002};
	struct pwb_error err = {0};

	ck_assert_msg(pwb_cluster_report(cl, &self, uids, 2, gids, 1, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(pwb_cluster_hosts(cl, host_cb, NULL, &err), 0);
	ck_assert(host_seen);
	/* but not write a table */
	ck_assert_int_ne(pwb_store_write(cl, append_rec, "{}", &err), 0);
	pwb_store_close(cl);
	cl = open_writer();
	write_txn(cl, elsewhere_body);
	pwb_store_close(cl);
}
END_TEST

/* ---- opening ---- */

START_TEST(unreachable_database_opens_disconnected)
{
	struct pwb_error err = {0};
	struct pwb_store *cl = NULL;
	uint64_t retries;

	load_cfg(&cfg, "host=127.0.0.1 port=1 dbname=pwb user=pwb_writer connect_timeout=2",
		 getenv("PWB_PG_PW_WRITER"));
	ck_assert_msg(pwb_store_open_cluster(&cfg, &cl, &err) == 0, "%s", err.msg);
	ck_assert(!pwb_cluster_connected(cl));
	ck_assert_int_eq(pwb_cluster_fd(cl), -1);
	retries = pwb_store_retries();
	ck_assert_int_eq(pwb_store_write(cl, append_rec, "{}", &err), PWB_EUNAVAIL);
	ck_assert_msg(strstr(err.msg, "127.0.0.1:1"), "%s", err.msg);
	/* the write kept trying for store-timeout before giving up */
	ck_assert_uint_gt(pwb_store_retries(), retries);
	ck_assert_int_eq(pwb_cluster_connect(cl, &err), PWB_EUNAVAIL);
	pwb_store_close(cl);
}
END_TEST

/* A server that accepts TCP and never answers: a listening socket on
 * 127.0.0.1 nobody accepts from. Returns it; its port in *port. */
static int silent_server(unsigned *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(ls, 0);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(ls, 8), 0);
	ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return ls;
}

/* The bounded connect of cl gives up at store-timeout (2 s here), naming
 * the silent server at port. */
static void connect_gets_no_answer(struct pwb_store *cl, unsigned port)
{
	struct pwb_error err = {0};
	char where[32];

	snprintf(where, sizeof(where), "127.0.0.1:%u", port);
	ck_assert_int_eq(pwb_cluster_connect(cl, &err), PWB_EUNAVAIL);
	ck_assert_msg(strstr(err.msg, where) && strstr(err.msg, "no answer within 2 s"), "%s",
		      err.msg);
}

/* A silent server: an attempt is driven without waiting, and the bounded
 * connect gives up at store-timeout (2 s here) saying so. */
START_TEST(silent_database_connects_without_waiting)
{
	struct pwb_error err = {0};
	struct pwb_store *cl = NULL;
	unsigned port;
	int ls = silent_server(&port);
	char dsn[128];
	short events = 0;
	int fd = -1;

	snprintf(dsn, sizeof(dsn),
		 "host=127.0.0.1 port=%u dbname=pwb user=pwb_writer sslmode=disable", port);
	load_cfg(&cfg, dsn, getenv("PWB_PG_PW_WRITER"));
	ck_assert_msg(pwb_store_open_cluster_nowait(&cfg, &cl, &err) == 0, "%s", err.msg);
	ck_assert(!pwb_cluster_connected(cl) && !pwb_cluster_connecting(cl));
	ck_assert_int_eq(pwb_cluster_connect_start(cl, &err), 0);
	ck_assert(pwb_cluster_connecting(cl));
	/* the startup packet goes out; then it waits to read, and says so */
	for (int i = 0; i < 10 && events != POLLIN; i++) {
		ck_assert_int_eq(pwb_cluster_connect_step(cl, &fd, &events, &err), 1);
		ck_assert_int_ge(fd, 0);
		(void)poll(&(struct pollfd){.fd = fd, .events = events}, 1, 50);
	}
	ck_assert_int_eq(events, POLLIN);
	ck_assert(!pwb_cluster_connected(cl));
	ck_assert_int_eq(pwb_cluster_fd(cl), -1);
	ck_assert_int_eq(pwb_cluster_drain(cl, &err), PWB_EUNAVAIL);
	ck_assert(pwb_cluster_connecting(cl)); /* a drain leaves the attempt alone */
	/* the bounded form carries that attempt on until its deadline */
	connect_gets_no_answer(cl, port);
	ck_assert(!pwb_cluster_connecting(cl) && !pwb_cluster_connected(cl));
	pwb_store_close(cl);
	close(ls);
}
END_TEST

/* A DSN naming two hosts, the first silent: an attempt tries one host, and
 * after the first one's store-timeout the next attempt tries the second
 * (a non-blocking attempt has no connect_timeout to move libpq on). */
START_TEST(host_list_moves_past_a_silent_host)
{
	struct pwb_error err = {0};
	struct pwb_store *cl = NULL;
	unsigned port;
	int ls = silent_server(&port);
	char dsn[256];

	snprintf(dsn, sizeof(dsn),
		 "host=127.0.0.1,127.0.0.1 port=%u,%s dbname=pwb user=pwb_writer sslmode=disable",
		 port, getenv("PWB_PG_PORT"));
	load_cfg(&cfg, dsn, getenv("PWB_PG_PW_WRITER"));
	ck_assert_msg(pwb_store_open_cluster_nowait(&cfg, &cl, &err) == 0, "%s", err.msg);
	connect_gets_no_answer(cl, port);
	ck_assert_msg(pwb_cluster_connect(cl, &err) == 0, "%s", err.msg);
	ck_assert(pwb_cluster_connected(cl));
	pwb_store_close(cl);
	close(ls);
}
END_TEST

static int sockopt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	ck_assert_int_eq(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

/* Keepalives and tcp_user_timeout = store-timeout on every connection,
 * unless the DSN sets its own. */
START_TEST(keepalives_unless_the_dsn_says_otherwise)
{
	struct pwb_error err = {0};
	struct pwb_store *cl = open_as("WRITER");
	char dsn[512];
	int fd = pwb_cluster_fd(cl);

	ck_assert_int_eq(sockopt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
	ck_assert_int_eq(sockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE), 2);
	ck_assert_int_eq(sockopt(fd, IPPROTO_TCP, TCP_KEEPCNT), 3);
	ck_assert_int_eq(sockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 2000);
	pwb_store_close(cl);
	cl = NULL;
	snprintf(dsn, sizeof(dsn), "%s keepalives_idle=7 tcp_user_timeout=12345",
		 getenv("PWB_PG_DSN_WRITER"));
	load_cfg(&cfg, dsn, getenv("PWB_PG_PW_WRITER"));
	ck_assert_msg(pwb_store_open_cluster(&cfg, &cl, &err) == 0, "%s", err.msg);
	fd = pwb_cluster_fd(cl);
	ck_assert_int_eq(sockopt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
	ck_assert_int_eq(sockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE), 7);
	ck_assert_int_eq(sockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 12345);
	pwb_store_close(cl);
	cl = NULL;
	/* (libpq then sets no tcp_user_timeout either) */
	snprintf(dsn, sizeof(dsn), "%s keepalives=0", getenv("PWB_PG_DSN_WRITER"));
	load_cfg(&cfg, dsn, getenv("PWB_PG_PW_WRITER"));
	ck_assert_msg(pwb_store_open_cluster(&cfg, &cl, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(sockopt(pwb_cluster_fd(cl), SOL_SOCKET, SO_KEEPALIVE), 0);
	pwb_store_close(cl);
}
END_TEST

START_TEST(password_file_must_be_private)
{
	struct pwb_error err = {0};
	struct pwb_store *cl = NULL;
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/open.pw", tmpdir);
	f = fopen(path, "w");
	fputs("secret-value\n", f);
	fclose(f);
	chmod(path, 0644);
	load_cfg(&cfg, getenv("PWB_PG_DSN_WRITER"), path);
	ck_assert_int_eq(pwb_store_open_cluster(&cfg, &cl, &err), PWB_ECONFIG);
	ck_assert_msg(strstr(err.msg, path) && !strstr(err.msg, "secret-value"), "%s", err.msg);
}
END_TEST

START_TEST(password_in_dsn_is_refused)
{
	struct pwb_error err = {0};
	struct pwb_store *cl = NULL;

	load_cfg(&cfg, "host=127.0.0.1 dbname=pwb password=in-the-dsn", getenv("PWB_PG_PW_WRITER"));
	ck_assert_int_eq(pwb_store_open_cluster(&cfg, &cl, &err), PWB_ECONFIG);
	ck_assert_msg(strstr(err.msg, "store-password-file") && !strstr(err.msg, "in-the-dsn"),
		      "%s", err.msg);
}
END_TEST

START_TEST(missing_module_is_named)
{
	struct pwb_error err = {0};
	struct pwb_store *cl = NULL;

	setenv("PWB_STORE_PG_MODULE", "/nonexistent/pwb_store_pg.so", 1);
	load_cfg(&cfg, getenv("PWB_PG_DSN_WRITER"), getenv("PWB_PG_PW_WRITER"));
	ck_assert_int_eq(pwb_store_open_cluster(&cfg, &cl, &err), PWB_ECONFIG);
	ck_assert_msg(strstr(err.msg, "/nonexistent/pwb_store_pg.so"), "%s", err.msg);
}
END_TEST

START_TEST(init_twice_is_refused)
{
	struct pwb_store *cl = open_writer();
	struct pwb_error err = {0};
	unsigned from = 0, to = 0;

	ck_assert_int_eq(pwb_cluster_init(cl, NULL, &err), PWB_EEXIST);
	ck_assert_int_eq(pwb_cluster_migrate(cl, &from, &to, &err), 0);
	ck_assert_uint_eq(from, 1);
	ck_assert_uint_eq(to, 1);
	pwb_store_close(cl);
}
END_TEST

/* ---- seeding from a local Berkeley DB store ---- */

static void local_write(struct pwb_txn *txn)
{
	uint64_t seq;

	OK(pwb_kv_put(txn, DBI_TOKENS, "seed.t", 6, "tok", 3, E));
	OK(pwb_kv_put(txn, DBI_MEMBERS, G1, 36, U1, 36, E));
	OK(pwb_kv_put(txn, DBI_META, "cursor.x", 8, "5", 1, E));
	OK(pwb_be_change_append(txn, "{\"s\":1}", 7, "r1", &seq, E));
	OK(pwb_be_change_append(txn, "{\"s\":2}", 7, "r2", &seq, E));
}

static void seeded_read(struct pwb_txn *txn)
{
	char *val = NULL;
	uint64_t last = 0;
	struct pwb_error err = {0};

	OK(pwb_kv_get(txn, DBI_TOKENS, "seed.t", 6, &val, NULL, false, E));
	ck_assert_str_eq(val, "tok");
	free(val);
	ck_assert(pwb_kv_dup_exists(txn, DBI_MEMBERS, G1, 36, U1, 36));
	ck_assert_int_eq(pwb_kv_get(txn, DBI_META, "cursor.x", 8, &val, NULL, false, &err),
			 PWB_ENOTFOUND);
	OK(pwb_be_change_last(txn, &last, E));
	ck_assert_uint_eq(last, 2);
}

START_TEST(seed_from_local)
{
	struct pwb_config lcfg;
	struct pwb_store *local = NULL, *cl;
	struct pwb_error err = {0};
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/local.conf", tmpdir);
	f = fopen(path, "w");
	fprintf(f, "db-dir=%s/local\n", tmpdir);
	fclose(f);
	memset(&lcfg, 0, sizeof(lcfg));
	ck_assert_msg(pwb_config_load(path, false, &lcfg, &err) == 0, "%s", err.msg);
	ck_assert_msg(pwb_store_open(&lcfg, &local, &err) == 0, "%s", err.msg);
	write_txn(local, local_write);

	load_cfg(&cfg, getenv("PWB_PG_DSN_SEED"), getenv("PWB_PG_PW_WRITER"));
	ck_assert_msg(pwb_store_open_cluster(&cfg, &cl, &err) == 0, "%s", err.msg);
	ck_assert_msg(pwb_cluster_init(cl, "pwb_reader", &err) == 0, "%s", err.msg);
	ck_assert_msg(pwb_cluster_seed(cl, local, &err) == 0, "%s", err.msg);
	read_txn(cl, seeded_read);
	ck_assert_int_eq(pwb_cluster_seed(cl, local, &err), PWB_EEXIST); /* not empty now */
	pwb_store_close(cl);
	pwb_store_close(local);
}
END_TEST

int main(void)
{
	struct pwb_error err = {0};
	struct pwb_store *cl = NULL;
	Suite *s = suite_create("store_pg");
	TCase *tc = tcase_create("store_pg");
	SRunner *sr;
	int failed;

	if (!getenv("PWB_PG_DSN_WRITER") || !mkdtemp(tmpdir)) {
		fprintf(stderr, "store_pg_test: run by tests/integration/store_pg.sh\n");
		return 2;
	}
	/* the schema, once, with the reader granted */
	if (try_cfg(&cfg, getenv("PWB_PG_DSN_WRITER"), getenv("PWB_PG_PW_WRITER"), &err) < 0 ||
	    pwb_store_open_cluster(&cfg, &cl, &err) < 0 ||
	    pwb_cluster_init(cl, "pwb_reader", &err) < 0) {
		fprintf(stderr, "store_pg_test: %s\n", err.msg);
		return 2;
	}
	pwb_store_close(cl);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, kv_get_put_del_foreach);
	tcase_add_test(tc, foreach_is_in_bytewise_key_order);
	tcase_add_test(tc, membership_sets);
	tcase_add_test(tc, counters);
	tcase_add_test(tc, change_log);
	tcase_add_test(tc, aborted_append_leaves_no_gap);
	tcase_add_test(tc, pull_rows_changes_tombstones_prune);
	tcase_add_test(tc, unique_backstop_refuses_duplicate_live_uid_and_name);
	tcase_add_test(tc, concurrent_writers_are_serialised_gap_free);
	tcase_add_test(tc, lost_connection_reconnects);
	tcase_add_test(tc, host_report_and_ids_used_elsewhere);
	tcase_add_test(tc, unreachable_database_opens_disconnected);
	tcase_add_test(tc, silent_database_connects_without_waiting);
	tcase_add_test(tc, host_list_moves_past_a_silent_host);
	tcase_add_test(tc, keepalives_unless_the_dsn_says_otherwise);
	tcase_add_test(tc, password_file_must_be_private);
	tcase_add_test(tc, password_in_dsn_is_refused);
	tcase_add_test(tc, missing_module_is_named);
	tcase_add_test(tc, init_twice_is_refused);
	tcase_add_test(tc, seed_from_local);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
