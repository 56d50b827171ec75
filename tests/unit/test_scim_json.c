/* Unit tests for the small SCIM helpers: lib/scim_json.c (case-insensitive
 * attributes, Entra's string booleans, RFC 3339 instants), lib/scim_error.c
 * (RFC 7644 §3.12 bodies, store error mapping) and lib/scim_discovery.c. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "error.h"
#include "scim_discovery.h"
#include "scim_error.h"
#include "scim_json.h"

START_TEST(attributes_are_case_insensitive)
{
	json_t *o = json_pack("{s:s,s:i}", "userName", "a", "Active", 1), *i = json_integer(1);
	const char *key;

	ck_assert_str_eq(pwb_scim_json_string(o, "USERNAME"), "a");
	ck_assert_ptr_nonnull(pwb_scim_json_get(o, "active", &key));
	ck_assert_str_eq(key, "Active");
	ck_assert_ptr_null(pwb_scim_json_get(o, "missing", NULL));
	ck_assert_int_eq(pwb_scim_json_set(o, "username", json_string("b")), 0);
	ck_assert_int_eq(json_object_size(o), 2); /* replaced, not added */
	ck_assert_str_eq(pwb_scim_json_string(o, "userName"), "b");
	pwb_scim_json_del(o, "ACTIVE");
	ck_assert_int_eq(json_object_size(o), 1);
	ck_assert_ptr_null(pwb_scim_json_get(i, "x", NULL));
	json_decref(i);
	json_decref(o);
}
END_TEST

START_TEST(booleans_in_every_form)
{
	bool b = false;
	json_t *v;

	ck_assert_int_eq(pwb_scim_json_bool(json_true(), &b), 0);
	ck_assert(b);
	v = json_string("False");
	ck_assert_int_eq(pwb_scim_json_bool(v, &b), 0);
	ck_assert(!b);
	json_decref(v);
	v = json_string("TRUE");
	ck_assert_int_eq(pwb_scim_json_bool(v, &b), 0);
	ck_assert(b);
	json_decref(v);
	v = json_string("yes");
	ck_assert_int_lt(pwb_scim_json_bool(v, &b), 0);
	json_decref(v);
	v = json_integer(1);
	ck_assert_int_lt(pwb_scim_json_bool(v, &b), 0);
	json_decref(v);
}
END_TEST

START_TEST(datetimes)
{
	double t, u;

	ck_assert(pwb_scim_parse_datetime("1970-01-01T00:00:00Z", &t));
	ck_assert(t == 0);
	ck_assert(pwb_scim_parse_datetime("2026-11-28T12:00:00.250Z", &t));
	ck_assert(pwb_scim_parse_datetime("2026-11-28T13:00:00.250+01:00", &u));
	ck_assert(t == u);
	ck_assert(pwb_scim_parse_datetime("2026-11-28t07:00:00-05:00", &u));
	ck_assert(u - t == -0.25);
	ck_assert(!pwb_scim_parse_datetime("2026-11-28", &t));
	ck_assert(!pwb_scim_parse_datetime("2026-11-28T12:00:00", &t)); /* no zone */
	ck_assert(!pwb_scim_parse_datetime("2026-13-28T12:00:00Z", &t));
	ck_assert(!pwb_scim_parse_datetime("2026-11-28T12:00:00Zjunk", &t));
	ck_assert(!pwb_scim_parse_datetime("alice", &t));
}
END_TEST

START_TEST(error_bodies)
{
	struct pwb_scim_error err = {0};
	json_t *body;

	ck_assert_int_eq(pwb_scim_fail(&err, 409, "uniqueness", "userName %s is taken", "x"),
			 PWB_EINVAL);
	body = pwb_scim_error_body(&err);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(body, "schemas"), 0)),
			 PWB_SCIM_ERROR_SCHEMA);
	ck_assert(json_is_string(json_object_get(body, "status")));
	ck_assert_str_eq(json_string_value(json_object_get(body, "status")), "409");
	ck_assert_str_eq(json_string_value(json_object_get(body, "scimType")), "uniqueness");
	ck_assert_str_eq(json_string_value(json_object_get(body, "detail")), "userName x is taken");
	json_decref(body);
	pwb_scim_fail(&err, 404, NULL, "gone");
	body = pwb_scim_error_body(&err);
	ck_assert_ptr_null(json_object_get(body, "scimType"));
	json_decref(body);
}
END_TEST

static const struct {
	int code, status;
	const char *type;
} store_errors[] = {
    {PWB_ENOTFOUND, 404, NULL},	     {PWB_EEXIST, 409, "uniqueness"},
    {PWB_ELOCAL, 409, "uniqueness"}, {PWB_EINVAL, 400, "invalidValue"},
    {PWB_ECONFLICT, 412, NULL},	     {PWB_EUNAVAIL, 503, NULL},
    {PWB_ESTORE, 500, NULL},	     {PWB_ENOIDS, 500, NULL},
    {PWB_EDAMAGED, 500, NULL},	     {PWB_EPERM, 403, NULL},
};

