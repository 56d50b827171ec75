/* pam_pwb_mkhome entry points: account (JIT registration, identity
 * binding, locks, group sync: decided by pwbd, op account.signin; when pwbd
 * is down a known user is checked against the published snapshot) and
 * session (home directory within the configured roots, in-process as root;
 * lib/base/home.c). Not running as root (pwb-login's PAM stack, as the
 * login-user), both steps hand the raw token to pwbd instead:
 * account.signin_token and account.home. Thin adapters:
 * parse the arguments, call, map the result to a PAM code and one syslog
 * line (and one short message through the conversation on a refusal).
 * Never prints, never exits: it runs inside someone else's process. */
#include <errno.h>
#include <pwd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <jansson.h>
#include <limits.h>
#include <unistd.h>
#include "claims.h"
#include "cleanup.h"
#include "config.h"
#include "home.h"
#include "log.h"
#include "names.h"
#include "other_sources.h"
#include "reader.h"
#include "rpc.h"
#include "snapshot.h"

struct options {
	const char *config; /* config=PATH (NULL: $PWB_CONFIG or the default) */
	const char *skel;   /* skel=DIR */
	mode_t umask;	    /* umask=NNNN */
	bool debug;
};

static int parse_options(pam_handle_t *pamh, int argc, const char **argv, struct options *o)
{
	char *end;
	long v;
	int i;

	o->config = NULL;
	o->skel = PWB_HOME_DEFAULT_SKEL;
	o->umask = PWB_HOME_DEFAULT_UMASK;
	o->debug = false;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "debug")) {
			o->debug = true;
		} else if (!strncmp(argv[i], "config=", 7) || !strncmp(argv[i], "skel=", 5)) {
			const char *path = strchr(argv[i], '=') + 1;

			if (path[0] != '/') {
				pam_syslog(pamh, LOG_ERR,
					   "bad module argument %s (want an absolute path)",
					   argv[i]);
				return PAM_SERVICE_ERR;
			}
			if (argv[i][0] == 'c')
				o->config = path;
			else
				o->skel = path;
		} else if (!strncmp(argv[i], "umask=", 6)) {
			errno = 0;
			v = strtol(argv[i] + 6, &end, 8);
			if (errno || end == argv[i] + 6 || *end || v < 0 || v > 0777) {
				pam_syslog(pamh, LOG_ERR,
					   "bad module argument %s (want octal 0-0777)", argv[i]);
				return PAM_SERVICE_ERR;
			}
			o->umask = (mode_t)v;
		} else {
			pam_syslog(pamh, LOG_ERR, "unknown module argument %s", argv[i]);
			return PAM_SERVICE_ERR;
		}
	}
	pwb_log_init(NULL, false, o->debug);
	return PAM_SUCCESS;
}

/* PAM_USER, only if it is a valid Linux name (anything else never reaches
 * the store, a path or a log unescaped). */
static int get_user(pam_handle_t *pamh, const char **user)
{
	char shown[80];
	int r;

	r = pam_get_user(pamh, user, NULL);
	if (r != PAM_SUCCESS || !*user) {
		pam_syslog(pamh, LOG_ERR, "cannot determine the user name: %s",
			   pam_strerror(pamh, r));
		return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : PAM_USER_UNKNOWN;
	}
	if (!pwb_names_is_valid(*user)) {
		pwb_names_escape(*user, shown, sizeof(shown));
		pam_syslog(pamh, LOG_NOTICE, "refusing invalid user name \"%s\"", shown);
		return PAM_USER_UNKNOWN;
	}
	return PAM_SUCCESS;
}

static const struct pwb_claims *get_claims(pam_handle_t *pamh)
{
	const void *data = NULL;

	if (pam_get_data(pamh, PWB_PAM_DATA_CLAIMS, &data) != PAM_SUCCESS)
		return NULL;
	return data;
}

/* pwbd's answer to account.signin (op_account.c); strings point into
 * the reply. */
