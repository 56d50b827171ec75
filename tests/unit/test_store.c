/* Unit tests for the store (lib/store*.c): records, uniqueness, ids,
 * memberships, tokens, concurrency and crash recovery. */
#include <check.h>
#include <pwd.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "store.h"
#include "testutil.h"
#include "token.h"

static struct test_store ts;

static void setup(void)
{
	test_store_setup(&ts, 20000, 29999, NULL);
}

static void teardown(void)
{
	test_store_teardown(&ts);
}

/* ---- small transaction bodies ---- */

struct user_op {
	struct pwb_user u;
	const char *lookup;
	int which;
};

static int create_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct pwb_user *u = ctx;

	return pwb_user_create(txn, u, err);
}

static int create_user(struct pwb_user *u, struct pwb_error *err)
{
	memset(err, 0, sizeof(*err));
	return pwb_store_write(ts.st, create_fn, u, err);
}

static int get_name_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct user_op *op = ctx;

	pwb_user_clear(&op->u);
	switch (op->which) {
	case 0:
		return pwb_user_get_by_name(txn, op->lookup, &op->u, err);
	case 1:
		return pwb_user_get_by_user_name(txn, op->lookup, &op->u, err);
	case 2:
		return pwb_user_get_by_external_id(txn, op->lookup, &op->u, err);
	default:
		return pwb_user_get_by_uid(txn, (uint32_t)atoi(op->lookup), &op->u, err);
	}
}

static int lookup(int which, const char *key, struct pwb_user *out)
{
	struct user_op op = {0};
	struct pwb_error err = {0};
	int r;

	op.lookup = key;
	op.which = which;
	r = pwb_store_read(ts.st, get_name_fn, &op, &err);

	*out = op.u;
	return r;
}

static int update_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_user_update(txn, ctx, err);
}

static int delete_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_user_delete(txn, ctx, err);
}

START_TEST(user_roundtrip_and_lookups)
{
	struct pwb_user u = {0}, got = {0};
	struct pwb_error err;

	strcpy(u.name, "alice");
	u.user_name = strdup("Alice@Example.com");
	u.external_id = strdup("00u1");
	u.gecos = strdup("Alice Liddell");
	u.email = strdup("alice@example.com");
	u.active = true;
	u.source = PWB_SOURCE_SCIM;
	u.attrs = json_pack("{s:{s:s}}", "name", "givenName", "Alice");
	ck_assert_msg(create_user(&u, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(u.uid, 20000);
	ck_assert_uint_eq(u.gid, 20000);
	ck_assert(u.private_group);
	ck_assert_uint_eq(strlen(u.id), 36);
	ck_assert_str_eq(u.shell, "/bin/bash");
	ck_assert_uint_eq(u.version, 1);

	ck_assert_int_eq(lookup(0, "alice", &got), 0);
	ck_assert_str_eq(got.id, u.id);
	ck_assert_str_eq(got.user_name, "Alice@Example.com");
	ck_assert_str_eq(got.gecos, "Alice Liddell");
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(got.attrs, "name"), "givenName")),
	    "Alice");
	ck_assert(got.active);
	ck_assert_int_eq(got.source, PWB_SOURCE_SCIM);
	pwb_user_clear(&got);
	/* userName is case-insensitive */
	ck_assert_int_eq(lookup(1, "alice@EXAMPLE.COM", &got), 0);
	ck_assert_str_eq(got.name, "alice");
	pwb_user_clear(&got);
	ck_assert_int_eq(lookup(2, "00u1", &got), 0);
	pwb_user_clear(&got);
	ck_assert_int_eq(lookup(2, "00U1", &got), PWB_ENOTFOUND);
	ck_assert_int_eq(lookup(3, "20000", &got), 0);
	ck_assert_str_eq(got.name, "alice");
	pwb_user_clear(&got);
	ck_assert_int_eq(lookup(0, "bob", &got), PWB_ENOTFOUND);
	ck_assert_int_eq(lookup(0, "../etc", &got), PWB_ENOTFOUND);
	pwb_user_clear(&u);
}
END_TEST

