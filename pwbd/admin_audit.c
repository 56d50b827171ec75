/* pwbd's store.audit, for `pwbadm check`: whether the store verifies, and
 * the records its policy would refuse today or that cannot be read (each
 * named, the first few). The snapshot and identity checks use user.list and
 * group.list. Result {verify: null | "message", problems: {count, lines}}.
 * Also store.changes: the change log, for auditing who changed what. */
#include <errno.h>
#include <stdio.h>
#include "admin.h"

#define PROBLEMS_SHOWN 20

struct audit_ctx {
	uint64_t count;
	json_t *lines;
};

static int note_problem(char kind, const char *id, const char *name, const char *message,
			void *vctx)
{
	struct audit_ctx *a = vctx;
	char line[640];

	/* a damaged record has no name: its id is what delete-user takes */
	if (a->count++ < PROBLEMS_SHOWN) {
		snprintf(line, sizeof(line), "%s %s: %s",
			 kind == 'g'   ? "group"
			 : kind == 'm' ? "group mapping to"
				       : "user",
			 name ? name : id, message);
		if (json_array_append_new(a->lines, json_string(line)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int audit_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct audit_ctx *a = vctx;

	a->count = 0; /* the body may run again after a retry */
	json_array_clear(a->lines);
	return pwb_store_policy_audit(txn, note_problem, a, err);
}

int admin_store_audit(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	struct audit_ctx a = {0, json_array()};
	struct pwb_error verr = {0};
	json_t *verify;
	int rc;

	if (!a.lines)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	rc = pwb_store_verify(call->st, &verr);
	verify = rc < 0 ? json_string(pwb_error_text(&verr, rc)) : json_null();
	rc = pwb_store_read(call->st, audit_txn, &a, err);
	if (rc == 0 && !(*result = json_pack("{s:o, s:{s:I, s:O}}", "verify", verify, "problems",
					     "count", (json_int_t)a.count, "lines", a.lines)))
		rc = pwb_error_set(err, -ENOMEM, "out of memory");
	else if (rc < 0)
		json_decref(verify);
	json_decref(a.lines);
	return rc;
}

/* ---- store.changes {after, limit} -> {changes: [...], last} ----
 * The change log as pwbadm's audit trail: who (the actor), when, which
 * request, what (kind, op, id, name, the attributes changed, never values). */

#define CHANGES_MAX 1000

static int add_change(const struct pwb_change_entry *e, void *vctx)
{
	char kind[2] = {e->kind, '\0'};
	json_t *o = json_pack(
	    "{s:I, s:I, s:{s:s, s:s, s:s, s:s, s:I}, s:s, s:s, s:s, s:s, s:s, s:O?}", "seq",
	    (json_int_t)e->seq, "time", (json_int_t)e->time, "actor", "kind", e->actor.kind, "name",
	    e->actor.name, "service", e->actor.service, "rhost", e->actor.rhost, "uid",
	    (json_int_t)e->actor.uid, "requestId", e->request_id, "kind", kind, "op", e->op, "id",
	    e->id, "name", e->name, "changed", e->changed);

	return json_array_append_new(vctx, o) ? -ENOMEM : 0;
}

struct changes_ctx {
	uint64_t after, last;
	size_t limit;
	json_t *changes;
};

static int changes_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct changes_ctx *c = vctx;

	json_array_clear(c->changes);
	return pwb_change_foreach(txn, c->after, c->limit, add_change, c->changes, &c->last, err);
}

int admin_store_changes(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	json_t *args = call->req->args, *after = json_object_get(args, "after"),
	       *limit = json_object_get(args, "limit");
	struct changes_ctx c = {0, 0, CHANGES_MAX, json_array()};
	int rc;

	if (!c.changes)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if ((after && (!json_is_integer(after) || json_integer_value(after) < 0)) ||
	    (limit && (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
		       json_integer_value(limit) > CHANGES_MAX))) {
		json_decref(c.changes);
		return pwb_error_set(err, PWB_EINVAL,
				     "arguments after, limit: a sequence and 1 to %d entries",
				     CHANGES_MAX);
	}
	c.after = (uint64_t)json_integer_value(after);
	if (limit)
		c.limit = (size_t)json_integer_value(limit);
	rc = pwb_store_read(call->st, changes_txn, &c, err);
	if (rc == 0 &&
	    !(*result = json_pack("{s:O, s:I}", "changes", c.changes, "last", (json_int_t)c.last)))
		rc = pwb_error_set(err, -ENOMEM, "out of memory");
	json_decref(c.changes);
	return rc;
}
