/* Unit tests for lib/config.c: defaults, parsing, and errors that name the
 * file, line and key. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "testutil.h"

static int parse(const char *text, struct pwb_config *cfg, struct pwb_error *err)
{
	memset(err, 0, sizeof(*err));
	ck_assert_int_eq(pwb_config_defaults(cfg), 0);
	return pwb_config_parse(text, "t.conf", cfg, err);
}

START_TEST(defaults_match_design)
{
	struct pwb_config cfg;

	ck_assert_int_eq(pwb_config_defaults(&cfg), 0);
	ck_assert_str_eq(cfg.db_dir, PWB_LOCALSTATEDIR "/lib/pwb");
	ck_assert_str_eq(cfg.store_user, "pwb");
	ck_assert_uint_eq(cfg.start_uid, 1000);
	ck_assert_uint_eq(cfg.end_uid, 60000);
	ck_assert_uint_eq(cfg.start_gid, 1000);
	ck_assert_str_eq(cfg.homedir_path, "/home");
	ck_assert_str_eq(cfg.openid_username_claim, "preferred_username");
	ck_assert_str_eq(cfg.openid_groups_claim, "groups");
	ck_assert_uint_eq(cfg.openid_leeway, 60);
	ck_assert_str_eq(cfg.openid_algorithms, "RS256,ES256");
	ck_assert_str_eq(cfg.scim_base_path, "/scim/v2");
	ck_assert_uint_eq(cfg.scim_max_request_bytes, 1048576);
	ck_assert_ptr_null(cfg.openid_issuer);
	ck_assert(!cfg.provisioning_enabled);
	ck_assert_str_eq(cfg.group_space_replacement, "_");
	pwb_config_free(&cfg);
}
END_TEST

START_TEST(parses_values_comments_and_whitespace)
{
	struct pwb_config cfg;
	struct pwb_error err;

	ck_assert_int_eq(parse("# comment\n\n  db-dir =  /srv/pwb  \r\n"
			       "user-provisioning-enabled=yes\n"
			       "\tuser-provisioning-start-uid=5000\n"
			       "auth-openid-issuer=https://idp.example.com/oauth2/default\n"
			       "auth-openid-leeway=0",
			       &cfg, &err),
			 0);
	ck_assert_str_eq(cfg.db_dir, "/srv/pwb");
	ck_assert(cfg.provisioning_enabled);
	ck_assert_uint_eq(cfg.start_uid, 5000);
	ck_assert_uint_eq(cfg.openid_leeway, 0);
	ck_assert_str_eq(cfg.openid_issuer, "https://idp.example.com/oauth2/default");
	pwb_config_free(&cfg);
}
END_TEST

struct bad_case {
	const char *text;
	const char *expect; /* substring of the message */
};

static const struct bad_case bad_cases[] = {
    {"db-dir=/a\nfoo=1\n", "t.conf: line 2: unknown key 'foo'"},
    {"user-provisioning-start-uid=12x\n",
     "line 1: user-provisioning-start-uid: '12x' is not a number"},
    {"user-provisioning-start-uid=-1\n", "is not a number"},
    {"user-provisioning-start-uid=99999999999\n", "is not a number"},
    {"auth-openid-leeway=7200\n", "line 1: auth-openid-leeway: 7200 is out of range (0-3600)"},
    {"user-provisioning-enabled=maybe\n",
     "line 1: user-provisioning-enabled: 'maybe' is not a boolean"},
    {"\n\ndb-dir=/a\ndb-dir=/b\n", "line 4: duplicate key 'db-dir'"},
    {"db-dir\n", "line 1: expected key=value"},
    {"db-dir=relative/path\n", "line 1: db-dir: must be an absolute path"},
    {"store-user=\n", "line 1: store-user: empty value"},
    {"user-provisioning-start-uid=70000\n", "user-provisioning-start-uid (70000) is above"},
    {"group-name-space-replacement=+\n", "group-name-space-replacement must be one of"},
    {"group-name-space-replacement=__\n", "group-name-space-replacement must be one of"},
};

START_TEST(bad_input_names_line_and_key)
{
	const struct bad_case *c = &bad_cases[_i];
	struct pwb_config cfg;
	struct pwb_error err;

	ck_assert_int_eq(parse(c->text, &cfg, &err), PWB_ECONFIG);
	ck_assert_msg(strstr(err.msg, c->expect), "message \"%s\" lacks \"%s\"", err.msg,
		      c->expect);
	pwb_config_free(&cfg);
}
END_TEST

START_TEST(load_file_and_env_override)
{
	char *dir = test_mkdtemp();
	char *path = test_write_file(dir, "pwb.conf", "db-dir=/x/y\n");
	struct pwb_config cfg;
	struct pwb_error err = {0};

	setenv("PWB_CONFIG", path, 1);
	ck_assert_str_eq(pwb_config_path(NULL), path);
	ck_assert_str_eq(pwb_config_path("/explicit"), "/explicit");
	ck_assert_int_eq(pwb_config_load(NULL, false, &cfg, &err), 0);
	ck_assert_str_eq(cfg.db_dir, "/x/y");
	ck_assert_str_eq(cfg.path, path);
	pwb_config_free(&cfg);
	unsetenv("PWB_CONFIG");
	ck_assert_str_eq(pwb_config_path(NULL), PWB_CONFIG_DEFAULT_PATH);

	/* missing file: error unless allowed */
	ck_assert_int_lt(pwb_config_load("/nonexistent/pwb.conf", false, &cfg, &err), 0);
	ck_assert(strstr(err.msg, "/nonexistent/pwb.conf") != NULL);
	ck_assert_int_eq(pwb_config_load("/nonexistent/pwb.conf", true, &cfg, &err), 0);
	ck_assert_str_eq(cfg.db_dir, PWB_DB_DIR_DEFAULT);
	pwb_config_free(&cfg);

	/* an error names the file's path */
	free(path);
	path = test_write_file(dir, "bad.conf", "nope=1\n");
	ck_assert_int_eq(pwb_config_load(path, false, &cfg, &err), PWB_ECONFIG);
	ck_assert(strstr(err.msg, path) != NULL);
	ck_assert(strstr(err.msg, "line 1") != NULL);
	free(path);
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(read_db_dir_for_nss)
{
	char *dir = test_mkdtemp();
	char *path = test_write_file(dir, "pwb.conf",
				     "# x\nauth-openid-issuer=https://a\n  db-dir = /srv/p \n");
	char out[4096];

	ck_assert_int_eq(pwb_config_read_db_dir(path, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/srv/p");
	free(path);
	path = test_write_file(dir, "none.conf", "store-user=x\n");
	ck_assert_int_eq(pwb_config_read_db_dir(path, out, sizeof(out)), -ENOENT);
	ck_assert_int_lt(pwb_config_read_db_dir("/nonexistent", out, sizeof(out)), 0);
	free(path);
	test_rmtree(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, defaults_match_design);
	tcase_add_test(tc, parses_values_comments_and_whitespace);
	tcase_add_loop_test(tc, bad_input_names_line_and_key, 0,
			    sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, load_file_and_env_override);
	tcase_add_test(tc, read_db_dir_for_nss);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
