/* Unit tests for lib/store/publish.c and render.c: what the NSS snapshot
 * holds after each kind of change (the b.NAME binding keys included), and
 * that the incremental levels always agree with a full rebuild. The
 * snapshot is read back with lib/snapshot's reader (testutil_store.c), not
 * with the publisher's own code. */
#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "store.h"
#include "testutil.h"

static struct test_store ts;
static char nss[4096];

static void setup_with(const char *extra)
{
	test_store_setup(&ts, 20000, 29999, extra);
	snprintf(nss, sizeof(nss), "%s/db/nss", ts.dir);
}

static void setup(void)
{
	setup_with(NULL);
}

static void teardown(void)
{
	test_store_teardown(&ts);
}

static void expect(int shadow, const char *key, const char *want)
{
	char *got = test_snapshot_get(nss, shadow, key);

	if (!want)
		ck_assert_msg(got == NULL, "%s: expected absent, got '%s'", key, got);
	else
		ck_assert_msg(got && strcmp(got, want) == 0, "%s: expected '%s', got '%s'", key,
			      want, got ? got : "(absent)");
	free(got);
}

struct op {
	const char *name;
	const char *group;
	int which;
	const char *gecos;
};

static int op_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct op *op = ctx;
	struct pwb_user u = {0};
	struct pwb_group g = {0};
	int r;

	switch (op->which) {
	case 0: /* create group */
		snprintf(g.name, sizeof(g.name), "%s", op->group);
		r = pwb_group_create(txn, &g, err);
		break;
	case 1: /* add member */
	case 2: /* remove member */
		r = pwb_user_get_by_name(txn, op->name, &u, err);
		if (r == 0)
			r = pwb_group_get_by_name(txn, op->group, &g, err);
		if (r == 0)
			r = op->which == 1 ? pwb_member_add(txn, g.id, u.id, err)
					   : pwb_member_remove(txn, g.id, u.id, err);
		break;
	case 3: /* lock */
	case 4: /* unlock */
	case 5: /* rename to group field */
	case 6: /* set gecos */
		r = pwb_user_get_by_name(txn, op->name, &u, err);
		if (r == 0) {
			if (op->which == 3 || op->which == 4)
				u.active = op->which == 4;
			if (op->which == 5)
				snprintf(u.name, sizeof(u.name), "%s", op->group);
			if (op->which == 6) {
				free(u.gecos);
				u.gecos = strdup(op->gecos);
			}
			r = pwb_user_update(txn, &u, err);
		}
		break;
	case 7: /* delete user */
		r = pwb_user_get_by_name(txn, op->name, &u, err);
		if (r == 0)
			r = pwb_user_delete(txn, u.id, err);
		break;
	default: /* delete group */
		r = pwb_group_get_by_name(txn, op->group, &g, err);
		if (r == 0)
			r = pwb_group_delete(txn, g.id, err);
		break;
	}
	pwb_user_clear(&u);
	pwb_group_clear(&g);
	return r;
}

static int run(int which, const char *name, const char *group)
{
	struct op op = {name, group, which, NULL};
	struct pwb_error err = {0};
	int r = pwb_store_write(ts.st, op_fn, &op, &err);

	ck_assert_msg(r == 0, "op %d %s %s: %s", which, name ? name : "", group ? group : "",
		      err.msg);
	return r;
}

