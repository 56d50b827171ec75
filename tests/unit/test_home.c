/* Unit tests for pam_pwb_mkhome/home.c: ownership and modes of a new home
 * and its skel copy, that symlinks planted in the path or in skel never
 * make it write or chown outside the new home, and that an existing home
 * is used only if the user owns it. Runs as root in a temp dir, in a mount
 * namespace of its own whose /tmp is root's alone (home.c refuses parents
 * that others may write to, sticky /tmp included). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "home.h"
#include "testutil.h"

#define UID 12345
#define GID 12346

static char *root;

static void setup(void)
{
	root = test_mkdtemp();
}

static void teardown(void)
{
	test_rmtree(root);
	free(root);
}

static char *path(const char *rel)
{
	char *p = NULL;

	ck_assert_int_ge(asprintf(&p, "%s/%s", root, rel), 0);
	return p;
}

static void mkdir_p(const char *rel, mode_t mode)
{
	char *p = path(rel);

	ck_assert_msg(mkdir(p, mode) == 0, "mkdir %s: %s", p, strerror(errno));
	ck_assert_int_eq(chmod(p, mode), 0);
	free(p);
}

static void write_rel(const char *rel, const char *text, mode_t mode)
{
	char *p = test_write_file(root, rel, text);

	ck_assert_int_eq(chmod(p, mode), 0);
	free(p);
}

static void symlink_rel(const char *target, const char *rel)
{
	char *p = path(rel);

	ck_assert_msg(symlink(target, p) == 0, "symlink %s: %s", p, strerror(errno));
	free(p);
}

static void expect_stat(const char *rel, mode_t type, mode_t mode, uid_t uid, gid_t gid)
{
	char *p = path(rel);
	struct stat st;

	ck_assert_msg(lstat(p, &st) == 0, "lstat %s: %s", p, strerror(errno));
	ck_assert_msg((st.st_mode & S_IFMT) == type, "%s: wrong type %o", p, st.st_mode);
	if (type != S_IFLNK)
		ck_assert_msg((st.st_mode & 07777) == mode, "%s: mode %o, want %o", p,
			      st.st_mode & 07777, mode);
	ck_assert_msg(st.st_uid == uid && st.st_gid == gid, "%s: owner %u:%u, want %u:%u", p,
		      st.st_uid, st.st_gid, uid, gid);
	free(p);
}

static bool exists_rel(const char *rel)
{
	char *p = path(rel);
	struct stat st;
	bool r = lstat(p, &st) == 0;

	free(p);
	return r;
}

static char *read_rel(const char *rel)
{
	char *p = path(rel), *buf = calloc(1, 4096);
	FILE *f = fopen(p, "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fread(buf, 1, 4095, f), 0);
	fclose(f);
	free(p);
	return buf;
}

/* Entries of dir other than . and .., as a sorted-independent count. */
static int count_entries(const char *rel)
{
	char *p = path(rel);
	DIR *d = opendir(p);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	free(p);
	return n;
}

static void make_skel(void)
{
	mkdir_p("skel", 0755);
	write_rel("skel/.profile", "echo hi\n", 0644);
	write_rel("skel/run.sh", "#!/bin/sh\n", 04755);
	mkdir_p("skel/sub", 0755);
	write_rel("skel/sub/notes.txt", "notes\n", 0640);
	symlink_rel("sub/notes.txt", "skel/link");
}

static int create(const char *rel_home, const char *rel_skel, mode_t umask, struct pwb_error *err)
{
	char *home = path(rel_home), *skel = rel_skel ? path(rel_skel) : NULL;
	int r;

	memset(err, 0, sizeof(*err));
	r = pwb_home_create(home, UID, GID, skel, umask, err);
	free(home);
	free(skel);
	return r;
}

START_TEST(creates_home_parents_and_skel_copy)
{
	struct pwb_error err;
	char *text, target[64];
	char *p;
	ssize_t n;

	make_skel();
	ck_assert_msg(create("homes/a/alice", "skel", 0077, &err) == PWB_HOME_CREATED, "%s",
		      err.msg);
	expect_stat("homes", S_IFDIR, 0755, 0, 0);
	expect_stat("homes/a", S_IFDIR, 0755, 0, 0);
	expect_stat("homes/a/alice", S_IFDIR, 0700, UID, GID);
	expect_stat("homes/a/alice/.profile", S_IFREG, 0600, UID, GID);
	expect_stat("homes/a/alice/run.sh", S_IFREG, 0700, UID, GID); /* setuid bit dropped */
	expect_stat("homes/a/alice/sub", S_IFDIR, 0700, UID, GID);
	expect_stat("homes/a/alice/sub/notes.txt", S_IFREG, 0600, UID, GID);
	expect_stat("homes/a/alice/link", S_IFLNK, 0, UID, GID);
	p = path("homes/a/alice/link");
	n = readlink(p, target, sizeof(target) - 1);
	ck_assert_int_gt(n, 0);
	target[n] = '\0';
	ck_assert_str_eq(target, "sub/notes.txt");
	free(p);
	text = read_rel("homes/a/alice/.profile");
	ck_assert_str_eq(text, "echo hi\n");
	free(text);
	text = read_rel("homes/a/alice/sub/notes.txt");
	ck_assert_str_eq(text, "notes\n");
	free(text);
	ck_assert_int_eq(count_entries("homes/a/alice"), 4);
	/* no temporary left behind */
	ck_assert_int_eq(count_entries("homes/a"), 1);
}
END_TEST

