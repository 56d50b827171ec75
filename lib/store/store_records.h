/* The one record codec: users, groups, tokens and retired ids as JSON.
 * Two forms of the same records:
 *  - the store's form (pwb_*_encode/decode): one compact JSON text per
 *    record, as kept in the database;
 *  - the public form (pwb_*_to_json/from_json): what pwbadm exports and
 *    imports and what pwbd's admin operations return ("type" and "id"
 *    included, absent optional text as null, a user's derived "bound").
 * from_json with PWB_RECORD_STRICT refuses unknown keys and wrong types,
 * with a message naming the record and the field. */
#ifndef PWB_STORE_RECORDS_H
#define PWB_STORE_RECORDS_H

#include <jansson.h>
#include "error.h"
#include "store.h"

/* Encoders return malloc'd JSON text or NULL on ENOMEM. Decoders fill a
 * zeroed record and return 0 or -EINVAL for a damaged record. */
char *pwb_user_encode(const struct pwb_user *u);
int pwb_user_decode(const char *id, const char *text, struct pwb_user *u);
char *pwb_group_encode(const struct pwb_group *g);
int pwb_group_decode(const char *id, const char *text, struct pwb_group *g);
char *pwb_token_encode(const struct pwb_token *t);
int pwb_token_decode(const char *text, struct pwb_token *t);

/* The one walk over the stored users ('u') or groups ('g'), in id order:
 * cb gets each decoded record (a struct pwb_user or pwb_group, valid during
 * the call), or NULL for a record that cannot be decoded. Its non-zero
 * return stops the walk and is returned. */
typedef int (*pwb_record_walk_cb)(char kind, const char *id, const void *record, void *ctx);
int pwb_records_walk(struct pwb_txn *txn, char kind, pwb_record_walk_cb cb, void *ctx,
		     struct pwb_error *err);

/* Calls cb(kind, id, NULL, message) for each user ('u') or group ('g')
 * record that does not decode, for the policy audit. */
int pwb_records_audit_damaged(struct pwb_txn *txn, char kind, pwb_audit_cb cb, void *ctx,
			      struct pwb_error *err);

/* ---- the public form ---- */

#define PWB_RECORD_TEXT_MAX 1024	  /* bytes of one text field */
#define PWB_IMPORT_LINE_MAX (1024 * 1024) /* bytes of one line of an export */

enum {
	PWB_RECORD_STRICT = 1 << 0, /* refuse unknown keys (else ignored) */
};

/* A user or group with "type" and "id"; a token's metadata only (never a
 * token). A group's members are the caller's to add ("members": names).
 * NULL on allocation failure. */
json_t *pwb_user_to_json(const struct pwb_user *u);
json_t *pwb_group_to_json(const struct pwb_group *g);
json_t *pwb_token_to_json(const struct pwb_token *t);
/* {"type":"retired","uids":[...],"gids":[...]}; takes its own references. */
json_t *pwb_retired_to_json(json_t *uids, json_t *gids);

/* Fills a zeroed record from the public form, validating every field:
 * names valid, ids lower-case UUIDs, id numbers in 1..2^32-2, times unix
 * seconds, text at most PWB_RECORD_TEXT_MAX bytes without NUL, gecos/home/
 * shell passwd fields (pwb_policy_passwd_field), home and shell absolute
 * when not empty, issuer and subject together, source manual/jit/scim.
 * "type" must match when present. Absent optional fields stay 0/NULL (the
 * caller sees which the object sets). *members (groups; may be NULL)
 * receives the validated "members" array (a new reference, or NULL).
 * Returns 0 or PWB_EINVAL ("user alice: field uid: not an id number",
 * "group staff: unknown field \"x\""), -ENOMEM. On failure the record is
 * cleared. */
int pwb_user_from_json(json_t *o, unsigned flags, struct pwb_user *u, struct pwb_error *err);
int pwb_group_from_json(json_t *o, unsigned flags, struct pwb_group *g, json_t **members,
			struct pwb_error *err);
int pwb_token_from_json(json_t *o, unsigned flags, struct pwb_token *t, struct pwb_error *err);
/* Validates a retired record; *uids and *gids borrow its arrays of ids. */
int pwb_retired_from_json(json_t *o, unsigned flags, json_t **uids, json_t **gids,
			  struct pwb_error *err);

/* An issuer or subject as the store keeps it: 1 to PWB_RECORD_IDENTITY_MAX
 * bytes, no control character (NULL is not one). */
#define PWB_RECORD_IDENTITY_MAX 1023
bool pwb_record_identity_ok(const char *s);

/* Whether a user is bound to an IdP identity (issuer and subject set), and
 * the binding as one word: "bound"; "pending" (the next sign-in binds it);
 * "unbound" (binds at sign-in only as the configuration allows). */
bool pwb_user_bound(const struct pwb_user *u);
const char *pwb_user_binding(const struct pwb_user *u);

#endif
