/* Store and snapshot helpers for the unit tests. The snapshot reader here
 * is independent of nss_pwb: it resolves levels the way snapshot.h says. */
#include <check.h>
#include <db.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "snapshot.h"
#include "publish.h"
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
	/* Temporary (h13-store): the publisher is the store's commit hook. */
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

/* ---- snapshot reading ---- */

struct entry {
	char *key, *val;
};

struct table {
	struct entry *v;
	size_t n;
};

static void table_put(struct table *t, const char *k, size_t kl, const char *v, size_t vl)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strlen(t->v[i].key) == kl && memcmp(t->v[i].key, k, kl) == 0)
			return; /* an upper level already decided */
	t->v = realloc(t->v, (t->n + 1) * sizeof(*t->v));
	t->v[t->n].key = strndup(k, kl);
	t->v[t->n].val = vl ? strndup(v, vl) : strdup(""); /* a tombstone has no data */
	t->n++;
}

static unsigned long long meta_of(const char *path, const char *key)
{
	DB *db = NULL;
	DBT k = {0}, v = {0};
	char buf[32] = {0};

	ck_assert_int_eq(db_create(&db, NULL, 0), 0);
	ck_assert_msg(db->open(db, NULL, path, NULL, DB_BTREE, DB_RDONLY, 0) == 0, "open %s", path);
	k.data = (void *)key;
	k.size = (u_int32_t)strlen(key);
	ck_assert_int_eq(db->get(db, NULL, &k, &v, 0), 0);
	ck_assert_uint_lt(v.size, sizeof(buf));
	memcpy(buf, v.data, v.size);
	db->close(db, 0);
	return strtoull(buf, NULL, 10);
}

static void read_level(struct table *t, const char *path)
{
	DB *db = NULL;
	DBC *c = NULL;
	DBT k = {0}, v = {0};

	ck_assert_int_eq(db_create(&db, NULL, 0), 0);
	ck_assert_msg(db->open(db, NULL, path, NULL, DB_BTREE, DB_RDONLY, 0) == 0, "open %s", path);
	ck_assert_int_eq(db->cursor(db, NULL, &c, 0), 0);
	while (c->get(c, &k, &v, DB_NEXT) == 0) {
		if (k.size && ((char *)k.data)[0] == '@')
			continue;
		table_put(t, k.data, k.size, v.data, v.size);
	}
	c->close(c);
	db->close(db, 0);
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

static void resolve(const char *nss_dir, int shadow, struct table *t)
{
	char delta[4096], mid[4096], base[4096], name[64];
	unsigned long long gm, gb;

	snprintf(delta, sizeof(delta), "%s/%s", nss_dir,
		 shadow ? PWB_SNAP_SHADOW_DELTA : PWB_SNAP_DELTA);
	gm = meta_of(delta, PWB_SNAP_META_MID);
	gb = meta_of(delta, PWB_SNAP_META_BASE);
	snprintf(name, sizeof(name), shadow ? PWB_SNAP_SHADOW_MID_FMT : PWB_SNAP_MID_FMT, gm);
	snprintf(mid, sizeof(mid), "%s/%s", nss_dir, name);
	snprintf(name, sizeof(name), shadow ? PWB_SNAP_SHADOW_BASE_FMT : PWB_SNAP_BASE_FMT, gb);
	snprintf(base, sizeof(base), "%s/%s", nss_dir, name);
	memset(t, 0, sizeof(*t));
	read_level(t, delta);
	read_level(t, mid);
	read_level(t, base);
}

static void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].key);
		free(t->v[i].val);
	}
	free(t->v);
}

char *test_snapshot_dump(const char *nss_dir, int shadow)
{
	struct table t;
	char *out = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&out, &len);

	resolve(nss_dir, shadow, &t);
	if (t.n) /* an empty table's array is NULL, which qsort must not get */
		qsort(t.v, t.n, sizeof(*t.v), entry_cmp);
	for (i = 0; i < t.n; i++)
		if (t.v[i].val[0]) /* tombstones hide, they are not entries */
			fprintf(f, "%s=%s\n", t.v[i].key, t.v[i].val);
	fclose(f);
	table_free(&t);
	return out;
}

char *test_snapshot_get(const char *nss_dir, int shadow, const char *key)
{
	struct table t;
	char *out = NULL;
	size_t i;

	resolve(nss_dir, shadow, &t);
	for (i = 0; i < t.n; i++)
		if (strcmp(t.v[i].key, key) == 0 && t.v[i].val[0])
			out = strdup(t.v[i].val);
	table_free(&t);
	return out;
}
