/* The relying-party half of OpenID Connect for pwb-login and pam_pwb_oidc's
 * device mode (see rp.h): endpoints from discovery, PKCE, the authorization
 * and end-session URLs, the code exchange and the device grant over one
 * client-authenticated form POST (http.c), and the back-channel logout
 * token rules. Buffers that held a code, a device code, a verifier or the
 * client secret are wiped before they are freed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "cleanup.h"
#include "cleanup_json.h"
#include "http.h"
#include "names.h"
#include "oidc.h"
#include "rp.h"
#include "secret.h"
#include "util.h"

#define LOGOUT_EVENT	   "http://schemas.openid.net/event/backchannel-logout"
#define LOGOUT_ID_MAX	   255 /* bytes of a sub, sid or jti */
#define ERROR_SHOWN_MAX	   120 /* bytes of an IdP's error text in a message */
#define VERIFIER_MIN_LEN   43  /* RFC 7636 4.1 */
#define VERIFIER_MAX_LEN   128
#define TOKEN_ENDPOINT	   "token endpoint"
#define DEVICE_ENDPOINT	   "device authorization endpoint"
#define DEVICE_GRANT	   "urn:ietf:params:oauth:grant-type:device_code"
#define DEVICE_EXPIRES_MAX 86400 /* seconds: a longer code lifetime is capped */

/* A growing string whose old copies are wiped: it may hold a secret. */
struct buf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void buf_wipe(struct buf *b)
{
	if (b->p)
		OPENSSL_cleanse(b->p, b->cap);
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void buf_add(struct buf *b, const char *s, size_t n)
{
	char *grown;
	size_t cap;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		grown = malloc(cap);
		if (!grown) {
			b->failed = true;
			return;
		}
		if (b->p) {
			memcpy(grown, b->p, b->len);
			OPENSSL_cleanse(b->p, b->cap);
			free(b->p);
		}
		b->p = grown;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static void buf_add_encoded(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[3] = {'%', hex[c >> 4], hex[c & 15]};

		if (is_unreserved(c))
			buf_add(b, s, 1);
		else
			buf_add(b, esc, 3);
	}
}

/* Appends "&name=VALUE" (or "name=VALUE" first) with VALUE encoded. */
static void buf_add_param(struct buf *b, bool *first, const char *name, const char *value)
{
	if (!*first)
		buf_add(b, "&", 1);
	*first = false;
	buf_add(b, name, strlen(name));
	buf_add(b, "=", 1);
	buf_add_encoded(b, value);
}

/* Starts a URL from an endpoint that may already carry a query. */
static void buf_start_url(struct buf *b, const char *endpoint)
{
	size_t n = strlen(endpoint);
	const char *q = strchr(endpoint, '?');

	buf_add(b, endpoint, n);
	if (!q)
		buf_add(b, "?", 1);
	else if (n > 0 && endpoint[n - 1] != '?' && endpoint[n - 1] != '&')
		buf_add(b, "&", 1);
}

/* Hands the string over (plain malloc'd, the right size is not needed). */
static int buf_take(struct buf *b, char **out)
{
	if (b->failed || !b->p) {
		buf_wipe(b);
		return -ENOMEM;
	}
	*out = PWB_TAKE_PTR(b->p);
	memset(b, 0, sizeof(*b));
	return 0;
}

int pwb_rp_url_encode(const char *text, char **out)
{
	struct buf b = {0};

	*out = NULL;
	buf_add(&b, "", 0);
	buf_add_encoded(&b, text);
	return buf_take(&b, out);
}

/* An endpoint from the discovery document: an https URL without a
 * fragment (RFC 6749 3.1), no control bytes. */
static int endpoint_of(json_t *doc, const char *name, bool required, char **out,
		       struct pwb_error *err)
{
	json_t *v = json_object_get(doc, name);
	const char *s;
	size_t i;

	*out = NULL;
	if (!v && !required)
		return 0;
	if (!json_is_string(v))
		return pwb_error_set(err, PWB_EUNAVAIL, "discovery: no \"%s\"", name);
	s = json_string_value(v);
	if (strncmp(s, "https://", 8) != 0 || strlen(s) == 8)
		return pwb_error_set(err, PWB_EUNAVAIL, "discovery: \"%s\" is not an https URL",
				     name);
	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || s[i] == '#')
			return pwb_error_set(err, PWB_EUNAVAIL,
					     "discovery: \"%s\" has a space, a control byte or "
					     "a fragment",
					     name);
	if (strlen(s) != json_string_length(v))
		return pwb_error_set(err, PWB_EUNAVAIL, "discovery: \"%s\" holds a NUL", name);
	*out = strdup(s);
	return *out ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

/* When the provider lists its PKCE methods, S256 must be one of them. */
static int check_pkce_methods(json_t *doc, struct pwb_error *err)
{
	json_t *methods = json_object_get(doc, "code_challenge_methods_supported");
	json_t *m;
	size_t i;

	if (!methods)
		return 0;
	if (!json_is_array(methods))
		return pwb_error_set(err, PWB_EUNAVAIL,
				     "discovery: code_challenge_methods_supported is not an array");
	json_array_foreach(methods, i, m) if (json_is_string(m) &&
					      strcmp(json_string_value(m), "S256") == 0) return 0;
	return pwb_error_set(err, PWB_EUNAVAIL,
			     "discovery: code_challenge_methods_supported lacks S256");
}

int pwb_rp_provider_load(const struct pwb_config *cfg, struct pwb_rp_provider *out,
			 struct pwb_error *err)
{
	_cleanup_json_ json_t *doc = NULL;
	_cleanup_rp_provider_ struct pwb_rp_provider p = {0};
	int r;

