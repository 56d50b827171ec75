/* Unit tests for lib/oidc.c with a warm cache and an issuer that cannot be
 * reached (127.0.0.1:1): the decision, the claims handed to pam_pwb_mkhome,
 * the subject claim, HS256 keyed with an encrypted client secret, the
 * unknown-kid path, the cache age limit and the user-name mapping. Real
 * HTTPS is covered by tests/integration. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "oidc.h"
#include "oidc_cache.h"
#include "secret.h"
#include "testsign.h"
#include "testutil.h"

#define ISS "https://127.0.0.1:1/realm"
#define CID "pwb-client"

static char *dir;
static EVP_PKEY *rsa;
static struct pwb_config cfg;

#define DISCOVERY_URL ISS "/.well-known/openid-configuration"
#define DISCOVERY     "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"" ISS "/jwks\"}"

static char *jwks_text;

/* A cache entry fetched `fetched` and fresh until `expires` (unix s). */
static void put_cache_at(const char *kind, const char *url, const char *body, int64_t fetched,
			 int64_t expires)
{
	char cache[PATH_MAX], name[80];
	struct pwb_cache_entry e = {(char *)url, (char *)body, fetched, expires, 0};
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_oidc_cache_dir(cfg.db_dir, cache, &err), 0);
	ck_assert_int_eq(pwb_oidc_cache_name(kind, url, name), 0);
	ck_assert_int_eq(pwb_oidc_cache_save(cache, name, &e, &err), 0);
}

static void put_cache(const char *kind, const char *url, const char *body)
{
	put_cache_at(kind, url, body, time(NULL), time(NULL) + 3600);
}

/* Both documents, fetched `age` seconds ago, fresh for `ttl` from then. */
static void put_both_aged(int64_t age, int64_t ttl)
{
	int64_t fetched = (int64_t)time(NULL) - age;

	put_cache_at("discovery", DISCOVERY_URL, DISCOVERY, fetched, fetched + ttl);
	put_cache_at("jwks", ISS "/jwks", jwks_text, fetched, fetched + ttl);
}

static void load_config(const char *extra)
{
	struct pwb_error err = {0};
	char *text = NULL;

	pwb_config_free(&cfg);
	ck_assert_int_ge(asprintf(&text,
				  "db-dir=%s/db\nauth-openid-issuer=" ISS "\n"
				  "auth-openid-client-secret-file=%s/client\n"
				  "secure-key-file=%s/key\n%s",
				  dir, dir, dir, extra ? extra : ""),
			 0);
	ck_assert_int_eq(pwb_config_defaults(&cfg), 0);
	ck_assert_msg(pwb_config_parse(text, "test.conf", &cfg, &err) == 0, "%s", err.msg);
	free(text);
}

static void setup(void)
{
	struct pwb_error err = {0};
	char *enc = NULL, *text = NULL, *jwk, *path, *db = NULL;

	dir = test_mkdtemp();
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ck_assert_ptr_nonnull(rsa);
	ck_assert_int_ge(asprintf(&db, "%s/db", dir), 0);
	ck_assert_int_eq(mkdir(db, 0755), 0);
	free(db);
	load_config(NULL);
	ck_assert_int_eq(pwb_secret_encrypt(cfg.secure_key_file, true,
					    "hmac-secret-0123456789abcdefghijk", &enc, &err),
			 0);
	ck_assert_int_ge(asprintf(&text, "client-id=" CID "\nclient-secret=%s\n", enc), 0);
	path = test_write_file(dir, "client", text);
	ck_assert_int_eq(chmod(path, 0600), 0);
	jwk = testsign_jwk(rsa, "k1", NULL);
	ck_assert_int_ge(asprintf(&jwks_text, "{\"keys\":[%s]}", jwk), 0);
	put_cache("discovery", DISCOVERY_URL, DISCOVERY);
	put_cache("jwks", ISS "/jwks", jwks_text);
	free(jwk);
	free(path);
	free(text);
	free(enc);
}

static void teardown(void)
{
	pwb_config_free(&cfg);
	EVP_PKEY_free(rsa);
	free(jwks_text);
	jwks_text = NULL;
	test_rmtree(dir);
	free(dir);
}