START_TEST(uniqueness_names_the_field)
{
	struct pwb_user a = {0}, b = {0};
	struct pwb_error err;

	strcpy(a.name, "carol");
	a.external_id = strdup("ext-1");
	a.active = true;
	ck_assert_int_eq(create_user(&a, &err), 0);

	strcpy(b.name, "carol");
	ck_assert_int_eq(create_user(&b, &err), PWB_EEXIST);
	ck_assert_ptr_nonnull(strstr(err.msg, "user name 'carol'"));
	pwb_user_clear(&b);

	strcpy(b.name, "carol2");
	b.user_name = strdup("CAROL");
	ck_assert_int_eq(create_user(&b, &err), PWB_EEXIST);
	ck_assert_ptr_nonnull(strstr(err.msg, "userName"));
	pwb_user_clear(&b);

	strcpy(b.name, "carol3");
	b.external_id = strdup("ext-1");
	ck_assert_int_eq(create_user(&b, &err), PWB_EEXIST);
	ck_assert_ptr_nonnull(strstr(err.msg, "externalId"));
	pwb_user_clear(&b);

	strcpy(b.name, "carol4");
	b.uid = a.uid;
	ck_assert_int_eq(create_user(&b, &err), PWB_EEXIST);
	ck_assert_ptr_nonnull(strstr(err.msg, "uid"));
	pwb_user_clear(&b);

	/* a local account's name: root is in /etc/passwd */
	strcpy(b.name, "root");
	ck_assert_int_eq(create_user(&b, &err), PWB_ELOCAL);
	pwb_user_clear(&b);

	/* an invalid name never reaches the store */
	strcpy(b.name, "../x");
	ck_assert_int_eq(create_user(&b, &err), PWB_EINVAL);
	pwb_user_clear(&b);
	strcpy(b.name, "dave");
	b.home = strdup("/home/dave:/bin/sh");
	ck_assert_int_eq(create_user(&b, &err), PWB_EINVAL);
	pwb_user_clear(&b);
	strcpy(b.name, "dave");
	b.home = strdup("/home/../etc");
	ck_assert_int_eq(create_user(&b, &err), PWB_EINVAL);
	pwb_user_clear(&b);
	pwb_user_clear(&a);
}
END_TEST

