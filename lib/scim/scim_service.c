/* Request routing, bearer-token authentication and the one transaction
 * each request runs in. The body and query are parsed before the
 * transaction (they do not depend on the store) but their errors are only
 * reported after authentication, so an anonymous caller learns nothing. A
 * write is authenticated in a read transaction first: only an
 * authenticated request ever waits for, or holds, the store's write lock. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cleanup.h"
#include "log.h"
#include "names.h"
#include "scim_discovery.h"
#include "scim_endpoint.h"
#include "scim_groups.h"
#include "scim_json.h"
#include "scim_resource.h"
#include "scim_service.h"
#include "scim_users.h"
#include "token.h"
#include "util.h"

#define BEARER_MAX   512
#define PATH_MAX_LEN 2048

struct pwb_scim_service {
	struct pwb_store *st;
	const struct pwb_config *cfg;
	pwb_scim_auth_hook on_auth;
	void *on_auth_ctx;
};

enum route {
	R_NONE,
	R_SPC,
	R_RESOURCE_TYPES,
	R_SCHEMAS,
	R_RESOURCE /* a resource type: s->ops */
};

struct request_state {
	struct pwb_scim_ctx c;
	const struct pwb_scim_service *svc;
	enum route route;
	const struct pwb_scim_resource_ops *ops; /* R_RESOURCE */
	char *id;				 /* decoded second path segment */
	bool extra_segments;
	struct pwb_scim_query query;
	struct pwb_scim_filter *filter;
	struct pwb_scim_error parse_err; /* status 0: none */
	bool writes;
	bool preflight;	  /* the read-only pass before a write: no handler */
	bool touch_token; /* last-used is stale: record it */
	int fn_rc;	  /* what the transaction body returned */
};

int pwb_scim_service_new(struct pwb_store *st, const struct pwb_config *cfg,
			 struct pwb_scim_service **out)
{
	struct pwb_scim_service *svc = calloc(1, sizeof(*svc));

	*out = NULL;
	if (!svc)
		return -ENOMEM;
	svc->st = st;
	svc->cfg = cfg;
	*out = svc;
	return 0;
}

void pwb_scim_service_free(struct pwb_scim_service *svc)
{
	free(svc);
}

void pwb_scim_service_on_auth(struct pwb_scim_service *svc, pwb_scim_auth_hook hook, void *ctx)
{
	svc->on_auth = hook;
	svc->on_auth_ctx = ctx;
}

void pwb_scim_response_clear(struct pwb_scim_response *resp)
{
	json_decref(resp->body);
	memset(resp, 0, sizeof(*resp));
}

/* ---- authentication ---- */

static int authenticate(struct request_state *s, struct pwb_error *err)
{
	struct pwb_scim_ctx *c = &s->c;
	const char *auth = c->req->authorization, *token;
	char hash[PWB_HASH_HEX_LEN + 1];
	struct pwb_token t = {0};
	struct pwb_scim_error serr = {0};
	int64_t now = pwb_now();
	int r;

	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0) {
		pwb_scim_fail(&serr, 401, NULL, "a bearer token is required");
		goto refuse;
	}
	token = auth + 7;
	while (*token == ' ')
		token++;
	if (!*token || strlen(token) > BEARER_MAX ||
	    pwb_token_hash(token, strlen(token), hash) < 0) {
		pwb_scim_fail(&serr, 401, NULL, "the bearer token is not valid");
		goto refuse;
	}
	r = pwb_token_get_by_hash(c->txn, hash, &t, err);
	if (r == PWB_ENOTFOUND || (r == 0 && !pwb_token_hash_equal(t.hash, hash))) {
		pwb_scim_fail(&serr, 401, NULL, "the bearer token is not valid");
		goto refuse;
	}
	if (r < 0)
		return pwb_scim_respond_store(c, r, err);
	snprintf(c->resp->token_name, sizeof(c->resp->token_name), "%s", t.name);
	if (t.expires != 0 && now >= t.expires) {
		pwb_scim_fail(&serr, 401, NULL, "the bearer token has expired");
		goto refuse;
	}
	if (s->svc->on_auth)
		s->svc->on_auth(t.name, s->svc->on_auth_ctx);
	s->touch_token = now - t.last_used >= PWB_SCIM_TOKEN_TOUCH_INTERVAL;
	if (s->touch_token && s->writes && !s->preflight) {
		/* committed with the change; the caller retries it alone if the
		 * change is refused */
		r = pwb_token_touch(c->txn, t.name, now, err);
		if (r < 0)
			return pwb_scim_respond_store(c, r, err);
	}
	explicit_bzero(hash, sizeof(hash));
	return 0;
refuse:
	explicit_bzero(hash, sizeof(hash));
	c->resp->www_authenticate = true;
	return pwb_scim_respond_error(c, &serr, PWB_EAUTH);
}

/* ---- routing ---- */

