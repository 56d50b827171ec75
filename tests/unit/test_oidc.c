/* Unit tests for lib/oidc.c with a warm cache and an issuer that cannot be
 * reached (127.0.0.1:1): the decision, the claims handed to pam_pwb_mkhome,
 * HS256 keyed with an encrypted client secret, the unknown-kid path and
 * the user-name mapping. Real HTTPS is covered by tests/integration. */
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

static void put_cache(const char *kind, const char *url, const char *body)
{
	char cache[PATH_MAX], name[80];
	struct pwb_cache_entry e = {(char *)url, (char *)body, time(NULL), time(NULL) + 3600, 0};
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_oidc_cache_dir(cfg.db_dir, cache, &err), 0);
	ck_assert_int_eq(pwb_oidc_cache_name(kind, url, name), 0);
	ck_assert_int_eq(pwb_oidc_cache_save(cache, name, &e, &err), 0);
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
	char *enc = NULL, *text = NULL, *jwk, *jwks = NULL, *path, *db = NULL;

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
	ck_assert_int_ge(asprintf(&jwks, "{\"keys\":[%s]}", jwk), 0);
	put_cache("discovery", ISS "/.well-known/openid-configuration",
		  "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"" ISS "/jwks\"}");
	put_cache("jwks", ISS "/jwks", jwks);
	free(jwk);
	free(jwks);
	free(path);
	free(text);
	free(enc);
}

static void teardown(void)
{
	pwb_config_free(&cfg);
	EVP_PKEY_free(rsa);
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
	return pwb_oidc_authenticate(&cfg, user, token, strlen(token), c, err);
}

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
	tcase_add_test(tc, username_mapping);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
