/* Unit tests for lib/snapshot: the level naming, the writer (temp file and
 * rename, meta keys, modes, the generation counter, stale files) and the
 * one reader (three levels and tombstones, enumeration, -ERANGE, a named
 * level that vanished and is retried, PWB_EUNAVAIL apart from
 * PWB_ENOTFOUND and from -ENOENT), and the back-off it retries with. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "backoff.h"
#include "reader.h"
#include "testutil.h"
#include "writer.h"

static char *dir;

static void setup(void)
{
	dir = test_mkdtemp();
	pwb_snapshot_writer_init();
}

static void teardown(void)
{
	test_rmtree(dir);
	free(dir);
}

/* "key\tvalue\n..." (empty value: a tombstone) into a level file. */
static void put_level(enum pwb_snapshot_set set, enum pwb_snapshot_level level,
		      unsigned long long gen, const char *pairs,
		      const struct pwb_snapshot_meta *meta)
{
	struct pwb_snapshot_kvset s = {0};
	struct pwb_error err = {0};
	char name[64], *copy = strdup(pairs), *save = NULL;

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');

		ck_assert_ptr_nonnull(tab);
		ck_assert_int_eq(pwb_snapshot_kvset_add(&s, line, (size_t)(tab - line), tab + 1,
							strlen(tab + 1)),
				 0);
	}
	pwb_snapshot_kvset_settle(&s, false);
	ck_assert_int_eq(pwb_snapshot_level_name(set, level, gen, name, sizeof(name)), 0);
	ck_assert_msg(pwb_snapshot_level_write(dir, name, &s, meta,
					       set == PWB_SNAPSHOT_SHADOW ? 0600 : 0644,
					       level != PWB_SNAPSHOT_DELTA, &err) == 0,
		      "%s", err.msg);
	pwb_snapshot_kvset_free(&s);
	free(copy);
}

static void put_delta(unsigned long long mid, unsigned long long base, uint64_t seq,
		      const char *pairs)
{
	struct pwb_snapshot_meta meta = {mid, base, seq};
	struct pwb_error err = {0};

	put_level(PWB_SNAPSHOT_PUBLIC, PWB_SNAPSHOT_DELTA, 0, pairs, &meta);
	ck_assert_int_eq(pwb_snapshot_generation_bump(dir, &err), 0);
}

static void three_levels(void)
{
	put_level(PWB_SNAPSHOT_PUBLIC, PWB_SNAPSHOT_BASE, 1,
		  "p.alice\talice-base\np.bob\tbob-base\np.carol\tcarol-base\n", NULL);
	put_level(PWB_SNAPSHOT_PUBLIC, PWB_SNAPSHOT_MID, 1,
		  "p.carol\tcarol-mid\np.dave\tdave-mid\np.bob\t\n", NULL);
	put_delta(1, 1, 7, "p.erin\terin-delta\np.alice\t\np.bob\tbob-delta\n");
}

static int get(struct pwb_snapshot_reader *r, const char *key, char *buf, size_t len)
{
	size_t n;

	return pwb_snapshot_get(r, PWB_SNAPSHOT_PUBLIC, key, buf, len, &n);
}

START_TEST(level_names)
{
	char buf[64];

	ck_assert_int_eq(
	    pwb_snapshot_level_name(PWB_SNAPSHOT_PUBLIC, PWB_SNAPSHOT_DELTA, 9, buf, sizeof(buf)),
	    0);
	ck_assert_str_eq(buf, "delta.db");
	pwb_snapshot_level_name(PWB_SNAPSHOT_SHADOW, PWB_SNAPSHOT_DELTA, 9, buf, sizeof(buf));
	ck_assert_str_eq(buf, "shadow-delta.db");
	pwb_snapshot_level_name(PWB_SNAPSHOT_PUBLIC, PWB_SNAPSHOT_MID, 12, buf, sizeof(buf));
	ck_assert_str_eq(buf, "mid-12.db");
	pwb_snapshot_level_name(PWB_SNAPSHOT_SHADOW, PWB_SNAPSHOT_BASE, 3, buf, sizeof(buf));
	ck_assert_str_eq(buf, "shadow-base-3.db");
	ck_assert_int_eq(pwb_snapshot_level_name(PWB_SNAPSHOT_PUBLIC, PWB_SNAPSHOT_BASE, 3, buf, 5),
			 -ENAMETOOLONG);
	ck_assert(pwb_snapshot_is_level_file("shadow-mid-4.db"));
	ck_assert(!pwb_snapshot_is_level_file("delta.db"));
}
END_TEST

