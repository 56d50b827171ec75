/* Unit tests for lib/oidc/rp.c: PKCE (RFC 7636 appendix B), random values,
 * URL and Basic encoding, the token reply parser, the end-session URL, the
 * provider's endpoints from a warm discovery cache, and every back-channel
 * logout token rule on its own, with tokens signed by real keys and an
 * issuer that cannot be reached (the cache answers). Real HTTPS is covered
 * by tests/integration. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <openssl/evp.h>
#include "oidc_cache.h"
#include "rp.h"
#include "testsign.h"
#include "testutil.h"
#include "util.h"

#define ISS	      "https://127.0.0.1:1/realm"
#define CID	      "pwb-client"
#define DISCOVERY_URL ISS "/.well-known/openid-configuration"
#define EVENT	      "\"events\":{\"http://schemas.openid.net/event/backchannel-logout\":{}}"

static char *dir;
static EVP_PKEY *rsa, *other;
static struct pwb_config cfg;
static char *jwks_text;

static void put_cache(const char *kind, const char *url, const char *body)
{
	char cache[PATH_MAX], name[80];
	struct pwb_cache_entry e = {(char *)url, (char *)body, time(NULL), time(NULL) + 3600, 0};
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_oidc_cache_dir(cfg.db_dir, cache, &err), 0);
	ck_assert_int_eq(pwb_oidc_cache_name(kind, url, name), 0);
	ck_assert_int_eq(pwb_oidc_cache_save(cache, name, &e, &err), 0);
}

static void put_discovery(const char *members)
{
	char *doc = NULL;

	ck_assert_int_ge(asprintf(&doc,
				  "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"" ISS "/jwks\"%s%s}",
				  members ? "," : "", members ? members : ""),
			 0);
	put_cache("discovery", DISCOVERY_URL, doc);
	free(doc);
}

static void setup(void)
{
	struct pwb_error err = {0};
	char *text = NULL, *db = NULL, *jwk;

	dir = test_mkdtemp();
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ck_assert_ptr_nonnull(rsa);
	ck_assert_ptr_nonnull(other);
	ck_assert_int_ge(asprintf(&db, "%s/db", dir), 0);
	ck_assert_int_eq(mkdir(db, 0755), 0);
	ck_assert_int_ge(asprintf(&text,
				  "db-dir=%s\nauth-openid-issuer=" ISS "\n"
				  "auth-openid-audiences=other-app, second-app\n",
				  db),
			 0);
	ck_assert_int_eq(pwb_config_defaults(&cfg), 0);
	ck_assert_msg(pwb_config_parse(text, "test.conf", &cfg, &err) == 0, "%s", err.msg);
	jwk = testsign_jwk(rsa, "k1", NULL);
	ck_assert_int_ge(asprintf(&jwks_text, "{\"keys\":[%s]}", jwk), 0);
	put_discovery("\"authorization_endpoint\":\"" ISS "/auth\","
		      "\"token_endpoint\":\"" ISS "/token\","
		      "\"end_session_endpoint\":\"" ISS "/logout?x=1\","
		      "\"device_authorization_endpoint\":\"" ISS "/device\","
		      "\"code_challenge_methods_supported\":[\"plain\",\"S256\"]");
	put_cache("jwks", ISS "/jwks", jwks_text);
	free(jwk);
	free(text);
	free(db);
}

static void teardown(void)
{
	pwb_config_free(&cfg);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(other);
	free(jwks_text);
	jwks_text = NULL;
	test_rmtree(dir);
	free(dir);
}

START_TEST(pkce_rfc7636_vector)
{
	char out[PWB_RP_RANDOM_LEN + 1];

	/* RFC 7636 appendix B. */
	ck_assert_int_eq(pwb_rp_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", out),
			 0);
	ck_assert_str_eq(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	/* Too short, and a byte outside the unreserved set. */
	ck_assert_int_eq(pwb_rp_pkce_challenge("short", out), PWB_EINVAL);
	ck_assert_int_eq(pwb_rp_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX+", out),
			 PWB_EINVAL);
}
END_TEST

START_TEST(random_values)
{
	char a[PWB_RP_RANDOM_LEN + 1], b[PWB_RP_RANDOM_LEN + 1], c[PWB_RP_RANDOM_LEN + 1];
	size_t i;

	ck_assert_int_eq(pwb_rp_random(a), 0);
	ck_assert_int_eq(pwb_rp_random(b), 0);
	ck_assert_uint_eq(strlen(a), PWB_RP_RANDOM_LEN);
	ck_assert_uint_eq(strlen(b), PWB_RP_RANDOM_LEN);
	ck_assert_str_ne(a, b);
	for (i = 0; i < PWB_RP_RANDOM_LEN; i++)
		ck_assert_msg(
		    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
			   a[i]),
		    "byte %zu of %s", i, a);
	/* A random value is a valid PKCE verifier. */
	ck_assert_int_eq(pwb_rp_pkce_challenge(a, c), 0);
}
END_TEST

