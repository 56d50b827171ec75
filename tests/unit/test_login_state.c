/* Unit tests for pwb-login/state.c: the state directory's ownership and
 * mode rule, single-use and browser-bound flows with their expiry and
 * caps, session lifetimes, a session ended while in use not coming back,
 * back-channel logout by sid/sub, and the jti replay cache. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "error.h"
#include "state.h"
#include "testutil.h"

#define S1 "stateAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1"
#define S2 "stateAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA2"
#define B1 "browserAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1"
#define B2 "browserAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA2"
#define C1 "cookieAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1"
#define C2 "cookieAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA2"

static char *tmp, dir[512];
static struct state_store st;
static const struct state_limits lim = {600, 5, 3};

static void setup(void)
{
	struct pwb_error err = {0};

	tmp = test_mkdtemp();
	snprintf(dir, sizeof(dir), "%s/sessions", tmp);
	ck_assert_msg(state_open(dir, &st, &err) == 0, "%s", err.msg);
}

static void teardown(void)
{
	state_close(&st);
	test_rmtree(tmp);
	free(tmp);
}

static struct state_flow flow(const char *ret)
{
	struct state_flow f = {.created = 1000};

	snprintf(f.nonce, sizeof(f.nonce), "n-%s", ret);
	snprintf(f.verifier, sizeof(f.verifier), "v-%s", ret);
	snprintf(f.return_to, sizeof(f.return_to), "%s", ret);
	return f;
}

START_TEST(directory_private)
{
	struct state_store other;
	struct pwb_error err = {0};
	struct stat sb;

	ck_assert_int_eq(stat(dir, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0700);
	ck_assert_int_eq(chmod(dir, 0750), 0);
	ck_assert_int_eq(state_open(dir, &other, &err), PWB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "0750"));
	ck_assert_int_eq(chmod(dir, 0700), 0);
	ck_assert_int_eq(state_open("relative", &other, &err), PWB_ECONFIG);
}
END_TEST

START_TEST(flow_single_use)
{
	struct state_flow f = flow("/app"), got;
	struct pwb_error err = {0};

	ck_assert_int_eq(state_flow_put(&st, S1, B1, &f, &lim, 1000, &err), 0);
	ck_assert_int_eq(state_flow_take(&st, S1, B1, 600, 1001, &got, &err), 0);
	ck_assert_str_eq(got.return_to, "/app");
	ck_assert_str_eq(got.nonce, "n-/app");
	ck_assert_str_eq(got.verifier, "v-/app");
	/* replayed state */
	ck_assert_int_eq(state_flow_take(&st, S1, B1, 600, 1002, &got, &err), PWB_ENOTFOUND);
	ck_assert_int_eq(state_flow_take(&st, S2, B1, 600, 1002, &got, &err), PWB_ENOTFOUND);
}
END_TEST

START_TEST(flow_bound_to_browser)
{
	struct state_flow f = flow("/"), got;
	struct pwb_error err = {0};

	ck_assert_int_eq(state_flow_put(&st, S1, B1, &f, &lim, 1000, &err), 0);
	/* another browser with the right state: refused, and the flow stays */
	ck_assert_int_eq(state_flow_take(&st, S1, B2, 600, 1001, &got, &err), PWB_ENOTFOUND);
	ck_assert_int_eq(state_flow_take(&st, S1, B1, 600, 1001, &got, &err), 0);
}
END_TEST

START_TEST(flow_expires)
{
	struct state_flow f = flow("/"), got;
	struct pwb_error err = {0};

	ck_assert_int_eq(state_flow_put(&st, S1, B1, &f, &lim, 1000, &err), 0);
	ck_assert_int_eq(state_flow_take(&st, S1, B1, 600, 1601, &got, &err), PWB_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.msg, "expired"));
	/* and it was taken: not usable later either */
	ck_assert_int_eq(state_flow_take(&st, S1, B1, 600, 1001, &got, &err), PWB_ENOTFOUND);
}
END_TEST

