/* Lookups in the NSS sources other than pwb's store (files, systemd, sssd,
 * LDAP...), through glibc with a buffer that grows on ERANGE up to 1 MiB.
 * Each returns 1 if a source has the id or name, 0 if none does, and
 * PWB_EUNAVAIL (with a message naming what) if a lookup failed: callers
 * then refuse, never treat the id or name as free. pwb's own snapshot
 * answers too, so callers look in the store first (or compare the owner's
 * name, *name_out, with their own). */
#ifndef PWB_OTHER_SOURCES_H
#define PWB_OTHER_SOURCES_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

int pwb_other_source_uid(uint32_t uid, struct pwb_error *err);
int pwb_other_source_gid(uint32_t gid, char *name_out, size_t name_len, struct pwb_error *err);
int pwb_other_source_user(const char *name, struct pwb_error *err);
int pwb_other_source_group(const char *name, struct pwb_error *err);
/* As pwb_other_source_user, and *uid receives the uid NSS answers with
 * (sign-in's local-account rule needs it). */
int pwb_other_source_user_uid(const char *name, uint32_t *uid, struct pwb_error *err);
/* As pwb_other_source_group, and *gid receives the gid NSS answers with. */
int pwb_other_source_group_gid(const char *name, uint32_t *gid, struct pwb_error *err);

#endif
