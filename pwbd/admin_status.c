/* pwbd's store.status op (pwbadm status): one summary of the store, the
 * published snapshot and pwbd's own counters, for a person (one screen)
 * or for monitoring (--json). Users are counted in one read walk, so the
 * op costs O(users); nothing is written. The snapshot part reads only
 * db-dir/nss, so pwbadm shows it alone when pwbd is down
 * (admin_snapshot_status).
 *
 * result: {time, pwbd: {running, started, uptime_seconds, pid,
 *          scim_requests, last_scim_request, store_retries},
 *          users: {total, active, locked, damaged, by_source: {scim, jit,
 *          manual}}, groups: {total}, tokens: {total, expired,
 *          expiring: [{name, expires}]}, snapshot: {...}, store: {path,
 *          bytes}, scim: {last_request, last_token}, signins: {today,
 *          since}, cluster (cluster mode only: see op_cluster.c)} */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "admin.h"
#include "cleanup.h"
#include "cleanup_json.h"
#include "metrics.h"
#include "reader.h"
#include "snapshot.h"
#include "store.h"
#include "util.h"

struct status_ctx {
	int64_t now, midnight;
	uint64_t users, active, locked, signins, by_source[3];
	uint64_t users_stored, groups, tokens, expired;
	int64_t last_use;
	char last_token[PWB_TOKEN_NAME_MAX + 1];
	json_t *expiring;
};

static int count_user(const struct pwb_user *u, void *vctx)
{
	struct status_ctx *c = vctx;

	c->users++;
	if (u->active)
		c->active++;
	else
		c->locked++;
	if ((unsigned)u->source < PWB_ARRAY_SIZE(c->by_source))
		c->by_source[u->source]++;
	if (u->last_login >= c->midnight)
		c->signins++;
	return 0;
}

static int count_token(const struct pwb_token *t, void *vctx)
{
	struct status_ctx *c = vctx;

	c->tokens++;
	if (t->last_used > c->last_use) {
		c->last_use = t->last_used;
		snprintf(c->last_token, sizeof(c->last_token), "%s", t->name);
	}
	if (t->expires == 0)
		return 0;
	if (t->expires <= c->now) {
		c->expired++;
		return 0;
	}
	if (t->expires - c->now > (int64_t)PWB_TOKEN_EXPIRY_WARN_DAYS * 86400)
		return 0;
	return json_array_append_new(c->expiring, json_pack("{s:s, s:I}", "name", t->name,
							    "expires", (json_int_t)t->expires))
		   ? -ENOMEM
		   : 0;
}

static int status_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct status_ctx *c = vctx;
	json_t *expiring = c->expiring;
	int64_t now = c->now, midnight = c->midnight;
	int rc;

	/* a transaction that lost a conflict runs again from the start */
	memset(c, 0, sizeof(*c));
	c->now = now;
	c->midnight = midnight;
	c->expiring = expiring;
	json_array_clear(expiring);
	if ((rc = pwb_user_foreach(txn, count_user, c, err)) != 0 ||
	    (rc = pwb_user_count(txn, &c->users_stored, err)) < 0 ||
	    (rc = pwb_group_count(txn, &c->groups, err)) < 0)
		return rc;
	rc = pwb_token_foreach(txn, count_token, c, err);
	return rc == -ENOMEM ? pwb_error_set(err, rc, "out of memory") : rc;
}

/* Bytes the regular files directly in dir take on disk. */
static uint64_t dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	uint64_t bytes = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			bytes += (uint64_t)st.st_blocks * 512u;
	closedir(d);
	return bytes;
}

