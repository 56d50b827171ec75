/* MERGE SEAM (issue 12, branch i12-scim only): stand-ins for two store
 * functions that other branches implement, so that pwbadm links here.
 * pwb_store_policy_audit() comes from i12-store (lib/store_users.c),
 * pwb_user_bind() from i12-mkhome. Delete this file and its line in
 * pwbadm/Makefile.am when merging: the linker then reports a duplicate
 * definition for as long as both exist. */
#include "store.h"

int pwb_store_policy_audit(struct pwb_txn *txn, pwb_audit_cb cb, void *ctx, struct pwb_error *err)
{
	(void)txn;
	(void)cb;
	(void)ctx;
	return pwb_error_set(err, PWB_ESTORE, "the policy audit is not in this build");
}

int pwb_user_bind(struct pwb_txn *txn, const char *id, const char *issuer, const char *subject,
		  struct pwb_error *err)
{
	(void)txn;
	(void)id;
	(void)issuer;
	(void)subject;
	return pwb_error_set(err, PWB_ESTORE, "binding is not in this build");
}
