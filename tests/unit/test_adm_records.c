/* Unit tests for the one record codec's public form (lib/store/
 * store_records.c), which pwbadm export/import and pwbd's admin results
 * use: round trips, and the strict mode naming the record and field. */
#include <check.h>
#include <string.h>
#include "store.h"

static const char ID[] = "00000000-0000-4000-8000-000000000001";

START_TEST(user_round_trip)
{
	struct pwb_user u = {0}, v;
	struct pwb_error err = {0};
	json_t *o;

	strcpy(u.id, ID);
	strcpy(u.name, "alice");
	u.uid = 20000;
	u.gid = 20000;
	u.home = strdup("/home/alice");
	u.gecos = strdup("Alice A");
	u.issuer = strdup("https://idp.example.com");
	u.subject = strdup("sub-1");
	u.active = true;
	u.source = PWB_SOURCE_SCIM;
	u.last_login = 1700000000;
	u.attrs = json_pack("{s:s}", "title", "Dr");
	o = pwb_user_to_json(&u);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_is_true(json_object_get(o, "bound")));
	ck_assert_str_eq(json_string_value(json_object_get(o, "type")), "user");
	ck_assert_int_eq(pwb_user_from_json(o, PWB_RECORD_STRICT, &v, &err), 0);
	ck_assert_str_eq(v.id, ID);
	ck_assert_str_eq(v.name, "alice");
	ck_assert_uint_eq(v.uid, 20000);
	ck_assert_str_eq(v.home, "/home/alice");
	ck_assert_str_eq(v.subject, "sub-1");
	ck_assert_int_eq(v.source, PWB_SOURCE_SCIM);
	ck_assert_int_eq(v.last_login, 1700000000);
	ck_assert(json_equal(v.attrs, u.attrs));
	ck_assert_str_eq(pwb_user_binding(&v), "bound");
	pwb_user_clear(&v);
	pwb_user_clear(&u);
	json_decref(o);
}
END_TEST

/* Decodes text as a user; returns the code and leaves the message in err. */
static int user_text(const char *text, unsigned flags, struct pwb_error *err)
{
	json_t *o = json_loads(text, 0, NULL);
	struct pwb_user u;
	int rc;

	ck_assert_ptr_nonnull(o);
	memset(err, 0, sizeof(*err));
	rc = pwb_user_from_json(o, flags, &u, err);
	pwb_user_clear(&u);
	json_decref(o);
	return rc;
}

START_TEST(strict_names_record_and_field)
{
	struct pwb_error err;

	ck_assert_int_eq(user_text("{\"type\":\"user\",\"name\":\"carol\",\"colour\":\"red\"}",
				   PWB_RECORD_STRICT, &err),
			 PWB_EINVAL);
	ck_assert_str_eq(err.msg, "user carol: unknown field \"colour\"");
	/* lenient: an unknown key is ignored (results from a newer pwbd) */
	ck_assert_int_eq(user_text("{\"name\":\"carol\",\"colour\":\"red\"}", 0, &err), 0);
	ck_assert_int_eq(user_text("{\"name\":\"carol\",\"uid\":\"12\"}", 0, &err), PWB_EINVAL);
	ck_assert_str_eq(err.msg, "user carol: field uid: not an id number");
	ck_assert_int_eq(user_text("{\"name\":\"carol\",\"active\":1}", 0, &err), PWB_EINVAL);
	ck_assert_str_eq(err.msg, "user carol: field active: not true or false");
	ck_assert_int_eq(user_text("{\"name\":\"carol\",\"home\":\"/a:b\"}", 0, &err), PWB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "user carol: field home"));
	ck_assert_int_eq(user_text("{\"name\":\"carol\",\"shell\":\"bash\"}", 0, &err), PWB_EINVAL);
	ck_assert_str_eq(err.msg, "user carol: field shell: not an absolute path");
	ck_assert_int_eq(user_text("{\"name\":\"carol\",\"issuer\":\"https://i\"}", 0, &err),
			 PWB_EINVAL);
	ck_assert_str_eq(err.msg, "user carol: fields issuer and subject go together");
	ck_assert_int_eq(user_text("{\"name\":\"Bad Name\"}", 0, &err), PWB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "field name"));
	ck_assert_int_eq(user_text("{\"type\":\"group\",\"name\":\"carol\"}", 0, &err), PWB_EINVAL);
	ck_assert_str_eq(err.msg, "user carol: field type: not \"user\"");
	ck_assert_int_eq(user_text("{\"name\":\"carol\",\"id\":\"ABC\"}", 0, &err), PWB_EINVAL);
	ck_assert_str_eq(err.msg, "user carol: field id: not a lower-case UUID");
}
END_TEST

