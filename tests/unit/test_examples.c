/* examples/pwb.conf must parse, and must name every key pwb knows (each
 * commented-out default must also parse and equal the built-in default). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

static char *read_example(void)
{
	const char *src = getenv("PWB_TEST_SRCDIR");
	char path[4096];
	char *buf = calloc(1, 65536);
	FILE *f;

	snprintf(path, sizeof(path), "%s/examples/pwb.conf", src ? src : "../..");
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_uint_gt(fread(buf, 1, 65535, f), 100);
	fclose(f);
	return buf;
}

START_TEST(example_parses)
{
	char *text = read_example();
	struct pwb_config cfg;
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_config_defaults(&cfg), 0);
	ck_assert_msg(pwb_config_parse(text, "examples/pwb.conf", &cfg, &err) == 0, "%s", err.msg);
	ck_assert(cfg.provisioning_enabled);
	pwb_config_free(&cfg);
	free(text);
}
END_TEST

/* Every key appears in the example, and each "#key=value" line shows the
 * built-in default (the value of a fresh configuration for that key). */
START_TEST(commented_defaults_are_the_defaults)
{
	char *text = read_example(), *line, *save = NULL;
	struct pwb_config defaults;
	size_t i;
	int n = 0;

	ck_assert_int_eq(pwb_config_defaults(&defaults), 0);
	for (i = 0; pwb_config_key_name(i); i++) {
		char needle[128];

		snprintf(needle, sizeof(needle), "%s=", pwb_config_key_name(i));
		ck_assert_msg(strstr(text, needle) != NULL, "examples/pwb.conf lacks %s",
			      pwb_config_key_name(i));
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[128], want[4096];
		char *eq = strchr(line, '=');

		if (line[0] != '#' || !eq || line[1] == ' ' || (size_t)(eq - line) >= sizeof(key))
			continue;
		memcpy(key, line + 1, (size_t)(eq - line - 1));
		key[eq - line - 1] = '\0';
		ck_assert_msg(pwb_config_value_text(&defaults, key, want, sizeof(want)) == 0,
			      "unknown key in example: %s", key);
		/* paths under the configured prefix: compare the tail */
		ck_assert_msg(strlen(want) >= strlen(eq + 1) &&
				  strcmp(want + strlen(want) - strlen(eq + 1), eq + 1) == 0,
			      "%s: example says '%s', default is '%s'", key, eq + 1, want);
		n++;
	}
	ck_assert_int_ge(n, 20);
	pwb_config_free(&defaults);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("examples");
	TCase *tc = tcase_create("examples");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, example_parses);
	tcase_add_test(tc, commented_defaults_are_the_defaults);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