START_TEST(user_lifecycle_in_snapshot)
{
	char line[512], home[4200];

	/* an empty store publishes an empty snapshot at once */
	{
		char *dump = test_snapshot_dump(nss, 0);

		ck_assert_str_eq(dump, "");
		free(dump);
	}
	test_add_user(ts.st, "alice");
	snprintf(home, sizeof(home), "%s/home/alice", ts.dir);
	snprintf(line, sizeof(line), "alice:x:20000:20000::%s:/bin/bash", home);
	expect(0, "p.alice", line);
	expect(0, "p=20000", line);
	expect(0, "g.alice", "alice:x:20000:");
	expect(0, "g=20000", "alice:x:20000:");
	expect(0, "i.alice", NULL);
	{
		char *sp = test_snapshot_get(nss, 1, "s.alice");

		ck_assert_ptr_nonnull(sp);
		ck_assert_msg(strncmp(sp, "alice:*:", 8) == 0, "%s", sp);
		ck_assert_msg(strstr(sp, ":0:99999:7:::") != NULL, "%s", sp);
		free(sp);
	}

	run(0, NULL, "data-science");
	expect(0, "g.data-science", "data-science:x:20001:");
	run(1, "alice", "data-science");
	expect(0, "g.data-science", "data-science:x:20001:alice");
	expect(0, "g=20001", "data-science:x:20001:alice");
	expect(0, "i.alice", "20001");

	/* locked: shadow says so, passwd keeps the owner of the files */
	run(3, "alice", NULL);
	{
		char *sp = test_snapshot_get(nss, 1, "s.alice");

		ck_assert_ptr_nonnull(sp);
		ck_assert_msg(strncmp(sp, "alice:!*:", 9) == 0, "%s", sp);
		ck_assert_msg(strcmp(sp + strlen(sp) - 3, ":1:") == 0, "expired: %s", sp);
		free(sp);
	}
	expect(0, "p.alice", line);
	run(4, "alice", NULL);

	/* renamed: old keys gone, group lists the new name */
	run(5, "alice", "alicia");
	expect(0, "p.alice", NULL);
	expect(0, "g.alice", NULL);
	expect(1, "s.alice", NULL);
	expect(0, "i.alice", NULL);
	expect(0, "i.alicia", "20001");
	expect(0, "g.data-science", "data-science:x:20001:alicia");
	expect(0, "g.alicia", "alicia:x:20000:");

	/* gecos is kept on one line and out of the separators */
	{
		struct op op = {"alicia", NULL, 6, "Dr: Alice\nEvil:0:0"};
		struct pwb_error err = {0};
		char *pw;

		ck_assert_int_eq(pwb_store_write(ts.st, op_fn, &op, &err), 0);
		pw = test_snapshot_get(nss, 0, "p.alicia");
		ck_assert_ptr_nonnull(pw);
		ck_assert_msg(strstr(pw, ":Dr  Alice Evil 0 0:") != NULL, "%s", pw);
		free(pw);
	}

	/* removed from the group */
	run(2, "alicia", "data-science");
	expect(0, "g.data-science", "data-science:x:20001:");
	expect(0, "i.alicia", NULL); /* no groups: no entry */

	/* deleted: gone from every map */
	run(1, "alicia", "data-science");
	run(7, "alicia", NULL);
	expect(0, "p.alicia", NULL);
	expect(0, "p=20000", NULL);
	expect(0, "g.alicia", NULL);
	expect(0, "g=20000", NULL);
	expect(1, "s.alicia", NULL);
	expect(0, "g.data-science", "data-science:x:20001:");

	/* group deleted */
	run(8, NULL, "data-science");
	expect(0, "g.data-science", NULL);
	expect(0, "g=20001", NULL);
}
END_TEST

START_TEST(file_modes)
{
	DIR *d;
	struct dirent *de;
	int seen = 0;

	test_add_user(ts.st, "bob");
	d = opendir(nss);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		char path[8192];
		struct stat st;

		if (de->d_name[0] == '.' && strcmp(de->d_name, ".lock") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", nss, de->d_name);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_msg(!(st.st_mode & 0002), "%s is world-writable", de->d_name);
		if (strncmp(de->d_name, "shadow-", 7) == 0 || strcmp(de->d_name, ".lock") == 0)
			ck_assert_msg((st.st_mode & 0077) == 0, "%s mode %o", de->d_name,
				      st.st_mode & 0777);
		else
			ck_assert_msg((st.st_mode & 0777) == 0644, "%s mode %o", de->d_name,
				      st.st_mode & 0777);
		seen++;
	}
	closedir(d);
	ck_assert_int_eq(seen, 8); /* 3 levels x 2 maps + the lock file + generation */
}
END_TEST

/* Many random changes with tiny level limits, so deltas merge into mids and
 * mids into bases many times: the resolved snapshot must always equal a
 * full rebuild of the store, and old level files must not pile up. */
