/* JIT registration, lock enforcement and group sync (see account.h). All
 * of it runs in one write transaction so that concurrent first sign-ins
 * get distinct uids and a half-registered user is never visible. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include "account.h"
#include "cleanup.h"
#include "log.h"
#include "policy.h"
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
	bool decided; /* the body aborted on purpose: out says why */
};

/* Private abort code: the transaction decided to change nothing. */
#define ACCOUNT_ABORT PWB_ENOTFOUND

/* Does NSS (files, sssd, ... and nss_pwb) know this name? */
static int nss_user_exists(const char *name, bool *exists)
{
	struct passwd pw, *res = NULL;
	size_t len = 1024;
	int r;

	*exists = false;
	for (;;) {
		_cleanup_free_ char *buf = malloc(len);

		if (!buf)
			return -ENOMEM;
		r = getpwnam_r(name, &pw, buf, len, &res);
		if (r == ERANGE && len < (1u << 20)) {
			len *= 2;
			continue;
		}
		if (r != 0 && r != ENOENT && r != ESRCH)
			return -r;
		*exists = res != NULL;
		return 0;
	}
}

static int nss_group_exists(const char *name, bool *exists)
{
	struct group gr, *res = NULL;
	size_t len = 4096;
	int r;

	*exists = false;
	for (;;) {
		_cleanup_free_ char *buf = malloc(len);

		if (!buf)
			return -ENOMEM;
		r = getgrnam_r(name, &gr, buf, len, &res);
		if (r == ERANGE && len < (1u << 22)) {
			len *= 2;
			continue;
		}
		if (r != 0 && r != ENOENT && r != ESRCH)
			return -r;
		*exists = res != NULL;
		return 0;
	}
}

/* A copy of untrusted claim text fit for a passwd field: no control
 * characters, no ':' (field separator), bounded length. NULL stays NULL. */
static char *passwd_safe_copy(const char *in, size_t max)
{
	size_t i, n;
	char *out;

	if (!in || !*in)
		return NULL;
	n = strnlen(in, max);
	out = malloc(n + 1);
	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];

		out[i] = (ch < 0x20 || ch == 0x7f || ch == ':') ? ' ' : (char)ch;
	}
	out[n] = '\0';
	return out;
}

struct id_list {
	char (*ids)[PWB_ID_LEN + 1];
	size_t n, cap;
};

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

/* The pwb group for one claim entry: found or created. Returns 1 when the
 * entry is skipped (logged), 0 with g filled, or a negative store error. */
static int claim_group(struct pwb_txn *txn, struct account_ctx *c, const char *external,
		       struct pwb_group *g, struct pwb_error *err)
{
	char name[PWB_NAME_MAX + 1], shown[80];
	struct pwb_error nerr = {0};
	bool local;
	int r;

	r = pwb_names_to_linux(external, PWB_NAMES_LOWERCASE, NULL, name, &nerr);
	if (r < 0) {
		pwb_log(LOG_NOTICE, "pam_pwb_mkhome: user %s: skipping group from claim: %s",
			c->user, pwb_error_text(&nerr, r));
		return 1;
	}
	/* Before the store lookup: a deny-listed group is never joined, even
	 * one that an older version let into the store. */
	r = pwb_policy_group_name(c->cfg, name, &nerr);
	if (r < 0) {
		pwb_log(LOG_NOTICE, "pam_pwb_mkhome: user %s: skipping group %s from claim: %s",
			c->user, name, pwb_error_text(&nerr, r));
		return 1;
	}
	r = pwb_group_get_by_name(txn, name, g, err);
	if (r == 0)
		return 0;
	if (r != PWB_ENOTFOUND)
		return r;
	r = nss_group_exists(name, &local);
	if (r < 0)
		return pwb_error_set(err, r, "looking up group %s: %s", name, strerror(-r));
	if (local) {
		pwb_log(LOG_NOTICE,
			"pam_pwb_mkhome: user %s: skipping group %s from claim: a local group "
			"has that name",
			c->user, name);
		return 1;
	}
	pwb_group_clear(g);
	snprintf(g->name, sizeof(g->name), "%s", name);
	r = pwb_group_create(txn, g, &nerr);
	if (r == PWB_ELOCAL || r == PWB_EEXIST || r == PWB_EINVAL || r == PWB_ENOIDS) {
		pwb_names_escape(pwb_error_text(&nerr, r), shown, sizeof(shown));
		pwb_log(LOG_NOTICE, "pam_pwb_mkhome: user %s: skipping group %s from claim: %s",
			c->user, name, shown);
		pwb_group_clear(g);
		return 1;
	}
	if (r < 0) {
		*err = nerr;
		return r;
	}
	pwb_log(LOG_INFO, "pam_pwb_mkhome: created group %s (gid %u) from the groups claim of %s",
		name, g->gid, c->user);
	return 0;
}

