/* Unit tests for pwbd's admin operations (pwbd/op_admin.c, admin_*.c) run
 * on a real test store, as pwbd and pwbadm --offline run them: root only,
 * arguments validated, results in the record codec's public form. */
#include <check.h>
#include <string.h>
#include "ops.h"
#include "store.h"
#include "testutil.h"

static struct test_store ts;

static void setup(void)
{
	test_store_setup(&ts, 20000, 29999, NULL);
}

static void teardown(void)
{
	test_store_teardown(&ts);
}

/* Runs op with args (stolen) as root; returns the code, *result set. */
static int run(const char *op_name, json_t *args, json_t **result, struct pwb_error *err)
{
	const struct pwbd_op *op;
	struct pwb_rpc_request req = {0};
	struct pwbd_call call = {0};
	int rc;

	for (op = pwbd_ops_admin; op->name && strcmp(op->name, op_name) != 0; op++)
		;
	ck_assert_ptr_nonnull(op->name);
	snprintf(req.op, sizeof(req.op), "%s", op_name);
	snprintf(req.id, sizeof(req.id), "test-1");
	req.args = args;
	call.st = ts.st;
	call.cfg = &ts.cfg;
	call.role = PWBD_ROLE_ROOT;
	call.req = &req;
	memset(err, 0, sizeof(*err));
	*result = NULL;
	rc = op->fn(&call, result, err);
	json_decref(args);
	return rc;
}

START_TEST(admin_ops_are_root_only)
{
	static const char *const writes[] = {"user.add",	 "user.lock",	    "user.unlock",
					     "user.delete",	 "user.groups.set", "user.rebind",
					     "token.generate",	 "token.revoke",    "store.import",
					     "snapshot.rebuild", "group.map",	    "group.unmap"};
	const struct pwbd_op *op;
	size_t i, n = 0;

	for (op = pwbd_ops_admin; op->name; op++, n++) {
		ck_assert_msg(op->roles == PWBD_ROLE_ROOT, "%s is not root-only", op->name);
		for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
			if (strcmp(writes[i], op->name) == 0)
				break;
		ck_assert_msg(op->writes == (i < sizeof(writes) / sizeof(writes[0])),
			      "%s: writes flag", op->name);
	}
	ck_assert_uint_ge(n, 16);
}
END_TEST

START_TEST(user_add_show_list_delete)
{
	struct pwb_error err;
	json_t *r;
	struct pwb_user u;

	ck_assert_int_eq(
	    run("user.add", json_pack("{s:s, s:[s]}", "name", "alice", "groups", "ops"), &r, &err),
	    0);
	ck_assert_int_eq(
	    pwb_user_from_json(json_object_get(r, "user"), PWB_RECORD_STRICT, &u, &err), 0);
	ck_assert_uint_eq(u.uid, 20000);
	pwb_user_clear(&u);
	json_decref(r);
	ck_assert_int_eq(run("user.show", json_pack("{s:s}", "name", "alice"), &r, &err), 0);
	ck_assert_str_eq(json_string_value(json_array_get(
			     json_object_get(json_object_get(r, "user"), "groups"), 0)),
			 "ops");
	json_decref(r);
	ck_assert_int_eq(run("user.lock", json_pack("{s:s}", "name", "alice"), &r, &err), 0);
	ck_assert(json_is_true(json_object_get(r, "changed")));
	json_decref(r);
	ck_assert_int_eq(run("user.list", json_object(), &r, &err), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "users")), 0); /* locked: hidden */
	json_decref(r);
	ck_assert_int_eq(run("user.list", json_pack("{s:b}", "all", 1), &r, &err), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "users")), 1);
	json_decref(r);
	ck_assert_int_eq(run("user.delete", json_pack("{s:s}", "name", "alice"), &r, &err), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "uid")), 20000);
	json_decref(r);
	ck_assert_int_eq(run("user.show", json_pack("{s:s}", "name", "alice"), &r, &err),
			 PWB_ENOTFOUND);
}
END_TEST