	memset(out, 0, sizeof(*out));
	r = pwb_oidc_discovery(cfg, &doc, err);
	if (r < 0)
		return r;
	p.issuer = strdup(cfg->openid_issuer);
	if (!p.issuer)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	r = endpoint_of(doc, "authorization_endpoint", true, &p.authorization_endpoint, err);
	if (r == 0)
		r = endpoint_of(doc, "token_endpoint", true, &p.token_endpoint, err);
	if (r == 0)
		r = endpoint_of(doc, "end_session_endpoint", false, &p.end_session_endpoint, err);
	if (r == 0)
		r = endpoint_of(doc, "device_authorization_endpoint", false,
				&p.device_authorization_endpoint, err);
	if (r == 0)
		r = check_pkce_methods(doc, err);
	if (r < 0)
		return r;
	*out = p;
	memset(&p, 0, sizeof(p));
	return 0;
}

void pwb_rp_provider_clear(struct pwb_rp_provider *p)
{
	free(p->issuer);
	free(p->authorization_endpoint);
	free(p->token_endpoint);
	free(p->end_session_endpoint);
	free(p->device_authorization_endpoint);
	memset(p, 0, sizeof(*p));
}

int pwb_rp_random(char out[PWB_RP_RANDOM_LEN + 1])
{
	unsigned char raw[PWB_RP_RANDOM_BYTES];
	char text[4 * ((PWB_RP_RANDOM_BYTES + 2) / 3) + 1];

	out[0] = '\0';
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -EIO;
	if (pwb_base64url_encode(raw, sizeof(raw), text) != PWB_RP_RANDOM_LEN)
		return -EIO;
	memcpy(out, text, PWB_RP_RANDOM_LEN + 1);
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(text, sizeof(text));
	return 0;
}

int pwb_rp_pkce_challenge(const char *verifier, char out[PWB_RP_RANDOM_LEN + 1])
{
	unsigned char md[32];
	char text[4 * ((sizeof(md) + 2) / 3) + 1];
	size_t i, n = strlen(verifier);

	out[0] = '\0';
	/* RFC 7636 4.1: 43 to 128 unreserved characters. */
	if (n < VERIFIER_MIN_LEN || n > VERIFIER_MAX_LEN)
		return PWB_EINVAL;
	for (i = 0; i < n; i++)
		if (!is_unreserved((unsigned char)verifier[i]))
			return PWB_EINVAL;
	if (!EVP_Q_digest(NULL, "SHA256", NULL, verifier, n, md, NULL))
		return -EIO;
	if (pwb_base64url_encode(md, sizeof(md), text) != PWB_RP_RANDOM_LEN)
		return -EIO;
	memcpy(out, text, PWB_RP_RANDOM_LEN + 1);
	return 0;
}

/* True when the space-separated scopes hold "openid" as a whole word. */
static bool has_openid_scope(const char *scopes)
{
	const char *p = scopes;

	while (p && *p) {
		size_t n = strcspn(p, " ");

		if (n == 6 && strncmp(p, "openid", 6) == 0)
			return true;
		p += n;
		p += strspn(p, " ");
	}
	return false;
}

int pwb_rp_authorize_url(const struct pwb_rp_provider *p, const struct pwb_rp_authz *a, char **url,
			 struct pwb_error *err)
{
	struct buf b = {0};
	bool first = true;

