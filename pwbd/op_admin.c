/* pwbd's admin operations (see ops.h): one op per pwbadm command, root
 * only, arguments and results as JSON in the record codec's public form
 * (store_records.h). The handlers live in admin_*.c by subject; this file
 * holds the table and what they share (arguments, damaged records). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "admin.h"
#include "names.h"
#include "util.h"

const struct pwbd_op pwbd_ops_admin[] = {
    {"user.list", PWBD_ROLE_ROOT, false, admin_user_list},
    {"user.show", PWBD_ROLE_ROOT, false, admin_user_show},
    {"user.add", PWBD_ROLE_ROOT, true, admin_user_add},
    {"user.lock", PWBD_ROLE_ROOT, true, admin_user_lock},
    {"user.unlock", PWBD_ROLE_ROOT, true, admin_user_unlock},
    {"user.delete", PWBD_ROLE_ROOT, true, admin_user_delete},
    {"user.groups.set", PWBD_ROLE_ROOT, true, admin_user_groups_set},
    {"user.rebind", PWBD_ROLE_ROOT, true, admin_user_rebind},
    {"group.list", PWBD_ROLE_ROOT, false, admin_group_list},
    {"group.map", PWBD_ROLE_ROOT, true, admin_group_map},
    {"group.unmap", PWBD_ROLE_ROOT, true, admin_group_unmap},
    {"group.maps", PWBD_ROLE_ROOT, false, admin_group_maps},
    {"token.generate", PWBD_ROLE_ROOT, true, admin_token_generate},
    {"token.list", PWBD_ROLE_ROOT, false, admin_token_list},
    {"token.revoke", PWBD_ROLE_ROOT, true, admin_token_revoke},
    {"snapshot.rebuild", PWBD_ROLE_ROOT, true, admin_snapshot_rebuild},
    {"store.export", PWBD_ROLE_ROOT, false, admin_store_export},
    {"store.import", PWBD_ROLE_ROOT, true, admin_store_import},
    {"store.audit", PWBD_ROLE_ROOT, false, admin_store_audit},
    {"store.changes", PWBD_ROLE_ROOT, false, admin_store_changes},
    {"store.status", PWBD_ROLE_ROOT, false, admin_store_status},
    {NULL, 0, false, NULL},
};

int admin_arg_name(json_t *args, const char *key, char out[PWB_NAME_MAX + 1], struct pwb_error *err)
{
	const char *s = json_string_value(json_object_get(args, key));

	if (!s || !pwb_names_is_valid(s))
		return pwb_error_set(err, PWB_EINVAL, "argument %s: not a valid name", key);
	snprintf(out, PWB_NAME_MAX + 1, "%s", s);
	return 0;
}

int admin_arg_text(json_t *args, const char *key, const char **out, struct pwb_error *err)
{
	json_t *v = json_object_get(args, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return pwb_error_set(err, PWB_EINVAL, "argument %s: not a string", key);
	*out = json_string_value(v);
	return 0;
}

bool admin_arg_bool(json_t *args, const char *key)
{
	return json_is_true(json_object_get(args, key));
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a) ?: "",
		      json_string_value(*(json_t *const *)b) ?: "");
}

int admin_strings_sort(json_t *array)
{
	size_t i, n = json_array_size(array);
	json_t **items = calloc(n + 1, sizeof(*items));

	if (!items)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(array, i));
	qsort(items, n, sizeof(*items), compare_strings);
	json_array_clear(array);
	for (i = 0; i < n; i++)
		json_array_append_new(array, items[i]);
	free(items);
	return 0;
}

int admin_page_init(struct admin_page *p, json_t *args, struct pwb_error *err)
{
	memset(p, 0, sizeof(*p));
	if (admin_arg_text(args, "after", &p->after, err) < 0)
		return err->code;
	if (p->after && !pwb_uuid_is_valid(p->after))
		return pwb_error_set(err, PWB_EINVAL, "argument after: not a record id");
	return 0;
}

int admin_page_skip(const struct admin_page *p, const char *id)
{
	return p->after && strcmp(id, p->after) <= 0;
}

bool admin_page_full(struct admin_page *p)
{
	/* the record at hand starts the next page */
	if (p->bytes >= ADMIN_PAGE_BYTES)
		p->full = true;
	return p->full;
}