static int discovery(struct request_state *s)
{
	struct pwb_scim_ctx *c = &s->c;
	struct pwb_scim_error serr = {0};
	json_t *doc = NULL;

	if (strcmp(c->req->method, "GET") != 0)
		return pwb_scim_respond_not_allowed(c);
	switch (s->route) {
	case R_SPC:
		doc = s->id ? NULL
			    : pwb_scim_service_provider_config(c->base_url,
							       c->cfg->scim_max_request_bytes);
		break;
	case R_RESOURCE_TYPES:
		doc = pwb_scim_resource_types(c->base_url, s->id);
		break;
	default:
		doc = pwb_scim_schemas(c->base_url, s->id);
		break;
	}
	if (!doc) {
		pwb_scim_fail(&serr, 404, NULL, "no such resource");
		return pwb_scim_respond_error(c, &serr, PWB_ENOTFOUND);
	}
	return pwb_scim_respond(c, 200, doc);
}

/* What can be refused before a handler runs: no credential, then what
 * needs no store (size, path, syntax). Returns 0 to go on. */
static int admit(struct request_state *s, struct pwb_error *err)
{
	struct pwb_scim_ctx *c = &s->c;
	struct pwb_scim_error serr = {0};
	int r;

	r = authenticate(s, err);
	if (r < 0)
		return r;
	if (c->req->body_too_large) {
		pwb_scim_fail(&serr, 413, NULL, "the request body is larger than %u bytes",
			      c->cfg->scim_max_request_bytes);
		return pwb_scim_respond_error(c, &serr, PWB_EINVAL);
	}
	if (s->route == R_NONE || s->extra_segments) {
		pwb_scim_fail(&serr, 404, NULL, "no such endpoint");
		return pwb_scim_respond_error(c, &serr, PWB_ENOTFOUND);
	}
	if (s->parse_err.status)
		return pwb_scim_respond_error(c, &s->parse_err, PWB_EINVAL);
	return 0;
}

static int txn_body(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct request_state *s = vctx;
	struct pwb_scim_ctx *c = &s->c;
	int r;

	/* this may be a deadlock retry: start from nothing */
	json_decref(c->resp->body);
	c->resp->body = NULL;
	c->resp->status = 0;
	c->resp->location[0] = c->resp->etag[0] = '\0';
	c->resp->www_authenticate = false;
	snprintf(c->resp->token_name, sizeof(c->resp->token_name), "-");
	c->txn = txn;

	r = admit(s, err);
	if (r == 0 && !s->preflight) {
		r = s->route == R_RESOURCE ? pwb_scim_endpoint_handle(c, s->ops) : discovery(s);
	}
	s->fn_rc = r;
	return r;
}

/* Splits the path after the base into "Resource[/id]". */
static void route(struct request_state *s, const char *rest)
{
	static const struct {
		const char *name;
		enum route route;
		const struct pwb_scim_resource_ops *ops;
	} routes[] = {
	    {"ServiceProviderConfig", R_SPC, NULL},
	    {"ServiceProviderConfigs", R_SPC, NULL},
	    {"ResourceTypes", R_RESOURCE_TYPES, NULL},
	    {"Schemas", R_SCHEMAS, NULL},
	    {"Users", R_RESOURCE, &pwb_scim_users_ops},
	    {"Groups", R_RESOURCE, &pwb_scim_groups_ops},
	};
	const char *slash;
	size_t n;

	s->route = R_NONE;
	if (*rest != '/')
		return;
	rest++;
	slash = strchr(rest, '/');
	n = slash ? (size_t)(slash - rest) : strlen(rest);
	for (size_t i = 0; i < PWB_ARRAY_SIZE(routes); i++)
		if (strlen(routes[i].name) == n && strncmp(rest, routes[i].name, n) == 0) {
			s->route = routes[i].route;
			s->ops = routes[i].ops;
		}
	if (!slash || !slash[1])
		return;
	rest = slash + 1;
	slash = strchr(rest, '/');
	if (slash && slash[1])
		s->extra_segments = true;
	s->id = strndup(rest, slash ? (size_t)(slash - rest) : strlen(rest));
}

static bool host_is_safe(const char *h)
{
	if (!h || !*h || strlen(h) > 255)
		return false;
	for (; *h; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		      (*h >= '0' && *h <= '9') || strchr(".-:[]_", *h)))
			return false;
	return true;
}

