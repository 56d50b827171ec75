/* The NSS snapshot publisher (see snapshot.h for the format): after each
 * commit, re-renders what the change log names into a small delta file and
 * swaps it in with rename(2); merges the delta into the middle level when
 * it is full, and rebuilds the base when that is full, so publishing one
 * change costs the same whatever the number of users. Internal to the
 * store: callers use pwb_store_write() and pwb_store_publish_all(). */
#ifndef PWB_PUBLISH_H
#define PWB_PUBLISH_H

#include "store.h"

/* Installs the publisher's Berkeley DB fsync hook (once per process). */
void pwb_publish_init(void);

/* Installs the publisher as st's commit hook and publishes what is not
 * yet (everything, for a new store). Every process that opens the store
 * calls it (pwbd; pwbadm offline; tests). Temporary version from branch
 * h13-store until h13-snap's publisher lands. */
int pwb_publish_attach(struct pwb_store *st, struct pwb_error *err);

/* Renders the passwd/group/shadow lines of records (exposed for tests). */
int pwb_render_passwd(const struct pwb_user *u, char **out);
int pwb_render_shadow(const struct pwb_user *u, char **out);

#endif