int admin_page_add(struct admin_page *p, json_t *array, const char *id, json_t *record)
{
	if (!record)
		return -ENOMEM;
	p->bytes += json_dumpb(record, NULL, 0, JSON_COMPACT) + 2;
	snprintf(p->next, sizeof(p->next), "%s", id);
	return json_array_append_new(array, record) ? -ENOMEM : 0;
}

struct names_ctx {
	struct pwb_txn *txn;
	bool users; /* the ids are users' (else groups') */
	json_t *names;
};

static int add_name(const char *id, void *vctx)
{
	struct names_ctx *c = vctx;
	struct pwb_error err = {0};
	struct pwb_user u = {0};
	struct pwb_group g = {0};
	int rc;

	rc = c->users ? pwb_user_get(c->txn, id, &u, &err) : pwb_group_get(c->txn, id, &g, &err);
	if (rc == PWB_ENOTFOUND || rc == PWB_EDAMAGED)
		rc = 0;
	else if (rc == 0)
		rc = json_array_append_new(c->names, json_string(c->users ? u.name : g.name))
			 ? -ENOMEM
			 : 0;
	pwb_user_clear(&u);
	pwb_group_clear(&g);
	return rc;
}

static int names_of(struct pwb_txn *txn, const char *id, bool members, json_t **out,
		    struct pwb_error *err)
{
	struct names_ctx c = {txn, members, json_array()};
	int rc;

	*out = NULL;
	if (!c.names)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	rc = members ? pwb_member_foreach_user(txn, id, add_name, &c, err)
		     : pwb_member_foreach_group(txn, id, add_name, &c, err);
	if (rc == 0)
		rc = admin_strings_sort(c.names);
	if (rc < 0) {
		json_decref(c.names);
		if (!err->msg[0])
			pwb_error_set(err, rc, "%s", pwb_strerror(rc));
		return rc;
	}
	*out = c.names;
	return 0;
}

int admin_user_groups(struct pwb_txn *txn, const char *user_id, json_t **out, struct pwb_error *err)
{
	return names_of(txn, user_id, false, out, err);
}

int admin_group_members(struct pwb_txn *txn, const char *group_id, json_t **out,
			struct pwb_error *err)
{
	return names_of(txn, group_id, true, out, err);
}

/* ---- damaged records ---- */

struct damaged_ctx {
	json_t *records;
	uint64_t count, found;
};

static int note_damaged(char kind, const char *id, const char *name, const char *message,
			void *vctx)
{
	struct damaged_ctx *c = vctx;
	char k[2] = {kind, '\0'};

	(void)message;
	if (name) /* a record that decodes but breaks the policy: not this */
		return 0;
	if (json_array_size(c->records) < ADMIN_DAMAGED_SHOWN &&
	    json_array_append_new(c->records, json_pack("{s:s, s:s}", "kind", k, "id", id)) < 0)
		return -ENOMEM;
	/* every skipped record named: no need to audit the rest */
	return ++c->found >= c->count ? 1 : 0;
}

int admin_damaged(struct pwb_txn *txn, int64_t users_seen, int64_t groups_seen, json_t **out,
		  struct pwb_error *err)
{
	struct damaged_ctx c = {0};
	struct pwb_error aerr = {0};
	uint64_t n;
	int rc;

	*out = NULL;
	if (users_seen >= 0) {
		if ((rc = pwb_user_count(txn, &n, err)) < 0)
			return rc;
		c.count += n > (uint64_t)users_seen ? n - (uint64_t)users_seen : 0;
	}
	if (groups_seen >= 0) {
		if ((rc = pwb_group_count(txn, &n, err)) < 0)
			return rc;
		c.count += n > (uint64_t)groups_seen ? n - (uint64_t)groups_seen : 0;
	}
	c.records = json_array();
	if (!c.records)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	/* Naming them is a courtesy: the count stands without it (and a lost
	 * lock conflict marks the transaction, which is then retried). */
	if (c.count)
		(void)pwb_store_policy_audit(txn, note_damaged, &c, &aerr);
	*out = json_pack("{s:I, s:o}", "count", (json_int_t)c.count, "records", c.records);
	return *out ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}
