/* Unit tests for pwbd's scim.request (pwbd/op_scim.c) against a real
 * store: the relay's arguments are checked strictly (a fixed key set, the
 * method from a fixed list, bounded values free of NUL, CR and LF), the
 * response comes back as status, headers and the body's JSON text, and the
 * request's changes are recorded as the accepted token's, from the client
 * address the relay passed (an address that is not one is dropped). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ops.h"
#include "store.h"
#include "internal/store_internal.h"
#include "testutil.h"
#include "token.h"

static struct test_store ts;
static char bearer[16 + PWB_TOKEN_TEXT_MAX];

static int put_token(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_token_put(txn, ctx, err);
}

static void setup(void)
{
	struct pwb_token t = {0};
	struct pwb_error err = {0};
	char text[PWB_TOKEN_TEXT_MAX];

	test_store_setup(&ts, 20000, 29999, NULL);
	ck_assert_int_eq(pwb_token_generate(text), 0);
	ck_assert_int_eq(pwb_token_hash(text, strlen(text), t.hash), 0);
	snprintf(t.name, sizeof(t.name), "unit");
	pwb_token_mask(text, t.masked);
	t.created = 1;
	ck_assert_msg(pwb_store_write(ts.st, put_token, &t, &err) == 0, "%s", err.msg);
	snprintf(bearer, sizeof(bearer), "Bearer %s", text);
}

static void teardown(void)
{
	test_store_teardown(&ts);
}

static const struct pwbd_op *scim_op(void)
{
	for (const struct pwbd_op *op = pwbd_ops_scim; op->name; op++)
		if (strcmp(op->name, "scim.request") == 0)
			return op;
	ck_abort_msg("no scim.request in pwbd_ops_scim");
	return NULL;
}

/* Runs scim.request with args (stolen) as the scim-user; the result in
 * *result (NULL on failure), the actor the call ended with in *actor. */
static int run(json_t *args, json_t **result, struct pwb_actor *actor, struct pwb_error *err)
{
	struct pwb_rpc_request req = {.args = args};
	struct pwbd_call call = {.st = ts.st, .cfg = &ts.cfg, .role = PWBD_ROLE_SCIM, .req = &req};
	int r;

	ck_assert_ptr_nonnull(args);
	snprintf(req.id, sizeof(req.id), "req-1");
	snprintf(call.actor.kind, sizeof(call.actor.kind), "scim");
	call.actor.uid = 998;
	pwb_store_set_request(ts.st, &call.actor, req.id);
	*result = NULL;
	r = scim_op()->fn(&call, result, err);
	if (actor)
		*actor = call.actor;
	json_decref(args);
	return r;
}

static json_t *args_for(const char *method, const char *uri, const char *auth)
{
	json_t *a = json_pack("{s:s,s:s,s:s,s:s,s:s}", "method", method, "uri", uri, "scheme",
			      "https", "host", "scim.example", "remote_addr", "192.0.2.7");

	if (auth)
		json_object_set_new(a, "authorization", json_string(auth));
	return a;
}

static int status_of(json_t *result)
{
	return (int)json_integer_value(json_object_get(result, "status"));
}

START_TEST(arguments_are_strict)
{
	static const char *const bad[] = {
	    "{\"uri\":\"/scim/v2/Users\"}",
	    "{\"method\":\"GET\"}",
	    "{\"method\":\"TRACE\",\"uri\":\"/scim/v2/Users\"}",
	    "{\"method\":\"get\",\"uri\":\"/scim/v2/Users\"}",
	    "{\"method\":\"GET\",\"uri\":\"/scim/v2/Users\\r\\nX: y\"}",
	    "{\"method\":\"GET\",\"uri\":\"/scim/v2/Users\",\"if_match\":\"a\\nb\"}",
	    "{\"method\":\"GET\",\"uri\":\"/scim/v2/Users\",\"host\":\"a\\u0000b\"}",
	    "{\"method\":\"GET\",\"uri\":\"/scim/v2/Users\",\"authorization\":7}",
	    "{\"method\":\"GET\",\"uri\":\"/scim/v2/Users\",\"store\":\"x\"}",
	    "{\"method\":\"GET\",\"uri\":\"/scim/v2/Users\",\"body\":{}}",
	    "{\"method\":\"GET\",\"uri\":\"/scim/v2/Users\",\"body_too_large\":\"yes\"}",
	};
	struct pwb_error err = {0};
	json_t *result;
	char *long_value;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_error_t jerr;
		json_t *args = json_loads(bad[i], JSON_ALLOW_NUL, &jerr);

		ck_assert_msg(args, "%s: %s", bad[i], jerr.text);
		ck_assert_msg(run(args, &result, NULL, &err) == PWB_EINVAL, "accepted %s", bad[i]);
		ck_assert_ptr_null(result);
	}
	long_value = malloc(9000);
	memset(long_value, 'a', 8999);
	long_value[8999] = '\0';
	json_t *args = args_for("GET", "/scim/v2/Users", bearer);
	json_object_set_new(args, "query", json_string(long_value));
	ck_assert_int_eq(run(args, &result, NULL, &err), PWB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "query"));
	free(long_value);
}
END_TEST

