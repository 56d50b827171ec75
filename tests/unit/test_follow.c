/* Unit tests for lib/store/store_follow.c, without PostgreSQL: the
 * follower (pwb_follow_run) pulls from a fake source made of a real
 * Berkeley DB store's rows and change entries (as the cluster would
 * deliver them) plus rows written by hand (rogue records, tombstones),
 * and applies them into a second store, the replica, whose published
 * snapshot is then read back. */
#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backend.h"
#include "cleanup.h"
#include "cluster.h"
#include "log.h"
#include "store.h"
#include "testutil.h"

struct frow {
	struct pwb_cluster_row row;
	uint64_t version;
};

struct fchange {
	uint64_t seq;
	char *rec;
	size_t len;
};

struct fake {
	struct pwb_cluster_state state;
	struct frow *rows;
	size_t nrows;
	struct fchange *changes;
	size_t nchanges;
	unsigned pulls;
};

static struct test_store src, rep;
static struct fake fk;
static char nss[4096], logpath[4096];
static int saved_stderr = -1;

static void add_row(enum pwb_dbi dbi, const void *key, size_t klen, const void *val, size_t vlen,
		    bool deleted, uint64_t version)
{
	struct frow *f;

	fk.rows = realloc(fk.rows, (fk.nrows + 1) * sizeof(*fk.rows));
	ck_assert_ptr_nonnull(fk.rows);
	f = &fk.rows[fk.nrows++];
	f->row = (struct pwb_cluster_row){dbi,	memcpy(malloc(klen + 1), key, klen),
					  klen, val ? memcpy(calloc(1, vlen + 1), val, vlen) : NULL,
					  vlen, deleted};
	f->version = version;
}

struct capture {
	enum pwb_dbi dbi;
	uint64_t version;
};

static int capture_row(const void *key, size_t klen, const void *val, size_t vlen, void *ctx,
		       struct pwb_error *err)
{
	struct capture *c = ctx;

	(void)err;
	add_row(c->dbi, key, klen, val, vlen, false, c->version);
	return 0;
}

static int capture_change(uint64_t seq, const void *rec, size_t len, void *ctx,
			  struct pwb_error *err)
{
	(void)ctx;
	(void)err;
	if (fk.nchanges && fk.changes[fk.nchanges - 1].seq >= seq)
		return 0;
	fk.changes = realloc(fk.changes, (fk.nchanges + 1) * sizeof(*fk.changes));
	ck_assert_ptr_nonnull(fk.changes);
	fk.changes[fk.nchanges++] = (struct fchange){seq, memcpy(malloc(len), rec, len), len};
	return 0;
}

static int capture_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	uint64_t *version = ctx;
	int r = 0;

	*version = pwb_store_change_seq(txn);
	for (int dbi = 0; r == 0 && dbi < DBI_COUNT; dbi++) {
		struct capture c = {(enum pwb_dbi)dbi, *version};

		if (dbi != DBI_META && dbi != DBI_CHANGE_REQUEST && dbi != DBI_CHANGES)
			r = pwb_kv_foreach(txn, (enum pwb_dbi)dbi, capture_row, &c, err);
	}
	return r ?: pwb_be_change_foreach(txn, 0, 0, capture_change, NULL, err);
}

/* Everything the source store holds now, as rows of its current seq. */
static void capture(void)
{
	struct pwb_error err = {0};
	uint64_t version = 0;

	ck_assert_msg(pwb_store_read(src.st, capture_fn, &version, &err) == 0, "%s", err.msg);
	fk.state.seq = version;
}

static int fake_pull(void *s, uint64_t after, bool full, size_t max_changes,
		     const struct pwb_cluster_pull_cb *cb, void *ctx, uint64_t *upto,
		     struct pwb_error *err)
{
	struct fake *f = s;
	int r;

	f->pulls++;
	*upto = f->state.seq;
	if (max_changes && after + max_changes < *upto)
		*upto = after + max_changes;
	if ((r = cb->state(&f->state, ctx, err)) != 0)
		return r;
	for (size_t i = 0; i < f->nrows; i++)
		if (full ? !f->rows[i].row.deleted : f->rows[i].version > after)
			if ((r = cb->row(&f->rows[i].row, ctx, err)) != 0)
				return r;
	for (size_t i = 0; i < f->nchanges; i++)
		if (f->changes[i].seq > after && f->changes[i].seq <= *upto &&
		    f->changes[i].seq > f->state.horizon &&
		    (r = cb->change(f->changes[i].seq, f->changes[i].rec, f->changes[i].len, ctx,
				    err)) != 0)
			return r;
	return 0;
}

