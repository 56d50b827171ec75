/* Unit tests for lib/oidc_cache.c: the cache directory's ownership and
 * mode, whose cache a process uses (root, the login-user, anyone else),
 * entry round trip, and per-URL names. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "oidc_cache.h"
#include "testutil.h"

START_TEST(dir_entries_and_names)
{
	char *dir = test_mkdtemp(), cache[PATH_MAX], n1[80], n2[80], *file = NULL;
	struct pwb_cache_entry e = {"https://a/jwks", "{\"keys\":[]}", 100, 200, 7}, got;
	struct pwb_error err = {0};
	struct stat st;

	ck_assert_int_eq(pwb_oidc_cache_dir(dir, cache, &err), 0);
	ck_assert_int_eq(stat(cache, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(pwb_oidc_cache_name("jwks", "https://a/jwks", n1), 0);
	ck_assert_int_eq(pwb_oidc_cache_name("jwks", "https://b/jwks", n2), 0);
	ck_assert_str_ne(n1, n2);
	ck_assert(strncmp(n1, "jwks-", 5) == 0);
	ck_assert_int_eq(pwb_oidc_cache_load(cache, n1, &got, &err), PWB_ENOTFOUND);
	ck_assert_int_eq(pwb_oidc_cache_save(cache, n1, &e, &err), 0);
	ck_assert_int_eq(pwb_oidc_cache_load(cache, n1, &got, &err), 0);
	ck_assert_str_eq(got.url, e.url);
	ck_assert_str_eq(got.body, e.body);
	ck_assert_int_eq(got.fetched, 100);
	ck_assert_int_eq(got.expires, 200);
	ck_assert_int_eq(got.forced, 7);
	pwb_cache_entry_clear(&got);
	ck_assert_int_ge(asprintf(&file, "%s/%s", cache, n1), 0);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	free(file);
	file = test_write_file(cache, "bad.json", "{\"url\":1}");
	ck_assert_int_eq(pwb_oidc_cache_load(cache, "bad.json", &got, &err), PWB_EINVAL);
	free(file);
	/* a cache directory others can read is refused */
	ck_assert_int_eq(chmod(cache, 0755), 0);
	ck_assert_int_eq(pwb_oidc_cache_dir(dir, cache, &err), PWB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "must be 0700"));
	test_rmtree(dir);
	free(dir);
}
END_TEST

/* In a child that runs as `as` (by name): pwb_oidc_cache_dir_for's code,
 * and whether the path it gave is want (NULL: empty). */
static int cache_dir_as(const char *as, const struct pwb_config *cfg, const char *want)
{
	struct passwd *pw = getpwnam(as);
	pid_t pid;
	int status;

	ck_assert_ptr_nonnull(pw);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char out[PATH_MAX];
		struct pwb_error err = {0};
		int r;

		if (setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
			_exit(100);
		r = pwb_oidc_cache_dir_for(cfg, out, &err);
		if (r < 0)
			fprintf(stderr, "as %s: %s\n", as, err.msg);
		if (want ? strcmp(out, want) != 0 : out[0] != '\0')
			_exit(101);
		_exit(r == 0 ? 0 : r == PWB_ENOTFOUND ? 1 : r == PWB_ECONFIG ? 2 : 3);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* root: db-dir/cache; the login-user: auth-openid-session-dir/cache,
 * created 0700 and owned by it; anyone else: none. */
START_TEST(cache_dir_per_user)
{
	char *dir = test_mkdtemp(), *db = NULL, *sess = NULL, *want = NULL, *want_root = NULL;
	struct pwb_config cfg = {0};
	struct passwd *pw = getpwnam("nobody");
	uid_t nobody_uid = pw ? pw->pw_uid : 0;
	gid_t nobody_gid = pw ? pw->pw_gid : 0;
	char out[PATH_MAX];
	struct pwb_error err = {0};
	struct stat st;

	if (geteuid() != 0 || !pw || !getpwnam("daemon")) {
		test_rmtree(dir);
		free(dir);
		return; /* needs root to switch users */
	}
	ck_assert_int_ge(asprintf(&db, "%s/db", dir), 0);
	ck_assert_int_ge(asprintf(&sess, "%s/sess", dir), 0);
	ck_assert_int_ge(asprintf(&want, "%s/sess/cache", dir), 0);
	ck_assert_int_ge(asprintf(&want_root, "%s/db/cache", dir), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(mkdir(db, 0700), 0);
	ck_assert_int_eq(mkdir(sess, 0700), 0);
	ck_assert_int_eq(chown(sess, nobody_uid, nobody_gid), 0);
	cfg.db_dir = db;
	cfg.openid_session_dir = sess;
	cfg.login_user = (char *)"nobody";
	ck_assert_int_eq(pwb_oidc_cache_dir_for(&cfg, out, &err), 0);
	ck_assert_str_eq(out, want_root);
	ck_assert_int_eq(cache_dir_as("nobody", &cfg, want), 0);
	ck_assert_int_eq(stat(want, &st), 0);
	ck_assert_uint_eq(st.st_uid, nobody_uid);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(cache_dir_as("daemon", &cfg, NULL), 1);
	/* the login-user's cache dir must still be its own and 0700 */
	ck_assert_int_eq(chmod(want, 0750), 0);
	ck_assert_int_eq(cache_dir_as("nobody", &cfg, want), 2);
	ck_assert_int_eq(chmod(want, 0700), 0);
	ck_assert_int_eq(chown(want, 0, 0), 0);
	ck_assert_int_eq(cache_dir_as("nobody", &cfg, want), 2);
	/* no login-user configured: nobody has no cache */
	cfg.login_user = NULL;
	ck_assert_int_eq(cache_dir_as("nobody", &cfg, NULL), 1);
	test_rmtree(dir);
	free(dir);
	free(db);
	free(sess);
	free(want);
	free(want_root);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("oidc_cache");
	TCase *tc = tcase_create("oidc_cache");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, dir_entries_and_names);
	tcase_add_test(tc, cache_dir_per_user);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