struct signin_outcome {
	const char *result; /* "active", "registered", ... (account.h) */
	unsigned uid;
	const char *why;
	unsigned groups_added, groups_removed;
	bool bound;
	const char *detail;
};

static void outcome_from_json(json_t *res, struct signin_outcome *o)
{
	const char *why = json_string_value(json_object_get(res, "why"));
	const char *detail = json_string_value(json_object_get(res, "detail"));

	o->result = json_string_value(json_object_get(res, "result"));
	o->uid = (unsigned)json_integer_value(json_object_get(res, "uid"));
	o->why = why ? why : "(no reason given)";
	o->groups_added = (unsigned)json_integer_value(json_object_get(res, "groups_added"));
	o->groups_removed = (unsigned)json_integer_value(json_object_get(res, "groups_removed"));
	o->bound = json_is_true(json_object_get(res, "bound"));
	o->detail = detail ? detail : "";
}

static bool is(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

static int account_result(pam_handle_t *pamh, const char *user, const struct pwb_claims *claims,
			  const struct signin_outcome *o)
{
	if (is(o->result, "active")) {
		if (o->bound)
			pam_syslog(pamh, LOG_NOTICE,
				   "bound %s (uid %u) to %s at sign-in: from now on only that "
				   "identity signs in to it",
				   user, o->uid, o->detail);
		if (pwb_log_debug_enabled() || o->groups_added || o->groups_removed)
			pam_syslog(pamh, LOG_INFO,
				   "%s (uid %u) may sign in; groups: %u added, %u removed", user,
				   o->uid, o->groups_added, o->groups_removed);
		return PAM_SUCCESS;
	}
	if (is(o->result, "registered")) {
		pam_syslog(pamh, LOG_NOTICE,
			   "registered %s on first sign-in (uid %u, %u groups), bound to %s", user,
			   o->uid, o->groups_added, o->detail);
		return PAM_SUCCESS;
	}
	if (is(o->result, "other_identity") || is(o->result, "unbound") ||
	    is(o->result, "subject_taken")) {
		if (o->uid)
			pam_syslog(pamh, LOG_WARNING, "refusing %s (uid %u): %s", user, o->uid,
				   o->detail);
		else
			pam_syslog(pamh, LOG_WARNING, "refusing to register %s: %s", user,
				   o->detail);
		return PAM_PERM_DENIED;
	}
	if (is(o->result, "locked")) {
		pam_syslog(pamh, LOG_NOTICE,
			   "refusing %s (uid %u): the account is locked (deactivated)", user,
			   o->uid);
		return PAM_ACCT_EXPIRED;
	}
	if (is(o->result, "unknown")) {
		pam_syslog(pamh, LOG_NOTICE, "refusing unknown user %s: %s", user, o->why);
		return PAM_USER_UNKNOWN;
	}
	if (is(o->result, "local")) {
		if (claims) {
			/* pam_pwb_oidc vouched for a name a local account owns
			 * without being allowed to: never register over it. */
			pam_syslog(pamh, LOG_ERR,
				   "refusing %s: the name belongs to a local account and "
				   "auth-openid-allow-local-accounts is off",
				   user);
			return PAM_PERM_DENIED;
		}
		if (pwb_log_debug_enabled())
			pam_syslog(pamh, LOG_DEBUG, "%s is a local account: not ours to decide",
				   user);
		return PAM_IGNORE;
	}
	pam_syslog(pamh, LOG_ERR, "cannot check account %s: pwbd answered no known result", user);
	return PAM_SYSTEM_ERR;
}

/* The passwd entry through NSS: pwb users (nss_pwb) and local ones alike. */
static int get_passwd(const char *user, struct passwd *pw, char **buf)
{
	struct passwd *res = NULL;
	size_t len = 1024;
	int r;

	for (;;) {
		*buf = malloc(len);
		if (!*buf)
			return -ENOMEM;
		r = getpwnam_r(user, pw, *buf, len, &res);
		if (r == ERANGE && len < (1u << 20)) {
			free(*buf);
			len *= 2;
			continue;
		}
		if (r != 0 && r != ENOENT && r != ESRCH)
			return -r;
		return res ? 0 : -ENOENT;
	}
}

/* pwbd publishes the NSS snapshot after each commit, but nss_pwb in this
 * process notices a new generation only at its next check, and a publish
 * can fail and be retried. Whatever runs after the account step (setcred
 * modules, the session, initgroups) needs the passwd entry, so wait,
 * briefly, until the user resolves. */
#define NSS_WAIT_STEP_USEC 10000
#define NSS_WAIT_STEPS	   200

static void wait_until_resolvable(pam_handle_t *pamh, const char *user)
{
	struct pwb_error err = {0};
	int i;

	for (i = 0; i < NSS_WAIT_STEPS; i++) {
		if (pwb_other_source_user(user, &err) == 1)
			return;
		usleep(NSS_WAIT_STEP_USEC);
	}
	pam_syslog(pamh, LOG_WARNING,
		   "%s is a pwb user but not visible through NSS after %d ms: is pwb listed "
		   "for passwd in /etc/nsswitch.conf?",
		   user, NSS_WAIT_STEPS * NSS_WAIT_STEP_USEC / 1000);
}

static const char *pam_item_text(pam_handle_t *pamh, int item)
{
	const void *v = NULL;

	if (pam_get_item(pamh, item, &v) != PAM_SUCCESS || !v)
		return "";
	return v;
}

/* account.signin's args: the user, the claims pam_pwb_oidc validated
 * (null when someone else authenticated), the PAM service and rhost. */
static json_t *signin_args(const char *user, const struct pwb_claims *c, const char *service,
			   const char *rhost)
{
	json_t *args, *claims = json_null(), *groups;
	size_t i;

	if (c) {
		groups = json_array();
		for (i = 0; groups && i < c->n_groups; i++)
			if (json_array_append_new(groups, json_string(c->groups[i])) < 0)
				break;
		claims = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:o?}", "username", c->username,
				   "issuer", c->issuer, "subject", c->subject, "name", c->name,
				   "email", c->email, "groups", groups);
		if (!claims)
			return NULL;
	}
	args = json_pack("{s:s, s:o, s:s, s:s}", "user", user, "claims", claims, "service", service,
			 "rhost", rhost);
	return args;
}

