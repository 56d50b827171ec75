/* Unit tests for lib/scim_patch.c: RFC 7644 §3.5.2 operations and the
 * forms Okta and Entra ID send, checked on the resulting JSON. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "scim_patch.h"

#define PATCH_HEAD                                                                                 \
	"{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":"

static json_t *load(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	ck_assert_msg(j != NULL, "bad test JSON: %s", jerr.text);
	return j;
}

/* Applies ops (the Operations array text) to doc and compares with want. */
static void check_patch(const char *doc_text, const char *ops, const char *want_text)
{
	json_t *doc = load(doc_text), *want = load(want_text);
	size_t n = strlen(PATCH_HEAD) + strlen(ops) + 2;
	char *req_text = malloc(n);
	json_t *req;
	struct pwb_scim_error err = {0};
	char *got;

	snprintf(req_text, n, "%s%s}", PATCH_HEAD, ops);
	req = load(req_text);
	ck_assert_msg(pwb_scim_patch_apply(doc, req, &err) == 0, "%s: %s", ops, err.detail);
	got = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_msg(json_equal(doc, want), "%s gave %s", ops, got);
	free(got);
	free(req_text);
	json_decref(req);
	json_decref(doc);
	json_decref(want);
}

static void check_patch_fails(const char *doc_text, const char *body, const char *scim_type)
{
	json_t *doc = load(doc_text), *req = load(body);
	struct pwb_scim_error err = {0};

	ck_assert_msg(pwb_scim_patch_apply(doc, req, &err) < 0, "%s should fail", body);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.scim_type, scim_type);
	json_decref(req);
	json_decref(doc);
}

START_TEST(okta_deactivate_without_path)
{
	check_patch("{\"userName\":\"a\",\"active\":true}",
		    "[{\"op\":\"replace\",\"value\":{\"active\":false}}]",
		    "{\"userName\":\"a\",\"active\":false}");
}
END_TEST

START_TEST(entra_capitalised_ops_and_string_booleans)
{
	check_patch("{\"userName\":\"a\",\"active\":true}",
		    "[{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"False\"}]",
		    "{\"userName\":\"a\",\"active\":\"False\"}");
	check_patch("{\"userName\":\"a\"}",
		    "[{\"op\":\"Add\",\"path\":\"displayName\",\"value\":\"Alice L\"}]",
		    "{\"userName\":\"a\",\"displayName\":\"Alice L\"}");
}
END_TEST

START_TEST(okta_group_members_add_and_remove_by_filter)
{
	const char *g = "{\"displayName\":\"staff\",\"members\":[{\"value\":\"u1\"}]}";

	check_patch(
	    g,
	    "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"u2\"},{\"value\":\"u1\"}"
	    "]}]",
	    "{\"displayName\":\"staff\",\"members\":[{\"value\":\"u1\"},{\"value\":\"u2\"}]}");
	check_patch(g, "[{\"op\":\"remove\",\"path\":\"members[value eq \\\"u1\\\"]\"}]",
		    "{\"displayName\":\"staff\",\"members\":[]}");
	/* removing someone who is not a member is not an error */
	check_patch(g, "[{\"op\":\"remove\",\"path\":\"members[value eq \\\"u9\\\"]\"}]", g);
}
END_TEST

START_TEST(entra_remove_members_with_value_array)
{
	check_patch("{\"members\":[{\"value\":\"u1\"},{\"value\":\"u2\"},{\"value\":\"u3\"}]}",
		    "[{\"op\":\"Remove\",\"path\":\"members\",\"value\":[{\"value\":\"u1\"},{"
		    "\"value\":\"u3\"}]}]",
		    "{\"members\":[{\"value\":\"u2\"}]}");
	/* without a value the whole attribute goes */
	check_patch("{\"members\":[{\"value\":\"u1\"}],\"displayName\":\"x\"}",
		    "[{\"op\":\"remove\",\"path\":\"members\"}]", "{\"displayName\":\"x\"}");
}
END_TEST

START_TEST(okta_rename_group_without_path)
{
	check_patch("{\"id\":\"g1\",\"displayName\":\"old\"}",
		    "[{\"op\":\"replace\",\"value\":{\"id\":\"evil\",\"displayName\":\"new\"}}]",
		    "{\"id\":\"g1\",\"displayName\":\"new\"}");
}
END_TEST

START_TEST(value_filter_with_sub_attribute)
{
	const char *u = "{\"emails\":[{\"type\":\"work\",\"value\":\"a@x\"},{\"type\":\"home\","
			"\"value\":\"a@h\"}]}";

	check_patch(u,
		    "[{\"op\":\"replace\",\"path\":\"emails[type eq "
		    "\\\"work\\\"].value\",\"value\":\"b@x\"}]",
		    "{\"emails\":[{\"type\":\"work\",\"value\":\"b@x\"},{\"type\":\"home\","
		    "\"value\":\"a@h\"}]}");
	/* Entra ID adds through a filter that matches nothing: a new element */
	check_patch(
	    "{\"userName\":\"a\"}",
	    "[{\"op\":\"add\",\"path\":\"emails[type eq \\\"work\\\"].value\",\"value\":\"a@x\"}]",
	    "{\"userName\":\"a\",\"emails\":[{\"type\":\"work\",\"value\":\"a@x\"}]}");
	check_patch(u, "[{\"op\":\"remove\",\"path\":\"emails[type eq \\\"home\\\"]\"}]",
		    "{\"emails\":[{\"type\":\"work\",\"value\":\"a@x\"}]}");
}
END_TEST

