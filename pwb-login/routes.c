/* pwb-login's routes under auth-openid-login-path: login (start a code
 * flow), callback (finish it: code exchange, PAM, session), auth (nginx
 * auth_request and the Apache authorizer), the landing page, whoami,
 * logout and backchannel-logout. Each refusal gets a reference that is on
 * its syslog line and its error page; no line ever holds a token, code,
 * state, verifier, nonce, cookie or secret. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "cleanup.h"
#include "cleanup_json.h"
#include "jwt.h"
#include "log.h"
#include "login.h"
#include "names.h"
#include "oidc.h"
#include "pam_run.h"
#include "reader.h"
#include "rpc.h"
#include "snapshot.h"

#define CODE_MAX		4096 /* bytes of an authorization code */
#define IDP_TEXT_MAX		200  /* bytes of an IdP's error text shown */
#define GROUPS_MAX		256  /* groups listed for a session */
#define GC_INTERVAL		300  /* seconds between two sweeps of the state directory */
#define LOGOUT_TOKEN_MAX_AGE	600  /* seconds a back-channel logout token is accepted */
#define JTI_CACHE_MAX		100000
#define BACKCHANNEL_LOGOUT_TYPE "application/x-www-form-urlencoded"

#define _cleanup_session_ _cleanup_(state_session_clear)

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static const char *prefix(const struct login_ctx *ctx)
{
	return ctx->cfg.openid_login_path;
}

/* The path of a route ("login") under the prefix, for links. */
static void route_path(const struct login_ctx *ctx, const char *route, char *out, size_t len)
{
	snprintf(out, len, "%s%s", prefix(ctx), route);
}

/* Logs a refusal with a fresh reference and shows the error page. what is
 * the log's reason (already safe to log); user may be NULL. */
static void refuse(const struct login_ctx *ctx, const struct http_request *req,
		   struct http_response *res, int status, const char *title, const char *detail,
		   const char *what, const char *user, bool offer_login)
{
	char ref[HTTP_REF_LEN + 1], login[1024], shown[PWB_NAME_MAX * 4 + 1], route[128];

	http_reference(ref);
	pwb_names_escape(user ? user : "-", shown, sizeof(shown));
	pwb_names_escape(req->authorizer	     ? "auth"
			 : req->route && *req->route ? req->route
						     : "landing",
			 route, sizeof(route));
	pwb_log(LOG_NOTICE, "pwb-login: refused %s: %s user=%s rhost=%s ref=%s", route, what, shown,
		req->client, ref);
	route_path(ctx, "login", login, sizeof(login));
	http_error_page(res, status, title, detail, ref, offer_login ? login : NULL);
}

static void redirect(struct http_response *res, const char *location)
{
	res->status = 302;
	http_header(res, "Location", "%s", location);
}

static void set_cookie(struct http_response *res, const char *name, const char *value,
		       int64_t max_age)
{
	if (max_age >= 0)
		http_header(res, "Set-Cookie",
			    "%s=%s; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=%lld", name,
			    value, (long long)max_age);
	else
		http_header(res, "Set-Cookie", "%s=%s; Path=/; Secure; HttpOnly; SameSite=Lax",
			    name, value);
}

static bool method_is(const struct http_request *req, const char *a, const char *b)
{
	return strcmp(req->method, a) == 0 || (b && strcmp(req->method, b) == 0);
}

/* The return URL of a login request: everything after a leading
 * "return=", taken as it is when it starts with '/' (nginx can pass
 * $request_uri unescaped), else percent-decoded. NULL when absent. */
static int return_url(const char *query, char **out)
{
	const char *raw;
	int r;

	*out = NULL;
	if (strncmp(query, "return=", 7) != 0) {
		r = http_form_get(query, "return", HTTP_RETURN_MAX, out);
		return r == 0 || r == PWB_ENOTFOUND ? 0 : -1;
	}
	raw = query + 7;
	if (*raw == '/') {
		if (strlen(raw) > HTTP_RETURN_MAX)
			return -1;
		*out = strdup(raw);
		return *out ? 0 : -1;
	}
	return http_form_get(query, "return", HTTP_RETURN_MAX, out) == 0 ? 0 : -1;
}

