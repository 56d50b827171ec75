/* Helpers shared by the unit tests: temp dirs and config files. */
#ifndef PWB_TESTUTIL_H
#define PWB_TESTUTIL_H

#include "config.h"

/* A fresh temp dir (mode 0755) under /tmp; *path malloc'd. */
char *test_mkdtemp(void);

/* Writes text to dir/name and returns the malloc'd path. */
char *test_write_file(const char *dir, const char *name, const char *text);

/* rm -rf without following symlinks. */
void test_rmtree(const char *path);

#include <stdint.h>

struct pwb_store;

/* A config for a fresh store in a temp dir: db-dir=<dir>/db, store-user =
 * the current user (root in CI), uids/gids from start. extra: more
 * key=value lines or NULL. */
struct test_store {
	char *dir;
	char *conf_path;
	struct pwb_config cfg;
	struct pwb_store *st;
};
void test_store_setup(struct test_store *ts, uint32_t start, uint32_t end, const char *extra);
void test_store_teardown(struct test_store *ts);

/* Creates an active user (and returns its uid), failing the test on error. */
uint32_t test_add_user(struct pwb_store *st, const char *name);
/* The same with an explicit home (a deleted user's default home is retired). */
uint32_t test_add_user_at(struct pwb_store *st, const char *name, const char *home);

/* Resolves the published snapshot through its levels into sorted
 * "key=value\n" text (shadow: the shadow files). Caller frees. */
char *test_snapshot_dump(const char *nss_dir, int shadow);

/* Looks one key up through the levels; NULL if absent or deleted. */
char *test_snapshot_get(const char *nss_dir, int shadow, const char *key);

#endif
