/* initgroups: a user's supplementary GIDs from the "i.NAME" index of the
 * snapshot, so `id` and login cost one lookup instead of a group scan. */
#include <stdlib.h>
#include <string.h>
#include "names.h"
#include "snapshot.h"
#include "nss_pwb.h"

/* Enough for about 350 groups without touching the heap. */
#define INDEX_STACK_BYTES 4096
/* Beyond this the index entry is refused rather than trusted. */
#define INDEX_MAX_BYTES (1024 * 1024)

/* Appends gid unless present; grows the caller's array as glibc expects
 * (realloc, never past limit when limit > 0). */
static int add_gid(gid_t gid, long int *start, long int *size, gid_t **groupsp, long int limit)
{
	gid_t *groups = *groupsp;

	for (long int i = 0; i < *start; i++)
		if (groups[i] == gid)
			return 0;
	if (*start == *size) {
		long int new_size = *size > 0 ? 2 * *size : 16;

		if (limit > 0 && *size >= limit)
			return -ERANGE; /* full: glibc keeps what fits */
		if (limit > 0 && new_size > limit)
			new_size = limit;
		groups = realloc(groups, (size_t)new_size * sizeof(gid_t));
		if (!groups)
			return -ENOMEM;
		*groupsp = groups;
		*size = new_size;
	}
	groups[(*start)++] = gid;
	return 0;
}

static int add_index(char *list, gid_t group, long int *start, long int *size, gid_t **groupsp,
		     long int limit)
{
	char *next;
	uint32_t gid;
	int r;

	for (char *p = list; p; p = next) {
		next = strchr(p, ',');
		if (next)
			*next++ = '\0';
		if (pwb_nss_parse_id(p, &gid) < 0 || gid == group)
			continue;
		r = add_gid(gid, start, size, groupsp, limit);
		if (r == -ERANGE)
			return 0;
		if (r < 0)
			return r;
	}
	return 0;
}

enum nss_status _nss_pwb_initgroups_dyn(const char *user, gid_t group, long int *start,
					long int *size, gid_t **groupsp, long int limit,
					int *errnop)
{
	int saved_errno = errno;
	char key[PWB_SNAPSHOT_KEY_MAX], stack_buf[INDEX_STACK_BYTES];
	char *buf = stack_buf, *heap = NULL;
	size_t buflen = sizeof(stack_buf), len;
	int r = PWB_ENOTFOUND;

	if (!user || !pwb_names_is_valid(user))
		return pwb_nss_status(r, saved_errno, errnop);
	pwb_nss_key_name(key, PWB_SNAP_KEY_INITGROUPS, user);
	while ((r = pwb_nss_get(PWB_SNAPSHOT_PUBLIC, key, buf, buflen, &len)) == -ERANGE &&
	       buflen < INDEX_MAX_BYTES) {
		char *bigger = realloc(heap, buflen * 4);

		if (!bigger) {
			r = -ENOMEM;
			break;
		}
		buf = heap = bigger;
		buflen *= 4;
	}
	if (r == 0)
		r = add_index(buf, group, start, size, groupsp, limit);
	free(heap);
	if (r == -ENOMEM) {
		errno = saved_errno;
		*errnop = ENOMEM;
		return NSS_STATUS_TRYAGAIN;
	}
	/* An oversized index is as unusable as a missing file. */
	return pwb_nss_status(r == -ERANGE ? PWB_EUNAVAIL : r, saved_errno, errnop);
}