static void maybe_gc(struct login_ctx *ctx, const struct state_limits *lim)
{
	int64_t now = now_s();

	if (now - ctx->last_gc < GC_INTERVAL)
		return;
	ctx->last_gc = now;
	state_gc(&ctx->store, lim, ctx->cfg.auth_timeout_minutes, now);
}

static void route_login(struct login_ctx *ctx, struct http_request *req, struct http_response *res)
{
	_cleanup_rp_provider_ struct pwb_rp_provider provider = {0};
	_cleanup_free_ char *ret = NULL, *url = NULL;
	struct state_limits lim = {ctx->cfg.openid_flow_timeout, ctx->cfg.openid_max_pending_flows,
				   LOGIN_MAX_BROWSER_FLOWS};
	struct state_flow flow = {.created = now_s()};
	char state[PWB_RP_RANDOM_LEN + 1], browser[HTTP_COOKIE_VALUE];
	char challenge[PWB_RP_RANDOM_LEN + 1];
	struct pwb_error err = {0};
	bool new_browser = false;
	int r;

	if (!method_is(req, "GET", "HEAD")) {
		refuse(ctx, req, res, 405, "Method not allowed", "Use GET.", "method", NULL, false);
		return;
	}
	if (return_url(req->query, &ret) < 0 || (ret && !http_return_url_ok(ret))) {
		refuse(ctx, req, res, 400, "Return address refused",
		       "After sign-in pwb only returns to a page on this site.",
		       "return URL not a path on this site", NULL, false);
		return;
	}
	snprintf(flow.return_to, sizeof(flow.return_to), "%s", ret ? ret : "");
	if (http_cookie_get(http_param(req->envp, "HTTP_COOKIE"), HTTP_COOKIE_FLOW, browser) != 0 ||
	    !http_is_random_value(browser)) {
		new_browser = true;
		if (pwb_rp_random(browser) < 0) {
			refuse(ctx, req, res, 503, "Sign-in unavailable", "No randomness.",
			       "random", NULL, false);
			return;
		}
	}
	r = pwb_rp_random(state);
	r = r < 0 ? r : pwb_rp_random(flow.nonce);
	r = r < 0 ? r : pwb_rp_random(flow.verifier);
	r = r < 0 ? r : pwb_rp_pkce_challenge(flow.verifier, challenge);
	if (r < 0) {
		refuse(ctx, req, res, 503, "Sign-in unavailable",
		       "pwb-login cannot start a sign-in now.", "random/PKCE failed", NULL, false);
		return;
	}
	r = pwb_rp_provider_load(&ctx->cfg, &provider, &err);
	if (r == 0) {
		struct pwb_rp_authz a = {ctx->client_id, ctx->redirect_uri, ctx->cfg.openid_scopes,
					 state,		 flow.nonce,	    challenge};

		r = pwb_rp_authorize_url(&provider, &a, &url, &err);
	}
	if (r < 0) {
		refuse(ctx, req, res, 503, "Identity provider unavailable",
		       "The identity provider cannot be reached; try again later.",
		       pwb_error_text(&err, r), NULL, false);
		return;
	}
	maybe_gc(ctx, &lim);
	r = state_flow_put(&ctx->store, state, browser, &flow, &lim, flow.created, &err);
	explicit_bzero(&flow, sizeof(flow));
	if (r < 0) {
		refuse(ctx, req, res, 503,
		       r == PWB_EBUSY ? "Too many sign-ins" : "Sign-in unavailable",
		       r == PWB_EBUSY ? "Too many sign-ins are in progress; try again in a moment."
				      : "The sign-in cannot be recorded; try again later.",
		       pwb_error_text(&err, r), NULL, false);
		return;
	}
	if (new_browser)
		set_cookie(res, HTTP_COOKIE_FLOW, browser, -1);
	redirect(res, url);
	pwb_debug("pwb-login: sign-in started rhost=%s", req->client);
}

