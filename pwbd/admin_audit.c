/* pwbd's store.audit, for `pwbadm check`: whether the store verifies, and
 * the records its policy would refuse today or that cannot be read (each
 * named, the first few). The snapshot and identity checks use user.list and
 * group.list. Result {verify: null | "message", problems: {count, lines}}. */
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
		snprintf(line, sizeof(line), "%s %s: %s", kind == 'g' ? "group" : "user",
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
