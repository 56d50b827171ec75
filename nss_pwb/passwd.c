/* The passwd map: lookups by name and UID, and enumeration, from the
 * "p." / "p=" keys of the published snapshot. */
#include <string.h>
#include "names.h"
#include "snapshot.h"
#include "nss_pwb.h"

static struct pwb_snapshot_cursor passwd_cursor;

/* Copies the entry under key and checks it is the one asked for (a
 * snapshot line that disagrees with its key is treated as absent). */
static int passwd_get(const char *key, const char *name, uid_t uid, struct passwd *pw, char *buf,
		      size_t buflen)
{
	size_t len;
	int r;

	r = pwb_nss_get(PWB_SNAPSHOT_PUBLIC, key, buf, buflen, &len);
	if (r < 0)
		return r;
	if (pwb_nss_fill_passwd(buf, pw) < 0)
		return PWB_ENOTFOUND;
	if (name ? strcmp(pw->pw_name, name) != 0 : pw->pw_uid != uid)
		return PWB_ENOTFOUND;
	return 0;
}

enum nss_status _nss_pwb_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t buflen,
				    int *errnop)
{
	int saved_errno = errno;
	char key[PWB_SNAPSHOT_KEY_MAX];
	int r = PWB_ENOTFOUND;

	if (name && pwb_names_is_valid(name)) {
		pwb_nss_key_name(key, PWB_SNAP_KEY_PASSWD_NAME, name);
		r = passwd_get(key, name, 0, pw, buf, buflen);
	}
	return pwb_nss_status(r, saved_errno, errnop);
}

enum nss_status _nss_pwb_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t buflen,
				    int *errnop)
{
	int saved_errno = errno;
	char key[PWB_SNAPSHOT_KEY_MAX];
	int r;

	pwb_nss_key_id(key, PWB_SNAP_KEY_PASSWD_UID, uid);
	r = passwd_get(key, NULL, uid, pw, buf, buflen);
	return pwb_nss_status(r, saved_errno, errnop);
}

enum nss_status _nss_pwb_setpwent(int stayopen)
{
	pwb_nss_rewind(&passwd_cursor);
	return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_pwb_endpwent(void)
{
	pwb_nss_rewind(&passwd_cursor);
	return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_pwb_getpwent_r(struct passwd *pw, char *buf, size_t buflen, int *errnop)
{
	int saved_errno = errno;
	size_t len;
	int r;

	/* A malformed line is skipped; the cursor moves only past entries
	 * that were handed out, so ERANGE returns the same one again. */
	do {
		r = pwb_nss_next(PWB_SNAPSHOT_PUBLIC, PWB_SNAP_KEY_PASSWD_NAME, &passwd_cursor, buf,
				 buflen, &len);
		if (r == 0)
			pwb_nss_advance(&passwd_cursor);
	} while (r == 0 && pwb_nss_fill_passwd(buf, pw) < 0);
	return pwb_nss_status(r, saved_errno, errnop);
}
