/* Provisioning steps that PAM (JIT), SCIM and pwbadm share, on top of the
 * store's rules: make sure a group exists, and set a user's pwb groups.
 * Each runs inside the caller's write transaction. */
#ifndef PWB_PROVISION_H
#define PWB_PROVISION_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "store.h"

/* The one place a group's Linux name comes from when the IdP sends only a
 * display name (SCIM displayName, a JIT groups claim): the administrator's
 * mapping (pwbadm map-group) if there is one, else the display-name rule
 * (pwb_names_group_from_display with group-name-space-replacement). Either
 * way the result must not be deny-listed. 0, or PWB_EINVAL with a message
 * naming the derived name and why. */
int pwb_provision_group_name(struct pwb_txn *txn, const char *display_name,
			     char out[PWB_NAME_MAX + 1], struct pwb_error *err);

/* The group whose display name (its Linux name when it has none) equals
 * display_name without regard to ASCII case: what Okta and Entra look up
 * (filter displayName eq "...") before they create a group. One index
 * lookup when the group still has the name its display name gives, else a
 * walk. PWB_ENOTFOUND if none. */
int pwb_provision_group_find(struct pwb_txn *txn, const char *display_name, struct pwb_group *out,
			     struct pwb_error *err);

/* The pwb group named name (a valid Linux name), created with an allocated
 * gid if missing, with display_name (may be NULL: the name) as its display
 * name. *created says which; out (zeroed) receives the group.
 * PWB_EINVAL for a deny-listed name, PWB_ELOCAL for a name another source
 * owns, PWB_EUNAVAIL when that lookup failed. */
int pwb_provision_group_ensure(struct pwb_txn *txn, const char *name, const char *display_name,
			       struct pwb_group *out, bool *created, struct pwb_error *err);

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

/* JIT's group sync: claims[0..n) are group names as the IdP's groups
 * claim sends them ("Data Scientists"). Each resolves to the group of that
 * display name, else to pwb_provision_group_name's name (created when
 * missing); a claim that gives no valid name is skipped through skipped_cb
 * (with the claim escaped for logs, and why), never failing the sign-in.
 * Then as pwb_provision_user_groups_set with create_missing. */
int pwb_provision_claim_groups_set(struct pwb_txn *txn, const char *user_id,
				   const char *const *claims, size_t n,
				   pwb_provision_skip_cb skipped_cb, void *ctx, unsigned *added,
				   unsigned *removed, struct pwb_error *err);

#endif
