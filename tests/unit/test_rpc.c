/* Unit tests for lib/rpc: the strict request parser (every rule of rpc.h,
 * fed with hostile input), the frame codec over a socketpair, request ids,
 * progress frames (codec, strict parse, the client's callback), and the
 * client's errors when pwbd is not there. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "rpc.h"

struct parse_case {
	const char *json;
	bool ok;
	const char *msg; /* a part of the error message, or NULL */
};

static const struct parse_case cases[] = {
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a\"}", true, NULL},
    {"{\"v\":1,\"op\":\"user.add\",\"id\":\"A-z_0.9:x\",\"args\":{\"name\":\"x\"}}", true, NULL},
    {"{\"v\":1,\"op\":\"scim.request\",\"id\":\"i\",\"actor\":{\"kind\":\"jit\",\"service\":"
     "\"sshd\",\"rhost\":\"10.0.0.1\",\"user\":\"alice\",\"tty\":\"pts/0\",\"ruser\":\"r\"}}",
     true, NULL},
    {"{\"v\":2,\"op\":\"ping\",\"id\":\"a\"}", false, "\"v\""},
    {"{\"v\":1.0,\"op\":\"ping\",\"id\":\"a\"}", false, "\"v\""},
    {"{\"v\":true,\"op\":\"ping\",\"id\":\"a\"}", false, "\"v\""},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"progress\":true}", true, NULL},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"progress\":1}", false, "\"progress\""},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"progress\":null}", false, "\"progress\""},
    {"{\"op\":\"ping\",\"id\":\"a\"}", false, "\"v\" is missing"},
    {"{\"v\":1,\"id\":\"a\"}", false, "\"op\" is missing"},
    {"{\"v\":1,\"op\":\"ping\"}", false, "\"id\" is missing"},
    {"{\"v\":1,\"op\":\"Ping\",\"id\":\"a\"}", false, "\"op\""},
    {"{\"v\":1,\"op\":\"1ping\",\"id\":\"a\"}", false, "\"op\""},
    {"{\"v\":1,\"op\":\"\",\"id\":\"a\"}", false, "\"op\""},
    {"{\"v\":1,\"op\":\"ping/..\",\"id\":\"a\"}", false, "\"op\""},
    {"{\"v\":1,\"op\":\"a123456789012345678901234567890123456789012345678\",\"id\":\"a\"}", false,
     "\"op\""},
    {"{\"v\":1,\"op\":\"a12345678901234567890123456789012345678901234567\",\"id\":\"a\"}", true,
     NULL},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"\"}", false, "\"id\""},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a b\"}", false, "\"id\""},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a\\n\"}", false, "\"id\""},
    {"{\"v\":1,\"op\":\"ping\",\"id\":7}", false, "\"id\""},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"x\":1}", false, "unknown key \"x\""},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"x\\n\":1}", false, "unknown key \"?\""},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"args\":[]}", false, "\"args\""},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"args\":null}", false, "\"args\""},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"actor\":[]}", false, "\"actor\""},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"actor\":{\"uid\":\"0\"}}", false, "actor key"},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"actor\":{\"name\":1}}", false, "actor \"name\""},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"actor\":{\"rhost\":\"a\\u001bb\"}}", false,
     "control character"},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"actor\":{\"kind\":\"Root!\"}}", false,
     "actor \"kind\""},
    {"{\"v\":1,\"v\":1,\"op\":\"ping\",\"id\":\"a\"}", false, "not JSON"},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"args\":{\"s\":\"a\\u0000b\"}}", false, "not JSON"},
    {"[1]", false, "not a JSON object"},
    {"\"v\"", false, "not"},
    {"{\"v\":1,", false, "not JSON"},
    {"{\"v\":1,\"op\":\"ping\",\"id\":\"a\"} trailing", false, "not JSON"},
};

START_TEST(parse_cases)
{
	const struct parse_case *c = &cases[_i];
	struct pwb_rpc_request req;
	struct pwb_error err = {0};
	int r = pwb_rpc_request_parse(c->json, strlen(c->json), &req, &err);

	if (c->ok) {
		ck_assert_msg(r == 0, "%s: %s", c->json, err.msg);
		ck_assert_ptr_nonnull(req.args);
		ck_assert(json_is_object(req.args));
		pwb_rpc_request_clear(&req);
	} else {
		ck_assert_msg(r == PWB_EINVAL, "%s: accepted", c->json);
		ck_assert_msg(strstr(err.msg, c->msg), "%s: message \"%s\" lacks \"%s\"", c->json,
			      err.msg, c->msg);
		ck_assert_ptr_null(req.args);
	}
}
END_TEST