/* Makes the user's pwb groups exactly the (valid, non-local) claim groups. */
static int sync_groups(struct pwb_txn *txn, struct account_ctx *c, const char *user_id,
		       struct pwb_error *err)
{
	struct id_list wanted = {0}, current = {0};
	struct pwb_group g = {0};
	size_t i, n;
	int r = 0;

	n = c->claims->n_groups;
	if (n > MAX_CLAIM_GROUPS) {
		pwb_log(LOG_WARNING,
			"pam_pwb_mkhome: user %s: groups claim has %zu entries; only the first "
			"%d are used",
			c->user, n, MAX_CLAIM_GROUPS);
		n = MAX_CLAIM_GROUPS;
	}
	for (i = 0; i < n; i++) {
		r = claim_group(txn, c, c->claims->groups[i], &g, err);
		if (r < 0)
			goto out;
		if (r == 1 || id_list_has(&wanted, g.id)) {
			pwb_group_clear(&g);
			r = 0;
			continue;
		}
		r = id_list_add(&wanted, g.id);
		if (r == 0 && !pwb_member_is(txn, g.id, user_id)) {
			r = pwb_member_add(txn, g.id, user_id, err);
			if (r == 0)
				c->out.groups_added++;
		}
		pwb_group_clear(&g);
		if (r < 0)
			goto out;
	}

	r = pwb_member_foreach_group(txn, user_id, collect_id, &current, err);
	if (r < 0)
		goto out;
	for (i = 0; i < current.n; i++) {
		if (id_list_has(&wanted, current.ids[i]))
			continue;
		r = pwb_member_remove(txn, current.ids[i], user_id, err);
		if (r < 0)
			goto out;
		c->out.groups_removed++;
	}
out:
	pwb_group_clear(&g);
	free(wanted.ids);
	free(current.ids);
	return r;
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
	u->gecos = passwd_safe_copy(c->claims->name, MAX_GECOS);
	if (c->claims->email && strlen(c->claims->email) <= MAX_EMAIL)
		u->email = passwd_safe_copy(c->claims->email, MAX_EMAIL);
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
	bool local;
	int r;

	/* The body may run again after a deadlock: start from nothing. */
	memset(&c->out, 0, sizeof(c->out));
	c->decided = false;

	r = pwb_user_get_by_name(txn, c->user, &u, err);
	if (r == PWB_ENOTFOUND) {
		pwb_user_clear(&u);
		r = nss_user_exists(c->user, &local);
		if (r < 0) {
			r = pwb_error_set(err, r, "looking up %s: %s", c->user, strerror(-r));
			goto out;
		}
		if (local) {
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
		r = sync_groups(txn, c, u.id, err);
		if (r < 0)
			goto out;
	}
	r = pwb_user_touch_login(txn, u.id, pwb_now(), err);
out:
	pwb_user_clear(&u);
	return r;
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
	if (c.decided) {
		*out = c.out;
		return 0;
	}
	if (r < 0)
		return r;
	*out = c.out;
	return 0;
}
