/* Unit tests for lib/scim_resource.c: SCIM User/Group JSON <-> store
 * records, the Linux name rules, what PUT keeps, and what is never kept
 * (passwords). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "scim_resource.h"

static struct pwb_config cfg;

static json_t *load(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	ck_assert_msg(j != NULL, "bad test JSON: %s", jerr.text);
	return j;
}

static void setup(void)
{
	ck_assert_int_eq(pwb_config_defaults(&cfg), 0);
}

static void teardown(void)
{
	pwb_config_free(&cfg);
}

START_TEST(user_from_okta_body)
{
	json_t *in = load("{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
			  "\"userName\":\"Dave.Jones@Example.com\",\"externalId\":\"00u1\","
			  "\"name\":{\"givenName\":\"Dave\",\"familyName\":\"Jones\"},"
			  "\"emails\":[{\"value\":\"home@x.org\"},{\"value\":\"dave@example.com\","
			  "\"primary\":true}],\"password\":\"s3cret\",\"active\":\"False\","
			  "\"locale\":\"en-US\"}");
	struct pwb_user u;
	struct pwb_scim_error err = {0};

	ck_assert_int_eq(pwb_scim_user_from_json(in, &cfg, NULL, &u, &err), 0);
	ck_assert_str_eq(u.name, "dave.jones");
	ck_assert_str_eq(u.user_name, "Dave.Jones@Example.com");
	ck_assert_str_eq(u.external_id, "00u1");
	ck_assert_str_eq(u.gecos, "Dave Jones");
	ck_assert_str_eq(u.email, "dave@example.com");
	ck_assert(!u.active);
	ck_assert_int_eq(u.source, PWB_SOURCE_SCIM);
	ck_assert_uint_eq(u.uid, 0);
	/* unknown attributes kept, mapped and secret ones not */
	ck_assert_str_eq(json_string_value(json_object_get(u.attrs, "locale")), "en-US");
	ck_assert_ptr_null(json_object_get(u.attrs, "password"));
	ck_assert_ptr_null(json_object_get(u.attrs, "userName"));
	ck_assert_ptr_null(json_object_get(u.attrs, "schemas"));
	pwb_user_clear(&u);
	json_decref(in);
}
END_TEST

START_TEST(user_ids_and_paths_from_extensions)
{
	json_t *in = load("{\"userName\":\"eve\",\"urn:pwb:params:scim:schemas:extension:posix:1.0:"
			  "User\":{\"uidNumber\":25000,\"gidNumber\":\"25001\",\"homeDirectory\":"
			  "\"/srv/home/eve\",\"loginShell\":\"/bin/zsh\"}}");
	json_t *wb = load("{\"userName\":\"frank@example.com\",\"urn:rstudio:params:scim:schemas:"
			  "extension:workbench:1.0:User\":{\"posixUserId\":26000,\"posixUserName\":"
			  "\"fjones\",\"homeDirectory\":\"/home/fj\"}}");
	struct pwb_user u;
	struct pwb_scim_error err = {0};

	ck_assert_int_eq(pwb_scim_user_from_json(in, &cfg, NULL, &u, &err), 0);
	ck_assert_uint_eq(u.uid, 25000);
	ck_assert_uint_eq(u.gid, 25001);
	ck_assert_str_eq(u.home, "/srv/home/eve");
	ck_assert_str_eq(u.shell, "/bin/zsh");
	ck_assert(u.active);
	pwb_user_clear(&u);
	ck_assert_int_eq(pwb_scim_user_from_json(wb, &cfg, NULL, &u, &err), 0);
	ck_assert_uint_eq(u.uid, 26000);
	ck_assert_str_eq(u.name, "fjones");
	ck_assert_str_eq(u.home, "/home/fj");
	pwb_user_clear(&u);
	json_decref(in);
	json_decref(wb);
}
END_TEST

static const struct {
	const char *json;
	const char *scim_type;
	const char *detail_has;
} bad_users[] = {
    {"{}", "invalidValue", "userName"},
    {"{\"userName\":\"\"}", "invalidValue", "userName"},
    {"{\"userName\":\"bad name\"}", "invalidValue", "userName"},
    {"{\"userName\":\"x\",\"active\":\"maybe\"}", "invalidValue", "active"},
    {"{\"userName\":\"x\",\"urn:pwb:params:scim:schemas:extension:posix:1.0:User\":"
     "{\"uidNumber\":0}}",
     "invalidValue", "uidNumber"},
    {"{\"userName\":\"x\",\"urn:pwb:params:scim:schemas:extension:posix:1.0:User\":"
     "{\"uidNumber\":\"12a\"}}",
     "invalidValue", "uidNumber"},
    {"{\"userName\":\"x\",\"urn:pwb:params:scim:schemas:extension:posix:1.0:User\":"
     "{\"homeDirectory\":\"relative\"}}",
     "invalidValue", "homeDirectory"},
    {"{\"userName\":\"x\",\"urn:pwb:params:scim:schemas:extension:posix:1.0:User\":"
     "{\"loginShell\":\"/bin/sh:/x\"}}",
     "invalidValue", "loginShell"},
    {"{\"userName\":\"x\",\"externalId\":5}", "invalidValue", "externalId"},
};

