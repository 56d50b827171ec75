/* Unit tests for lib/jwks.c: JWKs of real keys parse into keys that verify
 * signatures; selection by kid and algorithm; keys that must not sign are
 * skipped. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jwks.h"
#include "testsign.h"

static EVP_PKEY *rsa, *ec, *ed;

static void setup_keys(void)
{
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	ck_assert(rsa && ec && ed);
}

static void free_keys(void)
{
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ed);
}

static struct pwb_jwks *parse(const char *text)
{
	struct pwb_jwks *jwks = NULL;
	struct pwb_error err = {0};

	ck_assert_msg(pwb_jwks_parse(text, strlen(text), &jwks, &err) == 0, "%s", err.msg);
	return jwks;
}

START_TEST(keys_from_jwks_verify_tokens)
{
	char *jr = testsign_jwk(rsa, "r1", NULL), *je = testsign_jwk(ec, "e1", "ES256");
	char *jd = testsign_jwk(ed, "d1", NULL), *text = NULL;
	const char *claims = "{\"sub\":\"x\"}";
	const struct pwb_jwk *sel[4];
	struct pwb_jwks *jwks;
	struct pwb_jwt *jwt = NULL;
	struct pwb_error err = {0};
	char *tok;

	ck_assert_int_ge(asprintf(&text, "{\"keys\":[%s,%s,%s]}", jr, je, jd), 0);
	jwks = parse(text);
	ck_assert_uint_eq(jwks->n, 3);
	ck_assert_uint_eq(pwb_jwks_select(jwks, "r1", pwb_jws_alg_find("PS256"), sel, 4), 1);
	ck_assert_str_eq(sel[0]->kid, "r1");
	tok = testsign_token("PS256", "r1", NULL, claims, rsa, NULL, 0);
	ck_assert_int_eq(pwb_jwt_parse(tok, strlen(tok), &jwt, &err), 0);
	ck_assert_int_eq(pwb_jwt_verify_key(jwt, sel[0]->pkey, &err), 0);
	pwb_jwt_free(jwt);
	free(tok);
	ck_assert_uint_eq(pwb_jwks_select(jwks, "e1", pwb_jws_alg_find("ES256"), sel, 4), 1);
	tok = testsign_token("ES256", "e1", NULL, claims, ec, NULL, 0);
	ck_assert_int_eq(pwb_jwt_parse(tok, strlen(tok), &jwt, &err), 0);
	ck_assert_int_eq(pwb_jwt_verify_key(jwt, sel[0]->pkey, &err), 0);
	pwb_jwt_free(jwt);
	free(tok);
	ck_assert_uint_eq(pwb_jwks_select(jwks, "d1", pwb_jws_alg_find("EdDSA"), sel, 4), 1);
	tok = testsign_token("EdDSA", "d1", NULL, claims, ed, NULL, 0);
	ck_assert_int_eq(pwb_jwt_parse(tok, strlen(tok), &jwt, &err), 0);
	ck_assert_int_eq(pwb_jwt_verify_key(jwt, sel[0]->pkey, &err), 0);
	pwb_jwt_free(jwt);
	free(tok);
	/* kid present but the alg does not fit the key: nothing selected */
	ck_assert_uint_eq(pwb_jwks_select(jwks, "r1", pwb_jws_alg_find("ES256"), sel, 4), 0);
	/* the key says alg ES256: not usable for ES384 */
	ck_assert_uint_eq(pwb_jwks_select(jwks, "e1", pwb_jws_alg_find("ES384"), sel, 4), 0);
	ck_assert_uint_eq(pwb_jwks_select(jwks, "nope", pwb_jws_alg_find("RS256"), sel, 4), 0);
	/* no kid: every key that fits */
	ck_assert_uint_eq(pwb_jwks_select(jwks, NULL, pwb_jws_alg_find("RS256"), sel, 4), 1);
	ck_assert_uint_eq(pwb_jwks_select(jwks, NULL, pwb_jws_alg_find("HS256"), sel, 4), 0);
	pwb_jwks_free(jwks);
	free(text);
	free(jr);
	free(je);
	free(jd);
}
END_TEST

START_TEST(unusable_keys_are_skipped)
{
	struct pwb_jwks *jwks;
	char *small_jwk, *text = NULL;
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);

	small_jwk = testsign_jwk(small, "small", NULL);
	ck_assert_int_ge(
	    asprintf(&text,
		     "{\"keys\":[%s,"
		     "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"kid\":\"h\"},"
		     "{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
		     "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"AAAA\"},"
		     "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AAAA\"},"
		     "{\"kty\":\"RSA\",\"n\":\"!!\",\"e\":\"AQAB\"},"
		     "\"junk\",42]}",
		     small_jwk),
	    0);
	jwks = parse(text);
	ck_assert_uint_eq(jwks->n, 0);
	pwb_jwks_free(jwks);
	free(text);
	free(small_jwk);
	EVP_PKEY_free(small);
}
END_TEST

START_TEST(bad_documents_are_errors)
{
	static const char *const bad[] = {"", "[]", "{}", "{\"keys\":{}}", "{\"keys\":[", "null"};
	struct pwb_jwks *jwks = NULL;
	struct pwb_error err = {0};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(pwb_jwks_parse(bad[i], strlen(bad[i]), &jwks, &err), PWB_EINVAL);
		ck_assert_ptr_null(jwks);
		ck_assert(strncmp(err.msg, "JWKS:", 5) == 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jwks");
	TCase *tc = tcase_create("jwks");
	SRunner *sr;
	int failed;

	tcase_add_unchecked_fixture(tc, setup_keys, free_keys);
	tcase_add_test(tc, keys_from_jwks_verify_tokens);
	tcase_add_test(tc, unusable_keys_are_skipped);
	tcase_add_test(tc, bad_documents_are_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
