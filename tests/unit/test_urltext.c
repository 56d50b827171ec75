/* Unit tests for lib/base/urltext.c: the one percent-decoder, strict
 * (pwb-login) and lenient (SCIM), and the reason phrases. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "error.h"
#include "urltext.h"

static const char *decoded(const char *in, unsigned flags)
{
	static char *last;

	free(last);
	last = NULL;
	return pwb_percent_decode(in, strlen(in), flags, &last) == 0 ? last : NULL;
}

START_TEST(lenient_keeps_what_it_cannot_decode)
{
	ck_assert_str_eq(decoded("a%2Fb%zz%4", 0), "a/b%zz%4");
	ck_assert_str_eq(decoded("a+b", 0), "a+b");
	ck_assert_str_eq(decoded("a+b%2B", PWB_PERCENT_PLUS), "a b+");
	ck_assert_str_eq(decoded("%0a", 0), "\n");
	ck_assert_ptr_null(decoded("a%00b", 0));
}
END_TEST

START_TEST(strict_refuses)
{
	unsigned s = PWB_PERCENT_STRICT | PWB_PERCENT_PLUS;

	ck_assert_str_eq(decoded("%2Fapp%3Fx%3D1+2", s), "/app?x=1 2");
	ck_assert_ptr_null(decoded("a%zz", s));
	ck_assert_ptr_null(decoded("a%4", s));
	ck_assert_ptr_null(decoded("a%", s));
	ck_assert_ptr_null(decoded("a%0d%0a", s));
	ck_assert_ptr_null(decoded("a%7f", s));
	ck_assert_ptr_null(decoded("a\tb", s));
	ck_assert_ptr_null(decoded("a%00", s));
}
END_TEST

START_TEST(reasons)
{
	ck_assert_str_eq(pwb_http_reason(302), "Found");
	ck_assert_str_eq(pwb_http_reason(403), "Forbidden");
	ck_assert_str_eq(pwb_http_reason(599), "Internal Server Error");
	ck_assert_str_eq(pwb_http_reason(418), "Error");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("urltext");
	TCase *tc = tcase_create("urltext");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, lenient_keeps_what_it_cannot_decode);
	tcase_add_test(tc, strict_refuses);
	tcase_add_test(tc, reasons);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
