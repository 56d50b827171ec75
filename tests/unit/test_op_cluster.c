/* Unit tests for pwbd/op_cluster.c: what cluster.status reports (each
 * host's lag against the database's sequence, report and apply ages; the
 * last contact's sequence when the database cannot be asked) and that on a
 * single host every cluster op answers "not in cluster mode". */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "admin.h"
#include "../../pwbd/cluster.h" /* pwbd's, not lib/store's of the same name */
#include "ops.h"

static int64_t int_at(json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

START_TEST(host_lag_and_age)
{
	struct pwb_cluster_host h = {
	    .name = "web2", .role = "reader", .applied = 90, .reported_at = 1000};
	json_t *o;

	ck_assert_int_eq(pwbd_cluster_host_json(&h, 100, 1030, &o), 0);
	ck_assert_str_eq(json_string_value(json_object_get(o, "name")), "web2");
	ck_assert_str_eq(json_string_value(json_object_get(o, "role")), "reader");
	ck_assert_int_eq(int_at(o, "applied"), 90);
	ck_assert_int_eq(int_at(o, "lag"), 10);
	ck_assert_int_eq(int_at(o, "report_age_seconds"), 30);
	json_decref(o);
	/* ahead of what the database said (a report after the read): lag 0;
	 * never reported: age 0 */
	h.applied = 120;
	h.reported_at = 0;
	ck_assert_int_eq(pwbd_cluster_host_json(&h, 100, 1030, &o), 0);
	ck_assert_int_eq(int_at(o, "lag"), 0);
	ck_assert_int_eq(int_at(o, "report_age_seconds"), 0);
	json_decref(o);
}
END_TEST

START_TEST(status_with_and_without_the_database)
{
	struct pwbd_cluster_status s = {.host = "web1",
					.connected = false,
					.refusing = true,
					.db_seq = 70,
					.last_contact = 900};
	struct pwb_cluster_state db = {.schema = 1, .seq = 80, .horizon = 5};
	json_t *o;

	snprintf(s.why, sizeof(s.why), "the database is behind this host");
	s.follow.applied = 75;
	s.follow.applied_at = 950;
	/* the database did not answer: its sequence as last seen */
	ck_assert_int_eq(pwbd_cluster_status_json(&s, NULL, 1000, &o), 0);
	ck_assert_str_eq(json_string_value(json_object_get(o, "role")), "writer");
	ck_assert(json_is_false(json_object_get(o, "connected")));
	ck_assert(json_is_true(json_object_get(o, "refusing")));
	ck_assert_str_eq(json_string_value(json_object_get(o, "why")),
			 "the database is behind this host");
	ck_assert_int_eq(int_at(o, "db_seq"), 70);
	ck_assert_int_eq(int_at(o, "applied"), 75);
	ck_assert_int_eq(int_at(o, "applied_age_seconds"), 50);
	ck_assert_int_eq(int_at(o, "last_contact"), 900);
	ck_assert_int_eq(int_at(o, "schema"), 0);
	ck_assert(json_is_array(json_object_get(o, "hosts")));
	json_decref(o);
	/* it answered: its own state */
	s.reader = true;
	ck_assert_int_eq(pwbd_cluster_status_json(&s, &db, 1000, &o), 0);
	ck_assert_str_eq(json_string_value(json_object_get(o, "role")), "reader");
	ck_assert_int_eq(int_at(o, "db_seq"), 80);
	ck_assert_int_eq(int_at(o, "horizon"), 5);
	ck_assert_int_eq(int_at(o, "schema"), 1);
	json_decref(o);
}
END_TEST

START_TEST(single_host_is_not_in_cluster_mode)
{
	struct pwb_config cfg = {0};
	struct pwb_rpc_request req = {0};
	struct pwbd_call call = {.cfg = &cfg, .role = PWBD_ROLE_ROOT, .req = &req};
	size_t n = 0;

	cfg.store_backend = "berkeleydb";
	req.args = json_pack("{s:I}", "upto", (json_int_t)5);
	for (const struct pwbd_op *op = pwbd_ops_cluster; op->name; op++, n++) {
		struct pwb_error err = {0};
		json_t *result = (json_t *)1;

		ck_assert_uint_eq(op->roles, PWBD_ROLE_ROOT);
		ck_assert_int_eq(op->fn(&call, &result, &err), PWB_ECONFIG);
		ck_assert_ptr_null(result);
		ck_assert_msg(strstr(err.msg, "this host is not in cluster mode "
					      "(store-backend=berkeleydb)"),
			      "%s: %s", op->name, err.msg);
	}
	ck_assert_uint_eq(n, 5);
	json_decref(req.args);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("op_cluster");
	TCase *tc = tcase_create("op_cluster");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, host_lag_and_age);
	tcase_add_test(tc, status_with_and_without_the_database);
	tcase_add_test(tc, single_host_is_not_in_cluster_mode);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
