/* The backend contract's calls (backend.h), dispatched through the
 * store's operations table: Berkeley DB (pwb_bdb_ops) unless the store was
 * opened on a loaded backend object (cluster.c: PostgreSQL). */
#include "backend.h"
#include "internal/store_types.h"

static const struct pwb_backend_ops *ops_of(const struct pwb_store *st)
{
	return st->ops ? st->ops : &pwb_bdb_ops;
}

int pwb_be_open(struct pwb_store *st, struct pwb_error *err)
{
	return ops_of(st)->open(st, err);
}

void pwb_be_close(struct pwb_store *st)
{
	ops_of(st)->close(st);
}

int pwb_be_verify(struct pwb_store *st, struct pwb_error *err)
{
	return ops_of(st)->verify(st, err);
}

int pwb_be_begin(struct pwb_txn *txn, bool write, struct pwb_error *err)
{
	return ops_of(txn->st)->begin(txn, write, err);
}

int pwb_be_commit(struct pwb_txn *txn, struct pwb_error *err)
{
	return ops_of(txn->st)->commit(txn, err);
}

void pwb_be_abort(struct pwb_txn *txn)
{
	ops_of(txn->st)->abort(txn);
}

bool pwb_be_should_retry(const struct pwb_txn *txn)
{
	return ops_of(txn->st)->should_retry(txn);
}

int pwb_be_repair(struct pwb_store *st, struct pwb_error *err)
{
	return ops_of(st)->repair(st, err);
}

int pwb_kv_get(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen, char **val,
	       size_t *vlen, bool for_update, struct pwb_error *err)
{
	return ops_of(txn->st)->kv_get(txn, dbi, key, klen, val, vlen, for_update, err);
}

int pwb_kv_put(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen, const void *val,
	       size_t vlen, struct pwb_error *err)
{
	return ops_of(txn->st)->kv_put(txn, dbi, key, klen, val, vlen, err);
}

int pwb_kv_del(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
	       struct pwb_error *err)
{
	return ops_of(txn->st)->kv_del(txn, dbi, key, klen, err);
}

bool pwb_kv_exists(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen)
{
	return ops_of(txn->st)->kv_exists(txn, dbi, key, klen);
}

int pwb_kv_foreach(struct pwb_txn *txn, enum pwb_dbi dbi, pwb_kv_cb cb, void *ctx,
		   struct pwb_error *err)
{
	return ops_of(txn->st)->kv_foreach(txn, dbi, cb, ctx, err);
}

int pwb_kv_count(struct pwb_txn *txn, enum pwb_dbi dbi, uint64_t *count, struct pwb_error *err)
{
	return ops_of(txn->st)->kv_count(txn, dbi, count, err);
}

int pwb_kv_del_by_value(struct pwb_txn *txn, enum pwb_dbi dbi, const void *val, size_t vlen,
			pwb_kv_key_cb cb, void *ctx, struct pwb_error *err)
{
	return ops_of(txn->st)->kv_del_by_value(txn, dbi, val, vlen, cb, ctx, err);
}

int pwb_kv_dup_del(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		   const void *val, size_t vlen, struct pwb_error *err)
{
	return ops_of(txn->st)->dup_del(txn, dbi, key, klen, val, vlen, err);
}

bool pwb_kv_dup_exists(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		       const void *val, size_t vlen)
{
	return ops_of(txn->st)->dup_exists(txn, dbi, key, klen, val, vlen);
}

int pwb_kv_dup_foreach(struct pwb_txn *txn, enum pwb_dbi dbi, const void *key, size_t klen,
		       pwb_id_cb cb, void *ctx, struct pwb_error *err)
{
	return ops_of(txn->st)->dup_foreach(txn, dbi, key, klen, cb, ctx, err);
}

int pwb_be_counter_get(struct pwb_txn *txn, const char *name, uint64_t def, uint64_t *out,
		       struct pwb_error *err)
{
	return ops_of(txn->st)->counter_get(txn, name, def, out, err);
}

int pwb_be_counter_set(struct pwb_txn *txn, const char *name, uint64_t value, struct pwb_error *err)
{
	return ops_of(txn->st)->counter_set(txn, name, value, err);
}

int pwb_be_change_append(struct pwb_txn *txn, const void *rec, size_t len, const char *request_id,
			 uint64_t *seq, struct pwb_error *err)
{
	return ops_of(txn->st)->change_append(txn, rec, len, request_id, seq, err);
}

int pwb_be_change_foreach(struct pwb_txn *txn, uint64_t after, size_t limit, pwb_be_change_cb cb,
			  void *ctx, struct pwb_error *err)
{
	return ops_of(txn->st)->change_foreach(txn, after, limit, cb, ctx, err);
}

int pwb_be_change_foreach_back(struct pwb_txn *txn, uint64_t before, size_t limit,
			       pwb_be_change_cb cb, void *ctx, struct pwb_error *err)
{
	return ops_of(txn->st)->change_foreach_back(txn, before, limit, cb, ctx, err);
}

int pwb_be_change_last(struct pwb_txn *txn, uint64_t *seq, struct pwb_error *err)
{
	return ops_of(txn->st)->change_last(txn, seq, err);
}

int pwb_be_change_first(struct pwb_txn *txn, uint64_t *seq, struct pwb_error *err)
{
	return ops_of(txn->st)->change_first(txn, seq, err);
}

int pwb_be_change_by_request(struct pwb_txn *txn, const char *request_id, uint64_t *seq,
			     struct pwb_error *err)
{
	return ops_of(txn->st)->change_by_request(txn, request_id, seq, err);
}

int pwb_be_change_trim(struct pwb_txn *txn, uint64_t upto, struct pwb_error *err)
{
	return ops_of(txn->st)->change_trim(txn, upto, err);
}

int pwb_be_change_put(struct pwb_txn *txn, uint64_t seq, const void *rec, size_t len,
		      struct pwb_error *err)
{
	return ops_of(txn->st)->change_put(txn, seq, rec, len, err);
}

int pwb_be_change_replace(struct pwb_txn *txn, uint64_t seq, const void *rec, size_t len,
			  struct pwb_error *err)
{
	return ops_of(txn->st)->change_replace(txn, seq, rec, len, err);
}

bool pwb_be_id_used_elsewhere(struct pwb_txn *txn, char kind, uint32_t id)
{
	const struct pwb_backend_ops *ops = ops_of(txn->st);

	return ops->id_used_elsewhere && ops->id_used_elsewhere(txn, kind, id);
}
