/* Unit tests for nss_pwb's cache over the snapshot reader and its line
 * parsers: levels and tombstones, enumeration that does not move on
 * ERANGE, new generations, missing files, binding keys never served, the
 * passwd/group/shadow parsers' edge cases, and what the cache refuses to
 * trust (ranges, local ids, password fields; trust.h). */
#include <check.h>
#include <db.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "nss_pwb.h"
#include "cache.h"
#include "testutil.h"
#include "trust.h"

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

/* Local accounts of the tests: root, a system user and a local user
 * (uid 2500) inside pwb's default range, and their groups (sudo = 27). */
#define LOCAL_PASSWD                                                                               \
	"root:x:0:0:root:/root:/bin/bash\n"                                                        \
	"# a comment\n"                                                                            \
	"daemon:x:1:1::/:/usr/sbin/nologin\n"                                                      \
	"+::::::\n"                                                                                \
	"lena:x:2500:2500::/home/lena:/bin/bash\n"
#define LOCAL_GROUP "root:x:0:\nsudo:x:27:lena\nlena:x:2500:\nstaff:x:2600:"

static void write_config(const char *extra)
{
	char conf[1024], *path;

	snprintf(conf, sizeof(conf), "db-dir=%s\n%s", dir, extra ? extra : "");
	path = test_write_file(dir, "pwb.conf", conf);
	setenv("PWB_CONFIG", path, 1);
	free(path);
}

/* Unit tests write nothing to the host's syslog. */
static void no_log(const char *line)
{
	(void)line;
}

static void setup(void)
{
	char path[512], *passwd, *group;

	dir = test_mkdtemp();
	write_config(NULL);
	snprintf(path, sizeof(path), "%s/nss", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	passwd = test_write_file(dir, "passwd", LOCAL_PASSWD);
	group = test_write_file(dir, "group", LOCAL_GROUP);
	pwb_nss_set_local_files(passwd, group);
	pwb_nss_trust_set_log_sink(no_log);
	free(passwd);
	free(group);
}

static void teardown(void)
{
	pwb_nss_close_all();
	pwb_nss_set_local_files(NULL, NULL);
	pwb_nss_trust_set_log_sink(NULL);
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

	return pwb_nss_get(PWB_SNAPSHOT_PUBLIC, key, buf, len, &n);
}

START_TEST(unavailable_without_snapshot)
{
	char buf[256];

	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), PWB_EUNAVAIL);
	setenv("PWB_CONFIG", "/nonexistent/pwb.conf", 1); /* default db-dir */
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), PWB_EUNAVAIL);
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
	ck_assert_int_eq(get("p.bob", buf, sizeof(buf)), PWB_ENOTFOUND);
	ck_assert_int_eq(get("p.zed", buf, sizeof(buf)), PWB_ENOTFOUND);
	ck_assert_int_eq(get("p.alice", buf, 10), -ERANGE);
	/* exactly the line plus its NUL fits */
	ck_assert_int_eq(get("p.alice", buf, strlen("alice:x:2000:2000::/h/alice:/bin/sh") + 1), 0);
}
END_TEST

START_TEST(enumeration_once_each_and_stays_on_erange)
{
	struct pwb_snapshot_cursor cur;
	char buf[256], seen[256] = "";
	size_t n;
	int r, count = 0;

	publish_generation_1();
	pwb_nss_rewind(&cur);
	ck_assert_int_eq(pwb_nss_next(PWB_SNAPSHOT_PUBLIC, "p.", &cur, buf, 8, &n), -ERANGE);
	while ((r = pwb_nss_next(PWB_SNAPSHOT_PUBLIC, "p.", &cur, buf, sizeof(buf), &n)) == 0) {
		/* a short buffer in between returns the same entry again */
		char again[256];

		ck_assert_int_eq(pwb_nss_next(PWB_SNAPSHOT_PUBLIC, "p.", &cur, again, 4, &n),
				 -ERANGE);
		ck_assert_int_eq(
		    pwb_nss_next(PWB_SNAPSHOT_PUBLIC, "p.", &cur, again, sizeof(again), &n), 0);
		ck_assert_str_eq(again, buf);
		pwb_nss_advance(&cur);
		strncat(seen, buf, strcspn(buf, ":"));
		strcat(seen, " ");
		count++;
	}
	ck_assert_int_eq(r, PWB_ENOTFOUND);
	ck_assert_int_eq(count, 4);
	/* delta first, then mid, then base; shadowed and deleted keys skipped */
	ck_assert_str_eq(seen, "erin carol dave alice ");
}
END_TEST

