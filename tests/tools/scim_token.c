/* Test tool for the SCIM integration tests and benchmark (until and beside
 * `pwbadm generate-token`): stores a bearer token's hash under NAME and
 * prints the token once. `--expires-in N` sets an expiry N seconds from now
 * (negative: already expired). `--init` only opens (creates) the store, as
 * root does before the store user's pwb-scim may. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "publish.h"
#include "store.h"
#include "token.h"
#include "util.h"

struct put_ctx {
	struct pwb_token t;
};

static int put(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct put_ctx *c = vctx;

	return pwb_token_put(txn, &c->t, err);
}

int main(int argc, char **argv)
{
	struct pwb_config cfg;
	struct pwb_error err = {0};
	struct pwb_store *st = NULL;
	struct put_ctx c = {0};
	char token[PWB_TOKEN_TEXT_MAX];
	int64_t expires_in = 0;
	int rc = 1;

	bool init_only = argc == 2 && strcmp(argv[1], "--init") == 0;

	if (argc != 2 && !(argc == 4 && strcmp(argv[2], "--expires-in") == 0)) {
		fprintf(stderr, "usage: scim_token NAME [--expires-in SECONDS] | --init\n");
		return 2;
	}
	if (argc == 4 && pwb_parse_i64(argv[3], &expires_in) < 0) {
		fprintf(stderr, "scim_token: bad --expires-in\n");
		return 2;
	}
	if (strlen(argv[1]) > PWB_TOKEN_NAME_MAX) {
		fprintf(stderr, "scim_token: name too long\n");
		return 2;
	}
	if (pwb_config_load(pwb_config_path(NULL), false, &cfg, &err) < 0) {
		fprintf(stderr, "scim_token: %s\n", err.msg);
		return 1;
	}
	if (pwb_store_open(&cfg, &st, &err) < 0 || pwb_publish_attach(st, &err) < 0) {
		fprintf(stderr, "scim_token: %s\n", err.msg);
		goto out;
	}
	if (init_only) {
		rc = 0;
		goto out;
	}
	if (pwb_token_generate(token) < 0 || pwb_token_hash(token, strlen(token), c.t.hash) < 0) {
		fprintf(stderr, "scim_token: cannot make a token\n");
		goto out;
	}
	snprintf(c.t.name, sizeof(c.t.name), "%s", argv[1]);
	pwb_token_mask(token, c.t.masked);
	c.t.created = pwb_now();
	c.t.expires = expires_in ? c.t.created + expires_in : 0;
	if (pwb_store_write(st, put, &c, &err) < 0) {
		fprintf(stderr, "scim_token: %s\n", err.msg);
		goto out;
	}
	printf("%s\n", token);
	rc = 0;
out:
	if (st)
		pwb_store_close(st);
	pwb_config_free(&cfg);
	return rc;
}
