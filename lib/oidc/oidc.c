/* The OIDC sign-in decision (see oidc.h): fetch-or-cache the issuer's
 * discovery document and JWKS, pick the key, verify, check claims, map the
 * user name, apply the local-account rule, and build the claims for
 * pam_pwb_mkhome. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include "cleanup.h"
#include "cleanup_json.h"
#include "http.h"
#include "jwks.h"
#include "jwt.h"
#include "log.h"
#include "oidc.h"
#include "oidc_cache.h"
#include "oidc_local.h"
#include "secret.h"
#include "util.h"

#define DISCOVERY_MAX_BYTES (64 * 1024)
#define JWKS_MAX_BYTES	    (256 * 1024)
#define CACHE_TTL_MAX	    (7 * 86400)
#define SUBJECT_MAX	    255
#define MAX_GROUPS	    1024
#define MAX_CANDIDATE_KEYS  8

struct oidc_ctx {
	const struct pwb_config *cfg;
	char cache_dir[PATH_MAX]; /* empty: no usable cache, fetch every time */
	int64_t now;
};

typedef int (*validate_fn)(struct oidc_ctx *ctx, const char *body, struct pwb_error *err);

static int validate_discovery(struct oidc_ctx *ctx, const char *body, struct pwb_error *err)
{
	_cleanup_json_ json_t *root = NULL;
	json_error_t jerr;
	json_t *iss, *jwks_uri;

	root = json_loads(body, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return pwb_error_set(err, PWB_EUNAVAIL, "discovery: line %d: %s", jerr.line,
				     jerr.text);
	iss = json_object_get(root, "issuer");
	jwks_uri = json_object_get(root, "jwks_uri");
	if (!json_is_string(iss) || strcmp(json_string_value(iss), ctx->cfg->openid_issuer) != 0)
		return pwb_error_set(err, PWB_EUNAVAIL,
				     "discovery: \"issuer\" is not auth-openid-issuer exactly");
	if (!json_is_string(jwks_uri) || strncmp(json_string_value(jwks_uri), "https://", 8) != 0)
		return pwb_error_set(err, PWB_EUNAVAIL, "discovery: no https jwks_uri");
	return 0;
}

static int validate_jwks(struct oidc_ctx *ctx, const char *body, struct pwb_error *err)
{
	_cleanup_jwks_ struct pwb_jwks *jwks = NULL;

	return pwb_jwks_parse(body, strlen(body), &jwks, err) < 0 ? PWB_EUNAVAIL : 0;
}

/* Fetches url, validates it, and stores it in the cache with `forced`
 * (the time of the last refetch forced by an unknown kid). */
static int fetch_document(struct oidc_ctx *ctx, const char *name, const char *url, size_t max,
			  validate_fn validate, int64_t forced, struct pwb_cache_entry *e,
			  struct pwb_error *err)
{
	_cleanup_http_response_ struct pwb_http_response resp = {0};
	struct pwb_error serr = {0};
	int64_t ttl;
	int r;

	pwb_debug("pwb-oidc: fetching %s", url);
	r = pwb_http_get(url, ctx->cfg->openid_ca_file, ctx->cfg->openid_http_timeout, max, &resp,
			 err);
	if (r < 0)
		return r;
	r = validate(ctx, resp.body, err);
	if (r < 0) {
		pwb_error_prefix(err, "%s", url);
		return r;
	}
	/* Cache-Control wins over the configured TTL; no-store/no-cache keeps
	 * the copy only as a fallback for when the issuer is unreachable. */
	ttl = resp.no_store ? 0 : resp.max_age >= 0 ? resp.max_age : ctx->cfg->openid_cache_ttl;
	if (ttl > CACHE_TTL_MAX)
		ttl = CACHE_TTL_MAX;
	/* A copy is never used past the age limit, so it is never fresh
	 * past it either. */
	if (ttl > (int64_t)ctx->cfg->openid_cache_max_age)
		ttl = ctx->cfg->openid_cache_max_age;
	memset(e, 0, sizeof(*e));
	e->url = strdup(url);
	e->body = PWB_TAKE_PTR(resp.body);
	e->fetched = ctx->now;
	e->expires = ctx->now + ttl;
	e->forced = forced;
	if (!e->url) {
		pwb_cache_entry_clear(e);
		return pwb_error_set(err, -ENOMEM, "out of memory");
	}
	if (ctx->cache_dir[0] && pwb_oidc_cache_save(ctx->cache_dir, name, e, &serr) < 0)
		pwb_log(LOG_WARNING, "pwb-oidc: cannot cache %s: %s", url, serr.msg);
	return 0;
}

enum refresh {
	USE_CACHE,     /* a fresh cached copy will do */
	FORCE_REFETCH, /* unknown kid: refetch, unless one was forced too recently */
};

/* Whether a cached copy is past auth-openid-cache-max-age, counted from
 * the fetch time recorded in the entry (not the file's mtime, which a
 * failed refetch attempt also bumps). A fetch time in the future (the
 * clock went backwards) makes the age unknown: too old. */
static bool too_old(const struct oidc_ctx *ctx, const struct pwb_cache_entry *cached)
{
	return cached->fetched > ctx->now ||
	       ctx->now - cached->fetched > (int64_t)ctx->cfg->openid_cache_max_age;
}

/* The refusal when the issuer is unreachable and the cached copy is too
 * old: "issuer: ISSUER unreachable, and the cached KIND is N s old, beyond
 * auth-openid-cache-max-age=M: " before the fetch error already in err. */
static int refuse_too_old(struct oidc_ctx *ctx, const char *kind,
			  const struct pwb_cache_entry *cached, struct pwb_error *err)
{
	const char *what = strcmp(kind, "jwks") == 0 ? "JWKS" : "discovery document";
	char cause[sizeof(err->msg)];

	memcpy(cause, err->msg, sizeof(cause));
	if (cached->fetched > ctx->now)
		return pwb_error_set(err, PWB_EUNAVAIL,
				     "issuer: %s unreachable, and the cached %s was fetched %lld s "
				     "in the future (the clock went back), so its age is unknown: "
				     "%s",
				     ctx->cfg->openid_issuer, what,
				     (long long)(cached->fetched - ctx->now), cause);
	return pwb_error_set(err, PWB_EUNAVAIL,
			     "issuer: %s unreachable, and the cached %s is %lld s old, beyond "
			     "auth-openid-cache-max-age=%u: %s",
			     ctx->cfg->openid_issuer, what, (long long)(ctx->now - cached->fetched),
			     (unsigned)ctx->cfg->openid_cache_max_age, cause);
}

/* The document at url: a fresh cached copy when there is one, else the
 * network, else a stale copy no older than auth-openid-cache-max-age.
 * FORCE_REFETCH goes to the network at most once per
 * auth-openid-jwks-refresh-interval, so a flood of bogus kids cannot
 * hammer the issuer while a genuine rotation is seen at once. */
static int get_document(struct oidc_ctx *ctx, const char *kind, const char *url, size_t max,
			validate_fn validate, enum refresh refresh, struct pwb_cache_entry *e,
			bool *fetched, struct pwb_error *err)
{
	struct pwb_cache_entry cached = {0};
	struct pwb_error lerr = {0};
	int64_t forced = 0, interval = ctx->cfg->openid_jwks_refresh_min;
	char name[80];
	bool have = false, usable = false;
	int r;

	*fetched = false;
	memset(e, 0, sizeof(*e));
	if (pwb_oidc_cache_name(kind, url, name) < 0)
		return pwb_error_set(err, -EIO, "cannot hash %s", url);
	if (ctx->cache_dir[0] && pwb_oidc_cache_load(ctx->cache_dir, name, &cached, &lerr) == 0) {
		/* A copy that no longer validates (issuer changed in the
		 * config, say) is as good as none. */
		have = strcmp(cached.url, url) == 0 && validate(ctx, cached.body, &lerr) == 0;
		if (!have)
			pwb_cache_entry_clear(&cached);
	}
	/* Past the age limit (or from a clock that went backwards) a copy
	 * is neither fresh nor a fallback: only the network will do. */
	usable = have && !too_old(ctx, &cached);
	if (usable) {
		forced = cached.forced <= ctx->now ? cached.forced : 0;
		if (refresh == USE_CACHE && ctx->now < cached.expires) {
			*e = cached;
			return 0;
		}
		if (refresh == FORCE_REFETCH && forced && ctx->now - forced < interval) {
			pwb_debug("pwb-oidc: %s refetched for an unknown kid %lld s ago, not again "
				  "yet",
				  url, (long long)(ctx->now - forced));
			*e = cached;
			return 0;
		}
	}
	if (refresh == FORCE_REFETCH)
		forced = ctx->now;
	r = fetch_document(ctx, name, url, max, validate, forced, e, err);
	if (r == 0) {
		*fetched = true;
		pwb_cache_entry_clear(&cached);
		return 0;
	}
	if (usable) {
		pwb_log(LOG_WARNING, "pwb-oidc: %s; using the cached copy from %lld s ago",
			err->msg, (long long)(ctx->now - cached.fetched));
		if (refresh == FORCE_REFETCH && ctx->cache_dir[0]) {
			/* Remember the attempt, so a down issuer is not retried
			 * on every bogus kid either. */
			cached.forced = ctx->now;
			pwb_oidc_cache_save(ctx->cache_dir, name, &cached, &lerr);
		}
		*e = cached;
		return 0;
	}
	if (r == -ENOMEM) {
		pwb_cache_entry_clear(&cached);
		return r;
	}
	if (have) {
		r = refuse_too_old(ctx, kind, &cached, err);
		pwb_cache_entry_clear(&cached);
		return r;
	}
	pwb_error_prefix(err, "issuer");
	return err->code = PWB_EUNAVAIL;
}

static char *discovery_url(const char *issuer)
{
	size_t len = strlen(issuer);
	char *url = NULL;

	while (len > 0 && issuer[len - 1] == '/')
		len--;
	if (asprintf(&url, "%.*s/.well-known/openid-configuration", (int)len, issuer) < 0)
		return NULL;
	return url;
}

static char *jwks_uri_of(const char *discovery)
{
	_cleanup_json_ json_t *root = json_loads(discovery, 0, NULL);
	json_t *uri = json_object_get(root, "jwks_uri");

	return json_is_string(uri) ? strdup(json_string_value(uri)) : NULL;
}

/* The issuer's discovery document (cached), as text in e. */
static int discovery_of(struct oidc_ctx *ctx, struct pwb_cache_entry *e, struct pwb_error *err)
{
	_cleanup_free_ char *url = discovery_url(ctx->cfg->openid_issuer);
	bool fetched;

	if (!url)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return get_document(ctx, "discovery", url, DISCOVERY_MAX_BYTES, validate_discovery,
			    USE_CACHE, e, &fetched, err);
}

/* Verifies the token against the issuer's keys, refetching the JWKS once
 * (rate-limited) when no key matches: that is how key rotation arrives. */
static int verify_with_jwks(struct oidc_ctx *ctx, const struct pwb_jwt *jwt, struct pwb_error *err)
{
	struct pwb_cache_entry disc = {0}, keys = {0};
	_cleanup_free_ char *jwks_uri = NULL;
	const struct pwb_jwk *cands[MAX_CANDIDATE_KEYS];
	_cleanup_jwks_ struct pwb_jwks *jwks = NULL;
	enum refresh refresh = USE_CACHE;
	bool fetched;
	size_t n, i;
	int r, attempt;

	r = discovery_of(ctx, &disc, err);
	if (r < 0)
		return r;
	jwks_uri = jwks_uri_of(disc.body);
	pwb_cache_entry_clear(&disc);
	if (!jwks_uri)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	for (attempt = 0; attempt < 2; attempt++) {
		r = get_document(ctx, "jwks", jwks_uri, JWKS_MAX_BYTES, validate_jwks, refresh,
				 &keys, &fetched, err);
		if (r < 0)
			return r;
		r = pwb_jwks_parse(keys.body, strlen(keys.body), &jwks, err);
		pwb_cache_entry_clear(&keys);
		if (r < 0) {
			pwb_error_prefix(err, "issuer");
			return err->code = PWB_EUNAVAIL;
		}
		n = pwb_jwks_select(jwks, jwt->kid, jwt->alg, cands, PWB_ARRAY_SIZE(cands));
		if (n > 0 || fetched)
			break;
		/* Unknown kid: maybe the issuer rotated its keys. */
		pwb_jwks_free(PWB_TAKE_PTR(jwks));
		refresh = FORCE_REFETCH;
	}
	if (n == 0) {
		char shown[64];

		pwb_names_escape(jwt->kid ? jwt->kid : "(none)", shown, sizeof(shown));
		return pwb_error_set(err, PWB_EAUTH,
				     "kid: no key \"%s\" for %s in the issuer's JWKS", shown,
				     jwt->alg->name);
	}
	for (i = 0; i < n; i++) {
		r = pwb_jwt_verify_key(jwt, cands[i]->pkey, err);
		if (r == 0)
			break;
	}
	return r;
}

int pwb_oidc_jwt_username(const struct pwb_config *cfg, const struct pwb_jwt *jwt,
			  const char **external, char user[PWB_NAME_MAX + 1], struct pwb_error *err)
{
	const char *claim = pwb_jwt_claim_string(jwt, cfg->openid_username_claim);

	if (external)
		*external = claim;
	if (!claim)
		return pwb_error_set(err, PWB_EAUTH, "username: no string claim \"%s\"",
				     cfg->openid_username_claim);
	if (pwb_oidc_map_username(cfg, claim, user, err) < 0) {
		pwb_error_prefix(err, "username: claim \"%s\"", cfg->openid_username_claim);
		return err->code = PWB_EAUTH;
	}
	return 0;
}

int pwb_oidc_map_username(const struct pwb_config *cfg, const char *external,
			  char out[PWB_NAME_MAX + 1], struct pwb_error *err)
{
	return pwb_names_to_linux(external, PWB_NAMES_LOWERCASE | PWB_NAMES_STRIP_DOMAIN,
				  cfg->openid_username_domains, out, err);
}

/* The identity an account is bound to: the auth-openid-subject-claim value
 * (default "sub"; Entra's "oid" is the same in every app of a tenant). It
 * is stored and compared byte for byte, so it must be a non-empty string
 * of printable bytes, at most SUBJECT_MAX long, with no NUL inside. */
static int subject_of(const struct pwb_config *cfg, const struct pwb_jwt *jwt, const char **out,
		      struct pwb_error *err)
{
	json_t *v = json_object_get(jwt->payload, cfg->openid_subject_claim);
	const char *s;
	size_t len, i;

	*out = NULL;
	if (!json_is_string(v))
		return pwb_error_set(err, PWB_EAUTH, "subject: no string claim \"%s\"",
				     cfg->openid_subject_claim);
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0)
		return pwb_error_set(err, PWB_EAUTH, "subject: claim \"%s\" is empty",
				     cfg->openid_subject_claim);
	if (len > SUBJECT_MAX)
		return pwb_error_set(err, PWB_EAUTH,
				     "subject: claim \"%s\" is longer than %d bytes",
				     cfg->openid_subject_claim, SUBJECT_MAX);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return pwb_error_set(err, PWB_EAUTH,
					     "subject: claim \"%s\" contains a control character",
					     cfg->openid_subject_claim);
	*out = s;
	return 0;
}

