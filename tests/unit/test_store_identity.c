/* Unit tests for the IdP identity a user is bound to (lib/store_users.c,
 * lib/store_records.c): issuer, subject and bindOnLogin in the record, the
 * unique (issuer, subject) index, pwb_user_bind and pwb_user_get_by_subject,
 * and that update and delete keep the index right. Real store, temp dir. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "store.h"
#include "testutil.h"

#define ISS "https://idp.example"

static struct test_store ts;

static void setup(void)
{
	test_store_setup(&ts, 20000, 29999, NULL);
}

static void teardown(void)
{
	test_store_teardown(&ts);
}

struct op {
	const char *name, *issuer, *subject;
	struct pwb_user *u; /* out (get) */
};

static int create_fn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct op *q = vctx;
	struct pwb_user u = {0};
	int r;

	snprintf(u.name, sizeof(u.name), "%s", q->name);
	u.active = true;
	u.issuer = q->issuer ? strdup(q->issuer) : NULL;
	u.subject = q->subject ? strdup(q->subject) : NULL;
	r = pwb_user_create(txn, &u, err);
	pwb_user_clear(&u);
	return r;
}

static int bind_fn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct op *q = vctx;
	struct pwb_user u = {0};
	int r;

	r = pwb_user_get_by_name(txn, q->name, &u, err);
	if (r == 0)
		r = pwb_user_bind(txn, u.id, q->issuer, q->subject, err);
	pwb_user_clear(&u);
	return r;
}

static int get_by_subject_fn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct op *q = vctx;

	return pwb_user_get_by_subject(txn, q->issuer, q->subject, q->u, err);
}

static int get_fn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct op *q = vctx;

	return pwb_user_get_by_name(txn, q->name, q->u, err);
}

/* An update as SCIM makes it: another gecos, and identity fields that a
 * caller has no business changing. */
static int update_fn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct op *q = vctx;
	struct pwb_user u = {0};
	int r;

	r = pwb_user_get_by_name(txn, q->name, &u, err);
	if (r == 0) {
		free(u.gecos);
		u.gecos = strdup("Changed");
		free(u.issuer);
		free(u.subject);
		u.issuer = strdup("https://evil.example");
		u.subject = strdup("evil");
		u.bind_on_login = !u.bind_on_login;
		r = pwb_user_update(txn, &u, err);
	}
	pwb_user_clear(&u);
	return r;
}

static int delete_fn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct op *q = vctx;
	struct pwb_user u = {0};
	int r;

	r = pwb_user_get_by_name(txn, q->name, &u, err);
	if (r == 0)
		r = pwb_user_delete(txn, u.id, err);
	pwb_user_clear(&u);
	return r;
}

static int run(int (*fn)(struct pwb_txn *, void *, struct pwb_error *), const char *name,
	       const char *issuer, const char *subject, struct pwb_error *err)
{
	struct op q = {name, issuer, subject, NULL};

	memset(err, 0, sizeof(*err));
	return pwb_store_write(ts.st, fn, &q, err);
}

static void get(const char *name, struct pwb_user *u)
{
	struct op q = {name, NULL, NULL, u};
	struct pwb_error err = {0};

	ck_assert_msg(pwb_store_read(ts.st, get_fn, &q, &err) == 0, "%s", err.msg);
}

/* The name of the user bound to (issuer, subject), or "" if none. */
static const char *holder(const char *issuer, const char *subject)
{
	static char name[PWB_NAME_MAX + 1];
	struct pwb_user u = {0};
	struct op q = {NULL, issuer, subject, &u};
	struct pwb_error err = {0};
	int r;

	r = pwb_store_read(ts.st, get_by_subject_fn, &q, &err);
	ck_assert_msg(r == 0 || r == PWB_ENOTFOUND, "%s", err.msg);
	snprintf(name, sizeof(name), "%s", r == 0 ? u.name : "");
	pwb_user_clear(&u);
	return name;
}

START_TEST(record_roundtrip_and_old_records)
{
	struct pwb_user u = {0}, v = {0}, w = {0};
	char *text;

	snprintf(u.name, sizeof(u.name), "alice");
	u.issuer = strdup(ISS);
	u.subject = strdup("A");
	text = pwb_user_encode(&u);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(pwb_user_decode("00000000-0000-4000-8000-000000000001", text, &v), 0);
	ck_assert_str_eq(v.issuer, ISS);
	ck_assert_str_eq(v.subject, "A");
	ck_assert(!v.bind_on_login);
	ck_assert_int_eq(pwb_user_copy(&w, &v), 0);
	ck_assert_ptr_ne(w.subject, v.subject);
	ck_assert_str_eq(w.subject, "A");
	free(text);
	pwb_user_clear(&v);
	pwb_user_clear(&w);

	u.bind_on_login = true;
	free(u.issuer);
	free(u.subject);
	u.issuer = u.subject = NULL;
	text = pwb_user_encode(&u);
	ck_assert_int_eq(pwb_user_decode("00000000-0000-4000-8000-000000000001", text, &v), 0);
	ck_assert_ptr_null(v.issuer);
	ck_assert(v.bind_on_login);
	free(text);
	pwb_user_clear(&v);

	/* a record written before identities were stored: unbound, and not
	 * marked for binding at sign-in */
	ck_assert_int_eq(pwb_user_decode("00000000-0000-4000-8000-000000000001",
					 "{\"name\":\"old\",\"uid\":20000,\"gid\":20000,"
					 "\"active\":true,\"source\":\"scim\"}",
					 &v),
			 0);
	ck_assert_ptr_null(v.issuer);
	ck_assert_ptr_null(v.subject);
	ck_assert(!v.bind_on_login);
	pwb_user_clear(&v);
	pwb_user_clear(&u);
}
END_TEST

