/* Unit tests for lib/secret.c: AES-256-GCM round trip, tamper and wrong-key
 * detection, key-file permissions, the client-secret file, the ownership
 * rule (root or the caller's own uid, as root and as another user) and
 * pwb-login's credentials from $CREDENTIALS_DIRECTORY, and the metrics token
 * file. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "config.h"
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

/* scim-metrics-token-file: one token on one line, private like the others. */
START_TEST(token_file)
{
	struct pwb_error err = {0};
	char out[64], *path;

	path = test_write_file(dir, "metrics", "s3cret-token\n");
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(pwb_secret_read_token_file(path, out, sizeof(out), &err), PWB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "0600"));
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_msg(pwb_secret_read_token_file(path, out, sizeof(out), &err) == 0, "%s", err.msg);
	ck_assert_str_eq(out, "s3cret-token");
	free(path);
	path = test_write_file(dir, "metrics2", "two words\n");
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(pwb_secret_read_token_file(path, out, sizeof(out), &err), PWB_ECONFIG);
	ck_assert_str_eq(out, "");
	free(path);
	path = test_write_file(dir, "metrics3", "\n");
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(pwb_secret_read_token_file(path, out, sizeof(out), &err), PWB_ECONFIG);
	free(path);
	path = test_write_file(
	    dir, "metrics4", "0123456789012345678901234567890123456789012345678901234567890123\n");
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(pwb_secret_read_token_file(path, out, sizeof(out), &err), PWB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "larger than"));
	free(path);
	ck_assert_int_eq(pwb_secret_read_token_file("/nonexistent/x", out, sizeof(out), &err),
			 PWB_ECONFIG);
}
END_TEST

#define OTHER_UID 12345
#define THIRD_UID 23456

/* An encrypted client file dir/name (0600) for secret, under key. */
static char *client_file_for(const char *name, const char *keyfile, const char *id,
			     const char *secret)
{
	struct pwb_error err = {0};
	char *enc = NULL, *text = NULL, *path;

	ck_assert_msg(pwb_secret_encrypt(keyfile, true, secret, &enc, &err) == 0, "%s", err.msg);
	ck_assert_int_ge(asprintf(&text, "client-id=%s\nclient-secret=%s\n", id, enc), 0);
	path = test_write_file(dir, name, text);
	ck_assert_int_eq(chmod(path, 0600), 0);
	free(text);
	free(enc);
	return path;
}

