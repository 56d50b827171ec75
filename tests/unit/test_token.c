/* Unit tests for lib/token.c and the base64url helpers in lib/util.c. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "token.h"
#include "util.h"

START_TEST(tokens_are_random_and_urlsafe)
{
	char a[PWB_TOKEN_TEXT_MAX], b[PWB_TOKEN_TEXT_MAX];
	unsigned char raw[64];
	size_t rawlen = sizeof(raw);

	ck_assert_int_eq(pwb_token_generate(a), 0);
	ck_assert_int_eq(pwb_token_generate(b), 0);
	ck_assert_str_ne(a, b);
	ck_assert_uint_eq(strlen(a), 43); /* 256 bits */
	ck_assert_uint_eq(
	    strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	ck_assert_int_eq(pwb_base64url_decode(a, strlen(a), raw, &rawlen), 0);
	ck_assert_uint_eq(rawlen, 32);
}
END_TEST

START_TEST(hash_is_sha256_hex)
{
	char h[PWB_HASH_HEX_LEN + 1];

	ck_assert_int_eq(pwb_token_hash("abc", 3, h), 0);
	/* FIPS 180-2 test vector */
	ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert(pwb_token_hash_equal(
	    h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	ck_assert(!pwb_token_hash_equal(
	    h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ae"));
	ck_assert(!pwb_token_hash_equal(h, "ba78"));
	ck_assert(!pwb_token_hash_equal("", ""));
}
END_TEST

START_TEST(mask_shows_a_prefix_only)
{
	char m[16];

	pwb_token_mask("abcdefghijklmnopqrstuvwxyz", m);
	ck_assert_str_eq(m, "abcd...");
}
END_TEST

START_TEST(base64url_vectors)
{
	/* RFC 4648 section 10 vectors, in the URL-safe alphabet, no padding */
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const out[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
	unsigned char dec[16];
	char enc[16];
	size_t i, n;

	for (i = 0; i < 7; i++) {
		pwb_base64url_encode((const unsigned char *)in[i], strlen(in[i]), enc);
		ck_assert_str_eq(enc, out[i]);
		n = sizeof(dec);
		ck_assert_int_eq(pwb_base64url_decode(out[i], strlen(out[i]), dec, &n), 0);
		ck_assert_uint_eq(n, strlen(in[i]));
		ck_assert_int_eq(memcmp(dec, in[i], n), 0);
	}
	{
		const unsigned char hi[] = {0xfb, 0xff};

		pwb_base64url_encode(hi, 2, enc);
		ck_assert_str_eq(enc, "-_8");
	}
	n = sizeof(dec);
	ck_assert_int_lt(pwb_base64url_decode("Zg==", 4, dec, &n), 0); /* padding */
	n = sizeof(dec);
	ck_assert_int_lt(pwb_base64url_decode("Z+8", 3, dec, &n), 0); /* standard alphabet */
	n = sizeof(dec);
	ck_assert_int_lt(pwb_base64url_decode("Zh", 2, dec, &n), 0); /* non-canonical */
	n = sizeof(dec);
	ck_assert_int_lt(pwb_base64url_decode("Z", 1, dec, &n), 0);
	n = 2;
	ck_assert_int_lt(pwb_base64url_decode("Zm9vYmFy", 8, dec, &n), 0); /* too small */
}
END_TEST

START_TEST(uuid_and_numbers)
{
	char id[37];
	uint32_t u;
	int64_t v;

	ck_assert_int_eq(pwb_uuid_generate(id), 0);
	ck_assert(pwb_uuid_is_valid(id));
	ck_assert_int_eq(id[14], '4');
	ck_assert(!pwb_uuid_is_valid("not-a-uuid"));
	ck_assert(!pwb_uuid_is_valid("0000000-0000-0000-0000-0000000000000"));
	ck_assert_int_eq(pwb_parse_u32("42", 0, 100, &u), 0);
	ck_assert_uint_eq(u, 42);
	ck_assert_int_lt(pwb_parse_u32("101", 0, 100, &u), 0);
	ck_assert_int_lt(pwb_parse_u32("-1", 0, 100, &u), 0);
	ck_assert_int_lt(pwb_parse_u32("4x", 0, 100, &u), 0);
	ck_assert_int_eq(pwb_parse_i64("-5", &v), 0);
	ck_assert_int_eq(v, -5);
}
END_TEST

START_TEST(time_format_is_rfc3339)
{
	char t[32];

	pwb_time_format(0, t);
	ck_assert_str_eq(t, "1970-01-01T00:00:00Z");
	pwb_time_format(1795868400, t);
	ck_assert_str_eq(t, "2026-11-28T12:20:00Z");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("token");
	TCase *tc = tcase_create("token");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, tokens_are_random_and_urlsafe);
	tcase_add_test(tc, hash_is_sha256_hex);
	tcase_add_test(tc, mask_shows_a_prefix_only);
	tcase_add_test(tc, base64url_vectors);
	tcase_add_test(tc, uuid_and_numbers);
	tcase_add_test(tc, time_format_is_rfc3339);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
