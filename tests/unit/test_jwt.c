/* Unit tests for lib/jwt.c: real RS/PS/ES/EdDSA/HS signatures made with
 * OpenSSL verify, and every malformed, tampered or out-of-policy token is
 * refused by the check that names it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "jwt.h"
#include "testsign.h"

#define ISS "https://idp.example.com"
#define CID "pwb-client"

static EVP_PKEY *rsa, *rsa2, *ec256, *ec384, *ed;

static void setup_keys(void)
{
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	ck_assert(rsa && rsa2 && ec256 && ec384 && ed);
}

static void free_keys(void)
{
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa2);
	EVP_PKEY_free(ec256);
	EVP_PKEY_free(ec384);
	EVP_PKEY_free(ed);
}

static char *claims_text(long exp_off, const char *extra)
{
	char *s = NULL;
	long now = (long)time(NULL);

	ck_assert_int_ge(asprintf(&s,
				  "{\"iss\":\"" ISS "\",\"aud\":\"" CID "\",\"sub\":\"u1\","
				  "\"preferred_username\":\"alice\",\"iat\":%ld,\"exp\":%ld%s%s}",
				  now, now + exp_off, extra ? "," : "", extra ? extra : ""),
			 0);
	return s;
}

static int parse_verify(const char *token, EVP_PKEY *key, struct pwb_error *err)
{
	struct pwb_jwt *jwt = NULL;
	int r;

	memset(err, 0, sizeof(*err));
	r = pwb_jwt_parse(token, strlen(token), &jwt, err);
	if (r == 0)
		r = pwb_jwt_check_alg(jwt, "RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,EdDSA",
				      err);
	if (r == 0)
		r = pwb_jwt_verify_key(jwt, key, err);
	pwb_jwt_free(jwt);
	return r;
}

static const struct {
	const char *alg;
	EVP_PKEY **key;
} good[] = {
    {"RS256", &rsa}, {"RS384", &rsa},	{"RS512", &rsa},   {"PS256", &rsa}, {"PS384", &rsa},
    {"PS512", &rsa}, {"ES256", &ec256}, {"ES384", &ec384}, {"EdDSA", &ed},
};

START_TEST(every_algorithm_verifies)
{
	struct pwb_error err;
	char *claims = claims_text(300, NULL);
	char *tok = testsign_token(good[_i].alg, "k1", NULL, claims, *good[_i].key, NULL, 0);

	ck_assert_ptr_nonnull(tok);
	ck_assert_msg(parse_verify(tok, *good[_i].key, &err) == 0, "%s: %s", good[_i].alg, err.msg);
	free(tok);
	free(claims);
}
END_TEST

START_TEST(wrong_key_or_type_is_refused)
{
	struct pwb_error err;
	char *claims = claims_text(300, NULL);
	char *tok = testsign_token("RS256", "k1", NULL, claims, rsa, NULL, 0);

	ck_assert_int_eq(parse_verify(tok, rsa2, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "signature: RS256 signature does not verify");
	/* An EC key cannot verify an RSA alg, nor P-384 an ES256 token. */
	ck_assert_int_eq(parse_verify(tok, ec256, &err), PWB_EAUTH);
	ck_assert(strncmp(err.msg, "key:", 4) == 0);
	free(tok);
	tok = testsign_token("ES256", "k1", NULL, claims, ec256, NULL, 0);
	ck_assert_int_eq(parse_verify(tok, ec384, &err), PWB_EAUTH);
	ck_assert(strncmp(err.msg, "key:", 4) == 0);
	free(tok);
	free(claims);
}
END_TEST

