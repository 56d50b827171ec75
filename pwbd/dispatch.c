/* pwbd's dispatcher: parses one request, finds its op in the domain tables,
 * checks the caller's role, builds the actor the change log records, runs
 * the handler with the store's request set, and encodes the reply. Also the
 * core ops: ping and request.status. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include "cleanup.h"
#include "cluster.h"
#include "log.h"
#include "pwbd.h"

static int op_ping(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	(void)call;
	*result = json_pack("{s:s, s:I}", "version", PACKAGE_VERSION, "pid", (json_int_t)getpid());
	return *result ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

struct status_ctx {
	const char *id;
	uint64_t seq;
};

static int status_read(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	struct status_ctx *c = ctx;

	return pwb_change_by_request(txn, c->id, &c->seq, err);
}

/* What became of an earlier request, by its id (for a client whose
 * connection dropped before the reply): the sequence of the last change it
 * made, or PWB_ENOTFOUND when it made none (or the log no longer has it). */
static int op_request_status(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	json_t *id = json_object_get(call->req->args, "id");
	struct status_ctx c = {0};
	int r;

	*result = NULL;
	if (!json_is_string(id) || json_string_length(id) == 0 ||
	    json_string_length(id) > PWB_RPC_ID_MAX)
		return pwb_error_set(err, PWB_EINVAL,
				     "request.status: \"id\" must be a request id");
	c.id = json_string_value(id);
	r = pwb_store_read(call->st, status_read, &c, err);
	if (r == PWB_ENOTFOUND)
		return pwb_error_set(err, r, "request.status: no change recorded for that id");
	if (r < 0)
		return r;
	*result = json_pack("{s:b, s:I}", "applied", 1, "seq", (json_int_t)c.seq);
	return *result ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

const struct pwbd_op pwbd_ops_core[] = {
    {"ping", PWBD_ROLE_ROOT | PWBD_ROLE_SCIM | PWBD_ROLE_LOGIN, false, op_ping},
    {"request.status", PWBD_ROLE_ROOT, false, op_request_status},
    {NULL, 0, false, NULL},
};

static const struct pwbd_op *find_op(const char *name)
{
	const struct pwbd_op *const tables[] = {pwbd_ops_core,	pwbd_ops_account, pwbd_ops_scim,
						pwbd_ops_admin, pwbd_ops_metrics, pwbd_ops_cluster};

	for (size_t t = 0; t < PWB_ARRAY_SIZE(tables); t++)
		for (const struct pwbd_op *op = tables[t]; op->name; op++)
			if (strcmp(op->name, name) == 0)
				return op;
	return NULL;
}

static const char *role_name(unsigned role)
{
	return role == PWBD_ROLE_ROOT	? "root"
	       : role == PWBD_ROLE_SCIM ? "scim-user"
					: "login-user";
}

char *pwbd_reply_error(const char *id, int code, const char *msg)
{
	json_auto_t *r = json_pack("{s:i, s:s, s:i, s:s}", "v", PWB_RPC_VERSION, "id", id ? id : "",
				   "code", code, "error", msg ? msg : pwb_strerror(code));

	return r ? json_dumps(r, JSON_COMPACT) : NULL;
}

static char *reply_result(const char *id, json_t *result)
{
	json_auto_t *r = json_pack("{s:i, s:s, s:i, s:O}", "v", PWB_RPC_VERSION, "id", id, "code",
				   0, "result", result);

	return r ? json_dumps(r, JSON_COMPACT) : NULL;
}

/* Who the change log says acted: the peer's uid always; what the request
 * says only from root. */
static void build_actor(unsigned role, uid_t uid, const struct pwb_rpc_request *req,
			struct pwb_actor *a)
{
	memset(a, 0, sizeof(*a));
	if (role == PWBD_ROLE_ROOT) {
		*a = req->actor;
		if (!a->kind[0])
			snprintf(a->kind, sizeof(a->kind), "root");
	} else {
		snprintf(a->kind, sizeof(a->kind), "%s",
			 role == PWBD_ROLE_SCIM ? "scim" : "pwb-login");
	}
	a->uid = (uint32_t)uid;
}

/* Progress frames to the caller: throttled, each written under a short
 * deadline; a caller that stops reading gets no more of them (the
 * operation goes on). */
#define PROGRESS_WRITE_MS 1000
struct progress_sink {
	int fd;
	const char *id;
	struct pwb_progress_throttle throttle;
	bool broken;
};

static void send_progress(void *ctx, const char *stage, uint64_t done, int64_t total,
			  const char *unit)
{
	struct progress_sink *s = ctx;
	struct pwb_error err = {0};
	_cleanup_free_ char *frame = NULL;

	if (s->broken ||
	    !pwb_progress_due(&s->throttle, stage, unit, done, total, pwb_progress_now_ms()))
		return;
	frame = pwb_rpc_progress_encode(s->id, stage, done, total, unit);
	if (frame && pwb_rpc_write_frame(s->fd, PROGRESS_WRITE_MS, frame, strlen(frame), &err) < 0)
		s->broken = true;
}

char *pwbd_dispatch(struct pwbd *d, unsigned role, uid_t uid, const char *payload, size_t len,
		    int progress_fd)
{
	struct progress_sink sink = {.fd = progress_fd};
	struct pwb_rpc_request req = {0};
	struct pwb_error err = {0};
	struct pwbd_call call = {0};
	json_auto_t *result = NULL;
	const struct pwbd_op *op;
	char *reply;
	int r;

	r = pwb_rpc_request_parse(payload, len, &req, &err);
	if (r < 0) {
		pwb_log(LOG_WARNING, "pwbd: refused a malformed request from uid %u: %s",
			(unsigned)uid, pwb_error_text(&err, r));
		return pwbd_reply_error(NULL, r, pwb_error_text(&err, r));
	}
	op = find_op(req.op);
	if (!op) {
		pwb_log(LOG_WARNING, "pwbd: refused request %s from uid %u: no op %s", req.id,
			(unsigned)uid, req.op);
		reply = pwbd_reply_error(req.id, PWB_EINVAL, "no such op");
		pwb_rpc_request_clear(&req);
		return reply;
	}
	if (!(op->roles & role)) {
		pwb_error_set(&err, PWB_EPERM, "op %s is not allowed to uid %u", op->name,
			      (unsigned)uid);
		pwb_log(LOG_WARNING,
			"pwbd: refused request %s: op %s is not allowed to uid %u (%s)", req.id,
			op->name, (unsigned)uid, role_name(role));
		reply = pwbd_reply_error(req.id, PWB_EPERM, err.msg);
		pwb_rpc_request_clear(&req);
		return reply;
	}
	call.cfg = &d->cfg;
	call.role = (enum pwbd_role)role;
	call.req = &req;
	build_actor(role, uid, &req, &call.actor);
	/* Progress only for root: frames tell how big the store is. */
	if (req.progress && role == PWBD_ROLE_ROOT && progress_fd >= 0) {
		sink.id = req.id;
		call.progress = (struct pwb_progress){.fn = send_progress, .ctx = &sink};
	}
	r = strcmp(op->name, "ping") == 0 ? 0 : pwbd_store_ensure(d, &err);
	if (r == 0) {
		call.st = d->st;
		call.cluster = d->cluster;
		/* A write reads the replica before it writes to the cluster (a
		 * SCIM PATCH, a rename): it must see what other hosts wrote. */
		if (call.cluster && op->writes)
			pwbd_cluster_refresh(call.cluster);
		if (call.st) {
			pwb_store_set_request(call.st, &call.actor, req.id);
			pwb_store_set_progress(call.st, &call.progress);
		}
		r = op->fn(&call, &result, &err);
		if (call.st) {
			pwb_store_set_request(call.st, NULL, NULL);
			pwb_store_set_progress(call.st, NULL);
		}
	}
	if (r < 0) {
		reply = pwbd_reply_error(req.id, r, pwb_error_text(&err, r));
	} else {
		if (!result)
			result = json_object();
		reply = reply_result(req.id, result);
	}
	pwb_rpc_request_clear(&req);
	return reply;
}