static void snapshot_reader_freep(struct pwb_snapshot_reader **r)
{
	pwb_snapshot_reader_free(*r);
}

/* One value of the snapshot for NAME under prefix: 0, PWB_ENOTFOUND or
 * PWB_EUNAVAIL. */
static int snapshot_value(struct pwb_snapshot_reader *rd, enum pwb_snapshot_set set,
			  const char *prefix, const char *user, char *buf, size_t len)
{
	char key[PWB_SNAPSHOT_KEY_MAX + 1];
	size_t n;
	int r;

	snprintf(key, sizeof(key), "%s%s", prefix, user);
	r = pwb_snapshot_get(rd, set, key, buf, len, &n);
	return r == -ERANGE ? PWB_EUNAVAIL : r;
}

/* pwbd cannot be reached: a known user still signs in, read from the
 * published snapshot (active, and bound to the token's identity when one
 * was presented); registering, binding and group sync need pwbd. */
static int account_offline(pam_handle_t *pamh, const struct pwb_config *cfg, const char *user,
			   const struct pwb_claims *claims, const struct pwb_error *why)
{
	_cleanup_(snapshot_reader_freep) struct pwb_snapshot_reader *rd = NULL;
	char dir[PATH_MAX], line[2048], bound[2048], *p;
	struct pwb_error oerr = {0};
	unsigned uid;
	int r;

	snprintf(dir, sizeof(dir), "%s/%s", cfg->db_dir, PWB_SNAP_DIR);
	r = pwb_snapshot_reader_new(dir, &rd);
	if (r == 0)
		r = snapshot_value(rd, PWB_SNAPSHOT_PUBLIC, PWB_SNAP_KEY_PASSWD_NAME, user, line,
				   sizeof(line));
	if (r == PWB_ENOTFOUND) {
		r = pwb_other_source_user(user, &oerr);
		if (r > 0 && !claims) {
			if (pwb_log_debug_enabled())
				pam_syslog(pamh, LOG_DEBUG,
					   "pwbd unavailable: %s is a local account: not ours to "
					   "decide",
					   user);
			return PAM_IGNORE;
		}
		pam_syslog(pamh, LOG_ERR,
			   "pwbd unavailable: refusing %s: not a known pwb user, and registering "
			   "one needs pwbd (%s)",
			   user, why->msg);
		return r > 0 ? PAM_PERM_DENIED : PAM_USER_UNKNOWN;
	}
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR,
			   "pwbd unavailable: cannot check account %s: the NSS snapshot in %s is "
			   "not readable either (%s)",
			   user, dir, why->msg);
		return PAM_AUTHINFO_UNAVAIL;
	}
	/* NAME:x:UID:... */
	p = strchr(line, ':');
	p = p ? strchr(p + 1, ':') : NULL;
	uid = p ? (unsigned)strtoul(p + 1, NULL, 10) : 0;
	r = snapshot_value(rd, PWB_SNAPSHOT_SHADOW, PWB_SNAP_KEY_SHADOW_NAME, user, line,
			   sizeof(line));
	p = r == 0 ? strchr(line, ':') : NULL;
	if (!p || p[1] == '!') {
		pam_syslog(pamh, LOG_NOTICE,
			   "pwbd unavailable: refusing %s (uid %u): the account is locked "
			   "(deactivated)%s",
			   user, uid, p ? "" : " or has no shadow entry in the snapshot");
		return PAM_ACCT_EXPIRED;
	}
	if (claims) {
		r = snapshot_value(rd, PWB_SNAPSHOT_SHADOW, PWB_SNAP_KEY_BINDING, user, bound,
				   sizeof(bound));
		snprintf(line, sizeof(line), "%s\n%s", claims->issuer ? claims->issuer : "",
			 claims->subject ? claims->subject : "");
		if (r < 0 || strcmp(bound, line) != 0) {
			pam_syslog(pamh, LOG_WARNING,
				   "pwbd unavailable: refusing %s (uid %u): %s, and binding at "
				   "sign-in needs pwbd",
				   user, uid,
				   r < 0 ? "the account is not bound to an IdP identity yet"
					 : "the account is bound to another identity than the "
					   "ID token's");
			return PAM_PERM_DENIED;
		}
	}
	pam_syslog(pamh, LOG_NOTICE,
		   "pwbd unavailable: %s (uid %u) signs in as the snapshot lists the account "
		   "(groups not synced)",
		   user, uid);
	return PAM_SUCCESS;
}

