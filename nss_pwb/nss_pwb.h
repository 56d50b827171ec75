/* nss_pwb's internal contract: the glibc entry points every map file
 * implements, the one place where reader results become NSS statuses, and
 * the helpers that split snapshot lines into the caller's buffer. */
#ifndef PWB_NSS_PWB_H
#define PWB_NSS_PWB_H

#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <shadow.h>
#include <stdint.h>
#include "cache.h"

/* Reader result -> NSS status. errno is restored to its value on entry
 * first (errnop is usually &errno), then *errnop says why: ERANGE asks
 * glibc to retry with a larger buffer, ENOENT means "not here". */
static inline enum nss_status pwb_nss_status(int r, int saved_errno, int *errnop)
{
	errno = saved_errno;
	switch (r) {
	case 0:
		return NSS_STATUS_SUCCESS;
	case -ERANGE:
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	case PWB_ENOTFOUND:
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	default:
		*errnop = ENOENT;
		return NSS_STATUS_UNAVAIL;
	}
}

/* Snapshot keys: prefix + a (validated) name, or prefix + decimal id. No
 * printf on the lookup path. */
void pwb_nss_key_name(char key[PWB_SNAPSHOT_KEY_MAX], const char *prefix, const char *name);
void pwb_nss_key_id(char key[PWB_SNAPSHOT_KEY_MAX], const char *prefix, uint32_t id);

/* Splits line in place at ':' into exactly n fields; -EINVAL otherwise. */
int pwb_nss_split(char *line, char **fields, int n);
/* A whole decimal number in [0, UINT32_MAX - 1]; -EINVAL otherwise. */
int pwb_nss_parse_id(const char *s, uint32_t *out);
/* A whole decimal number, or -1 for an empty field (shadow's "unset"). */
int pwb_nss_parse_long(const char *s, long *out);

/* Parsers of one snapshot line already copied into buf (len bytes + NUL):
 * 0, -ERANGE (buf too small for the pointers a group needs) or -EINVAL. */
int pwb_nss_fill_passwd(char *buf, struct passwd *pw);
int pwb_nss_fill_group(char *buf, size_t len, size_t buflen, struct group *gr);
int pwb_nss_fill_shadow(char *buf, struct spwd *sp);

/* glibc's entry points: the only symbols the module exports (the rest is
 * compiled hidden, and the version script nss_pwb.map makes sure). */
#define PWB_NSS_EXPORT __attribute__((visibility("default")))

PWB_NSS_EXPORT enum nss_status _nss_pwb_getpwnam_r(const char *name, struct passwd *pw, char *buf,
						   size_t buflen, int *errnop);
PWB_NSS_EXPORT enum nss_status _nss_pwb_getpwuid_r(uid_t uid, struct passwd *pw, char *buf,
						   size_t buflen, int *errnop);
PWB_NSS_EXPORT enum nss_status _nss_pwb_setpwent(int stayopen);
PWB_NSS_EXPORT enum nss_status _nss_pwb_endpwent(void);
PWB_NSS_EXPORT enum nss_status _nss_pwb_getpwent_r(struct passwd *pw, char *buf, size_t buflen,
						   int *errnop);

PWB_NSS_EXPORT enum nss_status _nss_pwb_getgrnam_r(const char *name, struct group *gr, char *buf,
						   size_t buflen, int *errnop);
PWB_NSS_EXPORT enum nss_status _nss_pwb_getgrgid_r(gid_t gid, struct group *gr, char *buf,
						   size_t buflen, int *errnop);
PWB_NSS_EXPORT enum nss_status _nss_pwb_setgrent(int stayopen);
PWB_NSS_EXPORT enum nss_status _nss_pwb_endgrent(void);
PWB_NSS_EXPORT enum nss_status _nss_pwb_getgrent_r(struct group *gr, char *buf, size_t buflen,
						   int *errnop);
PWB_NSS_EXPORT enum nss_status _nss_pwb_initgroups_dyn(const char *user, gid_t group,
						       long int *start, long int *size,
						       gid_t **groupsp, long int limit,
						       int *errnop);

PWB_NSS_EXPORT enum nss_status _nss_pwb_getspnam_r(const char *name, struct spwd *sp, char *buf,
						   size_t buflen, int *errnop);
PWB_NSS_EXPORT enum nss_status _nss_pwb_setspent(int stayopen);
PWB_NSS_EXPORT enum nss_status _nss_pwb_endspent(void);
PWB_NSS_EXPORT enum nss_status _nss_pwb_getspent_r(struct spwd *sp, char *buf, size_t buflen,
						   int *errnop);

#endif
