/* Unit tests for pwbd's core (libpwbd.la): roles from the peer uid and a
 * re-read pwb.conf, the dispatcher's refusals (malformed request, unknown
 * op, op outside the role), the reply's shape, and the actor the change log
 * records (from the request for root only); metrics.get's decisions and
 * its exposition. */
#include <check.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "metrics.h"
#include "pwbd.h"
#include "testutil.h"

static struct test_store ts;
static struct pwbd d;

static void setup(void)
{
	struct pwb_error err = {0};

	test_store_setup(&ts, 30000, 30999, NULL);
	memset(&d, 0, sizeof(d));
	d.config_path = ts.conf_path;
	d.read_timeout_ms = 1000;
	ck_assert_msg(pwbd_config_refresh(&d, &err) == 0, "%s", err.msg);
	d.st = ts.st; /* the store has one opener: share the test's */
}

static void teardown(void)
{
	d.st = NULL;
	pwbd_close(&d);
	test_store_teardown(&ts);
}

/* Dispatches text for (role, uid) and returns the parsed reply. */
static json_t *call(unsigned role, uid_t uid, const char *text)
{
	char *reply = pwbd_dispatch(&d, role, uid, text, strlen(text), -1);
	json_t *j;

	ck_assert_ptr_nonnull(reply);
	j = json_loads(reply, 0, NULL);
	ck_assert_msg(json_is_object(j), "%s", reply);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "v")), 1);
	free(reply);
	return j;
}

static int code_of(json_t *j)
{
	return (int)json_integer_value(json_object_get(j, "code"));
}

static const char *error_of(json_t *j)
{
	const char *s = json_string_value(json_object_get(j, "error"));

	return s ? s : "";
}

START_TEST(ping_answers_every_role)
{
	unsigned roles[] = {PWBD_ROLE_ROOT, PWBD_ROLE_SCIM, PWBD_ROLE_LOGIN};

	for (size_t i = 0; i < 3; i++) {
		json_auto_t *j = call(roles[i], 1000, "{\"v\":1,\"op\":\"ping\",\"id\":\"p-1\"}");

		ck_assert_int_eq(code_of(j), 0);
		ck_assert_str_eq(json_string_value(json_object_get(j, "id")), "p-1");
		ck_assert_int_eq(
		    json_integer_value(json_object_get(json_object_get(j, "result"), "pid")),
		    getpid());
		ck_assert_ptr_null(json_object_get(j, "error"));
	}
}
END_TEST

START_TEST(op_outside_the_role_is_refused)
{
	json_auto_t *scim = call(PWBD_ROLE_SCIM, 998,
				 "{\"v\":1,\"op\":\"request.status\",\"id\":\"a\",\"args\":{}}");
	json_auto_t *login =
	    call(PWBD_ROLE_LOGIN, 997, "{\"v\":1,\"op\":\"user.add\",\"id\":\"b\",\"args\":{}}");

	ck_assert_int_eq(code_of(scim), PWB_EPERM);
	ck_assert_str_eq(error_of(scim), "op request.status is not allowed to uid 998");
	ck_assert_str_eq(json_string_value(json_object_get(scim, "id")), "a");
	ck_assert_ptr_null(json_object_get(scim, "result"));
	ck_assert_int_eq(code_of(login), PWB_EPERM);
	ck_assert_str_eq(error_of(login), "op user.add is not allowed to uid 997");
}
END_TEST

START_TEST(malformed_and_unknown_are_refused)
{
	json_auto_t *bad =
	    call(PWBD_ROLE_ROOT, 0, "{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"z\":0}");
	json_auto_t *unknown = call(PWBD_ROLE_ROOT, 0, "{\"v\":1,\"op\":\"no.such\",\"id\":\"c\"}");

	ck_assert_int_eq(code_of(bad), PWB_EINVAL);
	ck_assert_str_eq(json_string_value(json_object_get(bad, "id")), "");
	ck_assert_msg(strstr(error_of(bad), "unknown key \"z\""), "%s", error_of(bad));
	ck_assert_int_eq(code_of(unknown), PWB_EINVAL);
	ck_assert_str_eq(error_of(unknown), "no such op");
}
END_TEST