START_TEST(owner_must_be_root_or_caller)
{
	struct pwb_error err = {0};
	char *path, *id = NULL, *secret = NULL, *link = NULL;

	if (geteuid() != 0)
		return; /* needs root to hand files to another uid */
	path = client_file_for("client", key, "c1", "s1");
	/* Root's own files: read. */
	ck_assert_msg(pwb_secret_read_client_file(path, key, &id, &secret, &err) == 0, "%s",
		      err.msg);
	ck_assert_str_eq(secret, "s1");
	free(id);
	pwb_free_secret(secret);
	/* A key file that belongs to someone else: refused, even at 0600. */
	ck_assert_int_eq(chown(key, OTHER_UID, OTHER_UID), 0);
	ck_assert_int_eq(pwb_secret_read_client_file(path, key, &id, &secret, &err), PWB_ECONFIG);
	ck_assert_msg(strstr(err.msg, "owned by uid 12345, must be root or uid 0"), "%s", err.msg);
	ck_assert_ptr_null(secret);
	ck_assert_int_eq(chown(key, 0, 0), 0);
	/* The client file likewise. */
	ck_assert_int_eq(chown(path, OTHER_UID, OTHER_UID), 0);
	ck_assert_int_eq(pwb_secret_read_client_file(path, key, &id, &secret, &err), PWB_ECONFIG);
	ck_assert_msg(strstr(err.msg, "client: owned by uid 12345, must be root or uid 0"), "%s",
		      err.msg);
	ck_assert_ptr_null(id);
	/* A symlink is not followed (a fifo: fifo_is_not_a_key). */
	ck_assert_int_ge(asprintf(&link, "%s/link", dir), 0);
	ck_assert_int_eq(symlink(key, link), 0);
	ck_assert_int_eq(chown(path, 0, 0), 0);
	ck_assert_int_ne(pwb_secret_read_client_file(path, link, &id, &secret, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot open key file"));
	free(link);
	free(path);
}
END_TEST

START_TEST(fifo_is_not_a_key)
{
	struct pwb_error err = {0};
	char *enc = NULL, *fifo = NULL;

	ck_assert_int_ge(asprintf(&fifo, "%s/fifo", dir), 0);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	/* O_NONBLOCK is not used: a fifo with no writer would block, so the
	 * test gives it one. */
	if (fork() == 0) {
		int fd = open(fifo, O_WRONLY);

		sleep(1);
		close(fd);
		_exit(0);
	}
	ck_assert_int_eq(pwb_secret_encrypt(fifo, false, "x", &enc, &err), PWB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file"));
	wait(NULL);
	free(fifo);
}
END_TEST

/* In a child that has become OTHER_UID: the caller's own files are read,
 * as pwb-login reads its credentials. Exit status: 0 read, 1 refused. */
static int read_as(uid_t uid, const char *path, const char *keyfile, const char *want)
{
	pid_t pid = fork();
	int status = 0;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct pwb_error err = {0};
		char *id = NULL, *secret = NULL;

		if (setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
			_exit(2);
		if (pwb_secret_read_client_file(path, keyfile, &id, &secret, &err) < 0) {
			fprintf(stderr, "as uid %u: %s\n", (unsigned)uid, err.msg);
			_exit(1);
		}
		_exit(strcmp(secret, want) == 0 ? 0 : 3);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(login_user_reads_its_own)
{
	char *path;

	if (geteuid() != 0)
		return;
	path = client_file_for("client", key, "c1", "own-secret");
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(chown(path, OTHER_UID, OTHER_UID), 0);
	ck_assert_int_eq(chown(key, OTHER_UID, OTHER_UID), 0);
	ck_assert_int_eq(read_as(OTHER_UID, path, key, "own-secret"), 0);
	/* The same files are not another user's (they cannot even open
	 * them), and root refuses them as user-owned. */
	ck_assert_int_eq(read_as(THIRD_UID, path, key, "own-secret"), 1);
	ck_assert_int_eq(read_as(0, path, key, "own-secret"), 1);
	/* Group-readable is refused to the owner too. */
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(read_as(OTHER_UID, path, key, "own-secret"), 1);
	free(path);
}
END_TEST

START_TEST(credentials_directory)
{
	struct pwb_config cfg;
	struct pwb_error err = {0};
	char *creds = NULL, *conf = NULL, *ckey = NULL, *conf_client, *id = NULL, *secret = NULL;
	char *cred_client;

	ck_assert_int_ge(asprintf(&creds, "%s/creds", dir), 0);
	ck_assert_int_eq(mkdir(creds, 0700), 0);
	ck_assert_int_ge(asprintf(&ckey, "%s/creds/" PWB_CREDENTIAL_SECURE_KEY, dir), 0);
	conf_client = client_file_for("conf-client", key, "from-config", "config-secret");
	cred_client = client_file_for("creds/" PWB_CREDENTIAL_CLIENT_SECRET, ckey, "from-creds",
				      "creds-secret");
	ck_assert_int_eq(pwb_config_defaults(&cfg), 0);
	ck_assert_int_ge(asprintf(&conf, "auth-openid-client-secret-file=%s\nsecure-key-file=%s\n",
				  conf_client, key),
			 0);
	ck_assert_msg(pwb_config_parse(conf, "t.conf", &cfg, &err) == 0, "%s", err.msg);

	unsetenv("CREDENTIALS_DIRECTORY");
	ck_assert_msg(pwb_secret_read_credentials(&cfg, &id, &secret, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(id, "from-config");
	ck_assert_str_eq(secret, "config-secret");
	free(id);
	pwb_free_secret(secret);

	setenv("CREDENTIALS_DIRECTORY", creds, 1);
	ck_assert_msg(pwb_secret_read_credentials(&cfg, &id, &secret, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(id, "from-creds");
	ck_assert_str_eq(secret, "creds-secret");
	free(id);
	pwb_free_secret(secret);

	/* The client file from the directory, the key from the config: the
	 * directory's secret was made under its own key, so it fails. */
	ck_assert_int_eq(unlink(ckey), 0);
	ck_assert_int_eq(pwb_secret_read_credentials(&cfg, &id, &secret, &err), PWB_EAUTH);
	ck_assert_ptr_nonnull(strstr(err.msg, key));

	/* A relative value is not systemd's: ignored. */
	setenv("CREDENTIALS_DIRECTORY", "creds", 1);
	ck_assert_msg(pwb_secret_read_credentials(&cfg, &id, &secret, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(id, "from-config");
	free(id);
	pwb_free_secret(secret);
	unsetenv("CREDENTIALS_DIRECTORY");

	pwb_config_free(&cfg);
	free(cred_client);
	free(conf_client);
	free(ckey);
	free(conf);
	free(creds);
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
	tcase_add_test(tc, token_file);
	tcase_add_test(tc, owner_must_be_root_or_caller);
	tcase_add_test(tc, fifo_is_not_a_key);
	tcase_add_test(tc, login_user_reads_its_own);
	tcase_add_test(tc, credentials_directory);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
