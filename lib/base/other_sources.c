/* Does another NSS source (files, systemd, sssd, LDAP, ...) own this name
 * or id? The one ERANGE-safe, fail-closed lookup that the store's rules,
 * provisioning and the sign-in checks share. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "names.h"
#include "other_sources.h"

/* NSS lookups for ids and names of other sources. pwb's own snapshot only
 * holds what the store holds, and callers look in the store first.
 * They fail closed: an entry bigger than the buffer is retried with a
 * larger one (a big LDAP or AD group), and any error other than "not
 * found" is an error, never "free" (an id handed out twice). */
#define NSS_BUF_START 4096
#define NSS_BUF_MAX   (1024 * 1024)

enum nss_query {
	Q_UID,
	Q_GID,
	Q_USER_NAME,
	Q_GROUP_NAME
};

static const char *query_what(enum nss_query q)
{
	static const char *const what[] = {"uid", "gid", "user name", "group name"};

	return what[q];
}

/* 1: another source has it (*name_out, if given, gets its name; *id_out,
 * if given, its uid or gid); 0: not found; PWB_EUNAVAIL: the lookup
 * failed, with a message. */
static int nss_lookup(enum nss_query q, uint32_t id, const char *name, char *name_out,
		      size_t name_len, uint32_t *id_out, struct pwb_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = NSS_BUF_START;
	struct passwd pw, *pres = NULL;
	struct group gr, *gres = NULL;
	char shown[96];
	int e;

	for (;;) {
		char *grown = realloc(buf, len);

		if (!grown)
			return pwb_error_set(err, -ENOMEM, "out of memory");
		buf = grown;
		pres = NULL;
		gres = NULL;
		switch (q) {
		case Q_UID:
			e = getpwuid_r(id, &pw, buf, len, &pres);
			break;
		case Q_GID:
			e = getgrgid_r(id, &gr, buf, len, &gres);
			break;
		case Q_USER_NAME:
			e = getpwnam_r(name, &pw, buf, len, &pres);
			break;
		default:
			e = getgrnam_r(name, &gr, buf, len, &gres);
			break;
		}
		if (e != ERANGE || len >= NSS_BUF_MAX)
			break;
		len *= 2;
	}
	if (e == 0 && (pres || gres)) {
		if (name_out)
			snprintf(name_out, name_len, "%s", pres ? pres->pw_name : gres->gr_name);
		if (id_out)
			*id_out = pres ? (uint32_t)pres->pw_uid : (uint32_t)gres->gr_gid;
		return 1;
	}
	if (e == 0 || e == ENOENT)
		return 0;
	if (name)
		pwb_names_escape(name, shown, sizeof(shown));
	else
		snprintf(shown, sizeof(shown), "%u", id);
	return pwb_error_set(err, PWB_EUNAVAIL,
			     "cannot look %s %s up in the other NSS sources (%s); refusing "
			     "rather than risk a clash with another source",
			     query_what(q), shown,
			     e == ERANGE ? "entry larger than 1 MiB" : strerror(e));
}

int pwb_other_source_uid(uint32_t uid, struct pwb_error *err)
{
	return nss_lookup(Q_UID, uid, NULL, NULL, 0, NULL, err);
}

int pwb_other_source_gid(uint32_t gid, char *name_out, size_t name_len, struct pwb_error *err)
{
	return nss_lookup(Q_GID, gid, NULL, name_out, name_len, NULL, err);
}

int pwb_other_source_user(const char *name, struct pwb_error *err)
{
	return nss_lookup(Q_USER_NAME, 0, name, NULL, 0, NULL, err);
}

int pwb_other_source_user_uid(const char *name, uint32_t *uid, struct pwb_error *err)
{
	return nss_lookup(Q_USER_NAME, 0, name, NULL, 0, uid, err);
}

int pwb_other_source_group(const char *name, struct pwb_error *err)
{
	return nss_lookup(Q_GROUP_NAME, 0, name, NULL, 0, NULL, err);
}

int pwb_other_source_group_gid(const char *name, uint32_t *gid, struct pwb_error *err)
{
	return nss_lookup(Q_GROUP_NAME, 0, name, NULL, 0, gid, err);
}
