/* JIT registration, lock enforcement and group sync (see account.h), run
 * by pwbd. All of it runs in one write transaction so that a half-registered
 * user is never visible; group steps are provision.c's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "account.h"
#include "cleanup.h"
#include "log.h"
#include "names.h"
#include "other_sources.h"
#include "policy.h"
#include "provision.h"
#include "util.h"

/* Anything beyond this in a groups claim is ignored (with a log line). */
#define MAX_CLAIM_GROUPS 256
#define MAX_GECOS	 256
#define MAX_EMAIL	 254

struct account_ctx {
	const char *user;
	const struct pwb_claims *claims;
	const struct pwb_config *cfg;
	struct pwb_account_outcome out;
	bool decided;		   /* the body aborted on purpose: out says why */
	bool replica;		   /* deciding from the replica: the write could not run */
	char why_not_written[256]; /* then: the write's error */
};

/* Private abort code: the transaction decided to change nothing. */
#define ACCOUNT_ABORT PWB_ENOTFOUND

/* Why a claim group is skipped, in the log: the decision goes on. */
static void log_skipped_group(const char *name, const char *why, void *vctx)
{
	const struct account_ctx *c = vctx;
	char shown[160];

	pwb_names_escape(why, shown, sizeof(shown));
	pwb_log(LOG_NOTICE, "user %s: skipping group %s from claim: %s", c->user, name, shown);
}

/* Makes the user's pwb groups exactly the (valid, allowed) claim groups:
 * claims go to provision.c as sent; it maps them to Linux names (the group
 * of that display name, a pwbadm map-group mapping, the display-name rule)
 * and skips, through log_skipped_group, what gives no valid name. */
static int sync_groups(struct pwb_txn *txn, struct account_ctx *c, const char *user_id,
		       struct pwb_error *err)
{
	size_t n = c->claims->n_groups;

	if (n > MAX_CLAIM_GROUPS) {
		pwb_log(LOG_WARNING,
			"user %s: groups claim has %zu entries; only the first %d are used",
			c->user, n, MAX_CLAIM_GROUPS);
		n = MAX_CLAIM_GROUPS;
	}
	return pwb_provision_claim_groups_set(txn, user_id, (const char *const *)c->claims->groups,
					      n, log_skipped_group, c, &c->out.groups_added,
					      &c->out.groups_removed, err);
}

/* A copy of untrusted claim text fit for a passwd field (policy.h's
 * rule), at most max bytes. NULL or empty stays NULL. */
static char *passwd_field_copy(const char *in, size_t max)
{
	char *out;

	if (!in || !*in)
		return NULL;
	out = strndup(in, max);
	if (out)
		pwb_policy_passwd_field_clean(out);
	return out;
}

/* The body stops here on purpose, changing nothing: out says why. */
static int decide(struct account_ctx *c, enum pwb_account_result result)
{
	c->out.result = result;
	c->decided = true;
	return ACCOUNT_ABORT;
}

/* "issuer 'X' subject 'Y'", escaped: both come from a token or the store. */
static void describe_identity(const char *issuer, const char *subject, char *out, size_t len)
{
	char iss[200], sub[200];

	pwb_names_escape(issuer ? issuer : "(none)", iss, sizeof(iss));
	pwb_names_escape(subject ? subject : "(none)", sub, sizeof(sub));
	snprintf(out, len, "issuer '%s' subject '%s'", iss, sub);
}

static bool claims_have_identity(const struct pwb_claims *cl)
{
	return cl->issuer && *cl->issuer && cl->subject && *cl->subject;
}

/* Refuses (decided) a token without an identity, or one whose identity is
 * bound to an account other than self_id (NULL: a new account). */
static int check_subject_free(struct pwb_txn *txn, struct account_ctx *c, const char *self_id,
			      struct pwb_error *err)
{
	const struct pwb_claims *cl = c->claims;
	struct pwb_user other = {0};
	char presented[512];
	int r;

	describe_identity(cl->issuer, cl->subject, presented, sizeof(presented));
	if (!claims_have_identity(cl)) {
		snprintf(c->out.detail, sizeof(c->out.detail),
			 "the ID token names no issuer or subject (auth-openid-subject-claim): "
			 "%s",
			 presented);
		return decide(c, PWB_ACCOUNT_OTHER_IDENTITY);
	}
	r = pwb_user_get_by_subject(txn, cl->issuer, cl->subject, &other, err);
	if (r == 0 && (!self_id || strcmp(other.id, self_id) != 0)) {
		snprintf(c->out.detail, sizeof(c->out.detail),
			 "%s is already bound to the account %s", presented, other.name);
		pwb_user_clear(&other);
		return decide(c, PWB_ACCOUNT_SUBJECT_TAKEN);
	}
	pwb_user_clear(&other);
	return r == PWB_ENOTFOUND ? 0 : r;
}

