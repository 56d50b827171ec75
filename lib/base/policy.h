/* The one policy for paths and names that come from outside (SCIM, ID-token
 * claims, pwbadm, import) which does not depend on the store's contents:
 * where a home may lie, which login shells may be set, which group names
 * are never provisioned. The store applies it on every write; the root
 * process that creates a home re-checks the path with it. */
#ifndef PWB_POLICY_H
#define PWB_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "error.h"

#define PWB_SHELLS_FILE "/etc/shells"

/* Ids no range may contain, whatever the configuration: root,
 * nobody/nogroup, the 16-bit -1, systemd's dynamic-user range, the 32-bit
 * -1. The allocator never hands them out and nss_pwb never serves them. */
bool pwb_id_reserved(uint32_t id);

/* Normalises home (repeated '/' and "." components folded, a trailing '/'
 * dropped) into *out (malloc'd) and accepts it only strictly below
 * user-homedir-path or one of user-homedir-allowed-roots. A ".." component,
 * ':', a control character or an over-long path is refused. Returns 0 or
 * PWB_EINVAL with a message naming homeDirectory. */
int pwb_policy_home(const struct pwb_config *cfg, const char *home, char **out,
		    struct pwb_error *err);

/* 0 if shell is listed in /etc/shells, else PWB_EINVAL naming loginShell
 * (an unreadable /etc/shells refuses too). */
int pwb_policy_shell(const char *shell, struct pwb_error *err);

/* 0 unless name is in group-provisioning-deny-names (compared without
 * regard to case): then PWB_EINVAL naming the group. Names that a local
 * source owns are the store's to refuse (it knows its own entries). */
int pwb_policy_group_name(const struct pwb_config *cfg, const char *name, struct pwb_error *err);

/* The passwd-field rule, the one copy: text that goes into a passwd or
 * group line (gecos, home, shell) holds no ':' (the field separator) and
 * no control byte. pwb_policy_passwd_field refuses such text (PWB_EINVAL
 * naming field); pwb_policy_passwd_field_clean rewrites it in place, each
 * such byte becoming a space (free text from the IdP, such as a name). */
bool pwb_policy_passwd_byte_ok(unsigned char c);
int pwb_policy_passwd_field(const char *field, const char *value, struct pwb_error *err);
void pwb_policy_passwd_field_clean(char *value);

#endif
