/* Unit tests for the store (lib/store*.c): records, uniqueness, ids,
 * memberships, tokens, concurrency and crash recovery. */
#include <check.h>
#include <pwd.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cleanup.h"
#include "publish.h"
#include "store.h"
#include "provision.h"
#include "internal/store_internal.h"
#include "testutil.h"
#include "token.h"
#include "util.h"

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
	char id[64], home[PATH_MAX];

	ck_assert_int_eq(lookup(0, "gina", &got), 0);
	strcpy(id, got.id);
	pwb_user_clear(&got);
	ck_assert_int_eq(pwb_store_write(ts.st, delete_fn, id, &err), 0);
	ck_assert_int_eq(lookup(0, "gina", &got), PWB_ENOTFOUND);
	/* a new user (even with the same name) gets a new uid; the old home
	 * stays retired, so the new one needs another */
	snprintf(home, sizeof(home), "%s/home/gina2", ts.dir);
	ck_assert_uint_ne(test_add_user_at(ts.st, "gina", home), first);
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
		strcpy(dup.g.name, "daemon"); /* a local group */
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
/* Writers in several processes, one after the other (only one process
 * opens the store at a time), get distinct uids; while one has it open,
 * another's open fails at once. */
START_TEST(successive_writers_get_distinct_uids)
{
	enum {
		PROCS = 4,
		EACH = 250
	};
	pid_t pid;
	int i, status;
	struct pwb_error err = {0};

	/* the store is open here: a child is refused */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct pwb_store *st = NULL;

		_exit(pwb_store_open(&ts.cfg, &st, &err) == PWB_EBUSY ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second opener not refused");
	pwb_store_close(ts.st);
	ts.st = NULL;
	for (i = 0; i < PROCS; i++) {
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
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
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
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

/* The one writer is killed mid-transaction (SIGKILL of pwbd): the next
 * opener recovers, what was acknowledged is there and nothing of the
 * killed transaction is. */
START_TEST(killed_writer_is_recovered)
{
	struct pwb_error err = {0};
	struct pwb_user got = {0};
	int pipefd[2], status;
	char c, cmd[8192], *line;
	pid_t pid;

	test_add_user(ts.st, "before");
	pwb_store_close(ts.st);
	ts.st = NULL;
	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct pwb_store *st = NULL;

		if (pwb_store_open(&ts.cfg, &st, &err) < 0)
			_exit(2);
		test_add_user(st, "acknowledged");
		pwb_store_write(st, slow_create_fn, pipefd, &err);
		_exit(3);
	}
	ck_assert_int_eq(read(pipefd[0], &c, 1), 1);
	/* it holds the store: nobody else may open it */
	ck_assert_int_eq(pwb_store_open(&ts.cfg, &ts.st, &err), PWB_EBUSY);
	ck_assert_msg(strstr(err.msg, "process"), "%s", err.msg);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	close(pipefd[0]);
	close(pipefd[1]);
	/* the kernel dropped its lock: the next opener recovers */
	ck_assert_msg(pwb_store_open(&ts.cfg, &ts.st, &err) == 0, "%s", err.msg);
	/* and publishes what the dead one committed but did not publish */
	snprintf(cmd, sizeof(cmd), "%s/db/nss", ts.dir);
	line = test_snapshot_get(cmd, 0, "p.acknowledged");
	ck_assert_ptr_null(line);
	ck_assert_msg(pwb_publish_attach(ts.st, &err) == 0, "%s", err.msg);
	line = test_snapshot_get(cmd, 0, "p.acknowledged");
	ck_assert_ptr_nonnull(line);
	free(line);
	ck_assert_int_eq(lookup(0, "doomed0", &got), PWB_ENOTFOUND);
	ck_assert_int_eq(lookup(0, "doomed49", &got), PWB_ENOTFOUND);
	ck_assert_int_eq(lookup(0, "before", &got), 0);
	pwb_user_clear(&got);
	ck_assert_int_eq(lookup(0, "acknowledged", &got), 0);
	pwb_user_clear(&got);
	test_add_user(ts.st, "later");
	ck_assert_int_eq(lookup(0, "later", &got), 0);
	pwb_user_clear(&got);
	pwb_store_close(ts.st);
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

/* The store is root's: a store an older release left to its store-user
 * is taken over on open, without following a symlink planted in it. */
START_TEST(old_store_is_taken_over_by_root)
{
	struct passwd *nobody = getpwnam("nobody");
	struct pwb_error err = {0};
	char cmd[8192], path[4096], *outside, *setuid_file;
	struct stat st;

	if (geteuid() != 0 || !nobody)
		return; /* chown needs root; CI runs as root */
	test_add_user(ts.st, "owned");
	pwb_store_close(ts.st);
	ts.st = NULL;
	outside = test_write_file(ts.dir, "outside", "not the store's\n");
	ck_assert_int_eq(chown(outside, nobody->pw_uid, nobody->pw_gid), 0);
	snprintf(path, sizeof(path), "%s/db/store/planted", ts.dir);
	ck_assert_int_eq(symlink(outside, path), 0);
	/* what an older release left: store/ and nss/ owned by its store-user */
	snprintf(cmd, sizeof(cmd), "chown -hR %u:%u %s/db/store %s/db/nss",
		 (unsigned)nobody->pw_uid, (unsigned)nobody->pw_gid, ts.dir, ts.dir);
	ck_assert_int_eq(system(cmd), 0);
	/* a hard link to a setuid file elsewhere: chown would clear its bit */
	setuid_file = test_write_file(ts.dir, "setuid", "#!/bin/sh\n");
	ck_assert_int_eq(chmod(setuid_file, 04755), 0);
	snprintf(path, sizeof(path), "%s/db/store/linked", ts.dir);
	ck_assert_int_eq(link(setuid_file, path), 0);
	ck_assert_msg(pwb_store_open(&ts.cfg, &ts.st, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(pwb_publish_attach(ts.st, &err), 0);
	test_add_user(ts.st, "after");
	/* find prints anything under store/ or nss/ not root's */
	snprintf(cmd, sizeof(cmd),
		 "test -z \"$(find %s/db/store %s/db/nss ! -user root -print)\" && "
		 "test \"$(stat -c %%U:%%a %s/db/store)\" = root:700 && "
		 "test \"$(stat -c %%U:%%a %s/db/nss)\" = root:755 && "
		 "test \"$(stat -c %%U:%%a %s/db/cache)\" = root:700",
		 ts.dir, ts.dir, ts.dir, ts.dir, ts.dir);
	ck_assert_msg(system(cmd) == 0, "ownership check failed: %s", cmd);
	/* the symlink's target was not touched, nor the hard-linked file */
	ck_assert_int_eq(stat(outside, &st), 0);
	ck_assert_uint_eq(st.st_uid, nobody->pw_uid);
	ck_assert_int_eq(stat(setuid_file, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 04755);
	free(outside);
	free(setuid_file);
}
END_TEST

/* store-user is obsolete: accepted, ignored (even naming nobody). */
START_TEST(store_user_is_ignored)
{
	struct pwb_config cfg;
	struct pwb_store *st = NULL;
	struct pwb_error err = {0};
	char *dir = test_mkdtemp();

	ck_assert_int_eq(pwb_config_defaults(&cfg), 0);
	free(cfg.store_user);
	cfg.store_user = strdup("no-such-user-pwb");
	free(cfg.db_dir);
	ck_assert_int_ge(asprintf(&cfg.db_dir, "%s/db", dir), 0);
	ck_assert_msg(pwb_store_open(&cfg, &st, &err) == 0, "%s", err.msg);
	pwb_store_close(st);
	pwb_config_free(&cfg);
	test_rmtree(dir);
	free(dir);
}
END_TEST

/* ---- the store's policy (issue 12) ---- */

static int group_create_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_group_create(txn, ctx, err);
}

static int group_update_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_group_update(txn, ctx, err);
}

/* Creates a user named name with the given gid/home/shell (each may be
 * 0/NULL); returns the store's answer, the record is cleared. */
static int try_user(const char *name, uint32_t gid, const char *home, const char *shell,
		    struct pwb_error *err)
{
	struct pwb_user u = {0};
	int r;

	snprintf(u.name, sizeof(u.name), "%s", name);
	u.gid = gid;
	u.home = home ? strdup(home) : NULL;
	u.shell = shell ? strdup(shell) : NULL;
	u.active = true;
	r = create_user(&u, err);
	pwb_user_clear(&u);
	return r;
}

static int try_group(const char *name, uint32_t gid, struct pwb_group *out, struct pwb_error *err)
{
	struct pwb_group g = {0};
	int r;

	snprintf(g.name, sizeof(g.name), "%s", name);
	g.gid = gid;
	memset(err, 0, sizeof(*err));
	r = pwb_store_write(ts.st, group_create_fn, &g, err);
	if (out)
		*out = g;
	else
		pwb_group_clear(&g);
	return r;
}

#define assert_refused(call, code, word)                                                           \
	do {                                                                                       \
		int r_ = (call);                                                                   \
		ck_assert_msg(r_ == (code), "%s: got %d (%s)", #call, r_, err.msg);                \
		ck_assert_msg(strstr(err.msg, (word)) != NULL, "'%s' lacks '%s'", err.msg,         \
			      (word));                                                             \
	} while (0)

START_TEST(primary_gid_is_own_or_a_pwb_group)
{
	struct pwb_user a = {0}, got = {0};
	struct pwb_group g = {0}, far = {0};
	struct pwb_error err = {0};
	uint32_t a_uid = test_add_user(ts.st, "anna");

	ck_assert_int_eq(try_group("analysts", 0, &g, &err), 0);
	/* local groups: shadow, sudo, disk (and any other) */
	assert_refused(try_user("mallory", 42, NULL, NULL, &err), PWB_EINVAL, "gidNumber 42");
	assert_refused(try_user("mallory", 27, NULL, NULL, &err), PWB_EINVAL, "gidNumber 27");
	assert_refused(try_user("mallory", 6, NULL, NULL, &err), PWB_EINVAL, "gidNumber 6");
	assert_refused(try_user("mallory", 0xffffffffu - 1, NULL, NULL, &err), PWB_EINVAL,
		       "gidNumber");
	/* another user's private group */
	assert_refused(try_user("mallory", a_uid, NULL, NULL, &err), PWB_EINVAL, "gidNumber");
	/* a pwb group inside the range is fine */
	ck_assert_msg(try_user("bert", g.gid, NULL, NULL, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(lookup(0, "bert", &got), 0);
	ck_assert_uint_eq(got.gid, g.gid);
	ck_assert(!got.private_group);
	pwb_user_clear(&got);
	/* a pwb group outside group-provisioning-start-gid..end-gid is not */
	ck_assert_msg(try_group("faraway", 45000, &far, &err) == 0, "%s", err.msg);
	assert_refused(try_user("mallory", 45000, NULL, NULL, &err), PWB_EINVAL, "outside");
	/* update: the same rules */
	ck_assert_int_eq(lookup(0, "anna", &a), 0);
	a.gid = 42;
	memset(&err, 0, sizeof(err));
	assert_refused(pwb_store_write(ts.st, update_fn, &a, &err), PWB_EINVAL, "gidNumber 42");
	a.gid = g.gid;
	ck_assert_msg(pwb_store_write(ts.st, update_fn, &a, &err) == 0, "%s", err.msg);
	/* and back to its own group (gid = uid) */
	a.gid = a_uid;
	ck_assert_msg(pwb_store_write(ts.st, update_fn, &a, &err) == 0, "%s", err.msg);
	ck_assert(a.private_group);
	pwb_user_clear(&a);
	pwb_group_clear(&g);
	pwb_group_clear(&far);
}
END_TEST

START_TEST(home_and_shell_policy)
{
	struct pwb_user got = {0};
	struct pwb_error err = {0};
	char home[PATH_MAX], want[PATH_MAX];
	static const char *const bad[] = {"/etc/systemd/system/ssh.service.d",
					  "/root",
					  "/root/.ssh",
					  "/etc",
					  "/usr/local/bin",
					  "/var/spool/cron/crontabs",
					  "relative/home"};
	size_t i;

	for (i = 0; i < PWB_ARRAY_SIZE(bad); i++)
		assert_refused(try_user("mallory", 0, bad[i], NULL, &err), PWB_EINVAL,
			       "homeDirectory");
	snprintf(home, sizeof(home), "%s/home/../etc", ts.dir);
	assert_refused(try_user("mallory", 0, home, NULL, &err), PWB_EINVAL, "homeDirectory");
	/* the home root itself is no home */
	snprintf(home, sizeof(home), "%s/home", ts.dir);
	assert_refused(try_user("mallory", 0, home, NULL, &err), PWB_EINVAL, "homeDirectory");
	/* stored normalised */
	snprintf(home, sizeof(home), "%s//home/./carla/", ts.dir);
	snprintf(want, sizeof(want), "%s/home/carla", ts.dir);
	ck_assert_msg(try_user("carla", 0, home, NULL, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(lookup(0, "carla", &got), 0);
	ck_assert_str_eq(got.home, want);
	pwb_user_clear(&got);
	/* shells: only those in /etc/shells */
	assert_refused(try_user("mallory", 0, NULL, "/tmp/evil", &err), PWB_EINVAL, "loginShell");
	assert_refused(try_user("mallory", 0, NULL, "bash", &err), PWB_EINVAL, "loginShell");
	ck_assert_msg(try_user("dora", 0, NULL, "/bin/sh", &err) == 0, "%s", err.msg);
}
END_TEST

struct homes {
	char list[1024];
};

static int collect_home(const char *home, const char *id, void *ctx)
{
	struct homes *h = ctx;

	snprintf(h->list + strlen(h->list), sizeof(h->list) - strlen(h->list), "%s=%s;", home, id);
	return 0;
}

static int homes_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_store_retired_homes_foreach(txn, collect_home, ctx, err);
}

static int retire_home_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct homes *h = ctx;

	return pwb_store_retire_home(txn, h->list, "00000000-0000-4000-8000-000000000000", err);
}

START_TEST(home_is_bound_to_the_user)
{
	struct homes homes;
	struct pwb_user u = {0}, got = {0};
	struct pwb_error err = {0};
	char alice_home[PATH_MAX], other[PATH_MAX];

	snprintf(alice_home, sizeof(alice_home), "%s/home/alice", ts.dir);
	test_add_user(ts.st, "alice");
	/* rename alice to alicia: her home stays hers */
	ck_assert_int_eq(lookup(0, "alice", &u), 0);
	strcpy(u.name, "alicia");
	free(u.home);
	u.home = NULL;
	ck_assert_msg(pwb_store_write(ts.st, update_fn, &u, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(u.home, alice_home);
	/* a new alice does not get it: not by default, not explicitly */
	assert_refused(try_user("alice", 0, NULL, NULL, &err), PWB_EEXIST, "held by user 'alicia'");
	ck_assert_ptr_nonnull(strstr(err.msg, "default homeDirectory"));
	assert_refused(try_user("alice", 0, alice_home, NULL, &err), PWB_EEXIST, "homeDirectory");
	/* nor by an update of another user */
	test_add_user(ts.st, "bob");
	ck_assert_int_eq(lookup(0, "bob", &got), 0);
	free(got.home);
	got.home = strdup(alice_home);
	assert_refused(pwb_store_write(ts.st, update_fn, &got, &err), PWB_EEXIST, "alicia");
	pwb_user_clear(&got);
	/* alicia moves to another home: the old path is retired, but hers to
	 * come back to */
	snprintf(other, sizeof(other), "%s/home/alicia", ts.dir);
	free(u.home);
	u.home = strdup(other);
	ck_assert_msg(pwb_store_write(ts.st, update_fn, &u, &err) == 0, "%s", err.msg);
	assert_refused(try_user("alice", 0, alice_home, NULL, &err), PWB_EEXIST, "retired");
	free(u.home);
	u.home = strdup(alice_home);
	ck_assert_msg(pwb_store_write(ts.st, update_fn, &u, &err) == 0, "%s", err.msg);
	/* deleted: the path stays retired */
	ck_assert_int_eq(pwb_store_write(ts.st, delete_fn, u.id, &err), 0);
	assert_refused(try_user("alice", 0, NULL, NULL, &err), PWB_EEXIST, "retired");
	ck_assert_ptr_nonnull(strstr(err.msg, "set homeDirectory explicitly"));
	snprintf(other, sizeof(other), "%s/home/alice2", ts.dir);
	ck_assert_msg(try_user("alice", 0, other, NULL, &err) == 0, "%s", err.msg);
	/* retired homes are listed for export (with their former holder) */
	memset(&homes, 0, sizeof(homes));
	ck_assert_int_eq(pwb_store_read(ts.st, homes_fn, &homes, &err), 0);
	ck_assert_msg(strstr(homes.list, alice_home) && strstr(homes.list, u.id), "%s", homes.list);
	/* and can be retired on import, but not while a user holds the path */
	strcpy(homes.list, other);
	ck_assert_int_eq(pwb_store_write(ts.st, retire_home_fn, &homes, &err), PWB_EEXIST);
	snprintf(homes.list, sizeof(homes.list), "%s/home/imported", ts.dir);
	ck_assert_msg(pwb_store_write(ts.st, retire_home_fn, &homes, &err) == 0, "%s", err.msg);
	assert_refused(try_user("ivan", 0, homes.list, NULL, &err), PWB_EEXIST, "retired");
	pwb_user_clear(&u);
}
END_TEST

START_TEST(group_names_policy)
{
	static const char *const denied[] = {"admin", "wheel",	 "docker", "lxd",
					     "sudo",  "sudoers", "kvm",	   "libvirt"};
	struct pwb_group g = {0};
	struct pwb_error err = {0};
	size_t i;

	for (i = 0; i < PWB_ARRAY_SIZE(denied); i++)
		assert_refused(try_group(denied[i], 0, NULL, &err), PWB_EINVAL,
			       "group-provisioning-deny-names");
	/* a local group's name (not in the deny list) */
	assert_refused(try_group("daemon", 0, NULL, &err), PWB_ELOCAL, "local group");
	/* a rename is checked too */
	ck_assert_int_eq(try_group("data", 0, &g, &err), 0);
	strcpy(g.name, "docker");
	memset(&err, 0, sizeof(err));
	assert_refused(pwb_store_write(ts.st, group_update_fn, &g, &err), PWB_EINVAL, "deny-names");
	pwb_group_clear(&g);
	/* and a user's private group */
	assert_refused(try_user("lxd", 0, NULL, NULL, &err), PWB_EINVAL, "deny-names");
}
END_TEST

START_TEST(group_deny_list_is_case_insensitive)
{
	struct pwb_error err = {0};

	teardown();
	test_store_setup(&ts, 20000, 29999, "group-provisioning-deny-names=Research, SECRET\n");
	assert_refused(try_group("research", 0, NULL, &err), PWB_EINVAL, "deny-names");
	assert_refused(try_group("secret", 0, NULL, &err), PWB_EINVAL, "deny-names");
	ck_assert_msg(try_group("admin", 0, NULL, &err) == 0, "%s", err.msg);
}
END_TEST

static int map_put_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_group_map_put(txn, ctx, err);
}

static int try_map(const char *display, const char *name, struct pwb_error *err)
{
	struct pwb_group_map m = {.display_name = (char *)display};

	snprintf(m.name, sizeof(m.name), "%s", name);
	memset(err, 0, sizeof(*err));
	return pwb_store_write(ts.st, map_put_fn, &m, err);
}

static int try_display_group(const char *display, const char *name, struct pwb_error *err)
{
	struct pwb_group g = {.display_name = strdup(display)};
	int r;

	snprintf(g.name, sizeof(g.name), "%s", name);
	memset(err, 0, sizeof(*err));
	r = pwb_store_write(ts.st, group_create_fn, &g, err);
	pwb_group_clear(&g);
	return r;
}

struct name_probe {
	const char *display;
	char name[PWB_NAME_MAX + 1];
	struct pwb_group found;
};

static int derive_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct name_probe *p = ctx;

	return pwb_provision_group_name(txn, p->display, p->name, err);
}

static int find_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct name_probe *p = ctx;

	return pwb_provision_group_find(txn, p->display, &p->found, err);
}

/* pwbadm map-group: a mapping wins over the rule, reserves its Linux name,
 * and never collides with a group or another mapping. */
START_TEST(group_maps_reserve_and_collide)
{
	struct pwb_error err = {0};
	struct name_probe p = {.display = "Data Scientists"};

	/* the rule, then the mapping */
	ck_assert_int_eq(pwb_store_read(ts.st, derive_fn, &p, &err), 0);
	ck_assert_str_eq(p.name, "data_scientists");
	ck_assert_msg(try_map("Data Scientists", "ds", &err) == 0, "%s", err.msg);
	ck_assert_int_eq(pwb_store_read(ts.st, derive_fn, &p, &err), 0);
	ck_assert_str_eq(p.name, "ds");
	p.display = "DATA SCIENTISTS"; /* display names match without case */
	ck_assert_int_eq(pwb_store_read(ts.st, derive_fn, &p, &err), 0);
	ck_assert_str_eq(p.name, "ds");
	/* collisions: the same display name, the same Linux name */
	assert_refused(try_map("data scientists", "other", &err), PWB_EEXIST,
		       "already mapped to ds");
	assert_refused(try_map("Analysts", "ds", &err), PWB_EEXIST,
		       "already the mapping of \"Data Scientists\"");
	assert_refused(try_map("Ops", "docker", &err), PWB_EINVAL, "deny-names");
	/* ds is reserved for its display name */
	assert_refused(try_display_group("Analysts", "ds", &err), PWB_EEXIST,
		       "reserved for group \"Data Scientists\"");
	ck_assert_msg(try_display_group("Data Scientists", "ds", &err) == 0, "%s", err.msg);
	/* a group of the same Linux name from another display name */
	ck_assert_msg(try_display_group("Research Team", "research_team", &err) == 0, "%s",
		      err.msg);
	assert_refused(try_display_group("research_team", "research_team", &err), PWB_EEXIST,
		       "already taken by group \"Research Team\"");
	assert_refused(try_map("Other Team", "research_team", &err), PWB_EEXIST,
		       "exists with display name \"Research Team\"");
	assert_refused(try_map("Research Team", "rt", &err), PWB_EEXIST, "exists as research_team");
	/* lookups by display name */
	p.display = "research team";
	ck_assert_int_eq(pwb_store_read(ts.st, find_fn, &p, &err), 0);
	ck_assert_str_eq(p.found.name, "research_team");
	pwb_group_clear(&p.found);
	p.display = "Nobody";
	ck_assert_int_eq(pwb_store_read(ts.st, find_fn, &p, &err), PWB_ENOTFOUND);
	/* the rule refuses, naming the derived name */
	p.display = "Sudo";
	assert_refused(pwb_store_read(ts.st, derive_fn, &p, &err), PWB_EINVAL,
		       "derived group name \"sudo\"");
}
END_TEST

START_TEST(group_space_replacement_is_configured)
{
	struct pwb_error err = {0};
	struct name_probe p = {.display = "Data Scientists"};

	teardown();
	test_store_setup(&ts, 20000, 29999, "group-name-space-replacement=-\n");
	ck_assert_int_eq(pwb_store_read(ts.st, derive_fn, &p, &err), 0);
	ck_assert_str_eq(p.name, "data-scientists");
}
END_TEST

/* {"a":{"a":...}} depth levels deep */
static json_t *nested(int depth)
{
	json_t *v = json_string("x");
	int i;

	for (i = 0; i < depth; i++)
		v = json_pack("{s:o}", "a", v);
	return v;
}

START_TEST(attrs_are_bounded)
{
	struct pwb_user u = {0};
	struct pwb_group g = {0};
	struct pwb_error err = {0};
	char *big = malloc(70 * 1024);

	strcpy(u.name, "deep");
	u.active = true;
	u.attrs = json_pack("{s:o}", "evil", nested(2047));
	assert_refused(create_user(&u, &err), PWB_EINVAL, "attribute 'evil'");
	json_decref(u.attrs);
	u.attrs = json_pack("{s:o}", "fine", nested(32));
	ck_assert_msg(create_user(&u, &err) == 0, "%s", err.msg);
	json_decref(u.attrs);
	/* update too */
	u.attrs = json_pack("{s:o}", "evil", nested(33));
	assert_refused(pwb_store_write(ts.st, update_fn, &u, &err), PWB_EINVAL, "evil");
	json_decref(u.attrs);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 70 * 1024 - 1);
	big[70 * 1024 - 1] = '\0';
	u.attrs = json_pack("{s:s,s:s}", "small", "x", "huge", big);
	assert_refused(pwb_store_write(ts.st, update_fn, &u, &err), PWB_EINVAL, "'huge'");
	pwb_user_clear(&u);
	strcpy(g.name, "deepgroup");
	g.attrs = json_pack("{s:o}", "members2", nested(100));
	memset(&err, 0, sizeof(err));
	assert_refused(pwb_store_write(ts.st, group_create_fn, &g, &err), PWB_EINVAL, "members2");
	pwb_group_clear(&g);
	free(big);
}
END_TEST

/* Test-only: overwrites a record with text that cannot be decoded, as a
 * record stored before the bounds (or damaged on disk) would be. */
struct plant {
	enum pwb_dbi dbi;
	const char *key;
	const char *text;
};

static int plant_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct plant *p = ctx;

	return pwb_kv_put(txn, p->dbi, p->key, strlen(p->key), p->text, strlen(p->text), err);
}

static void plant(enum pwb_dbi dbi, const char *key, const char *text)
{
	struct plant p = {dbi, key, text};
	struct pwb_error err = {0};

	ck_assert_msg(pwb_store_write(ts.st, plant_fn, &p, &err) == 0, "%s", err.msg);
}

struct names {
	char list[512];
	int damaged;
};

static int list_name(const struct pwb_user *u, void *ctx)
{
	struct names *n = ctx;

	strcat(n->list, u->name);
	strcat(n->list, ",");
	return 0;
}

static int list_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_user_foreach(txn, list_name, ctx, err);
}

static int audit_collect(char kind, const char *id, const char *name, const char *msg, void *ctx)
{
	struct names *n = ctx;
	char line[600];

	snprintf(line, sizeof(line), "%c:%s:%s;", kind, name ? name : "?", msg);
	if (strlen(n->list) + strlen(line) < sizeof(n->list))
		strcat(n->list, line);
	if (!name)
		n->damaged++;
	return 0;
}

static int audit_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_store_policy_audit(txn, audit_collect, ctx, err);
}

static int log_user_change_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct pwb_change_entry c;

	pwb_change_init(&c, 'u', "update", ctx, "", PWB_CH_ALL);
	return pwb_change_append(txn, &c, err);
}

static int delete_by_name_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct pwb_user u = {0};
	int r = pwb_user_get_by_name(txn, ctx, &u, err);

	/* what pwbadm delete-user does with a damaged record */
	if (r == PWB_EDAMAGED)
		r = pwb_user_delete(txn, u.id, err);
	else if (r == 0)
		r = -1;
	pwb_user_clear(&u);
	return r;
}