static int build_claims(const struct pwb_config *cfg, const struct pwb_jwt *jwt,
			const char *username, const char *sub, bool local, struct pwb_claims **out,
			struct pwb_error *err)
{
	_cleanup_claims_ struct pwb_claims *c = pwb_claims_new();
	const char *iss = pwb_jwt_claim_string(jwt, "iss");
	const char *name = pwb_jwt_claim_string(jwt, "name");
	const char *email = pwb_jwt_claim_string(jwt, "email");
	json_t *groups = json_object_get(jwt->payload, cfg->openid_groups_claim);
	size_t i;

	if (!c)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	snprintf(c->username, sizeof(c->username), "%s", username);
	c->local_account = local;
	c->issuer = strdup(iss);
	c->subject = strdup(sub);
	c->name = name ? strdup(name) : NULL;
	c->email = email ? strdup(email) : NULL;
	if (!c->issuer || !c->subject || (name && !c->name) || (email && !c->email))
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if (json_is_string(groups) && pwb_claims_add_group(c, json_string_value(groups)) < 0)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	for (i = 0; json_is_array(groups) && i < json_array_size(groups) && i < MAX_GROUPS; i++) {
		json_t *g = json_array_get(groups, i);

		if (json_is_string(g) && pwb_claims_add_group(c, json_string_value(g)) < 0)
			return pwb_error_set(err, -ENOMEM, "out of memory");
	}
	*out = PWB_TAKE_PTR(c);
	return 0;
}