START_TEST(flow_caps)
{
	struct pwb_error err = {0};
	char state[64], browser[64];
	time_t now = time(NULL);
	struct state_flow f = flow("/");

	f.created = now;
	/* parallel tabs share a browser: three open flows, not four */
	for (int i = 0; i < 3; i++) {
		snprintf(state, sizeof(state), "tab%d", i);
		ck_assert_int_eq(state_flow_put(&st, state, B1, &f, &lim, now, &err), 0);
	}
	ck_assert_int_eq(state_flow_put(&st, "tab3", B1, &f, &lim, now, &err), PWB_EBUSY);
	/* the global cap holds across browsers */
	for (int i = 0; i < 2; i++) {
		snprintf(browser, sizeof(browser), "other%d", i);
		ck_assert_int_eq(state_flow_put(&st, browser, browser, &f, &lim, now, &err), 0);
	}
	ck_assert_int_eq(state_flow_put(&st, "x", "other9", &f, &lim, now, &err), PWB_EBUSY);
	ck_assert_ptr_nonnull(strstr(err.msg, "auth-openid-max-pending-flows"));
	/* expired flows do not count: swept by the next put */
	ck_assert_int_eq(state_flow_put(&st, "x", "other9", &f, &lim, now + 601, &err), 0);
}
END_TEST

static void session_fill(struct state_session *s, const char *user, const char *sid,
			 const char *sub)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->user, sizeof(s->user), "%s", user);
	s->uid = 70001;
	s->gid = 70001;
	s->home = strdup("/home/alice");
	s->groups = strdup("alice,staff-x");
	s->issuer = strdup("https://idp.example");
	s->subject = strdup(sub);
	s->sid = sid ? strdup(sid) : NULL;
	s->id_token = strdup("e30.e30.sig");
	s->created = time(NULL);
	s->seq = 7;
}

START_TEST(session_round_trip)
{
	struct state_session s, got;
	struct pwb_error err = {0};
	char path[600];
	struct stat sb;

	session_fill(&s, "alice", "sid-1", "sub-alice");
	ck_assert_int_eq(state_session_put(&st, C1, &s, &err), 0);
	ck_assert_int_eq(state_session_get(&st, C1, &got, &err), 0);
	ck_assert_str_eq(got.user, "alice");
	ck_assert_uint_eq(got.uid, 70001);
	ck_assert_str_eq(got.groups, "alice,staff-x");
	ck_assert_str_eq(got.sid, "sid-1");
	ck_assert_str_eq(got.id_token, "e30.e30.sig");
	ck_assert_uint_eq(got.seq, 7);
	state_session_clear(&got);
	/* named by a hash, never by the cookie; private */
	snprintf(path, sizeof(path), "%s/sessions/%s", dir, C1);
	ck_assert_int_ne(stat(path, &sb), 0);
	/* a tampered or unknown cookie finds nothing */
	ck_assert_int_eq(state_session_get(&st, C2, &got, &err), PWB_ENOTFOUND);
	ck_assert_int_eq(
	    state_session_get(&st, "cookieAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA0", &got, &err),
	    PWB_ENOTFOUND);
	state_session_clear(&s);
}
END_TEST

START_TEST(session_files_private)
{
	struct state_session s;
	struct pwb_error err = {0};
	char path[600];
	DIR *d;
	struct dirent *e;
	int files = 0;

	session_fill(&s, "alice", NULL, "sub-alice");
	ck_assert_int_eq(state_session_put(&st, C1, &s, &err), 0);
	snprintf(path, sizeof(path), "%s/sessions", dir);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		struct stat sb;
		char p[1200];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		ck_assert_int_eq(stat(p, &sb), 0);
		ck_assert_uint_eq(sb.st_mode & 077, 0);
		ck_assert_uint_eq(strlen(e->d_name), 64);
		files++;
	}
	closedir(d);
	ck_assert_int_eq(files, 1);
	state_session_clear(&s);
}
END_TEST

START_TEST(session_lifetimes)
{
	struct state_session s = {.created = 10000, .last_seen = 10000};

	ck_assert(!state_session_expired(&s, 60, 12, 10000 + 3600));
	/* idle */
	ck_assert(state_session_expired(&s, 60, 12, 10000 + 3601));
	/* absolute, however recently seen */
	s.last_seen = 10000 + 12 * 3600;
	ck_assert(!state_session_expired(&s, 60, 12, 10000 + 12 * 3600));
	ck_assert(state_session_expired(&s, 60, 12, 10000 + 12 * 3600 + 1));
	/* created in the future: a forged record */
	s.created = 20000;
	s.last_seen = 20000;
	ck_assert(state_session_expired(&s, 60, 12, 10000));
}
END_TEST

