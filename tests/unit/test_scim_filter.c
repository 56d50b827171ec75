/* Unit tests for lib/scim_filter.c: the RFC 7644 filter grammar, evaluation
 * against a User document, errors, index detection and PATCH paths. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "scim_filter.h"

static const char *user_json =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
    "\"id\":\"2819c223-7f76-453a-919d-413861904646\",\"externalId\":\"Ext-1\","
    "\"userName\":\"Alice@Example.com\",\"active\":true,"
    "\"name\":{\"givenName\":\"Alice\",\"familyName\":\"Liddell\"},"
    "\"emails\":[{\"value\":\"alice@example.com\",\"type\":\"work\",\"primary\":true},"
    "{\"value\":\"al@home.org\",\"type\":\"home\"}],"
    "\"groups\":[{\"value\":\"g1\",\"display\":\"staff\"}],"
    "\"urn:pwb:params:scim:schemas:extension:posix:1.0:User\":{\"uidNumber\":20001},"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
    "{\"employeeNumber\":\"701984\",\"manager\":{\"value\":\"m1\"}},"
    "\"meta\":{\"created\":\"2026-11-01T10:00:00Z\",\"lastModified\":\"2026-11-28T12:00:00Z\"}}";

static const struct {
	const char *filter;
	bool match;
} cases[] = {
    {"userName eq \"alice@example.com\"", true}, /* userName is case-insensitive */
    {"USERNAME EQ \"ALICE@EXAMPLE.COM\"", true},
    {"userName eq \"bob@example.com\"", false},
    {"userName ne \"bob@example.com\"", true},
    {"userName co \"@example\"", true},
    {"userName sw \"alice\"", true},
    {"userName ew \".com\"", true},
    {"userName ew \".org\"", false},
    {"externalId eq \"Ext-1\"", true},
    {"externalId eq \"ext-1\"", false}, /* externalId is caseExact */
    {"id eq \"2819c223-7f76-453a-919d-413861904646\"", true},
    {"active eq true", true},
    {"active eq false", false},
    {"name.familyName eq \"Liddell\"", true},
    {"name.familyName pr", true},
    {"title pr", false},
    {"nickName eq null", true},
    {"emails[type eq \"work\"]", true},
    {"emails[type eq \"work\" and value co \"example.com\"]", true},
    {"emails[type eq \"home\" and value co \"example.com\"]", false},
    {"emails.value eq \"al@home.org\"", true},
    {"emails co \"home.org\"", true},
    {"emails.type eq \"other\"", false},
    {"groups.display eq \"staff\"", true},
    {"meta.lastModified gt \"2026-11-28T11:59:59Z\"", true},
    {"meta.lastModified gt \"2026-11-28T12:00:00.000Z\"", false},
    {"meta.lastModified ge \"2026-11-28T13:00:00+01:00\"", true},
    {"meta.created lt \"2026-11-01T10:00:01Z\"", true},
    {"meta.created le \"2026-10-01T00:00:00Z\"", false},
    {"urn:pwb:params:scim:schemas:extension:posix:1.0:User:uidNumber eq 20001", true},
    {"uidNumber gt 20000", true},
    {"uidNumber lt 20000", false},
    {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"m1\"", true},
    {"urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"ALI\"", true},
    {"userName eq \"x\" or active eq true", true},
    {"userName eq \"x\" or active eq false", false},
    {"not (userName eq \"x\")", true},
    {"not(active eq true)", false},
    {"userName eq \"x\" or active eq true and name.givenName eq \"Bob\"", false},
    {"(userName eq \"x\" or active eq true) and name.givenName eq \"Alice\"", true},
    {"userName eq \"a \\\"quoted\\\" name\"", false},
    {"title eq \"x\"", false},
    {"title ne \"x\"", true},
};

START_TEST(filter_matches)
{
	json_error_t jerr;
	json_t *user = json_loads(user_json, 0, &jerr);
	struct pwb_scim_filter *f = NULL;
	struct pwb_scim_error err = {0};

	ck_assert_ptr_nonnull(user);
	ck_assert_msg(pwb_scim_filter_parse(cases[_i].filter, &f, &err) == 0, "%s: %s",
		      cases[_i].filter, err.detail);
	ck_assert_msg(pwb_scim_filter_match(f, user) == cases[_i].match, "%s should %s",
		      cases[_i].filter, cases[_i].match ? "match" : "not match");
	pwb_scim_filter_free(f);
	json_decref(user);
}
END_TEST

static const char *bad_filters[] = {
    "",
    "userName",
    "userName eq",
    "userName xx \"a\"",
    "userName eq \"unterminated",
    "(userName eq \"a\"",
    "userName eq \"a\")",
    "userName eq \"a\" and",
    "emails[type eq \"work\"",
    "1bad eq \"a\"",
    "userName eq bareword",
    "userName eq {\"a\":1}",
    "userName eq \"a\" garbage",
    "not userName eq \"a\" or",
};

