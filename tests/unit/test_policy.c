/* Unit tests for lib/policy.c: where homes may lie (normalised, strictly
 * below user-homedir-path or an allowed root), which shells, which group
 * names are never provisioned. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy.h"
#include "testutil.h"

static struct pwb_config cfg;
static char *dir;

static void load(const char *text)
{
	struct pwb_error err = {0};
	char *path;

	pwb_config_free(&cfg);
	path = test_write_file(dir, "pwb.conf", text);
	ck_assert_msg(pwb_config_load(path, false, &cfg, &err) == 0, "%s", err.msg);
	free(path);
}

static void setup(void)
{
	dir = test_mkdtemp();
	memset(&cfg, 0, sizeof(cfg));
	load("user-homedir-path=/home\nuser-homedir-allowed-roots=/srv/homes, /data/users/\n");
}

static void teardown(void)
{
	pwb_config_free(&cfg);
	test_rmtree(dir);
	free(dir);
}

static void home_ok(const char *in, const char *want)
{
	struct pwb_error err = {0};
	char *out = NULL;

	ck_assert_msg(pwb_policy_home(&cfg, in, &out, &err) == 0, "%s: %s", in, err.msg);
	ck_assert_str_eq(out, want);
	free(out);
}

static void home_refused(const char *in)
{
	struct pwb_error err = {0};
	char *out = NULL;

	ck_assert_msg(pwb_policy_home(&cfg, in, &out, &err) == PWB_EINVAL, "%s accepted", in);
	ck_assert_ptr_null(out);
	ck_assert_msg(strstr(err.msg, "homeDirectory"), "%s", err.msg);
}

START_TEST(homes_below_the_roots_normalised)
{
	home_ok("/home/alice", "/home/alice");
	home_ok("//home/./alice/", "/home/alice");
	home_ok("/home/team/alice", "/home/team/alice");
	home_ok("/srv/homes/bob", "/srv/homes/bob");
	home_ok("/data/users/carol", "/data/users/carol");
}
END_TEST

START_TEST(homes_elsewhere_refused)
{
	static const char *const bad[] = {"/etc/systemd/system/ssh.service.d",
					  "/root",
					  "/root/.ssh",
					  "/etc",
					  "/usr/local/bin",
					  "/var/spool/cron/crontabs",
					  "/home",
					  "/home/",
					  "/homeevil/x",
					  "/home/../etc",
					  "/home/alice/../../root",
					  "home/alice",
					  "",
					  "/home/a:b",
					  "/home/a\nb",
					  "/srv/homes",
					  "/data/usersx/y"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		home_refused(bad[i]);
	home_refused(NULL);
}
END_TEST

START_TEST(shells_from_etc_shells)
{
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_policy_shell("/bin/sh", &err), 0);
	ck_assert_int_eq(pwb_policy_shell("/tmp/evil", &err), PWB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "loginShell"));
	ck_assert_int_eq(pwb_policy_shell("sh", &err), PWB_EINVAL);
	ck_assert_int_eq(pwb_policy_shell(NULL, &err), PWB_EINVAL);
}
END_TEST

START_TEST(group_deny_names)
{
	static const char *const denied[] = {
	    "root",   "adm",  "admin",	"wheel", "sudo",    "sudoers", "staff",
	    "shadow", "disk", "docker", "lxd",	 "libvirt", "kvm",     "systemd-journal"};
	struct pwb_error err = {0};
	size_t i;

	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		ck_assert_msg(pwb_policy_group_name(&cfg, denied[i], &err) == PWB_EINVAL, "%s",
			      denied[i]);
		ck_assert_ptr_nonnull(strstr(err.msg, "group-provisioning-deny-names"));
	}
	ck_assert_int_eq(pwb_policy_group_name(&cfg, "Docker", &err), PWB_EINVAL);
	ck_assert_int_eq(pwb_policy_group_name(&cfg, "data-science", &err), 0);
	load("group-provisioning-deny-names=Research,  lab \n");
	ck_assert_int_eq(pwb_policy_group_name(&cfg, "research", &err), PWB_EINVAL);
	ck_assert_int_eq(pwb_policy_group_name(&cfg, "lab", &err), PWB_EINVAL);
	ck_assert_int_eq(pwb_policy_group_name(&cfg, "admin", &err), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("policy");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, homes_below_the_roots_normalised);
	tcase_add_test(tc, homes_elsewhere_refused);
	tcase_add_test(tc, shells_from_etc_shells);
	tcase_add_test(tc, group_deny_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