static char *claims_for(const char *user, const char *extra)
{
	char *s = NULL;
	long now = (long)time(NULL);

	ck_assert_int_ge(asprintf(&s,
				  "{\"iss\":\"" ISS "\",\"aud\":\"" CID "\",\"sub\":\"s-1\","
				  "\"preferred_username\":\"%s\",\"iat\":%ld,\"exp\":%ld%s%s}",
				  user, now, now + 300, extra ? "," : "", extra ? extra : ""),
			 0);
	return s;
}

static int auth(const char *user, const char *token, struct pwb_claims **c, struct pwb_error *err)
{
	memset(err, 0, sizeof(*err));
	return pwb_oidc_authenticate(&cfg, user, token, strlen(token), NULL, c, err);
}

static int auth_expect(const char *user, const char *token, const struct pwb_oidc_expect *ex,
		       struct pwb_error *err)
{
	struct pwb_claims *c = NULL;
	int r;

	memset(err, 0, sizeof(*err));
	r = pwb_oidc_authenticate(&cfg, user, token, strlen(token), ex, &c, err);
	pwb_claims_free(c);
	return r;
}

/* A token for "ivy" with this aud (JSON) and extra claims. */
static char *token_aud(const char *aud, const char *extra)
{
	char *s = NULL, *tok;
	long now = (long)time(NULL);

	ck_assert_int_ge(asprintf(&s,
				  "{\"iss\":\"" ISS "\",\"aud\":%s,\"sub\":\"s-9\","
				  "\"preferred_username\":\"ivy\",\"iat\":%ld,\"exp\":%ld%s%s}",
				  aud, now, now + 300, extra ? "," : "", extra ? extra : ""),
			 0);
	tok = testsign_token("RS256", "k1", NULL, s, rsa, NULL, 0);
	free(s);
	return tok;
}