START_TEST(session_ended_stays_ended)
{
	struct state_session s, got;
	struct pwb_error err = {0};

	session_fill(&s, "alice", NULL, "sub-alice");
	ck_assert_int_eq(state_session_put(&st, C1, &s, &err), 0);
	s.seq = 9;
	ck_assert_int_eq(state_session_update(&st, C1, &s, &err), 0);
	ck_assert_int_eq(state_session_get(&st, C1, &got, &err), 0);
	ck_assert_uint_eq(got.seq, 9);
	state_session_clear(&got);
	ck_assert_int_eq(state_session_delete(&st, C1), 0);
	/* a worker still holding it cannot bring it back */
	ck_assert_int_eq(state_session_update(&st, C1, &s, &err), PWB_ENOTFOUND);
	ck_assert_int_ne(state_session_touch(&st, C1), 0);
	ck_assert_int_eq(state_session_get(&st, C1, &got, &err), PWB_ENOTFOUND);
	ck_assert_int_eq(state_session_delete(&st, C1), PWB_ENOTFOUND);
	state_session_clear(&s);
}
END_TEST

START_TEST(sessions_end_by_sid_or_sub)
{
	struct state_session a1, a2, b;
	struct state_session got;
	struct pwb_error err = {0};
	unsigned n;

	session_fill(&a1, "alice", "sid-1", "sub-alice");
	session_fill(&a2, "alice", "sid-2", "sub-alice");
	session_fill(&b, "bob", "sid-3", "sub-bob");
	ck_assert_int_eq(state_session_put(&st, C1, &a1, &err), 0);
	ck_assert_int_eq(state_session_put(&st, C2, &a2, &err), 0);
	ck_assert_int_eq(state_session_put(&st, "bobs", &b, &err), 0);
	ck_assert_int_eq(state_sessions_end(&st, "https://other.example", "sid-1", NULL, &n, &err),
			 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(state_sessions_end(&st, "https://idp.example", "sid-1", NULL, &n, &err),
			 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(state_session_get(&st, C1, &got, &err), PWB_ENOTFOUND);
	ck_assert_int_eq(
	    state_sessions_end(&st, "https://idp.example", NULL, "sub-alice", &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(state_session_get(&st, "bobs", &got, &err), 0);
	state_session_clear(&got);
	ck_assert_int_eq(state_sessions_end(&st, "https://idp.example", NULL, NULL, &n, &err),
			 PWB_EINVAL);
	state_session_clear(&a1);
	state_session_clear(&a2);
	state_session_clear(&b);
}
END_TEST

START_TEST(jti_replay_cache)
{
	struct pwb_error err = {0};
	time_t now = time(NULL);

	ck_assert_int_eq(state_jti_record(&st, "jti-1", now + 600, 2, now, &err), 0);
	ck_assert_int_eq(state_jti_record(&st, "jti-1", now + 600, 2, now, &err), PWB_EEXIST);
	ck_assert_int_eq(state_jti_record(&st, "jti-2", now + 600, 2, now, &err), 0);
	/* bounded */
	ck_assert_int_eq(state_jti_record(&st, "jti-3", now + 600, 2, now, &err), PWB_EBUSY);
	/* expired entries make room */
	ck_assert_int_eq(state_jti_record(&st, "jti-3", now + 1200, 2, now + 601, &err), 0);
}
END_TEST

START_TEST(gc_sweeps_idle_sessions)
{
	struct state_session s, got;
	struct pwb_error err = {0};
	time_t now = time(NULL);

	session_fill(&s, "alice", NULL, "sub-alice");
	ck_assert_int_eq(state_session_put(&st, C1, &s, &err), 0);
	state_gc(&st, &lim, 60, now);
	ck_assert_int_eq(state_session_get(&st, C1, &got, &err), 0);
	state_session_clear(&got);
	state_gc(&st, &lim, 60, now + 3601);
	ck_assert_int_eq(state_session_get(&st, C1, &got, &err), PWB_ENOTFOUND);
	state_session_clear(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("login_state");
	TCase *tc = tcase_create("login_state");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, directory_private);
	tcase_add_test(tc, flow_single_use);
	tcase_add_test(tc, flow_bound_to_browser);
	tcase_add_test(tc, flow_expires);
	tcase_add_test(tc, flow_caps);
	tcase_add_test(tc, session_round_trip);
	tcase_add_test(tc, session_files_private);
	tcase_add_test(tc, session_lifetimes);
	tcase_add_test(tc, session_ended_stays_ended);
	tcase_add_test(tc, sessions_end_by_sid_or_sub);
	tcase_add_test(tc, jti_replay_cache);
	tcase_add_test(tc, gc_sweeps_idle_sessions);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
