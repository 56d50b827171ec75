/* The NSS snapshot publisher (see snapshot.h for the format): after each
 * commit, re-renders what the change log names into a small delta file and
 * swaps it in with rename(2); merges the delta into the middle level when
 * it is full, and rebuilds the base when that is full, so publishing one
 * change costs the same whatever the number of users. Internal to the
 * store: callers use pwb_store_write() and pwb_store_publish_all(). */
#ifndef PWB_PUBLISH_H
#define PWB_PUBLISH_H

#include "internal/store_internal.h"

/* Installs the publisher's Berkeley DB fsync hook (once per process;
 * called by pwb_store_open before any environment exists). */
void pwb_publish_init(void);

/* Renders the passwd/group/shadow lines of records (exposed for tests). */
int pwb_render_passwd(const struct pwb_user *u, char **out);
int pwb_render_shadow(const struct pwb_user *u, char **out);

#endif
