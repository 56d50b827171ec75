/* Test tool for pam_pwb_mkhome's integration tests: creates, locks, renames
 * and shows users and groups through the real store API (no mock), so the
 * tests can set up and check the store independently of the module and
 * of NSS. Two commands write a record raw, past the store's policy, to make
 * what an older version or a tampered store holds: make-legacy (unbound,
 * without bindOnLogin) and set-home (any path). It opens the store, so pwbd
 * must be stopped (tests/lib/mkhome.sh's mkhome_tool does that). Reads
 * $PWB_CONFIG. Exit 0
 * ok, 2 not found, 1 other error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "log.h"
#include "publish.h"
#include "store.h"
#include "internal/store_internal.h"

struct req {
	const char *cmd;
	const char *name;
	const char *arg;
	uint32_t uid; /* out */
};

static int user_add(struct pwb_txn *txn, struct req *q, struct pwb_error *err)
{
	struct pwb_user u = {0};
	int r;

	snprintf(u.name, sizeof(u.name), "%s", q->name);
	u.active = true;
	u.source = q->arg && !strcmp(q->arg, "jit") ? PWB_SOURCE_JIT : PWB_SOURCE_MANUAL;
	r = pwb_user_create(txn, &u, err);
	q->uid = u.uid;
	pwb_user_clear(&u);
	return r;
}

static int user_set_active(struct pwb_txn *txn, struct req *q, bool active, struct pwb_error *err)
{
	struct pwb_user u = {0};
	int r;

	r = pwb_user_get_by_name(txn, q->name, &u, err);
	if (r == 0) {
		u.active = active;
		r = pwb_user_update(txn, &u, err);
	}
	pwb_user_clear(&u);
	return r;
}

static int user_rename(struct pwb_txn *txn, struct req *q, struct pwb_error *err)
{
	struct pwb_user u = {0};
	int r;

	r = pwb_user_get_by_name(txn, q->name, &u, err);
	if (r == 0) {
		snprintf(u.name, sizeof(u.name), "%s", q->arg);
		free(u.user_name);
		u.user_name = NULL;
		r = pwb_user_update(txn, &u, err);
	}
	pwb_user_clear(&u);
	return r;
}

/* Writes u's record as it is, and has the publisher re-render its passwd
 * line: no policy, no index change. */
static int put_raw(struct pwb_txn *txn, const struct pwb_user *u, struct pwb_error *err)
{
	struct pwb_change_entry change;
	char *text = pwb_user_encode(u);
	int r;

	if (!text)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	r = pwb_kv_put(txn, DBI_USERS, u->id, PWB_ID_LEN, text, strlen(text), err);
	free(text);
	pwb_change_init(&change, 'u', "update", u->id, u->name, PWB_CH_PASSWD);
	return r < 0 ? r : pwb_change_append(txn, &change, err);
}

static int user_make_legacy(struct pwb_txn *txn, struct req *q, struct pwb_error *err)
{
	struct pwb_user u = {0};
	int r;

	r = pwb_user_get_by_name(txn, q->name, &u, err);
	if (r == 0 && (u.issuer || u.subject))
		r = pwb_user_bind(txn, u.id, NULL, NULL, err);
	if (r == 0) {
		pwb_user_clear(&u);
		r = pwb_user_get_by_name(txn, q->name, &u, err);
	}
	if (r == 0) {
		u.bind_on_login = false;
		r = put_raw(txn, &u, err);
	}
	pwb_user_clear(&u);
	return r;
}

static int user_set_home(struct pwb_txn *txn, struct req *q, struct pwb_error *err)
{
	struct pwb_user u = {0};
	int r;

	r = pwb_user_get_by_name(txn, q->name, &u, err);
	if (r == 0) {
		free(u.home);
		u.home = strdup(q->arg);
		r = u.home ? put_raw(txn, &u, err) : -ENOMEM;
	}
	pwb_user_clear(&u);
	return r;
}

static int user_show(struct pwb_txn *txn, struct req *q, struct pwb_error *err)
{
	struct pwb_user u = {0};
	int r;

	r = pwb_user_get_by_name(txn, q->name, &u, err);
	if (r == 0)
		printf("name=%s\nuid=%u\ngid=%u\nactive=%d\nsource=%s\nhome=%s\nshell=%s\n"
		       "gecos=%s\nemail=%s\nlast_login=%lld\nissuer=%s\nsubject=%s\n"
		       "bind_on_login=%d\n",
		       u.name, u.uid, u.gid, u.active, pwb_user_source_name(u.source),
		       u.home ? u.home : "", u.shell ? u.shell : "", u.gecos ? u.gecos : "",
		       u.email ? u.email : "", (long long)u.last_login, u.issuer ? u.issuer : "",
		       u.subject ? u.subject : "", u.bind_on_login);
	pwb_user_clear(&u);
	return r;
}

struct groups_ctx {
	struct pwb_txn *txn;
	struct pwb_error *err;
};

static int print_group(const char *id, void *vctx)
{
	struct groups_ctx *c = vctx;
	struct pwb_group g = {0};
	int r;

	r = pwb_group_get(c->txn, id, &g, c->err);
	if (r == 0)
		printf("%s\n", g.name);
	pwb_group_clear(&g);
	return r;
}

