/* pwbd's admin operations on SCIM tokens: token.generate (pwbadm makes the
 * token and sends only its metadata and SHA-256: the token itself never
 * reaches pwbd), token.list, token.revoke. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "admin.h"
#include "store.h"

/* ---- token.generate {token: public form} -> {} ---- */

static int generate_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	const struct pwb_token *t = vctx;
	struct pwb_token old;
	int rc;

	rc = pwb_token_get(txn, t->name, &old, err);
	if (rc == 0)
		return pwb_error_set(err, PWB_EEXIST,
				     "a token named %s exists (revoke-token %s first)", t->name,
				     t->name);
	if (rc != PWB_ENOTFOUND)
		return rc;
	memset(err, 0, sizeof(*err));
	return pwb_token_put(txn, t, err);
}

int admin_token_generate(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	struct pwb_token t;
	int rc;

	rc = pwb_token_from_json(json_object_get(call->req->args, "token"), PWB_RECORD_STRICT, &t,
				 err);
	if (rc == 0)
		rc = pwb_store_write(call->st, generate_txn, &t, err);
	if (rc == 0 && !(*result = json_object()))
		rc = pwb_error_set(err, -ENOMEM, "out of memory");
	return rc;
}

/* ---- token.list -> {tokens: [...]} ---- */

static int list_one(const struct pwb_token *t, void *vctx)
{
	return json_array_append_new(vctx, pwb_token_to_json(t)) ? -ENOMEM : 0;
}

static int list_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	json_array_clear(vctx);
	return pwb_token_foreach(txn, list_one, vctx, err);
}

int admin_token_list(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	json_t *tokens = json_array();
	int rc;

	if (!tokens)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	rc = pwb_store_read(call->st, list_txn, tokens, err);
	if (rc < 0) {
		json_decref(tokens);
		return rc;
	}
	*result = json_pack("{s:o}", "tokens", tokens);
	return *result ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

/* ---- token.revoke {name | all} -> {count} ---- */

struct revoke_ctx {
	const char *name; /* NULL: all */
	char (*names)[PWB_TOKEN_NAME_MAX + 1];
	size_t count, capacity;
};

static int collect_name(const struct pwb_token *t, void *vctx)
{
	struct revoke_ctx *c = vctx;

	if (c->count == c->capacity) {
		size_t cap = c->capacity ? c->capacity * 2 : 16;
		void *p = reallocarray(c->names, cap, sizeof(*c->names));

		if (!p)
			return -ENOMEM;
		c->names = p;
		c->capacity = cap;
	}
	snprintf(c->names[c->count++], PWB_TOKEN_NAME_MAX + 1, "%s", t->name);
	return 0;
}

static int revoke_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct revoke_ctx *c = vctx;
	size_t i;
	int rc;

	if (c->name) {
		rc = pwb_token_delete(txn, c->name, err);
		if (rc == PWB_ENOTFOUND)
			return pwb_error_set(err, rc, "no token named %s", c->name);
		c->count = 1;
		return rc;
	}
	/* Collect first: deleting under an open cursor is not portable. */
	c->count = 0;
	rc = pwb_token_foreach(txn, collect_name, c, err);
	if (rc == -ENOMEM)
		return pwb_error_set(err, rc, "out of memory");
	for (i = 0; rc == 0 && i < c->count; i++)
		rc = pwb_token_delete(txn, c->names[i], err);
	return rc;
}

int admin_token_revoke(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	char name[PWB_NAME_MAX + 1];
	struct revoke_ctx c = {0};
	int rc;

	if (!admin_arg_bool(call->req->args, "all")) {
		if ((rc = admin_arg_name(call->req->args, "name", name, err)) < 0)
			return rc;
		c.name = name;
	}
	rc = pwb_store_write(call->st, revoke_txn, &c, err);
	if (rc == 0 && !(*result = json_pack("{s:I}", "count", (json_int_t)c.count)))
		rc = pwb_error_set(err, -ENOMEM, "out of memory");
	free(c.names);
	return rc;
}
