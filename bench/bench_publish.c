/* bench/publish: the cost of publishing one change to the NSS snapshot, as
 * the number of users grows. For N users (loaded in large batches first),
 * it times M single-user changes (a display-name update: commit + publish)
 * and, as a baseline in the same store, M commits that NSS does not see
 * (a sign-in time: commit only). Prints one line per N. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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

static int run(const char *dir, unsigned users, unsigned changes)
{
	struct pwb_config cfg;
	struct pwb_store *st = NULL;
	struct pwb_error err = {0};
	struct passwd *pw = getpwuid(geteuid());
	char conf[4096], text[8192];
	double *vis = calloc(changes, sizeof(double)), *inv = calloc(changes, sizeof(double));
	double t0, load_s;
	unsigned i, batch = 10000;
	struct stats sv, si;
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/pwb-%u.conf", dir, users);
	snprintf(text, sizeof(text),
		 "db-dir=%s/db-%u\nstore-user=%s\nuser-homedir-path=/home\n"
		 "user-provisioning-start-uid=100000\nuser-provisioning-end-uid=900000\n"
		 "group-provisioning-start-gid=100000\ngroup-provisioning-end-gid=900000\n",
		 dir, users, pw ? pw->pw_name : "root");
	f = fopen(conf, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		return 1;
	if (pwb_config_load(conf, false, &cfg, &err) < 0 || pwb_store_open(&cfg, &st, &err) < 0) {
		fprintf(stderr, "bench_publish: %s\n", err.msg);
		return 1;
	}
	t0 = now_us();
	for (i = 0; i < users; i += batch) {
		struct batch b = {i, users - i < batch ? users - i : batch};

		if (pwb_store_write(st, load_fn, &b, &err) < 0) {
			fprintf(stderr, "bench_publish: load: %s\n", err.msg);
			return 1;
		}
	}
	load_s = (now_us() - t0) / 1e6;
	srand(42);
	for (i = 0; i < changes; i++) {
		struct change c = {i, (unsigned)rand() % users, true};
		double t = now_us();

		if (pwb_store_write(st, change_fn, &c, &err) < 0) {
			fprintf(stderr, "bench_publish: change: %s\n", err.msg);
			return 1;
		}
		vis[i] = now_us() - t;
		c.visible = false;
		t = now_us();
		if (pwb_store_write(st, change_fn, &c, &err) < 0) {
			fprintf(stderr, "bench_publish: touch: %s\n", err.msg);
			return 1;
		}
		inv[i] = now_us() - t;
	}
	sv = summarise(vis, changes);
	si = summarise(inv, changes);
	printf("%7u users  load %6.1f s  change+publish: mean %7.0f us  median %7.0f us  "
	       "p99 %8.0f us  max %8.0f us   commit-only: mean %6.0f us  median %6.0f us  "
	       "publish (mean diff) %7.0f us\n",
	       users, load_s, sv.mean, sv.median, sv.p99, sv.max, si.mean, si.median,
	       sv.mean - si.mean);
	fflush(stdout);
	pwb_store_close(st);
	pwb_config_free(&cfg);
	free(vis);
	free(inv);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned changes = argc > 2 ? (unsigned)atoi(argv[2]) : 3000;
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_publish DIR CHANGES USERS...\n");
		return 2;
	}
	for (i = 3; i < argc; i++)
		if (run(argv[1], (unsigned)atoi(argv[i]), changes) != 0)
			return 1;
	return 0;
}
