/* Reading the published NSS snapshot (format: snapshot.h): one handle keeps
 * the three levels of both sets open, re-opens them when a new generation
 * was published (retrying when a named level vanished under it), and
 * answers "first level holding the key decides, empty value = deleted".
 * libc and libdb only: nss_pwb links it, and so do PAM, pwbadm and the
 * tests, so there is one reader. Not thread-safe: nss_pwb wraps its one
 * per-process handle in its own lock and fork handlers. */
#ifndef PWB_SNAPSHOT_READER_H
#define PWB_SNAPSHOT_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "snapshot.h"

struct pwb_snapshot_reader;

/* A reader of the snapshot in nss_dir (db-dir/nss). Opens nothing yet. */
int pwb_snapshot_reader_new(const char *nss_dir, struct pwb_snapshot_reader **out);
void pwb_snapshot_reader_free(struct pwb_snapshot_reader *r);

/* Copies the value of key into buf, NUL-terminated (length in *len).
 * 0, PWB_ENOTFOUND (absent or deleted), PWB_EUNAVAIL (no snapshot,
 * unreadable or corrupt) or -ERANGE (buf too small). */
int pwb_snapshot_get(struct pwb_snapshot_reader *r, enum pwb_snapshot_set set, const char *key,
		     char *buf, size_t buflen, size_t *len);

/* Enumeration position: zeroed = before the first entry. */
struct pwb_snapshot_cursor {
	int level;
	size_t pos_len;
	char pos[PWB_SNAPSHOT_KEY_MAX];
	size_t found_len;
	char found[PWB_SNAPSHOT_KEY_MAX];
};

/* Copies the next live entry whose key starts with prefix into buf without
 * moving the cursor (pwb_snapshot_advance() once it was used, so -ERANGE
 * can be retried with a larger buffer). 0, PWB_ENOTFOUND at the end,
 * PWB_EUNAVAIL or -ERANGE. */
int pwb_snapshot_next(struct pwb_snapshot_reader *r, enum pwb_snapshot_set set, const char *prefix,
		      struct pwb_snapshot_cursor *cur, char *buf, size_t buflen, size_t *len);
void pwb_snapshot_advance(struct pwb_snapshot_cursor *cur);

/* The store change sequence the current generation includes (@seq). */
int pwb_snapshot_seq(struct pwb_snapshot_reader *r, uint64_t *seq);

/* Counts the generations this handle opened (either set): a caller that
 * derives state from a generation (nss_pwb's trust) reloads it when the
 * count moved since it last looked. */
uint64_t pwb_snapshot_opens(const struct pwb_snapshot_reader *r);

/* Closes every file the handle holds (it re-opens at the next call). */
void pwb_snapshot_reader_close(struct pwb_snapshot_reader *r);

#endif