START_TEST(url_encoding)
{
	char *s = NULL;

	ck_assert_int_eq(pwb_rp_url_encode("AZaz09-._~ /?#&=+:%\xc3\xa9", &s), 0);
	ck_assert_str_eq(s, "AZaz09-._~%20%2F%3F%23%26%3D%2B%3A%25%C3%A9");
	free(s);
	ck_assert_int_eq(pwb_rp_url_encode("", &s), 0);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

static const struct {
	const char *endpoint, *start;
} endpoints[] = {
    {"https://idp/auth", "https://idp/auth?response_type=code&"},
    {"https://idp/auth?tenant=a", "https://idp/auth?tenant=a&response_type=code&"},
    {"https://idp/auth?", "https://idp/auth?response_type=code&"},
    {"https://idp/auth?tenant=a&", "https://idp/auth?tenant=a&response_type=code&"},
};

START_TEST(authorize_url)
{
	struct pwb_rp_provider p = {.authorization_endpoint = (char *)endpoints[_i].endpoint};
	struct pwb_rp_authz a = {.client_id = "my app",
				 .redirect_uri = "https://ds.example.com/pwb/callback",
				 .scopes = "openid profile email",
				 .state = "st-1",
				 .nonce = "n_2",
				 .code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"};
	struct pwb_error err = {0};
	char *url = NULL;
	const char *rest;

	ck_assert_msg(pwb_rp_authorize_url(&p, &a, &url, &err) == 0, "%s", err.msg);
	ck_assert_msg(strncmp(url, endpoints[_i].start, strlen(endpoints[_i].start)) == 0, "%s",
		      url);
	rest = url + strlen(endpoints[_i].start);
	ck_assert_str_eq(rest, "client_id=my%20app"
			       "&redirect_uri=https%3A%2F%2Fds.example.com%2Fpwb%2Fcallback"
			       "&scope=openid%20profile%20email&state=st-1&nonce=n_2"
			       "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
			       "&code_challenge_method=S256");
	free(url);
}
END_TEST

START_TEST(authorize_url_needs_openid)
{
	struct pwb_rp_provider p = {.authorization_endpoint = "https://idp/auth"};
	struct pwb_rp_authz a = {.client_id = "c",
				 .redirect_uri = "https://x/cb",
				 .scopes = "openidx profile",
				 .state = "s",
				 .nonce = "n",
				 .code_challenge = "c"};
	struct pwb_error err = {0};
	char *url = NULL;

	ck_assert_int_eq(pwb_rp_authorize_url(&p, &a, &url, &err), PWB_ECONFIG);
	ck_assert_ptr_null(url);
	a.scopes = "profile openid";
	ck_assert_int_eq(pwb_rp_authorize_url(&p, &a, &url, &err), 0);
	free(url);
	a.nonce = NULL;
	ck_assert_int_eq(pwb_rp_authorize_url(&p, &a, &url, &err), PWB_EINVAL);
}
END_TEST

START_TEST(basic_header)
{
	char *h = NULL;
	unsigned char raw[256];
	int n;

	/* RFC 6749 2.3.1: form-urlencode, then base64. */
	ck_assert_int_eq(pwb_rp_basic_authorization("client:1", "s&c:r+t %\xc3\xa9/=", &h), 0);
	ck_assert(strncmp(h, "Basic ", 6) == 0);
	n = EVP_DecodeBlock(raw, (const unsigned char *)h + 6, (int)strlen(h + 6));
	ck_assert_int_gt(n, 0);
	while (n > 0 && raw[n - 1] == '\0')
		n--;
	raw[n] = '\0';
	ck_assert_str_eq((char *)raw, "client%3A1:s%26c%3Ar%2Bt%20%25%C3%A9%2F%3D");
	pwb_free_secret(h);
	ck_assert_int_eq(pwb_rp_basic_authorization("a", "b", &h), 0);
	ck_assert_str_eq(h, "Basic YTpi");
	pwb_free_secret(h);
}
END_TEST

START_TEST(auth_method)
{
	enum pwb_rp_auth_method m;
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_rp_auth_method_parse("client_secret_basic", &m, &err), 0);
	ck_assert_int_eq(m, PWB_RP_CLIENT_SECRET_BASIC);
	ck_assert_int_eq(pwb_rp_auth_method_parse("client_secret_post", &m, &err), 0);
	ck_assert_int_eq(m, PWB_RP_CLIENT_SECRET_POST);
	ck_assert_int_eq(pwb_rp_auth_method_parse("private_key_jwt", &m, &err), PWB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "\"private_key_jwt\""));
}
END_TEST

static int parse(long status, const char *body, struct pwb_rp_tokens *t, struct pwb_error *err)
{
	memset(err, 0, sizeof(*err));
	return pwb_rp_tokens_parse(status, body, strlen(body), t, err);
}

START_TEST(token_reply)
{
	struct pwb_rp_tokens t;
	struct pwb_error err;

	ck_assert_msg(parse(200,
			    "{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"expires_in\":300,"
			    "\"id_token\":\"a.b.c\",\"refresh_token\":\"rt\"}",
			    &t, &err) == 0,
		      "%s", err.msg);
	ck_assert_str_eq(t.id_token, "a.b.c");
	ck_assert_str_eq(t.access_token, "at");
	ck_assert_str_eq(t.refresh_token, "rt");
	ck_assert_int_eq(t.expires_in, 300);
	pwb_rp_tokens_clear(&t);
	ck_assert_ptr_null(t.id_token);

	ck_assert_int_eq(parse(200, "{\"access_token\":\"at\",\"id_token\":\"a.b.c\"}", &t, &err),
			 0);
	ck_assert_ptr_null(t.refresh_token);
	ck_assert_int_eq(t.expires_in, -1);
	pwb_rp_tokens_clear(&t);
}
END_TEST

