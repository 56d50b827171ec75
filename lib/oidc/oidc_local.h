/* The local-account rule of OIDC sign-in: a name that NSS resolves but the
 * pwb store does not hold is a local account, refused unless
 * auth-openid-allow-local-accounts=1 and its uid is >= 1000; system
 * accounts (uid < 1000) are never accepted. */
#ifndef PWB_OIDC_LOCAL_H
#define PWB_OIDC_LOCAL_H

#include <stdbool.h>
#include "config.h"
#include "error.h"

/* System accounts (below this uid) never sign in through OIDC. */
#define PWB_OIDC_MIN_LOCAL_UID 1000

/* 0: name may sign in (*local: it is an allowed local account);
 * PWB_ELOCAL: refused; PWB_EUNAVAIL: NSS or the store failed. */
int pwb_oidc_check_local(const struct pwb_config *cfg, const char *name, bool *local,
			 struct pwb_error *err);

#endif