START_TEST(bad_users_are_refused)
{
	json_t *in = load(bad_users[_i].json);
	struct pwb_user u;
	struct pwb_scim_error err = {0};

	ck_assert_int_lt(pwb_scim_user_from_json(in, &cfg, NULL, &u, &err), 0);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.scim_type, bad_users[_i].scim_type);
	ck_assert_msg(strstr(err.detail, bad_users[_i].detail_has), "%s: detail \"%s\"",
		      bad_users[_i].json, err.detail);
	json_decref(in);
}
END_TEST

START_TEST(allowed_domains_are_enforced)
{
	json_t *ok = load("{\"userName\":\"ann@corp.example\"}");
	json_t *other = load("{\"userName\":\"ann@evil.example\"}");
	json_t *bare = load("{\"userName\":\"Ann\"}");
	json_t *posix = load("{\"userName\":\"Ann\",\"" PWB_SCIM_WORKBENCH_USER
			     "\":{\"posixUserName\":\"ann\"}}");
	struct pwb_user u;
	struct pwb_scim_error err = {0};

	free(cfg.openid_username_domains);
	cfg.openid_username_domains = strdup("corp.example");
	ck_assert_int_eq(pwb_scim_user_from_json(ok, &cfg, NULL, &u, &err), 0);
	ck_assert_str_eq(u.name, "ann");
	pwb_user_clear(&u);
	ck_assert_int_lt(pwb_scim_user_from_json(other, &cfg, NULL, &u, &err), 0);
	ck_assert_str_eq(err.scim_type, "invalidValue");
	/* No domain is not an allowed domain (as at sign-in). */
	ck_assert_int_lt(pwb_scim_user_from_json(bare, &cfg, NULL, &u, &err), 0);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.scim_type, "invalidValue");
	ck_assert_msg(strstr(err.detail, "userName") && strstr(err.detail, "has no domain"), "%s",
		      err.detail);
	/* An explicit posixUserName is a Linux name, not an IdP name. */
	ck_assert_int_eq(pwb_scim_user_from_json(posix, &cfg, NULL, &u, &err), 0);
	ck_assert_str_eq(u.name, "ann");
	pwb_user_clear(&u);
	json_decref(ok);
	json_decref(other);
	json_decref(bare);
	json_decref(posix);
}
END_TEST

/* A PATCH document holds the stored posix home and the Workbench one the
 * IdP patched: the changed one is the request (issue 12: it must reach the
 * store's policy, not be dropped silently). A POST with both: posix. */
START_TEST(workbench_home_in_a_patch)
{
	struct pwb_user old = {0}, u;
	struct pwb_scim_error err = {0};
	json_t *patched = load("{\"userName\":\"gus\",\"urn:pwb:params:scim:schemas:extension:"
			       "posix:1.0:User\":{\"homeDirectory\":\"/home/gus\"},\"urn:rstudio:"
			       "params:scim:schemas:extension:workbench:1.0:User\":{"
			       "\"homeDirectory\":\"/etc\"}}");

	strcpy(old.id, "0b6c7d2e-8f4a-4b1c-9d3e-2a1b0c9d8e7f");
	strcpy(old.name, "gus");
	old.home = strdup("/home/gus");
	ck_assert_int_eq(pwb_scim_user_from_json(patched, &cfg, &old, &u, &err), 0);
	ck_assert_str_eq(u.home, "/etc");
	pwb_user_clear(&u);
	ck_assert_int_eq(pwb_scim_user_from_json(patched, &cfg, NULL, &u, &err), 0);
	ck_assert_str_eq(u.home, "/home/gus");
	pwb_user_clear(&u);
	pwb_user_clear(&old);
	json_decref(patched);
}
END_TEST

