/* pwbd's user.rebind: the administrator's deliberate change of which IdP
 * identity (issuer, subject) an account belongs to: unbind one user (the
 * next sign-in binds it), bind one to a known subject, or move every bound
 * account to a new issuer. Each form is one transaction.
 * Args {name, issuer, subject} or {all: true, issuer, from}; result
 * {changes: [{name, oldIssuer, oldSubject, subject}], unchanged}. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "admin.h"
#include "store.h"

struct rebind_ctx {
	const char *name;    /* one user; NULL with --all */
	const char *issuer;  /* new issuer; NULL: unbind */
	const char *subject; /* new subject (one user) */
	const char *from;    /* --all: only users bound at this issuer */
	json_t *changes;     /* what the transaction did */
	size_t unchanged;
};

static int note_change(struct rebind_ctx *c, const struct pwb_user *u)
{
	json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o}", "id", u->id, "name", u->name,
			      "oldIssuer", u->issuer ? json_string(u->issuer) : json_null(),
			      "oldSubject", u->subject ? json_string(u->subject) : json_null(),
			      "subject", u->subject ? json_string(u->subject) : json_null());

	return json_array_append_new(c->changes, o) ? -ENOMEM : 0;
}

static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* --all: note every bound user the migration moves (binding inside the
 * walk would write to the table being walked). */
static int collect_bound(const struct pwb_user *u, void *vctx)
{
	struct rebind_ctx *c = vctx;

	if (!pwb_user_bound(u))
		return 0;
	if (same(u->issuer, c->issuer)) {
		c->unchanged++;
		return 0;
	}
	if (c->from && !same(u->issuer, c->from))
		return 0;
	return note_change(c, u);
}

static int rebind_all_txn(struct pwb_txn *txn, struct rebind_ctx *c, struct pwb_error *err)
{
	json_t *ch;
	size_t i;
	int rc;

	rc = pwb_user_foreach(txn, collect_bound, c, err);
	if (rc == -ENOMEM)
		return pwb_error_set(err, rc, "out of memory");
	json_array_foreach(c->changes, i, ch)
	{
		if (rc < 0)
			break;
		rc = pwb_user_bind(txn, json_string_value(json_object_get(ch, "id")), c->issuer,
				   json_string_value(json_object_get(ch, "subject")), err);
		if (rc < 0)
			pwb_error_prefix(err, "user %s",
					 json_string_value(json_object_get(ch, "name")));
	}
	return rc;
}

static int rebind_one_txn(struct pwb_txn *txn, struct rebind_ctx *c, struct pwb_error *err)
{
	struct pwb_user u = {0};
	int rc;

	rc = pwb_user_get_by_name(txn, c->name, &u, err);
	if (rc == PWB_ENOTFOUND)
		rc = pwb_error_set(err, rc, "no user named %s", c->name);
	/* Unbinding a user from before bindings (unbound, not pending) makes it
	 * pending: its next sign-in binds it, whatever pwb.conf allows. */
	if (rc == 0 && ((!c->issuer && !pwb_user_bound(&u) && u.bind_on_login) ||
			(same(u.issuer, c->issuer) && same(u.subject, c->subject))))
		c->unchanged++;
	else if (rc == 0 && (rc = note_change(c, &u)) == 0)
		rc = pwb_user_bind(txn, u.id, c->issuer, c->subject, err);
	if (rc == -ENOMEM && !err->msg[0])
		pwb_error_set(err, rc, "out of memory");
	pwb_user_clear(&u);
	return rc;
}

static int rebind_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct rebind_ctx *c = vctx;

	json_array_clear(c->changes); /* the body may run again after a retry */
	c->unchanged = 0;
	return c->name ? rebind_one_txn(txn, c, err) : rebind_all_txn(txn, c, err);
}

static bool identity_ok(const char *s)
{
	return !s || pwb_record_identity_ok(s);
}

int admin_user_rebind(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	json_t *args = call->req->args;
	char name[PWB_NAME_MAX + 1];
	struct rebind_ctx c = {0};
	int rc;

	if ((rc = admin_arg_text(args, "issuer", &c.issuer, err)) < 0 ||
	    (rc = admin_arg_text(args, "subject", &c.subject, err)) < 0 ||
	    (rc = admin_arg_text(args, "from", &c.from, err)) < 0)
		return rc;
	if (!identity_ok(c.issuer) || !identity_ok(c.subject) || !identity_ok(c.from) ||
	    (c.issuer && strncmp(c.issuer, "https://", 8) != 0) || (c.subject && !c.issuer))
		return pwb_error_set(err, PWB_EINVAL, "not a valid issuer and subject");
	if (!admin_arg_bool(args, "all")) {
		if ((rc = admin_arg_name(args, "name", name, err)) < 0)
			return rc;
		c.name = name;
	} else if (!c.issuer || c.subject) {
		return pwb_error_set(err, PWB_EINVAL, "all needs an issuer and no subject");
	}
	c.changes = json_array();
	if (!c.changes)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	rc = pwb_store_write(call->st, rebind_txn, &c, err);
	if (rc == 0 && !(*result = json_pack("{s:O, s:I}", "changes", c.changes, "unchanged",
					     (json_int_t)c.unchanged)))
		rc = pwb_error_set(err, -ENOMEM, "out of memory");
	json_decref(c.changes);
	return rc;
}
