/* Unit tests for nss_pwb's snapshot reader and line parsers: levels and
 * tombstones, enumeration that does not move on ERANGE, new generations,
 * missing files, and the passwd/group/shadow parsers' edge cases. */
#include <check.h>
#include <db.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "nss_pwb.h"
#include "snapshot_read.h"
#include "testutil.h"

static char *dir;

/* Writes "key\tvalue\n..." pairs into db-dir/nss/name (empty value = tombstone),
 * beside and renamed over, as a publisher would. */
static void put_file(const char *name, const char *pairs)
{
	char path[512], tmp[520], *copy = strdup(pairs), *save = NULL;
	DB *db = NULL;

	snprintf(path, sizeof(path), "%s/nss/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	ck_assert_int_eq(db_create(&db, NULL, 0), 0);
	ck_assert_int_eq(db->open(db, NULL, tmp, NULL, DB_BTREE, DB_CREATE, 0644), 0);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		DBT k = {0}, v = {0};

		ck_assert_ptr_nonnull(tab);
		k.data = line;
		k.size = (u_int32_t)(tab - line);
		v.data = tab + 1;
		v.size = (u_int32_t)strlen(tab + 1);
		ck_assert_int_eq(db->put(db, NULL, &k, &v, 0), 0);
	}
	ck_assert_int_eq(db->close(db, 0), 0);
	ck_assert_int_eq(rename(tmp, path), 0);
	free(copy);
}

static void setup(void)
{
	char conf[512], *path;

	dir = test_mkdtemp();
	snprintf(conf, sizeof(conf), "db-dir=%s\n", dir);
	path = test_write_file(dir, "pwb.conf", conf);
	setenv("PWB_CONFIG", path, 1);
	free(path);
	snprintf(conf, sizeof(conf), "%s/nss", dir);
	ck_assert_int_eq(mkdir(conf, 0755), 0);
}

static void teardown(void)
{
	pwb_snap_close_all();
	test_rmtree(dir);
	free(dir);
}

static void publish_generation_1(void)
{
	put_file("base-1.db", "p.alice\talice:x:2000:2000::/h/alice:/bin/sh\n"
			      "p.bob\tbob:x:2001:2001::/h/bob:/bin/sh\n"
			      "p.carol\tcarol:x:2002:2002::/h/carol:/bin/sh\n");
	put_file("mid-1.db", "p.carol\tcarol:x:2002:2002:mid:/h/carol:/bin/sh\n"
			     "p.dave\tdave:x:2003:2003::/h/dave:/bin/sh\n");
	put_file("delta.db", "@mid\t1\n@base\t1\n@seq\t3\np.bob\t\n"
			     "p.erin\terin:x:2004:2004::/h/erin:/bin/sh\n");
}

static int get(const char *key, char *buf, size_t len)
{
	size_t n;

	return pwb_snap_get(PWB_SNAP_SET_PUBLIC, key, buf, len, &n);
}

START_TEST(unavailable_without_snapshot)
{
	char buf[256];

	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), PWB_SNAP_UNAVAIL);
	setenv("PWB_CONFIG", "/nonexistent/pwb.conf", 1); /* default db-dir */
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), PWB_SNAP_UNAVAIL);
}
END_TEST

START_TEST(first_level_holding_the_key_decides)
{
	char buf[256];

	publish_generation_1();
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "alice:x:2000:2000::/h/alice:/bin/sh");
	ck_assert_int_eq(get("p.carol", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "carol:x:2002:2002:mid:/h/carol:/bin/sh");
	ck_assert_int_eq(get("p.erin", buf, sizeof(buf)), 0);
	ck_assert_int_eq(get("p.bob", buf, sizeof(buf)), PWB_SNAP_NOTFOUND);
	ck_assert_int_eq(get("p.zed", buf, sizeof(buf)), PWB_SNAP_NOTFOUND);
	ck_assert_int_eq(get("p.alice", buf, 10), -ERANGE);
	/* exactly the line plus its NUL fits */
	ck_assert_int_eq(get("p.alice", buf, strlen("alice:x:2000:2000::/h/alice:/bin/sh") + 1), 0);
}
END_TEST

START_TEST(enumeration_once_each_and_stays_on_erange)
{
	struct pwb_snap_cursor cur;
	char buf[256], seen[256] = "";
	size_t n;
	int r, count = 0;

	publish_generation_1();
	pwb_snap_rewind(&cur);
	ck_assert_int_eq(pwb_snap_next(PWB_SNAP_SET_PUBLIC, "p.", &cur, buf, 8, &n), -ERANGE);
	while ((r = pwb_snap_next(PWB_SNAP_SET_PUBLIC, "p.", &cur, buf, sizeof(buf), &n)) == 0) {
		/* a short buffer in between returns the same entry again */
		char again[256];

		ck_assert_int_eq(pwb_snap_next(PWB_SNAP_SET_PUBLIC, "p.", &cur, again, 4, &n),
				 -ERANGE);
		ck_assert_int_eq(
		    pwb_snap_next(PWB_SNAP_SET_PUBLIC, "p.", &cur, again, sizeof(again), &n), 0);
		ck_assert_str_eq(again, buf);
		pwb_snap_advance(&cur);
		strncat(seen, buf, strcspn(buf, ":"));
		strcat(seen, " ");
		count++;
	}
	ck_assert_int_eq(r, PWB_SNAP_NOTFOUND);
	ck_assert_int_eq(count, 4);
	/* delta first, then mid, then base; shadowed and deleted keys skipped */
	ck_assert_str_eq(seen, "erin carol dave alice ");
}
END_TEST

