/* Unit tests for pwbadm/common.c: aligned tables (UTF-8 aware), sorted
 * JSON listings, group list arguments, passwd field checks. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy.h"
#include "pwbadm.h"

/* Prints t into a string (caller frees). */
static char *table_text(struct pwbadm_table *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pwbadm_table_print(t, f), 0);
	fclose(f);
	return buf;
}

START_TEST(table_aligns_by_characters_and_sorts)
{
	static const char *const headers[] = {"NAME", "KEY", "X"};
	const char *r1[] = {"zed", "abcd\xe2\x80\xa6", "1"};
	const char *r2[] = {"al", "ab", "22"};
	struct pwbadm_table t;
	char *text;

	pwbadm_table_init(&t, 3, headers);
	ck_assert_int_eq(pwbadm_table_add(&t, r1), 0);
	ck_assert_int_eq(pwbadm_table_add(&t, r2), 0);
	pwbadm_table_sort(&t, 0);
	text = table_text(&t);
	/* "abcd…" is 5 characters wide (8 bytes): the X column lines up. */
	ck_assert_str_eq(text, "NAME  KEY    X\n"
			       "al    ab     22\n"
			       "zed   abcd\xe2\x80\xa6  1\n");
	free(text);
	pwbadm_table_free(&t);
}
END_TEST

START_TEST(empty_table_prints_header)
{
	static const char *const headers[] = {"A", "B"};
	struct pwbadm_table t;
	char *text;

	pwbadm_table_init(&t, 2, headers);
	text = table_text(&t);
	ck_assert_str_eq(text, "A  B\n");
	free(text);
	pwbadm_table_free(&t);
}
END_TEST

START_TEST(json_list_sorted_by_name)
{
	struct pwbadm_json_list l = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	ck_assert_int_eq(pwbadm_json_list_add(&l, json_pack("{s:s, s:i}", "name", "b", "n", 2)), 0);
	ck_assert_int_eq(pwbadm_json_list_add(&l, json_pack("{s:s, s:i}", "name", "a", "n", 1)), 0);
	ck_assert_int_eq(pwbadm_json_list_add(&l, NULL), -ENOMEM);
	f = open_memstream(&buf, &len);
	ck_assert_int_eq(pwbadm_json_list_print(&l, f), 0);
	fclose(f);
	ck_assert_str_eq(buf, "[\n{\"name\":\"a\",\"n\":1},\n{\"name\":\"b\",\"n\":2}\n]\n");
	free(buf);
	pwbadm_json_list_free(&l);
}
END_TEST

START_TEST(group_list_mapped_and_deduplicated)
{
	json_t *n;

	ck_assert_int_eq(pwbadm_group_list_arg("t", "Ops, data,ops", &n), 0);
	ck_assert_uint_eq(json_array_size(n), 2);
	ck_assert_str_eq(json_string_value(json_array_get(n, 0)), "ops");
	ck_assert_str_eq(json_string_value(json_array_get(n, 1)), "data");
	json_decref(n);
	ck_assert_int_eq(pwbadm_group_list_arg("t", "", &n), 0);
	ck_assert_uint_eq(json_array_size(n), 0);
	json_decref(n);
	ck_assert_int_eq(pwbadm_group_list_arg("t", "ok,bad name", &n), PWBADM_EXIT_USAGE);
	ck_assert_ptr_null(n);
	ck_assert_int_eq(pwbadm_group_list_arg("t", "a@b.com", &n), PWBADM_EXIT_USAGE);
	ck_assert_int_eq(pwbadm_group_list_arg("t", "..", &n), PWBADM_EXIT_USAGE);
}
END_TEST

/* pwbadm's passwd-field checks are the one rule (lib/base/policy.h). */
START_TEST(passwd_fields)
{
	ck_assert_int_eq(pwb_policy_passwd_field("home", "/home/a b", NULL), 0);
	ck_assert_int_eq(pwb_policy_passwd_field("home", "", NULL), 0);
	ck_assert_int_eq(pwb_policy_passwd_field("home", "/a:b", NULL), PWB_EINVAL);
	ck_assert_int_eq(pwb_policy_passwd_field("gecos", "a\nb", NULL), PWB_EINVAL);
	ck_assert_int_eq(pwb_policy_passwd_field("shell", "a\x7f", NULL), PWB_EINVAL);
}
END_TEST

/* The one list printer: sorted table, or one JSON array of the records. */
static int name_row(json_t *record, struct pwbadm_table *t, struct pwb_error *err)
{
	const char *row[1] = {json_string_value(json_object_get(record, "name"))};

	if (!row[0])
		return pwb_error_set(err, PWB_EINVAL, "thing: field name: not a string");
	return pwbadm_table_add(t, row);
}

START_TEST(list_printer)
{
	static const char *const headers[] = {"NAME"};
	static const struct pwbadm_list list = {"things", headers, 1, name_row};
	json_t *records =
	    json_pack("[{s:s, s:i}, {s:s, s:i}]", "name", "b", "n", 2, "name", "a", "n", 1);
	char *text = NULL;
	size_t len = 0;
	FILE *saved = stdout;

	stdout = open_memstream(&text, &len);
	ck_assert_int_eq(pwbadm_list_print(&list, records, false), 0);
	fclose(stdout);
	ck_assert_str_eq(text, "NAME\na\nb\n");
	free(text);
	stdout = open_memstream(&text, &len);
	ck_assert_int_eq(pwbadm_list_print(&list, records, true), 0);
	fclose(stdout);
	ck_assert_str_eq(text, "[\n{\"name\":\"a\",\"n\":1},\n{\"name\":\"b\",\"n\":2}\n]\n");
	free(text);
	stdout = saved;
	json_decref(records);
}
END_TEST

/* A record the printer cannot show fails the listing with the codec's own
 * message, naming the record and the field. */
START_TEST(list_printer_names_the_bad_field)
{
	static const char *const headers[] = {"NAME"};
	static const struct pwbadm_list list = {"things", headers, 1, name_row};
	json_t *records = json_pack("[{s:i}]", "name", 7);
	char *text = NULL;
	size_t len = 0;
	FILE *saved = stderr;

	stderr = open_memstream(&text, &len);
	ck_assert_int_ne(pwbadm_list_print(&list, records, false), 0);
	fclose(stderr);
	stderr = saved;
	ck_assert_msg(strstr(text, "cannot list things: thing: field name: not a string"), "%s",
		      text);
	free(text);
	json_decref(records);
}
END_TEST

START_TEST(time_text)
{
	char out[32];

	pwbadm_time_text(0, out);
	ck_assert_str_eq(out, "never");
	pwbadm_time_text(1795867200, out);
	ck_assert_str_eq(out, "2026-11-28T12:00:00Z");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("adm_common");
	TCase *tc = tcase_create("adm_common");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, table_aligns_by_characters_and_sorts);
	tcase_add_test(tc, empty_table_prints_header);
	tcase_add_test(tc, json_list_sorted_by_name);
	tcase_add_test(tc, group_list_mapped_and_deduplicated);
	tcase_add_test(tc, passwd_fields);
	tcase_add_test(tc, time_text);
	tcase_add_test(tc, list_printer);
	tcase_add_test(tc, list_printer_names_the_bad_field);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
