/* The client side of pwbd's protocol (see rpc.h): one connection per
 * request, no retries, progress frames (when asked for) handed to a
 * callback; every way of not getting a reply is PWB_ENODAEMON with the
 * socket named (and, once the request was sent, its id). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "cleanup.h"
#include "rpc.h"

static int connect_socket(const char *path, int *out, struct pwb_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;

	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path))
		return pwb_error_set(err, PWB_ENODAEMON, "pwbd socket path \"%s\" is not usable",
				     path ? path : "");
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return pwb_error_set(err, PWB_ENODAEMON, "pwbd at %s: socket: %s", path,
				     strerror(errno));
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		return pwb_error_set(err, PWB_ENODAEMON, "pwbd is not reachable at %s: %s", path,
				     strerror(errno));
	}
	*out = PWB_TAKE_FD(fd);
	return 0;
}

static json_t *actor_json(const struct pwb_actor *a)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (a->kind[0])
		json_object_set_new(o, "kind", json_string(a->kind));
	if (a->name[0])
		json_object_set_new(o, "name", json_string(a->name));
	if (a->service[0])
		json_object_set_new(o, "service", json_string(a->service));
	if (a->rhost[0])
		json_object_set_new(o, "rhost", json_string(a->rhost));
	return o;
}

/* Checks pwbd's reply and hands over result or the error. */
static int decode_reply(const char *sock, const char *id, const char *buf, size_t len,
			json_t **result, struct pwb_error *err)
{
	json_auto_t *reply = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *code, *res, *rid, *msg;
	json_int_t c;

	if (!json_is_object(reply))
		return pwb_error_set(err, PWB_ENODAEMON,
				     "pwbd at %s sent a reply that is not a JSON "
				     "object (request id %s)",
				     sock, id);
	code = json_object_get(reply, "code");
	rid = json_object_get(reply, "id");
	if (!json_is_integer(json_object_get(reply, "v")) ||
	    json_integer_value(json_object_get(reply, "v")) != PWB_RPC_VERSION ||
	    !json_is_integer(code))
		return pwb_error_set(err, PWB_ENODAEMON,
				     "pwbd at %s sent a malformed reply (request id %s)", sock, id);
	if (json_is_string(rid) && json_string_length(rid) > 0 &&
	    strcmp(json_string_value(rid), id) != 0)
		return pwb_error_set(err, PWB_ENODAEMON,
				     "pwbd at %s answered another request (request id %s)", sock,
				     id);
	c = json_integer_value(code);
	if (c != 0) {
		msg = json_object_get(reply, "error");
		if (c > 0 || c < -100000)
			c = PWB_EUNAVAIL;
		return pwb_error_set(err, (int)c, "%s",
				     json_is_string(msg) ? json_string_value(msg)
							 : pwb_strerror((int)c));
	}
	res = json_object_get(reply, "result");
	if (res && !json_is_object(res))
		return pwb_error_set(
		    err, PWB_ENODAEMON,
		    "pwbd at %s sent a result that is not an object (request id %s)", sock, id);
	*result = res ? json_incref(res) : json_object();
	return *result ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

/* Reads frames until the reply, handing progress frames to progress (each
 * restarts the wait). */
static int read_reply(int fd, int timeout_ms, const char *id, const struct pwb_progress *progress,
		      char **reply, size_t *len, struct pwb_error *err)
{
	struct pwb_rpc_progress frame;
	int r;

	for (;;) {
		r = pwb_rpc_read_frame(fd, timeout_ms, reply, len, err);
		if (r < 0 || !progress)
			return r;
		r = pwb_rpc_progress_parse(*reply, *len, id, &frame, err);
		if (r <= 0) /* the reply, or a broken progress frame */
			return r;
		free(*reply);
		*reply = NULL;
		pwb_progress_report(progress, frame.stage, frame.done, frame.total, frame.unit);
	}
}

int pwb_rpc_call(const struct pwb_config *cfg, const char *op, const struct pwb_actor *actor,
		 json_t *args, json_t **result, char *id_out, struct pwb_error *err)
{
	return pwb_rpc_call_progress(cfg, op, actor, args, NULL, result, id_out, err);
}

int pwb_rpc_call_progress(const struct pwb_config *cfg, const char *op,
			  const struct pwb_actor *actor, json_t *args,
			  const struct pwb_progress *progress, json_t **result, char *id_out,
			  struct pwb_error *err)
{
	const char *sock = cfg->pwbd_socket;
	int timeout_ms =
	    (int)(cfg->pwbd_timeout > 0 && cfg->pwbd_timeout < 86400 ? cfg->pwbd_timeout * 1000
								     : 30000);
	char id[PWB_RPC_ID_MAX + 1];
	json_auto_t *req = NULL, *empty = json_object();
	_cleanup_free_ char *text = NULL, *reply = NULL;
	_cleanup_close_ int fd = -1;
	struct pwb_error ioerr = {0};
	size_t text_len, reply_len;
	int r;

	*result = NULL;
	r = pwb_rpc_new_id(id);
	if (r < 0)
		return pwb_error_set(err, r, "cannot make a request id: %s", strerror(-r));
	if (id_out)
		memcpy(id_out, id, sizeof(id));
	req = json_pack("{s:i, s:s, s:s, s:O}", "v", PWB_RPC_VERSION, "op", op, "id", id, "args",
			args ? args : empty);
	if (!req)
		return pwb_error_set(err, PWB_EINVAL, "request %s: cannot encode its arguments",
				     op);
	if (actor && json_object_set_new(req, "actor", actor_json(actor)) < 0)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if (progress && !progress->fn)
		progress = NULL;
	if (progress && json_object_set_new(req, "progress", json_true()) < 0)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	text = json_dumps(req, JSON_COMPACT);
	if (!text)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	text_len = strlen(text);
	if (text_len > PWB_RPC_MAX_FRAME)
		return pwb_error_set(err, PWB_EINVAL, "request %s is larger than %u bytes", op,
				     PWB_RPC_MAX_FRAME);
	r = connect_socket(sock, &fd, err);
	if (r < 0)
		return r;
	r = pwb_rpc_write_frame(fd, timeout_ms, text, text_len, &ioerr);
	if (r < 0) {
		/* pwbd may have refused the caller and closed before reading:
		 * its reply is still there to read. */
		if (pwb_rpc_read_frame(fd, 1000, &reply, &reply_len, &(struct pwb_error){0}) == 0)
			return decode_reply(sock, id, reply, reply_len, result, err);
		return pwb_error_set(
		    err, PWB_ENODAEMON,
		    "pwbd at %s did not take the request (%s); nothing was applied "
		    "(request id %s)",
		    sock, ioerr.msg, id);
	}
	r = read_reply(fd, timeout_ms, id, progress, &reply, &reply_len, &ioerr);
	if (r < 0)
		return pwb_error_set(err, PWB_ENODAEMON,
				     "pwbd at %s did not reply (%s); the change may or may not "
				     "have been applied (request id %s)",
				     sock, ioerr.msg, id);
	return decode_reply(sock, id, reply, reply_len, result, err);
}
