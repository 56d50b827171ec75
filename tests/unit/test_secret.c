/* Unit tests for lib/secret.c: AES-256-GCM round trip, tamper and wrong-key
 * detection, key-file permissions, and the client-secret file. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "secret.h"
#include "testutil.h"

static char *dir, *key;

static void setup(void)
{
	dir = test_mkdtemp();
	ck_assert_int_ge(asprintf(&key, "%s/secure-key", dir), 0);
}

static void teardown(void)
{
	test_rmtree(dir);
	free(dir);
	free(key);
}

START_TEST(round_trip_creates_key_0600)
{
	struct pwb_error err = {0};
	char *enc = NULL, *enc2 = NULL, *dec = NULL;
	struct stat st;

	ck_assert_int_eq(pwb_secret_encrypt(key, false, "s3cret", &enc, &err), PWB_ECONFIG);
	ck_assert_int_eq(pwb_secret_encrypt(key, true, "s3cret", &enc, &err), 0);
	ck_assert_int_eq(stat(key, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_size, 32);
	ck_assert(pwb_secret_is_encrypted(enc));
	ck_assert_ptr_null(strstr(enc, "s3cret"));
	ck_assert_int_eq(pwb_secret_encrypt(key, true, "s3cret", &enc2, &err), 0);
	ck_assert_str_ne(enc, enc2); /* fresh nonce each time */
	ck_assert_int_eq(pwb_secret_decrypt(key, enc, &dec, &err), 0);
	ck_assert_str_eq(dec, "s3cret");
	free(dec);
	ck_assert_int_eq(pwb_secret_decrypt(key, "plain-value", &dec, &err), 0);
	ck_assert_str_eq(dec, "plain-value");
	free(dec);
	free(enc);
	free(enc2);
}
END_TEST

START_TEST(tampered_or_wrong_key_is_refused)
{
	struct pwb_error err = {0};
	char *enc = NULL, *dec = NULL, *key2 = NULL;
	size_t n;
	char saved;

	ck_assert_int_eq(pwb_secret_encrypt(key, true, "s3cret", &enc, &err), 0);
	/* A character well inside the base64 (the last ones may carry only
	 * padding bits, which decode to the same bytes). */
	n = strlen(PWB_SECRET_PREFIX) + 20;
	saved = enc[n];
	enc[n] = saved == 'A' ? 'B' : 'A';
	ck_assert_int_eq(pwb_secret_decrypt(key, enc, &dec, &err), PWB_EAUTH);
	ck_assert_ptr_null(dec);
	enc[n] = saved;
	ck_assert_int_ge(asprintf(&key2, "%s/other-key", dir), 0);
	{
		char *tmp = NULL;

		ck_assert_int_eq(pwb_secret_encrypt(key2, true, "x", &tmp, &err), 0);
		free(tmp);
	}
	ck_assert_int_eq(pwb_secret_decrypt(key2, enc, &dec, &err), PWB_EAUTH);
	ck_assert_ptr_nonnull(strstr(err.msg, "other-key"));
	ck_assert_int_eq(pwb_secret_decrypt(key, "pwb1:!!!!", &dec, &err), PWB_EAUTH);
	ck_assert_int_eq(pwb_secret_decrypt(key, "pwb1:", &dec, &err), PWB_EAUTH);
	ck_assert_int_eq(pwb_secret_decrypt(key, enc, &dec, &err), 0);
	free(dec);
	free(enc);
	free(key2);
}
END_TEST

START_TEST(key_file_must_be_private)
{
	struct pwb_error err = {0};
	char *enc = NULL;

	ck_assert_int_eq(pwb_secret_encrypt(key, true, "s3cret", &enc, &err), 0);
	free(enc);
	ck_assert_int_eq(chmod(key, 0640), 0);
	ck_assert_int_eq(pwb_secret_encrypt(key, true, "s3cret", &enc, &err), PWB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "must be 0600"));
	ck_assert_ptr_nonnull(strstr(err.msg, key));
}
END_TEST

START_TEST(client_file)
{
	struct pwb_error err = {0};
	char *enc = NULL, *text = NULL, *path, *id = NULL, *secret = NULL;

	ck_assert_int_eq(pwb_secret_encrypt(key, true, "top-secret", &enc, &err), 0);
	ck_assert_int_ge(
	    asprintf(&text, "# comment\nclient-id = pwb-client\nclient-secret=%s\n", enc), 0);
	path = test_write_file(dir, "client", text);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(pwb_secret_read_client_file(path, key, &id, &secret, &err), PWB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "0600"));
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_msg(pwb_secret_read_client_file(path, key, &id, &secret, &err) == 0, "%s",
		      err.msg);
	ck_assert_str_eq(id, "pwb-client");
	ck_assert_str_eq(secret, "top-secret");
	free(id);
	free(secret);
	free(path);
	path = test_write_file(dir, "client2", "client-id=abc\n");
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(pwb_secret_read_client_file(path, key, &id, &secret, &err), 0);
	ck_assert_str_eq(id, "abc");
	ck_assert_ptr_null(secret);
	free(id);
	free(path);
	path = test_write_file(dir, "client3", "client-id=abc\nclient-sekret=x\n");
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(pwb_secret_read_client_file(path, key, &id, &secret, &err), PWB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "line 2"));
	free(path);
	free(text);
	free(enc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("secret");
	TCase *tc = tcase_create("secret");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_trip_creates_key_0600);
	tcase_add_test(tc, tampered_or_wrong_key_is_refused);
	tcase_add_test(tc, key_file_must_be_private);
	tcase_add_test(tc, client_file);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