/* Attributes nested deeper than the store keeps: 400 naming the attribute. */
START_TEST(deep_attributes_are_refused)
{
	json_t *in = load("{\"userName\":\"gus\",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]"
			  "]]]]]]]]]]]]]]]]]]]]]]]}");
	json_t *group = load("{\"displayName\":\"g\",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]"
			     "]]]]]]]]]]]]]]]]]]]]]]]]]}");
	json_t *denied = load("{\"displayName\":\"Docker\",\"urn:pwb:params:scim:schemas:"
			      "extension:posix:1.0:Group\":{\"groupName\":\"docker\"}}");
	struct pwb_user u;
	struct pwb_group g;
	struct pwb_scim_error err = {0};

	ck_assert_int_lt(pwb_scim_user_from_json(in, &cfg, NULL, &u, &err), 0);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.scim_type, "invalidValue");
	ck_assert_ptr_nonnull(strstr(err.detail, "attribute x is nested deeper than 32"));
	ck_assert_int_lt(pwb_scim_group_from_json(group, &cfg, NULL, &g, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.detail, "attribute x"));
	ck_assert_int_lt(pwb_scim_group_from_json(denied, &cfg, NULL, &g, &err), 0);
	ck_assert_str_eq(err.scim_type, "invalidValue");
	ck_assert_ptr_nonnull(strstr(err.detail, "groupName"));
	json_decref(in);
	json_decref(group);
	json_decref(denied);
}
END_TEST

START_TEST(put_keeps_what_it_omits)
{
	struct pwb_user old = {0}, u;
	struct pwb_scim_error err = {0};
	json_t *in = load("{\"userName\":\"gus\",\"displayName\":\"Gus: the \\n Great\"}");

	strcpy(old.id, "0b6c7d2e-8f4a-4b1c-9d3e-2a1b0c9d8e7f");
	strcpy(old.name, "gus");
	old.uid = 20005;
	old.gid = 20005;
	old.home = strdup("/home/gus");
	old.shell = strdup("/bin/bash");
	old.version = 7;
	old.created = 1000;
	ck_assert_int_eq(pwb_scim_user_from_json(in, &cfg, &old, &u, &err), 0);
	ck_assert_str_eq(u.id, old.id);
	ck_assert_uint_eq(u.uid, 20005);
	ck_assert_uint_eq(u.gid, 20005);
	ck_assert_str_eq(u.home, "/home/gus");
	ck_assert_str_eq(u.shell, "/bin/bash");
	ck_assert_uint_eq(u.version, 7);
	ck_assert_int_eq(u.created, 1000);
	ck_assert(!u.active); /* omitted "active" does not unlock */
	/* a display name may not break the passwd line */
	ck_assert_str_eq(u.gecos, "Gus  the   Great");
	pwb_user_clear(&u);
	pwb_user_clear(&old);
	json_decref(in);
}
END_TEST

START_TEST(user_to_json_round_trip)
{
	json_t *in = load("{\"userName\":\"Hal@example.com\",\"externalId\":\"e1\",\"name\":"
			  "{\"givenName\":\"Hal\"},\"urn:ietf:params:scim:schemas:extension:"
			  "enterprise:2.0:User\":{\"department\":\"R\"}}");
	struct pwb_user u;
	struct pwb_scim_error err = {0};
	json_t *doc, *again;

	ck_assert_int_eq(pwb_scim_user_from_json(in, &cfg, NULL, &u, &err), 0);
	strcpy(u.id, "0b6c7d2e-8f4a-4b1c-9d3e-2a1b0c9d8e7f");
	u.uid = 20001;
	u.gid = 20001;
	u.version = 3;
	u.created = 1764331200; /* 2025-11-28T12:00:00Z */
	u.modified = 1764331200;
	doc = pwb_scim_user_to_json(&u, NULL, "https://h/scim/v2");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "userName")), "Hal@example.com");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "externalId")), "e1");
	ck_assert(json_is_true(json_object_get(doc, "active")));
	ck_assert_int_eq(json_array_size(json_object_get(doc, "groups")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(
			     json_object_get(doc, PWB_SCIM_POSIX_USER), "uidNumber")),
			 20001);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(doc, "meta"), "version")), "W/\"3\"");
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(doc, "meta"), "lastModified")),
	    "2025-11-28T12:00:00Z");
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(doc, "meta"), "location")),
	    "https://h/scim/v2/Users/0b6c7d2e-8f4a-4b1c-9d3e-2a1b0c9d8e7f");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(doc, "schemas"), 2)),
			 PWB_SCIM_ENTERPRISE_USER);
	/* what comes out goes back in unchanged (PATCH relies on it) */
	again = json_deep_copy(doc);
	pwb_user_clear(&u);
	ck_assert_int_eq(pwb_scim_user_from_json(again, &cfg, NULL, &u, &err), 0);
	ck_assert_uint_eq(u.uid, 20001);
	ck_assert_str_eq(u.user_name, "Hal@example.com");
	ck_assert_str_eq(json_string_value(json_object_get(
			     json_object_get(u.attrs, PWB_SCIM_ENTERPRISE_USER), "department")),
			 "R");
	pwb_user_clear(&u);
	json_decref(again);
	json_decref(doc);
	json_decref(in);
}
END_TEST