START_TEST(damaged_record_is_skipped_and_deletable)
{
	struct pwb_user u = {0}, got = {0};
	struct group_op op = {0};
	struct names n = {0};
	struct pwb_error err = {0};
	char nss[PATH_MAX], *line;
	uint32_t uid;

	uid = test_add_user(ts.st, "victim");
	test_add_user(ts.st, "bystander");
	ck_assert_int_eq(lookup(0, "victim", &u), 0);
	strcpy(op.user_id, u.id);
	strcpy(op.g.name, "team");
	ck_assert_int_eq(pwb_store_write(ts.st, group_fn, &op, &err), 0);
	op.which = 1;
	ck_assert_int_eq(pwb_store_write(ts.st, group_fn, &op, &err), 0);
	/* the record nested past Jansson's limit, as main stored it */
	plant(DBI_USERS, u.id, "{\"name\":\"victim\",\"attrs\":[[[[[[[[[[[[");
	ck_assert_int_eq(lookup(0, "victim", &got), PWB_EDAMAGED);
	ck_assert_str_eq(got.id, u.id);
	ck_assert_str_eq(got.name, "victim");
	pwb_user_clear(&got);
	/* list goes on */
	ck_assert_int_eq(pwb_store_read(ts.st, list_fn, &n, &err), 0);
	ck_assert_str_eq(n.list, "bystander,");
	/* incremental publishing of changes that name it goes on: its own
	 * (skipped) and its group's (rendered without it) */
	ck_assert_int_eq(pwb_store_write(ts.st, log_user_change_fn, u.id, &err), 0);
	ck_assert_int_eq(lookup(0, "bystander", &got), 0);
	strcpy(op.user_id, got.id);
	pwb_user_clear(&got);
	ck_assert_int_eq(pwb_store_write(ts.st, group_fn, &op, &err), 0);
	snprintf(nss, sizeof(nss), "%s/db/nss", ts.dir);
	line = test_snapshot_get(nss, 0, "g.team");
	ck_assert_ptr_nonnull(line);
	ck_assert_msg(strstr(line, ":bystander") && !strstr(line, "victim"), "%s", line);
	free(line);
	strcpy(op.user_id, u.id);
	/* publishing goes on: a change to the group (renders its members) and
	 * a new user both reach the snapshot, and a full rebuild works */
	test_add_user(ts.st, "newcomer");
	line = test_snapshot_get(nss, 0, "p.newcomer");
	ck_assert_ptr_nonnull(line);
	free(line);
	ck_assert_msg(pwb_store_publish_all(ts.st, &err) == 0, "%s", err.msg);
	line = test_snapshot_get(nss, 0, "p.newcomer");
	ck_assert_ptr_nonnull(line);
	free(line);
	/* audit names it */
	memset(&n, 0, sizeof(n));
	ck_assert_int_eq(pwb_store_read(ts.st, audit_fn, &n, &err), 0);
	ck_assert_int_eq(n.damaged, 1);
	/* delete-user by name removes it, its indexes and memberships */
	ck_assert_msg(pwb_store_write(ts.st, delete_by_name_fn, "victim", &err) == 0, "%s",
		      err.msg);
	ck_assert_int_eq(lookup(0, "victim", &got), PWB_ENOTFOUND);
	ck_assert(pwb_store_read(ts.st, count_members_fn, &op, &err) == 0);
	ck_assert_int_eq(op.count, 1); /* bystander only */
	line = test_snapshot_get(nss, 0, "p.victim");
	ck_assert_ptr_null(line);
	/* its uid is retired like any deleted user's */
	memset(&got, 0, sizeof(got));
	strcpy(got.name, "victim");
	got.uid = uid;
	got.active = true;
	ck_assert_int_eq(create_user(&got, &err), PWB_EEXIST);
	pwb_user_clear(&got);
	/* a damaged group is skipped and deletable too */
	plant(DBI_GROUPS, op.g.id, "not json");
	ck_assert_msg(pwb_store_publish_all(ts.st, &err) == 0, "%s", err.msg);
	op.which = 3;
	ck_assert_msg(pwb_store_write(ts.st, group_fn, &op, &err) == 0, "%s", err.msg);
	line = test_snapshot_get(nss, 0, "g.team");
	ck_assert_ptr_null(line);
	pwb_user_clear(&u);
}
END_TEST