int admin_snapshot_status(const char *db_dir, json_t **out)
{
	char dir[4096], path[4200], line[4096];
	struct pwb_snapshot_reader *reader = NULL;
	struct pwb_snapshot_cursor cur = {0};
	_cleanup_close_ int fd = -1;
	uint64_t generation = 0, seq = 0, users = 0;
	int64_t published = 0;
	struct stat st;
	size_t len;
	int r;

	*out = NULL;
	snprintf(dir, sizeof(dir), "%s/" PWB_SNAP_DIR, db_dir);
	snprintf(path, sizeof(path), "%s/" PWB_SNAP_GENERATION, dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 &&
	    pread(fd, &generation, sizeof(generation), 0) == (ssize_t)sizeof(generation))
		published = (int64_t)st.st_mtim.tv_sec;
	r = pwb_snapshot_reader_new(dir, &reader);
	if (r == 0)
		r = pwb_snapshot_seq(reader, &seq);
	while (r == 0 &&
	       (r = pwb_snapshot_next(reader, PWB_SNAPSHOT_PUBLIC, PWB_SNAP_KEY_PASSWD_NAME, &cur,
				      line, sizeof(line), &len)) != PWB_ENOTFOUND) {
		if (r < 0 && r != -ERANGE)
			break;
		users++;
		pwb_snapshot_advance(&cur);
		r = 0;
	}
	pwb_snapshot_reader_free(reader);
	*out = json_pack(
	    "{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "path", dir, "readable", r == PWB_ENOTFOUND,
	    "generation", (json_int_t)generation, "published", (json_int_t)published, "age_seconds",
	    (json_int_t)(published ? pwb_now() - published : 0), "seq", (json_int_t)seq, "users",
	    (json_int_t)users, "bytes", (json_int_t)dir_bytes(dir));
	return *out ? 0 : -ENOMEM;
}

static int64_t local_midnight(int64_t now)
{
	time_t t = (time_t)now;
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return now - now % 86400;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

static json_t *pwbd_part(void)
{
	json_t *o;

	if (!pwbd_metrics_started()) /* pwbadm --offline runs this handler */
		return json_pack("{s:b}", "running", 0);
	o = pwbd_metrics_status();
	if (o && json_object_set_new(o, "running", json_true()) < 0) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

int admin_store_status(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	struct status_ctx c = {0};
	_cleanup_json_ json_t *snapshot = NULL, *pwbd = NULL, *cluster = NULL;
	char store_dir[4200];
	int64_t last_request;
	int rc;

	*result = NULL;
	c.now = pwb_now();
	c.midnight = local_midnight(c.now);
	c.expiring = json_array();
	if (!c.expiring)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	rc = pwb_store_read(call->st, status_txn, &c, err);
	if (rc < 0) {
		json_decref(c.expiring);
		return rc;
	}
	pwbd = pwbd_part();
	if (admin_snapshot_status(call->cfg->db_dir, &snapshot) < 0 || !pwbd) {
		json_decref(c.expiring);
		return pwb_error_set(err, -ENOMEM, "out of memory");
	}
	last_request = json_integer_value(json_object_get(pwbd, "last_scim_request"));
	if (c.last_use > last_request)
		last_request = c.last_use;
	snprintf(store_dir, sizeof(store_dir), "%s/store", call->cfg->db_dir);
	if (call->cluster && (rc = pwbd_cluster_status_read(call->cluster, &cluster, err)) < 0) {
		json_decref(c.expiring);
		return rc;
	}
	*result = json_pack(
	    "{s:I, s:O, s:{s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I}}, s:{s:I},"
	    " s:{s:I, s:I, s:o}, s:O, s:{s:s, s:I}, s:{s:I, s:s}, s:{s:I, s:I}}",
	    "time", (json_int_t)c.now, "pwbd", pwbd, "users", "total", (json_int_t)c.users_stored,
	    "active", (json_int_t)c.active, "locked", (json_int_t)c.locked, "damaged",
	    (json_int_t)(c.users_stored > c.users ? c.users_stored - c.users : 0), "by_source",
	    "scim", (json_int_t)c.by_source[PWB_SOURCE_SCIM], "jit",
	    (json_int_t)c.by_source[PWB_SOURCE_JIT], "manual",
	    (json_int_t)c.by_source[PWB_SOURCE_MANUAL], "groups", "total", (json_int_t)c.groups,
	    "tokens", "total", (json_int_t)c.tokens, "expired", (json_int_t)c.expired, "expiring",
	    c.expiring, "snapshot", snapshot, "store", "path", store_dir, "bytes",
	    (json_int_t)dir_bytes(store_dir), "scim", "last_request", (json_int_t)last_request,
	    "last_token", c.last_token, "signins", "today", (json_int_t)c.signins, "since",
	    (json_int_t)c.midnight);
	if (*result && cluster && json_object_set(*result, "cluster", cluster) < 0) {
		json_decref(*result);
		*result = NULL;
	}
	return *result ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}
