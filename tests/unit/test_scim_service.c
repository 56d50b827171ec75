/* Unit tests for lib/scim_service.c against a real store: a write is
 * authenticated before the write transaction, so a caller without a valid
 * token never opens one and learns nothing beyond 401; an authenticated
 * write is one transaction, and bodies nested too deep are refused before
 * they reach the store.
 * And pwbd's scim.request (pwbd/op_scim.c) that runs the service for the
 * relay: the arguments are checked strictly (a fixed key set, the method
 * from a fixed list, bounded values free of NUL, CR and LF), the response
 * comes back as status, headers and the body's JSON text, and the
 * request's changes are recorded as the accepted token's, from the client
 * address the relay passed (an address that is not one is dropped). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ops.h"
#include "scim_service.h"
#include "store.h"
#include "internal/store_internal.h"
#include "testutil.h"
#include "token.h"

static struct test_store ts;
static struct pwb_scim_service *svc;
static char bearer[16 + PWB_TOKEN_TEXT_MAX];

static int put_token(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_token_put(txn, ctx, err);
}

static int get_token(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	return pwb_token_get(txn, "unit", ctx, err);
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
	ck_assert_int_eq(pwb_scim_service_new(ts.st, &ts.cfg, &svc), 0);
}

static void teardown(void)
{
	pwb_scim_service_free(svc);
	test_store_teardown(&ts);
}

/* One request; returns the status, the body (if any) in *body. */
static int request(const char *method, const char *uri, const char *auth, const char *body,
		   bool too_large, json_t **body_out)
{
	struct pwb_scim_request req = {
	    .method = method,
	    .uri = uri,
	    .authorization = auth,
	    .scheme = "https",
	    .host = "localhost",
	    .body = body,
	    .body_len = body ? strlen(body) : 0,
	    .body_too_large = too_large,
	};
	struct pwb_scim_response resp;
	int status;

	pwb_scim_service_handle(svc, &req, &resp);
	status = resp.status;
	if (body_out)
		*body_out = json_incref(resp.body);
	pwb_scim_response_clear(&resp);
	return status;
}

/* Every write transaction the service opens (the test links with
 * -Wl,--wrap=pwb_store_write). */
static int writes;
static int writes_fail; /* non-zero: every write fails with it (a store down) */
int __real_pwb_store_write(struct pwb_store *st, pwb_txn_fn fn, void *ctx, struct pwb_error *err);
int __wrap_pwb_store_write(struct pwb_store *st, pwb_txn_fn fn, void *ctx, struct pwb_error *err);

int __wrap_pwb_store_write(struct pwb_store *st, pwb_txn_fn fn, void *ctx, struct pwb_error *err)
{
	writes++;
	if (writes_fail)
		return pwb_error_set(err, writes_fail, "cannot reach db.example:5432");
	return __real_pwb_store_write(st, fn, ctx, err);
}

static const char user_body[] = "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
				"\"userName\":\"alice@example.com\"}";

/* A request that is not authenticated is answered with 401 only, and never
 * opens a write transaction (pwbd runs one request at a time: nothing an
 * anonymous caller sends costs a write). */
START_TEST(anonymous_write_never_writes)
{
	json_t *body = NULL;

	/* a fresh last-used time: a refused request would record it with a
	 * write of its own */
	ck_assert_int_eq(request("GET", "/scim/v2/Users", bearer, NULL, false, NULL), 200);
	writes = 0;
	ck_assert_int_eq(request("POST", "/scim/v2/Users", NULL, user_body, false, &body), 401);
	ck_assert_str_eq(json_string_value(json_object_get(body, "status")), "401");
	json_decref(body);
	ck_assert_int_eq(request("POST", "/scim/v2/Users", "Bearer nope", user_body, false, NULL),
			 401);
	ck_assert_int_eq(request("DELETE", "/scim/v2/Users/00000000-0000-4000-8000-000000000000",
				 "Bearer nope", NULL, false, NULL),
			 401);
	/* 401 before 413, 404 and 400: nothing about the request leaks */
	ck_assert_int_eq(request("PUT", "/scim/v2/Users/x", NULL, user_body, true, NULL), 401);
	ck_assert_int_eq(request("PATCH", "/scim/v2/Nothing/x/y", NULL, "{", false, NULL), 401);
	ck_assert_int_eq(writes, 0);
	/* an authenticated request that is refused without the store does not
	 * write either: 413, 404 and 400 need no write */
	ck_assert_int_eq(request("POST", "/scim/v2/Users", bearer, user_body, true, NULL), 413);
	ck_assert_int_eq(request("POST", "/scim/v2/Nothing", bearer, user_body, false, NULL), 404);
	ck_assert_int_eq(request("POST", "/scim/v2/Users", bearer, "{", false, NULL), 400);
	ck_assert_int_eq(writes, 0);
}
END_TEST

