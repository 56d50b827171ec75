/* Provisioning steps shared by sign-in (JIT), SCIM and pwbadm (see
 * provision.h): the one "ensure a group" and the one "make a user's pwb
 * groups exactly these". The store's own rules (deny list, names other
 * sources own, uniqueness, id allocation) decide; this file only chains
 * them and decides what to skip. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "log.h"
#include "names.h"
#include "policy.h"
#include "provision.h"

int pwb_provision_group_ensure(struct pwb_txn *txn, const char *name, struct pwb_group *out,
			       bool *created, struct pwb_error *err)
{
	const struct pwb_config *cfg = pwb_store_config(pwb_txn_store(txn));
	int r;

	*created = false;
	pwb_group_clear(out);
	if (!pwb_names_is_valid(name))
		return pwb_error_set(err, PWB_EINVAL, "invalid group name");
	/* Before the store lookup: a deny-listed group is never handed out,
	 * even one that an older version let into the store. */
	r = pwb_policy_group_name(cfg, name, err);
	if (r < 0)
		return r;
	r = pwb_group_get_by_name(txn, name, out, err);
	if (r != PWB_ENOTFOUND)
		return r;
	memset(err, 0, sizeof(*err));
	pwb_group_clear(out);
	snprintf(out->name, sizeof(out->name), "%s", name);
	/* The store refuses a name another source owns (PWB_ELOCAL) and
	 * fails closed when that lookup fails (PWB_EUNAVAIL). */
	r = pwb_group_create(txn, out, err);
	if (r < 0) {
		pwb_group_clear(out);
		return r;
	}
	*created = true;
	return 0;
}

struct id_list {
	char (*ids)[PWB_ID_LEN + 1];
	size_t n, cap;
};

static void id_list_free(struct id_list *l)
{
	free(l->ids);
}

static int id_list_add(struct id_list *l, const char *id)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *grown = realloc(l->ids, cap * sizeof(*l->ids));

		if (!grown)
			return -ENOMEM;
		l->ids = grown;
		l->cap = cap;
	}
	snprintf(l->ids[l->n++], PWB_ID_LEN + 1, "%s", id);
	return 0;
}

static bool id_list_has(const struct id_list *l, const char *id)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->ids[i], id))
			return true;
	return false;
}

static int collect_id(const char *id, void *ctx)
{
	return id_list_add(ctx, id);
}

/* A skip the caller hears about; a failure worth more than a skip is
 * returned. 1: skipped, 0: *g is the group, <0: failure. */
static int wanted_group(struct pwb_txn *txn, const char *name, bool create_missing,
			pwb_provision_skip_cb skipped_cb, void *ctx, struct pwb_group *g,
			struct pwb_error *err)
{
	const struct pwb_config *cfg = pwb_store_config(pwb_txn_store(txn));
	struct pwb_error nerr = {0};
	bool created;
	int r;

	if (create_missing) {
		r = pwb_provision_group_ensure(txn, name, g, &created, &nerr);
		if (r == 0 && created)
			pwb_log(LOG_INFO, "created group %s (gid %u) for a user's group list", name,
				g->gid);
	} else {
		r = pwb_policy_group_name(cfg, name, &nerr);
		if (r == 0)
			r = pwb_group_get_by_name(txn, name, g, &nerr);
		if (r == PWB_ENOTFOUND)
			pwb_error_set(&nerr, r, "no such pwb group");
	}
	if (r == 0)
		return 0;
	if (r == PWB_EINVAL || r == PWB_ELOCAL || r == PWB_EEXIST || r == PWB_ENOIDS ||
	    r == PWB_ENOTFOUND) {
		if (skipped_cb)
			skipped_cb(name, pwb_error_text(&nerr, r), ctx);
		return 1;
	}
	*err = nerr;
	return r;
}

static int add_wanted(struct pwb_txn *txn, const char *user_id, const char *const *names, size_t n,
		      bool create_missing, pwb_provision_skip_cb skipped_cb, void *ctx,
		      struct id_list *wanted, unsigned *added, struct pwb_error *err)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		struct pwb_group g = {0};

		r = wanted_group(txn, names[i], create_missing, skipped_cb, ctx, &g, err);
		if (r == 0 && !id_list_has(wanted, g.id)) {
			r = id_list_add(wanted, g.id);
			if (r == 0 && !pwb_member_is(txn, g.id, user_id)) {
				r = pwb_member_add(txn, g.id, user_id, err);
				if (r == 0)
					(*added)++;
			}
		}
		pwb_group_clear(&g);
		if (r < 0)
			return r == -ENOMEM ? pwb_error_set(err, r, "out of memory") : r;
	}
	return 0;
}

int pwb_provision_user_groups_set(struct pwb_txn *txn, const char *user_id,
				  const char *const *names, size_t n, bool create_missing,
				  pwb_provision_skip_cb skipped_cb, void *ctx, unsigned *added,
				  unsigned *removed, struct pwb_error *err)
{
	_cleanup_(id_list_free) struct id_list wanted = {0};
	_cleanup_(id_list_free) struct id_list current = {0};
	unsigned n_added = 0, n_removed = 0;
	size_t i;
	int r;

	if (added)
		*added = 0;
	if (removed)
		*removed = 0;
	r = add_wanted(txn, user_id, names, n, create_missing, skipped_cb, ctx, &wanted, &n_added,
		       err);
	if (r < 0)
		return r;
	r = pwb_member_foreach_group(txn, user_id, collect_id, &current, err);
	if (r < 0)
		return r;
	for (i = 0; i < current.n; i++) {
		if (id_list_has(&wanted, current.ids[i]))
			continue;
		r = pwb_member_remove(txn, current.ids[i], user_id, err);
		if (r < 0)
			return r;
		n_removed++;
	}
	if (added)
		*added = n_added;
	if (removed)
		*removed = n_removed;
	return 0;
}