START_TEST(umask_022_gives_readable_home)
{
	struct pwb_error err;

	make_skel();
	mkdir_p("homes", 0755);
	ck_assert_msg(create("homes/bob", "skel", 0022, &err) == PWB_HOME_CREATED, "%s", err.msg);
	expect_stat("homes/bob", S_IFDIR, 0755, UID, GID);
	expect_stat("homes/bob/.profile", S_IFREG, 0644, UID, GID);
	expect_stat("homes/bob/sub/notes.txt", S_IFREG, 0640, UID, GID);
}
END_TEST

static void chown_rel(const char *rel, uid_t uid, gid_t gid)
{
	char *p = path(rel);

	ck_assert_int_eq(lchown(p, uid, gid), 0);
	free(p);
}

START_TEST(existing_home_is_left_alone)
{
	struct pwb_error err;

	make_skel();
	mkdir_p("homes", 0755);
	mkdir_p("homes/carol", 0751);
	chown_rel("homes/carol", UID, GID);
	ck_assert_int_eq(create("homes/carol", "skel", 0077, &err), PWB_HOME_EXISTED);
	expect_stat("homes/carol", S_IFDIR, 0751, UID, GID);
	ck_assert_int_eq(count_entries("homes/carol"), 0);
}
END_TEST

/* The home of a user renamed away (alice -> alicia) is not handed to the
 * next holder of the name: another uid's directory is refused, untouched. */
START_TEST(home_of_another_uid_is_refused)
{
	struct pwb_error err;

	make_skel();
	mkdir_p("homes", 0755);
	mkdir_p("homes/alice", 0700);
	chown_rel("homes/alice", UID + 1, GID + 1);
	write_rel("homes/alice/.profile", "planted\n", 0644);
	ck_assert_int_eq(create("homes/alice", "skel", 0077, &err), -EPERM);
	ck_assert_msg(strstr(err.msg, "/homes/alice: it is owned by uid 12346, not by the user's "
				      "uid 12345"),
		      "%s", err.msg);
	expect_stat("homes/alice", S_IFDIR, 0700, UID + 1, GID + 1);
	expect_stat("homes/alice/.profile", S_IFREG, 0644, 0, 0);
	ck_assert_int_eq(count_entries("homes/alice"), 1);
	/* a root-owned system directory (a home of /etc, /root) likewise */
	mkdir_p("homes/sys", 0755);
	ck_assert_int_eq(create("homes/sys", "skel", 0077, &err), -EPERM);
	expect_stat("homes/sys", S_IFDIR, 0755, 0, 0);
	ck_assert_int_eq(count_entries("homes/sys"), 0);
	/* and a file is not a home */
	write_rel("homes/file", "x\n", 0644);
	ck_assert_int_eq(create("homes/file", "skel", 0077, &err), -ENOTDIR);
	expect_stat("homes/file", S_IFREG, 0644, 0, 0);
}
END_TEST

/* A sticky, world-writable parent (like /tmp): anyone could plant the name
 * first, so it is refused whatever is there, and nothing is followed. */
START_TEST(sticky_world_writable_parent_is_refused)
{
	struct pwb_error err;
	char *outside;

	make_skel();
	mkdir_p("outside", 0755);
	mkdir_p("sticky", 01777);
	outside = path("outside");
	symlink_rel(outside, "sticky/alice");
	ck_assert_int_eq(create("sticky/alice", "skel", 0077, &err), -EPERM);
	ck_assert_msg(strstr(err.msg, "sticky is writable by group or others (a sticky bit does "
				      "not make it safe)"),
		      "%s", err.msg);
	expect_stat("outside", S_IFDIR, 0755, 0, 0);
	ck_assert_int_eq(count_entries("outside"), 0);
	ck_assert_int_eq(create("sticky/bob", "skel", 0077, &err), -EPERM);
	ck_assert(!exists_rel("sticky/bob"));
	mkdir_p("groupw", 0775);
	ck_assert_int_eq(create("groupw/bob", "skel", 0077, &err), -EPERM);
	ck_assert(!exists_rel("groupw/bob"));
	free(outside);
}
END_TEST

