/* setfsuid/setfsgid around store operations (see fsid.h). */
#include <sys/fsuid.h>
#include <unistd.h>
#include "fsid.h"

void pwb_fsid_enter(struct pwb_fsid *saved, uid_t uid, gid_t gid)
{
	saved->switched = false;
	if (geteuid() != 0 || uid == 0)
		return;
	/* setfsgid first: once fsuid is unprivileged it may not be changed. */
	saved->old_gid = (gid_t)setfsgid(gid);
	saved->old_uid = (uid_t)setfsuid(uid);
	saved->switched = true;
}

void pwb_fsid_leave(struct pwb_fsid *saved)
{
	if (!saved->switched)
		return;
	setfsuid(saved->old_uid);
	setfsgid(saved->old_gid);
	saved->switched = false;
}
