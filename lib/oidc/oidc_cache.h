/* The on-disk cache of the OpenID discovery document and the JWKS, so a
 * login costs no network round trip: root's under db-dir/cache, the
 * login-user's (pwb-login) under auth-openid-session-dir/cache, each 0700
 * and owned by its user; any other user has none. An
 * entry keeps the raw body, when it was fetched and until when it is fresh;
 * entries are replaced atomically (mkstemp, fsync, rename). */
#ifndef PWB_OIDC_CACHE_H
#define PWB_OIDC_CACHE_H

#include <limits.h>
#include <stdint.h>
#include "cleanup.h"
#include "config.h"
#include "error.h"

struct pwb_cache_entry {
	char *url;	 /* what was fetched */
	char *body;	 /* raw response body, NUL-terminated */
	int64_t fetched; /* unix seconds */
	int64_t expires; /* unix seconds: fresh until then */
	int64_t forced;	 /* last refetch forced by an unknown kid (0: never) */
};

/* Makes sure base/cache exists (creating it 0700), is a directory owned
 * by the effective uid and not accessible to group or others; writes its
 * path to out[PATH_MAX]. */
int pwb_oidc_cache_dir(const char *base, char out[PATH_MAX], struct pwb_error *err);

/* The cache directory of this process (see above), prepared with
 * pwb_oidc_cache_dir: db-dir when the effective uid is root,
 * auth-openid-session-dir when it is login-user's. PWB_ENOTFOUND (out
 * empty) for any other user; other errors as pwb_oidc_cache_dir. */
int pwb_oidc_cache_dir_for(const struct pwb_config *cfg, char out[PATH_MAX], struct pwb_error *err);

/* The entry file name for a kind ("discovery", "jwks") and a URL: the kind
 * plus a hash of the URL, so several issuers never share an entry. */
int pwb_oidc_cache_name(const char *kind, const char *url, char out[80]);

/* Loads dir/name into e (cleared first). PWB_ENOTFOUND if absent; a
 * corrupt entry is PWB_EINVAL (callers treat it as absent). */
int pwb_oidc_cache_load(const char *dir, const char *name, struct pwb_cache_entry *e,
			struct pwb_error *err);

/* Replaces dir/name with e, mode 0600. */
int pwb_oidc_cache_save(const char *dir, const char *name, const struct pwb_cache_entry *e,
			struct pwb_error *err);

void pwb_cache_entry_clear(struct pwb_cache_entry *e);
#define _cleanup_cache_entry_ _cleanup_(pwb_cache_entry_clear)

#endif