START_TEST(the_token_is_the_actor)
{
	static const char user[] = "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
				   "\"userName\":\"alice@example.com\"}";
	struct pwb_error err = {0};
	struct pwb_actor actor;
	json_t *args = args_for("POST", "/scim/v2/Users", bearer), *result, *doc;

	json_object_set_new(args, "body", json_string(user));
	ck_assert_msg(run(args, &result, &actor, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(status_of(result), 201);
	ck_assert_str_eq(json_string_value(json_object_get(result, "token_name")), "unit");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(result, "location")),
				     "https://scim.example/scim/v2/Users/"));
	ck_assert_str_eq(json_string_value(json_object_get(result, "etag")), "W/\"1\"");
	doc = json_loads(json_string_value(json_object_get(result, "body")), 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "userName")), "alice@example.com");
	json_decref(doc);
	json_decref(result);
	ck_assert_str_eq(actor.kind, "scim");
	ck_assert_str_eq(actor.name, "unit");
	ck_assert_str_eq(actor.rhost, "192.0.2.7");
	ck_assert_uint_eq(actor.uid, 998);
	/* what the store records the request's changes as */
	ck_assert_str_eq(ts.st->actor.kind, "scim");
	ck_assert_str_eq(ts.st->actor.name, "unit");
	ck_assert_str_eq(ts.st->actor.rhost, "192.0.2.7");
	ck_assert_str_eq(ts.st->request_id, "req-1");
}
END_TEST

START_TEST(no_token_no_name)
{
	struct pwb_error err = {0};
	struct pwb_actor actor;
	json_t *result, *args = args_for("DELETE", "/scim/v2/Users/x", "Bearer wrong");

	json_object_set_new(args, "remote_addr", json_string("evil host\t"));
	ck_assert_int_eq(run(args, &result, &actor, &err), 0);
	ck_assert_int_eq(status_of(result), 401);
	ck_assert(json_is_true(json_object_get(result, "www_authenticate")));
	ck_assert_str_eq(json_string_value(json_object_get(result, "token_name")), "-");
	json_decref(result);
	ck_assert_str_eq(actor.kind, "scim");
	ck_assert_str_eq(actor.name, "");
	ck_assert_str_eq(actor.rhost, ""); /* not an address: dropped */
}
END_TEST

START_TEST(body_flags_after_the_token)
{
	struct pwb_error err = {0};
	json_t *result, *args;

	/* too large: 401 without a token, 413 with one */
	args = args_for("POST", "/scim/v2/Users", NULL);
	json_object_set_new(args, "body_too_large", json_true());
	ck_assert_int_eq(run(args, &result, NULL, &err), 0);
	ck_assert_int_eq(status_of(result), 401);
	json_decref(result);
	args = args_for("POST", "/scim/v2/Users", bearer);
	json_object_set_new(args, "body_too_large", json_true());
	ck_assert_int_eq(run(args, &result, NULL, &err), 0);
	ck_assert_int_eq(status_of(result), 413);
	json_decref(result);
	/* a body the relay could not pass as text: 400 invalidSyntax */
	args = args_for("POST", "/scim/v2/Users", bearer);
	json_object_set_new(args, "body_utf8", json_false());
	ck_assert_int_eq(run(args, &result, NULL, &err), 0);
	ck_assert_int_eq(status_of(result), 400);
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(result, "body")), "invalidSyntax"));
	json_decref(result);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scim_op");
	TCase *tc = tcase_create("scim_op");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, arguments_are_strict);
	tcase_add_test(tc, the_token_is_the_actor);
	tcase_add_test(tc, no_token_no_name);
	tcase_add_test(tc, body_flags_after_the_token);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
