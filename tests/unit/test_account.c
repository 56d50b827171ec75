/* Unit tests for pwbd/account.c (the sign-in decision), the ops that run it
 * (op_account.c: arguments, the actor in the change log) and the provision.c
 * steps it shares, against a real store in a temp dir: JIT registration
 * from claims, group sync by name (deny-listed names skipped), locks, the
 * provisioning switches, local names, first sign-ins in a row on the one
 * store opener, the binding of an account to one IdP identity, and what
 * account.session_status and account.home accept and answer. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "account.h"
#include "cleanup.h"
#include "cluster.h"
#include "ops.h"
#include "snapshot.h"
#include "store.h"
#include "internal/store_internal.h"
#include "provision.h"
#include "testutil.h"

#define JIT_ON "user-provisioning-enabled=1\nuser-provisioning-register-on-first-login=1\n"
#define ISSUER "https://idp.example"

static struct test_store ts;

static void setup_jit(void)
{
	test_store_setup(&ts, 20000, 29999, JIT_ON);
}

static void teardown(void)
{
	test_store_teardown(&ts);
}

static struct pwb_claims *claims_for(const char *user, const char *name, const char *email,
				     const char *const *groups)
{
	struct pwb_claims *c = pwb_claims_new();

	ck_assert_ptr_nonnull(c);
	snprintf(c->username, sizeof(c->username), "%s", user);
	c->issuer = strdup(ISSUER);
	ck_assert_int_ge(asprintf(&c->subject, "sub-%s", user), 0);
	c->name = name ? strdup(name) : NULL;
	c->email = email ? strdup(email) : NULL;
	for (; groups && *groups; groups++)
		ck_assert_int_eq(pwb_claims_add_group(c, *groups), 0);
	return c;
}

static struct pwb_account_outcome check(struct pwb_store *st, const char *user,
					const struct pwb_claims *c)
{
	struct pwb_account_outcome o;
	struct pwb_error err = {0};

	ck_assert_msg(pwb_account_check(st, user, c, &o, &err) == 0, "%s: %s", user, err.msg);
	return o;
}

struct get_ctx {
	struct pwb_txn *txn;
	const char *name;
	struct pwb_user *u;
	char groups[32][PWB_NAME_MAX + 1];
	size_t n;
};

static int group_name_cb(const char *id, void *vctx)
{
	struct get_ctx *c = vctx;
	struct pwb_group g = {0};
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_group_get(c->txn, id, &g, &err), 0);
	ck_assert_uint_lt(c->n, 32);
	snprintf(c->groups[c->n++], PWB_NAME_MAX + 1, "%s", g.name);
	pwb_group_clear(&g);
	return 0;
}

static int get_fn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct get_ctx *c = vctx;
	int r;

	c->txn = txn;
	c->n = 0;
	pwb_user_clear(c->u);
	r = pwb_user_get_by_name(txn, c->name, c->u, err);
	if (r == 0)
		r = pwb_member_foreach_group(txn, c->u->id, group_name_cb, c, err);
	return r;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The stored user and their pwb groups, sorted ("a b "), or PWB_ENOTFOUND. */
static int get_user(const char *name, struct pwb_user *u, char groups[512])
{
	struct get_ctx c = {.name = name, .u = u};
	struct pwb_error err = {0};
	size_t i;
	int r;

	r = pwb_store_read(ts.st, get_fn, &c, &err);
	qsort(c.groups, c.n, sizeof(c.groups[0]), cmp_name);
	if (groups) {
		groups[0] = '\0';
		for (i = 0; i < c.n; i++) {
			strcat(groups, c.groups[i]);
			strcat(groups, " ");
		}
	}
	return r;
}

static int set_active_fn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct pwb_user u = {0};
	int r;

	r = pwb_user_get_by_name(txn, vctx, &u, err);
	if (r == 0) {
		u.active = false;
		r = pwb_user_update(txn, &u, err);
	}
	pwb_user_clear(&u);
	return r;
}

START_TEST(first_login_registers_with_claims)
{
	static const char *const groups[] = {"Data-Science", "analysts", "bad group!", "root",
					     "analysts",     "Docker",	 "wheel",      NULL};
	struct pwb_claims *c = claims_for("alice", "Alice Liddell", "alice@example.com", groups);
	struct pwb_account_outcome o;
	struct pwb_user u = {0};
	char g[512], *line, want[512], *nss;

	o = check(ts.st, "alice", c);
	ck_assert_int_eq(o.result, PWB_ACCOUNT_REGISTERED);
	ck_assert_uint_ge(o.uid, 20000);
	ck_assert_uint_le(o.uid, 29999);
	ck_assert_uint_eq(o.groups_added, 2);
	ck_assert_int_eq(get_user("alice", &u, g), 0);
	ck_assert_uint_eq(u.uid, o.uid);
	ck_assert_int_eq(u.source, PWB_SOURCE_JIT);
	ck_assert(u.active);
	ck_assert_str_eq(u.gecos, "Alice Liddell");
	ck_assert_str_eq(u.email, "alice@example.com");
	ck_assert_str_eq(u.shell, "/bin/bash");
	ck_assert_int_gt(u.last_login, 0);
	/* valid, non-local names only, lower-cased, once each */
	ck_assert_str_eq(g, "analysts data-science ");

	/* published: the passwd line resolves at once */
	ck_assert_int_ge(asprintf(&nss, "%s/" PWB_SNAP_DIR, ts.cfg.db_dir), 0);
	line = test_snapshot_get(nss, 0, PWB_SNAP_KEY_PASSWD_NAME "alice");
	ck_assert_ptr_nonnull(line);
	snprintf(want, sizeof(want), "alice:x:%u:%u:Alice Liddell:%s/home/alice:/bin/bash", u.uid,
		 u.gid, ts.dir);
	ck_assert_str_eq(line, want);
	free(line);
	free(nss);
	pwb_user_clear(&u);
	pwb_claims_free(c);
}
END_TEST