/* The IdP's error=... at the callback, as a page. */
static void idp_error(struct login_ctx *ctx, struct http_request *req, struct http_response *res,
		      const char *error)
{
	_cleanup_free_ char *desc = NULL;
	char detail[IDP_TEXT_MAX * 2 + 8], what[IDP_TEXT_MAX * 4 + 32], code[IDP_TEXT_MAX * 4];

	if (http_form_get(req->query, "error_description", IDP_TEXT_MAX, &desc) != 0)
		desc = NULL;
	pwb_names_escape(error, code, sizeof(code));
	snprintf(what, sizeof(what), "identity provider error %s", code);
	if (strcmp(error, "access_denied") == 0) {
		refuse(ctx, req, res, 403, "Not assigned to this app",
		       "The identity provider did not let you into this application; ask your "
		       "administrator to assign it to you.",
		       what, NULL, true);
		return;
	}
	snprintf(detail, sizeof(detail), "%.*s%s%.*s", IDP_TEXT_MAX, error, desc ? ": " : "",
		 IDP_TEXT_MAX, desc ? desc : "");
	refuse(ctx, req, res, 400, "Sign-in failed at the identity provider", detail, what, NULL,
	       true);
}

/* The Linux name the ID token's username claim maps to (not verified
 * here: PAM verifies the token, for exactly this name). */
static int token_user(const struct login_ctx *ctx, const char *id_token, json_t **claims,
		      char user[PWB_NAME_MAX + 1], struct pwb_error *err)
{
	_cleanup_jwt_ struct pwb_jwt *jwt = NULL;
	int r;

	*claims = NULL;
	r = pwb_jwt_parse(id_token, strlen(id_token), &jwt, err);
	if (r < 0)
		return r;
	r = pwb_oidc_jwt_username(&ctx->cfg, jwt, NULL, user, err);
	if (r < 0)
		return r;
	*claims = json_incref(jwt->payload);
	return 0;
}

/* The groups of user (NSS: nss_pwb answers for pwb's users) as a comma
 * list. */
static char *group_list(const char *user, gid_t gid)
{
	gid_t groups[GROUPS_MAX];
	int n = GROUPS_MAX;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	if (getgrouplist(user, gid, groups, &n) < 0)
		n = GROUPS_MAX; /* more than we show */
	for (int i = 0, shown = 0; i < n; i++) {
		struct group gr, *found = NULL;
		char buf[4096];

		if (getgrgid_r(groups[i], &gr, buf, sizeof(buf), &found) != 0 || !found ||
		    !pwb_names_is_valid(found->gr_name))
			continue;
		fprintf(f, "%s%s", shown++ ? "," : "", found->gr_name);
	}
	fclose(f);
	return out;
}

static uint64_t snapshot_seq(struct login_ctx *ctx, bool *known)
{
	uint64_t seq = 0;

	*known = false;
	if (!ctx->snapshot) {
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s/%s", ctx->cfg.db_dir, PWB_SNAP_DIR);
		if (pwb_snapshot_reader_new(dir, &ctx->snapshot) < 0)
			ctx->snapshot = NULL;
	}
	if (ctx->snapshot && pwb_snapshot_seq(ctx->snapshot, &seq) == 0)
		*known = true;
	return seq;
}

static void pam_refusal(struct login_ctx *ctx, struct http_request *req, struct http_response *res,
			const char *user, const struct pam_run_result *pr)
{
	char what[512];
	bool unavailable = pr->rc == PAM_AUTHINFO_UNAVAIL || pr->rc == PAM_SYSTEM_ERR ||
			   pr->rc == PAM_ABORT || pr->rc == PAM_BUF_ERR;

	snprintf(what, sizeof(what), "PAM %s: %s%s%s", pr->step, pam_strerror(NULL, pr->rc),
		 pr->message[0] ? ": " : "", pr->message);
	if (unavailable)
		refuse(ctx, req, res, 503, "Sign-in unavailable",
		       pr->message[0] ? pr->message
				      : "A service pwb needs is not available; try again later.",
		       what, user, true);
	else
		refuse(ctx, req, res, 403, "Sign-in refused",
		       pr->message[0] ? pr->message : "This account may not sign in here.", what,
		       user, true);
}

