/* nss_pwb's per-process cache: one snapshot reader handle (lib/snapshot/
 * reader.h) behind one lock, kept across fork, and the trust it checks
 * every value against (trust.h), reloaded whenever the reader opened a new
 * generation or a file the trust came from changed. What it returns has
 * passed the trust checks: an entry they drop reads as absent, and
 * enumeration skips it. */
#ifndef PWB_NSS_CACHE_H
#define PWB_NSS_CACHE_H

#include <stddef.h>
#include "error.h"
#include "reader.h"

/* Copies the value of key into buf as a NUL-terminated string (its length
 * in *len). Returns 0, PWB_ENOTFOUND, PWB_EUNAVAIL or -ERANGE. */
int pwb_nss_get(enum pwb_snapshot_set set, const char *key, char *buf, size_t buflen, size_t *len);

/* Copies the next live, trusted entry whose key starts with prefix into
 * buf without moving the cursor: call pwb_nss_advance() once the entry was
 * used, so a caller that got -ERANGE (or could not fit the parsed entry)
 * sees the same entry again with a larger buffer. Returns 0, PWB_ENOTFOUND
 * at the end, PWB_EUNAVAIL or -ERANGE. */
int pwb_nss_next(enum pwb_snapshot_set set, const char *prefix, struct pwb_snapshot_cursor *cur,
		 char *buf, size_t buflen, size_t *len);
void pwb_nss_advance(struct pwb_snapshot_cursor *cur);

/* Back to before the first entry (setXXent). */
void pwb_nss_rewind(struct pwb_snapshot_cursor *cur);

/* Closes every handle (for tests and leak checkers; never needed in use). */
void pwb_nss_close_all(void);

/* For tests: read local ids from these files (copied) instead of
 * /etc/passwd and /etc/group (NULL: those); takes effect at the next
 * (re-)open. */
void pwb_nss_set_local_files(const char *passwd_path, const char *group_path);

#endif