static const struct {
	long status;
	const char *body;
	int code;
	const char *msg;
} bad_replies[] = {
    {400, "{\"error\":\"invalid_grant\",\"error_description\":\"grant request is invalid\"}",
     PWB_EAUTH, "token endpoint: invalid_grant: grant request is invalid"},
    {401, "{\"error\":\"invalid_client\"}", PWB_EAUTH,
     "token endpoint: invalid_client (HTTP status 401)"},
    {400, "{\"error\":\"x\\n\\\"y\",\"error_description\":\"a\\u0001b\"}", PWB_EAUTH,
     "token endpoint: x\\x0a\\x22y: a\\x01b"},
    {200, "{\"access_token\":\"at\"}", PWB_EAUTH, "token endpoint: reply has no id_token"},
    {200, "{\"id_token\":\"a.b.c\"}", PWB_EAUTH, "token endpoint: reply has no access_token"},
    {200, "{\"id_token\":7,\"access_token\":\"at\"}", PWB_EAUTH,
     "token endpoint: \"id_token\" is not a string"},
    {200, "{\"id_token\":\"\",\"access_token\":\"at\"}", PWB_EAUTH,
     "token endpoint: \"id_token\" is not a string"},
    {200, "[\"id_token\"]", PWB_EUNAVAIL, "token endpoint: reply is not a JSON object"},
    {200, "<html>", PWB_EUNAVAIL, "token endpoint: reply is not a JSON object"},
    {502, "<html>bad gateway</html>", PWB_EUNAVAIL, "token endpoint: HTTP status 502"},
    {302, "", PWB_EUNAVAIL, "token endpoint: HTTP status 302"},
    {200, "{\"id_token\":\"a\",\"id_token\":\"b\",\"access_token\":\"at\"}", PWB_EUNAVAIL,
     "token endpoint: reply is not a JSON object"},
};

START_TEST(token_reply_refused)
{
	struct pwb_rp_tokens t;
	struct pwb_error err;

	ck_assert_int_eq(parse(bad_replies[_i].status, bad_replies[_i].body, &t, &err),
			 bad_replies[_i].code);
	ck_assert_str_eq(err.msg, bad_replies[_i].msg);
	ck_assert_ptr_null(t.id_token);
	ck_assert_ptr_null(t.access_token);
}
END_TEST

START_TEST(token_reply_bounds)
{
	struct pwb_rp_tokens t;
	struct pwb_error err;
	size_t n = PWB_RP_TOKEN_REPLY_MAX + 1, i;
	char *big = malloc(n + 1);
	char *long_id = NULL, *fill = malloc(PWB_JWT_MAX_BYTES + 2);

	/* A huge body is refused before it is parsed. */
	memset(big, ' ', n);
	memcpy(big, "{\"id_token\":\"a.b.c\",\"access_token\":\"at\"}", 40);
	big[n] = '\0';
	ck_assert_int_eq(pwb_rp_tokens_parse(200, big, n, &t, &err), PWB_EUNAVAIL);
	ck_assert_ptr_nonnull(strstr(err.msg, "larger than"));
	/* An id_token over the JWS limit. */
	for (i = 0; i < PWB_JWT_MAX_BYTES + 1; i++)
		fill[i] = 'a';
	fill[PWB_JWT_MAX_BYTES + 1] = '\0';
	ck_assert_int_ge(asprintf(&long_id, "{\"id_token\":\"%s\",\"access_token\":\"at\"}", fill),
			 0);
	ck_assert_int_eq(parse(200, long_id, &t, &err), PWB_EAUTH);
	ck_assert_ptr_nonnull(strstr(err.msg, "\"id_token\" is longer than"));
	free(long_id);
	free(fill);
	free(big);
}
END_TEST

START_TEST(exchange_never_shows_secrets)
{
	struct pwb_rp_provider p = {.token_endpoint = "https://127.0.0.1:1/token"};
	struct pwb_rp_exchange x = {.client_id = CID,
				    .client_secret = "the-secret",
				    .method = PWB_RP_CLIENT_SECRET_BASIC,
				    .code = "the-code",
				    .redirect_uri = "https://ds/pwb/callback",
				    .code_verifier = "the-verifier"};
	struct pwb_rp_tokens t;
	struct pwb_error err = {0};
	int m;

	for (m = 0; m < 2; m++) {
		x.method = m == 0 ? PWB_RP_CLIENT_SECRET_BASIC : PWB_RP_CLIENT_SECRET_POST;
		p.token_endpoint = "https://127.0.0.1:1/token";
		ck_assert_int_eq(pwb_rp_exchange_code(&cfg, &p, &x, &t, &err), PWB_EUNAVAIL);
		ck_assert_ptr_nonnull(strstr(err.msg, "https://127.0.0.1:1/token"));
		ck_assert_ptr_null(strstr(err.msg, "the-"));
		p.token_endpoint = "http://127.0.0.1:1/token";
		ck_assert_int_eq(pwb_rp_exchange_code(&cfg, &p, &x, &t, &err), PWB_EINVAL);
		ck_assert_ptr_null(strstr(err.msg, "the-"));
		ck_assert_ptr_null(t.id_token);
	}
}
END_TEST

#define DEVICE_OK                                                                                  \
	"{\"device_code\":\"the-device-code\",\"user_code\":\"WDJB-MJHT\","                        \
	"\"verification_uri\":\"https://idp/device\","                                             \
	"\"verification_uri_complete\":\"https://idp/device?user_code=WDJB-MJHT\","                \
	"\"expires_in\":1800,\"interval\":7}"

static int device_parse(long status, const char *body, struct pwb_rp_device *d,
			enum pwb_rp_device_state *state, struct pwb_error *err)
{
	memset(err, 0, sizeof(*err));
	return pwb_rp_device_parse(status, body, strlen(body), d, state, err);
}

