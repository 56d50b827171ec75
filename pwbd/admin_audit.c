/* pwbd's store.audit, for `pwbadm check`: whether the store verifies, and
 * the records its policy would refuse today or that cannot be read (each
 * named, the first few). The snapshot and identity checks use user.list and
 * group.list. Result {verify: null | "message", problems: {count, lines}}.
 * Also store.changes: the change log, searched for the audit trail. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "admin.h"
#include "names.h"

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

/* ---- store.changes -> {changes: [...], last, next} ----
 * The change log as pwbadm's audit trail: who (the actor), when, which
 * request, what (kind, op, id, name, the attributes changed, never values).
 * Arguments, all optional: after (forward, the entries after it) or reverse
 * with before (newest first, the entries before it; 0: the newest); limit;
 * the filter user, group, actor, since, until (unix seconds, until
 * exclusive). One request reads at most SCAN_MAX entries, so a search of a
 * long log never holds pwbd for long: next, when not 0, is where to go on
 * (the next request's after, or before when reverse). */

#define CHANGES_MAX 1000
#define SCAN_MAX    50000

static int add_change(const struct pwb_change_entry *e, void *vctx)
{
	return json_array_append_new(vctx, pwb_change_to_json(e)) ? -ENOMEM : 0;
}

struct changes_ctx {
	struct pwb_change_filter f;
	uint64_t from, last, next;
	bool reverse;
	size_t limit;
	json_t *changes;
};

static int changes_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct changes_ctx *c = vctx;

	json_array_clear(c->changes);
	c->last = pwb_store_change_seq(txn);
	return pwb_change_search(txn, &c->f, c->from, c->reverse, c->limit, SCAN_MAX, add_change,
				 c->changes, &c->next, err);
}

static int arg_int(json_t *args, const char *key, json_int_t min, json_int_t max, json_int_t *out,
		   struct pwb_error *err)
{
	json_t *v = json_object_get(args, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return pwb_error_set(err, PWB_EINVAL, "argument %s: an integer from %lld to %lld",
				     key, (long long)min, (long long)max);
	*out = json_integer_value(v);
	return 0;
}

static int arg_name(json_t *args, const char *key, const char **out, struct pwb_error *err)
{
	json_t *v = json_object_get(args, key);

	if (!v)
		return 0;
	if (!json_is_string(v) || !pwb_names_is_valid(json_string_value(v)))
		return pwb_error_set(err, PWB_EINVAL, "argument %s: not a valid name", key);
	*out = json_string_value(v);
	return 0;
}

static int changes_args(json_t *args, struct changes_ctx *c, struct pwb_error *err)
{
	static const char known[] = " after before reverse limit user group actor since until ";
	json_t *actor = json_object_get(args, "actor"), *reverse = json_object_get(args, "reverse");
	json_int_t after = 0, before = 0, limit = CHANGES_MAX, since = 0, until = 0;
	char word[32];
	const char *key;
	json_t *v;
	int r;

	/* strict: a filter this pwbd does not know must not be ignored */
	json_object_foreach(args, key, v)
	{
		snprintf(word, sizeof(word), " %s ", key);
		if (strlen(key) > 16 || !strstr(known, word)) {
			pwb_names_escape(key, word, sizeof(word));
			return pwb_error_set(err, PWB_EINVAL,
					     "store.changes: unknown argument \"%s\"", word);
		}
	}
	if ((r = arg_int(args, "after", 0, INT64_MAX, &after, err)) < 0 ||
	    (r = arg_int(args, "before", 0, INT64_MAX, &before, err)) < 0 ||
	    (r = arg_int(args, "limit", 1, CHANGES_MAX, &limit, err)) < 0 ||
	    (r = arg_int(args, "since", 0, INT64_MAX, &since, err)) < 0 ||
	    (r = arg_int(args, "until", 0, INT64_MAX, &until, err)) < 0 ||
	    (r = arg_name(args, "user", &c->f.user, err)) < 0 ||
	    (r = arg_name(args, "group", &c->f.group, err)) < 0)
		return r;
	if (reverse && !json_is_boolean(reverse))
		return pwb_error_set(err, PWB_EINVAL, "argument reverse: true or false");
	/* an actor kind or a token's or administrator's name */
	if (actor && (!json_is_string(actor) || json_string_length(actor) == 0 ||
		      json_string_length(actor) >= PWB_ACTOR_FIELD))
		return pwb_error_set(err, PWB_EINVAL, "argument actor: a kind or a name");
	c->f.actor = json_string_value(actor);
	c->reverse = json_is_true(reverse);
	c->from = (uint64_t)(c->reverse ? before : after);
	c->limit = (size_t)limit;
	c->f.since = since;
	c->f.until = until;
	return 0;
}

int admin_store_changes(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	struct changes_ctx c = {0};
	int rc;

	rc = changes_args(call->req->args, &c, err);
	if (rc < 0)
		return rc;
	if (!(c.changes = json_array()))
		return pwb_error_set(err, -ENOMEM, "out of memory");
	rc = pwb_store_read(call->st, changes_txn, &c, err);
	if (rc == 0 && !(*result = json_pack("{s:O, s:I, s:I}", "changes", c.changes, "last",
					     (json_int_t)c.last, "next", (json_int_t)c.next)))
		rc = pwb_error_set(err, -ENOMEM, "out of memory");
	json_decref(c.changes);
	return rc;
}