/* An authenticated write is one write transaction, which records the
 * token's use with the change. */
START_TEST(authenticated_write_is_one_transaction)
{
	struct pwb_token t = {0};
	struct pwb_error err = {0};

	writes = 0;
	ck_assert_int_eq(request("POST", "/scim/v2/Users", bearer, user_body, false, NULL), 201);
	ck_assert_int_eq(writes, 1);
	ck_assert_msg(pwb_store_read(ts.st, get_token, &t, &err) == 0, "%s", err.msg);
	ck_assert_int_gt(t.last_used, 0);
}
END_TEST

static char *deep_body(unsigned levels)
{
	size_t len = (size_t)levels * 6 + 64;
	char *text = malloc(len), *p = text;

	ck_assert_ptr_nonnull(text);
	p += sprintf(p, "{\"userName\":\"deep\",\"x\":");
	for (unsigned i = 1; i < levels; i++)
		p += sprintf(p, "{\"a\":");
	*p++ = '1';
	for (unsigned i = 0; i < levels; i++)
		*p++ = '}';
	*p = '\0';
	return text;
}

/* Issue 12: a body nested about 2047 levels deep was stored and made the
 * store unpublishable. It is refused at parse time now, after
 * authentication, and nothing is created. */
START_TEST(deep_bodies_are_refused)
{
	char *deep = deep_body(2047), *limit = deep_body(33), *ok = deep_body(8);
	json_t *body = NULL;

	ck_assert_int_eq(request("POST", "/scim/v2/Users", NULL, deep, false, NULL), 401);
	ck_assert_int_eq(request("POST", "/scim/v2/Users", bearer, deep, false, &body), 400);
	ck_assert_str_eq(json_string_value(json_object_get(body, "scimType")), "invalidValue");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(body, "detail")),
				     "attribute x is nested deeper than 32"));
	json_decref(body);
	ck_assert_int_eq(request("POST", "/scim/v2/Users", bearer, limit, false, NULL), 400);
	ck_assert_int_eq(request("GET", "/scim/v2/Users?filter=userName%20eq%20%22deep%22", bearer,
				 NULL, false, &body),
			 200);
	ck_assert_int_eq(json_integer_value(json_object_get(body, "totalResults")), 0);
	json_decref(body);
	/* a moderately nested body is still fine (the exact bound: test_scim_json) */
	ck_assert_int_eq(request("POST", "/scim/v2/Users", bearer, ok, false, NULL), 201);
	free(deep);
	free(limit);
	free(ok);
}
END_TEST

struct plant {
	const char *id;
	const char *text;
};

static int plant_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct plant *p = ctx;

	return pwb_kv_put(txn, DBI_USERS, p->id, strlen(p->id), p->text, strlen(p->text), err);
}

/* A record the store cannot decode (from before the bounds, or damaged on
 * disk): listings skip it, the IdP can still delete it (issue 12). Needs
 * the store's PWB_EDAMAGED handling (branch i12-store). */
