/* What nss_pwb believes of the snapshot: nothing it cannot check. Whoever
 * can write the snapshot files must still not hand out root's, a system
 * group's or a local account's id, or a password hash. So each generation
 * the reader loads the id ranges pwb may use (pwb.conf) and the ids local
 * accounts own (/etc/passwd, /etc/group), and every value a map is about
 * to serve passes pwb_nss_trust_filter() first. */
#ifndef PWB_NSS_TRUST_H
#define PWB_NSS_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"

/* Distinct dropped or rewritten entries logged per generation; past this,
 * one line says more were dropped unlogged. */
#define PWB_NSS_TRUST_LOG_MAX 64

/* A sorted set of ids (bsearch). */
struct pwb_nss_ids {
	uint32_t *ids;
	size_t n;
};

struct pwb_nss_trust {
	uint32_t start_uid, end_uid, start_gid, end_gid;
	struct pwb_nss_ids local_uids; /* /etc/passwd */
	struct pwb_nss_ids local_gids; /* /etc/group */
	/* keys already logged this generation (hashes) */
	uint64_t logged[PWB_NSS_TRUST_LOG_MAX];
	unsigned n_logged;
	bool log_full;
};

/* Fills t from the ranges in cfg and the ids of the local files (passwd
 * and group format, parsed directly: asking NSS would recurse into this
 * module). Returns 0 or a negative errno (a file that cannot be read). On
 * error t is left empty. */
int pwb_nss_trust_load(struct pwb_nss_trust *t, const struct pwb_nss_config *cfg,
		       const char *passwd_path, const char *group_path);
void pwb_nss_trust_free(struct pwb_nss_trust *t);

/* Why an id may not be served, or NULL when it may: a uid must lie in the
 * uid range; a gid in the gid range or the uid range (a user's private
 * group has gid = uid); neither may be reserved (0, nobody, systemd's
 * dynamic range) or owned by a local account or group. */
const char *pwb_nss_trust_uid_problem(const struct pwb_nss_trust *t, uint32_t uid);
const char *pwb_nss_trust_gid_problem(const struct pwb_nss_trust *t, uint32_t gid);

/* Checks the snapshot value stored under key (keylen bytes), already
 * copied into buf (*len bytes + NUL, buflen bytes of room), before a map
 * parses it:
 *   passwd ("p." "p=")  dropped if its uid or primary gid may not be
 *                       served; a password field other than "x" becomes "x"
 *   group ("g." "g=")   dropped if its gid may not be served; its password
 *                       field becomes "x" likewise
 *   initgroups ("i.")   gids that may not be served are removed
 *   shadow ("s.")       a password other than "*" or "!*" becomes "!*"
 *                       (locked); the ageing and expiry fields stay
 * An unparsable line is dropped. Every drop or rewrite is logged once per
 * key per generation (LOG_AUTHPRIV|LOG_WARNING). Returns 0 (serve buf, *len
 * updated), PWB_ENOTFOUND (dropped) or -ERANGE (no room to rewrite). */
int pwb_nss_trust_filter(struct pwb_nss_trust *t, const char *key, size_t keylen, char *buf,
			 size_t *len, size_t buflen);

/* Logs one line to syslog, LOG_AUTHPRIV|LOG_WARNING (not per lookup:
 * callers log a state change once). */
void pwb_nss_trust_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For tests and the fuzzer: lines go to sink instead (NULL: syslog). */
void pwb_nss_trust_set_log_sink(void (*sink)(const char *line));

#endif
