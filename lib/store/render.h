/* Rendering store records into snapshot keys and lines (format:
 * snapshot.h): passwd, group, shadow, initgroups and the "b.NAME" binding
 * of a bound user. Reads only through public store calls (store.h) inside
 * the caller's read transaction; which level the keys go to is the
 * publisher's business (publish.c). */
#ifndef PWB_RENDER_H
#define PWB_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include "store.h"
#include "writer.h"

/* The lines of one user (malloc'd into *out). */
int pwb_render_passwd(const struct pwb_user *u, char **out);
int pwb_render_shadow(const struct pwb_user *u, char **out);
/* ISSUER "\n" SUBJECT of a bound user; *out NULL when unbound. */
int pwb_render_binding(const struct pwb_user *u, char **out);

/* Tombstones for the keys an entity had before a change: kind 'u' or 'g',
 * old_num its uid or gid, old_gid and old_private a user's primary group. */
int pwb_render_tombstones(struct pwb_snapshot_kvset *pub, struct pwb_snapshot_kvset *shadow,
			  char kind, const char *old_name, uint32_t old_num, uint32_t old_gid,
			  bool old_private);

/* The current keys of one entity (what: enum pwb_change_what, for users;
 * a group always renders whole). A deleted entity renders nothing (its
 * tombstones are the caller's); a damaged record is logged and skipped. */
int pwb_render_user(struct pwb_txn *txn, const char *id, unsigned what,
		    struct pwb_snapshot_kvset *pub, struct pwb_snapshot_kvset *shadow,
		    struct pwb_error *err);
int pwb_render_group(struct pwb_txn *txn, const char *id, struct pwb_snapshot_kvset *pub,
		     struct pwb_error *err);

/* Every key of the store, for a base level. */
int pwb_render_all(struct pwb_txn *txn, struct pwb_snapshot_kvset *pub,
		   struct pwb_snapshot_kvset *shadow, struct pwb_error *err);

#endif