START_TEST(repeat_login_keeps_uid_and_syncs_groups)
{
	static const char *const first[] = {"analysts", "data-science", NULL};
	static const char *const second[] = {"analysts", "ops", NULL};
	struct pwb_claims *c1 = claims_for("alice", NULL, NULL, first);
	struct pwb_claims *c2 = claims_for("alice", NULL, NULL, second);
	struct pwb_account_outcome o1, o2, o3;
	struct pwb_user u = {0};
	char g[512];

	o1 = check(ts.st, "alice", c1);
	ck_assert_int_eq(o1.result, PWB_ACCOUNT_REGISTERED);
	o2 = check(ts.st, "alice", c2);
	ck_assert_int_eq(o2.result, PWB_ACCOUNT_ACTIVE);
	ck_assert_uint_eq(o2.uid, o1.uid);
	ck_assert_uint_eq(o2.groups_added, 1);
	ck_assert_uint_eq(o2.groups_removed, 1);
	ck_assert_int_eq(get_user("alice", &u, g), 0);
	ck_assert_str_eq(g, "analysts ops ");
	pwb_user_clear(&u);

	/* without claims (another module authenticated): accepted, groups kept */
	o3 = check(ts.st, "alice", NULL);
	ck_assert_int_eq(o3.result, PWB_ACCOUNT_ACTIVE);
	ck_assert_uint_eq(o3.groups_added + o3.groups_removed, 0);
	ck_assert_int_eq(get_user("alice", &u, g), 0);
	ck_assert_str_eq(g, "analysts ops ");
	pwb_user_clear(&u);
	pwb_claims_free(c1);
	pwb_claims_free(c2);
}
END_TEST

/* Cluster mode with the database down: the write gate of the link
 * (lib/store/cluster.h) refuses every write with gate_code. */
static int gate_code;
static struct pwb_store fake_cluster; /* never reached: the gate refuses first */

static int gate(void *ctx, uint64_t seq, struct pwb_error *err)
{
	(void)ctx;
	(void)seq;
	return pwb_error_set(err, gate_code,
			     gate_code == PWB_EPERM ? "this host is a cluster reader"
						    : "cannot reach the cluster database at "
						      "db.example:5432");
}

#define CLUSTER_ON JIT_ON "store-backend=postgresql\nstore-dsn=host=db.example dbname=pwb\n"

/* A known user whose groups claim changed signs in from the replica, with
 * nothing written (the group change deferred); a new user is not
 * registered, with an error naming the user and the database; a host that
 * is not in cluster mode gets the write's error as it is. */
START_TEST(database_down_known_user_signs_in_new_user_fails)
{
	static const char *const first[] = {"analysts", NULL};
	static const char *const second[] = {"analysts", "ops", NULL};
	struct pwb_claims *c1 = claims_for("alice", NULL, NULL, first);
	struct pwb_claims *c2 = claims_for("alice", NULL, NULL, second);
	struct pwb_claims *cb = claims_for("bob", NULL, NULL, first);
	struct pwb_account_outcome o;
	struct pwb_error err = {0};
	struct pwb_user u = {0};
	char g[512];

	/* a writer with the database down, a reader (never writes), one host */
	static const char *const configs[] = {CLUSTER_ON, CLUSTER_ON "cluster-role=reader\n",
					      JIT_ON};

	test_store_setup(&ts, 20000, 29999, configs[_i]);
	ck_assert_int_eq(check(ts.st, "alice", c1).result, PWB_ACCOUNT_REGISTERED);
	gate_code = _i == 1 ? PWB_EPERM : PWB_EUNAVAIL;
	pwb_store_link_writer(ts.st, &fake_cluster, gate, NULL);
	if (_i == 2) {
		/* one host: no replica to fall back on */
		ck_assert_int_eq(pwb_account_check(ts.st, "alice", c2, &o, &err), PWB_EUNAVAIL);
	} else {
		o = check(ts.st, "alice", c2);
		ck_assert_int_eq(o.result, PWB_ACCOUNT_ACTIVE);
		ck_assert(o.from_replica);
		ck_assert(o.groups_deferred);
		ck_assert_uint_eq(o.groups_added + o.groups_removed, 0);
		ck_assert_int_eq(get_user("alice", &u, g), 0);
		ck_assert_str_eq(g, "analysts ");
		pwb_user_clear(&u);
		ck_assert_int_eq(pwb_account_check(ts.st, "bob", cb, &o, &err), PWB_EUNAVAIL);
		ck_assert_ptr_nonnull(strstr(err.msg, "cannot register new user bob"));
		ck_assert_ptr_nonnull(
		    strstr(err.msg, _i == 1 ? "cluster reader" : "cluster database"));
		ck_assert_int_eq(get_user("bob", &u, NULL), PWB_ENOTFOUND);
		pwb_user_clear(&u);
	}
	pwb_store_link_writer(ts.st, NULL, NULL, NULL);
	pwb_claims_free(c1);
	pwb_claims_free(c2);
	pwb_claims_free(cb);
	test_store_teardown(&ts);
}
END_TEST

START_TEST(unknown_without_claims_is_not_registered)
{
	struct pwb_account_outcome o;
	struct pwb_user u = {0};

	o = check(ts.st, "zoe", NULL);
	ck_assert_int_eq(o.result, PWB_ACCOUNT_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(o.why, "no claims"));
	ck_assert_int_eq(get_user("zoe", &u, NULL), PWB_ENOTFOUND);
	pwb_user_clear(&u);
}
END_TEST