START_TEST(new_generation_is_seen_at_once)
{
	char buf[256];

	publish_generation_1();
	ck_assert_int_eq(get("p.frank", buf, sizeof(buf)), PWB_SNAP_NOTFOUND);
	put_file("delta.db", "@mid\t1\n@base\t1\n@seq\t4\n"
			     "p.frank\tfrank:x:2005:2005::/h/frank:/bin/sh\n");
	ck_assert_int_eq(get("p.frank", buf, sizeof(buf)), 0);
	ck_assert_int_eq(get("p.bob", buf, sizeof(buf)), 0); /* tombstone gone */
	/* compaction: new base, old files removed */
	put_file("base-2.db", "p.gina\tgina:x:2006:2006::/h/gina:/bin/sh\n");
	put_file("mid-2.db", "");
	put_file("delta.db", "@mid\t2\n@base\t2\n@seq\t5\n");
	ck_assert_int_eq(get("p.gina", buf, sizeof(buf)), 0);
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), PWB_SNAP_NOTFOUND);
}
END_TEST

START_TEST(missing_or_broken_files_are_unavailable)
{
	char buf[256];

	publish_generation_1();
	put_file("delta.db", "@mid\t1\n@base\t7\n@seq\t4\n");
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), PWB_SNAP_UNAVAIL);
	put_file("delta.db", "@mid\t1\n@seq\t4\n"); /* no base named */
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), PWB_SNAP_UNAVAIL);
	put_file("delta.db", "@mid\t1\n@base\tx1\n@seq\t4\n");
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), PWB_SNAP_UNAVAIL);
	put_file("delta.db", "@base\t1\n@seq\t4\n"); /* no mid: straight on the base */
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), 0);
}
END_TEST

START_TEST(parsers)
{
	char line[256], buf[256];
	struct passwd pw;
	struct group gr;
	struct spwd sp;

	strcpy(line, "alice:x:2000:2001:Alice A:/h/alice:/bin/sh");
	ck_assert_int_eq(pwb_nss_fill_passwd(line, &pw), 0);
	ck_assert_str_eq(pw.pw_gecos, "Alice A");
	ck_assert_uint_eq(pw.pw_gid, 2001);
	strcpy(line, "alice:x:2000:2001:Alice:A:/h/alice:/bin/sh");
	ck_assert_int_eq(pwb_nss_fill_passwd(line, &pw), -EINVAL);
	strcpy(line, "toor:x:0:0::/root:/bin/sh");
	ck_assert_int_eq(pwb_nss_fill_passwd(line, &pw), -EINVAL);
	strcpy(line, "alice:x:-1:5::/h:/bin/sh");
	ck_assert_int_eq(pwb_nss_fill_passwd(line, &pw), -EINVAL);
	strcpy(line, "alice:x:4294967295:5::/h:/bin/sh");
	ck_assert_int_eq(pwb_nss_fill_passwd(line, &pw), -EINVAL);

	strcpy(buf, "data:x:3000:a,b,c");
	ck_assert_int_eq(pwb_nss_fill_group(buf, strlen(buf), sizeof(buf), &gr), 0);
	ck_assert_str_eq(gr.gr_mem[0], "a");
	ck_assert_str_eq(gr.gr_mem[2], "c");
	ck_assert_ptr_null(gr.gr_mem[3]);
	strcpy(buf, "solo:x:3001:");
	ck_assert_int_eq(pwb_nss_fill_group(buf, strlen(buf), sizeof(buf), &gr), 0);
	ck_assert_ptr_null(gr.gr_mem[0]);
	strcpy(buf, "data:x:3000:a,b,c");
	/* the line fits, the four member pointers do not */
	ck_assert_int_eq(pwb_nss_fill_group(buf, strlen(buf), 24, &gr), -ERANGE);

	strcpy(line, "erin:!*:20000:0:99999:7::1:");
	ck_assert_int_eq(pwb_nss_fill_shadow(line, &sp), 0);
	ck_assert_str_eq(sp.sp_pwdp, "!*");
	ck_assert_int_eq(sp.sp_expire, 1);
	ck_assert_int_eq(sp.sp_inact, -1);
	ck_assert_uint_eq(sp.sp_flag, ~0ul);
	strcpy(line, "erin:!*:20000:0:99999:7::1");
	ck_assert_int_eq(pwb_nss_fill_shadow(line, &sp), -EINVAL);
}
END_TEST

START_TEST(keys_without_printf)
{
	char key[PWB_SNAP_KEY_MAX];

	pwb_nss_key_id(key, "p=", 0);
	ck_assert_str_eq(key, "p=0");
	pwb_nss_key_id(key, "g=", 4294967295u);
	ck_assert_str_eq(key, "g=4294967295");
	pwb_nss_key_name(key, "i.", "alice");
	ck_assert_str_eq(key, "i.alice");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nss_snapshot");
	TCase *tc = tcase_create("reader");
	TCase *tp = tcase_create("parsers");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unavailable_without_snapshot);
	tcase_add_test(tc, first_level_holding_the_key_decides);
	tcase_add_test(tc, enumeration_once_each_and_stays_on_erange);
	tcase_add_test(tc, new_generation_is_seen_at_once);
	tcase_add_test(tc, missing_or_broken_files_are_unavailable);
	tcase_add_test(tp, parsers);
	tcase_add_test(tp, keys_without_printf);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tp);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