static void setup(void)
{
	char extra[4200];

	test_store_setup(&src, 20000, 29999, NULL);
	/* The homes the source made are under its own user-homedir-path. */
	snprintf(extra, sizeof(extra),
		 "cluster-host-name=replica1\nuser-homedir-allowed-roots=%s/home\n", src.dir);
	test_store_setup(&rep, 20000, 29999, extra);
	snprintf(nss, sizeof(nss), "%s/db/nss", rep.dir);
	memset(&fk, 0, sizeof(fk));
	snprintf(fk.state.cluster_id, sizeof(fk.state.cluster_id),
		 "0b9d3a52-5c44-4a57-9d8e-3c1f2a7b6e01");
	fk.state.schema = 1;
	/* The alerts go to stderr, here a file the tests read. */
	snprintf(logpath, sizeof(logpath), "%s/log", rep.dir);
	fflush(stderr);
	saved_stderr = dup(2);
	ck_assert_int_ge(dup2(open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600), 2), 0);
	pwb_log_init("test_follow", true, false);
}

static void teardown(void)
{
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	for (size_t i = 0; i < fk.nrows; i++) {
		free((void *)fk.rows[i].row.key);
		free((void *)fk.rows[i].row.val);
	}
	for (size_t i = 0; i < fk.nchanges; i++)
		free(fk.changes[i].rec);
	free(fk.rows);
	free(fk.changes);
	test_store_teardown(&src);
	test_store_teardown(&rep);
}

static void expect(const char *key, const char *want)
{
	char *got = test_snapshot_get(nss, 0, key);

	if (!want)
		ck_assert_msg(got == NULL, "%s: expected absent, got '%s'", key, got);
	else
		ck_assert_msg(got && strstr(got, want), "%s: expected '%s', got '%s'", key, want,
			      got ? got : "(absent)");
	free(got);
}

static void follow(size_t max_changes, struct pwb_follow_result *res)
{
	struct pwb_error err = {0};

	ck_assert_msg(
	    pwb_follow_run(rep.st, fake_pull, &fk, false, false, max_changes, res, &err) == 0, "%s",
	    err.msg);
}

static char *log_text(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	fflush(stderr);
	f = fopen(logpath, "re");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(getdelim(&text, &len, '\0', f), 0);
	fclose(f);
	return text;
}

struct member_ctx {
	const char *group, *user;
};

static int group_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct member_ctx *m = ctx;
	struct pwb_group g = {0};
	struct pwb_user u = {0};
	int r;

	if (pwb_group_get_by_name(txn, m->group, &g, NULL) == PWB_ENOTFOUND) {
		snprintf(g.name, sizeof(g.name), "%s", m->group);
		if ((r = pwb_group_create(txn, &g, err)) < 0)
			return r;
	}
	r = pwb_user_get_by_name(txn, m->user, &u, err);
	if (r == 0)
		r = pwb_member_add(txn, g.id, u.id, err);
	pwb_user_clear(&u);
	pwb_group_clear(&g);
	return r;
}

static void add_member(const char *group, const char *user)
{
	struct member_ctx m = {group, user};
	struct pwb_error err = {0};

	ck_assert_msg(pwb_store_write(src.st, group_fn, &m, &err) == 0, "%s", err.msg);
}

START_TEST(first_sync_is_full_and_publishes)
{
	struct pwb_follow_result res;
	struct pwb_follow_state fs;
	struct pwb_error err = {0};

	test_add_user(src.st, "alice");
	test_add_user(src.st, "bob");
	add_member("science", "alice");
	capture();
	follow(0, &res);
	ck_assert(res.full);
	ck_assert_uint_eq(res.applied, fk.state.seq);
	ck_assert_uint_eq(res.refused, 0);
	expect("p.alice", "alice:x:20000:20000:");
	expect("p.bob", "bob:x:20001:");
	expect("g.science", "science:x:20002:alice");
	ck_assert_int_eq(pwb_follow_state(rep.st, &fs, &err), 0);
	ck_assert_str_eq(fs.cluster_id, fk.state.cluster_id);
	ck_assert_uint_eq(fs.applied, fk.state.seq);
	ck_assert_int_gt(fs.applied_at, 0);
}
END_TEST

/* Incremental batches: each change entry lands in the replica's log under
 * its own seq, in order, and the publisher shows the result. */
