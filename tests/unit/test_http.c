/* Unit tests for lib/http.c: Cache-Control parsing and the https-only
 * rule (real fetches are covered by the integration tests). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "http.h"

static const struct {
	const char *value;
	int64_t max_age;
	bool no_store;
} cc[] = {
    {"max-age=300", 300, false},
    {" public, max-age=86400 ", 86400, false},
    {"MAX-AGE=5, must-revalidate", 5, false},
    {"no-store", -1, true},
    {"no-cache, max-age=0", 0, true},
    {"max-age=abc", -1, false},
    {"max-age=", -1, false},
    {"private", -1, false},
    {"", -1, false},
};

START_TEST(cache_control)
{
	int64_t max_age;
	bool no_store;

	pwb_http_parse_cache_control(cc[_i].value, &max_age, &no_store);
	ck_assert_int_eq(max_age, cc[_i].max_age);
	ck_assert_int_eq(no_store, cc[_i].no_store);
}
END_TEST

START_TEST(https_only)
{
	struct pwb_http_response resp;
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_http_get("http://127.0.0.1:1/x", NULL, 1, 1024, &resp, &err),
			 PWB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "only https://"));
	ck_assert_ptr_null(resp.body);
	/* Nothing listens on port 1: unreachable, named in the message. */
	ck_assert_int_eq(pwb_http_get("https://127.0.0.1:1/x", NULL, 1, 1024, &resp, &err),
			 PWB_EUNAVAIL);
	ck_assert_ptr_nonnull(strstr(err.msg, "https://127.0.0.1:1/x"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("http");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, cache_control, 0, sizeof(cc) / sizeof(cc[0]));
	tcase_add_test(tc, https_only);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
