/* SCIM bearer tokens in the store: by name, with a hash index. Only
 * SHA-256 hashes are kept; the token itself is never stored. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "internal/store_internal.h"
#include "store.h"
#include "token.h"

static int valid_token_name(const char *name)
{
	return name && *name && strlen(name) <= PWB_TOKEN_NAME_MAX && pwb_names_is_valid(name);
}

/* A token's entry names it (id), never its hash. Last-used times are
 * bookkeeping, not changes: pwb_token_touch logs nothing, and its
 * transaction may lose the time in a crash (pwb_txn_relax_durability: no
 * log flush for it; a transaction that also logged a change still commits
 * durably). The SCIM service writes it at most once a minute per token
 * (PWB_SCIM_TOKEN_TOUCH_INTERVAL), so last use is known to the minute. */
static int log_token(struct pwb_txn *txn, const char *op, const char *name, struct pwb_error *err)
{
	struct pwb_change_entry change;

	pwb_change_init(&change, 't', op, name, "", 0);
	return pwb_change_append(txn, &change, err);
}

int pwb_token_put(struct pwb_txn *txn, const struct pwb_token *t, struct pwb_error *err)
{
	_cleanup_free_ char *text = NULL;
	int r;

	if (!valid_token_name(t->name))
		return pwb_error_set(err, PWB_EINVAL,
				     "token name must be a valid name ([a-z_][a-z0-9_.-]*)");
	if (strlen(t->hash) != PWB_HASH_HEX_LEN)
		return pwb_error_set(err, PWB_EINVAL, "token %s: bad hash", t->name);
	if (pwb_kv_exists(txn, DBI_TOKENS, t->name, strlen(t->name)))
		return pwb_error_set(err, PWB_EEXIST, "a token named '%s' exists", t->name);
	if (pwb_kv_exists(txn, DBI_TOKEN_HASH, t->hash, PWB_HASH_HEX_LEN))
		return pwb_error_set(err, PWB_EEXIST, "token %s: hash collision", t->name);
	text = pwb_token_encode(t);
	if (!text)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if ((r = pwb_kv_put(txn, DBI_TOKENS, t->name, strlen(t->name), text, strlen(text), err)) <
		0 ||
	    (r = pwb_kv_put(txn, DBI_TOKEN_HASH, t->hash, PWB_HASH_HEX_LEN, t->name,
			    strlen(t->name), err)) < 0)
		return r;
	return log_token(txn, "token-put", t->name, err);
}

int pwb_token_get(struct pwb_txn *txn, const char *name, struct pwb_token *out,
		  struct pwb_error *err)
{
	_cleanup_free_ char *text = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (!valid_token_name(name))
		return PWB_ENOTFOUND;
	r = pwb_kv_get(txn, DBI_TOKENS, name, strlen(name), &text, NULL, txn->write, err);
	if (r < 0)
		return r;
	if (pwb_token_decode(text, out) < 0)
		return pwb_error_set(err, PWB_ESTORE, "token %s: damaged record", name);
	return 0;
}

int pwb_token_get_by_hash(struct pwb_txn *txn, const char *hash_hex, struct pwb_token *out,
			  struct pwb_error *err)
{
	_cleanup_free_ char *name = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (!hash_hex || strlen(hash_hex) != PWB_HASH_HEX_LEN)
		return PWB_ENOTFOUND;
	r = pwb_kv_get(txn, DBI_TOKEN_HASH, hash_hex, PWB_HASH_HEX_LEN, &name, NULL, false, err);
	if (r < 0)
		return r;
	r = pwb_token_get(txn, name, out, err);
	/* The index found it; the caller still compares in constant time. */
	if (r == 0 && !pwb_token_hash_equal(out->hash, hash_hex))
		r = PWB_ENOTFOUND;
	return r;
}

int pwb_token_touch(struct pwb_txn *txn, const char *name, int64_t when, struct pwb_error *err)
{
	_cleanup_free_ char *text = NULL;
	struct pwb_token t;
	int r;

	r = pwb_token_get(txn, name, &t, err);
	if (r < 0)
		return r;
	t.last_used = when;
	pwb_txn_relax_durability(txn);
	text = pwb_token_encode(&t);
	if (!text)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return pwb_kv_put(txn, DBI_TOKENS, t.name, strlen(t.name), text, strlen(text), err);
}

int pwb_token_delete(struct pwb_txn *txn, const char *name, struct pwb_error *err)
{
	struct pwb_token t;
	int r;

	r = pwb_token_get(txn, name, &t, err);
	if (r < 0)
		return r;
	if ((r = pwb_kv_del(txn, DBI_TOKEN_HASH, t.hash, PWB_HASH_HEX_LEN, err)) < 0 ||
	    (r = pwb_kv_del(txn, DBI_TOKENS, t.name, strlen(t.name), err)) < 0)
		return r;
	return log_token(txn, "token-delete", t.name, err);
}

struct token_walk {
	pwb_token_cb cb;
	void *ctx;
};

static int token_walk_one(const void *key, size_t klen, const void *val, size_t vlen, void *ctx,
			  struct pwb_error *err)
{
	struct token_walk *w = ctx;
	_cleanup_free_ char *text = strndup(val, vlen);
	struct pwb_token t;

	if (!text)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if (pwb_token_decode(text, &t) < 0)
		return pwb_error_set(err, PWB_ESTORE, "tokens: damaged record");
	return w->cb(&t, w->ctx);
}

int pwb_token_foreach(struct pwb_txn *txn, pwb_token_cb cb, void *ctx, struct pwb_error *err)
{
	struct token_walk w = {cb, ctx};

	return pwb_kv_foreach(txn, DBI_TOKENS, token_walk_one, &w, err);
}