START_TEST(explicit_ids)
{
	struct pwb_user u = {0};
	struct pwb_error err;

	strcpy(u.name, "erin");
	u.uid = 40000; /* outside the range: allowed (identical ids on every host) */
	u.active = true;
	ck_assert_msg(create_user(&u, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(u.gid, 40000);
	pwb_user_clear(&u);

	strcpy(u.name, "frank");
	u.uid = 65534;
	ck_assert_int_eq(create_user(&u, &err), PWB_EINVAL);
	pwb_user_clear(&u);
	strcpy(u.name, "frank");
	u.uid = 62000; /* systemd's dynamic range */
	ck_assert_int_eq(create_user(&u, &err), PWB_EINVAL);
	pwb_user_clear(&u);
	strcpy(u.name, "frank");
	u.uid = 5; /* system range */
	ck_assert_int_eq(create_user(&u, &err), PWB_EINVAL);
	pwb_user_clear(&u);
	strcpy(u.name, "frank");
	u.uid = 0; /* 0 means "allocate", never root */
	ck_assert_int_eq(create_user(&u, &err), 0);
	ck_assert_uint_eq(u.uid, 20000);
	pwb_user_clear(&u);
}
END_TEST

START_TEST(deleted_uid_is_never_reused)
{
	struct pwb_user u = {0}, got = {0};
	struct pwb_error err = {0};
	uint32_t first = test_add_user(ts.st, "gina");
	char id[64];

	ck_assert_int_eq(lookup(0, "gina", &got), 0);
	strcpy(id, got.id);
	pwb_user_clear(&got);
	ck_assert_int_eq(pwb_store_write(ts.st, delete_fn, id, &err), 0);
	ck_assert_int_eq(lookup(0, "gina", &got), PWB_ENOTFOUND);
	/* a new user (even with the same name) gets a new uid */
	ck_assert_uint_ne(test_add_user(ts.st, "gina"), first);
	/* and asking for the old uid explicitly is refused */
	strcpy(u.name, "hank");
	u.uid = first;
	u.active = true;
	ck_assert_int_eq(create_user(&u, &err), PWB_EEXIST);
	ck_assert_ptr_nonnull(strstr(err.msg, "retired"));
	pwb_user_clear(&u);
}
END_TEST

START_TEST(update_changes_and_retires)
{
	struct pwb_user got = {0};
	struct pwb_error err = {0};
	uint32_t uid = test_add_user(ts.st, "ivan");

	test_add_user(ts.st, "judy");
	ck_assert_int_eq(lookup(0, "ivan", &got), 0);
	/* rename to a taken name: refused */
	strcpy(got.name, "judy");
	ck_assert_int_eq(pwb_store_write(ts.st, update_fn, &got, &err), PWB_EEXIST);
	/* rename and lock */
	strcpy(got.name, "ivan2");
	got.active = false;
	free(got.gecos);
	got.gecos = strdup("Ivan the Second");
	ck_assert_msg(pwb_store_write(ts.st, update_fn, &got, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(got.version, 2);
	pwb_user_clear(&got);
	ck_assert_int_eq(lookup(0, "ivan", &got), PWB_ENOTFOUND);
	ck_assert_int_eq(lookup(0, "ivan2", &got), 0);
	ck_assert(!got.active);
	ck_assert_uint_eq(got.uid, uid);
	/* a uid change retires the old one */
	got.uid = 25000;
	got.gid = 0;
	ck_assert_msg(pwb_store_write(ts.st, update_fn, &got, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(got.gid, 25000);
	pwb_user_clear(&got);
	ck_assert_int_eq(lookup(3, "25000", &got), 0);
	pwb_user_clear(&got);
	ck_assert_uint_ne(test_add_user(ts.st, "kate"), uid);
}
END_TEST

struct group_op {
	struct pwb_group g;
	char user_id[40];
	int which;
	int count;
};

static int group_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct group_op *op = ctx;

	switch (op->which) {
	case 0:
		return pwb_group_create(txn, &op->g, err);
	case 1:
		return pwb_member_add(txn, op->g.id, op->user_id, err);
	case 2:
		return pwb_member_remove(txn, op->g.id, op->user_id, err);
	case 3:
		return pwb_group_delete(txn, op->g.id, err);
	default:
		return pwb_member_is(txn, op->g.id, op->user_id) ? 1 : 0;
	}
}

static int count_cb(const char *id, void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

static int count_members_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct group_op *op = ctx;

	op->count = 0;
	return pwb_member_foreach_user(txn, op->g.id, count_cb, &op->count, err);
}

START_TEST(groups_and_membership)
{
	struct group_op op = {0};
	struct pwb_user u = {0};
	struct pwb_error err = {0};

	test_add_user(ts.st, "lena");
	ck_assert_int_eq(lookup(0, "lena", &u), 0);
	strcpy(op.user_id, u.id);
	strcpy(op.g.name, "data-science");
	op.g.display_name = strdup("Data Science");
	ck_assert_msg(pwb_store_write(ts.st, group_fn, &op, &err) == 0, "%s", err.msg);
	/* lena's private group took 20000, so the group gets the next gid */
	ck_assert_uint_eq(op.g.gid, 20001);
	op.which = 1;
	ck_assert_int_eq(pwb_store_write(ts.st, group_fn, &op, &err), 0);
	ck_assert_int_eq(pwb_store_write(ts.st, group_fn, &op, &err), 0); /* idempotent */
	op.which = 4;
	ck_assert_int_eq(pwb_store_read(ts.st, group_fn, &op, &err), 1);
	ck_assert_int_eq(pwb_store_read(ts.st, count_members_fn, &op, &err), 0);
	ck_assert_int_eq(op.count, 1);
	op.which = 2;
	ck_assert_int_eq(pwb_store_write(ts.st, group_fn, &op, &err), 0);
	op.which = 4;
	ck_assert_int_eq(pwb_store_read(ts.st, group_fn, &op, &err), 0);

	/* a group may not take a user's private group name */
	{
		struct group_op dup = {0};

		strcpy(dup.g.name, "lena");
		ck_assert_int_eq(pwb_store_write(ts.st, group_fn, &dup, &err), PWB_EEXIST);
		pwb_group_clear(&dup.g);
		strcpy(dup.g.name, "root"); /* a local group */
		ck_assert_int_eq(pwb_store_write(ts.st, group_fn, &dup, &err), PWB_ELOCAL);
		pwb_group_clear(&dup.g);
	}
	/* deleting the group retires its gid: a new group gets another */
	op.which = 1;
	ck_assert_int_eq(pwb_store_write(ts.st, group_fn, &op, &err), 0);
	op.which = 3;
	ck_assert_int_eq(pwb_store_write(ts.st, group_fn, &op, &err), 0);
	{
		struct group_op again = {0};

		strcpy(again.g.name, "data-science");
		ck_assert_int_eq(pwb_store_write(ts.st, group_fn, &again, &err), 0);
		ck_assert_uint_ne(again.g.gid, 20001);
		pwb_group_clear(&again.g);
	}
	/* adding to a missing group says so */
	op.which = 1;
	ck_assert_int_eq(pwb_store_write(ts.st, group_fn, &op, &err), PWB_ENOTFOUND);
	pwb_group_clear(&op.g);
	pwb_user_clear(&u);
}
END_TEST

struct token_op {
	struct pwb_token t;
	const char *hash;
	int which;
};

static int token_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct token_op *op = ctx;

	switch (op->which) {
	case 0:
		return pwb_token_put(txn, &op->t, err);
	case 1:
		return pwb_token_get_by_hash(txn, op->hash, &op->t, err);
	default:
		return pwb_token_delete(txn, op->t.name, err);
	}
}

START_TEST(tokens_are_hashed)
{
	char token[PWB_TOKEN_TEXT_MAX], hash[PWB_HASH_HEX_LEN + 1], path[4096];
	struct token_op op = {0};
	struct pwb_error err = {0};
	char *blob;
	FILE *f;
	size_t n;

	ck_assert_int_eq(pwb_token_generate(token), 0);
	ck_assert_int_eq(pwb_token_hash(token, strlen(token), hash), 0);
	strcpy(op.t.name, "okta");
	strcpy(op.t.hash, hash);
	pwb_token_mask(token, op.t.masked);
	op.t.created = 1;
	ck_assert_int_eq(pwb_store_write(ts.st, token_fn, &op, &err), 0);
	ck_assert_int_eq(pwb_store_write(ts.st, token_fn, &op, &err), PWB_EEXIST);
	op.which = 1;
	op.hash = hash;
	memset(&op.t, 0, sizeof(op.t));
	ck_assert_int_eq(pwb_store_read(ts.st, token_fn, &op, &err), 0);
	ck_assert_str_eq(op.t.name, "okta");
	/* the token itself is nowhere in the store file */
	pwb_store_close(ts.st);
	snprintf(path, sizeof(path), "%s/db/store/store.db", ts.dir);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	blob = malloc(64 << 20);
	n = fread(blob, 1, 64 << 20, f);
	fclose(f);
	ck_assert_ptr_null(memmem(blob, n, token, strlen(token)));
	ck_assert_ptr_nonnull(memmem(blob, n, hash, strlen(hash)));
	free(blob);
	ck_assert_int_eq(pwb_store_open(&ts.cfg, &ts.st, &err), 0);
	op.which = 2;
	ck_assert_int_eq(pwb_store_write(ts.st, token_fn, &op, &err), 0);
	op.which = 1;
	ck_assert_int_eq(pwb_store_read(ts.st, token_fn, &op, &err), PWB_ENOTFOUND);
}
END_TEST

START_TEST(reserved_ids_skipped_and_range_end_fails)
{
	struct test_store small;
	struct pwb_user u = {0};
	struct pwb_error err = {0};

	test_store_setup(&small, 65533, 65537, NULL);
	ck_assert_uint_eq(test_add_user(small.st, "u1"), 65533);
	ck_assert_uint_eq(test_add_user(small.st, "u2"), 65536); /* 65534/65535 skipped */
	ck_assert_uint_eq(test_add_user(small.st, "u3"), 65537);
	strcpy(u.name, "u4");
	u.active = true;
	ck_assert_int_eq(pwb_store_write(small.st, create_fn, &u, &err), PWB_ENOIDS);
	ck_assert_ptr_nonnull(strstr(err.msg, "user-provisioning-end-uid"));
	pwb_user_clear(&u);
	test_store_teardown(&small);
}
END_TEST

struct uid_seen {
	unsigned char *seen;
	int n;
	uint64_t count;
};

static int check_uid(const struct pwb_user *u, void *ctx)
{
	struct uid_seen *x = ctx;

	ck_assert_uint_ge(u->uid, 20000);
	ck_assert_uint_lt(u->uid, 30000);
	ck_assert_msg(!x->seen[u->uid - 20000], "uid %u twice", u->uid);
	x->seen[u->uid - 20000] = 1;
	x->n++;
	return 0;
}

static int walk_uids(struct pwb_txn *txn, void *ctx, struct pwb_error *e)
{
	struct uid_seen *x = ctx;
	int r = pwb_user_count(txn, &x->count, e);

	return r ?: pwb_user_foreach(txn, check_uid, ctx, e);
}

/* Four processes create 250 users each, at once, in one store. */
START_TEST(concurrent_creations_get_distinct_uids)
{
	enum {
		PROCS = 4,
		EACH = 250
	};
	pid_t pids[PROCS];
	int i, status;
	struct pwb_error err = {0};

	pwb_store_close(ts.st);
	ts.st = NULL;
	for (i = 0; i < PROCS; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			struct pwb_store *st = NULL;
			int j;

			if (pwb_store_open(&ts.cfg, &st, &err) < 0)
				_exit(2);
			for (j = 0; j < EACH; j++) {
				struct pwb_user u = {0};

				snprintf(u.name, sizeof(u.name), "p%d-u%d", i, j);
				u.active = true;
				if (pwb_store_write(st, create_fn, &u, &err) < 0) {
					fprintf(stderr, "%s: %s\n", u.name, err.msg);
					_exit(3);
				}
				pwb_user_clear(&u);
			}
			pwb_store_close(st);
			_exit(0);
		}
	}
	for (i = 0; i < PROCS; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d failed", i);
	}
	ck_assert_int_eq(pwb_store_open(&ts.cfg, &ts.st, &err), 0);
	{
		struct uid_seen s = {calloc(10000, 1), 0, 0};

		ck_assert_int_eq(pwb_store_read(ts.st, walk_uids, &s, &err), 0);
		ck_assert_int_eq(s.n, PROCS * EACH);
		ck_assert_uint_eq(s.count, PROCS * EACH);
		free(s.seen);
	}
}
END_TEST

static int slow_create_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	int i, r;
	int *pipefd = ctx;

	/* Half-write a batch, tell the parent, and wait to be killed. */
	for (i = 0; i < 50; i++) {
		struct pwb_user u = {0};

		snprintf(u.name, sizeof(u.name), "doomed%d", i);
		u.active = true;
		r = pwb_user_create(txn, &u, err);
		pwb_user_clear(&u);
		if (r < 0)
			return r;
	}
	if (write(pipefd[1], "x", 1) != 1)
		return -EIO;
	pause();
	return 0;
}

START_TEST(killed_writer_is_recovered)
{
	struct pwb_error err = {0};
	struct pwb_store *survivor = NULL;
	struct pwb_user got = {0};
	int pipefd[2], status;
	char c, cmd[8192];
	pid_t pid;

	test_add_user(ts.st, "before");
	/* A long-lived process (like pwb-scim) keeps its handle throughout. */
	survivor = ts.st;
	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct pwb_store *st = NULL;

		if (pwb_store_open(&ts.cfg, &st, &err) < 0)
			_exit(2);
		pwb_store_write(st, slow_create_fn, pipefd, &err);
		_exit(3);
	}
	ck_assert_int_eq(read(pipefd[0], &c, 1), 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));

	/* The survivor can still write: the dead writer's locks are released. */
	test_add_user(survivor, "after");
	/* A new opener (another process: one environment handle per process)
	 * recovers, and nothing of the killed transaction exists. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct pwb_store *fresh = NULL;
		struct pwb_user u = {0};

		if (pwb_store_open(&ts.cfg, &fresh, &err) < 0)
			_exit(10);
		ts.st = fresh;
		if (lookup(0, "doomed0", &u) != PWB_ENOTFOUND)
			_exit(11);
		if (lookup(0, "before", &u) != 0)
			_exit(12);
		pwb_user_clear(&u);
		if (lookup(0, "after", &u) != 0)
			_exit(13);
		pwb_user_clear(&u);
		test_add_user(fresh, "later");
		pwb_store_close(fresh);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fresh opener: status %d",
		      WEXITSTATUS(status));
	/* and the survivor sees it all */
	ck_assert_int_eq(lookup(0, "later", &got), 0);
	pwb_user_clear(&got);
	ck_assert_int_eq(lookup(0, "doomed1", &got), PWB_ENOTFOUND);
	ts.st = survivor;
	pwb_store_close(survivor);
	ts.st = NULL;
	/* db_verify (the Berkeley DB utility) accepts the file. */
	snprintf(cmd, sizeof(cmd), "db5.3_verify -q -h %s/db/store store.db", ts.dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(pwb_store_open(&ts.cfg, &ts.st, &err), 0);
	ck_assert_int_eq(pwb_store_verify(ts.st, &err), 0);
}
END_TEST

/* A uid that another NSS source uses (here a private /etc/passwd inside a
 * mount namespace) is skipped. */
START_TEST(uid_in_local_passwd_is_skipped)
{
	char line[256];
	FILE *in;
	pid_t pid;
	int status;

	if (geteuid() != 0)
		return; /* needs CAP_SYS_ADMIN for the namespace; CI runs as root */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		FILE *out;
		char *copy = NULL;

		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(10);
		if (asprintf(&copy, "%s/passwd", ts.dir) < 0)
			_exit(11);
		in = fopen("/etc/passwd", "r");
		out = fopen(copy, "w");
		if (!in || !out)
			_exit(12);
		while (fgets(line, sizeof(line), in))
			fputs(line, out);
		fputs("taken:x:20000:100::/nonexistent:/usr/sbin/nologin\n", out);
		fclose(in);
		fclose(out);
		if (mount(copy, "/etc/passwd", NULL, MS_BIND, NULL) < 0)
			_exit(13);
		_exit(test_add_user(ts.st, "newbie") == 20001 ? 0 : 14);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d",
		      WEXITSTATUS(status));
	/* Outside the namespace the host's /etc/passwd is untouched. */
	in = fopen("/etc/passwd", "r");
	ck_assert_ptr_nonnull(in);
	while (fgets(line, sizeof(line), in))
		ck_assert_ptr_null(strstr(line, "taken:x:20000"));
	fclose(in);
}
END_TEST