/* Makes the signed-in session for user and answers with its cookie. */
static void open_session(struct login_ctx *ctx, struct http_request *req, struct http_response *res,
			 const char *user, json_t *claims, const char *id_token,
			 const char *return_to)
{
	_cleanup_session_ struct state_session s = {0};
	struct passwd pw, *found = NULL;
	char buf[4096], cookie[PWB_RP_RANDOM_LEN + 1], old[HTTP_COOKIE_VALUE];
	const char *sub = json_string_value(json_object_get(claims, ctx->cfg.openid_subject_claim));
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	const char *sid = json_string_value(json_object_get(claims, "sid"));
	struct pwb_error err = {0};
	char ref[HTTP_REF_LEN + 1];
	bool known;
	int r;

	if (getpwnam_r(user, &pw, buf, sizeof(buf), &found) != 0 || !found) {
		refuse(ctx, req, res, 503, "Account not available",
		       "The account was made but cannot be looked up yet; try again.",
		       "getpwnam found no such user after PAM", user, true);
		return;
	}
	snprintf(s.user, sizeof(s.user), "%s", user);
	s.uid = pw.pw_uid;
	s.gid = pw.pw_gid;
	s.home = strdup(pw.pw_dir);
	s.groups = group_list(user, pw.pw_gid);
	s.issuer = strdup(iss ? iss : "");
	s.subject = strdup(sub ? sub : "");
	s.sid = sid ? strdup(sid) : NULL;
	s.id_token = strdup(id_token);
	s.created = now_s();
	s.seq = snapshot_seq(ctx, &known);
	if (!s.home || !s.groups || !s.issuer || !s.subject || !s.id_token || (sid && !s.sid) ||
	    !*s.subject) {
		refuse(ctx, req, res, 503, "Sign-in unavailable", "pwb-login ran out of memory.",
		       "session fields", user, true);
		return;
	}
	r = pwb_rp_random(cookie);
	r = r < 0 ? r : state_session_put(&ctx->store, cookie, &s, &err);
	if (r < 0) {
		refuse(ctx, req, res, 503, "Sign-in unavailable", "The session cannot be stored.",
		       pwb_error_text(&err, r), user, true);
		return;
	}
	/* rotation: the session this browser held before ends */
	if (http_cookie_get(http_param(req->envp, "HTTP_COOKIE"), HTTP_COOKIE_SESSION, old) == 0 &&
	    http_is_random_value(old))
		state_session_delete(&ctx->store, old);
	set_cookie(res, HTTP_COOKIE_SESSION, cookie,
		   (int64_t)ctx->cfg.openid_session_max_hours * 3600);
	explicit_bzero(cookie, sizeof(cookie));
	if (return_to && *return_to) {
		redirect(res, return_to);
	} else {
		redirect(res, prefix(ctx));
	}
	http_reference(ref);
	pwb_log(LOG_INFO, "pwb-login: sign-in user=%s uid=%u result=ok rhost=%s ref=%s", user,
		(unsigned)s.uid, req->client, ref);
}

static void route_callback(struct login_ctx *ctx, struct http_request *req,
			   struct http_response *res)
{
	_cleanup_free_ char *error = NULL, *state = NULL, *code = NULL;
	_cleanup_rp_provider_ struct pwb_rp_provider provider = {0};
	_cleanup_rp_tokens_ struct pwb_rp_tokens tokens = {0};
	_cleanup_json_ json_t *claims = NULL;
	struct state_flow flow = {0};
	struct pam_run_result pr;
	struct pwb_error err = {0};
	char browser[HTTP_COOKIE_VALUE], user[PWB_NAME_MAX + 1] = "";
	bool have_flow = false;
	int r;

