/* MERGE SEAM (issue 12, branch i12-scim only): a stand-in for the store
 * function that branch i12-store implements (lib/store_users.c), so that
 * pwbadm links here. Delete this file and its line in pwbadm/Makefile.am
 * when merging i12-store: the linker reports a duplicate definition for as
 * long as both exist. */
#include "store.h"

int pwb_store_policy_audit(struct pwb_txn *txn, pwb_audit_cb cb, void *ctx, struct pwb_error *err)
{
	(void)txn;
	(void)cb;
	(void)ctx;
	return pwb_error_set(err, PWB_ESTORE, "the policy audit is not in this build");
}
