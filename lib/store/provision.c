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

/* The mapping's name or the rule's, before the deny list. */
static int mapped_or_derived(struct pwb_txn *txn, const char *display_name,
			     char out[PWB_NAME_MAX + 1], struct pwb_error *err)
{
	const struct pwb_config *cfg = pwb_store_config(pwb_txn_store(txn));
	struct pwb_group_map m = {0};
	int r;

	out[0] = '\0';
	r = pwb_group_map_get(txn, display_name, &m, err);
	if (r == 0)
		snprintf(out, PWB_NAME_MAX + 1, "%s", m.name);
	pwb_group_map_clear(&m);
	if (r == PWB_ENOTFOUND) {
		memset(err, 0, sizeof(*err));
		r = pwb_names_group_from_display(display_name, cfg->group_space_replacement[0], out,
						 err);
	}
	return r;
}

int pwb_provision_group_name(struct pwb_txn *txn, const char *display_name,
			     char out[PWB_NAME_MAX + 1], struct pwb_error *err)
{
	const struct pwb_config *cfg = pwb_store_config(pwb_txn_store(txn));
	int r = mapped_or_derived(txn, display_name, out, err);

	if (r == 0 && (r = pwb_policy_group_name(cfg, out, err)) < 0)
		pwb_error_prefix(err, "derived group name \"%s\"", out);
	if (r < 0)
		out[0] = '\0';
	return r;
}

struct display_find {
	const char *display;
	struct pwb_group *out;
	int r;
};

static int find_display(const struct pwb_group *g, void *vctx)
{
	struct display_find *f = vctx;

	if (!pwb_group_display_is(g, f->display))
		return 0;
	f->r = pwb_group_copy(f->out, g);
	return 1;
}

int pwb_provision_group_find(struct pwb_txn *txn, const char *display_name, struct pwb_group *out,
			     struct pwb_error *err)
{
	struct display_find f = {display_name, out, 0};
	struct pwb_error nerr = {0};
	char name[PWB_NAME_MAX + 1];
	int r;

	pwb_group_clear(out);
	if (!display_name || !*display_name || strlen(display_name) > PWB_GROUP_DISPLAY_MAX)
		return PWB_ENOTFOUND;
	if (pwb_provision_group_name(txn, display_name, name, &nerr) == 0) {
		r = pwb_group_get_by_name(txn, name, out, err);
		if (r == 0 && pwb_group_display_is(out, display_name))
			return 0;
		pwb_group_clear(out);
		if (r < 0 && r != PWB_ENOTFOUND)
			return r;
	}
	/* Renamed display names and names no rule gives: walk. */
	r = pwb_group_foreach(txn, find_display, &f, err);
	if (r < 0)
		return r;
	if (f.r < 0)
		return pwb_error_set(err, f.r, "out of memory");
	return r == 1 ? 0 : PWB_ENOTFOUND;
}

int pwb_provision_group_ensure(struct pwb_txn *txn, const char *name, const char *display_name,
			       struct pwb_group *out, bool *created, struct pwb_error *err)
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
	if (display_name && strcmp(display_name, name) != 0 &&
	    !(out->display_name = strdup(display_name)))
		return pwb_error_set(err, -ENOMEM, "out of memory");
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
static int wanted_group(struct pwb_txn *txn, const char *name, const char *display,
			bool create_missing, pwb_provision_skip_cb skipped_cb, void *ctx,
			struct pwb_group *g, struct pwb_error *err)
{
	const struct pwb_config *cfg = pwb_store_config(pwb_txn_store(txn));
	struct pwb_error nerr = {0};
	bool created;
	int r;

	if (create_missing) {
		r = pwb_provision_group_ensure(txn, name, display, g, &created, &nerr);
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

static int add_wanted(struct pwb_txn *txn, const char *user_id, const char *const *names,
		      const char *const *displays, size_t n, bool create_missing,
		      pwb_provision_skip_cb skipped_cb, void *ctx, struct id_list *wanted,
		      unsigned *added, struct pwb_error *err)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		struct pwb_group g = {0};

		r = wanted_group(txn, names[i], displays ? displays[i] : NULL, create_missing,
				 skipped_cb, ctx, &g, err);
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

/* names[i] (Linux names) with displays[i] (NULL: none) for groups created. */
static int groups_set(struct pwb_txn *txn, const char *user_id, const char *const *names,
		      const char *const *displays, size_t n, bool create_missing,
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
	r = add_wanted(txn, user_id, names, displays, n, create_missing, skipped_cb, ctx, &wanted,
		       &n_added, err);
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

int pwb_provision_user_groups_set(struct pwb_txn *txn, const char *user_id,
				  const char *const *names, size_t n, bool create_missing,
				  pwb_provision_skip_cb skipped_cb, void *ctx, unsigned *added,
				  unsigned *removed, struct pwb_error *err)
{
	return groups_set(txn, user_id, names, NULL, n, create_missing, skipped_cb, ctx, added,
			  removed, err);
}

/* A claim's Linux name: its group's, else the mapping's or the rule's.
 * 1: skipped (reported), 0: out set, <0: failure. */
static int claim_name(struct pwb_txn *txn, const char *claim, pwb_provision_skip_cb skipped_cb,
		      void *ctx, char out[PWB_NAME_MAX + 1], struct pwb_error *err)
{
	struct pwb_group g = {0};
	struct pwb_error nerr = {0};
	char shown[PWB_GROUP_DISPLAY_MAX + 8];
	int r = pwb_provision_group_find(txn, claim, &g, err);

	if (r == 0)
		snprintf(out, PWB_NAME_MAX + 1, "%s", g.name);
	pwb_group_clear(&g);
	if (r != PWB_ENOTFOUND)
		return r;
	memset(err, 0, sizeof(*err));
	/* The deny list and local names are ensure's to refuse (and report
	 * by the Linux name, as ever). */
	r = mapped_or_derived(txn, claim, out, &nerr);
	if (r == 0)
		return 0;
	if (r != PWB_EINVAL) {
		*err = nerr;
		return r;
	}
	pwb_names_escape(claim, shown, sizeof(shown));
	if (skipped_cb)
		skipped_cb(shown, nerr.msg, ctx);
	return 1;
}

int pwb_provision_claim_groups_set(struct pwb_txn *txn, const char *user_id,
				   const char *const *claims, size_t n,
				   pwb_provision_skip_cb skipped_cb, void *ctx, unsigned *added,
				   unsigned *removed, struct pwb_error *err)
{
	_cleanup_free_ char(*names)[PWB_NAME_MAX + 1] = calloc(n + 1, sizeof(*names));
	_cleanup_free_ const char **ptrs = calloc(n + 1, sizeof(*ptrs));
	_cleanup_free_ const char **displays = calloc(n + 1, sizeof(*displays));
	size_t i, k = 0;
	int r;

	if (!names || !ptrs || !displays)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		r = claim_name(txn, claims[i], skipped_cb, ctx, names[k], err);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		ptrs[k] = names[k];
		displays[k] = claims[i];
		k++;
	}
	return groups_set(txn, user_id, ptrs, displays, k, true, skipped_cb, ctx, added, removed,
			  err);
}
