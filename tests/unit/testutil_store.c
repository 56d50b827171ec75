/* Store and snapshot helpers for the unit tests. The snapshot is read
 * through lib/snapshot's reader (the one nss_pwb uses too). */
#include <check.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "publish.h"
#include "reader.h"
#include "store.h"
#include "testutil.h"

void test_store_setup(struct test_store *ts, uint32_t start, uint32_t end, const char *extra)
{
	struct pwb_error err = {0};
	struct passwd *pw = getpwuid(geteuid());
	char *text = NULL;

	ck_assert_ptr_nonnull(pw);
	ts->dir = test_mkdtemp();
	ck_assert_int_ge(
	    asprintf(&text,
		     "db-dir=%s/db\nstore-user=%s\nuser-homedir-path=%s/home\n"
		     "user-provisioning-start-uid=%u\nuser-provisioning-end-uid=%u\n"
		     "group-provisioning-start-gid=%u\ngroup-provisioning-end-gid=%u\n%s",
		     ts->dir, pw->pw_name, ts->dir, start, end, start, end, extra ? extra : ""),
	    0);
	ts->conf_path = test_write_file(ts->dir, "pwb.conf", text);
	free(text);
	ck_assert_msg(pwb_config_load(ts->conf_path, false, &ts->cfg, &err) == 0, "%s", err.msg);
	ck_assert_msg(pwb_store_open(&ts->cfg, &ts->st, &err) == 0, "%s", err.msg);
	/* what pwbd does: publish after each commit */
	ck_assert_msg(pwb_publish_attach(ts->st, &err) == 0, "%s", err.msg);
}

void test_store_teardown(struct test_store *ts)
{
	pwb_store_close(ts->st);
	pwb_config_free(&ts->cfg);
	test_rmtree(ts->dir);
	free(ts->dir);
	free(ts->conf_path);
}

struct add_ctx {
	const char *name;
	uint32_t uid;
	const char *home;
};

static int add_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct add_ctx *c = ctx;
	struct pwb_user u = {0};
	int r;

	snprintf(u.name, sizeof(u.name), "%s", c->name);
	u.active = true;
	if (c->home && !(u.home = strdup(c->home)))
		return -ENOMEM;
	r = pwb_user_create(txn, &u, err);
	c->uid = u.uid;
	pwb_user_clear(&u);
	return r;
}

uint32_t test_add_user(struct pwb_store *st, const char *name)
{
	return test_add_user_at(st, name, NULL);
}

uint32_t test_add_user_at(struct pwb_store *st, const char *name, const char *home)
{
	struct add_ctx c = {name, 0, home};
	struct pwb_error err = {0};

	ck_assert_msg(pwb_store_write(st, add_fn, &c, &err) == 0, "adding %s: %s", name, err.msg);
	return c.uid;
}

struct dump_line {
	char *key, *line;
};

static int line_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dump_line *)a)->key, ((const struct dump_line *)b)->key);
}

/* ---- snapshot reading (through the one reader, lib/snapshot/reader.h) ---- */

/* Every live entry of a set, "key=value" lines in key order. */
static char *dump_set(const char *nss_dir, int shadow)
{
	enum pwb_snapshot_set set = shadow ? PWB_SNAPSHOT_SHADOW : PWB_SNAPSHOT_PUBLIC;
	struct pwb_snapshot_reader *reader = NULL;
	struct pwb_snapshot_cursor cur;
	struct dump_line *lines = NULL;
	char *out = NULL, val[8192];
	size_t len = 0, n = 0, vlen;
	FILE *f;
	int r;

	ck_assert_int_eq(pwb_snapshot_reader_new(nss_dir, &reader), 0);
	/* Each level is walked in key order; entries of different levels
	 * interleave, so collect and sort. */
	memset(&cur, 0, sizeof(cur));
	while ((r = pwb_snapshot_next(reader, set, "", &cur, val, sizeof(val), &vlen)) == 0) {
		lines = realloc(lines, (n + 1) * sizeof(*lines));
		ck_assert_ptr_nonnull(lines);
		lines[n].key = strndup(cur.found, cur.found_len);
		ck_assert_int_ge(asprintf(&lines[n].line, "%s=%s", lines[n].key, val), 0);
		n++;
		pwb_snapshot_advance(&cur);
	}
	ck_assert_msg(r == PWB_ENOTFOUND, "reading the snapshot in %s: %d", nss_dir, r);
	pwb_snapshot_reader_free(reader);
	if (n)
		qsort(lines, n, sizeof(*lines), line_cmp);
	f = open_memstream(&out, &len);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s\n", lines[i].line);
		free(lines[i].key);
		free(lines[i].line);
	}
	fclose(f);
	free(lines);
	return out;
}

char *test_snapshot_dump(const char *nss_dir, int shadow)
{
	return dump_set(nss_dir, shadow);
}

char *test_snapshot_get(const char *nss_dir, int shadow, const char *key)
{
	struct pwb_snapshot_reader *reader = NULL;
	char val[8192];
	size_t len;
	int r;

	ck_assert_int_eq(pwb_snapshot_reader_new(nss_dir, &reader), 0);
	r = pwb_snapshot_get(reader, shadow ? PWB_SNAPSHOT_SHADOW : PWB_SNAPSHOT_PUBLIC, key, val,
			     sizeof(val), &len);
	pwb_snapshot_reader_free(reader);
	ck_assert_msg(r == 0 || r == PWB_ENOTFOUND, "reading %s in %s: %d", key, nss_dir, r);
	return r == 0 ? strdup(val) : NULL;
}