struct last_change {
	struct pwb_change_entry e;
	int n;
};

static int keep_last(const struct pwb_change_entry *e, void *ctx)
{
	struct last_change *l = ctx;

	l->e = *e;
	l->e.changed = NULL;
	l->n++;
	return 0;
}

static int read_log(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_change_foreach(txn, 0, 0, keep_last, ctx, NULL, err);
}

static struct last_change last_change(void)
{
	struct last_change l = {0};
	struct pwb_error err = {0};

	ck_assert_msg(pwb_store_read(ts.st, read_log, &l, &err) == 0, "%s", err.msg);
	ck_assert_int_gt(l.n, 0);
	return l;
}

START_TEST(root_actor_comes_from_the_request)
{
	json_auto_t *j =
	    call(PWBD_ROLE_ROOT, 0,
		 "{\"v\":1,\"op\":\"user.add\",\"id\":\"rq-1\",\"args\":{\"name\":\"dora\"},"
		 "\"actor\":{\"kind\":\"pwbadm\",\"user\":\"alice\",\"service\":\"sshd\"}}");
	struct last_change l;

	ck_assert_msg(code_of(j) == 0, "%s", error_of(j));
	l = last_change();
	ck_assert_str_eq(l.e.request_id, "rq-1");
	ck_assert_str_eq(l.e.actor.kind, "pwbadm");
	ck_assert_str_eq(l.e.actor.name, "alice");
	ck_assert_str_eq(l.e.actor.service, "sshd");
	ck_assert_uint_eq(l.e.actor.uid, 0);
}
END_TEST

START_TEST(root_without_actor_is_root)
{
	json_auto_t *j =
	    call(PWBD_ROLE_ROOT, 0,
		 "{\"v\":1,\"op\":\"user.add\",\"id\":\"rq-2\",\"args\":{\"name\":\"eve\"}}");
	json_auto_t *st = NULL;
	struct last_change l;

	ck_assert_msg(code_of(j) == 0, "%s", error_of(j));
	l = last_change();
	ck_assert_str_eq(l.e.request_id, "rq-2");
	ck_assert_str_eq(l.e.actor.kind, "root");
	ck_assert_str_eq(l.e.actor.name, "");
	/* and the request is found again by its id */
	st = call(PWBD_ROLE_ROOT, 0,
		  "{\"v\":1,\"op\":\"request.status\",\"id\":\"q\",\"args\":{\"id\":\"rq-2\"}}");
	ck_assert_msg(code_of(st) == 0, "%s", error_of(st));
	ck_assert(json_is_true(json_object_get(json_object_get(st, "result"), "applied")));
	ck_assert_uint_eq(json_integer_value(json_object_get(json_object_get(st, "result"), "seq")),
			  l.e.seq);
}
END_TEST