/* The cache for this process, or none (logged when it should have been
 * there: root's or the login-user's could not be prepared). */
static void ctx_init(struct oidc_ctx *ctx, const struct pwb_config *cfg)
{
	struct pwb_error cerr = {0};

	ctx->cfg = cfg;
	ctx->now = (int64_t)time(NULL);
	if (pwb_oidc_cache_dir_for(cfg, ctx->cache_dir, &cerr) < 0) {
		if (cerr.code != PWB_ENOTFOUND)
			pwb_log(LOG_WARNING, "pwb-oidc: no discovery/JWKS cache: %s", cerr.msg);
		ctx->cache_dir[0] = '\0';
	}
}

/* The client id and secret from auth-openid-client-secret-file, read only
 * when needed: an HMAC token needs the secret, and without a per-service
 * client id the file's client id is the accepted audience. A per-service
 * client id with an asymmetric token needs neither, so a process that
 * cannot read the root-only file (pwb-login) still validates tokens. */
static int client_file(const struct pwb_config *cfg, const struct pwb_jwt *jwt,
		       const struct pwb_oidc_expect *expect, char **client_id, char **client_secret,
		       struct pwb_error *err)
{
	int r;

	*client_id = NULL;
	*client_secret = NULL;
	if (jwt->alg->family != PWB_JWS_HMAC && expect && expect->client_id)
		return 0;
	if (expect && expect->client_id && expect->hmac_secret) {
		*client_secret = strdup(expect->hmac_secret);
		return *client_secret ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
	}
	r = pwb_secret_read_client_file(cfg->openid_client_secret_file, cfg->secure_key_file,
					client_id, client_secret, err);
	if (r < 0)
		return err->code = r == -ENOMEM ? r : PWB_ECONFIG;
	return 0;
}

