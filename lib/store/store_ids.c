/* UID/GID allocation and retirement. Allocation runs inside the
 * writer's transaction (writers are serialised), skips ids used by the
 * store, by another NSS source or retired, never hands out reserved ids,
 * and fails instead of wrapping past the end of the range. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "names.h"
#include "other_sources.h"
#include "policy.h"
#include "internal/store_internal.h"
#include "util.h"

static bool retired(struct pwb_txn *txn, char kind, uint32_t id)
{
	char key[16];
	int n = snprintf(key, sizeof(key), "%c=%u", kind, id);

	return pwb_kv_exists(txn, DBI_RETIRED, key, (size_t)n);
}

bool pwb_store_uid_retired(struct pwb_txn *txn, uint32_t uid)
{
	return retired(txn, 'u', uid);
}

bool pwb_store_gid_retired(struct pwb_txn *txn, uint32_t gid)
{
	return retired(txn, 'g', gid);
}

int pwb_ids_retire(struct pwb_txn *txn, char kind, uint32_t id, struct pwb_error *err)
{
	char key[16];
	int n = snprintf(key, sizeof(key), "%c=%u", kind, id);

	return pwb_kv_put(txn, DBI_RETIRED, key, (size_t)n, "", 0, err);
}

int pwb_store_retire(struct pwb_txn *txn, char kind, uint32_t id, struct pwb_error *err)
{
	unsigned char key[4];

	if ((kind != 'u' && kind != 'g') || id == 0 || id == UINT32_MAX)
		return pwb_error_set(err, PWB_EINVAL, "cannot retire %c=%u", kind, id);
	pwb_be32(id, key);
	if (pwb_kv_exists(txn, kind == 'u' ? DBI_USER_UID : DBI_GROUP_GID, key, sizeof(key)))
		return pwb_error_set(err, PWB_EEXIST, "%s %u is in use, it cannot be retired",
				     kind == 'u' ? "uid" : "gid", id);
	return pwb_ids_retire(txn, kind, id, err);
}

struct retired_walk {
	pwb_retired_cb cb;
	void *ctx;
};

static int retired_walk_one(const void *key, size_t klen, const void *val, size_t vlen, void *ctx,
			    struct pwb_error *err)
{
	struct retired_walk *w = ctx;
	char buf[16];
	uint32_t id;

	if (klen < 3 || klen >= sizeof(buf))
		return 0;
	memcpy(buf, key, klen);
	buf[klen] = '\0';
	if ((buf[0] != 'u' && buf[0] != 'g') || buf[1] != '=' ||
	    pwb_parse_u32(buf + 2, 1, UINT32_MAX, &id) < 0)
		return 0;
	return w->cb(buf[0], id, w->ctx);
}

int pwb_store_retired_foreach(struct pwb_txn *txn, pwb_retired_cb cb, void *ctx,
			      struct pwb_error *err)
{
	struct retired_walk w = {cb, ctx};

	return pwb_kv_foreach(txn, DBI_RETIRED, retired_walk_one, &w, err);
}

static bool in_store(struct pwb_txn *txn, enum pwb_dbi idx, uint32_t id)
{
	unsigned char key[4];

	pwb_be32(id, key);
	return pwb_kv_exists(txn, idx, key, sizeof(key));
}

/* Why id cannot be a new user's uid (whose private group gets the same
 * number), or NULL if it can. A failed lookup in another source is a
 * reason too (*code PWB_EUNAVAIL, the message in err): fail closed. */
static const char *uid_unusable(struct pwb_txn *txn, uint32_t id, int *code, struct pwb_error *err)
{
	int r;

	*code = PWB_EEXIST;
	if (in_store(txn, DBI_USER_UID, id))
		return "is used by a pwb user";
	if (in_store(txn, DBI_GROUP_GID, id))
		return "is used as a pwb group's gid";
	if (retired(txn, 'u', id) || retired(txn, 'g', id))
		return "belonged to a deleted user or group and is retired";
	*code = PWB_ELOCAL;
	if ((r = pwb_other_source_uid(id, err)) != 0) {
		*code = r < 0 ? r : PWB_ELOCAL;
		return "is used by a local account";
	}
	if ((r = pwb_other_source_gid(id, NULL, 0, err)) != 0) {
		*code = r < 0 ? r : PWB_ELOCAL;
		return "is used by a local group";
	}
	return NULL;
}