START_TEST(audit_reports_records_from_before_the_policy)
{
	struct pwb_user u = {0};
	struct names n = {0};
	struct pwb_error err = {0};
	char *text;

	test_add_user(ts.st, "legacy");
	ck_assert_int_eq(lookup(0, "legacy", &u), 0);
	/* what main accepted: a local primary gid, a home in /etc, a shell
	 * not in /etc/shells */
	u.gid = 42;
	u.private_group = false;
	free(u.home);
	u.home = strdup("/etc/systemd/system/ssh.service.d");
	free(u.shell);
	u.shell = strdup("/tmp/sh");
	text = pwb_user_encode(&u);
	plant(DBI_USERS, u.id, text);
	free(text);
	ck_assert_int_eq(pwb_store_read(ts.st, audit_fn, &n, &err), 0);
	ck_assert_msg(strstr(n.list, "u:legacy:") && strstr(n.list, "gidNumber 42"), "%s", n.list);
	ck_assert_msg(strstr(n.list, "homeDirectory"), "%s", n.list);
	ck_assert_msg(strstr(n.list, "loginShell"), "%s", n.list);
	/* the record can still be locked (unchanged values are not re-checked) */
	u.active = false;
	ck_assert_msg(pwb_store_write(ts.st, update_fn, &u, &err) == 0, "%s", err.msg);
	pwb_user_clear(&u);
	/* a clean store reports nothing */
	teardown();
	setup();
	test_add_user(ts.st, "clean");
	memset(&n, 0, sizeof(n));
	ck_assert_int_eq(pwb_store_read(ts.st, audit_fn, &n, &err), 0);
	ck_assert_str_eq(n.list, "");
}
END_TEST