/* One short message for the person signing in (pwb-login shows it on its
 * error page, sshd prints it), unless the application asked for silence.
 * Never a token, never the detail the log gets. */
static void user_error(pam_handle_t *pamh, int flags, const char *msg)
{
	if (!(flags & PAM_SILENT))
		pam_error(pamh, "%s", msg);
}

/* pwbd could not write what this sign-in needs (a new account, a first
 * binding) because the cluster database cannot be reached: known users
 * still sign in, decided from the replica. */
#define UNAVAILABLE_MESSAGE                                                                        \
	"your account cannot be set up right now (the account database cannot be reached); "       \
	"try again later"

/* The user-facing message for an account result that refuses. */
static const char *result_message(const char *result)
{
	if (is(result, "locked"))
		return "account locked";
	if (is(result, "unknown"))
		return "not assigned to this app";
	if (is(result, "local"))
		return "name not allowed";
	if (is(result, "other_identity") || is(result, "unbound") || is(result, "subject_taken"))
		return "sign-in refused (identity)";
	return "sign-in refused";
}

/* The raw ID token: the one pam_pwb_oidc validated in this handle (it
 * keeps it with the claims when not running as root, since Linux-PAM
 * clears PAM_AUTHTOK when pam_authenticate returns), else PAM_AUTHTOK (an
 * application that sets it again); NULL when there is none. */