static void parse_request(struct request_state *s, const struct pwb_scim_request *req,
			  const char *query)
{
	const char *m = req->method, *deep;
	char shown[64];
	json_error_t jerr;

	s->writes = strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0;
	if (pwb_scim_query_parse(query, &s->query, &s->parse_err) < 0) {
		pwb_scim_query_parse(NULL, &s->query, NULL);
		return;
	}
	if (!req->body_too_large && req->body_not_utf8 && s->writes) {
		pwb_scim_fail(&s->parse_err, 400, "invalidSyntax", "the body is not UTF-8 text");
		return;
	}
	if (!req->body_too_large && req->body_len > 0 && s->writes) {
		s->c.body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
		if (!s->c.body) {
			pwb_scim_fail(&s->parse_err, 400, "invalidSyntax",
				      "malformed JSON at line %d, column %d: %s", jerr.line,
				      jerr.column, jerr.text);
			return;
		}
		if (!json_is_object(s->c.body)) {
			pwb_scim_fail(&s->parse_err, 400, "invalidSyntax",
				      "the body must be a JSON object");
			return;
		}
		/* Jansson parses up to 2048 levels; nothing pwb keeps needs more
		 * than a few, and a deep record could not be published. */
		deep = pwb_scim_json_too_deep_member(s->c.body, PWB_SCIM_JSON_DEPTH_MAX);
		if (deep) {
			pwb_names_escape(deep, shown, sizeof(shown));
			pwb_scim_fail(&s->parse_err, 400, "invalidValue",
				      "attribute %s is nested deeper than %d levels", shown,
				      PWB_SCIM_JSON_DEPTH_MAX);
			return;
		}
	}
	if (s->id && strcmp(s->id, ".search") == 0 && strcmp(m, "POST") == 0 &&
	    s->route == R_RESOURCE) {
		/* a search reads: the parameters come from the body instead */
		free(s->id);
		s->id = NULL;
		s->c.search = true;
		s->writes = false;
		pwb_scim_query_clear(&s->query);
		if (!s->c.body) {
			pwb_scim_fail(&s->parse_err, 400, "invalidSyntax", "a search needs a body");
			pwb_scim_query_parse(NULL, &s->query, NULL);
			return;
		}
		if (pwb_scim_query_from_search(s->c.body, &s->query, &s->parse_err) < 0) {
			pwb_scim_query_parse(NULL, &s->query, NULL);
			return;
		}
	}
	if (s->query.filter &&
	    pwb_scim_filter_parse(s->query.filter, &s->filter, &s->parse_err) < 0)
		return;
}

static int touch_token(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	const struct pwb_scim_response *resp = vctx;

	return pwb_token_touch(txn, resp->token_name, pwb_now(), err);
}

void pwb_scim_service_handle(struct pwb_scim_service *svc, const struct pwb_scim_request *req,
			     struct pwb_scim_response *resp)
{
	const char *base = svc->cfg->scim_base_path;
	size_t base_len = strlen(base);
	struct request_state s = {0};
	struct pwb_error err = {0};
	_cleanup_free_ char *path = NULL;
	char base_url[512];
	const char *q;
	size_t n;
	int r;

	memset(resp, 0, sizeof(*resp));
	snprintf(resp->token_name, sizeof(resp->token_name), "-");
	s.svc = svc;
	s.c.cfg = svc->cfg;
	s.c.req = req;
	s.c.resp = resp;
	snprintf(base_url, sizeof(base_url), "%s://%s%s", req->scheme ? req->scheme : "https",
		 host_is_safe(req->host) ? req->host : "localhost", base);
	s.c.base_url = base_url;

	q = req->uri ? strchr(req->uri, '?') : NULL;
	n = req->uri ? (q ? (size_t)(q - req->uri) : strlen(req->uri)) : 0;
	path = n <= PATH_MAX_LEN ? pwb_scim_url_decode(req->uri ? req->uri : "", n, false) : NULL;
	while (base_len > 1 && base[base_len - 1] == '/')
		base_len--;
	if (!path || strncmp(path, base, base_len) != 0 ||
	    (path[base_len] != '/' && path[base_len] != '\0')) {
		struct pwb_scim_error serr = {0};

		pwb_scim_fail(&serr, 404, NULL, "not a SCIM endpoint");
		pwb_scim_respond_error(&s.c, &serr, PWB_ENOTFOUND);
		return;
	}
	route(&s, path + base_len);
	parse_request(&s, req, req->query ? req->query : (q ? q + 1 : NULL));
	s.c.id = s.id;
	s.c.query = &s.query;
	s.c.filter = s.filter;

	/* A write is admitted in a read transaction first, so an anonymous or
	 * malformed request never waits for or takes the write lock; the write
	 * transaction then authenticates again (the token may have been revoked
	 * meanwhile) and records its use with the change. */
	s.preflight = s.writes;
	r = pwb_store_read(svc->st, txn_body, &s, &err);
	if (r == 0 && s.writes) {
		s.preflight = false;
		r = pwb_store_write(svc->st, txn_body, &s, &err);
	}
	if (r != 0 && r != s.fn_rc) {
		/* the body succeeded (or never ran) but the store failed */
		struct pwb_scim_error serr = {0};

		pwb_log(LOG_ERR, "pwb-scim: store: %s", pwb_error_text(&err, r));
		if (r == PWB_EUNAVAIL || r == PWB_EPERM)
			pwb_scim_fail_store(&serr, r, pwb_error_text(&err, r));
		else
			pwb_scim_fail(&serr, 500, NULL, "the store failed; see the system log");
		pwb_scim_respond_error(&s.c, &serr, r);
	} else if (s.touch_token && !(s.writes && r == 0)) {
		struct pwb_error terr = {0};

		if (pwb_store_write(svc->st, touch_token, resp, &terr) < 0)
			pwb_log(LOG_WARNING, "pwb-scim: recording last use of token %s: %s",
				resp->token_name, pwb_error_text(&terr, terr.code));
	}
	json_decref(s.c.body);
	pwb_scim_filter_free(s.filter);
	pwb_scim_query_clear(&s.query);
	free(s.id);
}