static bool may_bind_at_sign_in(const struct account_ctx *c, const struct pwb_user *u)
{
	const char *domains = c->cfg->openid_username_domains;

	return u->bind_on_login || c->cfg->openid_bind_existing_users || (domains && *domains);
}

/* A known account signing in with claims: bound to exactly the token's
 * identity, or unbound and allowed to be bound now. */
static int check_identity(struct pwb_txn *txn, struct account_ctx *c, const struct pwb_user *u,
			  struct pwb_error *err)
{
	const struct pwb_claims *cl = c->claims;
	char presented[512], stored[512];
	int r;

	describe_identity(cl->issuer, cl->subject, presented, sizeof(presented));
	if (u->issuer || u->subject) {
		if (claims_have_identity(cl) && u->issuer && u->subject &&
		    strcmp(u->issuer, cl->issuer) == 0 && strcmp(u->subject, cl->subject) == 0)
			return 0;
		describe_identity(u->issuer, u->subject, stored, sizeof(stored));
		snprintf(c->out.detail, sizeof(c->out.detail),
			 "the account is bound to %s, but the ID token is from %s", stored,
			 presented);
		return decide(c, PWB_ACCOUNT_OTHER_IDENTITY);
	}
	r = check_subject_free(txn, c, u->id, err);
	if (r != 0)
		return r;
	if (!may_bind_at_sign_in(c, u)) {
		snprintf(c->out.detail, sizeof(c->out.detail),
			 "the account is not bound to an IdP identity yet (the ID token is from "
			 "%s); to bind it at this sign-in run `pwbadm rebind-user %s`, or set "
			 "auth-openid-bind-existing-users=1",
			 presented, c->user);
		return decide(c, PWB_ACCOUNT_UNBOUND);
	}
	if (c->replica)
		return pwb_error_set(err, PWB_EUNAVAIL,
				     "cannot bind %s to %s at this sign-in: %s; it can sign in "
				     "once the cluster database is back",
				     c->user, presented, c->why_not_written);
	r = pwb_user_bind(txn, u->id, cl->issuer, cl->subject, err);
	if (r < 0)
		return r;
	c->out.bound = true;
	snprintf(c->out.detail, sizeof(c->out.detail), "%s", presented);
	return 0;
}

static int register_user(struct pwb_txn *txn, struct account_ctx *c, struct pwb_user *u,
			 struct pwb_error *err)
{
	int r;

	r = check_subject_free(txn, c, NULL, err);
	if (r != 0)
		return r;
	snprintf(u->name, sizeof(u->name), "%s", c->user);
	u->source = PWB_SOURCE_JIT;
	u->active = true;
	u->gecos = passwd_field_copy(c->claims->name, MAX_GECOS);
	if (c->claims->email && strlen(c->claims->email) <= MAX_EMAIL)
		u->email = passwd_field_copy(c->claims->email, MAX_EMAIL);
	u->issuer = strdup(c->claims->issuer);
	u->subject = strdup(c->claims->subject);
	if (!u->issuer || !u->subject)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	/* uid, gid, home and shell left unset: the store allocates the uid
	 * and a private group, and applies user-homedir-path/NAME and
	 * user-provisioning-default-shell. */
	r = pwb_user_create(txn, u, err);
	if (r < 0)
		return pwb_error_prefix(err, "registering %s", c->user);
	describe_identity(u->issuer, u->subject, c->out.detail, sizeof(c->out.detail));
	return 0;
}

static bool may_register(const struct account_ctx *c, const char **why)
{
	if (!c->claims) {
		*why = "not signed in through pam_pwb_oidc (no claims), so only users created "
		       "by SCIM or pwbadm may sign in";
		return false;
	}
	if (!c->cfg->provisioning_enabled) {
		*why = "user-provisioning-enabled is off";
		return false;
	}
	if (!c->cfg->register_on_first_login) {
		*why = "user-provisioning-register-on-first-login is off";
		return false;
	}
	return true;
}

