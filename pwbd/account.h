/* The sign-in decision that pwbd runs for pam_pwb_mkhome's account phase
 * and for pwb-login (op account.signin, op_account.c): whether a user may sign in,
 * registers an unknown user on first sign-in (JIT) from the claims
 * pam_pwb_oidc validated, holds a signed-in user to the IdP identity
 * (issuer, subject) the account is bound to, syncs their pwb groups with the
 * groups claim and records the sign-in time, all in one store transaction. */
#ifndef PWB_ACCOUNT_H
#define PWB_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include "claims.h"
#include "error.h"
#include "store.h"

enum pwb_account_result {
	PWB_ACCOUNT_ACTIVE,	/* a known, active pwb user */
	PWB_ACCOUNT_REGISTERED, /* unknown until now: registered just now */
	PWB_ACCOUNT_LOCKED,	/* a pwb user who is locked (deactivated) */
	PWB_ACCOUNT_UNKNOWN,	/* neither pwb nor local, and not registered */
	PWB_ACCOUNT_LOCAL,	/* a local (non-pwb) account: never registered over */
	/* Refused for who signed in (detail names both identities): */
	PWB_ACCOUNT_OTHER_IDENTITY, /* bound to another issuer/subject (or none presented) */
	PWB_ACCOUNT_UNBOUND,	    /* not bound yet, and binding at sign-in is not allowed */
	PWB_ACCOUNT_SUBJECT_TAKEN,  /* the presented identity is bound to another account */
};

#define PWB_ACCOUNT_DETAIL_MAX 1024

struct pwb_account_outcome {
	enum pwb_account_result result;
	uint32_t uid;	       /* the pwb user's uid (ACTIVE, REGISTERED, LOCKED) */
	const char *why;       /* for UNKNOWN: why no registration happened */
	unsigned groups_added; /* memberships added by the group sync */
	unsigned groups_removed;
	bool bound; /* ACTIVE: the account was bound to the token's identity just now */
	/* Decided from this host's replica without writing: the cluster
	 * database cannot be reached (or this host is a cluster reader). The
	 * sign-in time is not recorded and the group sync is deferred. */
	bool from_replica;
	bool groups_deferred; /* from_replica, and the claims' groups were not synced */
	/* For the identity results and `bound`: what to log, untrusted text
	 * already escaped. */
	char detail[PWB_ACCOUNT_DETAIL_MAX];
};

/* The result's name on the wire ("active", "registered", "locked",
 * "unknown", "local", "other_identity", "unbound", "subject_taken"): pwbd
 * answers with it, pam_pwb_mkhome maps it to a PAM code. */
const char *pwb_account_result_name(enum pwb_account_result r);

/* Looks user (a valid Linux name) up in the store and acts on it. claims may
 * be NULL (someone else authenticated: no identity check); when present it
 * must be for user. Registration needs claims, user-provisioning-enabled and
 * user-provisioning-register-on-first-login, and binds the new account to
 * the claims' issuer and subject. A known account signing in with claims
 * must be bound to exactly those; an unbound one is bound now if it is
 * marked bind_on_login (created by SCIM or pwbadm, or unbound by an
 * administrator), auth-openid-bind-existing-users is on or
 * auth-openid-username-domains is set, and refused otherwise. Group sync
 * runs for JIT-registered users whenever claims are present and
 * provisioning is enabled; deny-listed and local group names are skipped.
 * In cluster mode, when the write cannot run (the database cannot be
 * reached: PWB_EUNAVAIL; a reader host: PWB_EPERM), the decision is made
 * again from the replica, writing nothing: a known user signs in (the
 * group sync deferred, logged as a warning), while registering a new user
 * or binding an account fails with PWB_EUNAVAIL naming the user and the
 * reason. Returns 0 with *out filled, or a negative code (store failure). */
int pwb_account_check(struct pwb_store *st, const char *user, const struct pwb_claims *claims,
		      struct pwb_account_outcome *out, struct pwb_error *err);

/* What a signed-in session's account looks like now (op
 * account.session_status, and account.home before it creates a home). */
enum pwb_session_state {
	PWB_SESSION_ACTIVE,
	PWB_SESSION_LOCKED, /* the account is locked (deactivated) */
	PWB_SESSION_GONE,   /* no such name, another uid, or bound to another identity */
};

struct pwb_session_status {
	enum pwb_session_state state;
	uint32_t uid, gid; /* ACTIVE and LOCKED */
	char *home;	   /* ACTIVE and LOCKED; owned */
	json_t *groups;	   /* ACTIVE: names of the user's pwb groups (array, owned) */
};

/* "active", "locked", "gone". */
const char *pwb_session_state_name(enum pwb_session_state s);

/* Reads user's account (read-only): GONE unless the name exists, its uid
 * equals *uid (uid NULL: any) and it is bound to exactly (issuer,
 * subject); then LOCKED or ACTIVE with uid, gid, home and groups.
 * Returns 0 with *out filled (clear with pwb_session_status_clear), or a
 * negative code (store failure). */
int pwb_account_session_status(struct pwb_store *st, const char *user, const uint32_t *uid,
			       const char *issuer, const char *subject,
			       struct pwb_session_status *out, struct pwb_error *err);
void pwb_session_status_clear(struct pwb_session_status *s);

#endif
