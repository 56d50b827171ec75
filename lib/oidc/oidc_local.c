/* The local-account rule (see oidc_local.h). Whether a name NSS knows is a
 * pwb user is asked of the published NSS snapshot only (what nss_pwb itself
 * answers from): the store is pwbd's, and pwbd publishes before it answers
 * a sign-in, so a user it registered is in the snapshot by then. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <db.h>
#include "oidc.h"
#include "oidc_local.h"
#include "other_sources.h"
#include "snapshot.h"

#define SNAP_LEVELS 3

static DB *snap_open(const char *nss_dir, const char *file)
{
	char path[PATH_MAX];
	DB *db = NULL;
	int ret;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", nss_dir, file) >= sizeof(path))
		return NULL;
	if (db_create(&db, NULL, 0) != 0)
		return NULL;
	ret = db->open(db, NULL, path, NULL, DB_BTREE, DB_RDONLY, 0);
	if (ret != 0) {
		db->close(db, 0);
		errno = ret == ENOENT ? ENOENT : EIO;
		return NULL;
	}
	return db;
}

/* Copies the value of key into out (NUL-terminated); 0, PWB_ENOTFOUND or -EIO. */
static int snap_get(DB *db, const char *key, char *out, size_t outlen, size_t *len)
{
	DBT k = {0}, v = {0};
	int ret;

	k.data = (void *)key;
	k.size = (u_int32_t)strlen(key);
	v.data = out;
	v.ulen = (u_int32_t)(outlen - 1);
	v.flags = DB_DBT_USERMEM;
	ret = db->get(db, NULL, &k, &v, 0);
	if (ret == DB_NOTFOUND)
		return PWB_ENOTFOUND;
	if (ret != 0)
		return -EIO;
	out[v.size] = '\0';
	*len = v.size;
	return 0;
}

/* 1: the snapshot lists name as a pwb user with this uid; 0: it does not;
 * <0: no readable snapshot. Levels are searched newest first; the first
 * holding the key decides (empty value: deleted). */
static int snapshot_lists(const char *db_dir, const char *name, uid_t uid)
{
	char nss_dir[PATH_MAX], key[PWB_NAME_MAX + 8], val[1024], file[64];
	unsigned long long mid, base;
	int attempt, level, r = -EIO;

	if ((size_t)snprintf(nss_dir, sizeof(nss_dir), "%s/%s", db_dir, PWB_SNAP_DIR) >=
	    sizeof(nss_dir))
		return -ENAMETOOLONG;
	snprintf(key, sizeof(key), "%s%s", PWB_SNAP_KEY_PASSWD_NAME, name);
	/* A writer may unlink the mid/base our delta names right after we
	 * read it: then re-read the new delta. */
	for (attempt = 0; attempt < 3; attempt++) {
		DB *levels[SNAP_LEVELS] = {NULL, NULL, NULL};
		size_t len;
		bool retry = false;

		levels[0] = snap_open(nss_dir, PWB_SNAP_DELTA);
		if (!levels[0])
			return -errno;
		if (snap_get(levels[0], PWB_SNAP_META_MID, val, sizeof(val), &len) < 0 ||
		    sscanf(val, "%llu", &mid) != 1 ||
		    snap_get(levels[0], PWB_SNAP_META_BASE, val, sizeof(val), &len) < 0 ||
		    sscanf(val, "%llu", &base) != 1) {
			levels[0]->close(levels[0], 0);
			return -EIO;
		}
		r = 0;
		for (level = 0; level < SNAP_LEVELS; level++) {
			int g;

			if (level > 0) {
				snprintf(file, sizeof(file),
					 level == 1 ? PWB_SNAP_MID_FMT : PWB_SNAP_BASE_FMT,
					 level == 1 ? mid : base);
				levels[level] = snap_open(nss_dir, file);
				if (!levels[level]) {
					retry = errno == ENOENT;
					r = -EIO;
					break;
				}
			}
			g = snap_get(levels[level], key, val, sizeof(val), &len);
			if (g == PWB_ENOTFOUND)
				continue;
			if (g < 0) {
				r = g;
				break;
			}
			if (len > 0) {
				/* NAME:x:UID:GID:GECOS:HOME:SHELL */
				char *p = strchr(val, ':');

				p = p ? strchr(p + 1, ':') : NULL;
				r = p && strtoul(p + 1, NULL, 10) == (unsigned long)uid;
			}
			break;
		}
		for (level = 0; level < SNAP_LEVELS; level++)
			if (levels[level])
				levels[level]->close(levels[level], 0);
		if (!retry)
			return r;
	}
	return r;
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
