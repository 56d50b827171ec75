/* The one gate every external name (ID-token claim, SCIM userName or group
 * displayName, CLI argument) passes before it reaches the store, a path or a
 * log: map it to a Linux user/group name or refuse it. */
#ifndef PWB_NAMES_H
#define PWB_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"

#define PWB_NAME_MAX 32

enum pwb_names_flags {
	PWB_NAMES_LOWERCASE = 1 << 0,	 /* fold ASCII upper case to lower */
	PWB_NAMES_STRIP_DOMAIN = 1 << 1, /* "alice@example.com" -> "alice" */
	PWB_NAMES_ALLOW_BARE = 1 << 2,	 /* a name without "@domain" passes even when
					  * domains are listed: for root's CLI, which
					  * names accounts by their Linux names */
};

/* Maps `external` to a Linux name in out[PWB_NAME_MAX + 1]. With
 * PWB_NAMES_STRIP_DOMAIN, an "@domain" suffix is removed; when
 * allowed_domains (comma list, case-insensitive) is non-NULL and non-empty,
 * only those domains may be stripped, any other is refused, and so is a
 * name with no domain at all (unless PWB_NAMES_ALLOW_BARE): an IdP's bare
 * "alice" is not known to belong to an allowed domain. The result
 * must match [a-z_][a-z0-9_.-]*, be at most 32 bytes, and not be "." or
 * "..". Returns 0 or PWB_EINVAL with a message (which quotes the input only
 * in escaped, truncated form, so hostile bytes never reach a log raw). */
int pwb_names_to_linux(const char *external, unsigned flags, const char *allowed_domains,
		       char out[PWB_NAME_MAX + 1], struct pwb_error *err);

/* The one rule that turns a group's display name as an IdP sends it
 * ("Data Scientists") into a Linux group name, in the spirit of SSSD's
 * case_sensitive=false and override_space: ASCII upper case is folded to
 * lower case and each space becomes `space` (group-name-space-replacement,
 * default '_'). Nothing else is rewritten and nothing is ever truncated:
 * the result must pass the Linux name rule below, else PWB_EINVAL with a
 * message that names the derived name and says why (non-ASCII, a control
 * character, longer than 32, a leading digit as in an Entra object id, a
 * character a Linux name cannot hold). The deny list is the caller's (it
 * needs the configuration: pwb_provision_group_name in the store layer). */
#define PWB_GROUP_DISPLAY_MAX 256
int pwb_names_group_from_display(const char *display, char space, char out[PWB_NAME_MAX + 1],
				 struct pwb_error *err);

/* True if name is already a valid Linux name by the rules above. */
bool pwb_names_is_valid(const char *name);

/* Writes a printable, escaped, truncated copy of untrusted text for logs:
 * non-printable bytes become \xNN; at most outlen-1 bytes. */
void pwb_names_escape(const char *in, char *out, size_t outlen);

#endif