static int user_groups(struct pwb_txn *txn, struct req *q, struct pwb_error *err)
{
	struct groups_ctx c = {txn, err};
	struct pwb_user u = {0};
	int r;

	r = pwb_user_get_by_name(txn, q->name, &u, err);
	if (r == 0)
		r = pwb_member_foreach_group(txn, u.id, print_group, &c, err);
	pwb_user_clear(&u);
	return r;
}

static int group_show(struct pwb_txn *txn, struct req *q, struct pwb_error *err)
{
	struct pwb_group g = {0};
	int r;

	r = pwb_group_get_by_name(txn, q->name, &g, err);
	if (r == 0)
		printf("name=%s\ngid=%u\n", g.name, g.gid);
	pwb_group_clear(&g);
	return r;
}

static int group_add(struct pwb_txn *txn, struct req *q, struct pwb_error *err)
{
	struct pwb_group g = {0};
	int r;

	snprintf(g.name, sizeof(g.name), "%s", q->name);
	r = pwb_group_create(txn, &g, err);
	q->uid = g.gid;
	pwb_group_clear(&g);
	return r;
}

static int member_add(struct pwb_txn *txn, struct req *q, struct pwb_error *err)
{
	struct pwb_group g = {0};
	struct pwb_user u = {0};
	int r;

	r = pwb_group_get_by_name(txn, q->name, &g, err);
	if (r == 0)
		r = pwb_user_get_by_name(txn, q->arg, &u, err);
	if (r == 0)
		r = pwb_member_add(txn, g.id, u.id, err);
	pwb_group_clear(&g);
	pwb_user_clear(&u);
	return r;
}

static int count_users(struct pwb_txn *txn, struct req *q, struct pwb_error *err)
{
	uint64_t n = 0;
	int r = pwb_user_count(txn, &n, err);

	if (r == 0)
		printf("%llu\n", (unsigned long long)n);
	return r;
}

static int dispatch(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct req *q = vctx;

	if (!strcmp(q->cmd, "add"))
		return user_add(txn, q, err);
	if (!strcmp(q->cmd, "lock"))
		return user_set_active(txn, q, false, err);
	if (!strcmp(q->cmd, "unlock"))
		return user_set_active(txn, q, true, err);
	if (!strcmp(q->cmd, "rename"))
		return user_rename(txn, q, err);
	if (!strcmp(q->cmd, "make-legacy"))
		return user_make_legacy(txn, q, err);
	if (!strcmp(q->cmd, "set-home"))
		return user_set_home(txn, q, err);
	if (!strcmp(q->cmd, "show"))
		return user_show(txn, q, err);
	if (!strcmp(q->cmd, "groups"))
		return user_groups(txn, q, err);
	if (!strcmp(q->cmd, "show-group"))
		return group_show(txn, q, err);
	if (!strcmp(q->cmd, "add-group"))
		return group_add(txn, q, err);
	if (!strcmp(q->cmd, "add-member"))
		return member_add(txn, q, err);
	return count_users(txn, q, err);
}

static bool is_read_only(const char *cmd)
{
	return !strcmp(cmd, "show") || !strcmp(cmd, "groups") || !strcmp(cmd, "show-group") ||
	       !strcmp(cmd, "count");
}

static int usage(void)
{
	fprintf(stderr, "usage: mkhome_store_tool add NAME [jit|manual] | lock NAME | unlock NAME |"
			" rename NAME NEW | make-legacy NAME | set-home NAME PATH |"
			" show NAME | groups NAME | show-group NAME | add-group NAME |"
			" add-member GROUP USER | count\n");
	return 1;
}

int main(int argc, char **argv)
{
	struct req q = {0};
	struct pwb_config cfg = {0};
	struct pwb_error err = {0};
	struct pwb_store *st = NULL;
	int r;

	if (argc < 2 || (strcmp(argv[1], "count") && argc < 3))
		return usage();
	q.cmd = argv[1];
	q.name = argc > 2 ? argv[2] : NULL;
	q.arg = argc > 3 ? argv[3] : NULL;
	if ((!strcmp(q.cmd, "add-member") || !strcmp(q.cmd, "rename") ||
	     !strcmp(q.cmd, "set-home")) &&
	    !q.arg)
		return usage();
	pwb_log_init("mkhome_store_tool", true, false);
	r = pwb_config_load(pwb_config_path(NULL), false, &cfg, &err);
	if (r == 0)
		r = pwb_store_open(&cfg, &st, &err);
	if (r == 0)
		r = pwb_publish_attach(st, &err);
	if (r == 0)
		r = is_read_only(q.cmd) ? pwb_store_read(st, dispatch, &q, &err)
					: pwb_store_write(st, dispatch, &q, &err);
	if (r == 0 && (!strcmp(q.cmd, "add") || !strcmp(q.cmd, "add-group")))
		printf("%u\n", q.uid);
	if (r < 0)
		fprintf(stderr, "mkhome_store_tool: %s\n", pwb_error_text(&err, r));
	if (st)
		pwb_store_close(st);
	pwb_config_free(&cfg);
	return r == 0 ? 0 : r == PWB_ENOTFOUND ? 2 : 1;
}