static const char *raw_token(pam_handle_t *pamh)
{
	const struct pwb_claims *claims = get_claims(pamh);
	const void *token = NULL;

	if (claims && claims->token && *claims->token)
		return claims->token;
	if (pam_get_item(pamh, PAM_AUTHTOK, &token) != PAM_SUCCESS || !token ||
	    !*(const char *)token)
		return NULL;
	return token;
}

/* A call to pwbd with the raw token (raw_token) and the expected nonce
 * (PWB_OIDC_NONCE in the PAM environment, when set): account.signin_token
 * and account.home, which validate the token themselves. PAM_AUTH_ERR
 * when there is no token, PAM_BUF_ERR, else pwb_rpc_call's code. */
static int token_call(pam_handle_t *pamh, const struct pwb_config *cfg, const char *op,
		      struct pwb_actor *actor, json_t **result, struct pwb_error *err)
{
	json_auto_t *args = NULL;
	const char *token = raw_token(pamh);
	const char *nonce = pam_getenv(pamh, "PWB_OIDC_NONCE");

	if (!token) {
		pam_syslog(pamh, LOG_ERR,
			   "%s: no ID token to hand to pwbd: not running as root, the module "
			   "needs pam_pwb_oidc before it in the stack",
			   op);
		return PAM_AUTH_ERR;
	}
	snprintf(actor->service, sizeof(actor->service), "%s", pam_item_text(pamh, PAM_SERVICE));
	snprintf(actor->rhost, sizeof(actor->rhost), "%s", pam_item_text(pamh, PAM_RHOST));
	args = json_pack("{s:s, s:s, s:s}", "token", token, "service", actor->service, "rhost",
			 actor->rhost);
	if (!args ||
	    (nonce && *nonce && json_object_set_new(args, "nonce", json_string(nonce)) < 0))
		return PAM_BUF_ERR;
	return pwb_rpc_call(cfg, op, actor, args, result, NULL, err);
}

/* The account decision as the login-user (pwb-login's PAM stack): pwbd
 * validates the raw token again (account.signin_token), since this
 * process's claims cannot be vouched for to pwbd; no snapshot fallback
 * (registering and the home need pwbd anyway). */
static int account_check_token(pam_handle_t *pamh, int flags, const struct pwb_config *cfg,
			       const char *user, const struct pwb_claims *claims)
{
	json_auto_t *result = NULL;
	struct pwb_actor actor = {.kind = "pwb-login"};
	struct signin_outcome o;
	struct pwb_error err = {0};
	const char *who;
	int r, pr;

	r = token_call(pamh, cfg, "account.signin_token", &actor, &result, &err);
	if (r == PAM_BUF_ERR || r == PAM_AUTH_ERR) {
		user_error(pamh, flags, "sign-in refused");
		return r == PAM_BUF_ERR ? r : PAM_PERM_DENIED;
	}
	if (r < 0) {
		pam_syslog(pamh, r == PWB_EAUTH ? LOG_NOTICE : LOG_ERR,
			   "cannot check account %s: pwbd: %s", user, pwb_error_text(&err, r));
		user_error(pamh, flags,
			   r == PWB_EAUTH      ? "sign-in refused"
			   : r == PWB_ELOCAL   ? "name not allowed"
			   : r == PWB_EUNAVAIL ? UNAVAILABLE_MESSAGE
					       : "sign-in refused (unavailable)");
		return r == PWB_EAUTH || r == PWB_ELOCAL ? PAM_PERM_DENIED : PAM_AUTHINFO_UNAVAIL;
	}
	who = json_string_value(json_object_get(result, "user"));
	if (!who || strcmp(who, user) != 0) {
		pam_syslog(pamh, LOG_ERR,
			   "refusing %s: pwbd validated the ID token for another user", user);
		user_error(pamh, flags, "sign-in refused");
		return PAM_PERM_DENIED;
	}
	outcome_from_json(result, &o);
	if (is(o.result, "local") && claims && claims->local_account)
		return PAM_SUCCESS;
	pr = account_result(pamh, user, claims, &o);
	if (pr == PAM_SUCCESS)
		wait_until_resolvable(pamh, user);
	else
		user_error(pamh, flags, result_message(o.result));
	return pr;
}

