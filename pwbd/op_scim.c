/* pwbd's scim operation (see ops.h): "scim.request" runs one SCIM HTTP
 * request, relayed by pwb-scim, through lib/scim's service against the
 * store. The relay's arguments are checked strictly (a fixed key set, the
 * method from a fixed list, bounded header values free of NUL, CR and
 * LF); the bearer token is authenticated here, before anything is written,
 * and the request's changes are recorded as made by that token from the
 * client address the relay saw.
 *
 * args:   method, uri (required); query, authorization, if_match,
 *         if_none_match, content_type, scheme, host, remote_addr (strings);
 *         body (string), body_utf8 (false: the body was not UTF-8),
 *         body_too_large (true: over scim-max-request-bytes, not sent)
 * result: status, body (the JSON text, absent for none), location, etag,
 *         www_authenticate, token_name ("-" when none was accepted),
 *         retry_after (seconds, with a 503: the store cannot be reached)
 * Each answered request is counted in pwbd's metrics (metrics.h) by method
 * and status, with the time it took here. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "metrics.h"
#include "ops.h"
#include "scim_service.h"

#define ARG_MAX 8192 /* a header value or the request URI, bytes */

struct scim_args {
	struct pwb_scim_request req;
	const char *remote_addr;
};

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};

static int string_arg(const char *key, json_t *v, const char **out, struct pwb_error *err)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	if (!s)
		return pwb_error_set(err, PWB_EINVAL, "scim.request: %s must be a string", key);
	if (n > ARG_MAX || strlen(s) != n || strpbrk(s, "\r\n"))
		return pwb_error_set(err, PWB_EINVAL,
				     "scim.request: %s is longer than %d bytes or holds NUL, "
				     "CR or LF",
				     key, ARG_MAX);
	*out = s;
	return 0;
}

static int parse_args(const struct pwbd_call *call, struct scim_args *a, struct pwb_error *err)
{
	static const struct {
		const char *key;
		size_t offset;
	} strings[] = {
	    {"method", offsetof(struct scim_args, req.method)},
	    {"uri", offsetof(struct scim_args, req.uri)},
	    {"query", offsetof(struct scim_args, req.query)},
	    {"authorization", offsetof(struct scim_args, req.authorization)},
	    {"if_match", offsetof(struct scim_args, req.if_match)},
	    {"if_none_match", offsetof(struct scim_args, req.if_none_match)},
	    {"content_type", offsetof(struct scim_args, req.content_type)},
	    {"scheme", offsetof(struct scim_args, req.scheme)},
	    {"host", offsetof(struct scim_args, req.host)},
	    {"remote_addr", offsetof(struct scim_args, remote_addr)},
	};
	json_t *args = call->req->args, *v;
	const char *key;
	bool known;
	int r;

	json_object_foreach(args, key, v)
	{
		known = false;
		for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]) && !known; i++) {
			if (strcmp(key, strings[i].key) != 0)
				continue;
			known = true;
			r = string_arg(key, v, (const char **)((char *)a + strings[i].offset), err);
			if (r < 0)
				return r;
		}
		if (known)
			continue;
		if (strcmp(key, "body") == 0) {
			if (!json_is_string(v) ||
			    json_string_length(v) > call->cfg->scim_max_request_bytes)
				return pwb_error_set(err, PWB_EINVAL,
						     "scim.request: body must be a string of at "
						     "most scim-max-request-bytes");
			a->req.body = json_string_value(v);
			a->req.body_len = json_string_length(v);
		} else if (strcmp(key, "body_too_large") == 0 && json_is_boolean(v)) {
			a->req.body_too_large = json_is_true(v);
		} else if (strcmp(key, "body_utf8") == 0 && json_is_boolean(v)) {
			a->req.body_not_utf8 = json_is_false(v);
		} else {
			return pwb_error_set(err, PWB_EINVAL,
					     "scim.request: unknown or bad argument %s", key);
		}
	}
	if (!a->req.method || !a->req.uri)
		return pwb_error_set(err, PWB_EINVAL, "scim.request: method and uri are required");
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(a->req.method, methods[i]) == 0)
			return 0;
	return pwb_error_set(err, PWB_EINVAL,
			     "scim.request: method is not one of GET, HEAD, "
			     "POST, PUT, PATCH, DELETE");
}

/* The token was accepted: its changes are the token's, from the client's
 * address. */
static void on_auth(const char *token_name, void *vctx)
{
	struct pwbd_call *call = vctx;
	struct pwb_actor *a = &call->actor;

	snprintf(a->kind, sizeof(a->kind), "scim");
	snprintf(a->name, sizeof(a->name), "%s", token_name);
	pwb_store_set_request(call->st, a, call->req->id);
}

static json_t *response_json(const struct pwb_scim_response *resp)
{
	json_t *out = json_pack("{s:i,s:s,s:s,s:b,s:s}", "status", resp->status, "location",
				resp->location, "etag", resp->etag, "www_authenticate",
				resp->www_authenticate, "token_name", resp->token_name);
	char *body;

	if (out && resp->retry_after > 0 &&
	    json_object_set_new(out, "retry_after", json_integer(resp->retry_after)) < 0) {
		json_decref(out);
		return NULL;
	}
	if (!out || !resp->body)
		return out;
	body = json_dumps(resp->body, JSON_COMPACT);
	if (!body || json_object_set_new(out, "body", json_string(body)) < 0) {
		json_decref(out);
		out = NULL;
	}
	free(body);
	return out;
}

static int scim_request(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	struct scim_args a = {0};
	struct pwb_scim_service *svc = NULL;
	struct pwb_scim_response resp;
	struct timespec start, end;
	int r;

	*result = NULL;
	clock_gettime(CLOCK_MONOTONIC, &start);
	r = parse_args(call, &a, err);
	if (r < 0)
		return r;
	/* the client's address as the relay saw it: kept only when it is one */
	snprintf(call->actor.kind, sizeof(call->actor.kind), "scim");
	call->actor.name[0] = '\0';
	if (a.remote_addr && strlen(a.remote_addr) < sizeof(call->actor.rhost) &&
	    strspn(a.remote_addr, "0123456789abcdefABCDEF.:[]%") == strlen(a.remote_addr))
		snprintf(call->actor.rhost, sizeof(call->actor.rhost), "%s", a.remote_addr);
	else
		call->actor.rhost[0] = '\0';
	pwb_store_set_request(call->st, &call->actor, call->req->id);
	if (pwb_scim_service_new(call->st, call->cfg, &svc) < 0)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	pwb_scim_service_on_auth(svc, on_auth, call);
	pwb_scim_service_handle(svc, &a.req, &resp);
	pwb_scim_service_free(svc);
	clock_gettime(CLOCK_MONOTONIC, &end);
	pwbd_metrics_scim(a.req.method, resp.status,
			  (double)(end.tv_sec - start.tv_sec) +
			      (double)(end.tv_nsec - start.tv_nsec) / 1e9);
	*result = response_json(&resp);
	pwb_scim_response_clear(&resp);
	return *result ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

const struct pwbd_op pwbd_ops_scim[] = {
    {"scim.request", PWBD_ROLE_SCIM | PWBD_ROLE_ROOT, true, scim_request},
    {NULL, 0, false, NULL},
};
