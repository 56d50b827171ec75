/* bench/publish: the cost of publishing one change to the NSS snapshot, as
 * the number of users grows. For each N (users loaded in large batches
 * first, $PWB_BENCH_BATCH per transaction, default 10000: the load time is
 * the bulk publish path's), it times M single-user changes (a display-name update: commit +
 * publish), as a baseline in the same store M commits that NSS does not
 * see (a sign-in time: commit only), then M/4 new users (every key of a
 * user). The sizes' operations are interleaved one by one, so machine noise
 * weighs on all alike. M must be large enough to include the periodic
 * merges and base rebuilds, whose cost the means then carry amortised. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "publish.h"
#include "store.h"

struct batch {
	unsigned from, count;
};

static int load_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct batch *b = ctx;
	unsigned i;
	int r;

	for (i = 0; i < b->count; i++) {
		struct pwb_user u = {0};

		snprintf(u.name, sizeof(u.name), "bench%u", b->from + i);
		u.active = true;
		u.gecos = strdup("Bench User");
		r = pwb_user_create(txn, &u, err);
		pwb_user_clear(&u);
		if (r < 0)
			return r;
	}
	return 0;
}

struct change {
	unsigned n, which;
	bool visible;
};

static int change_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct change *c = ctx;
	struct pwb_user u = {0};
	char name[64];
	int r;

	snprintf(name, sizeof(name), "bench%u", c->which);
	r = pwb_user_get_by_name(txn, name, &u, err);
	if (r == 0 && c->visible) {
		free(u.gecos);
		if (asprintf(&u.gecos, "Bench User %u", c->n) < 0)
			u.gecos = NULL;
		r = pwb_user_update(txn, &u, err);
	} else if (r == 0) {
		r = pwb_user_touch_login(txn, u.id, c->n, err);
	}
	pwb_user_clear(&u);
	return r;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	double mean, median, p99, max;
};

static struct stats summarise(double *v, unsigned n)
{
	struct stats s = {0};
	unsigned i;

	for (i = 0; i < n; i++)
		s.mean += v[i] / n;
	qsort(v, n, sizeof(*v), cmp_double);
	s.median = v[n / 2];
	s.p99 = v[(n * 99) / 100];
	s.max = v[n - 1];
	return s;
}

struct size {
	unsigned users;
	struct pwb_config cfg;
	struct pwb_store *st;
	double load_s, load_publish_s; /* the load, and the publishing in it */
	double *vis, *inv, *cre;
};

/* The publisher's share of the load: its hook, timed; with
 * $PWB_BENCH_DEFER=1 held back until the end and called once (what the
 * cluster follower does with its batches). */
static pwb_store_commit_hook publish_hook;
static void *publish_ctx;
static double publish_us;
static bool defer;
static uint64_t deferred_seq;

static void timed_publish(struct pwb_store *st, uint64_t seq, void *ctx)
{
	double t = now_us();

	if (defer) {
		deferred_seq = seq;
		return;
	}
	publish_hook(st, seq, ctx);
	publish_us += now_us() - t;
}