START_TEST(store_dir_permissions)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/db/store", ts.dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/db/store/store.db", ts.dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0077, 0);
	snprintf(path, sizeof(path), "%s/db/nss", ts.dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	/* a store dir opened up by mistake is refused, with the path named */
	snprintf(path, sizeof(path), "%s/db/store", ts.dir);
	pwb_store_close(ts.st);
	ts.st = NULL;
	ck_assert_int_eq(chmod(path, 0755), 0);
	{
		struct pwb_error err = {0};

		ck_assert_int_eq(pwb_store_open(&ts.cfg, &ts.st, &err), PWB_ESTORE);
		ck_assert_ptr_nonnull(strstr(err.msg, path));
	}
	ck_assert_int_eq(chmod(path, 0700), 0);
	{
		struct pwb_error err = {0};

		ck_assert_int_eq(pwb_store_open(&ts.cfg, &ts.st, &err), 0);
	}
}
END_TEST

/* Root processes write as the store user: every file in store/ and nss/
 * belongs to it, whoever created it. */
START_TEST(files_belong_to_the_store_user)
{
	struct test_store other;
	struct passwd *nobody = getpwnam("nobody");
	char cmd[8192];
	struct pwb_config cfg;
	struct pwb_store *st = NULL;
	struct pwb_error err = {0};
	char *conf;

	if (geteuid() != 0 || !nobody)
		return; /* switching identities needs root; CI runs as root */
	other.dir = test_mkdtemp();
	conf = test_write_file(other.dir, "pwb.conf", "store-user=nobody\n");
	ck_assert_int_eq(pwb_config_load(conf, false, &cfg, &err), 0);
	free(cfg.db_dir);
	ck_assert_int_ge(asprintf(&cfg.db_dir, "%s/db", other.dir), 0);
	ck_assert_msg(pwb_store_open(&cfg, &st, &err) == 0, "%s", err.msg);
	test_add_user(st, "owned");
	ck_assert_int_eq(pwb_store_publish_all(st, &err), 0);
	pwb_store_close(st);
	/* find prints any file under store/ or nss/ not owned by nobody */
	snprintf(cmd, sizeof(cmd),
		 "test -z \"$(find %s/db/store %s/db/nss ! -user nobody -print)\" && "
		 "test -n \"$(find %s/db/store -name 'log.*' -user nobody)\" && "
		 "test \"$(stat -c %%U:%%a %s/db/cache)\" = root:700",
		 other.dir, other.dir, other.dir, other.dir);
	ck_assert_msg(system(cmd) == 0, "ownership check failed: %s", cmd);
	/* the process itself is unchanged: still root for files */
	ck_assert_int_eq(access("/etc/shadow", R_OK), 0);
	pwb_config_free(&cfg);
	test_rmtree(other.dir);
	free(other.dir);
	free(conf);
}
END_TEST

