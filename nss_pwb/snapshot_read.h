/* Reader of the published NSS snapshot (lib/snapshot.h): keeps the three
 * levels of each set open between calls, re-opens them when delta.db was
 * replaced (noticed through the publisher's mapped generation counter, or
 * an fstat when it moved or once a second), and answers key lookups and enumeration
 * with "first level holding the key decides, empty value = deleted". What
 * it returns has passed the trust checks of trust.h: an entry they drop
 * reads as absent, and enumeration skips it. */
#ifndef PWB_NSS_SNAPSHOT_READ_H
#define PWB_NSS_SNAPSHOT_READ_H

#include <stdbool.h>
#include <stddef.h>

/* The two sets of files: world-readable maps and root-only shadow. */
enum pwb_snap_set {
	PWB_SNAP_SET_PUBLIC = 0,
	PWB_SNAP_SET_SHADOW = 1,
};

/* Longest key the reader handles: a map prefix plus a name or a number. */
#define PWB_SNAP_KEY_MAX 64

/* Return codes besides 0 (found) and -ERANGE (buf too small). */
#define PWB_SNAP_NOTFOUND (-1) /* no such key, or deleted */
#define PWB_SNAP_UNAVAIL  (-2) /* no config/snapshot, unreadable or corrupt */

/* Position of an enumeration: the level being walked and the last key
 * returned from it. Zeroed = before the first entry. */
struct pwb_snap_cursor {
	int level;
	size_t pos_len;
	char pos[PWB_SNAP_KEY_MAX];
	size_t found_len; /* the key the last successful pwb_snap_next() copied */
	char found[PWB_SNAP_KEY_MAX];
};

/* Copies the value of key into buf as a NUL-terminated string (its length
 * in *len). Returns 0, PWB_SNAP_NOTFOUND, PWB_SNAP_UNAVAIL or -ERANGE. */
int pwb_snap_get(enum pwb_snap_set set, const char *key, char *buf, size_t buflen, size_t *len);

/* Copies the next live entry whose key starts with prefix into buf, without
 * moving the cursor: call pwb_snap_advance() once the entry was used, so a
 * caller that got -ERANGE (or could not fit the parsed entry) sees the same
 * entry again with a larger buffer. Returns 0, PWB_SNAP_NOTFOUND at the
 * end, PWB_SNAP_UNAVAIL or -ERANGE. */
int pwb_snap_next(enum pwb_snap_set set, const char *prefix, struct pwb_snap_cursor *cur, char *buf,
		  size_t buflen, size_t *len);
void pwb_snap_advance(struct pwb_snap_cursor *cur);

/* Back to before the first entry (setXXent). */
void pwb_snap_rewind(struct pwb_snap_cursor *cur);

/* Closes every handle (for tests and leak checkers; never needed in use). */
void pwb_snap_close_all(void);

/* For tests: read local ids from these files (copied) instead of
 * /etc/passwd and /etc/group (NULL: those); takes effect at the next
 * (re-)open. */
void pwb_snap_set_local_files(const char *passwd_path, const char *group_path);

#endif
