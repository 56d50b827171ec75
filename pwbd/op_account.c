/* pwbd's account operations (see ops.h): the sign-in decision (account.c)
 * for pam_pwb_mkhome's account phase (account.signin, root only: the
 * claims come from pam_pwb_oidc in the same process) and for pwb-login's
 * PAM stack (account.signin_token and account.home: pwbd validates the raw
 * ID token itself, so a login-user caller cannot vouch for claims, and
 * creates the home by its own rule), and account.session_status (does a
 * session's account still stand). The token is never logged. */
#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include "account.h"
#include "claims.h"
#include "cleanup.h"
#include "home.h"
#include "jwt.h"
#include "log.h"
#include "names.h"
#include "oidc.h"
#include "ops.h"

/* Bounds on what a caller may send: a groups claim beyond this is refused
 * outright (the decision itself uses the first 256 entries). */
#define ARG_GROUPS_MAX 4096
#define ARG_TEXT_MAX   4096

static void claims_freep(struct pwb_claims **c)
{
	pwb_claims_free(*c);
}

/* A string member of obj: absent or null gives *out NULL (unless required),
 * anything but a string of at most max bytes without NUL (and not empty,
 * when required) is refused. */
static int arg_string(json_t *obj, const char *key, bool required, size_t max, const char **out,
		      struct pwb_error *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return pwb_error_set(err, PWB_EINVAL, "args: \"%s\" is required", key);
		return 0;
	}
	if (!json_is_string(v) || (required && json_string_length(v) == 0) ||
	    json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v))
		return pwb_error_set(err, PWB_EINVAL,
				     "args: \"%s\" must be a string of %d to %zu bytes", key,
				     required ? 1 : 0, max);
	*out = json_string_value(v);
	return 0;
}

/* One member an op accepts: a string read into *out, or (out NULL) a
 * member of another type that the op reads itself. */
struct arg_spec {
	const char *key;
	bool required;
	size_t max;
	const char **out;
};

/* Reads obj by specs: any member not listed is refused (named, as "what:
 * unknown key"), then every string member is checked and read. */
static int read_args(json_t *obj, const char *what, const struct arg_spec *specs, size_t n,
		     struct pwb_error *err)
{
	const char *key;
	json_t *v;
	size_t i;
	int r;