START_TEST(switches_off_refuse_registration)
{
	static const struct {
		const char *extra, *why;
	} cases[] = {
	    {"user-provisioning-enabled=0\nuser-provisioning-register-on-first-login=1\n",
	     "user-provisioning-enabled is off"},
	    {"user-provisioning-enabled=1\nuser-provisioning-register-on-first-login=0\n",
	     "user-provisioning-register-on-first-login is off"},
	};
	struct pwb_claims *c = claims_for("nina", NULL, NULL, NULL);
	struct pwb_account_outcome o;
	struct pwb_user u = {0};

	test_store_setup(&ts, 20000, 29999, cases[_i].extra);
	o = check(ts.st, "nina", c);
	ck_assert_int_eq(o.result, PWB_ACCOUNT_UNKNOWN);
	ck_assert_str_eq(o.why, cases[_i].why);
	ck_assert_int_eq(get_user("nina", &u, NULL), PWB_ENOTFOUND);
	pwb_user_clear(&u);
	pwb_claims_free(c);
	test_store_teardown(&ts);
}
END_TEST

START_TEST(locked_user_is_refused_and_not_synced)
{
	static const char *const groups[] = {"analysts", NULL};
	struct pwb_claims *c = claims_for("bob", NULL, NULL, groups);
	struct pwb_account_outcome o;
	struct pwb_error err = {0};
	struct pwb_user u = {0};
	char g[512];
	uint32_t uid;

	uid = test_add_user(ts.st, "bob");
	ck_assert_int_eq(pwb_store_write(ts.st, set_active_fn, (void *)"bob", &err), 0);
	o = check(ts.st, "bob", c);
	ck_assert_int_eq(o.result, PWB_ACCOUNT_LOCKED);
	ck_assert_uint_eq(o.uid, uid);
	ck_assert_int_eq(get_user("bob", &u, g), 0);
	ck_assert_str_eq(g, "");
	ck_assert_int_eq(u.last_login, 0);
	pwb_user_clear(&u);
	pwb_claims_free(c);
}
END_TEST

/* Users created by SCIM or pwbadm keep the groups those assign. */
START_TEST(non_jit_users_groups_are_not_synced)
{
	static const char *const groups[] = {"analysts", NULL};
	struct pwb_claims *c = claims_for("carl", NULL, NULL, groups);
	struct pwb_account_outcome o;
	struct pwb_user u = {0};
	char g[512];

	test_add_user(ts.st, "carl"); /* source: manual */
	o = check(ts.st, "carl", c);
	ck_assert_int_eq(o.result, PWB_ACCOUNT_ACTIVE);
	ck_assert_int_eq(get_user("carl", &u, g), 0);
	ck_assert_str_eq(g, "");
	ck_assert_int_gt(u.last_login, 0);
	pwb_user_clear(&u);
	pwb_claims_free(c);
}
END_TEST

/* root and daemon are local accounts: never registered, with or without
 * claims. */
START_TEST(local_names_are_never_registered)
{
	struct pwb_claims *c = claims_for("daemon", NULL, NULL, NULL);
	struct pwb_account_outcome o;
	struct pwb_user u = {0};

	o = check(ts.st, "daemon", c);
	ck_assert_int_eq(o.result, PWB_ACCOUNT_LOCAL);
	o = check(ts.st, "root", NULL);
	ck_assert_int_eq(o.result, PWB_ACCOUNT_LOCAL);
	ck_assert_int_eq(get_user("daemon", &u, NULL), PWB_ENOTFOUND);
	pwb_user_clear(&u);
	pwb_claims_free(c);
}
END_TEST

START_TEST(claims_for_someone_else_or_bad_names_are_errors)
{
	struct pwb_claims *c = claims_for("mallory", NULL, NULL, NULL);
	struct pwb_account_outcome o;
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_account_check(ts.st, "alice", c, &o, &err), PWB_EINVAL);
	ck_assert_int_eq(pwb_account_check(ts.st, "../etc", NULL, &o, &err), PWB_EINVAL);
	pwb_claims_free(c);
}
END_TEST

/* Claim text ends up in a passwd line: no ':' or control characters. */
START_TEST(gecos_is_made_passwd_safe)
{
	struct pwb_claims *c = claims_for("eve", "Eve:Evil\nroot::0:0", "e@x\n", NULL);
	struct pwb_user u = {0};

	ck_assert_int_eq(check(ts.st, "eve", c).result, PWB_ACCOUNT_REGISTERED);
	ck_assert_int_eq(get_user("eve", &u, NULL), 0);
	ck_assert_str_eq(u.gecos, "Eve Evil root  0 0");
	ck_assert_str_eq(u.email, "e@x ");
	pwb_user_clear(&u);
	pwb_claims_free(c);
}
END_TEST

struct bind_req {
	const char *name, *issuer, *subject;
};

static int bind_fn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct bind_req *q = vctx;
	struct pwb_user u = {0};
	int r;

	r = pwb_user_get_by_name(txn, q->name, &u, err);
	if (r == 0)
		r = pwb_user_bind(txn, u.id, q->issuer, q->subject, err);
	pwb_user_clear(&u);
	return r;
}

static void bind_user(const char *name, const char *issuer, const char *subject)
{
	struct bind_req q = {name, issuer, subject};
	struct pwb_error err = {0};

	ck_assert_msg(pwb_store_write(ts.st, bind_fn, &q, &err) == 0, "%s", err.msg);
}

static struct pwb_claims *claims_sub(const char *user, const char *issuer, const char *subject)
{
	struct pwb_claims *c = claims_for(user, NULL, NULL, NULL);

	free(c->issuer);
	free(c->subject);
	c->issuer = issuer ? strdup(issuer) : NULL;
	c->subject = subject ? strdup(subject) : NULL;
	return c;
}

