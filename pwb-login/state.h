/* pwb-login's state on disk, in its own 0700 directory
 * (auth-openid-session-dir): open sign-in flows (flows/), sessions
 * (sessions/) and the back-channel logout jti replay cache (jti/). Files
 * are named by the SHA-256 of the secret that finds them (state, cookie,
 * jti), never by the secret itself, and written whole (temp + rename), so
 * several worker processes share the directory without locks. A flow is
 * taken by renaming it away: of two callbacks with one state, one wins. */
#ifndef PWB_LOGIN_STATE_H
#define PWB_LOGIN_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "error.h"
#include "names.h"

#define STATE_VALUE_MAX 64 /* state, nonce, verifier, cookie: base64url */

struct state_store {
	int dir, flows, sessions, jti; /* directory descriptors, -1 when closed */
};

/* Opens (creating them 0700 when missing) the directory and its flows/,
 * sessions/ and jti/ folders. The directory must be owned by the running
 * user and not accessible to group or others: PWB_ECONFIG otherwise. */
int state_open(const char *dir, struct state_store *st, struct pwb_error *err);
void state_close(struct state_store *st);

/* An open sign-in flow. */
struct state_flow {
	char nonce[STATE_VALUE_MAX];
	char verifier[STATE_VALUE_MAX];
	char return_to[1025]; /* "" for the landing page */
	int64_t created;
};

struct state_limits {
	uint32_t flow_timeout;	    /* seconds */
	uint32_t max_flows;	    /* open flows in all */
	uint32_t max_browser_flows; /* open flows of one browser */
};

/* Records flow under state, bound to browser (the flow cookie). Expired
 * flows are removed first. PWB_EBUSY when the global or the browser's cap
 * is reached. */
int state_flow_put(struct state_store *st, const char *state, const char *browser,
		   const struct state_flow *flow, const struct state_limits *lim, int64_t now,
		   struct pwb_error *err);

/* Takes (removes and returns) the flow of state opened by browser.
 * PWB_ENOTFOUND when there is none (never opened, taken already, opened by
 * another browser) or it expired. */
int state_flow_take(struct state_store *st, const char *state, const char *browser,
		    uint32_t flow_timeout, int64_t now, struct state_flow *out,
		    struct pwb_error *err);

/* A signed-in session. Strings malloc'd (state_session_clear). */
struct state_session {
	char user[PWB_NAME_MAX + 1];
	uint32_t uid, gid;
	char *home;
	char *groups;		      /* comma list of names */
	char *issuer, *subject, *sid; /* sid NULL when the token had none */
	char *id_token;		      /* for id_token_hint at logout */
	int64_t created;
	int64_t last_seen; /* the file's mtime */
	uint64_t seq;	   /* snapshot sequence at the last validation */
};
void state_session_clear(struct state_session *s);

/* Writes a new session under cookie. */
int state_session_put(struct state_store *st, const char *cookie, const struct state_session *s,
		      struct pwb_error *err);

/* Reads the session of cookie. PWB_ENOTFOUND when none. */
int state_session_get(struct state_store *st, const char *cookie, struct state_session *out,
		      struct pwb_error *err);

/* Replaces the session of cookie, only if it still exists (a session ended
 * meanwhile is not brought back): PWB_ENOTFOUND otherwise. */
int state_session_update(struct state_store *st, const char *cookie, const struct state_session *s,
			 struct pwb_error *err);

/* Marks the session as seen now (its mtime); never re-creates it. */
int state_session_touch(struct state_store *st, const char *cookie);

int state_session_delete(struct state_store *st, const char *cookie);

/* True when s passed its idle (minutes) or absolute (hours) lifetime. */
bool state_session_expired(const struct state_session *s, uint32_t idle_minutes, uint32_t max_hours,
			   int64_t now);

/* Ends every session of issuer whose sid equals sid (when not NULL) and
 * whose subject equals sub (when not NULL); *ended counts them. */
int state_sessions_end(struct state_store *st, const char *issuer, const char *sid, const char *sub,
		       unsigned *ended, struct pwb_error *err);

/* Records jti as seen until expires. PWB_EEXIST when it was seen already;
 * PWB_EBUSY when max entries are live. */
int state_jti_record(struct state_store *st, const char *jti, int64_t expires, uint32_t max,
		     int64_t now, struct pwb_error *err);

/* Removes expired flows and idle sessions (by mtime, without reading
 * them). Cheap enough for a sign-in, not for every auth request. */
void state_gc(struct state_store *st, const struct state_limits *lim, uint32_t idle_minutes,
	      int64_t now);

#endif