int pwb_oidc_authenticate(const struct pwb_config *cfg, const char *pam_user, const char *token,
			  size_t token_len, const struct pwb_oidc_expect *expect,
			  struct pwb_claims **claims, struct pwb_error *err)
{
	struct oidc_ctx ctx;
	_cleanup_free_ char *client_id = NULL;
	_cleanup_secret_ char *client_secret = NULL;
	_cleanup_jwt_ struct pwb_jwt *jwt = NULL;
	char mapped[PWB_NAME_MAX + 1], shown[96];
	const char *external, *subject, *nonce = expect ? expect->nonce : NULL;
	bool per_service = expect && expect->client_id;
	bool local = false;
	int r;

	*claims = NULL;
	if (!cfg->openid_issuer || strncmp(cfg->openid_issuer, "https://", 8) != 0)
		return pwb_error_set(err, PWB_ECONFIG,
				     "%s: auth-openid-issuer must be an https URL",
				     cfg->path ? cfg->path : "config");
	if (!pam_user || !pwb_names_is_valid(pam_user))
		return pwb_error_set(err, PWB_EAUTH, "user: the PAM user is not a valid name");
	if (per_service && !*expect->client_id)
		return pwb_error_set(err, PWB_ECONFIG, "client-id: empty");
	if (expect && expect->require_nonce && (!nonce || !*nonce))
		return pwb_error_set(err, PWB_EAUTH, "nonce: no expected nonce was given");
	r = pwb_jwt_parse(token, token_len, &jwt, err);
	if (r < 0)
		return r;
	r = pwb_jwt_check_alg(jwt, cfg->openid_algorithms, err);
	if (r < 0)
		return r;
	r = client_file(cfg, jwt, expect, &client_id, &client_secret, err);
	if (r < 0)
		return r;
	ctx_init(&ctx, cfg);
	if (jwt->alg->family == PWB_JWS_HMAC)
		r = pwb_jwt_verify_hmac(jwt, client_secret,
					client_secret ? strlen(client_secret) : 0, err);
	else
		r = verify_with_jwks(&ctx, jwt, err);
	if (r < 0)
		return r;
	/* A per-service client id is the only audience that service accepts:
	 * auth-openid-audiences lists the ids of every service together. */
	r = pwb_jwt_check_claims(
	    jwt,
	    &(struct pwb_jwt_expect){.issuer = cfg->openid_issuer,
				     .client_id = per_service ? expect->client_id : client_id,
				     .audiences = per_service ? NULL : cfg->openid_audiences,
				     .nonce = nonce,
				     .now = ctx.now,
				     .leeway = cfg->openid_leeway},
	    err);
	if (r < 0)
		return r;
	r = subject_of(cfg, jwt, &subject, err);
	if (r < 0)
		return r;
	r = pwb_oidc_jwt_username(cfg, jwt, &external, mapped, err);
	if (r < 0)
		return r;
	if (strcmp(mapped, pam_user) != 0) {
		pwb_names_escape(external, shown, sizeof(shown));
		return pwb_error_set(err, PWB_EAUTH,
				     "username: token is for \"%s\" (%s), not the PAM user", mapped,
				     shown);
	}
	r = pwb_oidc_check_local(cfg, mapped, &local, err);
	if (r < 0)
		return r;
	return build_claims(cfg, jwt, mapped, subject, local, claims, err);
}