static int format_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	const char *v = ctx;

	if (!v)
		return pwb_kv_del(txn, DBI_META, "format", 6, err);
	return pwb_kv_put(txn, DBI_META, "format", 6, v, strlen(v), err);
}

static int read_format_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	char **v = ctx;

	return pwb_kv_get(txn, DBI_META, "format", 6, v, NULL, false, err);
}

static int drop_home_index_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_kv_del_by_value(txn, DBI_USER_HOME, ctx, PWB_ID_LEN, NULL, NULL, err);
}

static void reopen(int expect)
{
	struct pwb_error err = {0};

	pwb_store_close(ts.st);
	ts.st = NULL;
	ck_assert_msg(pwb_store_open(&ts.cfg, &ts.st, &err) == expect, "%s", err.msg);
	if (expect)
		ck_assert_msg(strstr(err.msg, "newer"), "%s", err.msg);
}

START_TEST(store_format_upgrade_and_newer_refused)
{
	struct pwb_user u = {0};
	struct pwb_error err = {0};
	char *v = NULL;

	ck_assert_int_eq(pwb_store_read(ts.st, read_format_fn, &v, &err), 0);
	ck_assert_str_eq(v, "4");
	free(v);
	v = NULL;
	/* a format 1 store: no version, no home index */
	test_add_user(ts.st, "olduser");
	ck_assert_int_eq(lookup(0, "olduser", &u), 0);
	ck_assert_int_eq(pwb_store_write(ts.st, format_fn, NULL, &err), 0);
	ck_assert_int_eq(pwb_store_write(ts.st, drop_home_index_fn, u.id, &err), 0);
	reopen(0);
	ck_assert_int_eq(pwb_store_read(ts.st, read_format_fn, &v, &err), 0);
	ck_assert_str_eq(v, "4");
	free(v);
	/* the index was rebuilt: olduser's home is taken */
	assert_refused(try_user("other", 0, u.home, NULL, &err), PWB_EEXIST, "olduser");
	pwb_user_clear(&u);
	/* a newer store is refused, and left as it is */
	ck_assert_int_eq(pwb_store_write(ts.st, format_fn, "5", &err), 0);
	pwb_store_close(ts.st);
	ts.st = NULL;
	ck_assert_int_eq(pwb_store_open(&ts.cfg, &ts.st, &err), PWB_ESTORE);
	ck_assert_msg(strstr(err.msg, "newer"), "%s", err.msg);
	ck_assert_ptr_null(ts.st); /* teardown copes */
}
END_TEST