START_TEST(parse_fills_fields)
{
	const char *j = "{\"id\":\"r-1\",\"args\":{\"n\":1},\"op\":\"user.add\",\"v\":1,"
			"\"actor\":{\"kind\":\"pwbadm\",\"user\":\"alice\",\"service\":\"sshd\","
			"\"rhost\":\"h\"}}";
	struct pwb_rpc_request req;
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_rpc_request_parse(j, strlen(j), &req, &err), 0);
	ck_assert_str_eq(req.op, "user.add");
	ck_assert_str_eq(req.id, "r-1");
	ck_assert_str_eq(req.actor.kind, "pwbadm");
	ck_assert_str_eq(req.actor.name, "alice");
	ck_assert_str_eq(req.actor.service, "sshd");
	ck_assert_str_eq(req.actor.rhost, "h");
	ck_assert_int_eq(json_integer_value(json_object_get(req.args, "n")), 1);
	pwb_rpc_request_clear(&req);
	ck_assert_ptr_null(req.args);
}
END_TEST

static char *nested(unsigned depth, const char *open, bool in_string)
{
	size_t n = 64 + depth * 2;
	char *s = malloc(n), *p = s;

	p += sprintf(p, "{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"args\":{\"x\":%s",
		     in_string ? "\"" : "");
	for (unsigned i = 0; i < depth; i++)
		*p++ = open[i % 2];
	sprintf(p, "%s}}", in_string ? "\"" : "");
	return s;
}

START_TEST(depth_checked_before_parsing)
{
	struct pwb_rpc_request req;
	struct pwb_error err = {0};
	char *s = nested(100000, "[{", false);

	/* Unbalanced on purpose: Jansson would refuse it anyway, but the depth
	 * message proves the scan refused it first. */
	ck_assert_int_eq(pwb_rpc_request_parse(s, strlen(s), &req, &err), PWB_EINVAL);
	ck_assert_msg(strstr(err.msg, "nested deeper"), "%s", err.msg);
	free(s);
	s = nested(100000, "[{", true);
	ck_assert_int_eq(pwb_rpc_request_parse(s, strlen(s), &req, &err), 0);
	pwb_rpc_request_clear(&req);
	free(s);
}
END_TEST

START_TEST(depth_limit_exact)
{
	struct pwb_rpc_request req;
	struct pwb_error err = {0};
	/* the request object and args are 2 levels: fill to the limit */
	unsigned inner = PWB_RPC_MAX_DEPTH - 2;
	char buf[4096], *p = buf;

	p += sprintf(p, "{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"args\":{\"x\":");
	for (unsigned i = 0; i < inner; i++)
		*p++ = '[';
	for (unsigned i = 0; i < inner; i++)
		*p++ = ']';
	strcpy(p, "}}");
	ck_assert_msg(pwb_rpc_request_parse(buf, strlen(buf), &req, &err) == 0, "%s", err.msg);
	pwb_rpc_request_clear(&req);
	p = buf + strlen("{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"args\":{\"x\":");
	memmove(p + 1, p, strlen(p) + 1);
	*p = '[';
	strcat(buf, "]");
	ck_assert_int_eq(pwb_rpc_request_parse(buf, strlen(buf), &req, &err), PWB_EINVAL);
	ck_assert_msg(strstr(err.msg, "nested deeper"), "%s", err.msg);
}
END_TEST

START_TEST(escaped_quote_does_not_end_a_string)
{
	struct pwb_rpc_request req;
	struct pwb_error err = {0};
	char buf[512], *p = buf;

	/* "\"[[[[..." stays a string: the escaped quote must not end it */
	p += sprintf(p, "{\"v\":1,\"op\":\"ping\",\"id\":\"a\",\"args\":{\"x\":\"\\\"\\\\");
	for (int i = 0; i < 200; i++)
		*p++ = '[';
	strcpy(p, "\"}}");
	ck_assert_msg(pwb_rpc_request_parse(buf, strlen(buf), &req, &err) == 0, "%s", err.msg);
	pwb_rpc_request_clear(&req);
}
END_TEST

START_TEST(size_bounds)
{
	struct pwb_rpc_request req;
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_rpc_request_parse("", 0, &req, &err), PWB_EINVAL);
	ck_assert_int_eq(pwb_rpc_request_parse("{}", (size_t)PWB_RPC_MAX_FRAME + 1, &req, &err),
			 PWB_EINVAL);
}
END_TEST