	*url = NULL;
	if (!p->authorization_endpoint || !a->client_id || !a->redirect_uri || !a->scopes ||
	    !a->state || !a->nonce || !a->code_challenge)
		return pwb_error_set(err, PWB_EINVAL,
				     "authorization request: a parameter is missing");
	if (!has_openid_scope(a->scopes))
		return pwb_error_set(err, PWB_ECONFIG,
				     "auth-openid-scopes must contain \"openid\"");
	buf_start_url(&b, p->authorization_endpoint);
	buf_add_param(&b, &first, "response_type", "code");
	buf_add_param(&b, &first, "client_id", a->client_id);
	buf_add_param(&b, &first, "redirect_uri", a->redirect_uri);
	buf_add_param(&b, &first, "scope", a->scopes);
	buf_add_param(&b, &first, "state", a->state);
	buf_add_param(&b, &first, "nonce", a->nonce);
	buf_add_param(&b, &first, "code_challenge", a->code_challenge);
	buf_add_param(&b, &first, "code_challenge_method", "S256");
	if (buf_take(&b, url) < 0)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

static void free_wiped(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void pwb_rp_tokens_clear(struct pwb_rp_tokens *t)
{
	free_wiped(t->id_token);
	free_wiped(t->access_token);
	free_wiped(t->refresh_token);
	memset(t, 0, sizeof(*t));
	t->expires_in = -1;
}

int pwb_rp_auth_method_parse(const char *text, enum pwb_rp_auth_method *out, struct pwb_error *err)
{
	char shown[64];

	if (text && strcmp(text, "client_secret_basic") == 0) {
		*out = PWB_RP_CLIENT_SECRET_BASIC;
		return 0;
	}
	if (text && strcmp(text, "client_secret_post") == 0) {
		*out = PWB_RP_CLIENT_SECRET_POST;
		return 0;
	}
	pwb_names_escape(text ? text : "(none)", shown, sizeof(shown));
	return pwb_error_set(err, PWB_ECONFIG,
			     "auth-openid-token-method: \"%s\" is not client_secret_basic or "
			     "client_secret_post",
			     shown);
}

int pwb_rp_device_auth_method_parse(const char *text, bool has_secret, enum pwb_rp_auth_method *out,
				    struct pwb_error *err)
{
	char shown[64];

	if (text && strcmp(text, "auto") == 0) {
		*out = has_secret ? PWB_RP_CLIENT_SECRET_BASIC : PWB_RP_CLIENT_NONE;
		return 0;
	}
	if (text && strcmp(text, "none") == 0) {
		*out = PWB_RP_CLIENT_NONE;
		return 0;
	}
	if (pwb_rp_auth_method_parse(text, out, err) < 0) {
		pwb_names_escape(text ? text : "(none)", shown, sizeof(shown));
		return pwb_error_set(err, PWB_ECONFIG,
				     "auth-openid-device-token-method: \"%s\" is not auto, none, "
				     "client_secret_basic or client_secret_post",
				     shown);
	}
	if (!has_secret)
		return pwb_error_set(err, PWB_ECONFIG,
				     "auth-openid-device-token-method: %s needs a client-secret= "
				     "line in auth-openid-device-client-file",
				     text);
	return 0;
}

int pwb_rp_basic_authorization(const char *client_id, const char *client_secret, char **out)
{
	struct buf pair = {0};
	char *text;
	int n;

	*out = NULL;
	buf_add(&pair, "", 0);
	buf_add_encoded(&pair, client_id);
	buf_add(&pair, ":", 1);
	buf_add_encoded(&pair, client_secret);
	if (pair.failed || pair.len > INT32_MAX / 2) {
		buf_wipe(&pair);
		return -ENOMEM;
	}
	text = malloc(6 + 4 * ((pair.len + 2) / 3) + 1);
	if (!text) {
		buf_wipe(&pair);
		return -ENOMEM;
	}
	memcpy(text, "Basic ", 6);
	n = EVP_EncodeBlock((unsigned char *)text + 6, (const unsigned char *)pair.p,
			    (int)pair.len);
	text[6 + n] = '\0';
	buf_wipe(&pair);
	*out = text;
	return 0;
}

/* A string member copied into *out; PWB_ENOTFOUND when absent. */
static int take_string(json_t *root, const char *name, size_t max, char **out,
		       struct pwb_error *err)
{
	json_t *v = json_object_get(root, name);

	*out = NULL;
	if (!v || json_is_null(v))
		return PWB_ENOTFOUND;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return pwb_error_set(err, PWB_EAUTH, "token endpoint: \"%s\" is not a string",
				     name);
	if (json_string_length(v) > max)
		return pwb_error_set(err, PWB_EAUTH,
				     "token endpoint: \"%s\" is longer than %zu bytes", name, max);
	*out = strdup(json_string_value(v));
	return *out ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

/* An RFC 6749 5.2 error object: PWB_EAUTH with its code and description,
 * after `where` (the endpoint). */
static int error_reply(json_t *root, long status, const char *where, struct pwb_error *err)
{
	const char *code = json_string_value(json_object_get(root, "error"));
	const char *desc = json_string_value(json_object_get(root, "error_description"));
	char code_shown[64], desc_shown[ERROR_SHOWN_MAX];

	pwb_names_escape(code, code_shown, sizeof(code_shown));
	if (!desc)
		return pwb_error_set(err, PWB_EAUTH, "%s: %s (HTTP status %ld)", where, code_shown,
				     status);
	pwb_names_escape(desc, desc_shown, sizeof(desc_shown));
	return pwb_error_set(err, PWB_EAUTH, "%s: %s: %s", where, code_shown, desc_shown);
}

int pwb_rp_tokens_parse(long status, const char *body, size_t len, struct pwb_rp_tokens *out,
			struct pwb_error *err)
{
	_cleanup_json_ json_t *root = NULL;
	_cleanup_rp_tokens_ struct pwb_rp_tokens t = {.expires_in = -1};
	json_t *expires;
	int r;

	memset(out, 0, sizeof(*out));
	out->expires_in = -1;
	if (len > PWB_RP_TOKEN_REPLY_MAX)
		return pwb_error_set(err, PWB_EUNAVAIL,
				     "token endpoint: reply larger than %d bytes",
				     PWB_RP_TOKEN_REPLY_MAX);
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(root) && json_is_string(json_object_get(root, "error")))
		return error_reply(root, status, TOKEN_ENDPOINT, err);
	if (status != 200)
		return pwb_error_set(err, PWB_EUNAVAIL, "token endpoint: HTTP status %ld", status);
	if (!json_is_object(root))
		return pwb_error_set(err, PWB_EUNAVAIL,
				     "token endpoint: reply is not a JSON object");
	r = take_string(root, "id_token", PWB_JWT_MAX_BYTES, &t.id_token, err);
	if (r == PWB_ENOTFOUND)
		return pwb_error_set(err, PWB_EAUTH, "token endpoint: reply has no id_token");
	if (r < 0)
		return r;
	r = take_string(root, "access_token", PWB_RP_TOKEN_REPLY_MAX, &t.access_token, err);
	if (r == PWB_ENOTFOUND)
		return pwb_error_set(err, PWB_EAUTH, "token endpoint: reply has no access_token");
	if (r < 0)
		return r;
	r = take_string(root, "refresh_token", PWB_RP_TOKEN_REPLY_MAX, &t.refresh_token, err);
	if (r < 0 && r != PWB_ENOTFOUND)
		return r;
	expires = json_object_get(root, "expires_in");
	if (json_is_integer(expires) && json_integer_value(expires) >= 0)
		t.expires_in = json_integer_value(expires);
	*out = t;
	memset(&t, 0, sizeof(t));
	return 0;
}

/* True when s (a secret we sent) shows up in the message. */
static bool message_holds(const struct pwb_error *err, const char *s)
{
	return s && *s && strstr(err->msg, s);
}

/* An IdP that echoes what it was sent must not get it into a log: a
 * refusal whose message repeats one of the secrets sent is replaced. */
static int refuse_echo(int r, const char *where, const char *a, const char *b, const char *c,
		       struct pwb_error *err)
{
	if (r < 0 && (message_holds(err, a) || message_holds(err, b) || message_holds(err, c)))
		pwb_error_set(err, r, "%s: refused (its message repeats the request)", where);
	return r;
}

/* POSTs form (the grant's own parameters, `first` when it is still empty)
 * to endpoint with the client's authentication: a Basic header, or
 * client_id (and client_secret) in the body. https only,
 * auth-openid-ca-file, auth-openid-http-timeout, bounded reply. */
static int client_post(const struct pwb_config *cfg, const char *endpoint, const char *client_id,
		       const char *client_secret, enum pwb_rp_auth_method method, struct buf *form,
		       bool first, struct pwb_http_response *resp, struct pwb_error *err)
{
	_cleanup_secret_ char *authorization = NULL;

	if (method == PWB_RP_CLIENT_SECRET_BASIC) {
		if (pwb_rp_basic_authorization(client_id, client_secret, &authorization) < 0)
			return pwb_error_set(err, -ENOMEM, "out of memory");
	} else {
		buf_add_param(form, &first, "client_id", client_id);
		if (method == PWB_RP_CLIENT_SECRET_POST)
			buf_add_param(form, &first, "client_secret", client_secret);
	}
	if (form->failed)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return pwb_http_post_form(endpoint, cfg->openid_ca_file, cfg->openid_http_timeout,
				  PWB_RP_TOKEN_REPLY_MAX, authorization, form->p, resp, err);
}

int pwb_rp_exchange_code(const struct pwb_config *cfg, const struct pwb_rp_provider *p,
			 const struct pwb_rp_exchange *x, struct pwb_rp_tokens *out,
			 struct pwb_error *err)
{
	_cleanup_(buf_wipe) struct buf form = {0};
	_cleanup_http_response_ struct pwb_http_response resp = {0};
	bool first = true;
	int r;

	memset(out, 0, sizeof(*out));
	out->expires_in = -1;
	if (!p->token_endpoint || !x->client_id || !x->client_secret || !x->code ||
	    !x->redirect_uri || !x->code_verifier || x->method == PWB_RP_CLIENT_NONE)
		return pwb_error_set(err, PWB_EINVAL, "token request: a parameter is missing");
	buf_add_param(&form, &first, "grant_type", "authorization_code");
	buf_add_param(&form, &first, "code", x->code);
	buf_add_param(&form, &first, "redirect_uri", x->redirect_uri);
	buf_add_param(&form, &first, "code_verifier", x->code_verifier);
	r = client_post(cfg, p->token_endpoint, x->client_id, x->client_secret, x->method, &form,
			first, &resp, err);
	if (r < 0)
		return r;
	/* resp.body may hold tokens: wiped with the tokens' own rule. */
	r = pwb_rp_tokens_parse(resp.status, resp.body, resp.len, out, err);
	OPENSSL_cleanse(resp.body, resp.len);
	return refuse_echo(r, TOKEN_ENDPOINT, x->code, x->code_verifier, x->client_secret, err);
}

void pwb_rp_device_clear(struct pwb_rp_device *d)
{
	free_wiped(d->device_code);
	free(d->user_code);
	free(d->verification_uri);
	free(d->verification_uri_complete);
	memset(d, 0, sizeof(*d));
}

/* Whether an error answer says that this client may not use the grant:
 * the standard codes, and the texts Entra and Okta put in the
 * description. */
static bool grant_not_allowed(const char *code, const char *desc)
{
	static const char *const codes[] = {"invalid_client", "unauthorized_client",
					    "unsupported_grant_type"};
	size_t i;

	for (i = 0; i < PWB_ARRAY_SIZE(codes); i++)
		if (strcmp(code, codes[i]) == 0)
			return true;
	/* Entra: the app is not a public client ("Allow public client flows"). */
	if (desc && strstr(desc, "AADSTS7000218"))
		return true;
	/* Okta: the grant type is not enabled on the application. */
	if (desc && strcasestr(desc, "not authorized to use the provided grant type"))
		return true;
	/* oidc-provider (panva): invalid_request, "urn:...:device_code is not
	 * allowed for this client". */
	return desc && strstr(desc, "device_code is not allowed for this client");
}

/* An error answer of the device grant (RFC 8628 3.5) classified into
 * *state: authorization_pending and slow_down (0, only when polling),
 * the refusals a person or an administrator must know apart (PWB_EAUTH,
 * one line each), anything else as error_reply says it. */
static int device_error(json_t *root, long status, const char *where, bool polling,
			enum pwb_rp_device_state *state, struct pwb_error *err)
{
	const char *code = json_string_value(json_object_get(root, "error"));
	const char *desc = json_string_value(json_object_get(root, "error_description"));
	char shown[64];

	if (polling && strcmp(code, "authorization_pending") == 0) {
		*state = PWB_RP_DEVICE_PENDING;
		return 0;
	}
	if (polling && strcmp(code, "slow_down") == 0) {
		*state = PWB_RP_DEVICE_SLOW_DOWN;
		return 0;
	}
	if (strcmp(code, "access_denied") == 0) {
		*state = PWB_RP_DEVICE_DENIED;
		return pwb_error_set(err, PWB_EAUTH,
				     "access_denied: the sign-in was denied at the identity "
				     "provider");
	}
	if (strcmp(code, "expired_token") == 0) {
		*state = PWB_RP_DEVICE_EXPIRED;
		return pwb_error_set(err, PWB_EAUTH,
				     "expired_token: the code expired before it was approved");
	}
	if (grant_not_allowed(code, desc)) {
		*state = PWB_RP_DEVICE_NOT_ALLOWED;
		pwb_names_escape(code, shown, sizeof(shown));
		return pwb_error_set(
		    err, PWB_EAUTH,
		    "%s%s: the identity provider does not allow this client the "
		    "device authorization grant (%s)",
		    shown, desc && strstr(desc, "AADSTS7000218") ? " (AADSTS7000218)" : "", where);
	}
	*state = PWB_RP_DEVICE_FAILED;
	return error_reply(root, status, where, err);
}

/* A string shown to the person on a terminal (a user code, a
 * verification URI): printable ASCII only (a space only in a user code),
 * at most max bytes, and an https URL when url. PWB_ENOTFOUND when absent. */
static int device_text(json_t *root, const char *name, size_t max, bool url, char **out,
		       struct pwb_error *err)
{
	json_t *v = json_object_get(root, name);
	const char *s = json_string_value(v);
	size_t i, n = json_string_length(v);

	*out = NULL;
	if (!v || json_is_null(v))
		return PWB_ENOTFOUND;
	if (!s || n == 0 || n > max)
		return pwb_error_set(err, PWB_EUNAVAIL,
				     DEVICE_ENDPOINT ": \"%s\" is not a string of 1 to %zu bytes",
				     name, max);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < (url ? 0x21 : 0x20) || (unsigned char)s[i] > 0x7e)
			return pwb_error_set(err, PWB_EUNAVAIL,
					     DEVICE_ENDPOINT ": \"%s\" holds a byte that is not "
							     "printable ASCII",
					     name);
	if (url && (strncmp(s, "https://", 8) != 0 || n == 8))
		return pwb_error_set(err, PWB_EUNAVAIL,
				     DEVICE_ENDPOINT ": \"%s\" is not an https URL", name);
	*out = strdup(s);
	return *out ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

/* A number of seconds: a positive integer, or a string of digits (older
 * Entra endpoints sent strings); PWB_ENOTFOUND when absent, PWB_EINVAL
 * otherwise. Capped at max. */
static int seconds_of(json_t *root, const char *name, int64_t max, int64_t *out)
{
	json_t *v = json_object_get(root, name);
	const char *s = json_string_value(v);
	int64_t n = 0;

	if (!v || json_is_null(v))
		return PWB_ENOTFOUND;
	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (s && *s && strlen(s) <= 9 && strspn(s, "0123456789") == strlen(s)) {
		n = strtoll(s, NULL, 10);
	} else {
		return PWB_EINVAL;
	}
	if (n <= 0)
		return PWB_EINVAL;
	*out = n < max ? n : max;
	return 0;
}

/* The members of a device authorization response (RFC 8628 3.2). */
static int device_members(json_t *root, struct pwb_rp_device *d, struct pwb_error *err)
{
	json_t *code = json_object_get(root, "device_code");
	int r;

	if (!json_is_string(code) || json_string_length(code) == 0 ||
	    json_string_length(code) > PWB_RP_DEVICE_CODE_MAX ||
	    strlen(json_string_value(code)) != json_string_length(code))
		return pwb_error_set(err, PWB_EUNAVAIL,
				     DEVICE_ENDPOINT ": no usable \"device_code\"");
	d->device_code = strdup(json_string_value(code));
	if (!d->device_code)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	r = device_text(root, "user_code", PWB_RP_USER_CODE_MAX, false, &d->user_code, err);
	if (r == PWB_ENOTFOUND)
		return pwb_error_set(err, PWB_EUNAVAIL, DEVICE_ENDPOINT ": no \"user_code\"");
	if (r < 0)
		return r;
	r = device_text(root, "verification_uri", PWB_RP_VERIFICATION_MAX, true,
			&d->verification_uri, err);
	if (r == PWB_ENOTFOUND)
		r = device_text(root, "verification_url", PWB_RP_VERIFICATION_MAX, true,
				&d->verification_uri, err);
	if (r == PWB_ENOTFOUND)
		return pwb_error_set(err, PWB_EUNAVAIL,
				     DEVICE_ENDPOINT ": no \"verification_uri\"");
	if (r < 0)
		return r;
	r = device_text(root, "verification_uri_complete", PWB_RP_VERIFICATION_MAX, true,
			&d->verification_uri_complete, err);
	if (r < 0 && r != PWB_ENOTFOUND)
		return r;
	if (seconds_of(root, "expires_in", DEVICE_EXPIRES_MAX, &d->expires_in) < 0)
		return pwb_error_set(err, PWB_EUNAVAIL,
				     DEVICE_ENDPOINT ": \"expires_in\" is missing or not a "
						     "positive number");
	r = seconds_of(root, "interval", PWB_RP_DEVICE_INTERVAL_MAX, &d->interval);
	if (r == PWB_ENOTFOUND)
		d->interval = PWB_RP_DEVICE_INTERVAL;
	else if (r < 0)
		return pwb_error_set(err, PWB_EUNAVAIL,
				     DEVICE_ENDPOINT ": \"interval\" is not a positive number");
	return 0;
}

/* The start both device-grant parsers share: the size bound, the JSON,
 * and an error object classified by device_error (whose result is
 * returned). 1: no error object, the caller reads *root (NULL when the
 * body is not JSON). */
static int device_reply_load(long status, const char *body, size_t len, const char *where,
			     bool polling, json_t **root, enum pwb_rp_device_state *state,
			     struct pwb_error *err)
{
	*root = NULL;
	if (len > PWB_RP_TOKEN_REPLY_MAX)
		return pwb_error_set(err, PWB_EUNAVAIL, "%s: reply larger than %d bytes", where,
				     PWB_RP_TOKEN_REPLY_MAX);
	*root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(*root) && json_is_string(json_object_get(*root, "error")))
		return device_error(*root, status, where, polling, state, err);
	return 1;
}

int pwb_rp_device_parse(long status, const char *body, size_t len, struct pwb_rp_device *out,
			enum pwb_rp_device_state *state, struct pwb_error *err)
{
	_cleanup_json_ json_t *root = NULL;
	_cleanup_rp_device_ struct pwb_rp_device d = {0};
	int r;

