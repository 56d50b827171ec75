/* Record encoding for the store (JSON text per record). Internal. */
#ifndef PWB_STORE_RECORDS_H
#define PWB_STORE_RECORDS_H

#include "store.h"

/* Encoders return malloc'd JSON text or NULL on ENOMEM. Decoders fill a
 * zeroed record and return 0 or -EINVAL for a damaged record. */
char *pwb_user_encode(const struct pwb_user *u);
int pwb_user_decode(const char *id, const char *text, struct pwb_user *u);
char *pwb_group_encode(const struct pwb_group *g);
int pwb_group_decode(const char *id, const char *text, struct pwb_group *g);
char *pwb_token_encode(const struct pwb_token *t);
int pwb_token_decode(const char *text, struct pwb_token *t);

/* Calls cb(kind, id, NULL, message) for each user ('u') or group ('g')
 * record that does not decode, for the policy audit. */
int pwb_records_audit_damaged(struct pwb_txn *txn, char kind, pwb_audit_cb cb, void *ctx,
			      struct pwb_error *err);

#endif