/* alice@corp (sub A) registers alice; another identity (sub B, or another
 * issuer) whose name also maps to alice is refused, naming both. */
START_TEST(registration_binds_and_other_identity_is_refused)
{
	struct pwb_claims *a = claims_sub("alice", ISSUER, "A");
	struct pwb_claims *b = claims_sub("alice", ISSUER, "B");
	struct pwb_claims *i = claims_sub("alice", "https://other.example", "A");
	struct pwb_claims *none = claims_sub("alice", ISSUER, NULL);
	struct pwb_account_outcome o;
	struct pwb_user u = {0};
	int64_t last;

	o = check(ts.st, "alice", a);
	ck_assert_int_eq(o.result, PWB_ACCOUNT_REGISTERED);
	ck_assert_str_eq(o.detail, "issuer 'https://idp.example' subject 'A'");
	ck_assert_int_eq(get_user("alice", &u, NULL), 0);
	ck_assert_str_eq(u.issuer, ISSUER);
	ck_assert_str_eq(u.subject, "A");
	ck_assert(!u.bind_on_login);
	last = u.last_login;
	pwb_user_clear(&u);

	o = check(ts.st, "alice", b);
	ck_assert_int_eq(o.result, PWB_ACCOUNT_OTHER_IDENTITY);
	ck_assert_uint_gt(o.uid, 0);
	ck_assert_str_eq(o.detail, "the account is bound to issuer 'https://idp.example' subject "
				   "'A', but the ID token is from issuer 'https://idp.example' "
				   "subject 'B'");
	o = check(ts.st, "alice", i);
	ck_assert_int_eq(o.result, PWB_ACCOUNT_OTHER_IDENTITY);
	ck_assert_ptr_nonnull(strstr(o.detail, "from issuer 'https://other.example' subject 'A'"));
	o = check(ts.st, "alice", none);
	ck_assert_int_eq(o.result, PWB_ACCOUNT_OTHER_IDENTITY);
	ck_assert_ptr_nonnull(strstr(o.detail, "subject '(none)'"));
	/* nothing was written by the refusals */
	ck_assert_int_eq(get_user("alice", &u, NULL), 0);
	ck_assert_str_eq(u.subject, "A");
	ck_assert_int_eq(u.last_login, last);
	pwb_user_clear(&u);
	/* the right identity still signs in; no claims: no identity check */
	ck_assert_int_eq(check(ts.st, "alice", a).result, PWB_ACCOUNT_ACTIVE);
	ck_assert_int_eq(check(ts.st, "alice", NULL).result, PWB_ACCOUNT_ACTIVE);
	pwb_claims_free(a);
	pwb_claims_free(b);
	pwb_claims_free(i);
	pwb_claims_free(none);
}
END_TEST

/* An identity bound to one account never registers or binds another. */
START_TEST(subject_of_another_account_is_refused)
{
	struct pwb_claims *a = claims_sub("alice", ISSUER, "A");
	struct pwb_claims *a_as_bob = claims_sub("bob", ISSUER, "A");
	struct pwb_claims *a_as_carl = claims_sub("carl", ISSUER, "A");
	struct pwb_account_outcome o;
	struct pwb_user u = {0};

	ck_assert_int_eq(check(ts.st, "alice", a).result, PWB_ACCOUNT_REGISTERED);
	o = check(ts.st, "bob", a_as_bob);
	ck_assert_int_eq(o.result, PWB_ACCOUNT_SUBJECT_TAKEN);
	ck_assert_str_eq(o.detail, "issuer 'https://idp.example' subject 'A' is already bound to "
				   "the account alice");
	ck_assert_int_eq(get_user("bob", &u, NULL), PWB_ENOTFOUND);
	test_add_user(ts.st, "carl"); /* unbound, bind_on_login */
	o = check(ts.st, "carl", a_as_carl);
	ck_assert_int_eq(o.result, PWB_ACCOUNT_SUBJECT_TAKEN);
	ck_assert_int_eq(get_user("carl", &u, NULL), 0);
	ck_assert_ptr_null(u.subject);
	ck_assert(u.bind_on_login);
	pwb_user_clear(&u);
	pwb_claims_free(a);
	pwb_claims_free(a_as_bob);
	pwb_claims_free(a_as_carl);
}
END_TEST

/* Created by SCIM or pwbadm (unbound, bind_on_login): the first sign-in
 * binds, a later different identity is refused; an administrator's unbind
 * lets the next one bind again. */
START_TEST(created_unbound_binds_at_first_sign_in)
{
	struct pwb_claims *a = claims_sub("dora", ISSUER, "A");
	struct pwb_claims *b = claims_sub("dora", ISSUER, "B");
	struct pwb_account_outcome o;
	struct pwb_user u = {0};

	test_add_user(ts.st, "dora");
	ck_assert_int_eq(get_user("dora", &u, NULL), 0);
	ck_assert(u.bind_on_login);
	ck_assert_ptr_null(u.issuer);
	pwb_user_clear(&u);
	o = check(ts.st, "dora", a);
	ck_assert_int_eq(o.result, PWB_ACCOUNT_ACTIVE);
	ck_assert(o.bound);
	ck_assert_str_eq(o.detail, "issuer 'https://idp.example' subject 'A'");
	ck_assert_int_eq(get_user("dora", &u, NULL), 0);
	ck_assert_str_eq(u.subject, "A");
	ck_assert(!u.bind_on_login);
	ck_assert_int_gt(u.last_login, 0);
	pwb_user_clear(&u);
	o = check(ts.st, "dora", a);
	ck_assert_int_eq(o.result, PWB_ACCOUNT_ACTIVE);
	ck_assert(!o.bound);
	ck_assert_int_eq(check(ts.st, "dora", b).result, PWB_ACCOUNT_OTHER_IDENTITY);

	bind_user("dora", NULL, NULL); /* pwbadm rebind-user */
	o = check(ts.st, "dora", b);
	ck_assert_int_eq(o.result, PWB_ACCOUNT_ACTIVE);
	ck_assert(o.bound);
	ck_assert_int_eq(check(ts.st, "dora", a).result, PWB_ACCOUNT_OTHER_IDENTITY);
	pwb_claims_free(a);
	pwb_claims_free(b);
}
END_TEST

