/* The local-account rule (see oidc_local.h). Whether a name NSS knows is a
 * pwb user is first asked of the published NSS snapshot (read-only files,
 * cheap, what nss_pwb itself answers from); only when the snapshot does
 * not list it with that uid is the transactional store opened, so a lag
 * in publishing can never turn a pwb user into a "local" one. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "oidc_local.h"
#include "reader.h"
#include "store.h"

struct store_lookup {
	const char *name;
	bool found;
};

static int lookup_user(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct store_lookup *l = ctx;
	struct pwb_user u;
	int r = pwb_user_get_by_name(txn, l->name, &u, err);

	l->found = r == 0;
	pwb_user_clear(&u);
	return r == PWB_ENOTFOUND ? 0 : r;
}

/* Whether the pwb store holds a user of that name. */
static int in_pwb_store(const struct pwb_config *cfg, const char *name, bool *found,
			struct pwb_error *err)
{
	struct store_lookup l = {name, false};
	struct pwb_store *st = NULL;
	int r;

	*found = false;
	r = pwb_store_open(cfg, &st, err);
	if (r < 0)
		return r;
	r = pwb_store_read(st, lookup_user, &l, err);
	pwb_store_close(st);
	*found = l.found;
	return r;
}

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
	struct passwd pw, *found = NULL;
	char buf[4096];
	bool ours = false;
	int e, r;

	*local = false;
	e = getpwnam_r(name, &pw, buf, sizeof(buf), &found);
	if (e != 0 && e != ENOENT && e != ESRCH)
		return pwb_error_set(err, PWB_EUNAVAIL, "local: user lookup failed: %s",
				     strerror(e));
	if (!found)
		return 0;
	if (found->pw_uid < PWB_OIDC_MIN_LOCAL_UID)
		return pwb_error_set(err, PWB_ELOCAL,
				     "local: %s is a system account (uid %u), never signed in "
				     "through OIDC",
				     name, (unsigned)found->pw_uid);
	if (snapshot_lists(cfg->db_dir, name, found->pw_uid) == 1)
		return 0;
	r = in_pwb_store(cfg, name, &ours, err);
	if (r < 0) {
		pwb_error_prefix(err, "local: cannot check the pwb store for %s", name);
		return err->code = PWB_EUNAVAIL;
	}
	if (ours)
		return 0;
	if (!cfg->openid_allow_local_accounts)
		return pwb_error_set(err, PWB_ELOCAL,
				     "local: %s is a local account (uid %u) and "
				     "auth-openid-allow-local-accounts is off",
				     name, (unsigned)found->pw_uid);
	*local = true;
	return 0;
}