static const char *gid_unusable(struct pwb_txn *txn, uint32_t id, int *code, struct pwb_error *err)
{
	int r;

	*code = PWB_EEXIST;
	if (in_store(txn, DBI_GROUP_GID, id))
		return "is used by a pwb group";
	/* A user's private group has gid = uid. */
	if (in_store(txn, DBI_USER_UID, id))
		return "is a pwb user's private group";
	if (retired(txn, 'g', id))
		return "belonged to a deleted group and is retired";
	if ((r = pwb_other_source_gid(id, NULL, 0, err)) != 0) {
		*code = r < 0 ? r : PWB_ELOCAL;
		return "is used by a local group";
	}
	return NULL;
}

static int alloc_id(struct pwb_txn *txn, bool user, uint32_t *out, struct pwb_error *err)
{
	const struct pwb_config *cfg = txn->st->cfg;
	const char *counter = user ? "next_uid" : "next_gid";
	uint32_t start = user ? cfg->start_uid : cfg->start_gid;
	uint32_t end = user ? cfg->end_uid : cfg->end_gid;
	uint64_t next, id;
	int r, code;

	/* Under the counter's lock until commit (backend.h). */
	r = pwb_be_counter_get(txn, counter, start, &next, err);
	if (r < 0)
		return r;
	/* The counter only moves forward; ids below it are used or retired. */
	if (next < start)
		next = start;
	for (id = next; id <= end; id++) {
		const char *why;

		if (pwb_id_reserved((uint32_t)id))
			continue;
		/* Another cluster host's local account (cluster.h: the report). */
		if (pwb_be_id_used_elsewhere(txn, 'u', (uint32_t)id) ||
		    pwb_be_id_used_elsewhere(txn, 'g', (uint32_t)id))
			continue;
		why = user ? uid_unusable(txn, (uint32_t)id, &code, err)
			   : gid_unusable(txn, (uint32_t)id, &code, err);
		if (txn->retry)
			return pwb_error_set(err, PWB_ESTORE, "deadlock (retried)");
		if (why && code == PWB_EUNAVAIL)
			return code; /* the lookup's message is in err */
		if (why)
			continue;
		*out = (uint32_t)id;
		return pwb_be_counter_set(txn, counter, id + 1, err);
	}
	return pwb_error_set(err, PWB_ENOIDS,
			     "no free %s left in %u-%u (raise %s or free ids; ids are never "
			     "reused)",
			     user ? "uid" : "gid", start, end,
			     user ? "user-provisioning-end-uid" : "group-provisioning-end-gid");
}

int pwb_ids_alloc_uid(struct pwb_txn *txn, uint32_t *out, struct pwb_error *err)
{
	return alloc_id(txn, true, out, err);
}

int pwb_ids_alloc_gid(struct pwb_txn *txn, uint32_t *out, struct pwb_error *err)
{
	return alloc_id(txn, false, out, err);
}

/* Explicit ids (SCIM uidNumber, pwbadm --uid) may lie outside the ranges
 * (identical ids on every host) but not in the system range below 1000
 * (or the configured start, if lower) nor among the reserved ones. */
static int check_explicit(struct pwb_txn *txn, bool user, uint32_t id, struct pwb_error *err)
{
	const struct pwb_config *cfg = txn->st->cfg;
	uint32_t floor = user ? cfg->start_uid : cfg->start_gid;
	const char *what = user ? "uid" : "gid";
	const char *why;
	int code;

	if (floor > 1000)
		floor = 1000;
	if (pwb_id_reserved(id) || id < floor)
		return pwb_error_set(err, PWB_EINVAL, "%s %u is reserved or in the system range",
				     what, id);
	why = user ? uid_unusable(txn, id, &code, err) : gid_unusable(txn, id, &code, err);
	if (why && code == PWB_EUNAVAIL)
		return code;
	if (why)
		return pwb_error_set(err, code, "%s %u %s", what, id, why);
	return 0;
}

int pwb_ids_check_uid(struct pwb_txn *txn, uint32_t uid, struct pwb_error *err)
{
	return check_explicit(txn, true, uid, err);
}

int pwb_ids_check_gid(struct pwb_txn *txn, uint32_t gid, struct pwb_error *err)
{
	return check_explicit(txn, false, gid, err);
}