	memset(out, 0, sizeof(*out));
	*state = PWB_RP_DEVICE_FAILED;
	r = device_reply_load(status, body, len, DEVICE_ENDPOINT, false, &root, state, err);
	if (r != 1)
		return r;
	if (status != 200)
		return pwb_error_set(err, PWB_EUNAVAIL, DEVICE_ENDPOINT ": HTTP status %ld",
				     status);
	if (!json_is_object(root))
		return pwb_error_set(err, PWB_EUNAVAIL,
				     DEVICE_ENDPOINT ": reply is not a JSON object");
	r = device_members(root, &d, err);
	if (r < 0)
		return r;
	*out = d;
	memset(&d, 0, sizeof(d));
	*state = PWB_RP_DEVICE_OK;
	return 0;
}

/* A client that can authenticate: an id, and a secret unless it is public. */
static bool client_ready(const struct pwb_rp_client *c)
{
	return c->client_id && (c->method == PWB_RP_CLIENT_NONE || c->client_secret);
}

int pwb_rp_device_authorize(const struct pwb_config *cfg, const struct pwb_rp_provider *p,
			    const struct pwb_rp_client *c, const char *scopes,
			    struct pwb_rp_device *out, enum pwb_rp_device_state *state,
			    struct pwb_error *err)
{
	_cleanup_(buf_wipe) struct buf form = {0};
	_cleanup_http_response_ struct pwb_http_response resp = {0};
	bool first = true;
	int r;

