/* The shadow map from the root-only shadow files of the snapshot: "*" for
 * active users (no local password), "!*" and long expired for locked ones.
 * An unprivileged process cannot open them and gets UNAVAIL. */
#include <string.h>
#include "names.h"
#include "snapshot.h"
#include "nss_pwb.h"

static struct pwb_snapshot_cursor shadow_cursor;

enum nss_status _nss_pwb_getspnam_r(const char *name, struct spwd *sp, char *buf, size_t buflen,
				    int *errnop)
{
	int saved_errno = errno;
	char key[PWB_SNAPSHOT_KEY_MAX];
	size_t len;
	int r = PWB_ENOTFOUND;

	if (name && pwb_names_is_valid(name)) {
		pwb_nss_key_name(key, PWB_SNAP_KEY_SHADOW_NAME, name);
		r = pwb_nss_get(PWB_SNAPSHOT_SHADOW, key, buf, buflen, &len);
		if (r == 0 && (pwb_nss_fill_shadow(buf, sp) < 0 || strcmp(sp->sp_namp, name) != 0))
			r = PWB_ENOTFOUND;
	}
	return pwb_nss_status(r, saved_errno, errnop);
}

enum nss_status _nss_pwb_setspent(int stayopen)
{
	pwb_nss_rewind(&shadow_cursor);
	return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_pwb_endspent(void)
{
	pwb_nss_rewind(&shadow_cursor);
	return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_pwb_getspent_r(struct spwd *sp, char *buf, size_t buflen, int *errnop)
{
	int saved_errno = errno;
	size_t len;
	int r;

	do {
		r = pwb_nss_next(PWB_SNAPSHOT_SHADOW, PWB_SNAP_KEY_SHADOW_NAME, &shadow_cursor, buf,
				 buflen, &len);
		if (r == 0)
			pwb_nss_advance(&shadow_cursor);
	} while (r == 0 && pwb_nss_fill_shadow(buf, sp) < 0);
	return pwb_nss_status(r, saved_errno, errnop);
}