START_TEST(new_generation_is_seen_at_once)
{
	char buf[256];

	publish_generation_1();
	ck_assert_int_eq(get("p.frank", buf, sizeof(buf)), PWB_ENOTFOUND);
	put_file("delta.db", "@mid\t1\n@base\t1\n@seq\t4\n"
			     "p.frank\tfrank:x:2005:2005::/h/frank:/bin/sh\n");
	ck_assert_int_eq(get("p.frank", buf, sizeof(buf)), 0);
	ck_assert_int_eq(get("p.bob", buf, sizeof(buf)), 0); /* tombstone gone */
	/* compaction: new base, old files removed */
	put_file("base-2.db", "p.gina\tgina:x:2006:2006::/h/gina:/bin/sh\n");
	put_file("mid-2.db", "");
	put_file("delta.db", "@mid\t2\n@base\t2\n@seq\t5\n");
	ck_assert_int_eq(get("p.gina", buf, sizeof(buf)), 0);
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), PWB_ENOTFOUND);
}
END_TEST

/* The binding keys (b.NAME) sit in the shadow set for PAM; nss_pwb serves
 * none of them, by key or by enumeration. (Their value is ISSUER "\n"
 * SUBJECT; put_file splits at newlines, so a space stands in here.) */
START_TEST(binding_keys_are_never_served)
{
	struct pwb_snapshot_cursor cur;
	char buf[256], seen[256] = "";
	size_t n;
	int r;

	put_file("shadow-base-1.db", "s.alice\talice:*:19000:0:99999:7:::\n"
				     "b.alice\thttps://idp.example sub-1\n"
				     "b.zed\thttps://idp.example sub-z\n");
	put_file("shadow-mid-1.db", "");
	put_file("shadow-delta.db", "@mid\t1\n@base\t1\n@seq\t1\n"
				    "b.bob\thttps://idp.example sub-2\n"
				    "s.bob\tbob:*:19000:0:99999:7:::\n");
	ck_assert_int_eq(pwb_nss_get(PWB_SNAPSHOT_SHADOW, "s.bob", buf, sizeof(buf), &n), 0);
	ck_assert_int_eq(pwb_nss_get(PWB_SNAPSHOT_SHADOW, "b.alice", buf, sizeof(buf), &n),
			 PWB_ENOTFOUND);
	ck_assert_int_eq(pwb_nss_get(PWB_SNAPSHOT_SHADOW, "b.bob", buf, sizeof(buf), &n),
			 PWB_ENOTFOUND);
	/* getspent's enumeration: the users, once each, no binding */
	pwb_nss_rewind(&cur);
	while ((r = pwb_nss_next(PWB_SNAPSHOT_SHADOW, PWB_SNAP_KEY_SHADOW_NAME, &cur, buf,
				 sizeof(buf), &n)) == 0) {
		strncat(seen, buf, strcspn(buf, ":"));
		strcat(seen, " ");
		pwb_nss_advance(&cur);
	}
	ck_assert_int_eq(r, PWB_ENOTFOUND);
	ck_assert_str_eq(seen, "bob alice ");
	/* even asked for by prefix, every binding is dropped */
	pwb_nss_rewind(&cur);
	ck_assert_int_eq(
	    pwb_nss_next(PWB_SNAPSHOT_SHADOW, PWB_SNAP_KEY_BINDING, &cur, buf, sizeof(buf), &n),
	    PWB_ENOTFOUND);
}
END_TEST

START_TEST(missing_or_broken_files_are_unavailable)
{
	char buf[256];

	publish_generation_1();
	put_file("delta.db", "@mid\t1\n@base\t7\n@seq\t4\n");
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), PWB_EUNAVAIL);
	put_file("delta.db", "@mid\t1\n@seq\t4\n"); /* no base named */
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), PWB_EUNAVAIL);
	put_file("delta.db", "@mid\t1\n@base\tx1\n@seq\t4\n");
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), PWB_EUNAVAIL);
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
	char key[PWB_SNAPSHOT_KEY_MAX];

	pwb_nss_key_id(key, "p=", 0);
	ck_assert_str_eq(key, "p=0");
	pwb_nss_key_id(key, "g=", 4294967295u);
	ck_assert_str_eq(key, "g=4294967295");
	pwb_nss_key_name(key, "i.", "alice");
	ck_assert_str_eq(key, "i.alice");
}
END_TEST