	memset(out, 0, sizeof(*out));
	*state = PWB_RP_DEVICE_FAILED;
	if (!p->device_authorization_endpoint)
		return pwb_error_set(err, PWB_ENOTFOUND,
				     "discovery: the provider has no device_authorization_endpoint "
				     "(the device authorization grant is not offered)");
	if (!client_ready(c) || !scopes)
		return pwb_error_set(err, PWB_EINVAL, "device request: a parameter is missing");
	if (!has_openid_scope(scopes))
		return pwb_error_set(err, PWB_ECONFIG,
				     "auth-openid-scopes must contain \"openid\"");
	buf_add_param(&form, &first, "scope", scopes);
	r = client_post(cfg, p->device_authorization_endpoint, c->client_id, c->client_secret,
			c->method, &form, first, &resp, err);
	if (r < 0)
		return r;
	r = pwb_rp_device_parse(resp.status, resp.body, resp.len, out, state, err);
	OPENSSL_cleanse(resp.body, resp.len);
	return refuse_echo(r, DEVICE_ENDPOINT, c->client_secret, NULL, NULL, err);
}

int pwb_rp_device_poll_parse(long status, const char *body, size_t len, struct pwb_rp_tokens *out,
			     enum pwb_rp_device_state *state, struct pwb_error *err)
{
	_cleanup_json_ json_t *root = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	out->expires_in = -1;
	*state = PWB_RP_DEVICE_FAILED;
	r = device_reply_load(status, body, len, TOKEN_ENDPOINT, true, &root, state, err);
	if (r != 1)
		return r;
	r = pwb_rp_tokens_parse(status, body, len, out, err);
	if (r == 0)
		*state = PWB_RP_DEVICE_OK;
	return r;
}

int pwb_rp_device_poll(const struct pwb_config *cfg, const struct pwb_rp_provider *p,
		       const struct pwb_rp_client *c, const char *device_code,
		       struct pwb_rp_tokens *out, enum pwb_rp_device_state *state,
		       struct pwb_error *err)
{
	_cleanup_(buf_wipe) struct buf form = {0};
	_cleanup_http_response_ struct pwb_http_response resp = {0};
	bool first = true;
	int r;