/* ---- one opener, and the change log ---- */

START_TEST(open_lock_is_exclusive)
{
	struct pwb_store *second = NULL;
	struct pwb_error err = {0};
	char path[PATH_MAX], pid[32], text[32] = "";
	FILE *f;

	/* a second handle, even in the same process, is refused at once */
	ck_assert_int_eq(pwb_store_open(&ts.cfg, &second, &err), PWB_EBUSY);
	ck_assert_ptr_null(second);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	ck_assert_msg(strstr(err.msg, pid), "'%s' does not name pid %s", err.msg, pid);
	snprintf(path, sizeof(path), "%s/db/store/open.lock", ts.dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(text, sizeof(text), f));
	fclose(f);
	ck_assert_int_eq(atol(text), getpid());
	/* the first handle is unharmed */
	test_add_user(ts.st, "first");
	/* after close, opening works */
	pwb_store_close(ts.st);
	ts.st = NULL;
	ck_assert_msg(pwb_store_open(&ts.cfg, &second, &err) == 0, "%s", err.msg);
	ts.st = second;
	test_add_user(ts.st, "second");
}
END_TEST

struct entries {
	struct pwb_change_entry e[64];
	json_t *changed[64];
	size_t n;
	uint64_t last;
};

static int collect_one(const struct pwb_change_entry *e, void *ctx)
{
	struct entries *l = ctx;

	if (l->n == 64)
		return 1;
	l->e[l->n] = *e;
	l->changed[l->n] = e->changed ? json_incref(e->changed) : NULL;
	l->e[l->n].changed = NULL;
	l->n++;
	return 0;
}

struct collect {
	struct entries *l;
	uint64_t after;
};

static int collect_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct collect *c = ctx;

	return pwb_change_foreach(txn, c->after, 0, collect_one, c->l, &c->l->last, err);
}

static void entries_free(struct entries *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		json_decref(l->changed[i]);
	memset(l, 0, sizeof(*l));
}

/* The entries after seq `after` (freed by the next call). */
static struct entries *entries_after(uint64_t after)
{
	static struct entries l;
	struct collect c = {&l, after};
	struct pwb_error err = {0};

	entries_free(&l);
	ck_assert_msg(pwb_store_read(ts.st, collect_fn, &c, &err) == 0, "%s", err.msg);
	return &l;
}

static uint64_t last_seq(void)
{
	return entries_after(UINT64_MAX - 1)->last;
}

/* "a,b" from a changed array. */
static const char *changed_text(json_t *changed)
{
	static char buf[256];
	size_t i;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(changed, i, v)
	{
		if (i)
			strcat(buf, ",");
		strncat(buf, json_string_value(v), 64);
	}
	return buf;
}