/* pwb_home_use_existing: the checks, and nothing is ever created. */
START_TEST(use_existing_creates_nothing)
{
	struct pwb_error err = {0};
	char *p;

	p = path("none/alice");
	ck_assert_int_eq(pwb_home_use_existing(p, UID, &err), -ENOENT);
	free(p);
	ck_assert(!exists_rel("none"));
	mkdir_p("homes", 0755);
	p = path("homes/alice");
	ck_assert_int_eq(pwb_home_use_existing(p, UID, &err), -ENOENT);
	ck_assert(!exists_rel("homes/alice"));
	mkdir_p("homes/alice", 0700);
	ck_assert_int_eq(pwb_home_use_existing(p, UID, &err), -EPERM);
	chown_rel("homes/alice", UID, GID);
	ck_assert_int_eq(pwb_home_use_existing(p, UID, &err), PWB_HOME_EXISTED);
	free(p);
	ck_assert_int_eq(pwb_home_use_existing("/", 0, &err), PWB_HOME_EXISTED);
	ck_assert_int_eq(pwb_home_use_existing("/", UID, &err), -EPERM);
}
END_TEST

START_TEST(missing_skel_gives_empty_home)
{
	struct pwb_error err;

	ck_assert_msg(create("homes/dan", "no-such-skel", 0077, &err) == PWB_HOME_CREATED, "%s",
		      err.msg);
	expect_stat("homes/dan", S_IFDIR, 0700, UID, GID);
	ck_assert_int_eq(count_entries("homes/dan"), 0);
	ck_assert_msg(create("homes/erin", NULL, 0077, &err) == PWB_HOME_CREATED, "%s", err.msg);
	ck_assert_int_eq(count_entries("homes/erin"), 0);
}
END_TEST

