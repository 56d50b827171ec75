/* Filesystem identity switching for root processes: every store operation
 * runs with fsuid/fsgid set to the store user (per thread, so the host
 * process is untouched), so every file the store creates has one owner. */
#ifndef PWB_FSID_H
#define PWB_FSID_H

#include <stdbool.h>
#include <sys/types.h>

struct pwb_fsid {
	bool switched;
	uid_t old_uid;
	gid_t old_gid;
};

/* Switches to uid/gid if the process runs as root and they differ. */
void pwb_fsid_enter(struct pwb_fsid *saved, uid_t uid, gid_t gid);
void pwb_fsid_leave(struct pwb_fsid *saved);

#endif