/* Rewrites a user's record as this version's predecessor wrote it:
 * unbound and without bindOnLogin (no API call produces that state). */
static int make_legacy_fn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct pwb_user u = {0};
	char *text;
	int r;

	r = pwb_user_get_by_name(txn, vctx, &u, err);
	if (r == 0) {
		u.bind_on_login = false;
		text = pwb_user_encode(&u);
		ck_assert_ptr_nonnull(text);
		r = pwb_kv_put(txn, DBI_USERS, u.id, PWB_ID_LEN, text, strlen(text), err);
		free(text);
	}
	pwb_user_clear(&u);
	return r;
}

/* Users from before identities were stored: unbound, bind_on_login off.
 * Refused unless auth-openid-bind-existing-users or
 * auth-openid-username-domains allows binding at sign-in. */
START_TEST(legacy_unbound_user_needs_the_config)
{
	static const char *const cases[] = {"", "auth-openid-bind-existing-users=1\n",
					    "auth-openid-username-domains=corp.example\n"};
	struct pwb_claims *a = claims_sub("lena", ISSUER, "A");
	struct pwb_account_outcome o;
	struct pwb_error err = {0};
	char extra[256];

	snprintf(extra, sizeof(extra), JIT_ON "%s", cases[_i]);
	test_store_setup(&ts, 20000, 29999, extra);
	test_add_user(ts.st, "lena");
	ck_assert_int_eq(pwb_store_write(ts.st, make_legacy_fn, (void *)"lena", &err), 0);
	o = check(ts.st, "lena", a);
	if (_i == 0) {
		ck_assert_int_eq(o.result, PWB_ACCOUNT_UNBOUND);
		ck_assert_ptr_nonnull(strstr(o.detail, "run `pwbadm rebind-user lena`, or set "
						       "auth-openid-bind-existing-users=1"));
		ck_assert_ptr_nonnull(
		    strstr(o.detail, "from issuer 'https://idp.example' subject 'A'"));
	} else {
		ck_assert_int_eq(o.result, PWB_ACCOUNT_ACTIVE);
		ck_assert(o.bound);
	}
	pwb_claims_free(a);
	test_store_teardown(&ts);
}
END_TEST

/* Separate processes, each with its own store handle, register different
 * users at once: every one gets its own uid. */
/* Concurrent first sign-ins are pwbd's to serialise now (the store has one
 * opener; pam_mkhome_jit.sh signs 20 in at once through pwbd): a second
 * opener is refused, and first sign-ins one after another on the one
 * handle get distinct uids, all in the claimed group. */
START_TEST(first_logins_on_the_one_opener_get_distinct_uids)
{
	enum {
		N = 12
	};
	static const char *const groups[] = {"crowd", NULL};
	struct pwb_config cfg = {0};
	struct pwb_error err = {0};
	struct pwb_store *other = NULL;
	uint32_t uids[N];
	int i, j;

	ck_assert_int_eq(pwb_config_load(ts.conf_path, false, &cfg, &err), 0);
	ck_assert_int_eq(pwb_store_open(&cfg, &other, &err), PWB_EBUSY);
	ck_assert_ptr_null(other);
	pwb_config_free(&cfg);
	for (i = 0; i < N; i++) {
		struct pwb_claims *c;
		char name[16];

		snprintf(name, sizeof(name), "par%02d", i);
		c = claims_for(name, NULL, NULL, groups);
		ck_assert_int_eq(check(ts.st, name, c).result, PWB_ACCOUNT_REGISTERED);
		pwb_claims_free(c);
	}
	for (i = 0; i < N; i++) {
		struct pwb_user u = {0};
		char name[16], g[512];

		snprintf(name, sizeof(name), "par%02d", i);
		ck_assert_int_eq(get_user(name, &u, g), 0);
		ck_assert_str_eq(g, "crowd ");
		uids[i] = u.uid;
		pwb_user_clear(&u);
		for (j = 0; j < i; j++)
			ck_assert_uint_ne(uids[i], uids[j]);
	}
}
END_TEST

/* ---- provision.c: the shared group steps the decision relies on ---- */

struct prov_ctx {
	const char *user_id;
	const char *const *names;
	size_t n;
	bool create;
	unsigned added, removed, skipped;
	char skip_why[256];
	int ensure_r[4];
	bool created[4];
	uint32_t gid[2];
};

static void prov_skip(const char *name, const char *why, void *vctx)
{
	struct prov_ctx *c = vctx;

	c->skipped++;
	snprintf(c->skip_why, sizeof(c->skip_why), "%s: %s", name, why);
}

static int ensure_fn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	static const char *const names[] = {"devs", "devs", "daemon", "docker"};
	struct prov_ctx *c = vctx;
	size_t i;

	for (i = 0; i < 4; i++) {
		struct pwb_group g = {0};
		struct pwb_error gerr = {0};

		c->ensure_r[i] =
		    pwb_provision_group_ensure(txn, names[i], NULL, &g, &c->created[i], &gerr);
		if (i < 2)
			c->gid[i] = g.gid;
		pwb_group_clear(&g);
	}
	return 0;
}

