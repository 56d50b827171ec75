/* Unit tests for pwbadm/progress.c's line (thousands separators, rate,
 * ETA, unknown total) and lib/base/progress.c's throttle (first and last
 * always, else ten a second). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "progress.h"
#include "pwbadm.h"

struct format_case {
	const char *stage, *unit;
	uint64_t done;
	int64_t total, elapsed_ms;
	const char *want;
	uint64_t counted; /* done in elapsed_ms (0: done) */
};

static const struct format_case cases[] = {
    /* the example: 41,000 in 4.2 s is 9,761/s; 59,000 left: 7 s */
    {"importing", "users", 41000, 100000, 4200, "importing: 41,000/100,000 users, 9,761/s, ETA 7 s",
     0},
    {"importing", "users", 100000, 100000, 10000, "importing: 100,000/100,000 users, 10,000/s", 0},
    /* no rate from one point in time, nor from nothing done */
    {"checking", "lines", 1, 3000, 0, "checking: 1/3,000 lines", 0},
    {"checking", "lines", 0, 3000, 500, "checking: 0/3,000 lines", 0},
    /* unknown total: a count and a rate, no ETA */
    {"listing", "users", 1234567, -1, 1000, "listing: 1,234,567 users, 1,234,567/s", 0},
    {"listing", "groups", 999, -1, 2000, "listing: 999 groups, 499/s", 0},
    /* ETA in minutes and hours, rounded up */
    {"publishing", "users", 100, 100000, 1000,
     "publishing: 100/100,000 users, 100/s, ETA 16 min 39 s", 0},
    {"importing", "users", 1, 1000000, 1000, "importing: 1/1,000,000 users, 1/s, ETA 277 h 46 min",
     0},
    {"importing", "users", 999, 1000, 1000, "importing: 999/1,000 users, 999/s, ETA 1 s", 0},
    /* the rate counts from the stage's first report (here at 40,000) */
    {"importing", "users", 50000, 100000, 2000,
     "importing: 50,000/100,000 users, 5,000/s, ETA 10 s", 10000},
    /* a rate below one a second: no ETA to divide by */
    {"importing", "users", 1, 10, 5000, "importing: 1/10 users, 0/s", 0},
};

START_TEST(format_cases)
{
	const struct format_case *c = &cases[_i];
	char line[256];

	pwbadm_progress_format(line, sizeof(line), c->stage, c->done, c->total, c->unit,
			       c->counted ? c->counted : c->done, c->elapsed_ms);
	ck_assert_str_eq(line, c->want);
}
END_TEST

START_TEST(format_truncates_safely)
{
	char line[12];

	pwbadm_progress_format(line, sizeof(line), "importing", 41000, 100000, "users", 41000,
			       4200);
	ck_assert_str_eq(line, "importing: ");
}
END_TEST

START_TEST(throttle_first_last_and_ten_a_second)
{
	struct pwb_progress_throttle t = {0};

	ck_assert(pwb_progress_due(&t, "importing", "users", 1, 100, 1000));
	ck_assert(!pwb_progress_due(&t, "importing", "users", 2, 100, 1050));
	ck_assert(pwb_progress_due(&t, "importing", "users", 3, 100, 1100));
	ck_assert(!pwb_progress_due(&t, "importing", "users", 4, 100, 1101));
	/* the last always */
	ck_assert(pwb_progress_due(&t, "importing", "users", 100, 100, 1102));
	/* a new unit or stage starts a new count: its first always */
	ck_assert(pwb_progress_due(&t, "importing", "groups", 1, 5, 1103));
	ck_assert(pwb_progress_due(&t, "publishing", "groups", 1, 5, 1104));
	ck_assert(!pwb_progress_due(&t, "publishing", "groups", 2, 5, 1105));
	/* unknown total: never "the last" */
	ck_assert(pwb_progress_due(&t, "listing", "users", 1, -1, 2000));
	ck_assert(!pwb_progress_due(&t, "listing", "users", 2, -1, 2001));
}
END_TEST

START_TEST(words)
{
	ck_assert(pwb_progress_word_ok("importing"));
	ck_assert(pwb_progress_word_ok("group maps"));
	ck_assert(!pwb_progress_word_ok(""));
	ck_assert(!pwb_progress_word_ok(NULL));
	ck_assert(!pwb_progress_word_ok(" users"));
	ck_assert(!pwb_progress_word_ok("Users"));
	ck_assert(!pwb_progress_word_ok("users\r"));
	ck_assert(!pwb_progress_word_ok("abcdefghijklmnopqrstuvwxyzabcdefg")); /* 33 */
	ck_assert(pwb_progress_word_ok("abcdefghijklmnopqrstuvwxyzabcdef"));   /* 32 */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("adm_progress");
	TCase *tc = tcase_create("progress");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, format_cases, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, format_truncates_safely);
	tcase_add_test(tc, throttle_first_last_and_ten_a_second);
	tcase_add_test(tc, words);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