	if (!method_is(req, "GET", NULL)) {
		refuse(ctx, req, res, 405, "Method not allowed", "Use GET.", "method", NULL, true);
		return;
	}
	if (http_form_get(req->query, "error", IDP_TEXT_MAX, &error) != 0)
		error = NULL;
	if (http_form_get(req->query, "state", STATE_VALUE_MAX, &state) != 0)
		state = NULL;
	if (http_form_get(req->query, "code", CODE_MAX, &code) != 0)
		code = NULL;
	/* the flow is taken whatever follows: a state serves once */
	if (http_is_random_value(state) &&
	    http_cookie_get(http_param(req->envp, "HTTP_COOKIE"), HTTP_COOKIE_FLOW, browser) == 0 &&
	    http_is_random_value(browser)) {
		r = state_flow_take(&ctx->store, state, browser, ctx->cfg.openid_flow_timeout,
				    now_s(), &flow, &err);
		have_flow = r == 0;
	} else {
		pwb_error_set(&err, PWB_EINVAL, "no well-formed state or no flow cookie");
	}
	if (error) {
		idp_error(ctx, req, res, error);
		explicit_bzero(&flow, sizeof(flow));
		return;
	}
	if (!have_flow) {
		refuse(ctx, req, res, 400, "This sign-in is no longer valid",
		       "It expired, was used already, or was started in another browser. "
		       "Start again.",
		       err.msg[0] ? err.msg : "state", NULL, true);
		return;
	}
	if (!code || !*code) {
		refuse(ctx, req, res, 400, "Sign-in incomplete",
		       "The identity provider sent no authorization code.", "no code", NULL, true);
		explicit_bzero(&flow, sizeof(flow));
		return;
	}
	r = pwb_rp_provider_load(&ctx->cfg, &provider, &err);
	if (r == 0) {
		struct pwb_rp_exchange x = {ctx->client_id, ctx->client_secret, ctx->method,
					    code,	    ctx->redirect_uri,	flow.verifier};

		r = pwb_rp_exchange_code(&ctx->cfg, &provider, &x, &tokens, &err);
	}
	explicit_bzero(code, strlen(code));
	if (r < 0) {
		explicit_bzero(&flow, sizeof(flow));
		refuse(ctx, req, res, r == PWB_EUNAVAIL ? 503 : 401,
		       r == PWB_EUNAVAIL ? "Identity provider unavailable" : "Sign-in refused",
		       r == PWB_EUNAVAIL ? "The identity provider cannot be reached; try again."
					 : "The identity provider did not accept this sign-in.",
		       pwb_error_text(&err, r), NULL, true);
		return;
	}
	r = token_user(ctx, tokens.id_token, &claims, user, &err);
	if (r < 0) {
		explicit_bzero(&flow, sizeof(flow));
		refuse(ctx, req, res, 403, "Name not allowed",
		       "Your user name cannot be used on this server.", pwb_error_text(&err, r),
		       NULL, true);
		return;
	}
	r = pam_run_signin(ctx->cfg.openid_pam_service, user, flow.nonce,
			   strcmp(req->client, "-") ? req->client : NULL, tokens.id_token, &pr);
	explicit_bzero(flow.nonce, sizeof(flow.nonce));
	explicit_bzero(flow.verifier, sizeof(flow.verifier));
	if (r < 0) {
		pam_refusal(ctx, req, res, user, &pr);
		return;
	}
	open_session(ctx, req, res, user, claims, tokens.id_token, flow.return_to);
}

/* Asks pwbd whether the session's account still stands; refreshes what
 * may have changed. 0: it does; PWB_ENOTFOUND: the session must end;
 * PWB_EUNAVAIL: pwbd cannot say. */
static int revalidate(struct login_ctx *ctx, struct state_session *s)
{
	_cleanup_json_ json_t *args = NULL, *result = NULL;
	struct pwb_error err = {0};
	const char *state;
	json_t *uid, *groups, *v;
	size_t i;
	int r;

	args = json_pack("{s:s,s:I,s:s,s:s}", "user", s->user, "uid", (json_int_t)s->uid, "issuer",
			 s->issuer, "subject", s->subject);
	if (!args)
		return PWB_EUNAVAIL;
	r = pwb_rpc_call(&ctx->cfg, "account.session_status", NULL, args, &result, NULL, &err);
	if (r < 0) {
		pwb_log(LOG_ERR, "pwb-login: cannot revalidate the session of %s: %s", s->user,
			pwb_error_text(&err, r));
		return PWB_EUNAVAIL;
	}
	state = json_string_value(json_object_get(result, "state"));
	uid = json_object_get(result, "uid");
	if (!state || strcmp(state, "active") != 0 || !json_is_integer(uid) ||
	    json_integer_value(uid) != (json_int_t)s->uid) {
		pwb_log(LOG_NOTICE, "pwb-login: session of %s ended: account %s", s->user,
			state && pwb_names_is_valid(state) ? state : "changed");
		return PWB_ENOTFOUND;
	}
	groups = json_object_get(result, "groups");
	if (json_is_array(groups)) {
		char *list = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&list, &len);

		if (!f)
			return PWB_EUNAVAIL;
		json_array_foreach(groups, i, v)
		{
			const char *name = json_string_value(v);

			if (name && pwb_names_is_valid(name))
				fprintf(f, "%s%s", ftell(f) ? "," : "", name);
		}
		fclose(f);
		free(s->groups);
		s->groups = list;
	}
	v = json_object_get(result, "gid");
	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= UINT32_MAX)
		s->gid = (uint32_t)json_integer_value(v);
	v = json_object_get(result, "home");
	if (json_is_string(v)) {
		char *home = strdup(json_string_value(v));

		if (home) {
			free(s->home);
			s->home = home;
		}
	}
	return 0;
}