/* The account decision, made by pwbd (account.signin). */
static int account_check(pam_handle_t *pamh, int flags, const struct pwb_config *cfg,
			 const char *user, const struct pwb_claims *claims)
{
	json_auto_t *args = NULL;
	json_auto_t *result = NULL;
	struct pwb_actor actor = {.kind = "jit"};
	struct signin_outcome o;
	struct pwb_error err = {0};
	int r, pr;

	snprintf(actor.service, sizeof(actor.service), "%s", pam_item_text(pamh, PAM_SERVICE));
	snprintf(actor.rhost, sizeof(actor.rhost), "%s", pam_item_text(pamh, PAM_RHOST));
	args = signin_args(user, claims, actor.service, actor.rhost);
	if (!args) {
		pam_syslog(pamh, LOG_ERR, "cannot check account %s: out of memory", user);
		return PAM_BUF_ERR;
	}
	r = pwb_rpc_call(cfg, "account.signin", &actor, args, &result, NULL, &err);
	if (r == PWB_ENODAEMON)
		return account_offline(pamh, cfg, user, claims, &err);
	if (r == PWB_EUNAVAIL) {
		/* pwbd's message names the user and the unreachable database */
		pam_syslog(pamh, LOG_ERR, "refusing %s: %s", user, pwb_error_text(&err, r));
		user_error(pamh, flags, UNAVAILABLE_MESSAGE);
		return PAM_AUTHINFO_UNAVAIL;
	}
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot check account %s: %s", user,
			   pwb_error_text(&err, r));
		return PAM_SYSTEM_ERR;
	}
	outcome_from_json(result, &o);
	pr = account_result(pamh, user, claims, &o);
	if (pr == PAM_SUCCESS)
		wait_until_resolvable(pamh, user);
	else if (pr != PAM_IGNORE)
		user_error(pamh, flags, result_message(o.result));
	return pr;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const struct pwb_claims *claims;
	struct pwb_error err = {0};
	struct pwb_config cfg = {0};
	struct options o;
	const char *user;
	int r, pr;

	pr = parse_options(pamh, argc, argv, &o);
	if (pr != PAM_SUCCESS)
		return pr;
	pr = get_user(pamh, &user);
	if (pr != PAM_SUCCESS)
		return pr;
	claims = get_claims(pamh);
	if (claims && strcmp(claims->username, user) != 0) {
		pam_syslog(pamh, LOG_ERR,
			   "refusing %s: the ID token was validated for another user (%s)", user,
			   claims->username);
		user_error(pamh, flags, "sign-in refused");
		return PAM_PERM_DENIED;
	}
	if (claims && claims->local_account) {
		/* Allowed by auth-openid-allow-local-accounts: the local
		 * account is used as it is, pwb does not touch it. */
		pam_syslog(pamh, LOG_INFO, "%s signed in to the local account of that name", user);
		return PAM_SUCCESS;
	}
	r = pwb_config_load(pwb_config_path(o.config), false, &cfg, &err);
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot check account %s: %s", user,
			   pwb_error_text(&err, r));
		return PAM_SYSTEM_ERR;
	}
	if (geteuid() != 0)
		pr = account_check_token(pamh, flags, &cfg, user, claims);
	else
		pr = account_check(pamh, flags, &cfg, user, claims);
	pwb_config_free(&cfg);
	return pr;
}

/* Uses or creates the home in-process (as root), by lib/base/home.c's
 * rule: created only where the root-owned pwb.conf allows, otherwise used
 * only if it already is the user's own directory. */