START_TEST(device_reply)
{
	struct pwb_rp_device d;
	enum pwb_rp_device_state state;
	struct pwb_error err;

	ck_assert_msg(device_parse(200, DEVICE_OK, &d, &state, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(state, PWB_RP_DEVICE_OK);
	ck_assert_str_eq(d.device_code, "the-device-code");
	ck_assert_str_eq(d.user_code, "WDJB-MJHT");
	ck_assert_str_eq(d.verification_uri, "https://idp/device");
	ck_assert_str_eq(d.verification_uri_complete, "https://idp/device?user_code=WDJB-MJHT");
	ck_assert_int_eq(d.expires_in, 1800);
	ck_assert_int_eq(d.interval, 7);
	pwb_rp_device_clear(&d);
	ck_assert_ptr_null(d.device_code);
	/* No interval: 5 s (RFC 8628 3.2); Google's verification_url; an
	 * expires_in sent as a string; a huge interval capped. */
	ck_assert_msg(
	    device_parse(200,
			 "{\"device_code\":\"dc\",\"user_code\":\"AB CD\","
			 "\"verification_url\":\"https://g/device\",\"expires_in\":\"900\"}",
			 &d, &state, &err) == 0,
	    "%s", err.msg);
	ck_assert_int_eq(d.interval, PWB_RP_DEVICE_INTERVAL);
	ck_assert_int_eq(d.expires_in, 900);
	ck_assert_str_eq(d.verification_uri, "https://g/device");
	ck_assert_ptr_null(d.verification_uri_complete);
	pwb_rp_device_clear(&d);
	ck_assert_int_eq(device_parse(200,
				      "{\"device_code\":\"dc\",\"user_code\":\"A\","
				      "\"verification_uri\":\"https://i/d\",\"expires_in\":600,"
				      "\"interval\":100000}",
				      &d, &state, &err),
			 0);
	ck_assert_int_eq(d.interval, PWB_RP_DEVICE_INTERVAL_MAX);
	pwb_rp_device_clear(&d);
}
END_TEST

/* A device-grant answer and what it must give. */
struct device_case {
	long status;
	const char *body;
	int code;
	enum pwb_rp_device_state state;
	const char *msg; /* NULL: no message */
};

static const struct device_case bad_device[] = {
    {200, "{\"user_code\":\"A\",\"verification_uri\":\"https://i/d\",\"expires_in\":60}",
     PWB_EUNAVAIL, PWB_RP_DEVICE_FAILED,
     "device authorization endpoint: no usable \"device_code\""},
    {200, "{\"device_code\":\"dc\",\"verification_uri\":\"https://i/d\",\"expires_in\":60}",
     PWB_EUNAVAIL, PWB_RP_DEVICE_FAILED, "device authorization endpoint: no \"user_code\""},
    {200, "{\"device_code\":\"dc\",\"user_code\":\"A\",\"expires_in\":60}", PWB_EUNAVAIL,
     PWB_RP_DEVICE_FAILED, "device authorization endpoint: no \"verification_uri\""},
    /* What reaches the person's terminal: no escape sequences, https only. */
    {200,
     "{\"device_code\":\"dc\",\"user_code\":\"A\\u001b[2J\",\"verification_uri\":\"https://i/d\","
     "\"expires_in\":60}",
     PWB_EUNAVAIL, PWB_RP_DEVICE_FAILED,
     "device authorization endpoint: \"user_code\" holds a byte that is not printable ASCII"},
    {200,
     "{\"device_code\":\"dc\",\"user_code\":\"A\",\"verification_uri\":\"https://i/d\\n"
     "Code: X\",\"expires_in\":60}",
     PWB_EUNAVAIL, PWB_RP_DEVICE_FAILED,
     "device authorization endpoint: \"verification_uri\" holds a byte that is not printable "
     "ASCII"},
    {200,
     "{\"device_code\":\"dc\",\"user_code\":\"A\",\"verification_uri\":\"http://i/d\","
     "\"expires_in\":60}",
     PWB_EUNAVAIL, PWB_RP_DEVICE_FAILED,
     "device authorization endpoint: \"verification_uri\" is not an https URL"},
    {200,
     "{\"device_code\":\"dc\",\"user_code\":\"A\",\"verification_uri\":\"https://i/d\","
     "\"verification_uri_complete\":\"javascript:x\",\"expires_in\":60}",
     PWB_EUNAVAIL, PWB_RP_DEVICE_FAILED,
     "device authorization endpoint: \"verification_uri_complete\" is not an https URL"},
    {200, "{\"device_code\":\"dc\",\"user_code\":\"A\",\"verification_uri\":\"https://i/d\"}",
     PWB_EUNAVAIL, PWB_RP_DEVICE_FAILED,
     "device authorization endpoint: \"expires_in\" is missing or not a positive number"},
    {200,
     "{\"device_code\":\"dc\",\"user_code\":\"A\",\"verification_uri\":\"https://i/d\","
     "\"expires_in\":0}",
     PWB_EUNAVAIL, PWB_RP_DEVICE_FAILED,
     "device authorization endpoint: \"expires_in\" is missing or not a positive number"},
    {200,
     "{\"device_code\":\"dc\",\"user_code\":\"A\",\"verification_uri\":\"https://i/d\","
     "\"expires_in\":60,\"interval\":-1}",
     PWB_EUNAVAIL, PWB_RP_DEVICE_FAILED,
     "device authorization endpoint: \"interval\" is not a positive number"},
    {502, "<html>", PWB_EUNAVAIL, PWB_RP_DEVICE_FAILED,
     "device authorization endpoint: HTTP status 502"},
    {200, "<html>", PWB_EUNAVAIL, PWB_RP_DEVICE_FAILED,
     "device authorization endpoint: reply is not a JSON object"},
    /* Okta, grant type not enabled on the application. */
    {400,
     "{\"error\":\"unauthorized_client\",\"error_description\":\"The client is not "
     "authorized to use the provided grant type. Configured grant types: "
     "[authorization_code].\"}",
     PWB_EAUTH, PWB_RP_DEVICE_NOT_ALLOWED,
     "unauthorized_client: the identity provider does not allow this client the device "
     "authorization grant (device authorization endpoint)"},
    /* oidc-provider, the client lacks the grant type. */
    {400,
     "{\"error\":\"invalid_request\",\"error_description\":\"urn:ietf:params:oauth:grant-type:"
     "device_code is not allowed for this client\"}",
     PWB_EAUTH, PWB_RP_DEVICE_NOT_ALLOWED,
     "invalid_request: the identity provider does not allow this client the device "
     "authorization grant (device authorization endpoint)"},
    {400, "{\"error\":\"invalid_scope\"}", PWB_EAUTH, PWB_RP_DEVICE_FAILED,
     "device authorization endpoint: invalid_scope (HTTP status 400)"},
    /* pending means nothing before a code was issued */
    {400, "{\"error\":\"authorization_pending\"}", PWB_EAUTH, PWB_RP_DEVICE_FAILED,
     "device authorization endpoint: authorization_pending (HTTP status 400)"},
};

START_TEST(device_reply_refused)
{
	struct pwb_rp_device d;
	enum pwb_rp_device_state state;
	struct pwb_error err;

	ck_assert_int_eq(device_parse(bad_device[_i].status, bad_device[_i].body, &d, &state, &err),
			 bad_device[_i].code);
	ck_assert_int_eq(state, bad_device[_i].state);
	ck_assert_str_eq(err.msg, bad_device[_i].msg);
	ck_assert_ptr_null(d.device_code);
	ck_assert_ptr_null(d.user_code);
}
END_TEST

static const struct device_case polls[] = {
    {400, "{\"error\":\"authorization_pending\"}", 0, PWB_RP_DEVICE_PENDING, NULL},
    {400, "{\"error\":\"slow_down\",\"error_description\":\"x\"}", 0, PWB_RP_DEVICE_SLOW_DOWN,
     NULL},
    {400, "{\"error\":\"access_denied\",\"error_description\":\"End-User aborted\"}", PWB_EAUTH,
     PWB_RP_DEVICE_DENIED, "access_denied: the sign-in was denied at the identity provider"},
    {400, "{\"error\":\"expired_token\"}", PWB_EAUTH, PWB_RP_DEVICE_EXPIRED,
     "expired_token: the code expired before it was approved"},
    {401, "{\"error\":\"invalid_client\"}", PWB_EAUTH, PWB_RP_DEVICE_NOT_ALLOWED,
     "invalid_client: the identity provider does not allow this client the device "
     "authorization grant (token endpoint)"},
    {400, "{\"error\":\"unsupported_grant_type\"}", PWB_EAUTH, PWB_RP_DEVICE_NOT_ALLOWED,
     "unsupported_grant_type: the identity provider does not allow this client the device "
     "authorization grant (token endpoint)"},
    /* Entra: the app registration does not allow public client flows. */
    {401,
     "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000218: The request body "
     "must contain the following parameter: 'client_assertion' or 'client_secret'.\"}",
     PWB_EAUTH, PWB_RP_DEVICE_NOT_ALLOWED,
     "invalid_client (AADSTS7000218): the identity provider does not allow this client the "
     "device authorization grant (token endpoint)"},
    {400, "{\"error\":\"invalid_grant\",\"error_description\":\"grant request is invalid\"}",
     PWB_EAUTH, PWB_RP_DEVICE_FAILED, "token endpoint: invalid_grant: grant request is invalid"},
    {500, "oops", PWB_EUNAVAIL, PWB_RP_DEVICE_FAILED, "token endpoint: HTTP status 500"},
    {200, "{\"access_token\":\"at\"}", PWB_EAUTH, PWB_RP_DEVICE_FAILED,
     "token endpoint: reply has no id_token"},
};

START_TEST(device_poll_answers)
{
	struct pwb_rp_tokens t;
	enum pwb_rp_device_state state;
	struct pwb_error err = {0};
	int r;

	r = pwb_rp_device_poll_parse(polls[_i].status, polls[_i].body, strlen(polls[_i].body), &t,
				     &state, &err);
	ck_assert_int_eq(r, polls[_i].code);
	ck_assert_int_eq(state, polls[_i].state);
	if (polls[_i].msg)
		ck_assert_str_eq(err.msg, polls[_i].msg);
	ck_assert_ptr_null(t.id_token);
}
END_TEST

START_TEST(device_poll_tokens)
{
	const char *body = "{\"access_token\":\"at\",\"id_token\":\"a.b.c\",\"expires_in\":60}";
	struct pwb_rp_tokens t;
	enum pwb_rp_device_state state;
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_rp_device_poll_parse(200, body, strlen(body), &t, &state, &err), 0);
	ck_assert_int_eq(state, PWB_RP_DEVICE_OK);
	ck_assert_str_eq(t.id_token, "a.b.c");
	pwb_rp_tokens_clear(&t);
}
END_TEST

START_TEST(device_auth_method)
{
	enum pwb_rp_auth_method m;
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_rp_device_auth_method_parse("auto", false, &m, &err), 0);
	ck_assert_int_eq(m, PWB_RP_CLIENT_NONE);
	ck_assert_int_eq(pwb_rp_device_auth_method_parse("auto", true, &m, &err), 0);
	ck_assert_int_eq(m, PWB_RP_CLIENT_SECRET_BASIC);
	ck_assert_int_eq(pwb_rp_device_auth_method_parse("none", true, &m, &err), 0);
	ck_assert_int_eq(m, PWB_RP_CLIENT_NONE);
	ck_assert_int_eq(pwb_rp_device_auth_method_parse("client_secret_post", true, &m, &err), 0);
	ck_assert_int_eq(m, PWB_RP_CLIENT_SECRET_POST);
	ck_assert_int_eq(pwb_rp_device_auth_method_parse("client_secret_basic", false, &m, &err),
			 PWB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "needs a client-secret= line"));
	ck_assert_int_eq(pwb_rp_device_auth_method_parse("private_key_jwt", true, &m, &err),
			 PWB_ECONFIG);
	ck_assert_str_eq(err.msg, "auth-openid-device-token-method: \"private_key_jwt\" is not "
				  "auto, none, client_secret_basic or client_secret_post");
	/* The web client never goes without a secret. */
	ck_assert_int_eq(pwb_rp_auth_method_parse("none", &m, &err), PWB_ECONFIG);
}
END_TEST