START_TEST(sub_attributes_and_extensions)
{
	check_patch("{\"name\":{\"givenName\":\"A\",\"familyName\":\"L\"}}",
		    "[{\"op\":\"replace\",\"path\":\"name.givenName\",\"value\":\"B\"}]",
		    "{\"name\":{\"givenName\":\"B\",\"familyName\":\"L\"}}");
	/* replace of a complex attribute merges sub-attributes */
	check_patch("{\"name\":{\"givenName\":\"A\",\"familyName\":\"L\"}}",
		    "[{\"op\":\"replace\",\"path\":\"name\",\"value\":{\"familyName\":\"M\"}}]",
		    "{\"name\":{\"givenName\":\"A\",\"familyName\":\"M\"}}");
	check_patch("{}",
		    "[{\"op\":\"add\",\"path\":\"urn:ietf:params:scim:schemas:extension:enterprise:"
		    "2.0:User:employeeNumber\",\"value\":\"7\"}]",
		    "{\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{"
		    "\"employeeNumber\":\"7\"}}");
	/* Entra ID: path-less value whose keys are paths */
	check_patch("{\"name\":{\"givenName\":\"A\"}}",
		    "[{\"op\":\"Replace\",\"value\":{\"name.givenName\":\"C\",\"urn:ietf:params:"
		    "scim:schemas:extension:enterprise:2.0:User:department\":\"R&D\"}}]",
		    "{\"name\":{\"givenName\":\"C\"},\"urn:ietf:params:scim:schemas:extension:"
		    "enterprise:2.0:User\":{\"department\":\"R&D\"}}");
	/* a whole extension object without path */
	check_patch("{\"urn:pwb:params:scim:schemas:extension:posix:1.0:User\":{\"uidNumber\":5}}",
		    "[{\"op\":\"replace\",\"value\":{\"urn:pwb:params:scim:schemas:extension:posix:"
		    "1.0:User\":{\"loginShell\":\"/bin/zsh\"}}}]",
		    "{\"urn:pwb:params:scim:schemas:extension:posix:1.0:User\":{\"uidNumber\":5,"
		    "\"loginShell\":\"/bin/zsh\"}}");
	/* attribute names are case-insensitive */
	check_patch("{\"userName\":\"a\"}",
		    "[{\"op\":\"replace\",\"path\":\"USERNAME\",\"value\":\"b\"}]",
		    "{\"USERNAME\":\"b\"}");
}
END_TEST

START_TEST(errors)
{
	const char *u = "{\"emails\":[{\"type\":\"work\",\"value\":\"a@x\"}]}";

	check_patch_fails(u, "{\"Operations\":[{\"op\":\"remove\"}]}", "noTarget");
	check_patch_fails(u,
			  "{\"Operations\":[{\"op\":\"replace\",\"path\":\"emails[type eq "
			  "\\\"home\\\"]\",\"value\":{\"value\":\"b\"}}]}",
			  "noTarget");
	check_patch_fails(u, "{\"Operations\":[{\"op\":\"move\",\"path\":\"x\",\"value\":1}]}",
			  "invalidSyntax");
	check_patch_fails(u, "{\"Operations\":[]}", "invalidSyntax");
	check_patch_fails(u,
			  "{\"schemas\":[\"urn:x\"],\"Operations\":[{\"op\":\"add\",\"path\":\"a\","
			  "\"value\":1}]}",
			  "invalidSyntax");
	check_patch_fails(u, "{\"Operations\":[{\"op\":\"add\",\"path\":\"a b\",\"value\":1}]}",
			  "invalidPath");
	check_patch_fails(u, "{\"Operations\":[{\"op\":\"replace\",\"value\":\"x\"}]}",
			  "invalidValue");
	check_patch_fails(u, "{\"Operations\":[{\"op\":\"add\",\"path\":\"title\"}]}",
			  "invalidValue");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scim_patch");
	TCase *tc = tcase_create("scim_patch");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, okta_deactivate_without_path);
	tcase_add_test(tc, entra_capitalised_ops_and_string_booleans);
	tcase_add_test(tc, okta_group_members_add_and_remove_by_filter);
	tcase_add_test(tc, entra_remove_members_with_value_array);
	tcase_add_test(tc, okta_rename_group_without_path);
	tcase_add_test(tc, value_filter_with_sub_attribute);
	tcase_add_test(tc, sub_attributes_and_extensions);
	tcase_add_test(tc, errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
