/* Unit tests for pwb-login/web.c: the strict parsers fed with what a
 * hostile browser or a local FastCGI client can send (duplicate cookies,
 * bad encodings, open-redirect return URLs, forged proxy headers). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "error.h"
#include "web.h"

#define V43 "abcdefghijABCDEFGHIJ0123456789-_abcdefghijk"

START_TEST(cookie_found_among_others)
{
	char v[HTTP_COOKIE_VALUE];

	ck_assert_int_eq(
	    http_cookie_get("a=1; __Host-pwb-session=" V43 "; b=2", HTTP_COOKIE_SESSION, v), 0);
	ck_assert_str_eq(v, V43);
	ck_assert_int_eq(http_cookie_get("__Host-pwb-session=" V43, HTTP_COOKIE_SESSION, v), 0);
	ck_assert_int_eq(http_cookie_get("x=__Host-pwb-session=" V43, HTTP_COOKIE_SESSION, v),
			 PWB_ENOTFOUND);
	ck_assert_int_eq(http_cookie_get("__Host-pwb-sessionx=" V43, HTTP_COOKIE_SESSION, v),
			 PWB_ENOTFOUND);
	ck_assert_int_eq(http_cookie_get(NULL, HTTP_COOKIE_SESSION, v), PWB_ENOTFOUND);
	ck_assert_int_eq(http_cookie_get("", HTTP_COOKIE_SESSION, v), PWB_ENOTFOUND);
}
END_TEST

START_TEST(cookie_duplicate_or_malformed_is_none)
{
	char v[HTTP_COOKIE_VALUE];

	/* two of ours: which one the browser meant is unknown (cookie tossing) */
	ck_assert_int_eq(http_cookie_get("__Host-pwb-session=" V43 "; __Host-pwb-session=" V43,
					 HTTP_COOKIE_SESSION, v),
			 PWB_EINVAL);
	ck_assert_int_eq(http_cookie_get("__Host-pwb-session=", HTTP_COOKIE_SESSION, v),
			 PWB_EINVAL);
	ck_assert_int_eq(http_cookie_get("__Host-pwb-session=a\"b", HTTP_COOKIE_SESSION, v),
			 PWB_EINVAL);
	ck_assert_int_eq(http_cookie_get("__Host-pwb-session=a%20b", HTTP_COOKIE_SESSION, v),
			 PWB_EINVAL);
	ck_assert_int_eq(http_cookie_get("__Host-pwb-session=" V43 V43 V43, HTTP_COOKIE_SESSION, v),
			 PWB_EINVAL);
	ck_assert_str_eq(v, "");
}
END_TEST

START_TEST(random_value_shape)
{
	ck_assert(http_is_random_value(V43));
	ck_assert(!http_is_random_value(V43 "a"));
	ck_assert(!http_is_random_value("abc"));
	ck_assert(!http_is_random_value("abcdefghijABCDEFGHIJ0123456789-_abcdefghij="));
	ck_assert(!http_is_random_value("../../../../etc/passwd/abcdefghijklmnopqrstu"));
	ck_assert(!http_is_random_value(NULL));
}
END_TEST

START_TEST(form_fields)
{
	char *v = NULL;

	ck_assert_int_eq(http_form_get("code=abc&state=xyz", "state", 64, &v), 0);
	ck_assert_str_eq(v, "xyz");
	free(v);
	ck_assert_int_eq(http_form_get("a=%2Fx%3Fy%3D1+2", "a", 64, &v), 0);
	ck_assert_str_eq(v, "/x?y=1 2");
	free(v);
	ck_assert_int_eq(http_form_get("a=", "a", 64, &v), 0);
	ck_assert_str_eq(v, "");
	free(v);
	ck_assert_int_eq(http_form_get("xstate=1", "state", 64, &v), PWB_ENOTFOUND);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(http_form_get("", "state", 64, &v), PWB_ENOTFOUND);
	ck_assert_int_eq(http_form_get(NULL, "state", 64, &v), PWB_ENOTFOUND);
}
END_TEST

START_TEST(form_fields_refused)
{
	char *v = NULL;

	/* parameter pollution: two states */
	ck_assert_int_eq(http_form_get("state=a&state=b", "state", 64, &v), PWB_EINVAL);
	ck_assert_int_eq(http_form_get("a=%", "a", 64, &v), PWB_EINVAL);
	ck_assert_int_eq(http_form_get("a=%4", "a", 64, &v), PWB_EINVAL);
	ck_assert_int_eq(http_form_get("a=%zz", "a", 64, &v), PWB_EINVAL);
	ck_assert_int_eq(http_form_get("a=x%00y", "a", 64, &v), PWB_EINVAL);
	ck_assert_int_eq(http_form_get("a=x%0d%0aSet-Cookie:1", "a", 64, &v), PWB_EINVAL);
	ck_assert_int_eq(http_form_get("a=12345", "a", 4, &v), PWB_EINVAL);
	ck_assert_ptr_null(v);
}
END_TEST

