/* The group map: lookups by name and GID, and enumeration, from the
 * "g." / "g=" keys of the published snapshot (pwb groups with their
 * members, and each user's private group). */
#include <string.h>
#include "names.h"
#include "snapshot.h"
#include "nss_pwb.h"

static struct pwb_snapshot_cursor group_cursor;

static int group_get(const char *key, const char *name, gid_t gid, struct group *gr, char *buf,
		     size_t buflen)
{
	size_t len;
	int r;

	r = pwb_nss_get(PWB_SNAPSHOT_PUBLIC, key, buf, buflen, &len);
	if (r < 0)
		return r;
	r = pwb_nss_fill_group(buf, len, buflen, gr);
	if (r < 0)
		return r == -ERANGE ? r : PWB_ENOTFOUND;
	if (name ? strcmp(gr->gr_name, name) != 0 : gr->gr_gid != gid)
		return PWB_ENOTFOUND;
	return 0;
}

enum nss_status _nss_pwb_getgrnam_r(const char *name, struct group *gr, char *buf, size_t buflen,
				    int *errnop)
{
	int saved_errno = errno;
	char key[PWB_SNAPSHOT_KEY_MAX];
	int r = PWB_ENOTFOUND;

	if (name && pwb_names_is_valid(name)) {
		pwb_nss_key_name(key, PWB_SNAP_KEY_GROUP_NAME, name);
		r = group_get(key, name, 0, gr, buf, buflen);
	}
	return pwb_nss_status(r, saved_errno, errnop);
}

enum nss_status _nss_pwb_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t buflen,
				    int *errnop)
{
	int saved_errno = errno;
	char key[PWB_SNAPSHOT_KEY_MAX];
	int r;

	pwb_nss_key_id(key, PWB_SNAP_KEY_GROUP_GID, gid);
	r = group_get(key, NULL, gid, gr, buf, buflen);
	return pwb_nss_status(r, saved_errno, errnop);
}

enum nss_status _nss_pwb_setgrent(int stayopen)
{
	pwb_nss_rewind(&group_cursor);
	return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_pwb_endgrent(void)
{
	pwb_nss_rewind(&group_cursor);
	return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_pwb_getgrent_r(struct group *gr, char *buf, size_t buflen, int *errnop)
{
	int saved_errno = errno;
	size_t len;
	int r;

	for (;;) {
		r = pwb_nss_next(PWB_SNAPSHOT_PUBLIC, PWB_SNAP_KEY_GROUP_NAME, &group_cursor, buf,
				 buflen, &len);
		if (r < 0)
			break;
		r = pwb_nss_fill_group(buf, len, buflen, gr);
		if (r == -ERANGE)
			break; /* same entry again with a larger buffer */
		pwb_nss_advance(&group_cursor);
		if (r == 0)
			break;
	}
	return pwb_nss_status(r, saved_errno, errnop);
}
