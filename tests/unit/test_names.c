/* Unit tests for lib/names.c: the one gate for external names, fed with
 * hostile input. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "names.h"

struct name_case {
	const char *in;
	unsigned flags;
	const char *domains;
	const char *out; /* NULL: refused */
};

#define LC PWB_NAMES_LOWERCASE
#define SD PWB_NAMES_STRIP_DOMAIN

static const struct name_case cases[] = {
    {"alice", 0, NULL, "alice"},
    {"_svc", 0, NULL, "_svc"},
    {"a.b-c_d9", 0, NULL, "a.b-c_d9"},
    {"Alice", 0, NULL, NULL},
    {"Alice", LC, NULL, "alice"},
    {"alice@example.com", 0, NULL, NULL},
    {"alice@example.com", SD, NULL, "alice"},
    {"Alice.Smith@Example.COM", SD | LC, NULL, "alice.smith"},
    {"alice@example.com", SD, "example.com", "alice"},
    {"alice@EXAMPLE.com", SD, "other.org, example.com", "alice"},
    {"alice@evil.example", SD, "example.com", NULL},
    {"alice@example.com.evil", SD, "example.com", NULL},
    /* With domains listed, a bare name is not known to be one of them. */
    {"alice", SD | LC, "corp.example", NULL},
    {"Alice", SD | LC, "corp.example", NULL},
    {"alice", SD | LC, " , ", "alice"},
    {"alice", SD | LC, NULL, "alice"},
    {"alice", LC, "corp.example", "alice"},
    {"Alice@Corp.Example", SD | LC, "corp.example", "alice"},
    {"alice@other.example", SD | LC, "corp.example", NULL},
    /* Root's CLI names accounts by Linux name; domains still checked. */
    {"Alice", SD | LC | PWB_NAMES_ALLOW_BARE, "corp.example", "alice"},
    {"alice@corp.example", SD | PWB_NAMES_ALLOW_BARE, "corp.example", "alice"},
    {"alice@other.example", SD | PWB_NAMES_ALLOW_BARE, "corp.example", NULL},
    {"alice@", SD, NULL, NULL},
    {"@example.com", SD, NULL, NULL},
    {"a@b@c", SD, NULL, NULL},
    {"../x", SD | LC, NULL, NULL},
    {"..", LC, NULL, NULL},
    {".", LC, NULL, NULL},
    {"a/b", LC, NULL, NULL},
    {"-rf", LC, NULL, NULL},
    {"9lives", LC, NULL, NULL},
    {"", LC, NULL, NULL},
    {"al ice", LC, NULL, NULL},
    {"alice\n", LC, NULL, NULL},
    {"al:ice", LC, NULL, NULL},
    {"al,ice", LC, NULL, NULL},
    {"j\xc3\xb6rg", LC, NULL, NULL},
    {"abcdefghijabcdefghijabcdefghij12", 0, NULL, "abcdefghijabcdefghijabcdefghij12"},
    {"abcdefghijabcdefghijabcdefghij123", 0, NULL, NULL},
    {"abcdefghijabcdefghijabcdefghij123@x.org", SD, NULL, NULL},
};

START_TEST(maps_or_refuses)
{
	const struct name_case *c = &cases[_i];
	char out[PWB_NAME_MAX + 1];
	struct pwb_error err = {0};
	int r = pwb_names_to_linux(c->in, c->flags, c->domains, out, &err);

	if (c->out) {
		ck_assert_msg(r == 0, "'%s' refused: %s", c->in, err.msg);
		ck_assert_str_eq(out, c->out);
		ck_assert(pwb_names_is_valid(out));
	} else {
		ck_assert_msg(r == PWB_EINVAL, "'%s' accepted as '%s'", c->in, out);
		ck_assert_str_eq(out, "");
		ck_assert(err.msg[0] != '\0');
	}
}
END_TEST

