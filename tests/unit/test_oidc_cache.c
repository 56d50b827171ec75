/* Unit tests for lib/oidc_cache.c: the cache directory's ownership and
 * mode, entry round trip, and per-URL names. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "oidc_cache.h"
#include "testutil.h"

START_TEST(dir_entries_and_names)
{
	char *dir = test_mkdtemp(), cache[PATH_MAX], n1[80], n2[80], *file = NULL;
	struct pwb_cache_entry e = {"https://a/jwks", "{\"keys\":[]}", 100, 200, 7}, got;
	struct pwb_error err = {0};
	struct stat st;

	ck_assert_int_eq(pwb_oidc_cache_dir(dir, cache, &err), 0);
	ck_assert_int_eq(stat(cache, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(pwb_oidc_cache_name("jwks", "https://a/jwks", n1), 0);
	ck_assert_int_eq(pwb_oidc_cache_name("jwks", "https://b/jwks", n2), 0);
	ck_assert_str_ne(n1, n2);
	ck_assert(strncmp(n1, "jwks-", 5) == 0);
	ck_assert_int_eq(pwb_oidc_cache_load(cache, n1, &got, &err), PWB_ENOTFOUND);
	ck_assert_int_eq(pwb_oidc_cache_save(cache, n1, &e, &err), 0);
	ck_assert_int_eq(pwb_oidc_cache_load(cache, n1, &got, &err), 0);
	ck_assert_str_eq(got.url, e.url);
	ck_assert_str_eq(got.body, e.body);
	ck_assert_int_eq(got.fetched, 100);
	ck_assert_int_eq(got.expires, 200);
	ck_assert_int_eq(got.forced, 7);
	pwb_cache_entry_clear(&got);
	ck_assert_int_ge(asprintf(&file, "%s/%s", cache, n1), 0);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	free(file);
	file = test_write_file(cache, "bad.json", "{\"url\":1}");
	ck_assert_int_eq(pwb_oidc_cache_load(cache, "bad.json", &got, &err), PWB_EINVAL);
	free(file);
	/* a cache directory others can read is refused */
	ck_assert_int_eq(chmod(cache, 0755), 0);
	ck_assert_int_eq(pwb_oidc_cache_dir(dir, cache, &err), PWB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "must be 0700"));
	test_rmtree(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("oidc_cache");
	TCase *tc = tcase_create("oidc_cache");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, dir_entries_and_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