START_TEST(create_binds_or_marks_for_binding)
{
	struct pwb_error err;
	struct pwb_user u = {0};

	ck_assert_int_eq(run(create_fn, "alice", ISS, "A", &err), 0);
	ck_assert_int_eq(run(create_fn, "scimmy", NULL, NULL, &err), 0);
	get("alice", &u);
	ck_assert_str_eq(u.subject, "A");
	ck_assert(!u.bind_on_login);
	pwb_user_clear(&u);
	get("scimmy", &u);
	ck_assert_ptr_null(u.subject);
	ck_assert(u.bind_on_login);
	pwb_user_clear(&u);
	ck_assert_str_eq(holder(ISS, "A"), "alice");
	ck_assert_str_eq(holder(ISS, "B"), "");
	ck_assert_str_eq(holder("https://other.example", "A"), "");

	/* the pair is unique; nothing of the refused user is left */
	ck_assert_int_eq(run(create_fn, "alice2", ISS, "A", &err), PWB_EEXIST);
	ck_assert_msg(strstr(err.msg, "already bound to another user"), "%s", err.msg);
	ck_assert_int_eq(run(create_fn, "alice2", ISS, "A2", &err), 0);
	/* one without the other, or a control character (the key joins them
	 * with a newline), is refused */
	ck_assert_int_eq(run(create_fn, "half", ISS, NULL, &err), PWB_EINVAL);
	ck_assert_int_eq(run(create_fn, "half", NULL, "A", &err), PWB_EINVAL);
	ck_assert_int_eq(run(create_fn, "nl", ISS "\nA", "x", &err), PWB_EINVAL);
	ck_assert_int_eq(run(create_fn, "nl", ISS, "", &err), PWB_EINVAL);
}
END_TEST

START_TEST(bind_rebind_unbind)
{
	struct pwb_error err;
	struct pwb_user u = {0};

	ck_assert_int_eq(run(create_fn, "alice", ISS, "A", &err), 0);
	ck_assert_int_eq(run(create_fn, "bob", NULL, NULL, &err), 0);
	/* another user's pair is refused */
	ck_assert_int_eq(run(bind_fn, "bob", ISS, "A", &err), PWB_EEXIST);
	ck_assert_str_eq(holder(ISS, "A"), "alice");
	ck_assert_int_eq(run(bind_fn, "bob", ISS, "B", &err), 0);
	get("bob", &u);
	ck_assert_str_eq(u.subject, "B");
	ck_assert(!u.bind_on_login);
	pwb_user_clear(&u);
	/* binding to the pair already held is a no-op */
	ck_assert_int_eq(run(bind_fn, "bob", ISS, "B", &err), 0);
	ck_assert_str_eq(holder(ISS, "B"), "bob");
	/* a rebind moves the index: the old pair is free again */
	ck_assert_int_eq(run(bind_fn, "alice", "https://new.example", "A", &err), 0);
	ck_assert_str_eq(holder(ISS, "A"), "");
	ck_assert_str_eq(holder("https://new.example", "A"), "alice");
	/* unbind: free pair, the next sign-in binds */
	ck_assert_int_eq(run(bind_fn, "bob", NULL, NULL, &err), 0);
	ck_assert_str_eq(holder(ISS, "B"), "");
	get("bob", &u);
	ck_assert_ptr_null(u.issuer);
	ck_assert_ptr_null(u.subject);
	ck_assert(u.bind_on_login);
	pwb_user_clear(&u);
	ck_assert_int_eq(run(bind_fn, "bob", ISS, NULL, &err), PWB_EINVAL);
	ck_assert_int_eq(run(bind_fn, "nobody", ISS, "Z", &err), PWB_ENOTFOUND);
}
END_TEST

START_TEST(update_keeps_and_delete_frees_the_binding)
{
	struct pwb_error err;
	struct pwb_user u = {0};

	ck_assert_int_eq(run(create_fn, "alice", ISS, "A", &err), 0);
	ck_assert_int_eq(run(create_fn, "bob", NULL, NULL, &err), 0);
	ck_assert_int_eq(run(update_fn, "alice", NULL, NULL, &err), 0);
	ck_assert_int_eq(run(update_fn, "bob", NULL, NULL, &err), 0);
	get("alice", &u);
	ck_assert_str_eq(u.gecos, "Changed");
	ck_assert_str_eq(u.issuer, ISS);
	ck_assert_str_eq(u.subject, "A");
	ck_assert(!u.bind_on_login);
	pwb_user_clear(&u);
	get("bob", &u);
	ck_assert_ptr_null(u.issuer);
	ck_assert(u.bind_on_login);
	pwb_user_clear(&u);
	ck_assert_str_eq(holder("https://evil.example", "evil"), "");
	ck_assert_str_eq(holder(ISS, "A"), "alice");

	ck_assert_int_eq(run(delete_fn, "alice", NULL, NULL, &err), 0);
	ck_assert_str_eq(holder(ISS, "A"), "");
	ck_assert_int_eq(run(bind_fn, "bob", ISS, "A", &err), 0);
	ck_assert_str_eq(holder(ISS, "A"), "bob");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_identity");
	TCase *tc = tcase_create("identity");
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		printf("1..0 # SKIP store tests need root (store owner switching)\n");
		return EXIT_SUCCESS;
	}
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, record_roundtrip_and_old_records);
	tcase_add_test(tc, create_binds_or_marks_for_binding);
	tcase_add_test(tc, bind_rebind_unbind);
	tcase_add_test(tc, update_keeps_and_delete_frees_the_binding);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