	json_object_foreach(obj, key, v)
	{
		for (i = 0; i < n && strcmp(specs[i].key, key) != 0; i++)
			;
		if (i == n) {
			char shown[64];

			pwb_names_escape(key, shown, sizeof(shown));
			return pwb_error_set(err, PWB_EINVAL, "%s: unknown key \"%s\"", what,
					     shown);
		}
	}
	for (i = 0; i < n; i++) {
		if (!specs[i].out)
			continue;
		r = arg_string(obj, specs[i].key, specs[i].required, specs[i].max, specs[i].out,
			       err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int dup_opt(const char *in, char **out)
{
	*out = NULL;
	if (!in)
		return 0;
	*out = strdup(in);
	return *out ? 0 : -ENOMEM;
}

/* The claims object of account.signin into *out (NULL when absent). */
static int parse_claims(json_t *obj, const char *user, struct pwb_claims **out,
			struct pwb_error *err)
{
	const char *username, *issuer, *subject, *name, *email;
	const struct arg_spec specs[] = {
	    {"username", true, PWB_NAME_MAX, &username}, {"issuer", true, ARG_TEXT_MAX, &issuer},
	    {"subject", true, ARG_TEXT_MAX, &subject},	 {"name", false, ARG_TEXT_MAX, &name},
	    {"email", false, ARG_TEXT_MAX, &email},	 {"groups", false, 0, NULL},
	};
	_cleanup_(claims_freep) struct pwb_claims *c = NULL;
	json_t *groups, *g;
	size_t i;
	int r;

	*out = NULL;
	if (!obj || json_is_null(obj))
		return 0;
	if (!json_is_object(obj))
		return pwb_error_set(err, PWB_EINVAL, "args: \"claims\" must be an object");
	r = read_args(obj, "claims", specs, PWB_ARRAY_SIZE(specs), err);
	if (r < 0)
		return r;
	if (strcmp(username, user) != 0)
		return pwb_error_set(err, PWB_EINVAL, "claims are for another user than %s", user);
	groups = json_object_get(obj, "groups");
	if (groups && !json_is_null(groups) &&
	    (!json_is_array(groups) || json_array_size(groups) > ARG_GROUPS_MAX))
		return pwb_error_set(err, PWB_EINVAL,
				     "claims: \"groups\" must be an array of at most %d strings",
				     ARG_GROUPS_MAX);
	c = pwb_claims_new();
	if (!c)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	snprintf(c->username, sizeof(c->username), "%s", username);
	if (dup_opt(issuer, &c->issuer) < 0 || dup_opt(subject, &c->subject) < 0 ||
	    dup_opt(name, &c->name) < 0 || dup_opt(email, &c->email) < 0)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	json_array_foreach(groups, i, g)
	{
		if (!json_is_string(g) || json_string_length(g) > ARG_TEXT_MAX)
			return pwb_error_set(err, PWB_EINVAL,
					     "claims: \"groups\" entries must be strings");
		if (pwb_claims_add_group(c, json_string_value(g)) < 0)
			return pwb_error_set(err, -ENOMEM, "out of memory");
	}
	*out = PWB_TAKE_PTR(c);
	return 0;
}

/* The actor the change log records: kind, and what the caller says of
 * the PAM service and remote host (bounded, escaped). */
static void set_actor(struct pwbd_call *call, const char *kind, const char *service,
		      const char *rhost)
{
	snprintf(call->actor.kind, sizeof(call->actor.kind), "%s", kind);
	pwb_names_escape(service ? service : "", call->actor.service, sizeof(call->actor.service));
	pwb_names_escape(rhost ? rhost : "", call->actor.rhost, sizeof(call->actor.rhost));
	pwb_store_set_request(call->st, &call->actor, call->req->id);
}

static int outcome_json(const char *user, const struct pwb_account_outcome *o, json_t **result,
			struct pwb_error *err)
{
	json_t *res =
	    json_pack("{s:s, s:s, s:I, s:I, s:I, s:b, s:s, s:b, s:b}", "user", user, "result",
		      pwb_account_result_name(o->result), "uid", (json_int_t)o->uid, "groups_added",
		      (json_int_t)o->groups_added, "groups_removed", (json_int_t)o->groups_removed,
		      "bound", o->bound, "detail", o->detail, "from_replica", o->from_replica,
		      "groups_deferred", o->groups_deferred);

	if (!res || (o->why && json_object_set_new(res, "why", json_string(o->why)) < 0)) {
		json_decref(res);
		return pwb_error_set(err, -ENOMEM, "out of memory");
	}
	*result = res;
	return 0;
}

static int decide(struct pwbd_call *call, const char *user, const struct pwb_claims *claims,
		  json_t **result, struct pwb_error *err)
{
	struct pwb_account_outcome o;
	int r;

	r = pwb_account_check(call->st, user, claims, &o, err);
	if (r < 0)
		return r;
	pwb_log(LOG_INFO, "sign-in of %s for %s (service '%s', rhost '%s'): %s", user,
		call->actor.kind, call->actor.service, call->actor.rhost,
		pwb_account_result_name(o.result));
	return outcome_json(user, &o, result, err);
}

static int op_signin(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	const char *user, *service, *rhost;
	const struct arg_spec specs[] = {
	    {"user", true, PWB_NAME_MAX, &user},
	    {"claims", false, 0, NULL},
	    {"service", false, ARG_TEXT_MAX, &service},
	    {"rhost", false, ARG_TEXT_MAX, &rhost},
	};
	_cleanup_(claims_freep) struct pwb_claims *claims = NULL;
	json_t *args = call->req->args;
	int r;

	*result = NULL;
	r = read_args(args, "args", specs, PWB_ARRAY_SIZE(specs), err);
	if (r < 0)
		return r;
	if (!pwb_names_is_valid(user))
		return pwb_error_set(err, PWB_EINVAL, "args: \"user\" is not a valid user name");
	r = parse_claims(json_object_get(args, "claims"), user, &claims, err);
	if (r < 0)
		return r;
	set_actor(call, "jit", service, rhost);
	return decide(call, user, claims, result, err);
}

/* The user the token claims to be (unverified: pwb_oidc_authenticate then
 * checks the signature and that the token maps to exactly this name). */
static int token_user(const struct pwb_config *cfg, const char *token, size_t len,
		      char user[PWB_NAME_MAX + 1], struct pwb_error *err)
{
	_cleanup_jwt_ struct pwb_jwt *jwt = NULL;
	int r;

	r = pwb_jwt_parse(token, len, &jwt, err);
	if (r < 0)
		return r == -ENOMEM ? r : PWB_EAUTH;
	return pwb_oidc_jwt_username(cfg, jwt, NULL, user, err);
}

/* Tokens pwbd validated lately, in this process's memory only: the
 * SHA-256 of the raw token -> the user and claims it gave. An entry serves
 * only the same caller uid, a request with no nonce or with the token's
 * own nonce (compared in constant time; any other request validates the
 * token afresh, which refuses it), and only until the token's exp or
 * TOKEN_MEMO_TTL seconds, whichever comes first (no leeway). A config
 * reload forgets them all (pwbd_account_forget_tokens). Nothing is
 * remembered of a token that failed, and at most TOKEN_MEMO_SLOTS tokens
 * are (the one that expires first makes room). */
#define TOKEN_MEMO_SLOTS 64
#define TOKEN_MEMO_TTL	 30

struct token_memo {
	unsigned char key[SHA256_DIGEST_LENGTH];
	uid_t caller;
	int64_t until;
	char *nonce; /* the token's nonce claim, or NULL */
	char user[PWB_NAME_MAX + 1];
	struct pwb_claims *claims; /* NULL: a free slot */
};

static struct token_memo token_memos[TOKEN_MEMO_SLOTS];

static void token_memo_clear(struct token_memo *m)
{
	pwb_claims_free(m->claims);
	free(m->nonce);
	memset(m, 0, sizeof(*m));
}

void pwbd_account_forget_tokens(void)
{
	for (size_t i = 0; i < TOKEN_MEMO_SLOTS; i++)
		token_memo_clear(&token_memos[i]);
}

/* A copy of c without its raw token; NULL when out of memory. */
static struct pwb_claims *claims_copy(const struct pwb_claims *c)
{
	_cleanup_(claims_freep) struct pwb_claims *d = pwb_claims_new();

	if (!d)
		return NULL;
	snprintf(d->username, sizeof(d->username), "%s", c->username);
	d->local_account = c->local_account;
	if (dup_opt(c->issuer, &d->issuer) < 0 || dup_opt(c->subject, &d->subject) < 0 ||
	    dup_opt(c->name, &d->name) < 0 || dup_opt(c->email, &d->email) < 0)
		return NULL;
	for (size_t i = 0; i < c->n_groups; i++)
		if (pwb_claims_add_group(d, c->groups[i]) < 0)
			return NULL;
	return PWB_TAKE_PTR(d);
}

/* The remembered entry for this token, caller and expected nonce, or NULL. */
static const struct token_memo *token_memo_find(const unsigned char *key, uid_t caller,
						const char *nonce, int64_t now)
{
	for (size_t i = 0; i < TOKEN_MEMO_SLOTS; i++) {
		const struct token_memo *m = &token_memos[i];

		if (!m->claims || m->until <= now || m->caller != caller ||
		    CRYPTO_memcmp(m->key, key, sizeof(m->key)) != 0)
			continue;
		if (nonce && (!m->nonce || strlen(m->nonce) != strlen(nonce) ||
			      CRYPTO_memcmp(m->nonce, nonce, strlen(nonce)) != 0))
			return NULL;
		return m;
	}
	return NULL;
}

/* Remembers a token that just passed (best effort: nothing happens when
 * its exp cannot be read or memory runs out). The slot reused is a free
 * or expired one, else the one that expires first. */
static void token_memo_put(const unsigned char *key, uid_t caller, const char *token,
			   const char *user, const struct pwb_claims *claims, int64_t now)
{
	struct token_memo *slot = &token_memos[0];
	struct pwb_error err = {0};
	struct pwb_jwt *jwt = NULL;
	const char *nonce;
	json_t *exp;

	if (pwb_jwt_parse(token, strlen(token), &jwt, &err) < 0)
		return;
	exp = json_object_get(jwt->payload, "exp");
	nonce = pwb_jwt_claim_string(jwt, "nonce");
	for (size_t i = 0; i < TOKEN_MEMO_SLOTS; i++) {
		struct token_memo *m = &token_memos[i];

		if (!m->claims || m->until <= now) {
			slot = m;
			break;
		}
		if (m->until < slot->until)
			slot = m;
	}
	token_memo_clear(slot);
	if (json_is_integer(exp) && json_integer_value(exp) > now &&
	    dup_opt(nonce, &slot->nonce) == 0 && (slot->claims = claims_copy(claims))) {
		memcpy(slot->key, key, sizeof(slot->key));
		slot->caller = caller;
		slot->until = json_integer_value(exp) < now + TOKEN_MEMO_TTL
				  ? json_integer_value(exp)
				  : now + TOKEN_MEMO_TTL;
		snprintf(slot->user, sizeof(slot->user), "%s", user);
	} else {
		token_memo_clear(slot);
	}
	pwb_jwt_free(jwt);
}

/* The token args every token op takes: {token, nonce?, service?, rhost?}.
 * Sets the actor, then validates the token as pam_pwb_oidc does, with no
 * per-service client id (the client-secret file's and
 * auth-openid-audiences) and, when "nonce" is given, the nonce claim equal
 * to it. *user: the name it maps to. Refusals are logged here (never the
 * token). */
static int token_claims(struct pwbd_call *call, const char *what, char user[PWB_NAME_MAX + 1],
			struct pwb_claims **claims, struct pwb_error *err)
{
	const char *token, *nonce, *service, *rhost;
	const struct arg_spec specs[] = {
	    {"token", true, PWB_JWT_MAX_BYTES, &token},
	    {"nonce", false, ARG_TEXT_MAX, &nonce},
	    {"service", false, ARG_TEXT_MAX, &service},
	    {"rhost", false, ARG_TEXT_MAX, &rhost},
	};
	struct pwb_oidc_expect expect = {0};
	unsigned char key[SHA256_DIGEST_LENGTH];
	const struct token_memo *memo;
	int64_t now;
	int r;

	*claims = NULL;
	r = read_args(call->req->args, "args", specs, PWB_ARRAY_SIZE(specs), err);
	if (r < 0)
		return r;
	set_actor(call, "pwb-login", service, rhost);
	now = (int64_t)time(NULL);
	SHA256((const unsigned char *)token, strlen(token), key);
	memo = token_memo_find(key, call->actor.uid, nonce, now);
	if (memo) {
		*claims = claims_copy(memo->claims);
		if (!*claims)
			return pwb_error_set(err, -ENOMEM, "out of memory");
		snprintf(user, PWB_NAME_MAX + 1, "%s", memo->user);
		pwb_log(LOG_DEBUG, "%s by token for %s: token validated earlier", what, user);
		return 0;
	}
	expect.nonce = nonce;
	expect.require_nonce = nonce != NULL;
	r = token_user(call->cfg, token, strlen(token), user, err);
	if (r == 0)
		r = pwb_oidc_authenticate(call->cfg, user, token, strlen(token), &expect, claims,
					  err);
	if (r < 0)
		pwb_log(LOG_NOTICE, "%s by token (service '%s', rhost '%s') refused: %s", what,
			call->actor.service, call->actor.rhost, pwb_error_text(err, r));
	else
		token_memo_put(key, call->actor.uid, token, user, *claims, now);
	return r;
}

static int op_signin_token(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	_cleanup_(claims_freep) struct pwb_claims *claims = NULL;
	char user[PWB_NAME_MAX + 1];
	int r;

	*result = NULL;
	r = token_claims(call, "sign-in", user, &claims, err);
	if (r < 0)
		return r;
	if (claims->local_account) {
		*result = json_pack("{s:s, s:s}", "user", user, "result", "local");
		return *result ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
	}
	return decide(call, user, claims, result, err);
}

static void session_status_clearp(struct pwb_session_status *s)
{
	pwb_session_status_clear(s);
}

/* A local account's uid, gid and home from NSS (auth-openid-allow-local-
 * accounts signed it in): PWB_ENOTFOUND when it is gone. */
static int local_account(const char *user, uid_t *uid, gid_t *gid, char **home,
			 struct pwb_error *err)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int r;

	*home = NULL;
	r = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (r != 0 || !res)
		return pwb_error_set(err, PWB_ENOTFOUND, "home: no passwd entry for %s", user);
	*uid = res->pw_uid;
	*gid = res->pw_gid;
	*home = strdup(res->pw_dir);
	return *home ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

/* account.home: the token's user's home, created by pwbd's own rule
 * (pwb_home_open: within the configured home roots, from the default
 * skeleton with the default umask). Nothing the caller sends picks the
 * path or a mode: the path comes from the store (or NSS, for a local
 * account the token was allowed to sign in to). */
static int op_home(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	_cleanup_(claims_freep) struct pwb_claims *claims = NULL;
	_cleanup_(session_status_clearp) struct pwb_session_status st = {0};
	_cleanup_free_ char *used = NULL;
	char user[PWB_NAME_MAX + 1];
	uid_t uid;
	gid_t gid;
	int r;

	*result = NULL;
	r = token_claims(call, "home", user, &claims, err);
	if (r < 0)
		return r;
	if (claims->local_account) {
		r = local_account(user, &uid, &gid, &st.home, err);
		if (r < 0)
			return r;
	} else {
		r = pwb_account_session_status(call->st, user, NULL, claims->issuer,
					       claims->subject, &st, err);
		if (r < 0)
			return r;
		if (st.state != PWB_SESSION_ACTIVE)
			return pwb_error_set(err, PWB_EAUTH,
					     "home: the account %s is %s (locked, unknown or bound "
					     "to another identity)",
					     user, pwb_session_state_name(st.state));
		if (!st.home)
			return pwb_error_set(err, PWB_EINVAL, "home: %s has no home directory",
					     user);
		uid = st.uid;
		gid = st.gid;
	}
	r = pwb_home_open(call->cfg, st.home, uid, gid, PWB_HOME_DEFAULT_SKEL,
			  PWB_HOME_DEFAULT_UMASK, &used, err);
	if (r < 0) {
		pwb_log(LOG_ERR, "home of %s (service '%s'): %s", user, call->actor.service,
			pwb_error_text(err, r));
		return r;
	}
	if (r == PWB_HOME_CREATED)
		pwb_log(LOG_NOTICE, "created home %s for %s (uid %u) from %s", used, user,
			(unsigned)uid, PWB_HOME_DEFAULT_SKEL);
	*result = json_pack("{s:s, s:s, s:b}", "user", user, "home", used, "created",
			    r == PWB_HOME_CREATED);
	return *result ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

/* account.session_status {user, uid, issuer, subject}: pwb-login asks,
 * at a session's requests, whether its account still stands. */
static int op_session_status(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	const char *user, *issuer, *subject;
	const struct arg_spec specs[] = {
	    {"user", true, PWB_NAME_MAX, &user},
	    {"uid", true, 0, NULL},
	    {"issuer", true, ARG_TEXT_MAX, &issuer},
	    {"subject", true, ARG_TEXT_MAX, &subject},
	};
	_cleanup_(session_status_clearp) struct pwb_session_status st = {0};
	json_t *juid = json_object_get(call->req->args, "uid");
	json_int_t v;
	uint32_t uid;
	int r;

	*result = NULL;
	r = read_args(call->req->args, "args", specs, PWB_ARRAY_SIZE(specs), err);
	if (r < 0)
		return r;
	v = json_is_integer(juid) ? json_integer_value(juid) : -1;
	if (v < 0 || v > UINT32_MAX)
		return pwb_error_set(err, PWB_EINVAL, "args: \"uid\" must be an integer uid");
	if (!pwb_names_is_valid(user))
		return pwb_error_set(err, PWB_EINVAL, "args: \"user\" is not a valid user name");
	uid = (uint32_t)v;
	r = pwb_account_session_status(call->st, user, &uid, issuer, subject, &st, err);
	if (r < 0)
		return r;
	if (st.state == PWB_SESSION_GONE)
		*result = json_pack("{s:s}", "state", "gone");
	else
		*result = json_pack("{s:s, s:I, s:I, s:s?, s:O?}", "state",
				    pwb_session_state_name(st.state), "uid", (json_int_t)st.uid,
				    "gid", (json_int_t)st.gid, "home", st.home, "groups",
				    st.groups ? st.groups : NULL);
	return *result ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

const struct pwbd_op pwbd_ops_account[] = {
    {"account.signin", PWBD_ROLE_ROOT, true, op_signin},
    {"account.signin_token", PWBD_ROLE_LOGIN | PWBD_ROLE_ROOT, true, op_signin_token},
    {"account.home", PWBD_ROLE_LOGIN | PWBD_ROLE_ROOT, false, op_home},
    {"account.session_status", PWBD_ROLE_LOGIN | PWBD_ROLE_ROOT, false, op_session_status},
    {NULL, 0, false, NULL},
};