	memset(out, 0, sizeof(*out));
	out->expires_in = -1;
	*state = PWB_RP_DEVICE_FAILED;
	if (!p->token_endpoint || !client_ready(c) || !device_code)
		return pwb_error_set(err, PWB_EINVAL, "token request: a parameter is missing");
	buf_add_param(&form, &first, "grant_type", DEVICE_GRANT);
	buf_add_param(&form, &first, "device_code", device_code);
	r = client_post(cfg, p->token_endpoint, c->client_id, c->client_secret, c->method, &form,
			first, &resp, err);
	if (r < 0)
		return r;
	r = pwb_rp_device_poll_parse(resp.status, resp.body, resp.len, out, state, err);
	OPENSSL_cleanse(resp.body, resp.len);
	return refuse_echo(r, TOKEN_ENDPOINT, device_code, c->client_secret, NULL, err);
}

int pwb_rp_end_session_url(const struct pwb_rp_provider *p, const char *id_token_hint,
			   const char *client_id, const char *post_logout_redirect_uri,
			   const char *state, char **url, struct pwb_error *err)
{
	struct buf b = {0};
	bool first = true;

	*url = NULL;
	if (!p->end_session_endpoint)
		return pwb_error_set(err, PWB_ENOTFOUND,
				     "the provider has no end_session_endpoint");
	buf_start_url(&b, p->end_session_endpoint);
	if (id_token_hint)
		buf_add_param(&b, &first, "id_token_hint", id_token_hint);
	if (client_id)
		buf_add_param(&b, &first, "client_id", client_id);
	if (post_logout_redirect_uri)
		buf_add_param(&b, &first, "post_logout_redirect_uri", post_logout_redirect_uri);
	if (state)
		buf_add_param(&b, &first, "state", state);
	if (buf_take(&b, url) < 0)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

void pwb_rp_logout_clear(struct pwb_rp_logout *l)
{
	free(l->sub);
	free(l->sid);
	free(l->jti);
	memset(l, 0, sizeof(*l));
}

/* A NumericDate claim (an integer or a real within +-1e15 s);
 * PWB_ENOTFOUND when absent, PWB_EAUTH when not such a number. */
static int numeric_date(const struct pwb_jwt *jwt, const char *name, int64_t *out)
{
	json_t *v = json_object_get(jwt->payload, name);
	double d = json_number_value(v);

	if (!v)
		return PWB_ENOTFOUND;
	if (!json_is_number(v) || !(d > -1e15 && d < 1e15))
		return PWB_EAUTH;
	*out = json_is_integer(v) ? json_integer_value(v) : (int64_t)d;
	return 0;
}

/* An identifying claim (sub, sid, jti): a non-empty printable string of
 * at most LOGOUT_ID_MAX bytes, copied; PWB_ENOTFOUND when absent. */
static int logout_id(const struct pwb_jwt *jwt, const char *name, char **out, struct pwb_error *err)
{
	json_t *v = json_object_get(jwt->payload, name);
	const char *s;
	size_t i, n;

	*out = NULL;
	if (!v)
		return PWB_ENOTFOUND;
	if (!json_is_string(v))
		return pwb_error_set(err, PWB_EAUTH, "%s: not a string", name);
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n > LOGOUT_ID_MAX)
		return pwb_error_set(err, PWB_EAUTH, "%s: empty or longer than %d bytes", name,
				     LOGOUT_ID_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return pwb_error_set(err, PWB_EAUTH, "%s: contains a control character",
					     name);
	*out = strdup(s);
	return *out ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

/* Back-Channel Logout 2.4: typ, when given, says what the token is for. */
static int logout_typ(const struct pwb_jwt *jwt, struct pwb_error *err)
{
	json_t *typ = json_object_get(jwt->header, "typ");
	const char *t = json_string_value(typ);

	if (!typ)
		return 0;
	if (t && (strcasecmp(t, "logout+jwt") == 0 ||
		  strcasecmp(t, "application/logout+jwt") == 0 || strcasecmp(t, "JWT") == 0))
		return 0;
	return pwb_error_set(err, PWB_EAUTH, "typ: not a logout token type");
}

static int logout_times(const struct pwb_config *cfg, const struct pwb_jwt *jwt, int64_t now,
			int64_t max_age_s, struct pwb_rp_logout *l, struct pwb_error *err)
{
	int64_t leeway = cfg->openid_leeway;
	int r;

	if (numeric_date(jwt, "iat", &l->iat) < 0)
		return pwb_error_set(err, PWB_EAUTH, "iat: missing or not a number");
	if (l->iat > now + leeway)
		return pwb_error_set(err, PWB_EAUTH, "iat: token issued %lld s in the future",
				     (long long)(l->iat - now));
	if (now - l->iat > max_age_s + leeway)
		return pwb_error_set(err, PWB_EAUTH, "iat: token issued %lld s ago, more than %lld",
				     (long long)(now - l->iat), (long long)max_age_s);
	r = numeric_date(jwt, "exp", &l->exp);
	if (r == PWB_EAUTH)
		return pwb_error_set(err, PWB_EAUTH, "exp: not a number");
	if (r == PWB_ENOTFOUND)
		l->exp = 0;
	else if (now - leeway >= l->exp)
		return pwb_error_set(err, PWB_EAUTH, "exp: token expired %lld s ago",
				     (long long)(now - l->exp));
	return 0;
}

int pwb_rp_logout_claims_check(const struct pwb_config *cfg, const char *client_id,
			       const struct pwb_jwt *jwt, int64_t now, int64_t max_age_s,
			       struct pwb_rp_logout *out, struct pwb_error *err)
{
	_cleanup_rp_logout_ struct pwb_rp_logout l = {0};
	const char *iss = pwb_jwt_claim_string(jwt, "iss");
	json_t *events = json_object_get(jwt->payload, "events");
	int r;

	memset(out, 0, sizeof(*out));
	r = logout_typ(jwt, err);
	if (r < 0)
		return r;
	if (!iss || !cfg->openid_issuer || strcmp(iss, cfg->openid_issuer) != 0)
		return pwb_error_set(err, PWB_EAUTH, "iss: not the configured issuer");
	/* 2.6 step 3: aud as in ID tokens (client_id or auth-openid-audiences). */
	r = pwb_jwt_check_audience(jwt, client_id, cfg->openid_audiences, err);
	if (r < 0)
		return r;
	r = logout_times(cfg, jwt, now, max_age_s, &l, err);
	if (r < 0)
		return r;
	if (!json_is_object(events))
		return pwb_error_set(err, PWB_EAUTH, "events: missing or not an object");
	if (!json_is_object(json_object_get(events, LOGOUT_EVENT)))
		return pwb_error_set(err, PWB_EAUTH, "events: no back-channel logout event object");
	/* 2.4: a nonce is forbidden, so an ID token cannot pass for one. */
	if (json_object_get(jwt->payload, "nonce"))
		return pwb_error_set(err, PWB_EAUTH, "nonce: present in a logout token");
	r = logout_id(jwt, "sub", &l.sub, err);
	if (r < 0 && r != PWB_ENOTFOUND)
		return r;
	r = logout_id(jwt, "sid", &l.sid, err);
	if (r < 0 && r != PWB_ENOTFOUND)
		return r;
	if (!l.sub && !l.sid)
		return pwb_error_set(err, PWB_EAUTH, "sid: neither sid nor sub");
	r = logout_id(jwt, "jti", &l.jti, err);
	if (r == PWB_ENOTFOUND)
		return pwb_error_set(err, PWB_EAUTH, "jti: missing");
	if (r < 0)
		return r;
	*out = l;
	memset(&l, 0, sizeof(l));
	return 0;
}

int pwb_rp_logout_token_verify(const struct pwb_config *cfg, const char *client_id,
			       const char *token, size_t len, int64_t max_age_s,
			       struct pwb_rp_logout *out, struct pwb_error *err)
{
	_cleanup_jwt_ struct pwb_jwt *jwt = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = pwb_jwt_parse(token, len, &jwt, err);
	if (r < 0)
		return r;
	r = pwb_jwt_check_alg(jwt, cfg->openid_algorithms, err);
	if (r < 0)
		return r;
	r = pwb_oidc_verify_jws(cfg, jwt, err);
	if (r < 0)
		return r;
	return pwb_rp_logout_claims_check(cfg, client_id, jwt, (int64_t)time(NULL), max_age_s, out,
					  err);
}