START_TEST(tampered_payload_is_refused)
{
	struct pwb_error err;
	char *claims = claims_text(300, NULL), *other = claims_text(300, "\"admin\":true");
	char *tok = testsign_token("ES256", "k1", NULL, claims, ec256, NULL, 0);
	char *tok2 = testsign_token("ES256", "k1", NULL, other, ec256, NULL, 0);
	char *forged = NULL;
	const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
	const char *e1 = strchr(tok2, '.'), *e2 = strrchr(tok2, '.');

	/* header of tok, payload of tok2, signature of tok */
	ck_assert_int_ge(
	    asprintf(&forged, "%.*s%.*s%s", (int)(d1 - tok), tok, (int)(e2 - e1), e1, d2), 0);
	ck_assert_int_eq(parse_verify(forged, ec256, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "signature: ES256 signature does not verify");
	free(forged);
	free(tok);
	free(tok2);
	free(claims);
	free(other);
}
END_TEST

START_TEST(alg_none_and_unlisted_are_refused)
{
	struct pwb_jwt *jwt = NULL;
	struct pwb_error err = {0};
	char *claims = claims_text(300, NULL);
	char *tok = testsign_token("none", NULL, NULL, claims, NULL, NULL, 0);

	ck_assert_int_eq(pwb_jwt_parse(tok, strlen(tok), &jwt, &err), 0);
	ck_assert_int_eq(pwb_jwt_check_alg(jwt, "RS256,ES256,none", &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "alg: \"none\" is not a supported algorithm");
	pwb_jwt_free(jwt);
	free(tok);
	tok = testsign_token("RS384", NULL, NULL, claims, rsa, NULL, 0);
	ck_assert_int_eq(pwb_jwt_parse(tok, strlen(tok), &jwt, &err), 0);
	ck_assert_int_eq(pwb_jwt_check_alg(jwt, "RS256, ES256", &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "alg: \"RS384\" is not in auth-openid-algorithms");
	ck_assert_int_eq(pwb_jwt_check_alg(jwt, "ES256, RS384 ", &err), 0);
	pwb_jwt_free(jwt);
	free(tok);
	free(claims);
}
END_TEST

START_TEST(hmac_uses_client_secret_only)
{
	struct pwb_jwt *jwt = NULL;
	struct pwb_error err = {0};
	char *claims = claims_text(300, NULL);
	unsigned char *pem = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	long pemlen;
	char *tok;

	/* The classic confusion attack: HMAC keyed with the RSA public key. */
	ck_assert(PEM_write_bio_PUBKEY(bio, rsa));
	pemlen = BIO_get_mem_data(bio, &pem);
	tok = testsign_token("HS256", "k1", NULL, claims, NULL, pem, (size_t)pemlen);
	ck_assert_int_eq(pwb_jwt_parse(tok, strlen(tok), &jwt, &err), 0);
	ck_assert_int_eq(pwb_jwt_check_alg(jwt, "RS256,ES256", &err), PWB_EAUTH);
	ck_assert_int_eq(pwb_jwt_verify_key(jwt, rsa, &err), PWB_EAUTH);
	ck_assert_int_eq(pwb_jwt_verify_hmac(jwt, "the-client-secret-of-32-bytes!!!", 32, &err),
			 PWB_EAUTH);
	ck_assert_int_eq(pwb_jwt_verify_hmac(jwt, pem, (size_t)pemlen, &err), 0);
	pwb_jwt_free(jwt);
	free(tok);
	tok = testsign_token("HS256", NULL, NULL, claims, NULL, "the-client-secret-of-32-bytes!!!",
			     32);
	ck_assert_int_eq(pwb_jwt_parse(tok, strlen(tok), &jwt, &err), 0);
	ck_assert_int_eq(pwb_jwt_check_alg(jwt, "RS256,HS256", &err), 0);
	ck_assert_int_eq(pwb_jwt_verify_hmac(jwt, "the-client-secret-of-32-bytes!!!", 32, &err), 0);
	ck_assert_int_eq(pwb_jwt_verify_hmac(jwt, "the-client-secret-of-32-bytes!!?", 32, &err),
			 PWB_EAUTH);
	ck_assert_int_eq(pwb_jwt_verify_hmac(jwt, NULL, 0, &err), PWB_EAUTH);
	ck_assert_int_eq(pwb_jwt_verify_hmac(jwt, "the-client-secret-of-32-bytes!!", 31, &err),
			 PWB_EAUTH);
	ck_assert_str_eq(err.msg, "key: client secret too short for HS256");
	pwb_jwt_free(jwt);
	free(tok);
	BIO_free(bio);
	free(claims);
}
END_TEST

static const struct {
	const char *token;
	const char *msg_prefix;
} malformed[] = {
    {"", "format:"},
    {"abc", "format:"},
    {"a.b", "format:"},
    {"a.b.c.d", "format:"},
    {"eyJhbGciOiJSUzI1NiJ9.eyJ4Ijox fQ.c2ln", "format: payload is not valid base64url"},
    {"eyJhbGciOiJSUzI1NiJ9=.eyJ4IjoxfQ.c2ln", "format: header is not valid base64url"},
    {"eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.c2ln+", "format: signature is not valid base64url"},
    {"eyJhbGciOiJSUzI1NiJ9.eyJ4Ijox.c2ln", "format: payload is not valid JSON"},
    {"WzFd.eyJ4IjoxfQ.c2ln", "format: header is not a JSON object"},  /* [1] */
    {"eyJ0eXAiOiJKV1QifQ.eyJ4IjoxfQ.c2ln", "alg: header has no alg"}, /* {"typ":"JWT"} */
    {"eyJhbGciOiJSUzI1NiIsImFsZyI6Im5vbmUifQ.eyJ4IjoxfQ.c2ln", "format: header is not valid JSON"},
};

START_TEST(malformed_tokens_are_refused)
{
	struct pwb_jwt *jwt = NULL;
	struct pwb_error err = {0};
	const char *t = malformed[_i].token;

	ck_assert_int_eq(pwb_jwt_parse(t, strlen(t), &jwt, &err), PWB_EAUTH);
	ck_assert_ptr_null(jwt);
	ck_assert_msg(
	    strncmp(err.msg, malformed[_i].msg_prefix, strlen(malformed[_i].msg_prefix)) == 0,
	    "%s: got \"%s\"", t, err.msg);
}
END_TEST

START_TEST(crit_and_size_limits)
{
	struct pwb_jwt *jwt = NULL;
	struct pwb_error err = {0};
	char *claims = claims_text(300, NULL);
	char *tok = testsign_token("RS256", "k1", "{\"crit\":[\"exp-ext\"],\"exp-ext\":1}", claims,
				   rsa, NULL, 0);
	char *big;

	ck_assert_int_eq(pwb_jwt_parse(tok, strlen(tok), &jwt, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "crit: header lists critical extensions");
	free(tok);
	/* jku/x5u/jwk headers change nothing: parse succeeds, keys still
	 * come from the caller. */
	tok = testsign_token("RS256", "k1",
			     "{\"jku\":\"https://evil.example/jwks\",\"x5u\":\"https://evil\"}",
			     claims, rsa, NULL, 0);
	ck_assert_int_eq(pwb_jwt_parse(tok, strlen(tok), &jwt, &err), 0);
	ck_assert_int_eq(pwb_jwt_verify_key(jwt, rsa2, &err), PWB_EAUTH);
	pwb_jwt_free(jwt);
	free(tok);
	big = malloc(PWB_JWT_MAX_BYTES + 2);
	memset(big, 'A', PWB_JWT_MAX_BYTES + 1);
	big[PWB_JWT_MAX_BYTES + 1] = '\0';
	ck_assert_int_eq(pwb_jwt_parse(big, strlen(big), &jwt, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "format: token longer than 16384 bytes");
	free(big);
	free(claims);
}
END_TEST

/* A parsed RS256 token (kid k1) with these claims; err cleared. */
static struct pwb_jwt *signed_jwt(const char *claims, struct pwb_error *err)
{
	struct pwb_jwt *jwt = NULL;
	char *tok = testsign_token("RS256", "k1", NULL, claims, rsa, NULL, 0);

	memset(err, 0, sizeof(*err));
	ck_assert_int_eq(pwb_jwt_parse(tok, strlen(tok), &jwt, err), 0);
	free(tok);
	return jwt;
}

static int check_claims(const char *claims, int64_t now_off, struct pwb_error *err)
{
	struct pwb_jwt *jwt = signed_jwt(claims, err);
	struct pwb_jwt_expect ex = {
	    .issuer = ISS, .client_id = CID, .now = (int64_t)time(NULL) + now_off, .leeway = 60};
	int r = pwb_jwt_check_claims(jwt, &ex, err);

	pwb_jwt_free(jwt);
	return r;
}

START_TEST(claims_checks)
{
	struct pwb_error err;
	long now = (long)time(NULL);
	char buf[512];
	static const char base[] = "{\"iss\":\"%s\",\"aud\":%s,%s\"iat\":%ld,\"exp\":%ld%s}";

#define CLAIMS(iss, aud, azp, iat, exp, extra)                                                     \
	(snprintf(buf, sizeof(buf), base, iss, aud, azp, (long)(iat), (long)(exp), extra), buf)

	ck_assert_int_eq(check_claims(CLAIMS(ISS, "\"" CID "\"", "", now, now + 300, ""), 0, &err),
			 0);
	ck_assert_int_eq(
	    check_claims(CLAIMS(ISS "/", "\"" CID "\"", "", now, now + 300, ""), 0, &err),
	    PWB_EAUTH);
	ck_assert_str_eq(err.msg, "iss: not the configured issuer");
	ck_assert_int_eq(check_claims(CLAIMS(ISS, "\"other\"", "", now, now + 300, ""), 0, &err),
			 PWB_EAUTH);
	ck_assert_str_eq(err.msg, "aud: does not contain an accepted client id");
	ck_assert_int_eq(
	    check_claims(CLAIMS(ISS, "[\"other\",\"" CID "\"]", "", now, now + 300, ""), 0, &err),
	    PWB_EAUTH);
	ck_assert_str_eq(err.msg, "azp: several audiences and no azp");
	ck_assert_int_eq(check_claims(CLAIMS(ISS, "[\"other\",\"" CID "\"]", "\"azp\":\"" CID "\",",
					     now, now + 300, ""),
				      0, &err),
			 0);
	ck_assert_int_eq(
	    check_claims(CLAIMS(ISS, "[\"" CID "\"]", "\"azp\":\"other\",", now, now + 300, ""), 0,
			 &err),
	    PWB_EAUTH);
	ck_assert_str_eq(err.msg, "azp: not an accepted client id");
	/* expired beyond leeway; within leeway still fine */
	ck_assert_int_eq(
	    check_claims(CLAIMS(ISS, "\"" CID "\"", "", now - 400, now - 61, ""), 0, &err),
	    PWB_EAUTH);
	ck_assert(strncmp(err.msg, "exp: token expired", 18) == 0);
	ck_assert_int_eq(
	    check_claims(CLAIMS(ISS, "\"" CID "\"", "", now - 400, now - 30, ""), 0, &err), 0);
	ck_assert_int_eq(
	    check_claims(CLAIMS(ISS, "\"" CID "\"", "", now, now + 300, ",\"nbf\":99999999999"), 0,
			 &err),
	    PWB_EAUTH);
	ck_assert(strncmp(err.msg, "nbf:", 4) == 0);
	ck_assert_int_eq(
	    check_claims(CLAIMS(ISS, "\"" CID "\"", "", now + 600, now + 900, ""), 0, &err),
	    PWB_EAUTH);
	ck_assert(strncmp(err.msg, "iat:", 4) == 0);
	ck_assert_int_eq(
	    check_claims("{\"iss\":\"" ISS "\",\"aud\":\"" CID "\",\"iat\":1}", 0, &err),
	    PWB_EAUTH);
	ck_assert_str_eq(err.msg, "exp: missing or not a number");
	ck_assert_int_eq(
	    check_claims(CLAIMS(ISS, "\"" CID "\"", "", now, now + 300, ""), 400, &err), PWB_EAUTH);
#undef CLAIMS
}
END_TEST

/* pwb_jwt_check_audience on a token with these claims. */
static int audience(const char *claims, const char *client_id, const char *audiences,
		    struct pwb_error *err)
{
	struct pwb_jwt *jwt = signed_jwt(claims, err);
	int r = pwb_jwt_check_audience(jwt, client_id, audiences, err);

	pwb_jwt_free(jwt);
	return r;
}

START_TEST(audience_rules)
{
	struct pwb_error err;

	/* aud must contain client_id or one of the audiences */
	ck_assert_int_eq(audience("{\"aud\":\"c1\"}", "c1", NULL, &err), 0);
	ck_assert_int_eq(audience("{\"aud\":\"c2\"}", "c1", "c2, c3", &err), 0);
	ck_assert_int_eq(audience("{\"aud\":\"c3\"}", "c1", " c2 ,c3 ", &err), 0);
	ck_assert_int_eq(audience("{\"aud\":\"c4\"}", "c1", "c2,c3", &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "aud: does not contain an accepted client id");
	/* items match whole, not as prefixes or substrings */
	ck_assert_int_eq(audience("{\"aud\":\"c\"}", "c1", "c2,c3", &err), PWB_EAUTH);
	ck_assert_int_eq(audience("{\"aud\":\"c2,c3\"}", "c1", "c2,c3", &err), PWB_EAUTH);
	ck_assert_int_eq(audience("{\"aud\":\"\"}", "c1", "c2,,c3", &err), PWB_EAUTH);
	/* client_id NULL (or empty): only the audiences list */
	ck_assert_int_eq(audience("{\"aud\":\"c2\"}", NULL, "c2", &err), 0);
	ck_assert_int_eq(audience("{\"aud\":\"c1\"}", NULL, "c2", &err), PWB_EAUTH);
	ck_assert_int_eq(audience("{\"aud\":\"c1\"}", "", NULL, &err), PWB_EAUTH);
	ck_assert_int_eq(audience("{\"aud\":\"c1\"}", NULL, NULL, &err), PWB_EAUTH);
	/* aud shape */
	ck_assert_int_eq(audience("{\"sub\":\"x\"}", "c1", NULL, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "aud: missing or not a string/array");
	ck_assert_int_eq(audience("{\"aud\":[\"c1\",7],\"azp\":\"c1\"}", "c1", NULL, &err),
			 PWB_EAUTH);
	ck_assert_str_eq(err.msg, "aud: not a string array");
	/* several audiences: azp required, and it must be accepted */
	ck_assert_int_eq(audience("{\"aud\":[\"c1\",\"x\"]}", "c1", NULL, &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "azp: several audiences and no azp");
	ck_assert_int_eq(audience("{\"aud\":[\"c1\",\"x\"],\"azp\":\"c1\"}", "c1", NULL, &err), 0);
	ck_assert_int_eq(audience("{\"aud\":[\"c1\",\"c2\"],\"azp\":\"c2\"}", "c1", "c2", &err), 0);
	ck_assert_int_eq(audience("{\"aud\":[\"c1\",\"x\"],\"azp\":\"x\"}", "c1", NULL, &err),
			 PWB_EAUTH);
	ck_assert_str_eq(err.msg, "azp: not an accepted client id");
	/* a per-service client id (audiences NULL) refuses another accepted id */
	ck_assert_int_eq(audience("{\"aud\":[\"c1\",\"c2\"],\"azp\":\"c2\"}", "c1", NULL, &err),
			 PWB_EAUTH);
	/* azp present with one audience must still be accepted */
	ck_assert_int_eq(audience("{\"aud\":\"c1\",\"azp\":\"x\"}", "c1", NULL, &err), PWB_EAUTH);
	ck_assert_int_eq(audience("{\"aud\":\"c1\",\"azp\":7}", "c1", NULL, &err), PWB_EAUTH);
	ck_assert_int_eq(audience("{\"aud\":\"c1\",\"azp\":\"c1\"}", "c1", NULL, &err), 0);
}
END_TEST

/* pwb_jwt_check_claims with an expected nonce. */
static int nonce_check(const char *nonce_claim, const char *nonce, struct pwb_error *err)
{
	char claims[512];
	long now = (long)time(NULL);
	struct pwb_jwt_expect ex = {
	    .issuer = ISS, .client_id = CID, .now = now, .leeway = 60, .nonce = nonce};
	struct pwb_jwt *jwt;
	int r;

	snprintf(claims, sizeof(claims),
		 "{\"iss\":\"" ISS "\",\"aud\":\"" CID "\",\"iat\":%ld,\"exp\":%ld%s%s}", now,
		 now + 300, nonce_claim ? ",\"nonce\":" : "", nonce_claim ? nonce_claim : "");
	jwt = signed_jwt(claims, err);
	r = pwb_jwt_check_claims(jwt, &ex, err);
	pwb_jwt_free(jwt);
	return r;
}

START_TEST(nonce_rules)
{
	struct pwb_error err;

	ck_assert_int_eq(nonce_check("\"n-123\"", "n-123", &err), 0);
	/* no expectation: any or no nonce passes */
	ck_assert_int_eq(nonce_check(NULL, NULL, &err), 0);
	ck_assert_int_eq(nonce_check("\"x\"", NULL, &err), 0);
	ck_assert_int_eq(nonce_check(NULL, "n-123", &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "nonce: missing");
	ck_assert_int_eq(nonce_check("123", "123", &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "nonce: missing");
	ck_assert_int_eq(nonce_check("\"n-124\"", "n-123", &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "nonce: does not match");
	ck_assert_int_eq(nonce_check("\"n-12\"", "n-123", &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "nonce: does not match");
	ck_assert_int_eq(nonce_check("\"n-1234\"", "n-123", &err), PWB_EAUTH);
	ck_assert_int_eq(nonce_check("\"\"", "", &err), PWB_EAUTH);
	ck_assert_str_eq(err.msg, "nonce: does not match");
}
END_TEST

START_TEST(base64url_is_strict)
{
	unsigned char *out = NULL;
	size_t len;

	ck_assert_int_eq(pwb_jwt_base64url_decode("aGVsbG8", 7, &out, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq((char *)out, "hello");
	free(out);
	ck_assert_int_eq(pwb_jwt_base64url_decode("-_8", 3, &out, &len), 0);
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(out[0], 0xfb);
	ck_assert_int_eq(out[1], 0xff);
	free(out);
	ck_assert_int_eq(pwb_jwt_base64url_decode("aGVsbG8=", 8, &out, &len), PWB_EINVAL);
	/* non-zero padding bits: a second spelling of "hello" / of 0xfb 0xff */
	ck_assert_int_eq(pwb_jwt_base64url_decode("aGVsbG9", 7, &out, &len), PWB_EINVAL);
	ck_assert_int_eq(pwb_jwt_base64url_decode("-_9", 3, &out, &len), PWB_EINVAL);
	ck_assert_int_eq(pwb_jwt_base64url_decode("aGVsb+8", 7, &out, &len), PWB_EINVAL);
	ck_assert_int_eq(pwb_jwt_base64url_decode("aGVsb", 5, &out, &len), PWB_EINVAL);
	ck_assert_int_eq(pwb_jwt_base64url_decode("", 0, &out, &len), 0);
	ck_assert_uint_eq(len, 0);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jwt");
	TCase *tc = tcase_create("jwt");
	SRunner *sr;
	int failed;

	tcase_add_unchecked_fixture(tc, setup_keys, free_keys);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, every_algorithm_verifies, 0, sizeof(good) / sizeof(good[0]));
	tcase_add_test(tc, wrong_key_or_type_is_refused);
	tcase_add_test(tc, tampered_payload_is_refused);
	tcase_add_test(tc, alg_none_and_unlisted_are_refused);
	tcase_add_test(tc, hmac_uses_client_secret_only);
	tcase_add_loop_test(tc, malformed_tokens_are_refused, 0,
			    sizeof(malformed) / sizeof(malformed[0]));
	tcase_add_test(tc, crit_and_size_limits);
	tcase_add_test(tc, claims_checks);
	tcase_add_test(tc, audience_rules);
	tcase_add_test(tc, nonce_rules);
	tcase_add_test(tc, base64url_is_strict);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