START_TEST(audiences_client_id_and_nonce)
{
	struct pwb_error err;
	char *other = token_aud("\"svc-2\"", NULL);
	char *mine = token_aud("\"" CID "\"", NULL);
	char *with_nonce = token_aud("\"svc-2\"", "\"nonce\":\"n-1\"");
	char *hs = NULL, *cl = claims_for("ivy", NULL);
	struct pwb_oidc_expect svc2 = {.client_id = "svc-2"};
	struct pwb_oidc_expect svc1 = {.client_id = CID};
	struct pwb_oidc_expect n1 = {.client_id = "svc-2", .nonce = "n-1", .require_nonce = true};
	struct pwb_oidc_expect n2 = {.client_id = "svc-2", .nonce = "n-2", .require_nonce = true};
	struct pwb_oidc_expect none = {.client_id = "svc-2", .require_nonce = true};

	/* another audience: refused, unless auth-openid-audiences lists it */
	ck_assert_int_eq(auth_expect("ivy", other, NULL, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "aud: does not contain an accepted client id");
	load_config("auth-openid-audiences=svc-3, svc-2\n");
	ck_assert_msg(auth_expect("ivy", other, NULL, &err) == 0, "%s", err.msg);
	ck_assert_msg(auth_expect("ivy", mine, NULL, &err) == 0, "%s", err.msg);
	/* a per-service client id is the only one accepted */
	ck_assert_msg(auth_expect("ivy", other, &svc2, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(auth_expect("ivy", other, &svc1, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "aud: does not contain an accepted client id");
	ck_assert_int_eq(auth_expect("ivy", mine, &svc2, &err), PWB_EAUTH);
	/* nonce */
	ck_assert_msg(auth_expect("ivy", with_nonce, &n1, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(auth_expect("ivy", with_nonce, &n2, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "nonce: does not match");
	ck_assert_int_eq(auth_expect("ivy", other, &n1, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "nonce: missing");
	ck_assert_int_eq(auth_expect("ivy", with_nonce, &none, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "nonce: no expected nonce was given");
	/* the client-secret file is read only when needed: a per-service
	 * client id and an RS256 token go on without it */
	load_config("auth-openid-audiences=svc-2\nauth-openid-algorithms=RS256,HS256\n");
	free(cfg.openid_client_secret_file);
	cfg.openid_client_secret_file = strdup("/nonexistent/pwb-client");
	ck_assert_msg(auth_expect("ivy", other, &svc2, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(auth_expect("ivy", other, NULL, &err), PWB_ECONFIG);
	hs = testsign_token("HS256", NULL, NULL, cl, NULL, "hmac-secret-0123456789abcdefghijk", 33);
	ck_assert_int_eq(auth_expect("ivy", hs, &svc1, &err), PWB_ECONFIG);
	/* the service's own secret (the device client's) keys an HMAC token */
	svc1.hmac_secret = "hmac-secret-0123456789abcdefghijk";
	ck_assert_msg(auth_expect("ivy", hs, &svc1, &err) == 0, "%s", err.msg);
	svc1.hmac_secret = "hmac-secret-0123456789abcdefghijK";
	ck_assert_int_eq(auth_expect("ivy", hs, &svc1, &err), PWB_EAUTH);
	ck_assert(strncmp(err.msg, "signature:", 10) == 0);
	free(hs);
	free(cl);
	free(other);
	free(mine);
	free(with_nonce);
}
END_TEST

START_TEST(claims_are_handed_over)
{
	struct pwb_claims *c = NULL;
	struct pwb_error err;
	char *cl = claims_for("Dana.Smith@example.com",
			      "\"name\":\"Dana Smith\",\"email\":\"dana@example.com\","
			      "\"groups\":[\"data-science\",\"Admins\",7]");
	char *tok = testsign_token("RS256", "k1", NULL, cl, rsa, NULL, 0);

	ck_assert_msg(auth("dana.smith", tok, &c, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(c->username, "dana.smith");
	ck_assert_str_eq(c->issuer, ISS);
	ck_assert_str_eq(c->subject, "s-1");
	ck_assert_str_eq(c->name, "Dana Smith");
	ck_assert_str_eq(c->email, "dana@example.com");
	ck_assert_uint_eq(c->n_groups, 2);
	ck_assert_str_eq(c->groups[0], "data-science");
	ck_assert_str_eq(c->groups[1], "Admins");
	ck_assert(!c->local_account);
	pwb_claims_free(c);
	c = NULL;
	ck_assert_int_eq(auth("dana", tok, &c, &err), PWB_EAUTH);
	ck_assert_ptr_null(c);
	ck_assert(strncmp(err.msg, "username:", 9) == 0);
	ck_assert_ptr_null(strstr(err.msg, tok));
	free(tok);
	free(cl);
}
END_TEST

START_TEST(hmac_with_encrypted_client_secret)
{
	struct pwb_claims *c = NULL;
	struct pwb_error err;
	char *cl = claims_for("erin", NULL);
	char *good =
	    testsign_token("HS256", NULL, NULL, cl, NULL, "hmac-secret-0123456789abcdefghijk", 33);
	char *bad =
	    testsign_token("HS256", NULL, NULL, cl, NULL, "hmac-secret-0123456789abcdefghijK", 33);

	ck_assert_int_eq(auth("erin", good, &c, &err), PWB_EAUTH);
	ck_assert(strncmp(err.msg, "alg:", 4) == 0);
	load_config("auth-openid-algorithms=RS256,HS256\n");
	ck_assert_msg(auth("erin", good, &c, &err) == 0, "%s", err.msg);
	pwb_claims_free(c);
	c = NULL;
	ck_assert_int_eq(auth("erin", bad, &c, &err), PWB_EAUTH);
	ck_assert(strncmp(err.msg, "signature:", 10) == 0);
	free(good);
	free(bad);
	free(cl);
}
END_TEST

START_TEST(unknown_kid_and_unreachable_issuer)
{
	struct pwb_claims *c = NULL;
	struct pwb_error err;
	char *cl = claims_for("frank", NULL), *cache = NULL;
	char *tok = testsign_token("RS256", "k2", NULL, cl, rsa, NULL, 0);

	/* The refetch fails (nothing listens), the cached JWKS has no k2. */
	ck_assert_int_eq(auth("frank", tok, &c, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "kid: no key \"k2\" for RS256 in the issuer's JWKS");
	/* Nothing cached: the issuer is unavailable, said so. */
	ck_assert_int_ge(asprintf(&cache, "%s/db/cache", dir), 0);
	test_rmtree(cache);
	free(tok);
	tok = testsign_token("RS256", "k1", NULL, cl, rsa, NULL, 0);
	ck_assert_int_eq(auth("frank", tok, &c, &err), PWB_EUNAVAIL);
	ck_assert(strncmp(err.msg, "issuer: " ISS "/.well-known/openid-configuration", 50) == 0);
	free(cache);
	free(tok);
	free(cl);
}
END_TEST

/* A token whose claims are given whole (no default sub). */
static char *bare_claims(const char *members)
{
	char *s = NULL;
	long now = (long)time(NULL);

	ck_assert_int_ge(asprintf(&s,
				  "{\"iss\":\"" ISS "\",\"aud\":\"" CID "\","
				  "\"preferred_username\":\"gail\",\"iat\":%ld,\"exp\":%ld%s%s}",
				  now, now + 300, members ? "," : "", members ? members : ""),
			 0);
	return s;
}

/* auth() of gail with a token made of bare_claims(members). */
static int auth_members(const char *members, struct pwb_claims **c, struct pwb_error *err)
{
	char *cl = bare_claims(members);
	char *tok = testsign_token("RS256", "k1", NULL, cl, rsa, NULL, 0);
	int r = auth("gail", tok, c, err);

	ck_assert_ptr_null(strstr(err->msg, tok));
	free(tok);
	free(cl);
	return r;
}

START_TEST(subject_claim)
{
	struct pwb_claims *c = NULL;
	struct pwb_error err;
	char long_oid[300], *members = NULL;

	/* Default: "sub", required. */
	ck_assert_int_eq(auth_members(NULL, &c, &err), PWB_EAUTH);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err.msg, "subject: no string claim \"sub\"");
	ck_assert_msg(auth_members("\"sub\":\"S-1\"", &c, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(c->subject, "S-1");
	ck_assert_str_eq(c->issuer, ISS);
	pwb_claims_free(c);
	c = NULL;
	/* Entra: the object id, the same in every app of the tenant. */
	load_config("auth-openid-subject-claim=oid\n");
	ck_assert_int_eq(auth_members("\"sub\":\"per-app\"", &c, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "subject: no string claim \"oid\"");
	ck_assert_msg(auth_members("\"sub\":\"per-app\",\"oid\":\"0f1e-2d3c\"", &c, &err) == 0,
		      "%s", err.msg);
	ck_assert_str_eq(c->subject, "0f1e-2d3c");
	pwb_claims_free(c);
	c = NULL;
	ck_assert_int_eq(auth_members("\"oid\":42", &c, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "subject: no string claim \"oid\"");
	ck_assert_int_eq(auth_members("\"oid\":[\"a\"]", &c, &err), PWB_EAUTH);
	ck_assert_int_eq(auth_members("\"oid\":null", &c, &err), PWB_EAUTH);
	ck_assert_int_eq(auth_members("\"oid\":\"\"", &c, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "subject: claim \"oid\" is empty");
	ck_assert_int_eq(auth_members("\"oid\":\"a\\nb\"", &c, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "subject: claim \"oid\" contains a control character");
	/* A NUL inside never gets this far: the payload parser refuses it. */
	ck_assert_int_lt(auth_members("\"oid\":\"a\\u0000b\"", &c, &err), 0);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(auth_members("\"oid\":\"a\\u007fb\"", &c, &err), PWB_EAUTH);
	/* 255 bytes pass, 256 do not. */
	memset(long_oid, 'x', sizeof(long_oid));
	long_oid[256] = '\0';
	ck_assert_int_ge(asprintf(&members, "\"oid\":\"%s\"", long_oid), 0);
	ck_assert_int_eq(auth_members(members, &c, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "subject: claim \"oid\" is longer than 255 bytes");
	free(members);
	long_oid[255] = '\0';
	ck_assert_int_ge(asprintf(&members, "\"oid\":\"%s\"", long_oid), 0);
	ck_assert_msg(auth_members(members, &c, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(strlen(c->subject), 255);
	pwb_claims_free(c);
	free(members);
}
END_TEST

START_TEST(cache_age_limit)
{
	struct pwb_claims *c = NULL;
	struct pwb_error err;
	char *cl = claims_for("hank", NULL);
	char *tok = testsign_token("RS256", "k1", NULL, cl, rsa, NULL, 0);

	/* Expired, issuer unreachable, within the default 24 h: used. */
	put_both_aged(3 * 3600, 3600);
	ck_assert_msg(auth("hank", tok, &c, &err) == 0, "%s", err.msg);
	pwb_claims_free(c);
	c = NULL;
	/* Past 24 h: refused, naming the issuer, the age and the limit. */
	put_both_aged(86400 + 100, 3600);
	ck_assert_int_eq(auth("hank", tok, &c, &err), PWB_EUNAVAIL);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err.msg, "issuer: " ISS " unreachable, and the cached discovery "
				      "document is 865") == err.msg,
		      "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "s old, beyond auth-openid-cache-max-age=86400: " ISS
				      "/.well-known/openid-configuration: "),
		      "%s", err.msg);
	/* Still "fresh" by its recorded expiry, but older than the limit. */
	put_both_aged(86400 + 100, 7 * 86400);
	ck_assert_int_eq(auth("hank", tok, &c, &err), PWB_EUNAVAIL);
	/* A smaller limit applies to the JWKS too. */
	load_config("auth-openid-cache-max-age=600\n");
	put_cache_at("discovery", DISCOVERY_URL, DISCOVERY, time(NULL) - 10, time(NULL) + 3600);
	put_cache_at("jwks", ISS "/jwks", jwks_text, time(NULL) - 700, time(NULL) + 3600);
	ck_assert_int_eq(auth("hank", tok, &c, &err), PWB_EUNAVAIL);
	ck_assert_msg(strstr(err.msg, "the cached JWKS is 70"), "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "auth-openid-cache-max-age=600"), "%s", err.msg);
	/* Fetched "in the future": the clock went back, the age is unknown. */
	put_both_aged(-3600, 7200);
	ck_assert_int_eq(auth("hank", tok, &c, &err), PWB_EUNAVAIL);
	ck_assert_msg(strstr(err.msg, "in the future"), "%s", err.msg);
	/* 0: nothing cached is ever used. */
	load_config("auth-openid-cache-max-age=0\n");
	put_both_aged(5, 3600);
	ck_assert_int_eq(auth("hank", tok, &c, &err), PWB_EUNAVAIL);
	free(tok);
	free(cl);
}
END_TEST

START_TEST(username_mapping)
{
	char out[PWB_NAME_MAX + 1];
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_oidc_map_username(&cfg, "Alice@Example.com", out, &err), 0);
	ck_assert_str_eq(out, "alice");
	load_config("auth-openid-username-domains=example.com, corp.example\n");
	ck_assert_int_eq(pwb_oidc_map_username(&cfg, "alice@corp.example", out, &err), 0);
	ck_assert_str_eq(out, "alice");
	ck_assert_int_eq(pwb_oidc_map_username(&cfg, "alice@evil.example", out, &err), PWB_EINVAL);
	/* No domain is not an allowed domain. */
	ck_assert_int_eq(pwb_oidc_map_username(&cfg, "alice", out, &err), PWB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "auth-openid-username-domains"));
	ck_assert_int_eq(pwb_oidc_map_username(&cfg, "Alice", out, &err), PWB_EINVAL);
	ck_assert_int_eq(pwb_oidc_map_username(&cfg, "al ice", out, &err), PWB_EINVAL);
	ck_assert_int_eq(pwb_oidc_map_username(&cfg, "..", out, &err), PWB_EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("oidc");
	TCase *tc = tcase_create("oidc");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, claims_are_handed_over);
	tcase_add_test(tc, hmac_with_encrypted_client_secret);
	tcase_add_test(tc, unknown_kid_and_unreachable_issuer);
	tcase_add_test(tc, subject_claim);
	tcase_add_test(tc, cache_age_limit);
	tcase_add_test(tc, username_mapping);
	tcase_add_test(tc, audiences_client_id_and_nonce);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
