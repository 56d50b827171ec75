/* Level file naming (snapshot.h): the one place that turns a set, a level
 * and a generation into a file name, for the writer and the reader. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "snapshot.h"

int pwb_snapshot_level_name(enum pwb_snapshot_set set, enum pwb_snapshot_level level,
			    unsigned long long gen, char *buf, size_t buflen)
{
	int shadow = set == PWB_SNAPSHOT_SHADOW, n;

	/* Literal formats, so the compiler checks them. */
	if (level == PWB_SNAPSHOT_DELTA)
		n = snprintf(buf, buflen, "%s", shadow ? PWB_SNAP_SHADOW_DELTA : PWB_SNAP_DELTA);
	else if (level == PWB_SNAPSHOT_MID)
		n = shadow ? snprintf(buf, buflen, PWB_SNAP_SHADOW_MID_FMT, gen)
			   : snprintf(buf, buflen, PWB_SNAP_MID_FMT, gen);
	else
		n = shadow ? snprintf(buf, buflen, PWB_SNAP_SHADOW_BASE_FMT, gen)
			   : snprintf(buf, buflen, PWB_SNAP_BASE_FMT, gen);
	return n < 0 || (size_t)n >= buflen ? -ENAMETOOLONG : 0;
}

int pwb_snapshot_is_level_file(const char *name)
{
	static const char *const prefixes[] = {"mid-", "base-", "shadow-mid-", "shadow-base-"};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}