START_TEST(frames_round_trip)
{
	int sv[2];
	struct pwb_error err = {0};
	char *payload = NULL;
	size_t len = 0;
	static const char msg[] = "{\"v\":1}";

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(pwb_rpc_write_frame(sv[0], 1000, msg, strlen(msg), &err), 0);
	ck_assert_int_eq(pwb_rpc_read_frame(sv[1], 1000, &payload, &len, &err), 0);
	ck_assert_uint_eq(len, strlen(msg));
	ck_assert_str_eq(payload, msg);
	free(payload);
	ck_assert_int_eq(pwb_rpc_write_frame(sv[0], 1000, msg, 0, &err), PWB_EINVAL);
	ck_assert_int_eq(pwb_rpc_write_frame(sv[0], 1000, msg, (size_t)PWB_RPC_MAX_FRAME + 1, &err),
			 PWB_EINVAL);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Writes raw bytes to one end and reads a frame from the other. */
static int read_raw(const void *bytes, size_t n, bool close_after, int timeout_ms,
		    struct pwb_error *err)
{
	int sv[2], r;
	char *payload = NULL;
	size_t len;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (n)
		ck_assert_int_eq(write(sv[0], bytes, n), (ssize_t)n);
	if (close_after)
		close(sv[0]);
	r = pwb_rpc_read_frame(sv[1], timeout_ms, &payload, &len, err);
	ck_assert(r < 0 || payload);
	free(payload);
	if (!close_after)
		close(sv[0]);
	close(sv[1]);
	return r;
}

START_TEST(bad_frames)
{
	struct pwb_error err = {0};

	ck_assert_int_eq(read_raw("\0\0\0\0", 4, true, 1000, &err), PWB_EINVAL);
	ck_assert_int_eq(read_raw("\0\x40\0\x01", 4, true, 1000, &err), PWB_EINVAL);
	ck_assert_int_eq(read_raw("\xff\xff\xff\xff", 4, true, 1000, &err), PWB_EINVAL);
	ck_assert_int_eq(read_raw("\0\0\0\x05{}", 6, true, 1000, &err), PWB_EUNAVAIL);
	ck_assert_msg(strstr(err.msg, "closed"), "%s", err.msg);
	ck_assert_int_eq(read_raw("\0\0", 2, true, 1000, &err), PWB_EUNAVAIL);
	ck_assert_int_eq(read_raw("", 0, true, 1000, &err), PWB_EUNAVAIL);
	/* a peer that sends part of a frame and waits: the deadline holds */
	ck_assert_int_eq(read_raw("\0\0\0\x05{}", 6, false, 200, &err), PWB_EUNAVAIL);
	ck_assert_msg(strstr(err.msg, "timed out"), "%s", err.msg);
	ck_assert_int_eq(read_raw("\0\0\0\x02{}", 6, true, 1000, &err), 0);
}
END_TEST

START_TEST(ids_are_uuids)
{
	char a[PWB_RPC_ID_MAX + 1], b[PWB_RPC_ID_MAX + 1];
	struct pwb_rpc_request req;
	struct pwb_error err = {0};
	char json[256];

	ck_assert_int_eq(pwb_rpc_new_id(a), 0);
	ck_assert_int_eq(pwb_rpc_new_id(b), 0);
	ck_assert_uint_eq(strlen(a), 36);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(a[14], '4');
	ck_assert(strchr("89ab", a[19]));
	snprintf(json, sizeof(json), "{\"v\":1,\"op\":\"ping\",\"id\":\"%s\"}", a);
	ck_assert_int_eq(pwb_rpc_request_parse(json, strlen(json), &req, &err), 0);
	pwb_rpc_request_clear(&req);
}
END_TEST

START_TEST(client_without_daemon)
{
	struct pwb_config cfg = {0};
	struct pwb_error err = {0};
	json_t *result = (json_t *)1;
	char id[PWB_RPC_ID_MAX + 1] = "";
	char path[] = "/tmp/pwb-test-rpc-nosuch/pwbd.sock";

	cfg.pwbd_socket = path;
	cfg.pwbd_timeout = 1;
	ck_assert_int_eq(pwb_rpc_call(&cfg, "ping", NULL, NULL, &result, id, &err), PWB_ENODAEMON);
	ck_assert_ptr_null(result);
	ck_assert_msg(strstr(err.msg, path), "%s", err.msg);
	ck_assert_uint_eq(strlen(id), 36);
}
END_TEST

START_TEST(progress_frames_round_trip)
{
	struct pwb_rpc_progress p;
	struct pwb_error err = {0};
	char *f;

	f = pwb_rpc_progress_encode("r-1", "importing", 41000, 100000, "users");
	ck_assert_str_eq(f, "{\"v\":1,\"id\":\"r-1\",\"progress\":{\"stage\":\"importing\","
			    "\"done\":41000,\"total\":100000,\"unit\":\"users\"}}");
	ck_assert_int_eq(pwb_rpc_progress_parse(f, strlen(f), "r-1", &p, &err), 1);
	ck_assert_str_eq(p.stage, "importing");
	ck_assert_str_eq(p.unit, "users");
	ck_assert_uint_eq(p.done, 41000);
	ck_assert_int_eq(p.total, 100000);
	free(f);
	/* unknown total */
	f = pwb_rpc_progress_encode("r-1", "listing", 7, -1, "groups");
	ck_assert_ptr_nonnull(strstr(f, "\"total\":null"));
	ck_assert_int_eq(pwb_rpc_progress_parse(f, strlen(f), "r-1", &p, &err), 1);
	ck_assert_int_eq(p.total, -1);
	/* another request's frame */
	ck_assert_int_eq(pwb_rpc_progress_parse(f, strlen(f), "r-2", &p, &err), PWB_EINVAL);
	free(f);
	/* done past total raises total */
	f = pwb_rpc_progress_encode("r-1", "publishing", 9, 5, "users");
	ck_assert_int_eq(pwb_rpc_progress_parse(f, strlen(f), "r-1", &p, &err), 1);
	ck_assert_int_eq(p.total, 9);
	free(f);
	/* words outside the rule are never sent */
	ck_assert_ptr_null(pwb_rpc_progress_encode("r", "Importing", 1, 2, "users"));
	ck_assert_ptr_null(pwb_rpc_progress_encode("r", "importing", 1, 2, "users\n"));
	ck_assert_ptr_null(pwb_rpc_progress_encode("r", "", 1, 2, "users"));
}
END_TEST

static const char *const bad_progress[] = {
    "{\"v\":2,\"id\":\"r\",\"progress\":{\"stage\":\"a\",\"done\":1,\"total\":2,\"unit\":\"u\"}}",
    "{\"v\":1,\"id\":\"r\",\"x\":0,\"progress\":{\"stage\":\"a\",\"done\":1,\"total\":2,"
    "\"unit\":\"u\"}}",
    "{\"v\":1,\"id\":\"r\",\"progress\":{\"stage\":\"a\",\"done\":1,\"unit\":\"u\"}}",
    "{\"v\":1,\"id\":\"r\",\"progress\":{\"stage\":\"a\",\"done\":-1,\"total\":2,\"unit\":\"u\"}}",
    "{\"v\":1,\"id\":\"r\",\"progress\":{\"stage\":\"a\",\"done\":3,\"total\":2,\"unit\":\"u\"}}",
    "{\"v\":1,\"id\":\"r\",\"progress\":{\"stage\":\"a\",\"done\":1,\"total\":-2,\"unit\":\"u\"}}",
    "{\"v\":1,\"id\":\"r\",\"progress\":{\"stage\":\"a\",\"done\":1.5,\"total\":2,\"unit\":\"u\"}}",
    "{\"v\":1,\"id\":\"r\",\"progress\":{\"stage\":\"A\",\"done\":1,\"total\":2,\"unit\":\"u\"}}",
    "{\"v\":1,\"id\":\"r\",\"progress\":{\"stage\":\"a\",\"done\":1,\"total\":2,\"unit\":"
    "\"\\u001b\"}}",
    "{\"v\":1,\"id\":\"r\",\"progress\":{\"stage\":\"a\",\"done\":1,\"total\":2,\"unit\":\"u\","
    "\"eta\":1}}",
    "{\"v\":1,\"id\":\"r\",\"progress\":true}",
};

START_TEST(progress_frames_strict)
{
	struct pwb_rpc_progress p;
	struct pwb_error err = {0};
	const char *f = bad_progress[_i];
	const char *reply = "{\"v\":1,\"id\":\"r\",\"code\":0,\"result\":{}}";

	ck_assert_msg(pwb_rpc_progress_parse(f, strlen(f), "r", &p, &err) == PWB_EINVAL, "%s", f);
	ck_assert_ptr_nonnull(strstr(err.msg, "progress frame"));
	/* the reply is not a progress frame: the caller decodes it */
	ck_assert_int_eq(pwb_rpc_progress_parse(reply, strlen(reply), "r", &p, &err), 0);
	ck_assert_int_eq(pwb_rpc_progress_parse("[", 1, "r", &p, &err), 0);
}
END_TEST

START_TEST(progress_frames_are_small)
{
	struct pwb_rpc_progress p;
	struct pwb_error err = {0};
	char big[PWB_RPC_PROGRESS_MAX + 64];
	/* the largest frame pwbd can send fits */
	char *f = pwb_rpc_progress_encode(
	    "0123456789012345678901234567890123456789012345678901234567890123",
	    "abcdefghijklmnopqrstuvwxyzabcdef", (uint64_t)INT64_MAX, INT64_MAX,
	    "abcdefghijklmnopqrstuvwxyzabcdef");

	ck_assert_uint_le(strlen(f), PWB_RPC_PROGRESS_MAX);
	free(f);
	/* a larger one is the reply's business (it fails there: no "code") */
	snprintf(big, sizeof(big),
		 "{\"v\":1,\"id\":\"r\",\"progress\":{\"stage\":\"a\",\"done\":1,\"total\":2,"
		 "\"unit\":\"u\"}%*s}",
		 PWB_RPC_PROGRESS_MAX, "");
	ck_assert_int_eq(pwb_rpc_progress_parse(big, strlen(big), "r", &p, &err), 0);
}
END_TEST

struct heard {
	char text[8][64];
	int n;
};

static void hear(void *ctx, const char *stage, uint64_t done, int64_t total, const char *unit)
{
	struct heard *h = ctx;

	if (h->n < 8)
		snprintf(h->text[h->n++], sizeof(h->text[0]), "%s %llu/%lld %s", stage,
			 (unsigned long long)done, (long long)total, unit);
}

/* A one-request server: checks the request asked for progress, sends two
 * progress frames, then the reply. */
static void fake_pwbd(int listen_fd)
{
	struct pwb_rpc_request req;
	struct pwb_error err = {0};
	char *payload, *f, reply[256];
	size_t len;
	int fd = accept(listen_fd, NULL, NULL);

	if (fd < 0 || pwb_rpc_read_frame(fd, 5000, &payload, &len, &err) < 0 ||
	    pwb_rpc_request_parse(payload, len, &req, &err) < 0 || !req.progress)
		_exit(1);
	f = pwb_rpc_progress_encode(req.id, "importing", 1, 2, "users");
	pwb_rpc_write_frame(fd, 5000, f, strlen(f), &err);
	free(f);
	f = pwb_rpc_progress_encode(req.id, "importing", 2, 2, "users");
	pwb_rpc_write_frame(fd, 5000, f, strlen(f), &err);
	free(f);
	snprintf(reply, sizeof(reply), "{\"v\":1,\"id\":\"%s\",\"code\":0,\"result\":{\"n\":2}}",
		 req.id);
	pwb_rpc_write_frame(fd, 5000, reply, strlen(reply), &err);
	_exit(0);
}

START_TEST(client_hands_frames_to_the_callback)
{
	char dir[] = "/tmp/pwb-test-rpc-XXXXXX", path[64];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pwb_config cfg = {0};
	struct pwb_error err = {0};
	struct heard h = {0};
	struct pwb_progress listener = {.fn = hear, .ctx = &h};
	json_t *result = NULL;
	int lfd, status;
	pid_t pid;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	pid = fork();
	if (pid == 0)
		fake_pwbd(lfd);
	cfg.pwbd_socket = path;
	cfg.pwbd_timeout = 5;
	ck_assert_msg(pwb_rpc_call_progress(&cfg, "store.import", NULL, NULL, &listener, &result,
					    NULL, &err) == 0,
		      "%s", err.msg);
	ck_assert_int_eq(json_integer_value(json_object_get(result, "n")), 2);
	ck_assert_int_eq(h.n, 2);
	ck_assert_str_eq(h.text[0], "importing 1/2 users");
	ck_assert_str_eq(h.text[1], "importing 2/2 users");
	json_decref(result);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	close(lfd);
	unlink(path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rpc");
	TCase *tc = tcase_create("rpc");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, parse_cases, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, parse_fills_fields);
	tcase_add_test(tc, depth_checked_before_parsing);
	tcase_add_test(tc, depth_limit_exact);
	tcase_add_test(tc, escaped_quote_does_not_end_a_string);
	tcase_add_test(tc, size_bounds);
	tcase_add_test(tc, frames_round_trip);
	tcase_add_test(tc, bad_frames);
	tcase_add_test(tc, ids_are_uuids);
	tcase_add_test(tc, client_without_daemon);
	tcase_add_test(tc, progress_frames_round_trip);
	tcase_add_loop_test(tc, progress_frames_strict, 0,
			    sizeof(bad_progress) / sizeof(bad_progress[0]));
	tcase_add_test(tc, progress_frames_are_small);
	tcase_add_test(tc, client_hands_frames_to_the_callback);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