START_TEST(damaged_record_listed_around_and_deletable)
{
	struct pwb_error err = {0};
	json_t *body = NULL;
	char id[PWB_ID_LEN + 1], uri[128];
	struct plant p = {id, "{\"name\":\"victim\",\"uid\":"};

	ck_assert_int_eq(request("POST", "/scim/v2/Users", bearer, user_body, false, &body), 201);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(body, "id")));
	json_decref(body);
	ck_assert_int_eq(
	    request("POST", "/scim/v2/Users", bearer, "{\"userName\":\"bob\"}", false, NULL), 201);
	ck_assert_msg(pwb_store_write(ts.st, plant_fn, &p, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(request("GET", "/scim/v2/Users", bearer, NULL, false, &body), 200);
	ck_assert_int_eq(json_array_size(json_object_get(body, "Resources")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(body, "totalResults")), 1);
	json_decref(body);
	snprintf(uri, sizeof(uri), "/scim/v2/Users/%s", id);
	ck_assert_int_eq(request("GET", uri, bearer, NULL, false, NULL), 500);
	ck_assert_int_eq(request("DELETE", uri, bearer, NULL, false, NULL), 204);
	ck_assert_int_eq(request("GET", uri, bearer, NULL, false, NULL), 404);
}
END_TEST

/* ---- pwbd's scim.request ---- */

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

/* The change log's entries for user creations: who made them. */
struct created_by {
	int users;
	struct pwb_actor actor;
	char request_id[65];
};

static int note_creation(const struct pwb_change_entry *e, void *vctx)
{
	struct created_by *c = vctx;

	if (e->kind == 'u' && strcmp(e->op, "create") == 0) {
		c->users++;
		c->actor = e->actor;
		snprintf(c->request_id, sizeof(c->request_id), "%s", e->request_id);
	}
	return 0;
}

static int read_changes(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	uint64_t last;

	return pwb_change_foreach(txn, 0, 1000, note_creation, vctx, &last, err);
}

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
	/* and what the change log recorded */
	struct created_by by = {0};

	ck_assert_msg(pwb_store_read(ts.st, read_changes, &by, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(by.users, 1);
	ck_assert_str_eq(by.actor.kind, "scim");
	ck_assert_str_eq(by.actor.name, "unit");
	ck_assert_str_eq(by.actor.rhost, "192.0.2.7");
	ck_assert_str_eq(by.request_id, "req-1");
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

/* The store cannot be reached (a cluster host whose database is down: the
 * write gate's PWB_EUNAVAIL): the write is answered 503 with a SCIM error
 * body and Retry-After, and the database's address stays in the log. */
START_TEST(store_down_is_503_with_retry_after)
{
	struct pwb_error err = {0};
	json_t *result, *doc, *args = args_for("POST", "/scim/v2/Users", bearer);
	const char *text;

	json_object_set_new(args, "body", json_string(user_body));
	writes_fail = PWB_EUNAVAIL;
	ck_assert_msg(run(args, &result, NULL, &err) == 0, "%s", err.msg);
	writes_fail = 0;
	ck_assert_int_eq(status_of(result), 503);
	ck_assert_int_eq(json_integer_value(json_object_get(result, "retry_after")),
			 PWB_SCIM_RETRY_AFTER);
	text = json_string_value(json_object_get(result, "body"));
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_null(strstr(text, "db.example"));
	doc = json_loads(text, 0, NULL);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(doc, "schemas"), 0)),
			 "urn:ietf:params:scim:api:messages:2.0:Error");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "status")), "503");
	ck_assert_ptr_nonnull(json_string_value(json_object_get(doc, "detail")));
	json_decref(doc);
	json_decref(result);
	/* reads still come from the replica; no Retry-After on a success */
	args = args_for("GET", "/scim/v2/Users", bearer);
	ck_assert_msg(run(args, &result, NULL, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(status_of(result), 200);
	ck_assert_ptr_null(json_object_get(result, "retry_after"));
	json_decref(result);
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
	Suite *s = suite_create("scim_service");
	TCase *tc = tcase_create("scim_service");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, anonymous_write_never_writes);
	tcase_add_test(tc, authenticated_write_is_one_transaction);
	tcase_add_test(tc, deep_bodies_are_refused);
	tcase_add_test(tc, damaged_record_listed_around_and_deletable);
	suite_add_tcase(s, tc);
	tc = tcase_create("scim_op");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, arguments_are_strict);
	tcase_add_test(tc, the_token_is_the_actor);
	tcase_add_test(tc, no_token_no_name);
	tcase_add_test(tc, body_flags_after_the_token);
	tcase_add_test(tc, store_down_is_503_with_retry_after);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
