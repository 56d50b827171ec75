/* pwb-test-adduser: creates an active user in the pwb store named by
 * $PWB_CONFIG and prints its uid, for integration tests that need a
 * store user before pwbadm exists (never shipped).
 *   pwb-test-adduser NAME */
#include <stdio.h>
#include <string.h>
#include "config.h"
#include "publish.h"
#include "store.h"

static int create(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct pwb_user *u = ctx;

	u->uid = 0;
	u->gid = 0;
	return pwb_user_create(txn, u, err);
}

int main(int argc, char **argv)
{
	struct pwb_config cfg;
	struct pwb_error err = {0};
	struct pwb_store *st = NULL;
	struct pwb_user u;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: pwb-test-adduser NAME\n");
		return 2;
	}
	r = pwb_config_load(pwb_config_path(NULL), false, &cfg, &err);
	if (r == 0)
		r = pwb_store_open(&cfg, &st, &err);
	if (r == 0)
		r = pwb_publish_attach(st, &err);
	if (r < 0) {
		fprintf(stderr, "pwb-test-adduser: %s\n", pwb_error_text(&err, r));
		return 1;
	}
	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", argv[1]);
	u.active = true;
	u.source = PWB_SOURCE_MANUAL;
	r = pwb_store_write(st, create, &u, &err);
	if (r < 0)
		fprintf(stderr, "pwb-test-adduser: %s\n", pwb_error_text(&err, r));
	else
		printf("%u\n", (unsigned)u.uid);
	pwb_user_clear(&u);
	pwb_store_close(st);
	pwb_config_free(&cfg);
	return r < 0 ? 1 : 0;
}