static void write_conf(const char *extra)
{
	char *text = NULL;
	FILE *f;

	ck_assert_int_ge(
	    asprintf(&text, "db-dir=%s/db\nuser-homedir-path=%s/home\n%s", ts.dir, ts.dir, extra),
	    0);
	f = fopen(ts.conf_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(text);
}

START_TEST(roles_follow_a_changed_config)
{
	struct passwd *pw = getpwuid(1); /* daemon, in every passwd */
	struct pwb_error err = {0};
	char extra[256];

	if (!pw)
		return;
	ck_assert_uint_eq(pwbd_role_of(&d, 0), PWBD_ROLE_ROOT);
	ck_assert_uint_eq(pwbd_role_of(&d, 1), 0);
	snprintf(extra, sizeof(extra), "scim-user=%s\n", pw->pw_name);
	write_conf(extra);
	ck_assert_int_eq(pwbd_config_refresh(&d, &err), 0);
	ck_assert_uint_eq(pwbd_role_of(&d, 1), PWBD_ROLE_SCIM);
	snprintf(extra, sizeof(extra), "login-user=%s\nscim-user=nosuchuser\n", pw->pw_name);
	write_conf(extra);
	ck_assert_int_eq(pwbd_config_refresh(&d, &err), 0);
	ck_assert_uint_eq(pwbd_role_of(&d, 1), PWBD_ROLE_LOGIN);
	/* a broken file keeps the settings in force */
	write_conf("no-such-key=1\n");
	ck_assert_int_eq(pwbd_config_refresh(&d, &err), 0);
	ck_assert_uint_eq(pwbd_role_of(&d, 1), PWBD_ROLE_LOGIN);
}
END_TEST

/* metrics.get {remote_addr}: the status and body pwbd decides. */
static json_t *metrics_get(unsigned role, const char *addr, int *status)
{
	char text[256];
	json_t *j;

	snprintf(text, sizeof(text),
		 "{\"v\":1,\"op\":\"metrics.get\",\"id\":\"m\",\"args\":{\"remote_addr\":\"%s\"}}",
		 addr);
	j = call(role, 998, text);
	*status = (int)json_integer_value(json_object_get(json_object_get(j, "result"), "status"));
	return j;
}

static const char *metrics_body(json_t *j)
{
	const char *s = json_string_value(json_object_get(json_object_get(j, "result"), "body"));

	return s ? s : "";
}

/* metrics.get: the scim-user's and root's, never the login-user's; 404
 * without scim-metrics-path; without a token file loopback only; the
 * exposition sums what pwbd_metrics_scim was told, with cumulative
 * buckets. */
START_TEST(metrics_get_decides_and_counts)
{
	json_auto_t *off = NULL, *login = NULL, *on = NULL, *far = NULL, *v6 = NULL;
	const char *body;
	int status;

	off = metrics_get(PWBD_ROLE_SCIM, "127.0.0.1", &status);
	ck_assert_int_eq(status, 404);
	login = metrics_get(PWBD_ROLE_LOGIN, "127.0.0.1", &status);
	ck_assert_int_eq(code_of(login), PWB_EPERM);
	d.cfg.scim_metrics_path = strdup("/pwb-metrics");
	pwbd_metrics_scim("PATCH", 204, 0.003);
	pwbd_metrics_scim("PATCH", 204, 0.004);
	pwbd_metrics_scim("GET", 200, 7.0);
	on = metrics_get(PWBD_ROLE_SCIM, "127.0.0.1", &status);
	ck_assert_int_eq(status, 200);
	body = metrics_body(on);
	ck_assert_ptr_nonnull(
	    strstr(body, "\npwb_scim_requests_total{method=\"PATCH\",status=\"204\"} 2\n"));
	ck_assert_ptr_nonnull(
	    strstr(body, "\npwb_scim_requests_total{method=\"GET\",status=\"200\"} 1\n"));
	ck_assert_ptr_nonnull(
	    strstr(body, "\npwb_scim_request_duration_seconds_bucket{le=\"0.005\"} 2\n"));
	ck_assert_ptr_nonnull(
	    strstr(body, "\npwb_scim_request_duration_seconds_bucket{le=\"5\"} 2\n"));
	ck_assert_ptr_nonnull(
	    strstr(body, "\npwb_scim_request_duration_seconds_bucket{le=\"10\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(body, "\npwb_scim_request_duration_seconds_count 3\n"));
	far = metrics_get(PWBD_ROLE_SCIM, "10.0.0.1", &status);
	ck_assert_int_eq(status, 403);
	ck_assert_ptr_null(strstr(metrics_body(far), "pwb_scim"));
	v6 = metrics_get(PWBD_ROLE_ROOT, "::ffff:127.0.0.1", &status);
	ck_assert_int_eq(status, 200);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pwbd_dispatch");
	TCase *tc = tcase_create("dispatch");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, ping_answers_every_role);
	tcase_add_test(tc, op_outside_the_role_is_refused);
	tcase_add_test(tc, malformed_and_unknown_are_refused);
	tcase_add_test(tc, root_actor_comes_from_the_request);
	tcase_add_test(tc, root_without_actor_is_root);
	tcase_add_test(tc, roles_follow_a_changed_config);
	tcase_add_test(tc, metrics_get_decides_and_counts);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
