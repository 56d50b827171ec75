/* Home directory creation for pam_pwb_mkhome: parents root-owned 0755, the
 * home built from a skeleton under a temporary name and renamed into place,
 * every step relative to directory descriptors with O_NOFOLLOW so that a
 * planted symlink can never redirect a write or a chown. */
#ifndef PWB_HOME_H
#define PWB_HOME_H

#include <sys/types.h>
#include "error.h"

#define PWB_HOME_DEFAULT_SKEL  "/etc/skel"
#define PWB_HOME_DEFAULT_UMASK 0077

/* Outcomes besides a negative -errno. */
enum {
	PWB_HOME_CREATED = 0,
	PWB_HOME_EXISTED = 1, /* something is already at the path: left alone */
};

/* Creates `home` (absolute, without "." or ".." components) owned by
 * uid:gid with mode 0777 & ~umask, copying skel (NULL or missing: empty
 * home) with files, directories and symlinks owned by uid:gid and modes
 * masked by umask. Missing parents are created root-owned 0755; an existing
 * parent must be a real directory (not a symlink) owned by root and not
 * writable by others unless sticky. Returns PWB_HOME_CREATED,
 * PWB_HOME_EXISTED or -errno with a message naming the path. */
int pwb_home_create(const char *home, uid_t uid, gid_t gid, const char *skel, mode_t umask,
		    struct pwb_error *err);

#endif