static int load(const char *dir, struct size *z, unsigned changes)
{
	struct pwb_error err = {0};
	struct passwd *pw = getpwuid(geteuid());
	char conf[4096], text[8192];
	const char *b_env = getenv("PWB_BENCH_BATCH"); /* users per load transaction */
	unsigned i, batch = b_env && atoi(b_env) > 0 ? (unsigned)atoi(b_env) : 10000;
	double t0;
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/pwb-%u.conf", dir, z->users);
	snprintf(text, sizeof(text),
		 "db-dir=%s/db-%u\nstore-user=%s\nuser-homedir-path=/home\n"
		 "user-provisioning-start-uid=100000\nuser-provisioning-end-uid=900000\n"
		 "group-provisioning-start-gid=100000\ngroup-provisioning-end-gid=900000\n",
		 dir, z->users, pw ? pw->pw_name : "root");
	f = fopen(conf, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		return 1;
	if (pwb_config_load(conf, false, &z->cfg, &err) < 0 ||
	    pwb_store_open(&z->cfg, &z->st, &err) < 0) {
		fprintf(stderr, "bench_publish: %s\n", err.msg);
		return 1;
	}
	if (pwb_publish_attach(z->st, &err) < 0) { /* what pwbd does: publish after each commit */
		fprintf(stderr, "bench_publish: %s\n", err.msg);
		return 1;
	}
	publish_hook = pwb_store_commit_hook_of(z->st, &publish_ctx);
	pwb_store_on_commit(z->st, timed_publish, publish_ctx);
	publish_us = 0;
	defer = getenv("PWB_BENCH_DEFER") && strcmp(getenv("PWB_BENCH_DEFER"), "1") == 0;
	deferred_seq = 0;
	t0 = now_us();
	for (i = 0; i < z->users; i += batch) {
		struct batch b = {i, z->users - i < batch ? z->users - i : batch};

		if (pwb_store_write(z->st, load_fn, &b, &err) < 0) {
			fprintf(stderr, "bench_publish: load: %s\n", err.msg);
			return 1;
		}
	}
	if (defer && deferred_seq) {
		defer = false;
		timed_publish(z->st, deferred_seq, publish_ctx);
	}
	z->load_s = (now_us() - t0) / 1e6;
	z->load_publish_s = publish_us / 1e6;
	pwb_store_on_commit(z->st, publish_hook, publish_ctx);
	z->vis = calloc(changes, sizeof(double));
	z->inv = calloc(changes, sizeof(double));
	z->cre = calloc(changes, sizeof(double));
	return z->vis && z->inv && z->cre ? 0 : 1;
}

static int one_change(struct size *z, unsigned i)
{
	struct pwb_error err = {0};
	struct change c = {i, (unsigned)rand() % z->users, true};
	double t = now_us();

	if (pwb_store_write(z->st, change_fn, &c, &err) < 0) {
		fprintf(stderr, "bench_publish: change: %s\n", err.msg);
		return 1;
	}
	z->vis[i] = now_us() - t;
	c.visible = false;
	t = now_us();
	if (pwb_store_write(z->st, change_fn, &c, &err) < 0) {
		fprintf(stderr, "bench_publish: touch: %s\n", err.msg);
		return 1;
	}
	z->inv[i] = now_us() - t;
	return 0;
}

/* A new user: every key of a user at once (the JIT and SCIM create case). */
static int one_create(struct size *z, unsigned i)
{
	struct pwb_error err = {0};
	struct batch b = {z->users + i, 1};
	double t = now_us();

	if (pwb_store_write(z->st, load_fn, &b, &err) < 0) {
		fprintf(stderr, "bench_publish: create: %s\n", err.msg);
		return 1;
	}
	z->cre[i] = now_us() - t;
	return 0;
}

static void report(struct size *z, unsigned changes, unsigned creates)
{
	struct stats sv = summarise(z->vis, changes), si = summarise(z->inv, changes);
	struct stats sc = summarise(z->cre, creates);

	printf("%7u users  load %6.1f s (publish %6.1f s)  change+publish: mean %7.0f us  median "
	       "%7.0f us  "
	       "p99 %8.0f us  max %8.0f us   commit-only: mean %6.0f us  median %6.0f us  "
	       "publish (mean diff) %7.0f us\n",
	       z->users, z->load_s, z->load_publish_s, sv.mean, sv.median, sv.p99, sv.max, si.mean,
	       si.median, sv.mean - si.mean);
	printf("%7u users  create user (commit+publish): mean %7.0f us  median %7.0f us  "
	       "p99 %8.0f us  max %8.0f us\n",
	       z->users, sc.mean, sc.median, sc.p99, sc.max);
	pwb_store_close(z->st);
	pwb_config_free(&z->cfg);
	free(z->vis);
	free(z->inv);
	free(z->cre);
}

/* All sizes are loaded first, then their changes are interleaved one by
 * one, so that whatever else the machine does weighs on every size alike. */
int main(int argc, char **argv)
{
	struct size sizes[8] = {{0}};
	unsigned changes, creates, i;
	int n = 0, j;

	if (argc < 4) {
		fprintf(stderr, "usage: bench_publish DIR CHANGES USERS...\n");
		return 2;
	}
	changes = (unsigned)atoi(argv[2]);
	for (j = 3; j < argc && n < 8; j++, n++) {
		sizes[n].users = (unsigned)atoi(argv[j]);
		if (load(argv[1], &sizes[n], changes) != 0)
			return 1;
	}
	srand(42);
	for (i = 0; i < changes; i++)
		for (j = 0; j < n; j++)
			if (one_change(&sizes[j], i) != 0)
				return 1;
	creates = changes / 4;
	for (i = 0; i < creates; i++)
		for (j = 0; j < n; j++)
			if (one_create(&sizes[j], i) != 0)
				return 1;
	for (j = 0; j < n; j++)
		report(&sizes[j], changes, creates);
	return 0;
}