static int account_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct account_ctx *c = vctx;
	struct pwb_user u = {0};
	int r;

	/* The body may run again after a deadlock: start from nothing. */
	memset(&c->out, 0, sizeof(c->out));
	c->decided = false;
	c->out.from_replica = c->replica;

	r = pwb_user_get_by_name(txn, c->user, &u, err);
	if (r == PWB_ENOTFOUND) {
		pwb_user_clear(&u);
		r = pwb_other_source_user(c->user, err);
		if (r < 0)
			goto out;
		if (r > 0) {
			c->out.result = PWB_ACCOUNT_LOCAL;
			c->decided = true;
			r = ACCOUNT_ABORT;
			goto out;
		}
		if (!may_register(c, &c->out.why)) {
			c->out.result = PWB_ACCOUNT_UNKNOWN;
			c->decided = true;
			r = ACCOUNT_ABORT;
			goto out;
		}
		if (c->replica) {
			r = pwb_error_set(err, PWB_EUNAVAIL,
					  "cannot register new user %s on first sign-in: %s; no "
					  "new account can be created until the cluster database "
					  "is back",
					  c->user, c->why_not_written);
			goto out;
		}
		r = register_user(txn, c, &u, err);
		if (r < 0)
			goto out;
		c->out.result = PWB_ACCOUNT_REGISTERED;
	} else if (r < 0) {
		goto out;
	} else if (!u.active) {
		c->out.uid = u.uid;
		r = decide(c, PWB_ACCOUNT_LOCKED);
		goto out;
	} else {
		c->out.result = PWB_ACCOUNT_ACTIVE;
		c->out.uid = u.uid;
		if (c->claims && (r = check_identity(txn, c, &u, err)) != 0)
			goto out;
	}
	c->out.uid = u.uid;

	if (c->claims && c->cfg->provisioning_enabled && u.source == PWB_SOURCE_JIT) {
		if (c->replica) {
			/* nothing is written from a replica, so nothing half */
			c->out.groups_deferred = true;
			r = 0;
			goto out;
		}
		r = sync_groups(txn, c, u.id, err);
		if (r < 0)
			goto out;
	}
	if (c->replica) {
		r = 0;
		goto out;
	}
	r = pwb_user_touch_login(txn, u.id, pwb_now(), err);
	/* A repeat sign-in that changed nothing but the sign-in time does not
	 * wait for the disk: a crash may lose that time, nothing else. */
	if (r == 0 && c->out.result == PWB_ACCOUNT_ACTIVE && !c->out.bound &&
	    !c->out.groups_added && !c->out.groups_removed)
		pwb_txn_relax_durability(txn);
out:
	pwb_user_clear(&u);
	return r;
}

const char *pwb_account_result_name(enum pwb_account_result r)
{
	switch (r) {
	case PWB_ACCOUNT_ACTIVE:
		return "active";
	case PWB_ACCOUNT_REGISTERED:
		return "registered";
	case PWB_ACCOUNT_LOCKED:
		return "locked";
	case PWB_ACCOUNT_UNKNOWN:
		return "unknown";
	case PWB_ACCOUNT_LOCAL:
		return "local";
	case PWB_ACCOUNT_OTHER_IDENTITY:
		return "other_identity";
	case PWB_ACCOUNT_UNBOUND:
		return "unbound";
	case PWB_ACCOUNT_SUBJECT_TAKEN:
		return "subject_taken";
	}
	return "unknown";
}

/* A cluster host's write that cannot run now, so that the sign-in is
 * decided from the replica: the database cannot be reached, or this host
 * is a reader (compute node) that never writes. */
static bool write_impossible(const struct pwb_config *cfg, int r)
{
	if (!cfg || !pwb_config_cluster(cfg))
		return false;
	return r == PWB_EUNAVAIL ||
	       (r == PWB_EPERM && cfg->cluster_role && strcmp(cfg->cluster_role, "reader") == 0);
}

static void log_from_replica(const struct account_ctx *c)
{
	if (c->out.groups_deferred)
		pwb_log(LOG_WARNING,
			"user %s signs in from this host's replica (%s): the sync of their "
			"groups with the groups claim is deferred to a sign-in when the "
			"cluster database can be written",
			c->user, c->why_not_written);
	else
		pwb_log(LOG_NOTICE, "user %s: sign-in decided from this host's replica (%s)",
			c->user, c->why_not_written);
}

int pwb_account_check(struct pwb_store *st, const char *user, const struct pwb_claims *claims,
		      struct pwb_account_outcome *out, struct pwb_error *err)
{
	struct account_ctx c = {
	    .user = user,
	    .claims = claims,
	    .cfg = pwb_store_config(st),
	};
	int r;