/* ---- what the reader trusts (trust.h) */

START_TEST(config_for_nss)
{
	struct pwb_nss_config cfg;
	char *path;

	ck_assert_int_eq(pwb_config_read_nss("/nonexistent/pwb.conf", &cfg), -ENOENT);
	ck_assert_str_eq(cfg.db_dir, PWB_DB_DIR_DEFAULT);
	ck_assert_uint_eq(cfg.start_uid, 1000);
	ck_assert_uint_eq(cfg.end_uid, 60000);
	ck_assert_uint_eq(cfg.start_gid, 1000);
	ck_assert_uint_eq(cfg.end_gid, 60000);

	/* other components' keys and unknown ones are not this reader's business */
	path =
	    test_write_file(dir, "a.conf",
			    "# comment\n  db-dir = /srv/pwb \nauth-openid-issuer=https://x\n"
			    "user-provisioning-start-uid=20000\nuser-provisioning-end-uid=29999\n"
			    "group-provisioning-start-gid=30000\ngroup-provisioning-end-gid=39999\n"
			    "no-such-key=1\n");
	ck_assert_int_eq(pwb_config_read_nss(path, &cfg), 0);
	ck_assert_str_eq(cfg.db_dir, "/srv/pwb");
	ck_assert_uint_eq(cfg.start_uid, 20000);
	ck_assert_uint_eq(cfg.end_uid, 29999);
	ck_assert_uint_eq(cfg.start_gid, 30000);
	ck_assert_uint_eq(cfg.end_gid, 39999);
	free(path);

	static const struct {
		const char *text, *bad;
	} bad[] = {
	    {"user-provisioning-start-uid=abc\n", "user-provisioning-start-uid"},
	    {"user-provisioning-end-uid=-5\n", "user-provisioning-end-uid"},
	    {"group-provisioning-start-gid=0\n", "group-provisioning-start-gid"},
	    {"group-provisioning-end-gid=4294967295\n", "group-provisioning-end-gid"},
	    {"user-provisioning-end-uid=99999999999\n", "user-provisioning-end-uid"},
	    {"user-provisioning-end-uid=\n", "user-provisioning-end-uid"},
	    {"user-provisioning-start-uid=5000\nuser-provisioning-end-uid=4000\n",
	     "user-provisioning-start-uid"},
	    {"group-provisioning-start-gid=70000\n", "group-provisioning-start-gid"},
	    {"user-provisioning-end-uid=30000\nuser-provisioning-end-uid=40000\n",
	     "user-provisioning-end-uid"},
	    {"db-dir=relative\n", "db-dir"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		path = test_write_file(dir, "b.conf", bad[i].text);
		ck_assert_int_eq(pwb_config_read_nss(path, &cfg), -EINVAL);
		ck_assert_str_eq(cfg.bad, bad[i].bad);
		free(path);
	}
}
END_TEST

static void load_trust(struct pwb_nss_trust *t, uint32_t su, uint32_t eu, uint32_t sg, uint32_t eg)
{
	struct pwb_nss_config cfg = {
	    .start_uid = su, .end_uid = eu, .start_gid = sg, .end_gid = eg};
	char passwd[512], group[512];

	snprintf(passwd, sizeof(passwd), "%s/passwd", dir);
	snprintf(group, sizeof(group), "%s/group", dir);
	ck_assert_int_eq(pwb_nss_trust_load(t, &cfg, passwd, group), 0);
}

START_TEST(ids_checked_against_ranges_and_local_files)
{
	struct pwb_nss_trust t;
	struct pwb_nss_config cfg = {.start_uid = 1, .end_uid = 2, .start_gid = 1, .end_gid = 2};

	load_trust(&t, 2000, 2999, 5000, 5999);
	/* only local ids inside the ranges need a lookup: lena (2500), staff (2600) */
	ck_assert_uint_eq(t.local_uids.n, 1);
	ck_assert_uint_eq(t.local_gids.n, 2);
	ck_assert_ptr_null(pwb_nss_trust_uid_problem(&t, 2000));
	ck_assert_ptr_null(pwb_nss_trust_uid_problem(&t, 2999));
	ck_assert_str_eq(pwb_nss_trust_uid_problem(&t, 1999), "outside the configured uid range");
	ck_assert_str_eq(pwb_nss_trust_uid_problem(&t, 3000), "outside the configured uid range");
	ck_assert_str_eq(pwb_nss_trust_uid_problem(&t, 0), "outside the configured uid range");
	ck_assert_str_eq(pwb_nss_trust_uid_problem(&t, 5000), "outside the configured uid range");
	ck_assert_str_eq(pwb_nss_trust_uid_problem(&t, 2500), "owned by a local account");
	/* a gid: a private group (uid range) or a pwb group (gid range) */
	ck_assert_ptr_null(pwb_nss_trust_gid_problem(&t, 2001));
	ck_assert_ptr_null(pwb_nss_trust_gid_problem(&t, 5500));
	ck_assert_str_eq(pwb_nss_trust_gid_problem(&t, 27),
			 "outside the configured gid and uid ranges");
	ck_assert_str_eq(pwb_nss_trust_gid_problem(&t, 4000),
			 "outside the configured gid and uid ranges");
	ck_assert_str_eq(pwb_nss_trust_gid_problem(&t, 2600), "owned by a local group");
	pwb_nss_trust_free(&t);

	/* ranges that take in everything still exclude root, nobody, systemd's
	 * dynamic users and every local id */
	load_trust(&t, 1, 4294967294u, 1, 4294967294u);
	ck_assert_uint_eq(t.local_uids.n, 2); /* all but root's 0 */
	ck_assert_uint_eq(t.local_gids.n, 3);
	ck_assert_str_eq(pwb_nss_trust_uid_problem(&t, 1), "owned by a local account");
	ck_assert_str_eq(pwb_nss_trust_gid_problem(&t, 27), "owned by a local group");
	ck_assert_str_eq(pwb_nss_trust_uid_problem(&t, 65534), "reserved");
	ck_assert_str_eq(pwb_nss_trust_gid_problem(&t, 61184), "reserved");
	ck_assert_str_eq(pwb_nss_trust_gid_problem(&t, 65519), "reserved");
	ck_assert_ptr_null(pwb_nss_trust_uid_problem(&t, 65536));
	pwb_nss_trust_free(&t);

	/* local files that cannot be read: no trust at all */
	ck_assert_int_eq(pwb_nss_trust_load(&t, &cfg, "/nonexistent/passwd", "/etc/group"),
			 -ENOENT);
	ck_assert_ptr_null(t.local_uids.ids);
}
END_TEST

/* Runs the filter on a copy of line in out (256 bytes), telling it there
 * are buflen; the result, or "" when dropped, in out. */
static int filter(struct pwb_nss_trust *t, const char *key, const char *line, size_t buflen,
		  char out[256])
{
	size_t len = strlen(line);
	int r;

	ck_assert_uint_lt(len, 256);
	strcpy(out, line);
	r = pwb_nss_trust_filter(t, key, strlen(key), out, &len, buflen);
	if (r == 0)
		ck_assert_uint_eq(len, strlen(out));
	else if (r == PWB_ENOTFOUND)
		out[0] = '\0';
	return r;
}

START_TEST(filter_drops_and_neutralises)
{
	struct pwb_nss_trust t;
	char out[256];

	load_trust(&t, 2000, 2999, 5000, 5999);
	/* passwd: uid and primary gid */
	ck_assert_int_eq(filter(&t, "p.alice", "alice:x:2000:2000:A:/h/alice:/bin/sh", 256, out),
			 0);
	ck_assert_str_eq(out, "alice:x:2000:2000:A:/h/alice:/bin/sh");
	ck_assert_int_eq(filter(&t, "p.bob", "bob:x:2001:5001::/h/bob:/bin/sh", 256, out), 0);
	ck_assert_int_eq(filter(&t, "p.toor", "toor:x:0:0::/root:/bin/sh", 256, out),
			 PWB_ENOTFOUND);
	ck_assert_int_eq(filter(&t, "p=2500", "lena2:x:2500:2001::/h:/bin/sh", 256, out),
			 PWB_ENOTFOUND);
	ck_assert_int_eq(filter(&t, "p.far", "far:x:3000:3000::/h:/bin/sh", 256, out),
			 PWB_ENOTFOUND);
	ck_assert_int_eq(filter(&t, "p.sudo", "sudo:x:2001:27::/h:/bin/sh", 256, out),
			 PWB_ENOTFOUND);
	ck_assert_int_eq(filter(&t, "p.staff", "staff:x:2001:2600::/h:/bin/sh", 256, out),
			 PWB_ENOTFOUND);
	ck_assert_int_eq(filter(&t, "p.bad", "bad:x:20x1:2001::/h:/bin/sh", 256, out),
			 PWB_ENOTFOUND);
	ck_assert_int_eq(filter(&t, "p.bad", "bad:x", 256, out), PWB_ENOTFOUND);
	/* passwd: only "x" as the password field */
	ck_assert_int_eq(filter(&t, "p.eve", "eve:$6$s$hash:2002:2002::/h:/bin/sh", 256, out), 0);
	ck_assert_str_eq(out, "eve:x:2002:2002::/h:/bin/sh");
	ck_assert_int_eq(filter(&t, "p.eve", "eve::2002:2002::/h:/bin/sh", 27, out), -ERANGE);
	ck_assert_int_eq(filter(&t, "p.eve", "eve::2002:2002::/h:/bin/sh", 28, out), 0);
	ck_assert_str_eq(out, "eve:x:2002:2002::/h:/bin/sh");

	/* group */
	ck_assert_int_eq(filter(&t, "g.data", "data:x:5100:alice,bob", 256, out), 0);
	ck_assert_str_eq(out, "data:x:5100:alice,bob");
	ck_assert_int_eq(filter(&t, "g=2000", "alice:x:2000:", 256, out), 0);
	ck_assert_int_eq(filter(&t, "g.wheel2", "wheel2:x:0:alice", 256, out), PWB_ENOTFOUND);
	ck_assert_int_eq(filter(&t, "g=2600", "staff2:x:2600:alice", 256, out), PWB_ENOTFOUND);
	ck_assert_int_eq(filter(&t, "g.grp", "grp:secret:5101:", 256, out), 0);
	ck_assert_str_eq(out, "grp:x:5101:");

	/* initgroups: only the offending gids go */
	ck_assert_int_eq(filter(&t, "i.lena", "0,5100,27,2600,3000,5101,x,", 256, out), 0);
	ck_assert_str_eq(out, "5100,5101");
	ck_assert_int_eq(filter(&t, "i.alice", "5100,2001", 256, out), 0);
	ck_assert_str_eq(out, "5100,2001");
	ck_assert_int_eq(filter(&t, "i.mallory", "0,27", 256, out), PWB_ENOTFOUND);
	ck_assert_int_eq(filter(&t, "i.m2", "27,5100", 256, out), 0);
	ck_assert_str_eq(out, "5100");

	/* shadow: "*" and "!*" only; the expiry that locks a user stays */
	ck_assert_int_eq(filter(&t, "s.alice", "alice:*:20000:0:99999:7:::", 256, out), 0);
	ck_assert_str_eq(out, "alice:*:20000:0:99999:7:::");
	ck_assert_int_eq(filter(&t, "s.erin", "erin:!*:20000:0:99999:7::1:", 256, out), 0);
	ck_assert_str_eq(out, "erin:!*:20000:0:99999:7::1:");
	ck_assert_int_eq(
	    filter(&t, "s.eve", "eve:$6$saltsalt$0123456789abcdef:20000:0:99999:7::1:", 256, out),
	    0);
	ck_assert_str_eq(out, "eve:!*:20000:0:99999:7::1:");
	ck_assert_int_eq(filter(&t, "s.eve", "eve::20000:0:99999:7:::", 25, out), -ERANGE);
	ck_assert_int_eq(filter(&t, "s.eve", "eve::20000:0:99999:7:::", 64, out), 0);
	ck_assert_str_eq(out, "eve:!*:20000:0:99999:7:::");
	ck_assert_int_eq(filter(&t, "s.eve", "eve:!:20000:0:99999:7:::", 64, out), 0);
	ck_assert_str_eq(out, "eve:!*:20000:0:99999:7:::");
	ck_assert_int_eq(filter(&t, "s.eve", "eve", 64, out), PWB_ENOTFOUND);

	/* keys no map reads */
	ck_assert_int_eq(filter(&t, "@seq", "7", 256, out), PWB_ENOTFOUND);
	pwb_nss_trust_free(&t);
}
END_TEST

static char log_text[8192];
static int log_lines;

static void capture_log(const char *line)
{
	log_lines++;
	strncat(log_text, line, sizeof(log_text) - strlen(log_text) - 2);
	strcat(log_text, "\n");
}

static void capture_logs(void)
{
	log_text[0] = '\0';
	log_lines = 0;
	pwb_nss_trust_set_log_sink(capture_log);
}

START_TEST(logged_once_per_entry_and_generation)
{
	struct pwb_nss_trust t;
	char out[256], key[32];

	capture_logs();
	load_trust(&t, 2000, 2999, 5000, 5999);
	for (int i = 0; i < 3; i++)
		filter(&t, "p.toor", "toor:x:0:0::/root:/bin/sh", 256, out);
	filter(&t, "s.eve", "eve:$6$x$y:1:::::::", 256, out);
	filter(&t, "s.eve", "eve:$6$x$y:1:::::::", 256, out);
	filter(&t, "i.lena", "5100,27,0", 256, out);
	filter(&t, "p.alice", "alice:x:2000:2000::/h:/bin/sh", 256, out); /* fine: no line */
	ck_assert_int_eq(log_lines, 3);
	ck_assert_pstr_eq(strstr(log_text,
				 "nss_pwb: untrusted snapshot entry p.toor: dropped: uid 0 "
				 "is outside the configured uid range\n"),
			  log_text);
	ck_assert_ptr_nonnull(
	    strstr(log_text, "entry s.eve: password served as \"!*\" (locked)\n"));
	ck_assert_ptr_nonnull(strstr(log_text,
				     "entry i.lena: 2 of its gids removed, the first: "
				     "gid 27 is outside the configured gid and uid ranges"));
	/* hostile bytes in a key are escaped */
	filter(&t, "p.\x1b[2Jx", "x:x:0:0::/:/bin/sh", 256, out);
	ck_assert_ptr_nonnull(strstr(log_text, "entry p.\\x1b[2Jx: dropped"));
	/* past the limit, one line says so and the rest stay quiet */
	for (int i = 0; i < PWB_NSS_TRUST_LOG_MAX + 10; i++) {
		snprintf(key, sizeof(key), "g.g%d", i);
		filter(&t, key, "g:x:0:", 256, out);
	}
	ck_assert_int_eq(log_lines, PWB_NSS_TRUST_LOG_MAX + 1);
	ck_assert_ptr_nonnull(strstr(log_text, "more untrusted snapshot entries"));
	pwb_nss_trust_free(&t);
	/* a new generation (a new trust) logs again */
	load_trust(&t, 2000, 2999, 5000, 5999);
	filter(&t, "p.toor", "toor:x:0:0::/root:/bin/sh", 256, out);
	ck_assert_int_eq(log_lines, PWB_NSS_TRUST_LOG_MAX + 2);
	pwb_nss_trust_free(&t);
}
END_TEST

static void publish_untrusted(void)
{
	put_file("base-1.db", "p.alice\talice:x:2000:2000::/h/alice:/bin/sh\n"
			      "p=2000\talice:x:2000:2000::/h/alice:/bin/sh\n"
			      "p.toor\ttoor:x:0:2000::/root:/bin/sh\n"
			      "p.lena2\tlena2:x:2500:2001::/h:/bin/sh\n"
			      "p=2500\tlena2:x:2500:2001::/h:/bin/sh\n"
			      "p.bob\tbob:x:2001:2001::/h/bob:/bin/sh\n"
			      "p.far\tfar:x:70000:70000::/h:/bin/sh\n"
			      "g.data\tdata:x:3000:alice\n"
			      "g.sudo2\tsudo2:x:27:alice\n"
			      "i.alice\t27,0,3000\n"
			      "i.lena\t0,27\n");
	put_file("mid-1.db", "");
	put_file("delta.db", "@mid\t1\n@base\t1\n@seq\t1\n");
}

START_TEST(reader_serves_only_trusted_entries)
{
	struct pwb_snapshot_cursor cur;
	char buf[256], seen[256] = "";
	size_t n;
	int r;

	publish_untrusted();
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), 0);
	ck_assert_int_eq(get("p=2000", buf, sizeof(buf)), 0);
	ck_assert_int_eq(get("p.toor", buf, sizeof(buf)), PWB_ENOTFOUND);
	ck_assert_int_eq(get("p.lena2", buf, sizeof(buf)), PWB_ENOTFOUND);
	ck_assert_int_eq(get("p=2500", buf, sizeof(buf)), PWB_ENOTFOUND);
	ck_assert_int_eq(get("p.far", buf, sizeof(buf)), PWB_ENOTFOUND);
	ck_assert_int_eq(get("g.sudo2", buf, sizeof(buf)), PWB_ENOTFOUND);
	ck_assert_int_eq(get("g.data", buf, sizeof(buf)), 0);
	ck_assert_int_eq(get("i.alice", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "3000");
	ck_assert_int_eq(get("i.lena", buf, sizeof(buf)), PWB_ENOTFOUND);

	/* enumeration skips what lookups drop */
	pwb_nss_rewind(&cur);
	while ((r = pwb_nss_next(PWB_SNAPSHOT_PUBLIC, "p.", &cur, buf, sizeof(buf), &n)) == 0) {
		pwb_nss_advance(&cur);
		strncat(seen, buf, strcspn(buf, ":"));
		strcat(seen, " ");
	}
	ck_assert_int_eq(r, PWB_ENOTFOUND);
	ck_assert_str_eq(seen, "alice bob ");

	/* narrower ranges take effect with the next generation */
	write_config("user-provisioning-start-uid=2001\n");
	put_file("delta.db", "@mid\t1\n@base\t1\n@seq\t2\n");
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), PWB_ENOTFOUND);
	ck_assert_int_eq(get("p.bob", buf, sizeof(buf)), 0);
}
END_TEST