START_TEST(change_entries_carry_actor_and_request)
{
	struct pwb_actor actor = {0};
	struct pwb_user u = {0};
	struct entries *l;
	uint64_t before = last_seq();

	snprintf(actor.kind, sizeof(actor.kind), "scim");
	snprintf(actor.name, sizeof(actor.name), "okta");
	snprintf(actor.rhost, sizeof(actor.rhost), "192.0.2.7");
	actor.uid = 995;
	pwb_store_set_request(ts.st, &actor, "req-create-1");
	test_add_user(ts.st, "carrier");
	l = entries_after(before);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_uint_eq(l->e[0].seq, before + 1);
	ck_assert_str_eq(l->e[0].actor.kind, "scim");
	ck_assert_str_eq(l->e[0].actor.name, "okta");
	ck_assert_str_eq(l->e[0].actor.rhost, "192.0.2.7");
	ck_assert_uint_eq(l->e[0].actor.uid, 995);
	ck_assert_str_eq(l->e[0].request_id, "req-create-1");
	ck_assert_int_eq(l->e[0].kind, 'u');
	ck_assert_str_eq(l->e[0].op, "create");
	ck_assert_str_eq(l->e[0].name, "carrier");
	ck_assert_int_eq(l->e[0].what, PWB_CH_ALL);
	ck_assert_int_ge(l->e[0].time, pwb_now() - 60);
	ck_assert_int_eq(lookup(0, "carrier", &u), 0);
	ck_assert_str_eq(l->e[0].id, u.id);
	pwb_user_clear(&u);
	/* no request set: the daemon itself, no request id */
	pwb_store_set_request(ts.st, NULL, NULL);
	test_add_user(ts.st, "daemonic");
	l = entries_after(before + 1);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_str_eq(l->e[0].actor.kind, "pwbd");
	ck_assert_str_eq(l->e[0].request_id, "");
}
END_TEST

static int touch_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_user_touch_login(txn, ctx, 1234567, err);
}

static int bind_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_user_bind(txn, ctx, "https://idp.example", "subject-1", err);
}

static int token_put_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_token_put(txn, ctx, err);
}

static int token_delete_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_token_delete(txn, ctx, err);
}

struct raw_find {
	const char *needle;
	int found;
};

static int raw_find_one(const void *key, size_t klen, const void *val, size_t vlen, void *ctx,
			struct pwb_error *err)
{
	struct raw_find *f = ctx;

	if (memmem(val, vlen, f->needle, strlen(f->needle)))
		f->found++;
	return 0;
}

static int raw_find_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_kv_foreach(txn, DBI_CHANGES, raw_find_one, ctx, err);
}

/* What each kind of write logs: attribute names (never values of
 * secrets), lock/unlock as an update of "active", no entry for a sign-in
 * time. */
START_TEST(change_log_names_what_changed)
{
	struct pwb_user u = {0};
	struct pwb_token t = {0};
	struct group_op op = {0};
	struct pwb_error err = {0};
	struct raw_find f = {0};
	struct entries *l;
	uint64_t seq;

	test_add_user(ts.st, "subject");
	ck_assert_int_eq(lookup(0, "subject", &u), 0);
	/* lock */
	seq = last_seq();
	u.active = false;
	ck_assert_msg(pwb_store_write(ts.st, update_fn, &u, &err) == 0, "%s", err.msg);
	l = entries_after(seq);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_str_eq(l->e[0].op, "update");
	ck_assert_str_eq(changed_text(l->changed[0]), "active");
	ck_assert_int_eq(l->e[0].what, PWB_CH_SHADOW);
	/* gecos and email: named, in a stable order */
	seq = last_seq();
	u.gecos = strdup("Sub Ject");
	u.email = strdup("subject@example.org");
	ck_assert_msg(pwb_store_write(ts.st, update_fn, &u, &err) == 0, "%s", err.msg);
	l = entries_after(seq);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_str_eq(changed_text(l->changed[0]), "gecos,email");
	/* a sign-in time is bookkeeping, not a change */
	seq = last_seq();
	ck_assert_int_eq(pwb_store_write(ts.st, touch_fn, u.id, &err), 0);
	ck_assert_uint_eq(last_seq(), seq);
	/* bind */
	ck_assert_int_eq(pwb_store_write(ts.st, bind_fn, u.id, &err), 0);
	l = entries_after(seq);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_str_eq(l->e[0].op, "bind");
	ck_assert_str_eq(changed_text(l->changed[0]), "binding");
	/* membership: the group's line and the user's initgroups */
	seq = last_seq();
	strcpy(op.user_id, u.id);
	strcpy(op.g.name, "crew");
	ck_assert_int_eq(pwb_store_write(ts.st, group_fn, &op, &err), 0);
	op.which = 1;
	ck_assert_int_eq(pwb_store_write(ts.st, group_fn, &op, &err), 0);
	l = entries_after(seq);
	ck_assert_uint_eq(l->n, 3);
	ck_assert_str_eq(l->e[0].op, "create");
	ck_assert_int_eq(l->e[0].kind, 'g');
	ck_assert_str_eq(l->e[1].op, "member");
	ck_assert_str_eq(changed_text(l->changed[1]), "members");
	ck_assert_int_eq(l->e[2].kind, 'u');
	ck_assert_str_eq(changed_text(l->changed[2]), "groups");
	/* a token entry names the token, never its hash */
	seq = last_seq();
	snprintf(t.name, sizeof(t.name), "okta");
	memset(t.hash, 'a', PWB_HASH_HEX_LEN);
	memcpy(t.hash, "c0ffee", 6);
	ck_assert_int_eq(pwb_store_write(ts.st, token_put_fn, &t, &err), 0);
	ck_assert_int_eq(pwb_store_write(ts.st, token_delete_fn, "okta", &err), 0);
	l = entries_after(seq);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_int_eq(l->e[0].kind, 't');
	ck_assert_str_eq(l->e[0].op, "token-put");
	ck_assert_str_eq(l->e[0].id, "okta");
	ck_assert_str_eq(l->e[1].op, "token-delete");
	f.needle = "c0ffee";
	ck_assert_int_eq(pwb_store_read(ts.st, raw_find_fn, &f, &err), 0);
	ck_assert_int_eq(f.found, 0);
	f.needle = "\"okta\"";
	ck_assert_int_eq(pwb_store_read(ts.st, raw_find_fn, &f, &err), 0);
	ck_assert_int_eq(f.found, 2);
	/* delete */
	seq = last_seq();
	ck_assert_int_eq(pwb_store_write(ts.st, delete_fn, u.id, &err), 0);
	l = entries_after(seq);
	ck_assert_str_eq(l->e[l->n - 1].op, "delete");
	ck_assert_str_eq(l->e[l->n - 1].old_name, "subject");
	/* a delete names what it removed, so the audit trail finds it */
	ck_assert_str_eq(l->e[l->n - 1].name, "subject");
	pwb_user_clear(&u);
	entries_free(entries_after(0));
}
END_TEST

struct by_request {
	const char *id;
	uint64_t seq;
};

static int by_request_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct by_request *b = ctx;

	return pwb_change_by_request(txn, b->id, &b->seq, err);
}

static int two_users_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct pwb_user a = {0}, b = {0};
	int r;

	snprintf(a.name, sizeof(a.name), "%s1", (const char *)ctx);
	snprintf(b.name, sizeof(b.name), "%s2", (const char *)ctx);
	a.active = b.active = true;
	r = pwb_user_create(txn, &a, err);
	if (r == 0)
		r = pwb_user_create(txn, &b, err);
	pwb_user_clear(&a);
	pwb_user_clear(&b);
	return r;
}