/* The browser's live session: checked for lifetimes, revalidated with pwbd
 * when the snapshot moved since, marked seen. 0, PWB_ENOTFOUND (none, or
 * ended now) or PWB_EUNAVAIL (pwbd needed and unreachable: fail closed). */
static int current_session(struct login_ctx *ctx, struct http_request *req, struct state_session *s,
			   char cookie[HTTP_COOKIE_VALUE])
{
	struct pwb_error err = {0};
	int64_t now = now_s();
	uint64_t seq;
	bool known;
	int r;

	if (http_cookie_get(http_param(req->envp, "HTTP_COOKIE"), HTTP_COOKIE_SESSION, cookie) !=
		0 ||
	    !http_is_random_value(cookie))
		return PWB_ENOTFOUND;
	r = state_session_get(&ctx->store, cookie, s, &err);
	if (r < 0) {
		if (r != PWB_ENOTFOUND)
			pwb_log(LOG_ERR, "pwb-login: %s", pwb_error_text(&err, r));
		return PWB_ENOTFOUND;
	}
	if (state_session_expired(s, ctx->cfg.auth_timeout_minutes,
				  ctx->cfg.openid_session_max_hours, now)) {
		state_session_delete(&ctx->store, cookie);
		pwb_log(LOG_INFO, "pwb-login: session of %s expired rhost=%s", s->user,
			req->client);
		return PWB_ENOTFOUND;
	}
	seq = snapshot_seq(ctx, &known);
	if (!known || seq > s->seq) {
		r = revalidate(ctx, s);
		if (r == PWB_ENOTFOUND) {
			state_session_delete(&ctx->store, cookie);
			return r;
		}
		if (r < 0)
			return r;
		if (known) {
			s->seq = seq;
			r = state_session_update(&ctx->store, cookie, s, &err);
			if (r < 0)
				return PWB_ENOTFOUND; /* ended meanwhile */
		}
	} else if (now - s->last_seen >= LOGIN_TOUCH_INTERVAL) {
		state_session_touch(&ctx->store, cookie);
	}
	return 0;
}

static void route_auth(struct login_ctx *ctx, struct http_request *req, struct http_response *res)
{
	_cleanup_session_ struct state_session s = {0};
	char cookie[HTTP_COOKIE_VALUE];

	if (current_session(ctx, req, &s, cookie) < 0) {
		res->status = 401;
		return;
	}
	res->status = 200;
	http_header(res, "X-Pwb-User", "%s", s.user);
	http_header(res, "X-Pwb-Uid", "%u", (unsigned)s.uid);
	http_header(res, "X-Pwb-Groups", "%s", s.groups);
	if (req->authorizer) {
		/* mod_authnz_fcgi sets Variable-NAME headers as request
		 * environment variables (UserExpr "%{reqenv:PWB_USER}") */
		http_header(res, "Variable-PWB_USER", "%s", s.user);
		http_header(res, "Variable-PWB_UID", "%u", (unsigned)s.uid);
		http_header(res, "Variable-PWB_GROUPS", "%s", s.groups);
	}
}

static void route_landing(struct login_ctx *ctx, struct http_request *req,
			  struct http_response *res)
{
	_cleanup_session_ struct state_session s = {0};
	char cookie[HTTP_COOKIE_VALUE], user[PWB_NAME_MAX * 6], groups[8192], home[8192],
	    logout[1100], path[1024];
	char *body = NULL;
	int r;