START_TEST(provision_group_ensure_creates_once_and_refuses)
{
	struct prov_ctx c = {0};
	struct pwb_error err = {0};

	ck_assert_int_eq(pwb_store_write(ts.st, ensure_fn, &c, &err), 0);
	ck_assert_int_eq(c.ensure_r[0], 0);
	ck_assert(c.created[0]);
	ck_assert_int_eq(c.ensure_r[1], 0);
	ck_assert(!c.created[1]);
	ck_assert_uint_ne(c.gid[0], 0);
	ck_assert_uint_eq(c.gid[0], c.gid[1]);
	ck_assert_int_eq(c.ensure_r[2], PWB_ELOCAL); /* /etc/group has daemon */
	ck_assert_int_eq(c.ensure_r[3], PWB_EINVAL); /* deny-listed */
	ck_assert(!c.created[2] && !c.created[3]);
}
END_TEST

static int groups_set_fn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct prov_ctx *c = vctx;

	c->skipped = 0;
	return pwb_provision_user_groups_set(txn, c->user_id, c->names, c->n, c->create, prov_skip,
					     c, &c->added, &c->removed, err);
}

START_TEST(provision_user_groups_set_is_exact)
{
	static const char *const first[] = {"ops", "devs", "ops", "docker"};
	static const char *const second[] = {"devs", "qa"};
	struct prov_ctx c = {0};
	struct pwb_error err = {0};
	struct pwb_user u = {0};
	char groups[512];

	test_add_user(ts.st, "carol");
	ck_assert_int_eq(get_user("carol", &u, NULL), 0);
	c.user_id = u.id;
	c.names = first;
	c.n = 4;
	c.create = true;
	ck_assert_msg(pwb_store_write(ts.st, groups_set_fn, &c, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(c.added, 2);
	ck_assert_uint_eq(c.removed, 0);
	ck_assert_uint_eq(c.skipped, 1);
	ck_assert_msg(strstr(c.skip_why, "docker: ") != NULL, "%s", c.skip_why);
	ck_assert_int_eq(get_user("carol", &u, groups), 0);
	ck_assert_str_eq(groups, "devs ops ");

	/* Without create_missing a group that does not exist is skipped, and
	 * what is not listed is removed. */
	c.names = second;
	c.n = 2;
	c.create = false;
	ck_assert_msg(pwb_store_write(ts.st, groups_set_fn, &c, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(c.added, 0);
	ck_assert_uint_eq(c.removed, 1);
	ck_assert_uint_eq(c.skipped, 1);
	ck_assert_msg(strstr(c.skip_why, "qa: ") != NULL, "%s", c.skip_why);
	ck_assert_int_eq(get_user("carol", &u, groups), 0);
	ck_assert_str_eq(groups, "devs ");

	/* The empty set removes every membership. */
	c.n = 0;
	ck_assert_msg(pwb_store_write(ts.st, groups_set_fn, &c, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(c.removed, 1);
	ck_assert_int_eq(get_user("carol", &u, groups), 0);
	ck_assert_str_eq(groups, "");
	pwb_user_clear(&u);
}
END_TEST

/* ---- op_account.c: the ops pwbd runs, and what the change log records ---- */

struct log_ctx {
	const char *request_id;
	unsigned n, jit;
	char service[64], rhost[64];
};

static int log_cb(const struct pwb_change_entry *e, void *vctx)
{
	struct log_ctx *c = vctx;

	if (strcmp(e->request_id, c->request_id) != 0)
		return 0;
	c->n++;
	if (!strcmp(e->actor.kind, "jit"))
		c->jit++;
	snprintf(c->service, sizeof(c->service), "%s", e->actor.service);
	snprintf(c->rhost, sizeof(c->rhost), "%s", e->actor.rhost);
	return 0;
}

static int log_read(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	uint64_t last;

	return pwb_change_foreach(txn, 0, 100000, log_cb, vctx, &last, err);
}

/* Runs op (from pwbd_ops_account) as dispatch.c would for a root caller:
 * the code, *result on success, the message in err. */
static int run_op(const char *op, const char *id, const char *args_json, json_t **result,
		  struct pwb_error *err)
{
	struct pwb_rpc_request req = {0};
	struct pwbd_call call = {0};
	const struct pwbd_op *o;
	int r;

	for (o = pwbd_ops_account; o->name && strcmp(o->name, op) != 0; o++)
		;
	ck_assert_ptr_nonnull(o->name);
	ck_assert(o->roles & PWBD_ROLE_ROOT);
	snprintf(req.op, sizeof(req.op), "%s", op);
	snprintf(req.id, sizeof(req.id), "%s", id);
	req.args = json_loads(args_json, 0, NULL);
	ck_assert_ptr_nonnull(req.args);
	call.st = ts.st;
	call.cfg = pwb_store_config(ts.st);
	call.role = PWBD_ROLE_ROOT;
	call.req = &req;
	snprintf(call.actor.kind, sizeof(call.actor.kind), "root");
	*result = NULL;
	r = o->fn(&call, result, err);
	pwb_store_set_request(ts.st, NULL, NULL);
	json_decref(req.args);
	return r;
}

START_TEST(signin_op_registers_and_logs_the_jit_actor)
{
	struct pwb_error err = {0};
	struct log_ctx lc = {.request_id = "req-jit-1"};
	json_t *res = NULL;

	ck_assert_msg(run_op("account.signin", "req-jit-1",
			     "{\"user\":\"olga\",\"service\":\"sshd\",\"rhost\":\"192.0.2.1\","
			     "\"claims\":{\"username\":\"olga\",\"issuer\":\"" ISSUER "\","
			     "\"subject\":\"sub-olga\",\"groups\":[\"ops\"]}}",
			     &res, &err) == 0,
		      "%s", err.msg);
	ck_assert_str_eq(json_string_value(json_object_get(res, "result")), "registered");
	ck_assert_int_ge(json_integer_value(json_object_get(res, "uid")), 20000);
	ck_assert_int_eq(json_integer_value(json_object_get(res, "groups_added")), 1);
	json_decref(res);
	ck_assert_int_eq(pwb_store_read(ts.st, log_read, &lc, &err), 0);
	ck_assert_uint_gt(lc.n, 0);
	ck_assert_uint_eq(lc.jit, lc.n); /* every change of the request */
	ck_assert_str_eq(lc.service, "sshd");
	ck_assert_str_eq(lc.rhost, "192.0.2.1");

	/* A known user without claims: active, and the sign-in time logged
	 * under the next request. */
	ck_assert_int_eq(run_op("account.signin", "req-jit-2", "{\"user\":\"olga\"}", &res, &err),
			 0);
	ck_assert_str_eq(json_string_value(json_object_get(res, "result")), "active");
	json_decref(res);
}
END_TEST

START_TEST(signin_op_refuses_malformed_args)
{
	static const char *const bad[] = {
	    "{}",
	    "{\"user\":\"olga\",\"admin\":true}",
	    "{\"user\":\"../x\"}",
	    "{\"user\":\"olga\",\"claims\":{\"username\":\"eve\",\"issuer\":\"i\",\"subject\":"
	    "\"s\"}}",
	    "{\"user\":\"olga\",\"claims\":{\"username\":\"olga\",\"issuer\":\"i\"}}",
	    "{\"user\":\"olga\",\"claims\":{\"username\":\"olga\",\"issuer\":\"i\",\"subject\":"
	    "\"s\",\"groups\":[1]}}",
	    "{\"user\":\"olga\",\"claims\":[]}",
	    "{\"user\":\"olga\",\"service\":7}",
	};
	struct pwb_error err = {0};
	json_t *res = NULL;
	size_t i;

	for (i = 0; i < PWB_ARRAY_SIZE(bad); i++) {
		ck_assert_msg(run_op("account.signin", "req-bad", bad[i], &res, &err) == PWB_EINVAL,
			      "accepted: %s", bad[i]);
		ck_assert_ptr_null(res);
	}
	ck_assert_int_eq(get_user("olga", &(struct pwb_user){0}, NULL), PWB_ENOTFOUND);
	/* signin_token without a token, or with garbage, registers nobody. */
	ck_assert_int_eq(run_op("account.signin_token", "req-tok", "{}", &res, &err), PWB_EINVAL);
	ck_assert_int_lt(
	    run_op("account.signin_token", "req-tok", "{\"token\":\"x.y.z\"}", &res, &err), 0);
	ck_assert_ptr_null(res);
}
END_TEST

/* pwb_account_session_status: active with groups, then gone for another
 * uid, another identity or an unknown name, and locked when locked. */
START_TEST(session_status_states)
{
	const char *const groups[] = {"ops", "data", NULL};
	struct pwb_claims *c = claims_for("sara", NULL, NULL, groups);
	struct pwb_account_outcome o = check(ts.st, "sara", c);
	struct pwb_session_status st = {0};
	struct pwb_error err = {0};
	uint32_t uid = o.uid, other = o.uid + 1;

	ck_assert_int_eq(o.result, PWB_ACCOUNT_REGISTERED);
	ck_assert_int_eq(
	    pwb_account_session_status(ts.st, "sara", &uid, ISSUER, "sub-sara", &st, &err), 0);
	ck_assert_int_eq(st.state, PWB_SESSION_ACTIVE);
	ck_assert_str_eq(pwb_session_state_name(st.state), "active");
	ck_assert_uint_eq(st.uid, uid);
	ck_assert_uint_eq(st.gid, uid); /* private group */
	ck_assert_ptr_nonnull(st.home);
	ck_assert_ptr_nonnull(strstr(st.home, "/sara"));
	ck_assert_uint_eq(json_array_size(st.groups), 2);
	pwb_session_status_clear(&st);
	/* uid NULL: any uid */
	ck_assert_int_eq(
	    pwb_account_session_status(ts.st, "sara", NULL, ISSUER, "sub-sara", &st, &err), 0);
	ck_assert_int_eq(st.state, PWB_SESSION_ACTIVE);
	pwb_session_status_clear(&st);
	ck_assert_int_eq(
	    pwb_account_session_status(ts.st, "sara", &other, ISSUER, "sub-sara", &st, &err), 0);
	ck_assert_int_eq(st.state, PWB_SESSION_GONE);
	ck_assert_ptr_null(st.home);
	pwb_session_status_clear(&st);
	ck_assert_int_eq(
	    pwb_account_session_status(ts.st, "sara", &uid, ISSUER, "sub-other", &st, &err), 0);
	ck_assert_int_eq(st.state, PWB_SESSION_GONE);
	pwb_session_status_clear(&st);
	ck_assert_int_eq(
	    pwb_account_session_status(ts.st, "sara", &uid, ISSUER "/other", "sub-sara", &st, &err),
	    0);
	ck_assert_int_eq(st.state, PWB_SESSION_GONE);
	pwb_session_status_clear(&st);
	ck_assert_int_eq(
	    pwb_account_session_status(ts.st, "nosuch", NULL, ISSUER, "sub-sara", &st, &err), 0);
	ck_assert_int_eq(st.state, PWB_SESSION_GONE);
	pwb_session_status_clear(&st);
	ck_assert_int_eq(pwb_account_session_status(ts.st, "../x", NULL, ISSUER, "s", &st, &err),
			 PWB_EINVAL);
	ck_assert_int_eq(pwb_store_write(ts.st, set_active_fn, (void *)"sara", &err), 0);
	ck_assert_int_eq(
	    pwb_account_session_status(ts.st, "sara", &uid, ISSUER, "sub-sara", &st, &err), 0);
	ck_assert_int_eq(st.state, PWB_SESSION_LOCKED);
	ck_assert_str_eq(pwb_session_state_name(st.state), "locked");
	pwb_session_status_clear(&st);
	pwb_claims_free(c);
}
END_TEST

/* The ops: account.session_status answers on the wire; both new ops
 * refuse malformed or caller-chosen arguments. */
START_TEST(session_status_and_home_ops)
{
	static const char *const bad_status[] = {
	    "{}",
	    "{\"user\":\"sara\",\"uid\":1,\"issuer\":\"i\"}",
	    "{\"user\":\"sara\",\"uid\":\"1\",\"issuer\":\"i\",\"subject\":\"s\"}",
	    "{\"user\":\"sara\",\"uid\":-1,\"issuer\":\"i\",\"subject\":\"s\"}",
	    "{\"user\":\"sara\",\"uid\":4294967296,\"issuer\":\"i\",\"subject\":\"s\"}",
	    "{\"user\":\"../x\",\"uid\":1,\"issuer\":\"i\",\"subject\":\"s\"}",
	    "{\"user\":\"sara\",\"uid\":1,\"issuer\":\"i\",\"subject\":\"s\",\"x\":1}",
	};
	static const char *const bad_home[] = {
	    "{}",
	    "{\"token\":\"x.y.z\",\"home\":\"/tmp\"}",
	    "{\"token\":\"x.y.z\",\"umask\":\"0\"}",
	    "{\"token\":\"x.y.z\",\"user\":\"root\"}",
	    "{\"token\":\"x.y.z\",\"nonce\":7}",
	};
	struct pwb_claims *c = claims_for("tara", NULL, NULL, NULL);
	struct pwb_account_outcome o = check(ts.st, "tara", c);
	struct pwb_error err = {0};
	json_t *res = NULL;
	char *args = NULL;
	size_t i;

	ck_assert_int_ge(asprintf(&args,
				  "{\"user\":\"tara\",\"uid\":%u,\"issuer\":\"" ISSUER
				  "\",\"subject\":\"sub-tara\"}",
				  o.uid),
			 0);
	ck_assert_msg(run_op("account.session_status", "req-st", args, &res, &err) == 0, "%s",
		      err.msg);
	ck_assert_str_eq(json_string_value(json_object_get(res, "state")), "active");
	ck_assert_int_eq(json_integer_value(json_object_get(res, "uid")), o.uid);
	ck_assert(json_is_array(json_object_get(res, "groups")));
	ck_assert(json_is_string(json_object_get(res, "home")));
	json_decref(res);
	free(args);
	ck_assert_int_ge(asprintf(&args,
				  "{\"user\":\"tara\",\"uid\":%u,\"issuer\":\"" ISSUER
				  "\",\"subject\":\"sub-else\"}",
				  o.uid),
			 0);
	ck_assert_int_eq(run_op("account.session_status", "req-st", args, &res, &err), 0);
	ck_assert_str_eq(json_string_value(json_object_get(res, "state")), "gone");
	ck_assert_ptr_null(json_object_get(res, "home"));
	json_decref(res);
	free(args);
	for (i = 0; i < PWB_ARRAY_SIZE(bad_status); i++) {
		ck_assert_msg(run_op("account.session_status", "req-bad", bad_status[i], &res,
				     &err) == PWB_EINVAL,
			      "accepted: %s", bad_status[i]);
		ck_assert_ptr_null(res);
	}
	for (i = 0; i < PWB_ARRAY_SIZE(bad_home); i++) {
		ck_assert_msg(run_op("account.home", "req-bad", bad_home[i], &res, &err) ==
				  PWB_EINVAL,
			      "accepted: %s", bad_home[i]);
		ck_assert_ptr_null(res);
	}
	/* garbage as a token: refused before any home is looked at */
	ck_assert_int_lt(run_op("account.home", "req-home", "{\"token\":\"x.y.z\"}", &res, &err),
			 0);
	ck_assert_ptr_null(res);
	pwb_claims_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("account");
	TCase *tc = tcase_create("account");
	TCase *plain = tcase_create("switches");
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		printf("1..0 # SKIP account tests need root (store owner switching)\n");
		return EXIT_SUCCESS;
	}
	tcase_add_checked_fixture(tc, setup_jit, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, first_login_registers_with_claims);
	tcase_add_test(tc, repeat_login_keeps_uid_and_syncs_groups);
	tcase_add_test(tc, unknown_without_claims_is_not_registered);
	tcase_add_test(tc, locked_user_is_refused_and_not_synced);
	tcase_add_test(tc, non_jit_users_groups_are_not_synced);
	tcase_add_test(tc, local_names_are_never_registered);
	tcase_add_test(tc, claims_for_someone_else_or_bad_names_are_errors);
	tcase_add_test(tc, gecos_is_made_passwd_safe);
	tcase_add_test(tc, first_logins_on_the_one_opener_get_distinct_uids);
	tcase_add_test(tc, registration_binds_and_other_identity_is_refused);
	tcase_add_test(tc, subject_of_another_account_is_refused);
	tcase_add_test(tc, created_unbound_binds_at_first_sign_in);
	tcase_add_test(tc, provision_group_ensure_creates_once_and_refuses);
	tcase_add_test(tc, provision_user_groups_set_is_exact);
	tcase_add_test(tc, signin_op_registers_and_logs_the_jit_actor);
	tcase_add_test(tc, signin_op_refuses_malformed_args);
	tcase_add_test(tc, session_status_states);
	tcase_add_test(tc, session_status_and_home_ops);
	tcase_add_loop_test(plain, switches_off_refuse_registration, 0, 2);
	tcase_add_loop_test(plain, database_down_known_user_signs_in_new_user_fails, 0, 3);
	tcase_add_loop_test(plain, legacy_unbound_user_needs_the_config, 0, 3);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, plain);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
