/* Unit tests for pam_pwb_oidc's device mode helpers: the prompt text (each
 * line the contract names, in order; an escaped host), the QR code's shape
 * in Unicode half blocks, and the flow caps (per host, per address, a slot
 * freed when its holder closes it, a directory open to others refused).
 * The flow itself runs against a real sshd and IdP in tests/integration. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "device.h"
#include "testutil.h"

#define URI "https://idp.example/device?user_code=WDJB-MJHT"

static char *dir;

static void setup(void)
{
	dir = test_mkdtemp();
}

static void teardown(void)
{
	test_rmtree(dir);
	free(dir);
}

/* The lines of text (a copy, split at '\n'); *n of them. */
static char **lines_of(const char *text, size_t *n)
{
	char *copy = strdup(text), *p, **v = NULL;

	*n = 0;
	for (p = copy; p;) {
		char *nl = strchr(p, '\n');

		v = realloc(v, (*n + 1) * sizeof(*v));
		if (nl)
			*nl = '\0';
		v[(*n)++] = p;
		p = nl ? nl + 1 : NULL;
	}
	return v;
}

START_TEST(prompt_lines)
{
	char *text = NULL, **l;
	size_t n;

	ck_assert_int_eq(pwb_device_prompt("ds1", "alice", URI, "WDJB-MJHT", false, &text), 0);
	l = lines_of(text, &n);
	ck_assert_int_eq(n, 4);
	ck_assert_str_eq(l[0], "Sign in to ds1 as alice");
	ck_assert_str_eq(l[1], "Open: " URI);
	ck_assert_str_eq(l[2], "Code: WDJB-MJHT");
	ck_assert_str_eq(l[3], "Press Enter after you approve: ");
	free(l[0]);
	free(l);
	free(text);
	/* A host name is shown escaped: no terminal control from it. */
	ck_assert_int_eq(pwb_device_prompt("ds\033[2J", "bob", URI, "C", false, &text), 0);
	ck_assert_ptr_null(strchr(text, '\033'));
	ck_assert_ptr_nonnull(strstr(text, "Sign in to ds\\x1b[2J as bob\n"));
	free(text);
	ck_assert_str_eq(PWB_DEVICE_REPROMPT, "Not approved yet; press Enter after you approve: ");
}
END_TEST

/* Display cells in a line of half blocks (each 1 or 3 bytes); -1 when a
 * byte sequence is none of the four glyphs. */
static int cells(const char *line)
{
	static const char *const glyphs[] = {"\u2580", "\u2584", "\u2588"};
	int count = 0;
	size_t i;

	while (*line) {
		if (*line == ' ') {
			line++;
			count++;
			continue;
		}
		for (i = 0; i < 3; i++)
			if (strncmp(line, glyphs[i], 3) == 0)
				break;
		if (i == 3)
			return -1;
		line += 3;
		count++;
	}
	return count;
}

#ifdef HAVE_QRENCODE
START_TEST(qr_shape)
{
	char *qr = NULL, *text = NULL, **l;
	size_t n, i, side;

	/* A version 3 code (29 modules) holds this URL at level L; with the
	 * 2-module quiet zone: 33 cells wide, 17 lines of two rows each. */
	ck_assert_int_eq(pwb_device_qr(URI, &qr), 0);
	l = lines_of(qr, &n);
	ck_assert_str_eq(l[n - 1], ""); /* every line ends with '\n' */
	n--;
	side = (size_t)cells(l[0]);
	ck_assert_uint_ge(side, 21 + 4);
	ck_assert_uint_eq((side - 4 - 21) % 4, 0); /* 21 + 4 (version - 1) modules */
	ck_assert_uint_eq(n, (side + 1) / 2);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(cells(l[i]), (int)side);
	/* The quiet zone: the first line is light modules only. */
	for (i = 0; i < side; i++)
		ck_assert_int_eq(strncmp(l[0] + 3 * i, "\u2588", 3), 0);
	free(l[0]);
	free(l);
	/* In the prompt: after the URL and the code, before the last line. */
	ck_assert_int_eq(pwb_device_prompt("ds1", "alice", URI, "WDJB-MJHT", true, &text), 0);
	ck_assert_ptr_nonnull(strstr(text, "Code: WDJB-MJHT\n"));
	ck_assert_ptr_nonnull(strstr(text, qr));
	ck_assert_ptr_eq(strstr(text, qr), strstr(text, "Code: WDJB-MJHT\n") + 16);
	ck_assert_str_eq(strstr(text, qr) + strlen(qr), "Press Enter after you approve: ");
	free(text);
	free(qr);
}
END_TEST
#else
START_TEST(qr_shape)
{
	char *qr = NULL, *text = NULL;

	ck_assert_int_eq(pwb_device_qr(URI, &qr), -ENOTSUP);
	ck_assert_int_eq(pwb_device_prompt("ds1", "alice", URI, "C", true, &text), 0);
	ck_assert_ptr_nonnull(strstr(text, "Code: C\nPress Enter"));
	free(text);
}
END_TEST
#endif

static int take(const char *address, int *fd, struct pwb_error *err)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/flows", dir);
	memset(err, 0, sizeof(*err));
	return pwb_device_slot_take(path, 4, 2, address, fd, err);
}

START_TEST(slots_capped)
{
	struct pwb_error err;
	struct stat st;
	char path[4096];
	int a1, a2, a3, b1, b2, c1, none;

	ck_assert_msg(take("192.0.2.1", &a1, &err) == 0, "%s", err.msg);
	snprintf(path, sizeof(path), "%s/flows", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(take("192.0.2.1", &a2, &err), 0);
	/* The third from one address: refused, naming the per-address key. */
	ck_assert_int_eq(take("192.0.2.1", &a3, &err), PWB_EBUSY);
	ck_assert_int_eq(a3, -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "auth-openid-device-max-flows-per-address=2"));
	ck_assert_int_eq(take("192.0.2.2", &b1, &err), 0);
	/* No address (a console): only the host cap. */
	ck_assert_int_eq(take(NULL, &c1, &err), 0);
	ck_assert_int_eq(take(NULL, &none, &err), PWB_EBUSY);
	ck_assert_ptr_nonnull(strstr(err.msg, "auth-openid-device-max-flows=4"));
	/* A flow that ends (or a process that dies) frees its slot. */
	pwb_device_slot_release(a1);
	ck_assert_int_eq(take("192.0.2.1", &a3, &err), 0);
	ck_assert_int_eq(take("192.0.2.2", &b2, &err), PWB_EBUSY);
	pwb_device_slot_release(a2);
	pwb_device_slot_release(a3);
	ck_assert_int_eq(take("192.0.2.2", &b2, &err), 0);
	pwb_device_slot_release(b1);
	pwb_device_slot_release(b2);
	pwb_device_slot_release(c1);
}
END_TEST

START_TEST(slots_dir_refused)
{
	struct pwb_error err;
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/flows", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_eq(take("192.0.2.1", &fd, &err), -EPERM);
	ck_assert_ptr_nonnull(strstr(err.msg, "open to others"));
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(rmdir(path), 0);
	ck_assert_int_eq(symlink(dir, path), 0);
	ck_assert_int_lt(take("192.0.2.1", &fd, &err), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("device");
	TCase *tc = tcase_create("device");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, prompt_lines);
	tcase_add_test(tc, qr_shape);
	tcase_add_test(tc, slots_capped);
	tcase_add_test(tc, slots_dir_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
