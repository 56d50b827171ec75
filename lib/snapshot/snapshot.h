/* The published NSS snapshot: its files, keys and value formats. The
 * writer (writer.h, used by lib/store/publish.c) and the reader (reader.h,
 * used by nss_pwb, PAM, pwbadm and the tests) agree on this header and
 * nothing else, so no reader touches the transactional store.
 *
 * Directory db-dir/nss (0755). Three levels of immutable Berkeley DB
 * B-tree files (no environment), newest first:
 *   delta.db           small; rewritten on every publish
 *   mid-G.db           middle level; rewritten when the delta is full
 *   base-G.db          everything; rewritten when the middle level is full
 * and the same three for shadow, mode 0600 (root reads them):
 *   shadow-delta.db, shadow-mid-G.db, shadow-base-G.db
 * G is a decimal generation number. Each delta names the mid and base it
 * sits on (meta keys below), so swapping the delta with one rename(2)
 * publishes a whole consistent generation. A reader compares the mapped
 * generation counter (below) per call, no system call, and re-opens only
 * when it moved, or when the fstat it makes about once a second shows
 * the delta it holds was replaced.
 * An old mid/base is unlinked only after a newer delta no longer names it;
 * a reader that finds the named file gone re-reads delta.db and retries.
 *
 * Lookup: the first level (delta, then mid, then base) holding the key
 * decides. A value of length 0 is a tombstone: "deleted, stop here".
 * Keys and values are bytes without a trailing NUL.
 */
#ifndef PWB_SNAPSHOT_H
#define PWB_SNAPSHOT_H

#define PWB_SNAP_DIR		 "nss"
#define PWB_SNAP_DELTA		 "delta.db"
#define PWB_SNAP_MID_FMT	 "mid-%llu.db"
#define PWB_SNAP_BASE_FMT	 "base-%llu.db"
#define PWB_SNAP_SHADOW_DELTA	 "shadow-delta.db"
#define PWB_SNAP_SHADOW_MID_FMT	 "shadow-mid-%llu.db"
#define PWB_SNAP_SHADOW_BASE_FMT "shadow-base-%llu.db"
#define PWB_SNAP_LOCK		 ".lock"

#include <stddef.h>

/* Longest key (with its NUL): a map prefix plus a name or a number. */
#define PWB_SNAPSHOT_KEY_MAX 64

/* The two sets of files: world-readable maps and root-only shadow. */
enum pwb_snapshot_set {
	PWB_SNAPSHOT_PUBLIC = 0,
	PWB_SNAPSHOT_SHADOW = 1,
};

/* The three levels, newest first. */
enum pwb_snapshot_level {
	PWB_SNAPSHOT_DELTA = 0,
	PWB_SNAPSHOT_MID = 1,
	PWB_SNAPSHOT_BASE = 2,
	PWB_SNAPSHOT_LEVELS = 3
};

/* The one rule for level file names: writes the file name (no directory)
 * of level of set into buf; gen is ignored for the delta. Returns 0 or
 * -ENAMETOOLONG. */
int pwb_snapshot_level_name(enum pwb_snapshot_set set, enum pwb_snapshot_level level,
			    unsigned long long gen, char *buf, size_t buflen);

/* True if name is a mid or base file of either set (any generation). */
int pwb_snapshot_is_level_file(const char *name);

/* "generation" (0644): 8 bytes, a native-endian uint64 counter that the
 * publisher increments, in place (never replacing the file), after every
 * swap of the deltas. A reader may map it and compare it per call instead
 * of stat'ing delta.db: an unchanged counter means an unchanged delta. A
 * reader must still fall back to the stat check now and then (the counter
 * file could have been replaced or be missing). */
#define PWB_SNAP_GENERATION "generation"

/* Meta keys, present in every delta file (public and shadow):
 *   "@mid"  -> decimal G of the mid file this delta sits on
 *   "@base" -> decimal G of the base file
 *   "@seq"  -> decimal store change sequence this snapshot includes
 * Meta keys start with '@', which no map key does. */
#define PWB_SNAP_META_MID  "@mid"
#define PWB_SNAP_META_BASE "@base"
#define PWB_SNAP_META_SEQ  "@seq"

/* Map keys (public files):
 *   "p.NAME"  -> passwd line   NAME:x:UID:GID:GECOS:HOME:SHELL
 *   "p=UID"   -> the same passwd line (UID in decimal)
 *   "g.NAME"  -> group line    NAME:x:GID:MEMBER,MEMBER,...
 *   "g=GID"   -> the same group line
 *   "i.NAME"  -> the user's supplementary GIDs (pwb groups the user is a
 *                member of), decimal, comma-separated; "" never stored for
 *                a live user with no groups: the key is simply absent or a
 *                tombstone.
 * Shadow files:
 *   "s.NAME"  -> shadow line   NAME:PASSWD:LASTCHG:MIN:MAX:WARN:INACT:EXPIRE:
 *                PASSWD is "*" for an active user (no local password) and
 *                "!*" for a locked one, whose EXPIRE is 1 (long past).
 *   "b.NAME"  -> ISSUER "\n" SUBJECT: the IdP identity the user is bound to
 *                (absent: not bound), so that PAM can hold a known user to
 *                their identity while pwbd is down.
 * Each user also has a private group (same name, GID = the user's GID) in
 * the g. / g= keys unless the user's GID belongs to a pwb group. */
#define PWB_SNAP_KEY_PASSWD_NAME "p."
#define PWB_SNAP_KEY_PASSWD_UID	 "p="
#define PWB_SNAP_KEY_GROUP_NAME	 "g."
#define PWB_SNAP_KEY_GROUP_GID	 "g="
#define PWB_SNAP_KEY_INITGROUPS	 "i."
#define PWB_SNAP_KEY_SHADOW_NAME "s."
#define PWB_SNAP_KEY_BINDING	 "b."

#endif