START_TEST(device_never_shows_secrets)
{
	struct pwb_rp_provider p = {.token_endpoint = "https://127.0.0.1:1/token",
				    .device_authorization_endpoint = "https://127.0.0.1:1/device"};
	struct pwb_rp_client c = {CID, "the-secret", PWB_RP_CLIENT_SECRET_POST};
	struct pwb_rp_device d;
	struct pwb_rp_tokens t;
	enum pwb_rp_device_state state;
	struct pwb_error err = {0};
	int m;

	for (m = 0; m < 3; m++) {
		c.method = m == 0   ? PWB_RP_CLIENT_SECRET_BASIC
			   : m == 1 ? PWB_RP_CLIENT_SECRET_POST
				    : PWB_RP_CLIENT_NONE;
		ck_assert_int_eq(pwb_rp_device_authorize(&cfg, &p, &c, "openid", &d, &state, &err),
				 PWB_EUNAVAIL);
		ck_assert_ptr_nonnull(strstr(err.msg, "https://127.0.0.1:1/device"));
		ck_assert_ptr_null(strstr(err.msg, "the-"));
		ck_assert_int_eq(
		    pwb_rp_device_poll(&cfg, &p, &c, "the-device-code", &t, &state, &err),
		    PWB_EUNAVAIL);
		ck_assert_ptr_null(strstr(err.msg, "the-"));
		ck_assert_int_eq(state, PWB_RP_DEVICE_FAILED);
	}
	ck_assert_int_eq(pwb_rp_device_authorize(&cfg, &p, &c, "profile", &d, &state, &err),
			 PWB_ECONFIG);
	p.device_authorization_endpoint = NULL;
	ck_assert_int_eq(pwb_rp_device_authorize(&cfg, &p, &c, "openid", &d, &state, &err),
			 PWB_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.msg, "device_authorization_endpoint"));
}
END_TEST

