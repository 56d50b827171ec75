/* Test tool for the SCIM integration tests and benchmark (beside `pwbadm
 * generate-token`, which cannot make an expired token): makes a bearer
 * token, has pwbd store its hash under NAME (op token.generate, as pwbadm
 * does) and prints the token once. `--expires-in N` sets an expiry N
 * seconds from now (negative: already expired). With pwbd not running it
 * opens the store itself (the benchmark's fill, an offline test). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "publish.h"
#include "rpc.h"
#include "store.h"
#include "token.h"
#include "util.h"

static int put(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	return pwb_token_put(txn, vctx, err);
}

/* pwbd down: the store directly (only one process may open it), with the
 * publisher attached as pwbd has it. */
static int store_directly(const struct pwb_config *cfg, struct pwb_token *t, struct pwb_error *err)
{
	struct pwb_store *st = NULL;
	int r = pwb_store_open(cfg, &st, err);

	if (r == 0)
		r = pwb_publish_attach(st, err);
	if (r == 0)
		r = pwb_store_write(st, put, t, err);
	if (st)
		pwb_store_close(st);
	return r;
}

int main(int argc, char **argv)
{
	struct pwb_config cfg;
	struct pwb_error err = {0};
	struct pwb_token t = {0};
	char token[PWB_TOKEN_TEXT_MAX];
	json_t *args, *result = NULL;
	int64_t expires_in = 0;
	int r;

	if (argc != 2 && !(argc == 4 && strcmp(argv[2], "--expires-in") == 0)) {
		fprintf(stderr, "usage: scim_token NAME [--expires-in SECONDS]\n");
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
	if (pwb_token_generate(token) < 0 || pwb_token_hash(token, strlen(token), t.hash) < 0) {
		fprintf(stderr, "scim_token: cannot make a token\n");
		pwb_config_free(&cfg);
		return 1;
	}
	snprintf(t.name, sizeof(t.name), "%s", argv[1]);
	pwb_token_mask(token, t.masked);
	t.created = pwb_now();
	t.expires = expires_in ? t.created + expires_in : 0;
	args = json_pack("{s:o}", "token", pwb_token_to_json(&t));
	r = args ? pwb_rpc_call(&cfg, "token.generate", NULL, args, &result, NULL, &err)
		 : pwb_error_set(&err, PWB_EINVAL, "out of memory");
	if (r == PWB_ENODAEMON)
		r = store_directly(&cfg, &t, &err);
	json_decref(args);
	json_decref(result);
	pwb_config_free(&cfg);
	if (r < 0) {
		fprintf(stderr, "scim_token: %s\n", pwb_error_text(&err, r));
		return 1;
	}
	printf("%s\n", token);
	return 0;
}