START_TEST(local_accounts_added_later_are_seen_within_a_second)
{
	char buf[256], *path;

	publish_untrusted();
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), 0);
	path = test_write_file(dir, "passwd", LOCAL_PASSWD "alice2:x:2000:2000::/:/bin/sh\n");
	free(path);
	sleep(2); /* the once-a-second check, without a new generation */
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), PWB_ENOTFOUND);
}
END_TEST

START_TEST(fail_closed_on_bad_config_or_local_files)
{
	char buf[256], *path;

	publish_untrusted();
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), 0);
	/* a malformed range: nothing at the next generation */
	write_config("user-provisioning-end-uid=lots\n");
	put_file("delta.db", "@mid\t1\n@base\t1\n@seq\t2\n");
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), PWB_EUNAVAIL);
	ck_assert_int_eq(get("p.bob", buf, sizeof(buf)), PWB_EUNAVAIL);
	write_config(NULL);
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), 0);

	/* local files that cannot be read: what was read before stands (a
	 * process that chrooted or dropped privileges) ... */
	path = malloc(strlen(dir) + 16);
	sprintf(path, "%s/passwd", dir);
	pwb_nss_set_local_files("/nonexistent/passwd", path);
	put_file("delta.db", "@mid\t1\n@base\t1\n@seq\t3\n");
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), 0);
	ck_assert_int_eq(get("p.lena2", buf, sizeof(buf)), PWB_ENOTFOUND);
	/* ... and with nothing read before, nothing is served */
	pwb_nss_close_all();
	ck_assert_int_eq(get("p.alice", buf, sizeof(buf)), PWB_EUNAVAIL);
	free(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nss_snapshot");
	TCase *tc = tcase_create("reader");
	TCase *tp = tcase_create("parsers");
	TCase *tt = tcase_create("trust");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unavailable_without_snapshot);
	tcase_add_test(tc, first_level_holding_the_key_decides);
	tcase_add_test(tc, enumeration_once_each_and_stays_on_erange);
	tcase_add_test(tc, new_generation_is_seen_at_once);
	tcase_add_test(tc, missing_or_broken_files_are_unavailable);
	tcase_add_test(tc, binding_keys_are_never_served);
	tcase_add_test(tp, parsers);
	tcase_add_test(tp, keys_without_printf);
	tcase_add_checked_fixture(tt, setup, teardown);
	tcase_set_timeout(tt, 20);
	tcase_add_test(tt, config_for_nss);
	tcase_add_test(tt, ids_checked_against_ranges_and_local_files);
	tcase_add_test(tt, filter_drops_and_neutralises);
	tcase_add_test(tt, logged_once_per_entry_and_generation);
	tcase_add_test(tt, reader_serves_only_trusted_entries);
	tcase_add_test(tt, local_accounts_added_later_are_seen_within_a_second);
	tcase_add_test(tt, fail_closed_on_bad_config_or_local_files);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tp);
	suite_add_tcase(s, tt);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
