/* Provisioning steps that PAM (JIT), SCIM and pwbadm share, on top of the
 * store's rules: make sure a group exists, and set a user's pwb groups.
 * Each runs inside the caller's write transaction. */
#ifndef PWB_PROVISION_H
#define PWB_PROVISION_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "store.h"

/* The pwb group named name (a valid Linux name), created with an allocated
 * gid if missing. *created says which; out (zeroed) receives the group.
 * PWB_EINVAL for a deny-listed name, PWB_ELOCAL for a name another source
 * owns, PWB_EUNAVAIL when that lookup failed. */
int pwb_provision_group_ensure(struct pwb_txn *txn, const char *name, struct pwb_group *out,
			       bool *created, struct pwb_error *err);

/* Makes the user's pwb group memberships exactly names[0..n) (Linux
 * names; groups that do not exist are created when create_missing, else
 * skipped). A name that is deny-listed or owned by another source is
 * skipped and reported through skipped_cb (may be NULL) with the reason;
 * it never fails the whole set. *added and *removed (may be NULL) count
 * the memberships changed. */
typedef void (*pwb_provision_skip_cb)(const char *name, const char *why, void *ctx);
int pwb_provision_user_groups_set(struct pwb_txn *txn, const char *user_id,
				  const char *const *names, size_t n, bool create_missing,
				  pwb_provision_skip_cb skipped_cb, void *ctx, unsigned *added,
				  unsigned *removed, struct pwb_error *err);

#endif
