/* Unit tests for what `pwbadm encrypt-password` relies on: a value made by
 * pwb_secret_encrypt (key file created 0600 on first use) decrypts to the
 * same secret, and a tampered value or another key is refused.
 * With arguments `--decrypt VALUE KEY-FILE` it instead prints the decrypted
 * value, as pam_pwb_oidc would see it: tests/integration/pwbadm_secret.sh
 * uses that to check pwbadm's output end to end. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "secret.h"
#include "testutil.h"
#include "util.h"

static const char secret[] = "s3cr3t-V@lue with spaces";

static char *encrypt_new_key(const char *dir, char **key_file)
{
	struct pwb_error err = {0};
	char *out = NULL;

	if (asprintf(key_file, "%s/secure-key", dir) < 0)
		ck_abort_msg("out of memory");
	ck_assert_int_eq(pwb_secret_encrypt(*key_file, true, secret, &out, &err), 0);
	return out;
}

START_TEST(round_trip_creates_key_0600)
{
	char *dir = test_mkdtemp(), *key = NULL, *plain = NULL;
	char *enc = encrypt_new_key(dir, &key);
	struct pwb_error err = {0};
	struct stat st;

	ck_assert(pwb_secret_is_encrypted(enc));
	ck_assert_ptr_null(strstr(enc, "s3cr3t"));
	ck_assert_int_eq(stat(key, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(pwb_secret_decrypt(key, enc, &plain, &err), 0);
	ck_assert_str_eq(plain, secret);
	pwb_free_secret(plain);
	pwb_free_secret(enc);
	test_rmtree(dir);
	free(key);
	free(dir);
}
END_TEST

/* Changing any one character of the payload must be detected (GCM tag). */
START_TEST(tampered_value_refused)
{
	char *dir = test_mkdtemp(), *key = NULL, *plain = NULL;
	char *enc = encrypt_new_key(dir, &key);
	size_t prefix = strlen(PWB_SECRET_PREFIX), len = strlen(enc), i, refused = 0, tried = 0;
	struct pwb_error err = {0};

	/* The last base64 quantum may carry bits the decoder drops: skip it. */
	for (i = prefix; i + 4 < len; i++) {
		char saved = enc[i];

		enc[i] = saved == 'A' ? 'B' : 'A';
		tried++;
		if (pwb_secret_decrypt(key, enc, &plain, &err) < 0)
			refused++;
		else
			pwb_free_secret(plain);
		plain = NULL;
		enc[i] = saved;
	}
	ck_assert_uint_gt(tried, 40);
	ck_assert_uint_eq(refused, tried);
	pwb_free_secret(enc);
	test_rmtree(dir);
	free(key);
	free(dir);
}
END_TEST

START_TEST(other_key_refused)
{
	char *dir = test_mkdtemp(), *dir2 = test_mkdtemp(), *key = NULL, *key2 = NULL;
	char *enc = encrypt_new_key(dir, &key), *enc2 = encrypt_new_key(dir2, &key2);
	struct pwb_error err = {0};
	char *plain = NULL;

	ck_assert_int_eq(pwb_secret_decrypt(key2, enc, &plain, &err), PWB_EAUTH);
	ck_assert_ptr_null(plain);
	pwb_free_secret(enc);
	pwb_free_secret(enc2);
	test_rmtree(dir);
	test_rmtree(dir2);
	free(key);
	free(key2);
	free(dir);
	free(dir2);
}
END_TEST

static int decrypt_mode(const char *value, const char *key_file)
{
	struct pwb_error err = {0};
	char *plain = NULL;
	int rc = pwb_secret_decrypt(key_file, value, &plain, &err);

	if (rc < 0) {
		fprintf(stderr, "test_adm_secret: %s\n", pwb_error_text(&err, rc));
		return 1;
	}
	printf("%s\n", plain);
	pwb_free_secret(plain);
	return 0;
}

int main(int argc, char **argv)
{
	Suite *s = suite_create("adm_secret");
	TCase *tc = tcase_create("adm_secret");
	SRunner *sr;
	int failed;

	if (argc == 4 && strcmp(argv[1], "--decrypt") == 0)
		return decrypt_mode(argv[2], argv[3]);
	tcase_add_test(tc, round_trip_creates_key_0600);
	tcase_add_test(tc, tampered_value_refused);
	tcase_add_test(tc, other_key_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