int pwb_oidc_discovery(const struct pwb_config *cfg, json_t **doc, struct pwb_error *err)
{
	struct oidc_ctx ctx;
	struct pwb_cache_entry disc = {0};
	int r;

	*doc = NULL;
	if (!cfg->openid_issuer || strncmp(cfg->openid_issuer, "https://", 8) != 0)
		return pwb_error_set(err, PWB_ECONFIG,
				     "%s: auth-openid-issuer must be an https URL",
				     cfg->path ? cfg->path : "config");
	ctx_init(&ctx, cfg);
	r = discovery_of(&ctx, &disc, err);
	if (r < 0)
		return r;
	*doc = json_loads(disc.body, JSON_REJECT_DUPLICATES, NULL);
	pwb_cache_entry_clear(&disc);
	return *doc ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

int pwb_oidc_verify_jws(const struct pwb_config *cfg, const struct pwb_jwt *jwt,
			struct pwb_error *err)
{
	struct oidc_ctx ctx;

	if (!cfg->openid_issuer || strncmp(cfg->openid_issuer, "https://", 8) != 0)
		return pwb_error_set(err, PWB_ECONFIG,
				     "%s: auth-openid-issuer must be an https URL",
				     cfg->path ? cfg->path : "config");
	if (jwt->alg->family == PWB_JWS_HMAC)
		return pwb_error_set(err, PWB_EAUTH, "alg: %s is not accepted here",
				     jwt->alg->name);
	ctx_init(&ctx, cfg);
	return verify_with_jwks(&ctx, jwt, err);
}