START_TEST(incremental_equals_full_rebuild)
{
	static const char *const groups[] = {"g-a", "g-b", "g-c"};
	char name[32], other[32];
	unsigned seed = 12345;
	int i, alive[60] = {0}, locked[60] = {0};
	struct pwb_error err = {0};
	char *inc, *inc_shadow, *full, *full_shadow;

	teardown();
	setup_with("nss-delta-max=16\nnss-mid-max=96\n");
	for (i = 0; i < 3; i++)
		run(0, NULL, groups[i]);
	for (i = 0; i < 600; i++) {
		int u = rand_r(&seed) % 60, action = rand_r(&seed) % 6;
		const char *g = groups[rand_r(&seed) % 3];

		snprintf(name, sizeof(name), "user%d", u);
		if (!alive[u]) {
			char home[PATH_MAX];

			/* A deleted user's home stays retired: each one gets its own. */
			snprintf(home, sizeof(home), "%s/home/%s-%d", ts.dir, name, i);
			test_add_user_at(ts.st, name, home);
			alive[u] = 1;
			locked[u] = 0;
			continue;
		}
		switch (action) {
		case 0:
			run(1, name, g);
			break;
		case 1:
			run(2, name, g);
			break;
		case 2:
			run(locked[u] ? 4 : 3, name, NULL);
			locked[u] = !locked[u];
			break;
		case 3:
			run(7, name, NULL);
			alive[u] = 0;
			break;
		case 4: { /* rename there and back: exercises tombstones */
			snprintf(other, sizeof(other), "tmp%d", u);
			run(5, name, other);
			run(5, other, name);
			break;
		}
		default:
			run(1, name, g);
			break;
		}
		if (i % 97 == 0) {
			DIR *d = opendir(nss);
			struct dirent *de;
			int files = 0;

			ck_assert_ptr_nonnull(d);
			while ((de = readdir(d)))
				files += de->d_name[0] != '.';
			closedir(d);
			ck_assert_int_eq(files, 7); /* 3 levels x 2 maps + generation */
		}
	}
	inc = test_snapshot_dump(nss, 0);
	inc_shadow = test_snapshot_dump(nss, 1);
	ck_assert_int_eq(pwb_store_publish_all(ts.st, &err), 0);
	full = test_snapshot_dump(nss, 0);
	full_shadow = test_snapshot_dump(nss, 1);
	ck_assert_uint_gt(strlen(full), 100);
	ck_assert_str_eq(inc, full);
	ck_assert_str_eq(inc_shadow, full_shadow);
	free(inc);
	free(inc_shadow);
	free(full);
	free(full_shadow);
}
END_TEST

struct bind_op {
	const char *name, *issuer, *subject, *rename_to;
	bool delete;
};

static int bind_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct bind_op *op = ctx;
	struct pwb_user u = {0};
	int r = pwb_user_get_by_name(txn, op->name, &u, err);

	if (r == 0 && op->delete)
		r = pwb_user_delete(txn, u.id, err);
	else if (r == 0 && op->rename_to) {
		snprintf(u.name, sizeof(u.name), "%s", op->rename_to);
		r = pwb_user_update(txn, &u, err);
	} else if (r == 0)
		r = pwb_user_bind(txn, u.id, op->issuer, op->subject, err);
	pwb_user_clear(&u);
	return r;
}

static void bind_run(struct bind_op op)
{
	struct pwb_error err = {0};

	ck_assert_msg(pwb_store_write(ts.st, bind_fn, &op, &err) == 0, "%s: %s", op.name, err.msg);
}

START_TEST(binding_keys)
{
	char *inc, *full;
	struct pwb_error err = {0};

	test_add_user(ts.st, "alice");
	test_add_user(ts.st, "bob");
	/* unbound: no key */
	expect(1, "b.alice", NULL);
	bind_run((struct bind_op){"alice", "https://idp.example", "sub-1", NULL, false});
	expect(1, "b.alice", "https://idp.example\nsub-1");
	expect(0, "b.alice", NULL); /* root-only: never in the public set */
	expect(1, "b.bob", NULL);
	/* rebinding replaces it, unbinding removes it */
	bind_run((struct bind_op){"alice", "https://idp.example", "sub-2", NULL, false});
	expect(1, "b.alice", "https://idp.example\nsub-2");
	bind_run((struct bind_op){"bob", "https://idp.example", "sub-b", NULL, false});
	bind_run((struct bind_op){"alice", NULL, NULL, NULL, false});
	expect(1, "b.alice", NULL);
	expect(1, "b.bob", "https://idp.example\nsub-b");
	/* it follows a rename and goes with the user */
	bind_run((struct bind_op){"bob", NULL, NULL, "robert", false});
	expect(1, "b.bob", NULL);
	expect(1, "b.robert", "https://idp.example\nsub-b");
	inc = test_snapshot_dump(nss, 1);
	ck_assert_int_eq(pwb_store_publish_all(ts.st, &err), 0);
	full = test_snapshot_dump(nss, 1);
	ck_assert_str_eq(inc, full);
	ck_assert_ptr_nonnull(strstr(full, "b.robert=https://idp.example\nsub-b\n"));
	free(inc);
	free(full);
	bind_run((struct bind_op){"robert", NULL, NULL, NULL, true});
	expect(1, "b.robert", NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("publish");
	TCase *tc = tcase_create("publish");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, user_lifecycle_in_snapshot);
	tcase_add_test(tc, file_modes);
	tcase_add_test(tc, incremental_equals_full_rebuild);
	tcase_add_test(tc, binding_keys);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
