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

#endif