	if (!method_is(req, "GET", "HEAD")) {
		refuse(ctx, req, res, 405, "Method not allowed", "Use GET.", "method", NULL, false);
		return;
	}
	r = current_session(ctx, req, &s, cookie);
	if (r == PWB_EUNAVAIL) {
		refuse(ctx, req, res, 503, "Sign-in unavailable",
		       "Your session cannot be checked now; try again later.", "revalidation", NULL,
		       false);
		return;
	}
	if (r < 0) {
		route_path(ctx, "login", path, sizeof(path));
		redirect(res, path);
		return;
	}
	http_html_escape(s.user, user, sizeof(user));
	http_html_escape(s.groups, groups, sizeof(groups));
	http_html_escape(s.home, home, sizeof(home));
	route_path(ctx, "logout", path, sizeof(path));
	http_html_escape(path, logout, sizeof(logout));
	res->status = 200;
	if (asprintf(&body,
		     "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		     "<title>Signed in as %s</title></head>\n<body>\n<h1>Signed in</h1>\n<dl>\n"
		     "<dt>Name</dt><dd id=\"pwb-user\">%s</dd>\n"
		     "<dt>UID</dt><dd id=\"pwb-uid\">%u</dd>\n"
		     "<dt>Groups</dt><dd id=\"pwb-groups\">%s</dd>\n"
		     "<dt>Home</dt><dd id=\"pwb-home\">%s</dd>\n</dl>\n"
		     "<form method=\"post\" action=\"%s\"><button id=\"pwb-logout\" "
		     "type=\"submit\">Sign out</button></form>\n</body></html>\n",
		     user, user, (unsigned)s.uid, groups, home, logout) < 0)
		body = NULL;
	http_body(res, "text/html; charset=utf-8", body);
}