START_TEST(end_session_url)
{
	struct pwb_rp_provider p = {.end_session_endpoint = "https://idp/session/end"};
	struct pwb_error err = {0};
	char *url = NULL;

	ck_assert_int_eq(
	    pwb_rp_end_session_url(&p, "h.p.s", CID, "https://ds/bye?x=1&y=2", "st", &url, &err),
	    0);
	ck_assert_str_eq(url, "https://idp/session/end?id_token_hint=h.p.s&client_id=pwb-client"
			      "&post_logout_redirect_uri=https%3A%2F%2Fds%2Fbye%3Fx%3D1%26y%3D2"
			      "&state=st");
	free(url);
	p.end_session_endpoint = "https://idp/logout?tenant=t";
	ck_assert_int_eq(pwb_rp_end_session_url(&p, "h.p.s", NULL, NULL, NULL, &url, &err), 0);
	ck_assert_str_eq(url, "https://idp/logout?tenant=t&id_token_hint=h.p.s");
	free(url);
	p.end_session_endpoint = NULL;
	ck_assert_int_eq(pwb_rp_end_session_url(&p, "h.p.s", CID, NULL, NULL, &url, &err),
			 PWB_ENOTFOUND);
	ck_assert_ptr_null(url);
}
END_TEST

START_TEST(provider_from_discovery)
{
	struct pwb_rp_provider p;
	struct pwb_error err = {0};

	ck_assert_msg(pwb_rp_provider_load(&cfg, &p, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(p.issuer, ISS);
	ck_assert_str_eq(p.authorization_endpoint, ISS "/auth");
	ck_assert_str_eq(p.token_endpoint, ISS "/token");
	ck_assert_str_eq(p.end_session_endpoint, ISS "/logout?x=1");
	ck_assert_str_eq(p.device_authorization_endpoint, ISS "/device");
	pwb_rp_provider_clear(&p);
	/* No end_session_endpoint, no PKCE list: fine. */
	put_discovery("\"authorization_endpoint\":\"" ISS "/auth\","
		      "\"token_endpoint\":\"" ISS "/token\"");
	ck_assert_msg(pwb_rp_provider_load(&cfg, &p, &err) == 0, "%s", err.msg);
	ck_assert_ptr_null(p.end_session_endpoint);
	ck_assert_ptr_null(p.device_authorization_endpoint);
	pwb_rp_provider_clear(&p);
}
END_TEST

static const struct {
	const char *members, *msg;
} bad_discovery[] = {
    {"\"token_endpoint\":\"" ISS "/token\"", "discovery: no \"authorization_endpoint\""},
    {"\"authorization_endpoint\":\"" ISS "/auth\"", "discovery: no \"token_endpoint\""},
    {"\"authorization_endpoint\":\"http://idp/auth\",\"token_endpoint\":\"" ISS "/token\"",
     "discovery: \"authorization_endpoint\" is not an https URL"},
    {"\"authorization_endpoint\":\"" ISS "/auth\",\"token_endpoint\":\"http://idp/token\"",
     "discovery: \"token_endpoint\" is not an https URL"},
    {"\"authorization_endpoint\":\"" ISS "/auth\",\"token_endpoint\":\"" ISS "/token\","
     "\"end_session_endpoint\":\"http://idp/logout\"",
     "discovery: \"end_session_endpoint\" is not an https URL"},
    {"\"authorization_endpoint\":\"" ISS "/auth\",\"token_endpoint\":\"" ISS "/token\","
     "\"device_authorization_endpoint\":\"http://idp/device\"",
     "discovery: \"device_authorization_endpoint\" is not an https URL"},
    {"\"authorization_endpoint\":\"" ISS "/auth#f\",\"token_endpoint\":\"" ISS "/token\"",
     "discovery: \"authorization_endpoint\" has a space, a control byte or a fragment"},
    {"\"authorization_endpoint\":\"" ISS "/auth\",\"token_endpoint\":\"" ISS "/token\","
     "\"code_challenge_methods_supported\":[\"plain\"]",
     "discovery: code_challenge_methods_supported lacks S256"},
};

START_TEST(provider_refused)
{
	struct pwb_rp_provider p;
	struct pwb_error err = {0};

	put_discovery(bad_discovery[_i].members);
	ck_assert_int_eq(pwb_rp_provider_load(&cfg, &p, &err), PWB_EUNAVAIL);
	ck_assert_str_eq(err.msg, bad_discovery[_i].msg);
	ck_assert_ptr_null(p.token_endpoint);
}
END_TEST

/* A logout token's claims: the good ones, with `drop` (a member name
 * prefix such as "\"jti\"") left out and extra members added. */
static char *logout_claims(const char *drop, const char *extra, long iat)
{
	const char *members[] = {
	    "\"iss\":\"" ISS "\"", "\"aud\":\"" CID "\"", "\"iat\":IAT", "\"jti\":\"j-1\"",
	    "\"sub\":\"s-1\"",	   "\"sid\":\"sid-1\"",	  EVENT};
	char *out = NULL, *grown = NULL;
	size_t i;

	out = strdup("{");
	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		const char *m = members[i];

		if (drop && strncmp(m, drop, strlen(drop)) == 0)
			continue;
		if (strcmp(m, "\"iat\":IAT") == 0)
			ck_assert_int_ge(
			    asprintf(&grown, "%s%s\"iat\":%ld", out, out[1] ? "," : "", iat), 0);
		else
			ck_assert_int_ge(asprintf(&grown, "%s%s%s", out, out[1] ? "," : "", m), 0);
		free(out);
		out = grown;
	}
	ck_assert_int_ge(asprintf(&grown, "%s%s%s}", out, extra ? "," : "", extra ? extra : ""), 0);
	free(out);
	return grown;
}

static int verify(const char *token, struct pwb_rp_logout *l, struct pwb_error *err)
{
	memset(err, 0, sizeof(*err));
	return pwb_rp_logout_token_verify(&cfg, CID, token, strlen(token), 120, l, err);
}

START_TEST(logout_token_good)
{
	struct pwb_rp_logout l;
	struct pwb_error err;
	char *claims = logout_claims(NULL, NULL, (long)time(NULL));
	char *tok = testsign_token("RS256", "k1", "{\"typ\":\"logout+jwt\"}", claims, rsa, NULL, 0);

	ck_assert_msg(verify(tok, &l, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(l.sub, "s-1");
	ck_assert_str_eq(l.sid, "sid-1");
	ck_assert_str_eq(l.jti, "j-1");
	ck_assert_int_eq(l.exp, 0);
	pwb_rp_logout_clear(&l);
	free(tok);
	free(claims);
	/* Only sid, aud from auth-openid-audiences among others, an exp. */
	claims = logout_claims("\"sub\"", "\"exp\":9999999999", (long)time(NULL));
	tok = testsign_token("RS256", "k1", NULL, claims, rsa, NULL, 0);
	ck_assert_msg(verify(tok, &l, &err) == 0, "%s", err.msg);
	ck_assert_ptr_null(l.sub);
	ck_assert_str_eq(l.sid, "sid-1");
	ck_assert_int_eq(l.exp, 9999999999LL);
	pwb_rp_logout_clear(&l);
	free(tok);
	free(claims);
}
END_TEST

START_TEST(logout_token_other_audience)
{
	struct pwb_rp_logout l;
	struct pwb_error err;
	char *claims = NULL;
	char *tok;

	ck_assert_int_ge(asprintf(&claims,
				  "{\"iss\":\"" ISS "\",\"aud\":\"second-app\",\"iat\":%ld,"
				  "\"jti\":\"j\",\"sub\":\"s\"," EVENT "}",
				  (long)time(NULL)),
			 0);
	tok = testsign_token("RS256", "k1", NULL, claims, rsa, NULL, 0);
	ck_assert_msg(verify(tok, &l, &err) == 0, "%s", err.msg);
	pwb_rp_logout_clear(&l);
	free(tok);
	free(claims);
}
END_TEST

static const struct {
	const char *drop, *extra, *header;
	long iat_offset;
	const char *msg;
} bad_logout[] = {
    {"\"iss\"", "\"iss\":\"https://evil.example\"", NULL, 0, "iss: not the configured issuer"},
    {"\"iss\"", NULL, NULL, 0, "iss: not the configured issuer"},
    {"\"aud\"", "\"aud\":\"someone-else\"", NULL, 0, "aud: does not contain an accepted client id"},
    {"\"aud\"", "\"aud\":[\"x\",\"y\"]", NULL, 0, "aud: does not contain an accepted client id"},
    {"\"aud\"", NULL, NULL, 0, "aud: missing"},
    {"\"aud\"", "\"aud\":[\"" CID "\",\"x\"]", NULL, 0, "azp: several audiences and no azp"},
    {"\"events\"", NULL, NULL, 0, "events: missing or not an object"},
    {"\"events\"", "\"events\":[]", NULL, 0, "events: missing or not an object"},
    {"\"events\"", "\"events\":{\"http://schemas.openid.net/event/backchannel-logout\":true}", NULL,
     0, "events: no back-channel logout event object"},
    {"\"events\"", "\"events\":{\"http://schemas.openid.net/event/other\":{}}", NULL, 0,
     "events: no back-channel logout event object"},
    {NULL, "\"nonce\":\"n\"", NULL, 0, "nonce: present in a logout token"},
    {"\"s", NULL, NULL, 0, "sid: neither sid nor sub"},
    {"\"jti\"", NULL, NULL, 0, "jti: missing"},
    {"\"jti\"", "\"jti\":5", NULL, 0, "jti: not a string"},
    {"\"sub\"", "\"sub\":\"a\\u0001b\"", NULL, 0, "sub: contains a control character"},
    {"\"iat\"", NULL, NULL, 0, "iat: missing or not a number"},
    /* The claim's iat and the check's clock are read apart (a second can
     * pass between them under a sanitizer), so the count is a wildcard. */
    {NULL, NULL, NULL, 3600, "iat: token issued * s in the future"},
    {NULL, NULL, NULL, -3600, "iat: token issued * s ago, more than 120"},
    {NULL, "\"exp\":1000", NULL, 0, "exp: token expired"},
    {NULL, NULL, "{\"typ\":\"at+jwt\"}", 0, "typ: not a logout token type"},
};

/* Whether msg begins with pattern; a '*' in pattern stands for any run of
 * characters, with the text after it found later in msg. */
static bool msg_matches(const char *pattern, const char *msg)
{
	const char *star = strchr(pattern, '*');

	if (!star)
		return strncmp(msg, pattern, strlen(pattern)) == 0;
	if (strncmp(msg, pattern, (size_t)(star - pattern)) != 0)
		return false;
	return strstr(msg + (star - pattern), star + 1) != NULL;
}

START_TEST(logout_token_refused)
{
	struct pwb_rp_logout l;
	struct pwb_error err;
	char *claims = logout_claims(bad_logout[_i].drop, bad_logout[_i].extra,
				     (long)time(NULL) + bad_logout[_i].iat_offset);
	char *tok = testsign_token("RS256", "k1", bad_logout[_i].header, claims, rsa, NULL, 0);

	ck_assert_int_eq(verify(tok, &l, &err), PWB_EAUTH);
	ck_assert_msg(msg_matches(bad_logout[_i].msg, err.msg), "%s: %s", claims, err.msg);
	ck_assert_ptr_null(l.jti);
	free(tok);
	free(claims);
}
END_TEST

START_TEST(logout_token_bad_signature)
{
	struct pwb_rp_logout l;
	struct pwb_error err;
	char *claims = logout_claims(NULL, NULL, (long)time(NULL));
	char *tok = testsign_token("RS256", "k1", NULL, claims, other, NULL, 0);

	ck_assert_int_eq(verify(tok, &l, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "signature: RS256 signature does not verify");
	free(tok);
	/* HMAC (keyed by anyone holding the client secret) is not accepted,
	 * nor is "none". */
	tok = testsign_token("HS256", "k1", NULL, claims, NULL, "0123456789abcdef0123456789abcdef",
			     32);
	ck_assert_int_eq(verify(tok, &l, &err), PWB_EAUTH);
	free(tok);
	tok = testsign_token("none", "k1", NULL, claims, NULL, NULL, 0);
	ck_assert_int_eq(verify(tok, &l, &err), PWB_EAUTH);
	free(tok);
	free(claims);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rp");
	TCase *tc = tcase_create("rp");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, pkce_rfc7636_vector);
	tcase_add_test(tc, random_values);
	tcase_add_test(tc, url_encoding);
	tcase_add_loop_test(tc, authorize_url, 0, sizeof(endpoints) / sizeof(endpoints[0]));
	tcase_add_test(tc, authorize_url_needs_openid);
	tcase_add_test(tc, basic_header);
	tcase_add_test(tc, auth_method);
	tcase_add_test(tc, token_reply);
	tcase_add_loop_test(tc, token_reply_refused, 0,
			    sizeof(bad_replies) / sizeof(bad_replies[0]));
	tcase_add_test(tc, token_reply_bounds);
	tcase_add_test(tc, exchange_never_shows_secrets);
	tcase_add_test(tc, device_reply);
	tcase_add_loop_test(tc, device_reply_refused, 0,
			    sizeof(bad_device) / sizeof(bad_device[0]));
	tcase_add_loop_test(tc, device_poll_answers, 0, sizeof(polls) / sizeof(polls[0]));
	tcase_add_test(tc, device_poll_tokens);
	tcase_add_test(tc, device_auth_method);
	tcase_add_test(tc, device_never_shows_secrets);
	tcase_add_test(tc, end_session_url);
	tcase_add_test(tc, provider_from_discovery);
	tcase_add_loop_test(tc, provider_refused, 0,
			    sizeof(bad_discovery) / sizeof(bad_discovery[0]));
	tcase_add_test(tc, logout_token_good);
	tcase_add_test(tc, logout_token_other_audience);
	tcase_add_loop_test(tc, logout_token_refused, 0,
			    sizeof(bad_logout) / sizeof(bad_logout[0]));
	tcase_add_test(tc, logout_token_bad_signature);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