START_TEST(groups_and_members)
{
	json_t *in = load("{\"displayName\":\"DataSci\",\"externalId\":\"g-1\",\"members\":[{"
			  "\"value\":\"0b6c7d2e-8f4a-4b1c-9d3e-2a1b0c9d8e7f\"}],\"urn:pwb:params:"
			  "scim:schemas:extension:posix:1.0:Group\":{\"gidNumber\":25500}}");
	json_t *bad = load("{\"displayName\":\"Data\\u0007Science\"}");
	json_t *spaced = load("{\"displayName\":\"Data Science\"}");
	json_t *named = load("{\"displayName\":\"Data Science\",\"urn:pwb:params:scim:schemas:"
			     "extension:posix:1.0:Group\":{\"groupName\":\"ds\"}}");
	struct pwb_group existing = {.name = "data_science"};
	json_t *bad_member = load("{\"displayName\":\"x\",\"members\":[{\"value\":\"nope\"}]}");
	struct pwb_group g;
	struct pwb_scim_error err = {0};
	json_t *ids;

	/* The Linux name is the caller's to derive (pwb_provision_group_name,
	 * which knows the mappings) unless groupName sets it or the group
	 * exists: then it is fixed, whatever displayName says. */
	ck_assert_int_eq(pwb_scim_group_from_json(spaced, &cfg, NULL, &g, &err), 0);
	ck_assert_str_eq(g.name, "");
	ck_assert_str_eq(g.display_name, "Data Science");
	pwb_group_clear(&g);
	ck_assert_int_eq(pwb_scim_group_from_json(named, &cfg, NULL, &g, &err), 0);
	ck_assert_str_eq(g.name, "ds");
	pwb_group_clear(&g);
	ck_assert_int_eq(pwb_scim_group_from_json(spaced, &cfg, &existing, &g, &err), 0);
	ck_assert_str_eq(g.name, "data_science");
	pwb_group_clear(&g);
	ck_assert_int_lt(pwb_scim_group_from_json(named, &cfg, &existing, &g, &err), 0);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.scim_type, "mutability");
	ck_assert_int_eq(pwb_scim_group_from_json(in, &cfg, NULL, &g, &err), 0);
	ck_assert_str_eq(g.name, "");
	ck_assert_str_eq(g.display_name, "DataSci");
	ck_assert_str_eq(g.external_id, "g-1");
	ck_assert_uint_eq(g.gid, 25500);
	ck_assert_ptr_null(json_object_get(g.attrs, "members"));
	pwb_group_clear(&g);
	ck_assert_int_eq(pwb_scim_group_member_ids(in, &ids, &err), 0);
	ck_assert_int_eq(json_array_size(ids), 1);
	json_decref(ids);
	ck_assert_int_lt(pwb_scim_group_from_json(bad, &cfg, NULL, &g, &err), 0);
	ck_assert_str_eq(err.scim_type, "invalidValue");
	ck_assert_int_lt(pwb_scim_group_member_ids(bad_member, &ids, &err), 0);
	ck_assert_str_eq(err.scim_type, "invalidValue");
	ck_assert_int_eq(pwb_scim_group_member_ids(bad, &ids, &err), 0);
	ck_assert_ptr_null(ids); /* no members attribute: PUT keeps them */
	json_decref(in);
	json_decref(bad);
	json_decref(spaced);
	json_decref(named);
	json_decref(bad_member);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scim_resource");
	TCase *tc = tcase_create("scim_resource");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, user_from_okta_body);
	tcase_add_test(tc, user_ids_and_paths_from_extensions);
	tcase_add_loop_test(tc, bad_users_are_refused, 0, sizeof(bad_users) / sizeof(bad_users[0]));
	tcase_add_test(tc, allowed_domains_are_enforced);
	tcase_add_test(tc, put_keeps_what_it_omits);
	tcase_add_test(tc, workbench_home_in_a_patch);
	tcase_add_test(tc, deep_attributes_are_refused);
	tcase_add_test(tc, user_to_json_round_trip);
	tcase_add_test(tc, groups_and_members);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