static void route_whoami(struct login_ctx *ctx, struct http_request *req, struct http_response *res)
{
	_cleanup_session_ struct state_session s = {0};
	_cleanup_json_ json_t *doc = NULL, *groups = NULL;
	char cookie[HTTP_COOKIE_VALUE];
	int r = current_session(ctx, req, &s, cookie);

	if (r < 0) {
		res->status = r == PWB_EUNAVAIL ? 503 : 401;
		http_body(res, "application/json",
			  strdup(r == PWB_EUNAVAIL ? "{\"error\":\"unavailable\"}\n"
						   : "{\"error\":\"not signed in\"}\n"));
		return;
	}
	groups = json_array();
	for (const char *p = s.groups; groups && p && *p;) {
		size_t n = strcspn(p, ",");

		json_array_append_new(groups, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	doc = json_pack("{s:s,s:I,s:I,s:s,s:O}", "user", s.user, "uid", (json_int_t)s.uid, "gid",
			(json_int_t)s.gid, "home", s.home, "groups", groups);
	res->status = 200;
	http_body(res, "application/json", doc ? json_dumps(doc, JSON_COMPACT) : NULL);
}

/* A sign-out must come from pwb's own pages: browsers say so in
 * Sec-Fetch-Site (and Origin, for a POST). A GET is accepted only when
 * the browser says same-origin; a POST also when the browser is too old to
 * send Sec-Fetch-Site and its Origin, if any, is the configured base. */
static bool same_origin(const struct login_ctx *ctx, const struct http_request *req)
{
	const char *site = http_param(req->envp, "HTTP_SEC_FETCH_SITE");
	const char *origin = http_param(req->envp, "HTTP_ORIGIN");

	if (site)
		return strcmp(site, "same-origin") == 0;
	if (!method_is(req, "POST", NULL))
		return false;
	return !origin || strcmp(origin, ctx->cfg.openid_base_uri) == 0;
}

static void route_logout(struct login_ctx *ctx, struct http_request *req, struct http_response *res)
{
	_cleanup_session_ struct state_session s = {0};
	_cleanup_rp_provider_ struct pwb_rp_provider provider = {0};
	_cleanup_free_ char *url = NULL;
	char cookie[HTTP_COOKIE_VALUE];
	struct pwb_error err = {0};
	bool had = false;
	int r;

	if (!method_is(req, "POST", "GET")) {
		refuse(ctx, req, res, 405, "Method not allowed", "Use POST.", "method", NULL,
		       false);
		return;
	}
	if (!same_origin(ctx, req)) {
		refuse(ctx, req, res, 403, "Sign-out refused",
		       "Sign out with the button on the landing page.", "cross-site logout", NULL,
		       false);
		return;
	}
	if (http_cookie_get(http_param(req->envp, "HTTP_COOKIE"), HTTP_COOKIE_SESSION, cookie) ==
		0 &&
	    http_is_random_value(cookie) && state_session_get(&ctx->store, cookie, &s, &err) == 0) {
		had = true;
		state_session_delete(&ctx->store, cookie);
		pwb_log(LOG_INFO, "pwb-login: logout user=%s rhost=%s", s.user, req->client);
	}
	set_cookie(res, HTTP_COOKIE_SESSION, "", 0);
	r = pwb_rp_provider_load(&ctx->cfg, &provider, &err);
	if (r == 0 && had)
		r = pwb_rp_end_session_url(&provider, s.id_token, ctx->client_id,
					   ctx->cfg.openid_post_logout_uri, NULL, &url, &err);
	if (r == 0 && url) {
		redirect(res, url);
		return;
	}
	if (r < 0 && r != PWB_ENOTFOUND)
		pwb_log(LOG_NOTICE, "pwb-login: no RP-initiated logout at the provider: %s",
			pwb_error_text(&err, r));
	redirect(res, prefix(ctx));
}

static void backchannel_error(struct http_response *res, const char *description)
{
	_cleanup_json_ json_t *doc =
	    json_pack("{s:s,s:s}", "error", "invalid_request", "error_description", description);

	res->status = 400;
	http_body(res, "application/json", doc ? json_dumps(doc, JSON_COMPACT) : NULL);
}

static void route_backchannel(struct login_ctx *ctx, struct http_request *req,
			      struct http_response *res)
{
	_cleanup_rp_logout_ struct pwb_rp_logout lo = {0};
	_cleanup_free_ char *token = NULL;
	const char *type = http_param(req->envp, "CONTENT_TYPE");
	struct pwb_error err = {0};
	char ref[HTTP_REF_LEN + 1];
	int64_t now = now_s(), expires;
	unsigned ended = 0;
	int r;

	http_reference(ref);
	if (!method_is(req, "POST", NULL)) {
		res->status = 405;
		http_header(res, "Allow", "POST");
		return;
	}
	if (!type || strncmp(type, BACKCHANNEL_LOGOUT_TYPE, strlen(BACKCHANNEL_LOGOUT_TYPE)) != 0 ||
	    http_form_get(req->body, "logout_token", PWB_JWT_MAX_BYTES, &token) != 0) {
		pwb_log(LOG_NOTICE,
			"pwb-login: refused backchannel-logout: no logout_token form "
			"field rhost=%s ref=%s",
			req->client, ref);
		backchannel_error(res, "a form with one logout_token is required");
		return;
	}
	r = pwb_rp_logout_token_verify(&ctx->cfg, ctx->client_id, token, strlen(token),
				       LOGOUT_TOKEN_MAX_AGE, &lo, &err);
	if (r == 0) {
		/* past its maximum age the token is refused anyway: the
		 * entry need not outlive that, whatever exp says */
		expires = lo.iat + LOGOUT_TOKEN_MAX_AGE + (int64_t)ctx->cfg.openid_leeway;
		r = state_jti_record(&ctx->store, lo.jti, expires, JTI_CACHE_MAX, now, &err);
	}
	if (r == 0)
		r = state_sessions_end(&ctx->store, ctx->cfg.openid_issuer, lo.sid, lo.sub, &ended,
				       &err);
	if (r < 0) {
		pwb_log(LOG_NOTICE, "pwb-login: refused backchannel-logout: %s rhost=%s ref=%s",
			pwb_error_text(&err, r), req->client, ref);
		backchannel_error(res, r == PWB_EEXIST ? "logout token replayed"
						       : "logout token not valid");
		return;
	}
	pwb_log(LOG_INFO, "pwb-login: backchannel-logout ended %u session(s) rhost=%s ref=%s",
		ended, req->client, ref);
	res->status = 200;
}

struct route {
	const char *name;
	void (*handler)(struct login_ctx *, struct http_request *, struct http_response *);
};

static const struct route routes[] = {
    {"", route_landing},
    {"login", route_login},
    {"callback", route_callback},
    {"auth", route_auth},
    {"whoami", route_whoami},
    {"logout", route_logout},
    {"backchannel-logout", route_backchannel},
};

void login_route(struct login_ctx *ctx, struct http_request *req, struct http_response *res)
{
	if (req->authorizer) {
		route_auth(ctx, req, res);
		return;
	}
	for (size_t i = 0; req->route && i < PWB_ARRAY_SIZE(routes); i++) {
		if (strcmp(req->route, routes[i].name) == 0) {
			routes[i].handler(ctx, req, res);
			return;
		}
	}
	refuse(ctx, req, res, 404, "Not found", "pwb-login has no such page.", "no such route",
	       NULL, false);
}