START_TEST(missing_store_user_is_a_clear_error)
{
	struct pwb_config cfg;
	struct pwb_store *st = NULL;
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_config_defaults(&cfg), 0);
	free(cfg.store_user);
	cfg.store_user = strdup("no-such-user-pwb");
	ck_assert_int_eq(pwb_store_open(&cfg, &st, &err), PWB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "no-such-user-pwb"));
	pwb_config_free(&cfg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, user_roundtrip_and_lookups);
	tcase_add_test(tc, uniqueness_names_the_field);
	tcase_add_test(tc, explicit_ids);
	tcase_add_test(tc, deleted_uid_is_never_reused);
	tcase_add_test(tc, update_changes_and_retires);
	tcase_add_test(tc, groups_and_membership);
	tcase_add_test(tc, tokens_are_hashed);
	tcase_add_test(tc, reserved_ids_skipped_and_range_end_fails);
	tcase_add_test(tc, concurrent_creations_get_distinct_uids);
	tcase_add_test(tc, killed_writer_is_recovered);
	tcase_add_test(tc, uid_in_local_passwd_is_skipped);
	tcase_add_test(tc, store_dir_permissions);
	tcase_add_test(tc, missing_store_user_is_a_clear_error);
	tcase_add_test(tc, files_belong_to_the_store_user);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