START_TEST(three_levels_and_tombstones)
{
	struct pwb_snapshot_reader *r = NULL;
	char buf[64];
	uint64_t seq;

	three_levels();
	ck_assert_int_eq(pwb_snapshot_reader_new(dir, &r), 0);
	ck_assert_int_eq(get(r, "p.erin", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "erin-delta");
	ck_assert_int_eq(get(r, "p.bob", buf, sizeof(buf)), 0); /* delta over a mid tombstone */
	ck_assert_str_eq(buf, "bob-delta");
	ck_assert_int_eq(get(r, "p.carol", buf, sizeof(buf)), 0); /* mid over base */
	ck_assert_str_eq(buf, "carol-mid");
	ck_assert_int_eq(get(r, "p.dave", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "dave-mid");
	ck_assert_int_eq(get(r, "p.alice", buf, sizeof(buf)), PWB_ENOTFOUND); /* tombstone */
	ck_assert_int_eq(get(r, "p.zoe", buf, sizeof(buf)), PWB_ENOTFOUND);
	ck_assert_int_eq(get(r, "@seq", buf, sizeof(buf)), PWB_ENOTFOUND); /* meta: no entry */
	ck_assert_int_eq(pwb_snapshot_seq(r, &seq), 0);
	ck_assert_uint_eq(seq, 7);
	pwb_snapshot_reader_free(r);
}
END_TEST

START_TEST(enumeration_and_erange)
{
	struct pwb_snapshot_reader *r = NULL;
	struct pwb_snapshot_cursor cur = {0};
	char buf[64], seen[256] = "";
	size_t len;
	int rc;

	three_levels();
	ck_assert_int_eq(pwb_snapshot_reader_new(dir, &r), 0);
	/* too small: -ERANGE, and the same entry again with a larger buffer */
	ck_assert_int_eq(pwb_snapshot_next(r, PWB_SNAPSHOT_PUBLIC, "p.", &cur, buf, 4, &len),
			 -ERANGE);
	ck_assert_int_eq(get(r, "p.erin", buf, 4), -ERANGE);
	while ((rc = pwb_snapshot_next(r, PWB_SNAPSHOT_PUBLIC, "p.", &cur, buf, sizeof(buf),
				       &len)) == 0) {
		strcat(seen, buf);
		strcat(seen, " ");
		pwb_snapshot_advance(&cur);
	}
	ck_assert_int_eq(rc, PWB_ENOTFOUND);
	/* each live entry once, from the level that decides it */
	ck_assert_str_eq(seen, "bob-delta erin-delta carol-mid dave-mid ");
	pwb_snapshot_reader_free(r);
}
END_TEST

START_TEST(unavailable_is_not_not_found)
{
	struct pwb_snapshot_reader *r = NULL;
	struct pwb_error err = {0};
	char buf[64];

	/* pwb's own codes: never an errno value (the old PWB_SNAP_UNAVAIL was
	 * -2 = -ENOENT, so a malformed delta looked like a vanished file) */
	ck_assert_int_ne(PWB_EUNAVAIL, -ENOENT);
	ck_assert_int_ne(PWB_ENOTFOUND, -EPERM);
	ck_assert_int_ne(PWB_EUNAVAIL, PWB_ENOTFOUND);

	ck_assert_int_eq(pwb_snapshot_reader_new(dir, &r), 0);
	ck_assert_int_eq(get(r, "p.alice", buf, sizeof(buf)), PWB_EUNAVAIL); /* nothing yet */
	three_levels();
	ck_assert_int_eq(get(r, "p.alice", buf, sizeof(buf)), PWB_ENOTFOUND);
	/* a delta whose base is missing for good: unavailable, after retries */
	put_delta(1, 5, 8, "");
	ck_assert_int_eq(get(r, "p.erin", buf, sizeof(buf)), PWB_EUNAVAIL);
	/* a delta without a base name, or a malformed one: unavailable */
	put_delta(1, 1, 9, "");
	ck_assert_int_eq(get(r, "p.carol", buf, sizeof(buf)), 0);
	put_level(PWB_SNAPSHOT_PUBLIC, PWB_SNAPSHOT_DELTA, 0, "@mid\t1\n@base\tx1\n", NULL);
	ck_assert_int_eq(pwb_snapshot_generation_bump(dir, &err), 0);
	ck_assert_int_eq(get(r, "p.carol", buf, sizeof(buf)), PWB_EUNAVAIL);
	/* the shadow set alone missing leaves the public one served */
	put_delta(1, 1, 10, "");
	ck_assert_int_eq(
	    pwb_snapshot_get(r, PWB_SNAPSHOT_SHADOW, "s.carol", buf, sizeof(buf), &(size_t){0}),
	    PWB_EUNAVAIL);
	ck_assert_int_eq(get(r, "p.carol", buf, sizeof(buf)), 0);
	pwb_snapshot_reader_free(r);
}
END_TEST

/* Completes a generation a moment after its delta was swapped in: what a
 * reader sees when it reads a delta and the mid/base it names is gone (a
 * writer swapped again and removed it) until the next one is in place. The
 * file is written beforehand and renamed in: a publisher's last step. */
static void *complete_later(void *arg)
{
	struct timespec pause = {0, 100 * 1000};
	char from[4200], to[4200];

	(void)arg;
	snprintf(from, sizeof(from), "%s/base-4.db", dir);
	snprintf(to, sizeof(to), "%s/base-3.db", dir);
	nanosleep(&pause, NULL);
	ck_assert_int_eq(rename(from, to), 0);
	return NULL;
}

START_TEST(vanished_level_is_retried)
{
	struct pwb_snapshot_reader *r = NULL;
	char buf[64];
	pthread_t t;

	three_levels();
	ck_assert_int_eq(pwb_snapshot_reader_new(dir, &r), 0);
	ck_assert_int_eq(get(r, "p.erin", buf, sizeof(buf)), 0);
	put_level(PWB_SNAPSHOT_PUBLIC, PWB_SNAPSHOT_BASE, 4, "p.frank\tfrank-base\n", NULL);
	put_delta(1, 3, 11, "");
	ck_assert_int_eq(pthread_create(&t, NULL, complete_later, NULL), 0);
	ck_assert_int_eq(get(r, "p.frank", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "frank-base");
	pthread_join(t, NULL);
	pwb_snapshot_reader_free(r);
}
END_TEST

START_TEST(new_generation_seen_at_once)
{
	struct pwb_snapshot_reader *r = NULL;
	char buf[64];
	uint64_t opens;

	three_levels();
	ck_assert_int_eq(pwb_snapshot_reader_new(dir, &r), 0);
	ck_assert_int_eq(get(r, "p.erin", buf, sizeof(buf)), 0);
	opens = pwb_snapshot_opens(r);
	ck_assert_int_eq(get(r, "p.erin", buf, sizeof(buf)), 0);
	ck_assert_uint_eq(pwb_snapshot_opens(r), opens); /* unchanged: nothing re-opened */
	put_delta(1, 1, 12, "p.erin\terin-2\n");
	ck_assert_int_eq(get(r, "p.erin", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "erin-2");
	ck_assert_uint_eq(pwb_snapshot_opens(r), opens + 1);
	pwb_snapshot_reader_free(r);
}
END_TEST

START_TEST(writer_files)
{
	struct pwb_snapshot_kvset s = {0}, back = {0};
	struct pwb_snapshot_meta meta = {4, 3, 99}, read = {0};
	struct pwb_error err = {0};
	struct dirent *de;
	struct stat st;
	char path[4200];
	uint64_t gen1, gen2;
	FILE *f;
	DIR *d;

	/* the newest of equal keys wins; a base drops tombstones */
	ck_assert_int_eq(pwb_snapshot_kvset_adds(&s, "k.b", "old"), 0);
	ck_assert_int_eq(pwb_snapshot_kvset_adds(&s, "k.a", "a"), 0);
	ck_assert_int_eq(pwb_snapshot_kvset_adds(&s, "k.b", "new"), 0);
	ck_assert_int_eq(pwb_snapshot_kvset_adds(&s, "k.c", ""), 0);
	pwb_snapshot_kvset_settle(&s, true);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_str_eq(s.v[1].val, "new");
	ck_assert_int_eq(
	    pwb_snapshot_level_write(dir, "shadow-delta.db", &s, &meta, 0600, true, &err), 0);
	snprintf(path, sizeof(path), "%s/shadow-delta.db", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(pwb_snapshot_level_load(dir, "shadow-delta.db", &back, &read), 0);
	ck_assert(pwb_snapshot_kvset_equal(&s, &back));
	ck_assert_uint_eq(read.mid, 4);
	ck_assert_uint_eq(read.base, 3);
	ck_assert_uint_eq(read.seq, 99);
	ck_assert_int_eq(pwb_snapshot_level_load(dir, "nothing.db", NULL, NULL), -ENOENT);
	/* no temp file left behind */
	d = opendir(dir);
	while ((de = readdir(d)))
		ck_assert_msg(strncmp(de->d_name, ".tmp-", 5) != 0, "left %s", de->d_name);
	closedir(d);

	/* the counter moves in place, same file */
	ck_assert_int_eq(pwb_snapshot_generation_bump(dir, &err), 0);
	snprintf(path, sizeof(path), "%s/generation", dir);
	f = fopen(path, "rb");
	ck_assert_uint_eq(fread(&gen1, sizeof(gen1), 1, f), 1);
	fclose(f);
	ck_assert_int_eq(pwb_snapshot_generation_bump(dir, &err), 0);
	f = fopen(path, "rb");
	ck_assert_uint_eq(fread(&gen2, sizeof(gen2), 1, f), 1);
	fclose(f);
	ck_assert_uint_eq(gen2, gen1 + 1);

	/* stale levels and temp files go, the live ones stay */
	put_level(PWB_SNAPSHOT_PUBLIC, PWB_SNAPSHOT_BASE, 1, "", NULL);
	put_level(PWB_SNAPSHOT_PUBLIC, PWB_SNAPSHOT_BASE, 3, "", NULL);
	put_level(PWB_SNAPSHOT_SHADOW, PWB_SNAPSHOT_MID, 4, "", NULL);
	free(test_write_file(dir, ".tmp-delta.db-1-2", "x"));
	pwb_snapshot_remove_stale(dir, &meta);
	snprintf(path, sizeof(path), "%s/base-1.db", dir);
	ck_assert_int_ne(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/.tmp-delta.db-1-2", dir);
	ck_assert_int_ne(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/base-3.db", dir);
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/shadow-mid-4.db", dir);
	ck_assert_int_eq(access(path, F_OK), 0);
	pwb_snapshot_kvset_free(&s);
	pwb_snapshot_kvset_free(&back);
}
END_TEST

/* The one back-off (lib/base/backoff.h) the reader's re-open uses. */
START_TEST(backoff_doubles_to_its_cap_and_gives_up)
{
	struct pwb_backoff b;
	unsigned waits = 0;

	pwb_backoff_init(&b, 0, 4, 10);
	while (pwb_backoff_wait(&b))
		waits++;
	/* pauses 0 (at once), 1, 2, 4, 4 microseconds: 11 >= 10, no sixth */
	ck_assert_uint_eq(waits, 5);
	ck_assert_uint_eq(b.attempt, 5);
	ck_assert_int_eq(b.waited_us, 11);
	ck_assert_uint_eq(b.pause_us, 4);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("snapshot");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, level_names);
	tcase_add_test(tc, three_levels_and_tombstones);
	tcase_add_test(tc, enumeration_and_erange);
	tcase_add_test(tc, unavailable_is_not_not_found);
	tcase_add_test(tc, vanished_level_is_retried);
	tcase_add_test(tc, new_generation_seen_at_once);
	tcase_add_test(tc, writer_files);
	tcase_add_test(tc, backoff_doubles_to_its_cap_and_gives_up);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