/* homes -> outside: the home must not appear in outside. */
START_TEST(symlinked_parent_is_refused)
{
	struct pwb_error err;
	char *outside;
	int r;

	make_skel();
	mkdir_p("outside", 0755);
	outside = path("outside");
	symlink_rel(outside, "homes");
	r = create("homes/alice", "skel", 0077, &err);
	ck_assert_int_eq(r, -ELOOP);
	ck_assert_msg(strstr(err.msg, "homes is a symlink"), "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "/homes/alice"), "message names the home: %s", err.msg);
	ck_assert_int_eq(count_entries("outside"), 0);
	expect_stat("outside", S_IFDIR, 0755, 0, 0);
	free(outside);
}
END_TEST

/* A symlink higher up (grandparent) is refused just the same. */
START_TEST(symlinked_grandparent_is_refused)
{
	struct pwb_error err;
	char *outside;

	mkdir_p("outside", 0755);
	mkdir_p("outside/x", 0755);
	outside = path("outside");
	symlink_rel(outside, "top");
	ck_assert_int_lt(create("top/x/alice", NULL, 0077, &err), 0);
	ck_assert_int_eq(count_entries("outside/x"), 0);
	free(outside);
}
END_TEST

/* A symlink at the home path itself is refused: never followed. */
START_TEST(symlink_at_home_is_not_followed)
{
	struct pwb_error err;
	char *outside;

	make_skel();
	mkdir_p("outside", 0755);
	mkdir_p("homes", 0755);
	outside = path("outside");
	symlink_rel(outside, "homes/alice");
	ck_assert_int_eq(create("homes/alice", "skel", 0077, &err), -ELOOP);
	ck_assert_msg(strstr(err.msg, "/homes/alice: it is a symlink"), "%s", err.msg);
	expect_stat("outside", S_IFDIR, 0755, 0, 0);
	ck_assert_int_eq(count_entries("outside"), 0);
	free(outside);
}
END_TEST

/* Symlinks in skel pointing outside are copied as symlinks: the targets
 * keep their owner and nothing is written into them. */
START_TEST(symlinks_in_skel_do_not_escape)
{
	struct pwb_error err;
	char *outside, *secret;

	mkdir_p("outside", 0755);
	write_rel("outside/secret", "root only\n", 0600);
	mkdir_p("skel", 0755);
	outside = path("outside");
	secret = path("outside/secret");
	symlink_rel(outside, "skel/dirlink");
	symlink_rel(secret, "skel/filelink");
	ck_assert_msg(create("homes/alice", "skel", 0077, &err) == PWB_HOME_CREATED, "%s", err.msg);
	expect_stat("homes/alice/dirlink", S_IFLNK, 0, UID, GID);
	expect_stat("homes/alice/filelink", S_IFLNK, 0, UID, GID);
	expect_stat("outside", S_IFDIR, 0755, 0, 0);
	expect_stat("outside/secret", S_IFREG, 0600, 0, 0);
	ck_assert_int_eq(count_entries("outside"), 1);
	free(outside);
	free(secret);
}
END_TEST

START_TEST(special_files_in_skel_are_skipped)
{
	struct pwb_error err;
	char *fifo;

	mkdir_p("skel", 0755);
	write_rel("skel/.bashrc", "x\n", 0644);
	fifo = path("skel/pipe");
	ck_assert_int_eq(mkfifo(fifo, 0644), 0);
	ck_assert_msg(create("homes/alice", "skel", 0077, &err) == PWB_HOME_CREATED, "%s", err.msg);
	ck_assert(exists_rel("homes/alice/.bashrc"));
	ck_assert(!exists_rel("homes/alice/pipe"));
	free(fifo);
}
END_TEST

/* A failure half-way leaves neither a home nor a temporary behind. */
START_TEST(failure_leaves_nothing_behind)
{
	struct pwb_error err;
	char rel[PATH_MAX] = "skel";
	int i;

	mkdir_p("skel", 0755);
	for (i = 0; i < 40; i++) {
		strcat(rel, "/d");
		mkdir_p(rel, 0755);
	}
	mkdir_p("homes", 0755);
	ck_assert_int_eq(create("homes/alice", "skel", 0077, &err), -ELOOP);
	ck_assert_msg(strstr(err.msg, "homes/alice"), "%s", err.msg);
	ck_assert_int_eq(count_entries("homes"), 0);
}
END_TEST

START_TEST(bad_paths_and_unsafe_parents_are_refused)
{
	struct pwb_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(pwb_home_create("relative/alice", UID, GID, NULL, 077, &err), -EINVAL);
	ck_assert_int_eq(create("homes/../alice", NULL, 0077, &err), -EINVAL);
	ck_assert(!exists_rel("alice"));
	ck_assert_int_eq(create("homes/./alice", NULL, 0077, &err), -EINVAL);

	mkdir_p("userowned", 0755);
	{
		char *p = path("userowned");

		ck_assert_int_eq(chown(p, UID, GID), 0);
		free(p);
	}
	ck_assert_int_eq(create("userowned/alice", NULL, 0077, &err), -EPERM);
	ck_assert_msg(strstr(err.msg, "not owned by root"), "%s", err.msg);
	mkdir_p("open", 0777);
	ck_assert_int_eq(create("open/alice", NULL, 0077, &err), -EPERM);
	ck_assert_msg(strstr(err.msg, "writable by group or others"), "%s", err.msg);
	mkdir_p("sticky", 01777);
	ck_assert_int_eq(create("sticky/alice", NULL, 0077, &err), -EPERM);
	ck_assert(!exists_rel("sticky/alice"));
	ck_assert(!exists_rel("userowned/alice"));
	ck_assert(!exists_rel("open/alice"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("home");
	TCase *tc = tcase_create("home");
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		printf("1..0 # SKIP home creation tests need root (chown)\n");
		return EXIT_SUCCESS;
	}
	/* The temp dirs live in /tmp, which is world-writable: here it is a
	 * private root-only tmpfs instead. */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("pwb-test-home", "/tmp", "tmpfs", 0, "mode=0755") < 0) {
		printf("1..0 # SKIP home creation tests need a mount namespace: %s\n",
		       strerror(errno));
		return EXIT_SUCCESS;
	}
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, creates_home_parents_and_skel_copy);
	tcase_add_test(tc, umask_022_gives_readable_home);
	tcase_add_test(tc, existing_home_is_left_alone);
	tcase_add_test(tc, home_of_another_uid_is_refused);
	tcase_add_test(tc, sticky_world_writable_parent_is_refused);
	tcase_add_test(tc, use_existing_creates_nothing);
	tcase_add_test(tc, missing_skel_gives_empty_home);
	tcase_add_test(tc, symlinked_parent_is_refused);
	tcase_add_test(tc, symlinked_grandparent_is_refused);
	tcase_add_test(tc, symlink_at_home_is_not_followed);
	tcase_add_test(tc, symlinks_in_skel_do_not_escape);
	tcase_add_test(tc, special_files_in_skel_are_skipped);
	tcase_add_test(tc, failure_leaves_nothing_behind);
	tcase_add_test(tc, bad_paths_and_unsafe_parents_are_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