START_TEST(batches_in_order)
{
	struct pwb_follow_result res;
	uint64_t first;
	unsigned before;

	test_add_user(src.st, "alice");
	capture();
	follow(0, &res);
	first = res.applied;
	test_add_user(src.st, "carol");
	test_add_user(src.st, "dave");
	add_member("ops", "carol");
	add_member("ops", "dave");
	capture();
	before = fk.pulls;
	follow(2, &res);
	ck_assert(!res.full);
	ck_assert_uint_eq(res.applied, fk.state.seq);
	ck_assert_uint_eq(res.changes, fk.state.seq - first);
	ck_assert_uint_ge(fk.pulls - before, (fk.state.seq - first + 1) / 2);
	expect("p.carol", "carol:x:");
	expect("p.dave", "dave:x:");
	expect("g.ops", "ops:x:");
}
END_TEST

static char *record_of(enum pwb_dbi dbi, const char *name_dbi_key)
{
	for (size_t i = fk.nrows; i-- > 0;)
		if (fk.rows[i].row.dbi == dbi && fk.rows[i].row.klen == strlen(name_dbi_key) &&
		    memcmp(fk.rows[i].row.key, name_dbi_key, fk.rows[i].row.klen) == 0)
			return strndup(fk.rows[i].row.val, fk.rows[i].row.vlen);
	return NULL;
}

/* A rogue user written straight into the database, by the rows a write
 * would make: every index row and a membership pair. */
static void rogue_user(const char *like, const char *name, const char *id, int uid, int gid,
		       const char *home, uint64_t version)
{
	_cleanup_free_ char *like_id = record_of(DBI_USER_NAME, like);
	_cleanup_free_ char *json = NULL, *text = NULL;
	json_t *o;
	unsigned char k[4] = {(unsigned char)(uid >> 24), (unsigned char)(uid >> 16),
			      (unsigned char)(uid >> 8), (unsigned char)uid};

	ck_assert_ptr_nonnull(like_id);
	json = record_of(DBI_USERS, like_id);
	o = json_loads(json, 0, NULL);
	ck_assert_ptr_nonnull(o);
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "userName", json_string(name));
	json_object_set_new(o, "uid", json_integer(uid));
	json_object_set_new(o, "gid", json_integer(gid));
	json_object_set_new(o, "home", json_string(home));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	add_row(DBI_USERS, id, strlen(id), text, strlen(text), false, version);
	add_row(DBI_USER_NAME, name, strlen(name), id, strlen(id), false, version);
	add_row(DBI_USER_UNAME, name, strlen(name), id, strlen(id), false, version);
	add_row(DBI_USER_UID, k, 4, id, strlen(id), false, version);
	add_row(DBI_USER_HOME, home, strlen(home), id, strlen(id), false, version);
}

START_TEST(rogue_rows_refused_and_logged)
{
	static const char *const ids[] = {"11111111-1111-4111-8111-111111111111",
					  "22222222-2222-4222-8222-222222222222",
					  "33333333-3333-4333-8333-333333333333"};
	_cleanup_free_ char *log = NULL, *science = NULL;
	struct pwb_follow_result res;
	uint64_t v;

	test_add_user(src.st, "alice");
	add_member("science", "alice");
	capture();
	follow(0, &res);
	science = record_of(DBI_GROUP_NAME, "science");
	v = ++fk.state.seq; /* one txn that wrote the rogue rows */
	rogue_user("alice", "mallory", ids[0], 20500, 27, "/home/mallory", v);
	rogue_user("alice", "eve", ids[1], 20501, 20501, "/etc", v);
	rogue_user("alice", "oscar", ids[2], 0, 20502, "/home/oscar", v);
	add_row(DBI_MEMBERS, science, strlen(science), ids[0], PWB_ID_LEN, false, v);
	add_row(DBI_MEMBER_OF, ids[0], PWB_ID_LEN, science, strlen(science), false, v);
	follow(0, &res);
	ck_assert_uint_eq(res.refused, 3);
	ck_assert_uint_eq(res.applied, v);
	log = log_text();
	ck_assert_msg(strstr(log, "host replica1 refused the replicated user mallory") &&
			  strstr(log, "primary gidNumber 27"),
		      "%s", log);
	ck_assert_msg(strstr(log, "user eve") && strstr(log, "/etc"), "%s", log);
	ck_assert_msg(strstr(log, "user oscar") && strstr(log, "uidNumber 0 is reserved"), "%s",
		      log);
	/* Nothing of them reached the replica, the membership pair included. */
	fk.state.seq++;
	add_row(DBI_USERS, "x", 1, "{}", 2, true, fk.state.seq); /* a no-op batch */
	follow(0, &res);
	expect("g.science", "science:x:20001:alice");
	{
		char *got = test_snapshot_get(nss, 0, "g.science");

		ck_assert_msg(got && !strstr(got, "mallory"), "%s", got);
		free(got);
	}
}
END_TEST

