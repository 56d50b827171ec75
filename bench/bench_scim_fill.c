/* Benchmark helper for bench/scim: fills the store with N users directly
 * (batches of 500 per transaction, as SCIM-created users would look) so
 * that the 100k-user measurements do not spend minutes on setup. Prints
 * "ID<TAB>USERNAME" for each user created. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "store.h"
#include "util.h"

#define BATCH 500

struct fill_ctx {
	const char *prefix;
	unsigned long first, count;
	FILE *out;
	char (*ids)[PWB_ID_LEN + 1];
};

static int fill(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct fill_ctx *c = vctx;

	for (unsigned long i = 0; i < c->count; i++) {
		struct pwb_user u = {0};
		char name[64];
		int r;

		snprintf(name, sizeof(name), "%s%lu", c->prefix, c->first + i);
		snprintf(u.name, sizeof(u.name), "%s", name);
		u.user_name = strdup(name);
		u.gecos = strdup("Bench User");
		u.active = true;
		u.source = PWB_SOURCE_SCIM;
		u.attrs =
		    json_pack("{s:{s:s,s:s}}", "name", "givenName", "Bench", "familyName", name);
		r = pwb_user_create(txn, &u, err);
		if (r == 0)
			memcpy(c->ids[i], u.id, sizeof(c->ids[i]));
		pwb_user_clear(&u);
		if (r < 0)
			return r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct pwb_config cfg;
	struct pwb_error err = {0};
	struct pwb_store *st = NULL;
	struct fill_ctx c = {.out = stdout};
	unsigned long n, done = 0;
	int rc = 1;

	if (argc != 3 || (n = strtoul(argv[1], NULL, 10)) == 0) {
		fprintf(stderr, "usage: bench_scim_fill COUNT NAME-PREFIX\n");
		return 2;
	}
	c.prefix = argv[2];
	c.ids = calloc(BATCH, sizeof(*c.ids));
	if (!c.ids || pwb_config_load(pwb_config_path(NULL), false, &cfg, &err) < 0) {
		fprintf(stderr, "bench_scim_fill: %s\n", err.msg);
		return 1;
	}
	if (pwb_store_open(&cfg, &st, &err) < 0) {
		fprintf(stderr, "bench_scim_fill: %s\n", err.msg);
		goto out;
	}
	while (done < n) {
		c.first = done;
		c.count = n - done < BATCH ? n - done : BATCH;
		if (pwb_store_write(st, fill, &c, &err) < 0) {
			fprintf(stderr, "bench_scim_fill: after %lu users: %s\n", done, err.msg);
			goto out;
		}
		for (unsigned long i = 0; i < c.count; i++)
			fprintf(c.out, "%s\t%s%lu\n", c.ids[i], c.prefix, c.first + i);
		done += c.count;
	}
	rc = 0;
out:
	if (st)
		pwb_store_close(st);
	pwb_config_free(&cfg);
	free(c.ids);
	return rc;
}