START_TEST(bad_filters_are_invalid_filter)
{
	struct pwb_scim_filter *f = NULL;
	struct pwb_scim_error err = {0};

	ck_assert_int_lt(pwb_scim_filter_parse(bad_filters[_i], &f, &err), 0);
	ck_assert_ptr_null(f);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.scim_type, "invalidFilter");
	ck_assert(err.detail[0] != '\0');
}
END_TEST

START_TEST(filter_is_bounded)
{
	size_t n = PWB_SCIM_FILTER_MAX_LEN + 10;
	char *deep = malloc(n + 1), *long_text = malloc(n + 1);
	struct pwb_scim_filter *f = NULL;
	struct pwb_scim_error err = {0};
	size_t i;

	/* 200 nested parentheses: refused, not a stack overflow */
	for (i = 0; i < 200; i++)
		deep[i] = '(';
	strcpy(deep + i, "a pr");
	ck_assert_int_lt(pwb_scim_filter_parse(deep, &f, &err), 0);
	ck_assert_str_eq(err.scim_type, "invalidFilter");
	memset(long_text, 'a', n);
	long_text[n] = '\0';
	ck_assert_int_lt(pwb_scim_filter_parse(long_text, &f, &err), 0);
	ck_assert_ptr_null(f);
	free(deep);
	free(long_text);
}
END_TEST

START_TEST(indexed_equality_is_found)
{
	struct pwb_scim_filter *f = NULL;
	struct pwb_scim_error err = {0};

	ck_assert_int_eq(pwb_scim_filter_parse("userName eq \"Bob\"", &f, &err), 0);
	ck_assert_str_eq(pwb_scim_filter_indexed_eq(f, "userName"), "Bob");
	ck_assert_ptr_null(pwb_scim_filter_indexed_eq(f, "externalId"));
	pwb_scim_filter_free(f);
	ck_assert_int_eq(pwb_scim_filter_parse("active eq true and externalId eq \"E\"", &f, &err),
			 0);
	ck_assert_str_eq(pwb_scim_filter_indexed_eq(f, "externalId"), "E");
	pwb_scim_filter_free(f);
	/* "or" could match other users: no index shortcut */
	ck_assert_int_eq(pwb_scim_filter_parse("userName eq \"a\" or userName eq \"b\"", &f, &err),
			 0);
	ck_assert_ptr_null(pwb_scim_filter_indexed_eq(f, "userName"));
	pwb_scim_filter_free(f);
	ck_assert_int_eq(pwb_scim_filter_parse("userName co \"a\"", &f, &err), 0);
	ck_assert_ptr_null(pwb_scim_filter_indexed_eq(f, "userName"));
	ck_assert(pwb_scim_filter_mentions(f, "USERNAME"));
	ck_assert(!pwb_scim_filter_mentions(f, "groups"));
	pwb_scim_filter_free(f);
}
END_TEST

START_TEST(patch_paths_parse)
{
	struct pwb_scim_patch_path pp;
	struct pwb_scim_error err = {0};

	ck_assert_int_eq(pwb_scim_patch_path_parse("name.givenName", &pp, &err), 0);
	ck_assert_str_eq(pp.path.attr, "name");
	ck_assert_str_eq(pp.path.sub, "givenName");
	ck_assert_ptr_null(pp.filter);
	pwb_scim_patch_path_clear(&pp);

	ck_assert_int_eq(pwb_scim_patch_path_parse("members[value eq \"2819c223\"]", &pp, &err), 0);
	ck_assert_str_eq(pp.path.attr, "members");
	ck_assert_ptr_nonnull(pp.filter);
	ck_assert_ptr_null(pp.value_sub);
	pwb_scim_patch_path_clear(&pp);

	ck_assert_int_eq(pwb_scim_patch_path_parse("emails[type eq \"work\"].value", &pp, &err), 0);
	ck_assert_str_eq(pp.value_sub, "value");
	pwb_scim_patch_path_clear(&pp);

	ck_assert_int_eq(
	    pwb_scim_patch_path_parse(
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", &pp, &err),
	    0);
	ck_assert_str_eq(pp.path.urn, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
	ck_assert_str_eq(pp.path.attr, "manager");
	pwb_scim_patch_path_clear(&pp);

	ck_assert_int_lt(pwb_scim_patch_path_parse("members[value eq \"x\"", &pp, &err), 0);
	ck_assert_str_eq(err.scim_type, "invalidPath");
	ck_assert_int_lt(pwb_scim_patch_path_parse("bad path", &pp, &err), 0);
	ck_assert_int_lt(pwb_scim_patch_path_parse("emails[type eq \"w\"]x", &pp, &err), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scim_filter");
	TCase *tc = tcase_create("scim_filter");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, filter_matches, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_loop_test(tc, bad_filters_are_invalid_filter, 0,
			    sizeof(bad_filters) / sizeof(bad_filters[0]));
	tcase_add_test(tc, filter_is_bounded);
	tcase_add_test(tc, indexed_equality_is_found);
	tcase_add_test(tc, patch_paths_parse);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
