/* Unit tests for lib/scim_list.c: query-string decoding, pagination
 * parameters, attribute projection, sorting and the ListResponse. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "scim_list.h"

static json_t *load(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	ck_assert_msg(j != NULL, "bad test JSON: %s", jerr.text);
	return j;
}

START_TEST(query_is_decoded)
{
	struct pwb_scim_query q;
	struct pwb_scim_error err = {0};

	ck_assert_int_eq(pwb_scim_query_parse("filter=userName%20eq%20%22a%2Bb%40x.com%22+and+x"
					      "&startIndex=3&count=7&sortBy=name.familyName"
					      "&sortOrder=descending&attributes=userName,emails"
					      "&excludedAttributes=groups&other=1",
					      &q, &err),
			 0);
	ck_assert_str_eq(q.filter, "userName eq \"a+b@x.com\" and x");
	ck_assert_uint_eq(q.start, 3);
	ck_assert_uint_eq(q.count, 7);
	ck_assert_str_eq(q.sort_by, "name.familyName");
	ck_assert(q.descending);
	ck_assert_str_eq(q.attributes, "userName,emails");
	ck_assert_str_eq(q.excluded, "groups");
	pwb_scim_query_clear(&q);
}
END_TEST

START_TEST(pagination_defaults_and_clamps)
{
	struct pwb_scim_query q;
	struct pwb_scim_error err = {0};

	ck_assert_int_eq(pwb_scim_query_parse(NULL, &q, &err), 0);
	ck_assert_uint_eq(q.start, 1);
	ck_assert_uint_eq(q.count, PWB_SCIM_LIST_DEFAULT_COUNT);
	ck_assert_ptr_null(q.filter);
	pwb_scim_query_clear(&q);
	ck_assert_int_eq(pwb_scim_query_parse("startIndex=-4&count=999999", &q, &err), 0);
	ck_assert_uint_eq(q.start, 1);
	ck_assert_uint_eq(q.count, PWB_SCIM_LIST_MAX_COUNT);
	pwb_scim_query_clear(&q);
	ck_assert_int_eq(pwb_scim_query_parse("count=-1", &q, &err), 0);
	ck_assert_uint_eq(q.count, 0);
	pwb_scim_query_clear(&q);
	ck_assert_int_lt(pwb_scim_query_parse("count=ten", &q, &err), 0);
	ck_assert_str_eq(err.scim_type, "invalidValue");
	/* a NUL smuggled in with %00 would cut the filter short */
	ck_assert_int_lt(pwb_scim_query_parse("filter=a%00b", &q, &err), 0);
}
END_TEST

START_TEST(projection)
{
	json_t *doc = load("{\"schemas\":[\"s\"],\"id\":\"1\",\"userName\":\"a\",\"name\":{"
			   "\"givenName\":\"A\",\"familyName\":\"B\"},\"emails\":[],\"urn:x:"
			   "Ext\":{\"n\":1,\"m\":2}}");
	struct pwb_scim_query q = {.attributes = "USERNAME,name.familyName,urn:x:Ext:n"};
	char *got;

	pwb_scim_project(doc, &q);
	got = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_str_eq(got, "{\"id\":\"1\",\"name\":{\"familyName\":\"B\"},\"schemas\":[\"s\"],"
			      "\"urn:x:Ext\":{\"n\":1},\"userName\":\"a\"}");
	free(got);
	json_decref(doc);

	doc = load("{\"schemas\":[\"s\"],\"id\":\"1\",\"userName\":\"a\",\"name\":{\"givenName\":"
		   "\"A\",\"familyName\":\"B\"},\"emails\":[]}");
	q = (struct pwb_scim_query){.excluded = "emails,name.givenName,id"};
	pwb_scim_project(doc, &q);
	got = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_str_eq(got, "{\"id\":\"1\",\"name\":{\"familyName\":\"B\"},\"schemas\":[\"s\"],"
			      "\"userName\":\"a\"}");
	free(got);
	json_decref(doc);
}
END_TEST

START_TEST(sorting_and_list_response)
{
	json_t *arr = load("[{\"userName\":\"bob\"},{\"userName\":\"Alice\"},{\"x\":1},"
			   "{\"userName\":\"carol\"}]");
	json_t *list;

	pwb_scim_sort(arr, "userName", false);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 0), "userName")),
			 "Alice");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 2), "userName")),
			 "carol");
	ck_assert_ptr_null(json_object_get(json_array_get(arr, 3), "userName"));
	pwb_scim_sort(arr, "userName", true);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 1), "userName")),
			 "carol");
	list = pwb_scim_list_response(arr, 42, 11);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(list, "schemas"), 0)),
			 PWB_SCIM_LIST_SCHEMA);
	ck_assert_int_eq(json_integer_value(json_object_get(list, "totalResults")), 42);
	ck_assert_int_eq(json_integer_value(json_object_get(list, "startIndex")), 11);
	ck_assert_int_eq(json_integer_value(json_object_get(list, "itemsPerPage")), 4);
	json_decref(list);
}
END_TEST

START_TEST(search_request_body)
{
	json_t *body =
	    load("{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:SearchRequest\"],"
		 "\"filter\":\"userName sw \\\"a\\\"\",\"startIndex\":0,\"count\":5000,"
		 "\"attributes\":[\"userName\",\"name.givenName\"],"
		 "\"excludedAttributes\":\"groups\",\"sortBy\":\"userName\","
		 "\"sortOrder\":\"descending\"}");
	json_t *bad = load("{\"attributes\":[1]}");
	struct pwb_scim_query q;
	struct pwb_scim_error err = {0};

	ck_assert_int_eq(pwb_scim_query_from_search(body, &q, &err), 0);
	ck_assert_str_eq(q.filter, "userName sw \"a\"");
	ck_assert_uint_eq(q.start, 1);
	ck_assert_uint_eq(q.count, PWB_SCIM_LIST_MAX_COUNT);
	ck_assert_str_eq(q.attributes, "userName,name.givenName");
	ck_assert_str_eq(q.excluded, "groups");
	ck_assert_str_eq(q.sort_by, "userName");
	ck_assert(q.descending);
	pwb_scim_query_clear(&q);
	ck_assert_int_lt(pwb_scim_query_from_search(bad, &q, &err), 0);
	ck_assert_str_eq(err.scim_type, "invalidValue");
	json_decref(body);
	json_decref(bad);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scim_list");
	TCase *tc = tcase_create("scim_list");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, query_is_decoded);
	tcase_add_test(tc, pagination_defaults_and_clamps);
	tcase_add_test(tc, projection);
	tcase_add_test(tc, sorting_and_list_response);
	tcase_add_test(tc, search_request_body);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
