/* pam_pwb_mkhome entry points: account (JIT registration, identity
 * binding, locks, group sync; account.c) and session (home directory
 * within the configured roots; home.c). Thin adapters:
 * parse the arguments, call, map the result to a PAM code and one syslog
 * line. Never prints, never exits: it runs inside someone else's process. */
#include <errno.h>
#include <pwd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "account.h"
#include "claims.h"
#include "cleanup.h"
#include "config.h"
#include "home.h"
#include "log.h"
#include "names.h"
#include "policy.h"
#include "publish.h"
#include "store.h"

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

static int account_result(pam_handle_t *pamh, const char *user, const struct pwb_claims *claims,
			  const struct pwb_account_outcome *o)
{
	switch (o->result) {
	case PWB_ACCOUNT_ACTIVE:
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
	case PWB_ACCOUNT_REGISTERED:
		pam_syslog(pamh, LOG_NOTICE,
			   "registered %s on first sign-in (uid %u, %u groups), bound to %s", user,
			   o->uid, o->groups_added, o->detail);
		return PAM_SUCCESS;
	case PWB_ACCOUNT_OTHER_IDENTITY:
	case PWB_ACCOUNT_UNBOUND:
	case PWB_ACCOUNT_SUBJECT_TAKEN:
		if (o->uid)
			pam_syslog(pamh, LOG_WARNING, "refusing %s (uid %u): %s", user, o->uid,
				   o->detail);
		else
			pam_syslog(pamh, LOG_WARNING, "refusing to register %s: %s", user,
				   o->detail);
		return PAM_PERM_DENIED;
	case PWB_ACCOUNT_LOCKED:
		pam_syslog(pamh, LOG_NOTICE,
			   "refusing %s (uid %u): the account is locked (deactivated)", user,
			   o->uid);
		return PAM_ACCT_EXPIRED;
	case PWB_ACCOUNT_UNKNOWN:
		pam_syslog(pamh, LOG_NOTICE, "refusing unknown user %s: %s", user, o->why);
		return PAM_USER_UNKNOWN;
	case PWB_ACCOUNT_LOCAL:
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

/* A user another process registered a moment ago can be in the store
 * before that process has published the NSS snapshot (the store publishes
 * after releasing its write lock). Whatever runs after the account step
 * (setcred modules, the session, initgroups) needs the passwd entry, so
 * wait, briefly, for the publisher to catch up. */
#define NSS_WAIT_STEP_USEC 10000
#define NSS_WAIT_STEPS	   200

static void wait_until_resolvable(pam_handle_t *pamh, const char *user)
{
	_cleanup_free_ char *buf = NULL;
	struct passwd pw;
	int i;

	for (i = 0; i < NSS_WAIT_STEPS; i++) {
		free(buf);
		buf = NULL;
		if (get_passwd(user, &pw, &buf) == 0)
			return;
		usleep(NSS_WAIT_STEP_USEC);
	}
	pam_syslog(pamh, LOG_WARNING,
		   "%s is in the pwb store but not visible through NSS after %d ms: is pwb listed "
		   "for passwd in /etc/nsswitch.conf?",
		   user, NSS_WAIT_STEPS * NSS_WAIT_STEP_USEC / 1000);
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const struct pwb_claims *claims;
	struct pwb_account_outcome outcome;
	struct pwb_error err = {0};
	struct pwb_config cfg = {0};
	struct pwb_store *st = NULL;
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
		return PAM_PERM_DENIED;
	}
	if (claims && claims->local_account) {
		/* Allowed by auth-openid-allow-local-accounts: the local
		 * account is used as it is, the store is not touched. */
		pam_syslog(pamh, LOG_INFO, "%s signed in to the local account of that name", user);
		return PAM_SUCCESS;
	}

	r = pwb_config_load(pwb_config_path(o.config), false, &cfg, &err);
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot check account %s: %s", user,
			   pwb_error_text(&err, r));
		return PAM_SYSTEM_ERR;
	}
	r = pwb_store_open(&cfg, &st, &err);
	if (r == 0 && (r = pwb_publish_attach(st, &err)) < 0) {
		pwb_store_close(st);
		st = NULL;
	}
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot check account %s: %s", user,
			   pwb_error_text(&err, r));
		pr = PAM_SYSTEM_ERR;
		goto out;
	}
	r = pwb_account_check(st, user, claims, &outcome, &err);
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot check account %s: %s", user,
			   pwb_error_text(&err, r));
		pr = PAM_SYSTEM_ERR;
		goto out;
	}
	pr = account_result(pamh, user, claims, &outcome);
	if (pr == PAM_SUCCESS)
		wait_until_resolvable(pamh, user);
out:
	if (st)
		pwb_store_close(st);
	pwb_config_free(&cfg);
	return pr;
}

/* Uses or creates the home. A path the root-owned pwb.conf does not allow
 * (user-homedir-path, user-homedir-allowed-roots) is never created,
 * whatever NSS (the store, SCIM) says; it is used only if it already is the
 * user's own directory, as root's /root is. */
static int open_home(pam_handle_t *pamh, const struct options *o, const struct pwb_config *cfg,
		     const char *user, const struct passwd *pw)
{
	_cleanup_free_ char *norm = NULL;
	struct pwb_error err = {0}, perr = {0};
	int r, pr;

	pr = pwb_policy_home(cfg, pw->pw_dir, &norm, &perr);
	if (pr == 0)
		r = pwb_home_create(norm, pw->pw_uid, pw->pw_gid, o->skel, o->umask, &err);
	else
		r = pwb_home_use_existing(pw->pw_dir, pw->pw_uid, &err);
	if (r < 0 && pr < 0) {
		/* Both reasons, in one line: why it was not created, and why
		 * what is there (if anything) is not the user's. */
		pam_syslog(pamh, LOG_ERR, "cannot open session for %s: home not created: %s%s%s",
			   user, pwb_error_text(&perr, pr), r == -ENOENT ? "" : "; ",
			   r == -ENOENT ? "" : pwb_error_text(&err, r));
		return PAM_SESSION_ERR;
	}
	if (r < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot open session for %s: %s", user,
			   pwb_error_text(&err, r));
		return PAM_SESSION_ERR;
	}
	if (r == PWB_HOME_CREATED)
		pam_syslog(pamh, LOG_NOTICE, "created home %s for %s (uid %u) from %s", norm, user,
			   pw->pw_uid, o->skel);
	else if (o->debug)
		pam_syslog(pamh, LOG_DEBUG, "home %s of %s already exists", pw->pw_dir, user);
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