static int open_home(pam_handle_t *pamh, const struct options *o, const struct pwb_config *cfg,
		     const char *user, const struct passwd *pw)
{
	_cleanup_free_ char *used = NULL;
	struct pwb_error err = {0};
	int r;

	r = pwb_home_open(cfg, pw->pw_dir, pw->pw_uid, pw->pw_gid, o->skel, o->umask, &used, &err);
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot open session for %s: %s", user,
			   pwb_error_text(&err, r));
		return PAM_SESSION_ERR;
	}
	if (r == PWB_HOME_CREATED)
		pam_syslog(pamh, LOG_NOTICE, "created home %s for %s (uid %u) from %s", used, user,
			   pw->pw_uid, o->skel);
	else if (o->debug)
		pam_syslog(pamh, LOG_DEBUG, "home %s of %s already exists", used, user);
	return PAM_SUCCESS;
}

/* The session step as the login-user (pwb-login's PAM stack): it cannot
 * create a home, so pwbd does (account.home), after validating the raw
 * token again; pwbd's own skeleton and umask apply. */
static int open_home_by_pwbd(pam_handle_t *pamh, const struct pwb_config *cfg, const char *user)
{
	json_auto_t *result = NULL;
	struct pwb_actor actor = {.kind = "pwb-login"};
	struct pwb_error err = {0};
	const char *home, *who;
	int r;

	r = token_call(pamh, cfg, "account.home", &actor, &result, &err);
	if (r == PAM_BUF_ERR || r == PAM_AUTH_ERR)
		return PAM_SESSION_ERR;
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot open session for %s: pwbd: %s", user,
			   pwb_error_text(&err, r));
		return PAM_SESSION_ERR;
	}
	who = json_string_value(json_object_get(result, "user"));
	home = json_string_value(json_object_get(result, "home"));
	if (!who || strcmp(who, user) != 0 || !home) {
		pam_syslog(pamh, LOG_ERR,
			   "cannot open session for %s: pwbd made the home of another user", user);
		return PAM_SESSION_ERR;
	}
	if (json_is_true(json_object_get(result, "created")))
		pam_syslog(pamh, LOG_NOTICE, "pwbd created home %s for %s", home, user);
	else if (pwb_log_debug_enabled())
		pam_syslog(pamh, LOG_DEBUG, "home %s of %s already exists", home, user);
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	_cleanup_free_ char *buf = NULL;
	struct pwb_error err = {0};
	struct pwb_config cfg = {0};
	struct passwd pw;
	struct options o;
	const char *user;
	int r, pr;

	pr = parse_options(pamh, argc, argv, &o);
	if (pr != PAM_SUCCESS)
		return pr;
	pr = get_user(pamh, &user);
	if (pr != PAM_SUCCESS)
		return PAM_SESSION_ERR;
	if (geteuid() != 0) {
		r = pwb_config_load(pwb_config_path(o.config), false, &cfg, &err);
		if (r < 0) {
			pam_syslog(pamh, LOG_ERR, "cannot open session for %s: %s", user,
				   pwb_error_text(&err, r));
			return PAM_SESSION_ERR;
		}
		pr = open_home_by_pwbd(pamh, &cfg, user);
		pwb_config_free(&cfg);
		if (pr != PAM_SUCCESS)
			user_error(pamh, flags, "sign-in refused (home)");
		return pr;
	}
	r = get_passwd(user, &pw, &buf);
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot open session for %s: no passwd entry (%s)", user,
			   strerror(-r));
		return PAM_SESSION_ERR;
	}
	r = pwb_config_load(pwb_config_path(o.config), false, &cfg, &err);
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot open session for %s: %s", user,
			   pwb_error_text(&err, r));
		return PAM_SESSION_ERR;
	}
	pr = open_home(pamh, &o, &cfg, user, &pw);
	pwb_config_free(&cfg);
	return pr;
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_SUCCESS;
}

/* Nothing to establish: listed so that a stack naming the module under
 * auth by mistake does not fail on setcred. */
PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_IGNORE;
}