/* Tombstones delete keys; a membership tombstone removes only that pair. */
START_TEST(tombstones_delete)
{
	_cleanup_free_ char *ops = NULL, *carol = NULL, *erin = NULL, *got = NULL;
	struct pwb_follow_result res;
	uint64_t v;

	test_add_user(src.st, "carol");
	test_add_user(src.st, "dave");
	test_add_user(src.st, "erin");
	add_member("ops", "carol");
	add_member("ops", "dave");
	capture();
	follow(0, &res);
	expect("g.ops", "carol"); /* members in id order */
	expect("g.ops", "dave");
	expect("p.erin", "erin:x:20002:");
	ops = record_of(DBI_GROUP_NAME, "ops");
	carol = record_of(DBI_USER_NAME, "carol");
	erin = record_of(DBI_USER_NAME, "erin");
	v = ++fk.state.seq;
	add_row(DBI_MEMBERS, ops, strlen(ops), carol, strlen(carol), true, v);
	add_row(DBI_MEMBER_OF, carol, strlen(carol), ops, strlen(ops), true, v);
	add_row(DBI_USER_NAME, "erin", 4, NULL, 0, true, v);
	add_row(DBI_USERS, erin, strlen(erin), NULL, 0, true, v);
	follow(0, &res);
	/* No change entry named them: publish everything to read it back. */
	ck_assert_int_eq(pwb_store_publish_all(rep.st, &(struct pwb_error){0}), 0);
	got = test_snapshot_get(nss, 0, "g.ops");
	ck_assert_str_eq(got, "ops:x:20003:dave");
	expect("p.erin", NULL);
	expect("p.carol", "carol:x:20000:");
}
END_TEST

START_TEST(behind_or_other_cluster_refused_until_accept)
{
	struct pwb_follow_result res;
	struct pwb_error err = {0};

	test_add_user(src.st, "alice");
	test_add_user(src.st, "bob");
	capture();
	follow(0, &res);
	fk.state.seq--; /* a restore: the database lost the last change */
	ck_assert_int_eq(pwb_follow_run(rep.st, fake_pull, &fk, false, false, 0, &res, &err),
			 PWB_ECONFLICT);
	ck_assert_msg(strstr(err.msg, "behind this host") && strstr(err.msg, "cluster accept"),
		      "%s", err.msg);
	fk.state.seq++;
	memcpy(fk.state.cluster_id, "9", 1);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(pwb_follow_run(rep.st, fake_pull, &fk, false, false, 0, &res, &err),
			 PWB_ECONFLICT);
	ck_assert_msg(strstr(err.msg, "another cluster"), "%s", err.msg);
	fk.state.seq--;
	memset(&err, 0, sizeof(err));
	ck_assert_msg(pwb_follow_run(rep.st, fake_pull, &fk, false, true, 0, &res, &err) == 0, "%s",
		      err.msg);
	ck_assert(res.full);
	ck_assert_uint_eq(res.applied, fk.state.seq);
	expect("p.alice", "alice:x:");
}
END_TEST

/* A horizon past what the replica applied: the entries in between are
 * gone, so it resyncs fully. */
START_TEST(horizon_past_applied_resyncs)
{
	struct pwb_follow_result res;

	test_add_user(src.st, "alice");
	capture();
	follow(0, &res);
	test_add_user(src.st, "bob");
	test_add_user(src.st, "carol");
	capture();
	fk.state.horizon = fk.state.seq - 1;
	follow(0, &res);
	ck_assert(res.full);
	expect("p.carol", "carol:x:");
	expect("p.bob", "bob:x:");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("follow");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, first_sync_is_full_and_publishes);
	tcase_add_test(tc, batches_in_order);
	tcase_add_test(tc, rogue_rows_refused_and_logged);
	tcase_add_test(tc, tombstones_delete);
	tcase_add_test(tc, behind_or_other_cluster_refused_until_accept);
	tcase_add_test(tc, horizon_past_applied_resyncs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