START_TEST(embedded_nul_cuts_the_name)
{
	/* A NUL inside a C string ends it: "al\0ice" is "al", never "alice". */
	const char raw[] = {'a', 'l', '\0', 'i', 'c', 'e', '\0'};
	char out[PWB_NAME_MAX + 1];

	ck_assert_int_eq(pwb_names_to_linux(raw, 0, NULL, out, NULL), 0);
	ck_assert_str_eq(out, "al");
}
END_TEST

START_TEST(messages_escape_hostile_bytes)
{
	char out[PWB_NAME_MAX + 1];
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_names_to_linux("ev\nil\x1b[31m", LC, NULL, out, &err), PWB_EINVAL);
	ck_assert_ptr_null(strchr(err.msg, '\n'));
	ck_assert_ptr_null(strchr(err.msg, '\x1b'));
	ck_assert_ptr_nonnull(strstr(err.msg, "\\x0a"));
}
END_TEST

START_TEST(escape_truncates)
{
	char buf[16];
	char big[200];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pwb_names_escape(big, buf, sizeof(buf));
	ck_assert_uint_lt(strlen(buf), sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "..."));
	pwb_names_escape(NULL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(is_valid_rejects_null_and_dots)
{
	ck_assert(!pwb_names_is_valid(NULL));
	ck_assert(!pwb_names_is_valid("."));
	ck_assert(!pwb_names_is_valid(".."));
	ck_assert(!pwb_names_is_valid(".hidden"));
	ck_assert(pwb_names_is_valid("data.team"));
}
END_TEST

/* The group display-name rule (pwb_names_group_from_display): what Okta
 * and Entra send, and each refusal naming the derived name and why. */
static const struct {
	const char *display;
	char space;
	const char *expect; /* NULL: refused */
	const char *why;    /* a part of the message when refused */
} group_cases[] = {
    {"Data Scientists", '_', "data_scientists", NULL},
    {"Data Scientists", '-', "data-scientists", NULL},
    {"engineering", '_', "engineering", NULL},
    {"R&D Team", '_', NULL, "derived group name \"r&d_team\" contains '&'"},
    {"A Very Long Group Name For Everyone Here", '_', NULL,
     "\"a_very_long_group_name_for_everyone_here\" has 40 characters, more than 32"},
    {"0f8fad5b-d9cb-469f-a165-70867728950e", '_', NULL, "starts with a digit"},
    {"Daten Wissenschaftler \xc3\xa4", '_', NULL, "is not ASCII"},
    {"tab\there", '_', NULL, "control character"},
    {" leading", '_', "_leading", NULL},
    {"-dash", '_', NULL, "starts with '-'"},
    {"", '_', NULL, "empty"},
    {"abcdefghijklmnopqrstuvwxyz ABCDE", '_', "abcdefghijklmnopqrstuvwxyz_abcde", NULL},
};

START_TEST(group_display_rule)
{
	char out[PWB_NAME_MAX + 1] = "x";
	struct pwb_error err = {0};
	int r =
	    pwb_names_group_from_display(group_cases[_i].display, group_cases[_i].space, out, &err);

	if (group_cases[_i].expect) {
		ck_assert_int_eq(r, 0);
		ck_assert_str_eq(out, group_cases[_i].expect);
	} else {
		ck_assert_int_eq(r, PWB_EINVAL);
		ck_assert_str_eq(out, "");
		ck_assert_msg(strstr(err.msg, group_cases[_i].why), "message \"%s\" lacks \"%s\"",
			      err.msg, group_cases[_i].why);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("names");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, maps_or_refuses, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, embedded_nul_cuts_the_name);
	tcase_add_test(tc, messages_escape_hostile_bytes);
	tcase_add_test(tc, escape_truncates);
	tcase_add_test(tc, is_valid_rejects_null_and_dots);
	tcase_add_loop_test(tc, group_display_rule, 0,
			    sizeof(group_cases) / sizeof(group_cases[0]));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