START_TEST(change_by_request_finds_the_last_change)
{
	struct by_request b = {0};
	struct pwb_error err = {0};
	uint64_t seq;

	pwb_store_set_request(ts.st, NULL, "req-a");
	ck_assert_int_eq(pwb_store_write(ts.st, two_users_fn, "pair", &err), 0);
	seq = last_seq();
	pwb_store_set_request(ts.st, NULL, "req-b");
	test_add_user(ts.st, "single");
	b.id = "req-a";
	ck_assert_int_eq(pwb_store_read(ts.st, by_request_fn, &b, &err), 0);
	ck_assert_uint_eq(b.seq, seq); /* the last of its two changes */
	b.id = "req-b";
	ck_assert_int_eq(pwb_store_read(ts.st, by_request_fn, &b, &err), 0);
	ck_assert_uint_eq(b.seq, seq + 1);
	b.id = "req-none";
	ck_assert_int_eq(pwb_store_read(ts.st, by_request_fn, &b, &err), PWB_ENOTFOUND);
	b.id = "";
	ck_assert_int_eq(pwb_store_read(ts.st, by_request_fn, &b, &err), PWB_ENOTFOUND);
	/* a request that failed logged nothing */
	pwb_store_set_request(ts.st, NULL, "req-failed");
	ck_assert_int_lt(pwb_store_write(ts.st, two_users_fn, "pair", &err), 0);
	b.id = "req-failed";
	ck_assert_int_eq(pwb_store_read(ts.st, by_request_fn, &b, &err), PWB_ENOTFOUND);
}
END_TEST

static int log_then_fail_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	int r = two_users_fn(txn, ctx, err);

	return r < 0 ? r : pwb_error_set(err, PWB_EINVAL, "changed my mind");
}

START_TEST(seq_is_gap_free_across_aborts)
{
	struct pwb_error err = {0};
	struct entries *l;
	uint64_t start = last_seq();
	size_t i;

	test_add_user(ts.st, "one");
	/* logs two changes, then aborts: their sequences are handed out again */
	ck_assert_int_eq(pwb_store_write(ts.st, log_then_fail_fn, "gone", &err), PWB_EINVAL);
	ck_assert_uint_eq(last_seq(), start + 1);
	test_add_user(ts.st, "two");
	ck_assert_int_eq(pwb_store_write(ts.st, log_then_fail_fn, "gone", &err), PWB_EINVAL);
	ck_assert_int_eq(pwb_store_write(ts.st, two_users_fn, "kept", &err), 0);
	l = entries_after(start);
	ck_assert_uint_eq(l->n, 4);
	for (i = 0; i < l->n; i++)
		ck_assert_uint_eq(l->e[i].seq, start + 1 + i);
	ck_assert_uint_eq(l->last, start + 4);
	ck_assert_str_eq(l->e[0].name, "one");
	ck_assert_str_eq(l->e[1].name, "two");
	ck_assert_str_eq(l->e[2].name, "kept1");
}
END_TEST

static int64_t fake_time;

static int64_t fake_clock(void)
{
	return fake_time;
}

static int first_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_change_first_seq(txn, ctx, err);
}

static uint64_t first_seq(void)
{
	struct pwb_error err = {0};
	uint64_t first = 0;

	ck_assert_msg(pwb_store_read(ts.st, first_fn, &first, &err) == 0, "%s", err.msg);
	return first;
}

static int many_changes_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	int i, r = 0, *n = ctx;

	for (i = 0; r == 0 && i < *n; i++) {
		struct pwb_change_entry e;

		pwb_change_init(&e, 's', "test", "", "", 0);
		r = pwb_change_append(txn, &e, err);
	}
	return r;
}

/* Entries stay until every reader's cursor is past them and they are
 * older than the retention or beyond its count (the clock is injected). */
START_TEST(cursors_and_retention_trim_the_log)
{
	struct pwb_error err = {0};
	struct by_request b = {"req-old", 0};
	int n;

	teardown();
	test_store_setup(&ts, 20000, 29999,
			 "change-log-retention-days=1\nchange-log-retention-entries=1000\n");
	fake_time = 1700000000;
	pwb_change_clock = fake_clock;
	pwb_store_set_request(ts.st, NULL, "req-old");
	test_add_user(ts.st, "a1");
	test_add_user(ts.st, "a2");
	pwb_store_set_request(ts.st, NULL, NULL);
	test_add_user(ts.st, "a3");
	ck_assert_uint_eq(first_seq(), 1);
	/* every reader past them, but young: kept */
	ck_assert_msg(pwb_store_cursor_set(ts.st, "publish", 3, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(pwb_store_cursor_set(ts.st, "audit", 3, &err), 0);
	ck_assert_uint_eq(first_seq(), 1);
	/* two days later: old, but the audit reader is only at 1 */
	fake_time += 2 * 86400;
	test_add_user(ts.st, "young");
	ck_assert_int_eq(pwb_store_cursor_set(ts.st, "audit", 1, &err), 0);
	ck_assert_uint_eq(first_seq(), 2);
	ck_assert_int_eq(pwb_store_read(ts.st, by_request_fn, &b, &err), 0);
	ck_assert_uint_eq(b.seq, 2);
	/* the audit reader catches up: the old ones go, the young one stays */
	ck_assert_int_eq(pwb_store_cursor_set(ts.st, "audit", 4, &err), 0);
	ck_assert_int_eq(pwb_store_cursor_set(ts.st, "publish", 4, &err), 0);
	ck_assert_uint_eq(first_seq(), 4);
	/* the trimmed request is forgotten */
	ck_assert_int_eq(pwb_store_read(ts.st, by_request_fn, &b, &err), PWB_ENOTFOUND);
	/* beyond the entry count: trimmed whatever their age */
	n = 1010;
	ck_assert_int_eq(pwb_store_write(ts.st, many_changes_fn, &n, &err), 0);
	/* the publisher (attached, as pwbd does) has read them all and says so;
	 * the audit reader is at 4 */
	ck_assert_uint_eq(first_seq(), 5);
	ck_assert_int_eq(pwb_store_cursor_set(ts.st, "publish", 1014, &err), 0);
	ck_assert_uint_eq(first_seq(), 5); /* audit has read 4, not more */
	ck_assert_int_eq(pwb_store_cursor_set(ts.st, "audit", 1014, &err), 0);
	ck_assert_uint_eq(first_seq(), 15); /* the last 1000 are kept */
	/* a cursor past the end, or a bad reader name, is refused */
	ck_assert_int_eq(pwb_store_cursor_set(ts.st, "audit", 5000, &err), PWB_EINVAL);
	ck_assert_int_eq(pwb_store_cursor_set(ts.st, "../x", 1, &err), PWB_EINVAL);
	/* moving a cursor logs nothing */
	ck_assert_uint_eq(last_seq(), 1014);
	pwb_change_clock = NULL;
}
END_TEST

struct search_args {
	struct pwb_change_filter f;
	uint64_t from, next;
	bool back;
	size_t limit, scan_max;
	char ops[512]; /* "name:op " per match */
};

static int search_note(const struct pwb_change_entry *e, void *ctx)
{
	struct search_args *a = ctx;
	size_t used = strlen(a->ops);

	snprintf(a->ops + used, sizeof(a->ops) - used, "%s:%s ", e->name, e->op);
	return 0;
}

static int search_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct search_args *a = ctx;

	return pwb_change_search(txn, &a->f, a->from, a->back, a->limit, a->scan_max, search_note,
				 a, &a->next, err);
}

/* Every match, page after page of scan_max entries looked at. */
static const char *search_all(struct search_args *a)
{
	struct pwb_error err = {0};

	a->ops[0] = '\0';
	a->from = 0;
	do {
		ck_assert_msg(pwb_store_read(ts.st, search_fn, a, &err) == 0, "%s", err.msg);
		a->from = a->next;
	} while (a->next);
	return a->ops;
}

static void act(const char *kind, const char *name, int64_t when)
{
	struct pwb_actor actor = {0};

	snprintf(actor.kind, sizeof(actor.kind), "%s", kind);
	snprintf(actor.name, sizeof(actor.name), "%s", name);
	pwb_store_set_request(ts.st, &actor, "req");
	fake_time = when;
}

static int restore_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	bool restored = false;
	int r = pwb_change_restore(txn, ctx, &restored, err);

	return r < 0 ? r : restored;
}

/* The audit trail's search: by user (also a deleted one, and membership
 * entries by id), group, actor and time; forwards and backwards; in pages
 * of bounded work; and exported entries restored under their sequence. */
