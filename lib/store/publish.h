/* The NSS snapshot publisher (format: snapshot.h): after each commit,
 * re-renders what the change log names (render.h) into a small delta file
 * and swaps it in with rename(2); merges the delta into the middle level
 * when it is full, and rebuilds the base when that is full, so publishing
 * one change costs the same whatever the number of users. It reads the
 * store only through public calls (store.h) and is installed as the
 * store's commit hook: the store never calls it by itself. */
#ifndef PWB_PUBLISH_H
#define PWB_PUBLISH_H

#include "store.h"

/* Installs the snapshot writer's Berkeley DB fsync hook (once per process,
 * before any environment exists). */
void pwb_publish_init(void);

/* Installs the publisher as st's commit hook (pwb_store_on_commit), and
 * publishes what is not yet: everything when there is no snapshot (so NSS
 * answers "not found" rather than "unavailable"), else what a process that
 * died after committing did not publish. Every process that opens the
 * store calls it (pwbd, pwbadm offline, tools, tests). */
int pwb_publish_attach(struct pwb_store *st, struct pwb_error *err);

/* Publishes the changes logged since the snapshot's @seq (a full rebuild
 * when there is no snapshot, it is damaged or the log was trimmed past
 * it), then records the "publish" cursor. */
int pwb_publish_changes(struct pwb_store *st, struct pwb_error *err);

/* Records the "publish" cursor at the snapshot's @seq, which trims the
 * change log as far as every reader and the retention allow (pwbd: when it
 * opens the store, then daily; the cursor otherwise moves every few dozen
 * changes). */
int pwb_publish_trim(struct pwb_store *st, struct pwb_error *err);

/* Publishes everything from scratch (pwbadm rebuild-nss; also
 * pwb_store_publish_all in store.h). */
int pwb_publish_full(struct pwb_store *st, struct pwb_error *err);

#endif