	memset(out, 0, sizeof(*out));
	if (!pwb_names_is_valid(user))
		return pwb_error_set(err, PWB_EINVAL, "invalid user name");
	if (claims && strcmp(claims->username, user) != 0)
		return pwb_error_set(err, PWB_EINVAL, "claims are for another user than %s", user);
	r = pwb_store_write(st, account_txn, &c, err);
	if (!c.decided && write_impossible(c.cfg, r)) {
		snprintf(c.why_not_written, sizeof(c.why_not_written), "%s",
			 pwb_error_text(err, r));
		c.replica = true;
		r = pwb_store_read(st, account_txn, &c, err);
		if (r == 0 || c.decided)
			log_from_replica(&c);
	}
	if (c.decided) {
		*out = c.out;
		return 0;
	}
	if (r < 0)
		return r;
	*out = c.out;
	return 0;
}

const char *pwb_session_state_name(enum pwb_session_state s)
{
	switch (s) {
	case PWB_SESSION_ACTIVE:
		return "active";
	case PWB_SESSION_LOCKED:
		return "locked";
	case PWB_SESSION_GONE:
		return "gone";
	}
	return "gone";
}

void pwb_session_status_clear(struct pwb_session_status *s)
{
	free(s->home);
	json_decref(s->groups);
	memset(s, 0, sizeof(*s));
	s->state = PWB_SESSION_GONE;
}

struct status_ctx {
	const char *user;
	const uint32_t *uid;
	const char *issuer, *subject;
	struct pwb_session_status *out;
};

/* Collects a group id (pwb_member_foreach_group's callback). */
static int add_group_id(const char *id, void *vctx)
{
	return json_array_append_new(vctx, json_string(id)) < 0 ? -ENOMEM : 0;
}

/* The names of the groups whose ids are in ids (a group gone in between
 * is skipped). */
static int group_names(struct pwb_txn *txn, json_t *ids, json_t *names, struct pwb_error *err)
{
	json_t *id;
	size_t i;
	int r = 0;

	json_array_foreach(ids, i, id)
	{
		struct pwb_group g = {0};

		r = pwb_group_get(txn, json_string_value(id), &g, err);
		if (r == 0 && json_array_append_new(names, json_string(g.name)) < 0)
			r = pwb_error_set(err, -ENOMEM, "out of memory");
		pwb_group_clear(&g);
		if (r == PWB_ENOTFOUND)
			r = 0;
		if (r < 0)
			break;
	}
	return r;
}

static bool same_text(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static int status_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct status_ctx *c = vctx;
	struct pwb_session_status *o = c->out;
	struct pwb_user u = {0};
	json_t *ids = NULL;
	int r;

	/* The body may run again: start from nothing. */
	pwb_session_status_clear(o);
	r = pwb_user_get_by_name(txn, c->user, &u, err);
	if (r == PWB_ENOTFOUND) {
		pwb_user_clear(&u);
		return 0;
	}
	if (r < 0)
		goto out;
	if ((c->uid && u.uid != *c->uid) || !same_text(u.issuer, c->issuer) ||
	    !same_text(u.subject, c->subject))
		goto out;
	o->state = u.active ? PWB_SESSION_ACTIVE : PWB_SESSION_LOCKED;
	o->uid = u.uid;
	o->gid = u.gid;
	o->home = u.home ? strdup(u.home) : NULL;
	o->groups = json_array();
	if ((u.home && !o->home) || !o->groups) {
		r = pwb_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (u.active) {
		ids = json_array();
		r = ids ? pwb_member_foreach_group(txn, u.id, add_group_id, ids, err)
			: pwb_error_set(err, -ENOMEM, "out of memory");
		if (r == 0)
			r = group_names(txn, ids, o->groups, err);
	}
out:
	json_decref(ids);
	pwb_user_clear(&u);
	return r;
}

int pwb_account_session_status(struct pwb_store *st, const char *user, const uint32_t *uid,
			       const char *issuer, const char *subject,
			       struct pwb_session_status *out, struct pwb_error *err)
{
	struct status_ctx c = {user, uid, issuer, subject, out};
	int r;

	memset(out, 0, sizeof(*out));
	out->state = PWB_SESSION_GONE;
	if (!pwb_names_is_valid(user))
		return pwb_error_set(err, PWB_EINVAL, "invalid user name");
	r = pwb_store_read(st, status_txn, &c, err);
	if (r < 0)
		pwb_session_status_clear(out);
	return r;
}
