/* Turns snapshot lines (the /etc/passwd, /etc/group and /etc/shadow formats
 * of lib/snapshot.h) into glibc's structs, pointing into the caller's
 * buffer: no allocation, exact ERANGE when the buffer is short. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "nss_pwb.h"

void pwb_nss_key_name(char key[PWB_SNAPSHOT_KEY_MAX], const char *prefix, const char *name)
{
	size_t plen = strlen(prefix), nlen = strnlen(name, PWB_SNAPSHOT_KEY_MAX - 1 - plen);

	memcpy(key, prefix, plen);
	memcpy(key + plen, name, nlen);
	key[plen + nlen] = '\0';
}

void pwb_nss_key_id(char key[PWB_SNAPSHOT_KEY_MAX], const char *prefix, uint32_t id)
{
	char digits[16], *p = digits + sizeof(digits);
	size_t plen = strlen(prefix);

	*--p = '\0';
	do {
		*--p = (char)('0' + id % 10);
		id /= 10;
	} while (id);
	memcpy(key, prefix, plen);
	memcpy(key + plen, p, (size_t)(digits + sizeof(digits) - p));
}

int pwb_nss_split(char *line, char **fields, int n)
{
	char *p = line;

	for (int i = 0; i < n; i++) {
		fields[i] = p;
		p = strchr(p, ':');
		if (i == n - 1)
			return p ? -EINVAL : 0;
		if (!p)
			return -EINVAL;
		*p++ = '\0';
	}
	return -EINVAL;
}

int pwb_nss_parse_id(const char *s, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int pwb_nss_parse_long(const char *s, long *out)
{
	char *end;

	if (*s == '\0') {
		*out = -1;
		return 0;
	}
	if ((*s < '0' || *s > '9') && *s != '-')
		return -EINVAL;
	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

int pwb_nss_fill_passwd(char *buf, struct passwd *pw)
{
	char *f[7];
	uint32_t uid, gid;

	/* UID/GID 0 never come from pwb: a snapshot claiming them is refused,
	 * whoever managed to write it. */
	if (pwb_nss_split(buf, f, 7) < 0 || pwb_nss_parse_id(f[2], &uid) < 0 ||
	    pwb_nss_parse_id(f[3], &gid) < 0 || uid == 0 || gid == 0)
		return -EINVAL;
	pw->pw_name = f[0];
	pw->pw_passwd = f[1];
	pw->pw_uid = uid;
	pw->pw_gid = gid;
	pw->pw_gecos = f[4];
	pw->pw_dir = f[5];
	pw->pw_shell = f[6];
	return 0;
}

int pwb_nss_fill_group(char *buf, size_t len, size_t buflen, struct group *gr)
{
	char *f[4], **members, *p;
	size_t count = 0, offset;
	uint32_t gid;

	if (pwb_nss_split(buf, f, 4) < 0 || pwb_nss_parse_id(f[2], &gid) < 0 || gid == 0)
		return -EINVAL;
	if (*f[3]) {
		count = 1;
		for (p = f[3]; *p; p++)
			count += *p == ',';
	}
	/* The member pointers go after the line, aligned. */
	offset = (len + 1 + sizeof(char *) - 1) & ~(sizeof(char *) - 1);
	if (offset > buflen || (buflen - offset) / sizeof(char *) < count + 1)
		return -ERANGE;
	members = (char **)(void *)(buf + offset);
	p = f[3];
	for (size_t i = 0; i < count; i++) {
		members[i] = p;
		p = strchr(p, ',');
		if (p)
			*p++ = '\0';
	}
	members[count] = NULL;
	gr->gr_name = f[0];
	gr->gr_passwd = f[1];
	gr->gr_gid = gid;
	gr->gr_mem = members;
	return 0;
}

int pwb_nss_fill_shadow(char *buf, struct spwd *sp)
{
	char *f[9];
	long flag;

	if (pwb_nss_split(buf, f, 9) < 0 || pwb_nss_parse_long(f[2], &sp->sp_lstchg) < 0 ||
	    pwb_nss_parse_long(f[3], &sp->sp_min) < 0 ||
	    pwb_nss_parse_long(f[4], &sp->sp_max) < 0 ||
	    pwb_nss_parse_long(f[5], &sp->sp_warn) < 0 ||
	    pwb_nss_parse_long(f[6], &sp->sp_inact) < 0 ||
	    pwb_nss_parse_long(f[7], &sp->sp_expire) < 0 || pwb_nss_parse_long(f[8], &flag) < 0)
		return -EINVAL;
	sp->sp_namp = f[0];
	sp->sp_pwdp = f[1];
	sp->sp_flag = (unsigned long)flag;
	return 0;
}
