/* The local-account rule (see oidc_local.h). Whether a name NSS knows is a
 * pwb user is asked of the published NSS snapshot only (what nss_pwb itself
 * answers from): the store is pwbd's, and pwbd publishes before it answers
 * a sign-in, so a user it registered is in the snapshot by then. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "oidc_local.h"
#include "other_sources.h"
#include "reader.h"

/* 1: the snapshot lists name as a pwb user with this uid; 0: it does not;
 * <0: no readable snapshot. */
static int snapshot_lists(const char *db_dir, const char *name, uid_t uid)
{
	char nss_dir[PATH_MAX], key[PWB_SNAPSHOT_KEY_MAX], val[1024];
	struct pwb_snapshot_reader *reader = NULL;
	size_t len;
	int r;

	if ((size_t)snprintf(nss_dir, sizeof(nss_dir), "%s/%s", db_dir, PWB_SNAP_DIR) >=
		sizeof(nss_dir) ||
	    (size_t)snprintf(key, sizeof(key), "%s%s", PWB_SNAP_KEY_PASSWD_NAME, name) >=
		sizeof(key))
		return -ENAMETOOLONG;
	r = pwb_snapshot_reader_new(nss_dir, &reader);
	if (r < 0)
		return r;
	r = pwb_snapshot_get(reader, PWB_SNAPSHOT_PUBLIC, key, val, sizeof(val), &len);
	pwb_snapshot_reader_free(reader);
	if (r == PWB_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	{
		/* NAME:x:UID:GID:GECOS:HOME:SHELL */
		char *p = strchr(val, ':');

		p = p ? strchr(p + 1, ':') : NULL;
		return p && strtoul(p + 1, NULL, 10) == (unsigned long)uid;
	}
}

int pwb_oidc_check_local(const struct pwb_config *cfg, const char *name, bool *local,
			 struct pwb_error *err)
{
	uint32_t uid = 0;
	int r;

	*local = false;
	r = pwb_other_source_user_uid(name, &uid, err);
	if (r < 0)
		return pwb_error_prefix(err, "local");
	if (r == 0)
		return 0;
	if (uid < PWB_OIDC_MIN_LOCAL_UID)
		return pwb_error_set(err, PWB_ELOCAL,
				     "local: %s is a system account (uid %u), never signed in "
				     "through OIDC",
				     name, (unsigned)uid);
	if (snapshot_lists(cfg->db_dir, name, uid) == 1)
		return 0;
	if (!cfg->openid_allow_local_accounts)
		return pwb_error_set(err, PWB_ELOCAL,
				     "local: %s is a local account (uid %u) and "
				     "auth-openid-allow-local-accounts is off",
				     name, (unsigned)uid);
	*local = true;
	return 0;
}