START_TEST(group_members_and_strict)
{
	struct pwb_error err = {0};
	struct pwb_group g;
	json_t *o, *members = NULL;

	o = json_pack("{s:s, s:s, s:i, s:[s, s]}", "type", "group", "name", "ops", "gid", 30000,
		      "members", "alice", "bob");
	ck_assert_int_eq(pwb_group_from_json(o, PWB_RECORD_STRICT, &g, &members, &err), 0);
	ck_assert_uint_eq(g.gid, 30000);
	ck_assert_uint_eq(json_array_size(members), 2);
	json_decref(members);
	pwb_group_clear(&g);
	json_object_set_new(o, "members", json_pack("[s, s]", "alice", "alice"));
	ck_assert_int_eq(pwb_group_from_json(o, PWB_RECORD_STRICT, &g, &members, &err), PWB_EINVAL);
	ck_assert_str_eq(err.msg, "group ops: member alice listed twice");
	ck_assert_ptr_null(members);
	json_object_del(o, "members");
	json_object_set_new(o, "owner", json_string("x"));
	ck_assert_int_eq(pwb_group_from_json(o, PWB_RECORD_STRICT, &g, NULL, &err), PWB_EINVAL);
	ck_assert_str_eq(err.msg, "group ops: unknown field \"owner\"");
	json_decref(o);
}
END_TEST

START_TEST(token_and_retired)
{
	struct pwb_error err = {0};
	struct pwb_token t = {0}, v;
	json_t *o, *uids, *gids, *got_uids, *got_gids;

	strcpy(t.name, "okta");
	memset(t.hash, 'a', PWB_HASH_HEX_LEN);
	strcpy(t.masked, "abcd...");
	t.created = 10;
	o = pwb_token_to_json(&t);
	ck_assert_int_eq(pwb_token_from_json(o, PWB_RECORD_STRICT, &v, &err), 0);
	ck_assert_str_eq(v.hash, t.hash);
	ck_assert_str_eq(v.masked, "abcd...");
	json_object_set_new(o, "hash", json_string("abc"));
	ck_assert_int_eq(pwb_token_from_json(o, PWB_RECORD_STRICT, &v, &err), PWB_EINVAL);
	ck_assert_str_eq(err.msg, "token okta: field hash: not a SHA-256 in lower-case hex");
	json_decref(o);
	uids = json_pack("[i, i]", 20001, 20002);
	gids = json_array();
	o = pwb_retired_to_json(uids, gids); /* takes its own references */
	json_decref(uids);
	json_decref(gids);
	ck_assert_int_eq(pwb_retired_from_json(o, PWB_RECORD_STRICT, &got_uids, &got_gids, &err),
			 0);
	ck_assert_uint_eq(json_array_size(got_uids), 2);
	json_array_append_new(json_object_get(o, "gids"), json_integer(0));
	ck_assert_int_eq(pwb_retired_from_json(o, PWB_RECORD_STRICT, &got_uids, &got_gids, &err),
			 PWB_EINVAL);
	ck_assert_str_eq(err.msg, "retired: field gids: item 1 is not an id");
	json_decref(o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("adm_records");
	TCase *tc = tcase_create("codec");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, user_round_trip);
	tcase_add_test(tc, strict_names_record_and_field);
	tcase_add_test(tc, group_members_and_strict);
	tcase_add_test(tc, token_and_retired);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