START_TEST(audit_search_filters_and_pages)
{
	struct search_args a = {0};
	struct pwb_error err = {0};
	struct pwb_user u;
	json_t *rec;
	uint64_t last;

	pwb_change_clock = fake_clock;
	act("scim", "okta", 1000);
	test_add_user(ts.st, "ann");
	act("pwbadm", "root", 2000);
	test_add_user(ts.st, "bob");
	ck_assert_int_eq(lookup(0, "bob", &u), 0);
	act("jit", "", 3000);
	ck_assert_int_eq(pwb_store_write(ts.st, delete_fn, u.id, &err), 0);
	pwb_user_clear(&u);
	pwb_store_set_request(ts.st, NULL, NULL);

	a.f.user = "bob";
	ck_assert_str_eq(search_all(&a), "bob:create bob:delete ");
	a.scan_max = 1; /* one entry per request: the same answer */
	ck_assert_str_eq(search_all(&a), "bob:create bob:delete ");
	a.back = true;
	ck_assert_str_eq(search_all(&a), "bob:delete bob:create ");
	a.limit = 1;
	a.scan_max = 0;
	a.ops[0] = '\0';
	a.from = 0;
	ck_assert_int_eq(pwb_store_read(ts.st, search_fn, &a, &err), 0);
	ck_assert_str_eq(a.ops, "bob:delete ");
	ck_assert_uint_ne(a.next, 0); /* more before it */
	memset(&a, 0, sizeof(a));
	a.f.actor = "okta";
	ck_assert_str_eq(search_all(&a), "ann:create ");
	a.f.actor = "pwbadm";
	ck_assert_str_eq(search_all(&a), "bob:create ");
	a.f.actor = NULL;
	a.f.since = 2000;
	a.f.until = 3000;
	ck_assert_str_eq(search_all(&a), "bob:create ");
	a.f.user = "nobody";
	a.f.since = a.f.until = 0;
	ck_assert_str_eq(search_all(&a), "");

	/* restore: under its own sequence, once */
	last = last_seq();
	rec = json_pack("{s:s, s:I, s:I, s:{s:s, s:s}, s:s, s:s, s:s, s:[s]}", "type", "change",
			"seq", (json_int_t)last + 5, "time", (json_int_t)42, "actor", "kind",
			"scim", "name", "old-idp", "kind", "u", "op", "update", "name", "carl",
			"changed", "gecos");
	ck_assert_int_eq(pwb_store_write(ts.st, restore_fn, rec, &err), 1);
	ck_assert_uint_eq(last_seq(), last + 5);
	ck_assert_int_eq(pwb_store_write(ts.st, restore_fn, rec, &err), 0); /* skipped */
	memset(&a, 0, sizeof(a));
	a.f.user = "carl";
	ck_assert_str_eq(search_all(&a), "carl:update ");
	json_object_set_new(rec, "seq", json_integer((json_int_t)last + 9));
	json_object_set_new(rec, "hash", json_string("x"));
	ck_assert_int_eq(pwb_store_write(ts.st, restore_fn, rec, &err), PWB_EINVAL);
	ck_assert_str_eq(err.msg, "change: unknown field \"hash\"");
	json_decref(rec);
	pwb_change_clock = NULL;
}
END_TEST

static int plant_v2_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	const struct pwb_change *old = ctx;
	unsigned char key[8] = {0, 0, 0, 0, 0, 0, 0, 0};
	int r;

	/* the log as format 2 wrote it: one raw entry at seq 1, no cursors */
	key[7] = 1;
	if ((r = pwb_be_change_trim(txn, UINT64_MAX - 1, err)) < 0 ||
	    (r = pwb_kv_put(txn, DBI_CHANGES, key, 8, old, sizeof(*old), err)) < 0 ||
	    (r = pwb_be_counter_set(txn, "seq", 1, err)) < 0 ||
	    (r = pwb_kv_del(txn, DBI_META, "cursor.publish", 14, err)) < 0)
		return r;
	return pwb_kv_put(txn, DBI_META, "format", 6, "2", 1, err);
}

static int cursor_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_be_counter_get(txn, "cursor.publish", 999, ctx, err);
}

START_TEST(format_2_change_log_is_converted)
{
	struct pwb_change old = {0};
	struct pwb_error err = {0};
	struct entries *l;
	uint64_t cursor = 0;
	char *v = NULL;

	test_add_user(ts.st, "veteran");
	old.kind = 'u';
	old.what = PWB_CH_ALL;
	memset(old.id, 'b', PWB_ID_LEN);
	strcpy(old.old_name, "formerly");
	old.old_num = old.old_gid = 20042;
	old.old_private = true;
	ck_assert_int_eq(pwb_store_write(ts.st, plant_v2_fn, &old, &err), 0);
	reopen(0);
	ck_assert_int_eq(pwb_store_read(ts.st, read_format_fn, &v, &err), 0);
	ck_assert_str_eq(v, "4");
	free(v);
	l = entries_after(0);
	ck_assert_uint_eq(l->n, 2); /* the converted entry, then the upgrade */
	ck_assert_uint_eq(l->e[0].seq, 1);
	ck_assert_int_eq(l->e[0].kind, 'u');
	ck_assert_int_eq(l->e[0].what, PWB_CH_ALL);
	ck_assert_int_eq(strspn(l->e[0].id, "b"), PWB_ID_LEN);
	ck_assert_str_eq(l->e[0].old_name, "formerly");
	ck_assert_uint_eq(l->e[0].old_num, 20042);
	ck_assert_uint_eq(l->e[0].old_gid, 20042);
	ck_assert(l->e[0].old_private);
	ck_assert_str_eq(l->e[0].actor.kind, "pwbd");
	ck_assert_uint_eq(l->e[1].seq, 2);
	ck_assert_int_eq(l->e[1].kind, 's');
	ck_assert_str_eq(l->e[1].op, "upgrade");
	/* the publisher's cursor starts at 0: nothing is trimmed before it reads */
	ck_assert_int_eq(pwb_store_read(ts.st, cursor_fn, &cursor, &err), 0);
	ck_assert_uint_eq(cursor, 0);
	/* and the log goes on from there */
	test_add_user(ts.st, "newer");
	ck_assert_uint_eq(last_seq(), 3);
	entries_free(entries_after(0));
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
	tcase_add_test(tc, successive_writers_get_distinct_uids);
	tcase_add_test(tc, killed_writer_is_recovered);
	tcase_add_test(tc, uid_in_local_passwd_is_skipped);
	tcase_add_test(tc, store_dir_permissions);
	tcase_add_test(tc, store_user_is_ignored);
	tcase_add_test(tc, old_store_is_taken_over_by_root);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, primary_gid_is_own_or_a_pwb_group);
	tcase_add_test(tc, home_and_shell_policy);
	tcase_add_test(tc, home_is_bound_to_the_user);
	tcase_add_test(tc, group_names_policy);
	tcase_add_test(tc, group_deny_list_is_case_insensitive);
	tcase_add_test(tc, group_maps_reserve_and_collide);
	tcase_add_test(tc, group_space_replacement_is_configured);
	tcase_add_test(tc, attrs_are_bounded);
	tcase_add_test(tc, damaged_record_is_skipped_and_deletable);
	tcase_add_test(tc, audit_reports_records_from_before_the_policy);
	tcase_add_test(tc, store_format_upgrade_and_newer_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("changes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, open_lock_is_exclusive);
	tcase_add_test(tc, change_entries_carry_actor_and_request);
	tcase_add_test(tc, change_log_names_what_changed);
	tcase_add_test(tc, change_by_request_finds_the_last_change);
	tcase_add_test(tc, seq_is_gap_free_across_aborts);
	tcase_add_test(tc, cursors_and_retention_trim_the_log);
	tcase_add_test(tc, audit_search_filters_and_pages);
	tcase_add_test(tc, format_2_change_log_is_converted);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
