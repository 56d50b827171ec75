/* Home directory creation for pam_pwb_mkhome (as root) and pwbd
 * (account.home, for the login-user's PAM stack): parents root-owned and
 * writable by root alone, the home built from a skeleton under a temporary
 * name and renamed into place, every step relative to directory
 * descriptors with O_NOFOLLOW so that a planted symlink can never redirect
 * a write or a chown; an existing home is used only if the user owns it. */
#ifndef PWB_HOME_H
#define PWB_HOME_H

#include <sys/types.h>
#include "config.h"
#include "error.h"

#define PWB_HOME_DEFAULT_SKEL  "/etc/skel"
#define PWB_HOME_DEFAULT_UMASK 0077

/* Outcomes besides a negative -errno. */
enum {
	PWB_HOME_CREATED = 0,
	PWB_HOME_EXISTED = 1, /* a real directory owned by the user is already there */
};

/* Creates `home` (absolute, without "." or ".." components) owned by
 * uid:gid with mode 0777 & ~umask, copying skel (NULL or missing: empty
 * home) with files, directories and symlinks owned by uid:gid and modes
 * masked by umask. Missing parents are created root-owned 0755; an existing
 * parent must be a real directory (not a symlink) owned by root and
 * writable by nobody else (sticky or not). Something already at the path is
 * used only if it is a real directory owned by uid (PWB_HOME_EXISTED);
 * anything else (a symlink, a file, another uid's directory) is refused and
 * left untouched. The caller checks the path against the configured home
 * roots first (pwb_policy_home). Returns PWB_HOME_CREATED, PWB_HOME_EXISTED
 * or -errno with a message naming the path and why. */
int pwb_home_create(const char *home, uid_t uid, gid_t gid, const char *skel, mode_t umask,
		    struct pwb_error *err);

/* The same checks without creating anything: PWB_HOME_EXISTED if home is
 * a real directory owned by uid behind root-only parents, -ENOENT if it
 * (or a parent) is missing, another -errno with a message otherwise. For a
 * home that may not be created (outside the home roots, such as root's). */
int pwb_home_use_existing(const char *home, uid_t uid, struct pwb_error *err);

/* The session step's rule, for pam_pwb_mkhome and pwbd alike: a home the
 * root-owned pwb.conf allows (pwb_policy_home: user-homedir-path,
 * user-homedir-allowed-roots) is created with pwb_home_create; any other
 * path is never created, whatever NSS (the store, SCIM) says, and is used
 * only if it already is the user's own directory (as root's /root is).
 * *used: the path acted on (normalised when allowed; the caller frees).
 * Returns PWB_HOME_CREATED, PWB_HOME_EXISTED or a negative code whose
 * message gives both reasons when the path was not allowed. */
int pwb_home_open(const struct pwb_config *cfg, const char *home, uid_t uid, gid_t gid,
		  const char *skel, mode_t umask, char **used, struct pwb_error *err);

#endif