START_TEST(store_errors_map)
{
	struct pwb_scim_error err = {0};

	pwb_scim_fail_store(&err, store_errors[_i].code, "store says no");
	ck_assert_int_eq(err.status, store_errors[_i].status);
	if (store_errors[_i].type)
		ck_assert_str_eq(err.scim_type, store_errors[_i].type);
	else
		ck_assert_ptr_null(err.scim_type);
	/* 503: the store's message names the database's host, for the log
	 * only; the client is told to retry */
	if (store_errors[_i].status == 503)
		ck_assert_str_eq(err.detail, "the store cannot be reached right now; retry later");
	else
		ck_assert_str_eq(err.detail, "store says no");
}
END_TEST

/* n nested arrays around a 1, or objects when objects is set */
static json_t *nested(unsigned n, bool objects)
{
	size_t len = (size_t)n * 6 + 2;
	char *text = malloc(len), *p = text;
	json_error_t jerr;
	json_t *j;

	ck_assert_ptr_nonnull(text);
	for (unsigned i = 0; i < n; i++)
		p += sprintf(p, "%s", objects ? "{\"a\":" : "[");
	*p++ = '1';
	for (unsigned i = 0; i < n; i++)
		*p++ = objects ? '}' : ']';
	*p = '\0';
	j = json_loads(text, 0, &jerr);
	ck_assert_msg(j != NULL, "%s", jerr.text);
	free(text);
	return j;
}

START_TEST(depth_is_bounded)
{
	json_t *scalar = json_integer(1), *at_max = nested(PWB_SCIM_JSON_DEPTH_MAX, true);
	json_t *over = nested(PWB_SCIM_JSON_DEPTH_MAX + 1, false);
	json_t *deep = nested(2047, true); /* what issue 12 stored: Jansson takes it */
	json_t *wide = json_pack("{s:[i,i,{s:[]}],s:{}}", "a", 1, 2, "b", "c");

	ck_assert(!pwb_scim_json_deeper_than(scalar, 0));
	ck_assert(!pwb_scim_json_deeper_than(at_max, PWB_SCIM_JSON_DEPTH_MAX));
	ck_assert(pwb_scim_json_deeper_than(at_max, PWB_SCIM_JSON_DEPTH_MAX - 1));
	ck_assert(pwb_scim_json_deeper_than(over, PWB_SCIM_JSON_DEPTH_MAX));
	ck_assert(pwb_scim_json_deeper_than(deep, PWB_SCIM_JSON_DEPTH_MAX));
	ck_assert(!pwb_scim_json_deeper_than(wide, 4)); /* {[{[]}]} */
	ck_assert(pwb_scim_json_deeper_than(wide, 3));
	json_decref(scalar);
	json_decref(at_max);
	json_decref(over);
	json_decref(deep);
	json_decref(wide);
}
END_TEST

START_TEST(discovery_documents)
{
	json_t *spc = pwb_scim_service_provider_config("https://h/scim/v2", 4096);
	json_t *types = pwb_scim_resource_types("https://h/scim/v2", NULL);
	json_t *group = pwb_scim_resource_types("https://h/scim/v2", "group");
	json_t *schemas = pwb_scim_schemas("https://h/scim/v2", NULL);
	json_t *posix = pwb_scim_schemas("https://h/scim/v2",
					 "urn:pwb:params:scim:schemas:extension:posix:1.0:Group");

	ck_assert(json_is_true(json_object_get(json_object_get(spc, "patch"), "supported")));
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_object_get(spc, "bulk"), "maxPayloadSize")),
	    4096);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(spc, "meta"), "location")),
	    "https://h/scim/v2/ServiceProviderConfig");
	ck_assert_int_eq(json_integer_value(json_object_get(types, "totalResults")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(group, "endpoint")), "/Groups");
	ck_assert_int_eq(json_integer_value(json_object_get(schemas, "totalResults")), 4);
	ck_assert_str_eq(json_string_value(json_object_get(
			     json_array_get(json_object_get(posix, "attributes"), 0), "name")),
			 "gidNumber");
	ck_assert_ptr_null(pwb_scim_resource_types("https://h/scim/v2", "Printer"));
	ck_assert_ptr_null(pwb_scim_schemas("https://h/scim/v2", "urn:nope"));
	json_decref(spc);
	json_decref(types);
	json_decref(group);
	json_decref(schemas);
	json_decref(posix);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scim_json");
	TCase *tc = tcase_create("scim_json");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, attributes_are_case_insensitive);
	tcase_add_test(tc, booleans_in_every_form);
	tcase_add_test(tc, datetimes);
	tcase_add_test(tc, error_bodies);
	tcase_add_loop_test(tc, store_errors_map, 0,
			    sizeof(store_errors) / sizeof(store_errors[0]));
	tcase_add_test(tc, discovery_documents);
	tcase_add_test(tc, depth_is_bounded);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