START_TEST(arguments_are_validated)
{
	struct pwb_error err;
	json_t *r;

	ck_assert_int_eq(run("user.add", json_pack("{s:s}", "name", "Bad Name"), &r, &err),
			 PWB_EINVAL);
	ck_assert_str_eq(err.msg, "argument name: not a valid name");
	ck_assert_int_eq(
	    run("user.add", json_pack("{s:s, s:s}", "name", "bob", "home", "rel"), &r, &err),
	    PWB_EINVAL);
	ck_assert_int_eq(
	    run("user.add", json_pack("{s:s, s:[s]}", "name", "bob", "groups", "a b"), &r, &err),
	    PWB_EINVAL);
	ck_assert_int_eq(run("user.delete", json_pack("{s:s}", "id", "../x"), &r, &err),
			 PWB_EINVAL);
	ck_assert_int_eq(run("token.generate",
			     json_pack("{s:{s:s, s:s}}", "token", "name", "t", "hash", "abc"), &r,
			     &err),
			 PWB_EINVAL);
	ck_assert_int_eq(run("user.list", json_object(), &r, &err), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "users")), 0); /* nothing added */
	json_decref(r);
}
END_TEST

START_TEST(import_is_strict_and_export_round_trips)
{
	struct pwb_error err;
	json_t *r;

	ck_assert_int_eq(run("store.import",
			     json_pack("{s:s, s:[s, s, s]}", "origin", "f.jsonl", "lines",
				       "{\"type\":\"user\",\"name\":\"bob\"}", "",
				       "{\"type\":\"user\",\"name\":\"carol\",\"colour\":\"red\"}"),
			     &r, &err),
			 PWB_EINVAL);
	ck_assert_str_eq(err.msg, "f.jsonl: line 3: user carol: unknown field \"colour\"");
	ck_assert_int_eq(run("store.import",
			     json_pack("{s:s, s:[s, s]}", "origin", "f.jsonl", "lines",
				       "{\"type\":\"user\",\"name\":\"bob\"}",
				       "{\"type\":\"group\",\"name\":\"g\",\"members\":[\"bob\"]}"),
			     &r, &err),
			 0);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "created")), 2);
	json_decref(r);
	ck_assert_int_eq(run("store.export", json_object(), &r, &err), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "users")), 1);
	ck_assert_str_eq(
	    json_string_value(json_array_get(
		json_object_get(json_array_get(json_object_get(r, "groups"), 0), "members"), 0)),
	    "bob");
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(r, "damaged"), "count")), 0);
	json_decref(r);
}
END_TEST

/* Many users in one transaction (for the listing's pages). */
static int add_many(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	int i, rc = 0, n = *(int *)vctx;

	for (i = 0; rc == 0 && i < n; i++) {
		struct pwb_user u = {0};

		snprintf(u.name, sizeof(u.name), "user%05d", i);
		u.active = true;
		u.gecos = strdup("A user with a long enough display name to fill pages quickly");
		rc = pwb_user_create(txn, &u, err);
		pwb_user_clear(&u);
	}
	return rc;
}

/* A listing larger than one reply frame comes in pages that chain by
 * "next"; together they hold every user once, and only the last page
 * reports damaged records. */
START_TEST(user_list_pages)
{
	int n = 6000, pages = 0, total = 0;
	struct pwb_error err = {0};
	json_t *r, *seen = json_object(), *u, *args;
	const char *next = NULL;
	size_t i;

	ck_assert_int_eq(pwb_store_write(ts.st, add_many, &n, &err), 0);
	do {
		args = json_pack("{s:b}", "all", 1);
		if (next)
			json_object_set_new(args, "after", json_string(next));
		ck_assert_int_eq(run("user.list", args, &r, &err), 0);
		json_array_foreach(json_object_get(r, "users"), i, u)
		{
			const char *name = json_string_value(json_object_get(u, "name"));

			ck_assert_ptr_null(json_object_get(seen, name));
			json_object_set_new(seen, name, json_true());
			total++;
		}
		pages++;
		ck_assert_uint_lt(json_dumpb(r, NULL, 0, JSON_COMPACT), PWB_RPC_MAX_FRAME);
		next = json_string_value(json_object_get(r, "next"));
		ck_assert(!next == !!json_object_get(r, "damaged"));
		json_object_set_new(seen, "@next", next ? json_string(next) : json_null());
		next = json_string_value(json_object_get(seen, "@next"));
		json_decref(r);
	} while (next);
	ck_assert_int_gt(pages, 1);
	ck_assert_int_eq(total, n);
	json_decref(seen);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("adm_ops");
	TCase *tc = tcase_create("ops");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, admin_ops_are_root_only);
	tcase_add_test(tc, user_add_show_list_delete);
	tcase_add_test(tc, arguments_are_validated);
	tcase_add_test(tc, import_is_strict_and_export_round_trips);
	tcase_add_test(tc, user_list_pages);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