START_TEST(return_url_rule)
{
	ck_assert(http_return_url_ok("/"));
	ck_assert(http_return_url_ok("/app/x?y=1&z=2#f"));
	ck_assert(http_return_url_ok("/%2F%2Fevil.example"));
	ck_assert(!http_return_url_ok(NULL));
	ck_assert(!http_return_url_ok(""));
	ck_assert(!http_return_url_ok("//evil.example/"));
	ck_assert(!http_return_url_ok("/\\evil.example/"));
	ck_assert(!http_return_url_ok("/app\\..\\x"));
	ck_assert(!http_return_url_ok("https://evil.example/"));
	ck_assert(!http_return_url_ok("javascript:alert(1)"));
	ck_assert(!http_return_url_ok("evil.example"));
	ck_assert(!http_return_url_ok("/\t/evil.example"));
	ck_assert(!http_return_url_ok("/x\r\nSet-Cookie: a=b"));
	ck_assert(!http_return_url_ok("/x y"));
	ck_assert(!http_return_url_ok("/\xc3\xa9"));
}
END_TEST

START_TEST(return_url_bounded)
{
	char url[HTTP_RETURN_MAX + 2];

	memset(url, 'a', sizeof(url) - 1);
	url[0] = '/';
	url[HTTP_RETURN_MAX] = '\0';
	ck_assert(http_return_url_ok(url));
	url[HTTP_RETURN_MAX] = 'a';
	url[HTTP_RETURN_MAX + 1] = '\0';
	ck_assert(!http_return_url_ok(url));
}
END_TEST

START_TEST(proxy_trust)
{
	char *direct[] = {"REMOTE_ADDR=192.0.2.7", "HTTP_X_FORWARDED_FOR=198.51.100.1", NULL};
	char *proxied[] = {"REMOTE_ADDR=127.0.0.1",
			   "HTTP_X_FORWARDED_FOR=203.0.113.9, 198.51.100.1", NULL};
	char *hostile[] = {"REMOTE_ADDR=127.0.0.1", "HTTP_X_FORWARDED_FOR=<script>", NULL};
	char *none[] = {"REMOTE_ADDR=x y", NULL};
	char out[64];

	/* X-Forwarded-For from an untrusted peer is ignored */
	http_client_address(direct, "127.0.0.1", out, sizeof(out));
	ck_assert_str_eq(out, "192.0.2.7");
	http_client_address(direct, NULL, out, sizeof(out));
	ck_assert_str_eq(out, "192.0.2.7");
	/* the trusted proxy's own entry (the last) is believed */
	http_client_address(proxied, "::1, 127.0.0.1", out, sizeof(out));
	ck_assert_str_eq(out, "198.51.100.1");
	http_client_address(hostile, "127.0.0.1", out, sizeof(out));
	ck_assert_str_eq(out, "127.0.0.1");
	http_client_address(none, NULL, out, sizeof(out));
	ck_assert_str_eq(out, "-");
}
END_TEST

START_TEST(route_below_prefix)
{
	char *nginx_auth[] = {"DOCUMENT_URI=/pwb/auth", "REQUEST_URI=/app/page?x=1", NULL};
	char *landing[] = {"REQUEST_URI=/pwb?x", NULL};
	char *other[] = {"DOCUMENT_URI=/pwbx/login", NULL};
	char *script[] = {"SCRIPT_NAME=/pwb/callback", NULL};
	char buf[256];

	/* auth_request: the subrequest's path, not the original request's */
	ck_assert_str_eq(http_route(nginx_auth, "/pwb/", buf, sizeof(buf)), "auth");
	ck_assert_str_eq(http_route(landing, "/pwb/", buf, sizeof(buf)), "");
	ck_assert_ptr_null(http_route(other, "/pwb/", buf, sizeof(buf)));
	ck_assert_str_eq(http_route(script, "/pwb/", buf, sizeof(buf)), "callback");
}
END_TEST

START_TEST(headers_cannot_be_split)
{
	struct http_response res = {0};

	http_header(&res, "Location", "%s", "/ok");
	ck_assert(!res.head_overflow);
	ck_assert_str_eq(res.head, "Location: /ok\r\n");
	http_header(&res, "Location", "%s", "/x\r\nSet-Cookie: a=b");
	ck_assert(res.head_overflow);
	ck_assert_str_eq(res.head, "Location: /ok\r\n");
}
END_TEST

START_TEST(error_page_escapes)
{
	struct http_response res = {0};
	char ref[HTTP_REF_LEN + 1];

	http_reference(ref);
	ck_assert_uint_eq(strlen(ref), HTTP_REF_LEN);
	ck_assert_uint_eq(strspn(ref, "0123456789abcdef"), HTTP_REF_LEN);
	http_error_page(&res, 403, "Sign-in <refused>", "<script>alert('x')</script>&", ref,
			"/pwb/login");
	ck_assert_int_eq(res.status, 403);
	ck_assert_ptr_nonnull(res.body);
	ck_assert_ptr_null(strstr(res.body, "<script>"));
	ck_assert_ptr_nonnull(
	    strstr(res.body, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"));
	ck_assert_ptr_nonnull(strstr(res.body, ref));
	http_response_clear(&res);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("login_web");
	TCase *tc = tcase_create("login_web");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, cookie_found_among_others);
	tcase_add_test(tc, cookie_duplicate_or_malformed_is_none);
	tcase_add_test(tc, random_value_shape);
	tcase_add_test(tc, form_fields);
	tcase_add_test(tc, form_fields_refused);
	tcase_add_test(tc, return_url_rule);
	tcase_add_test(tc, return_url_bounded);
	tcase_add_test(tc, proxy_trust);
	tcase_add_test(tc, route_below_prefix);
	tcase_add_test(tc, headers_cannot_be_split);
	tcase_add_test(tc, error_page_escapes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
