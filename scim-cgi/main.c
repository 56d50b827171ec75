/* pwb-scim: the SCIM 2.0 relay, a FastCGI responder (spawn-fcgi or a
 * systemd socket unit behind nginx or Apache) or a plain CGI program. It
 * never opens the store: it reads the CGI parameters and the body (bounded
 * by scim-max-request-bytes), sends them to pwbd (op "scim.request", which
 * authenticates the token and runs lib/scim's service), writes pwbd's
 * status, headers and body back, and logs one line. When pwbd cannot be
 * reached the client gets 503 with Retry-After and a SCIM error body.
 * With scim-metrics-path set, a GET of exactly that path is relayed to
 * pwbd's metrics.get instead, which decides access (its own token, or
 * loopback clients only) and answers the Prometheus text. */
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cleanup.h"
#include "config.h"
#include "log.h"
#include "names.h"
#include "rpc.h"
#include "scim_error.h"
#include "scim_request.h"
#include "service_cli.h"
#include "urltext.h"

#define FRAME_SLACK  65536 /* the request's other arguments, at most */
#define TOKEN_LOGGED 64	   /* the token name in the log line, bytes */
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* What pwbd answered, for the client: the SCIM status, headers and body. */
struct reply {
	int status;
	const char *body; /* JSON text or NULL */
	const char *location, *etag, *token_name;
	const char *content_type; /* NULL: SCIM's */
	bool www_authenticate;
	int retry_after; /* seconds (0: no Retry-After) */
	json_t *owner;	 /* holds the strings */
	char *own_body;	 /* a body the relay made */
};

/* One request's I/O: FastCGI streams, or the process's own for CGI. */
struct io {
	FCGX_Request *fcgi; /* NULL: CGI */
};

static const char *param(const struct io *io, const char *name)
{
	return io->fcgi ? FCGX_GetParam(name, io->fcgi->envp) : getenv(name);
}

static int read_body(const struct io *io, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		int r;

		if (io->fcgi) {
			r = FCGX_GetStr(buf + got, (int)(n - got), io->fcgi->in);
		} else {
			ssize_t x = read(STDIN_FILENO, buf + got, n - got);

			if (x < 0 && errno == EINTR)
				continue;
			r = (int)x;
		}
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return (int)got;
}

static void put(const struct io *io, const char *s, size_t n)
{
	if (io->fcgi)
		FCGX_PutStr(s, (int)n, io->fcgi->out);
	else
		fwrite(s, 1, n, stdout);
}

/* A header value from pwbd goes out only if it cannot end the header. */
static bool header_safe(const char *v)
{
	return v && *v && strlen(v) < 1024 && !strpbrk(v, "\r\n");
}

static void write_response(const struct io *io, const struct reply *rep)
{
	char head[4096];
	int n;

	n = snprintf(head, sizeof(head), "Status: %d %s\r\n", rep->status,
		     pwb_http_reason(rep->status));
	if (rep->body)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
			      "Content-Type: %s\r\nContent-Length: %zu\r\n",
			      rep->content_type ? rep->content_type : PWB_SCIM_CONTENT_TYPE,
			      strlen(rep->body));
	if (header_safe(rep->location))
		n +=
		    snprintf(head + n, sizeof(head) - (size_t)n, "Location: %s\r\n", rep->location);
	if (header_safe(rep->etag))
		n += snprintf(head + n, sizeof(head) - (size_t)n, "ETag: %s\r\n", rep->etag);
	if (rep->www_authenticate)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
			      "WWW-Authenticate: Bearer realm=\"%s\"\r\n",
			      rep->content_type ? "pwb-metrics" : "pwb-scim");
	if (rep->retry_after > 0)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Retry-After: %d\r\n",
			      rep->retry_after);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	put(io, head, (size_t)n);
	if (rep->body)
		put(io, rep->body, strlen(rep->body));
}

/* The relay's own answer (pwbd unreachable or refusing): a SCIM error. */
static void fail(struct reply *rep, int status, const char *detail)
{
	json_t *doc = json_pack("{s:[s],s:s,s:s}", "schemas", PWB_SCIM_ERROR_SCHEMA, "status", "",
				"detail", detail);
	char code[8];

	snprintf(code, sizeof(code), "%d", status);
	json_object_set_new(doc, "status", json_string(code));
	rep->status = status;
	rep->retry_after = status == 503 ? PWB_SCIM_RETRY_AFTER : 0;
	free(rep->own_body);
	rep->own_body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	rep->body = rep->own_body;
	json_decref(doc);
}

static double elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Debian's stock fastcgi_params pass HTTP_HOST as nginx's $host, without
 * the port; resource locations need it back when it is not the default. */
static const char *host_with_port(const struct io *io, const char *scheme, char *buf, size_t n)
{
	const char *host = param(io, "HTTP_HOST"), *port = param(io, "SERVER_PORT");

	if (!host || strchr(host, ':') || !port || !*port ||
	    strcmp(port, strcmp(scheme, "https") == 0 ? "443" : "80") == 0)
		return host;
	snprintf(buf, n, "%s:%s", host, port);
	return buf;
}

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};

static bool method_known(const char *m)
{
	for (size_t i = 0; i < PWB_ARRAY_SIZE(methods); i++)
		if (strcmp(m, methods[i]) == 0)
			return true;
	return false;
}

/* Adds a CGI parameter as an argument when present; a value that is not
 * UTF-8 text cannot be relayed. */
static int add_param(json_t *args, const char *key, const char *value)
{
	return value ? json_object_set_new(args, key, json_string(value)) : 0;
}

/* The request as pwbd's scim.request arguments. The body goes as text; a
 * body that is not UTF-8 is not sent, only said (the service answers 400
 * after the token). A body over the limit is not read at all: pwbd checks
 * the token, then answers 413. Returns NULL with *oom false when a header
 * or the URI is not UTF-8 text. */
static json_t *request_args(const struct io *io, const struct pwb_config *cfg, const char *method,
			    const char *scheme, const char *host, bool *oom)
{
	/* a body must fit pwbd's frame even with every byte escaped once */
	size_t limit = cfg->scim_max_request_bytes;
	size_t frame_limit = (PWB_RPC_MAX_FRAME - FRAME_SLACK) / 2;
	const char *length = param(io, "CONTENT_LENGTH");
	json_t *args = json_object();
	unsigned long long want = 0;
	bool unknown_length = false, too_large = false;
	int r = 0;

	*oom = !args;
	if (!args)
		return NULL;
	if (limit > frame_limit)
		limit = frame_limit;
	r |= add_param(args, "method", method);
	r |= add_param(args, "uri", param(io, "REQUEST_URI") ? param(io, "REQUEST_URI") : "");
	r |= add_param(args, "query", param(io, "QUERY_STRING"));
	r |= add_param(args, "authorization", param(io, "HTTP_AUTHORIZATION"));
	r |= add_param(args, "if_match", param(io, "HTTP_IF_MATCH"));
	r |= add_param(args, "if_none_match", param(io, "HTTP_IF_NONE_MATCH"));
	r |= add_param(args, "content_type", param(io, "CONTENT_TYPE"));
	r |= add_param(args, "scheme", scheme);
	r |= add_param(args, "host", host);
	r |= add_param(args, "remote_addr", param(io, "REMOTE_ADDR"));
	if (length && *length) {
		want = strtoull(length, NULL, 10);
	} else if (strcmp(method, "GET") != 0 && strcmp(method, "DELETE") != 0 &&
		   strcmp(method, "HEAD") != 0) {
		/* no length (a chunked body passed through): read up to one byte
		 * past the limit to tell a body that is too large */
		want = (unsigned long long)limit + 1;
		unknown_length = true;
	}
	if (want > limit && !unknown_length) {
		too_large = true;
	} else if (want > 0) {
		_cleanup_free_ char *body = malloc(want);
		size_t got;
		json_t *text;

		if (!body) {
			json_decref(args);
			*oom = true;
			return NULL;
		}
		got = (size_t)read_body(io, body, want);
		too_large = got > limit;
		text = too_large ? NULL : json_stringn(body, got);
		if (text)
			r |= json_object_set_new(args, "body", text);
		else if (!too_large)
			r |= json_object_set_new(args, "body_utf8", json_false());
	}
	if (too_large)
		r |= json_object_set_new(args, "body_too_large", json_true());
	if (r) {
		json_decref(args);
		return NULL;
	}
	return args;
}

/* pwbd's result as the reply (the strings stay in result, kept in rep). */
static void take_result(struct reply *rep, json_t *result)
{
	json_t *status = json_object_get(result, "status");

	rep->owner = result;
	if (!json_is_integer(status) || json_integer_value(status) < 100 ||
	    json_integer_value(status) > 599) {
		pwb_log(LOG_ERR, "pwb-scim: pwbd answered without a valid status");
		fail(rep, 502, "the provisioning service gave no valid answer");
		return;
	}
	rep->status = (int)json_integer_value(status);
	rep->body = json_string_value(json_object_get(result, "body"));
	rep->location = json_string_value(json_object_get(result, "location"));
	rep->etag = json_string_value(json_object_get(result, "etag"));
	rep->token_name = json_string_value(json_object_get(result, "token_name"));
	rep->www_authenticate = json_is_true(json_object_get(result, "www_authenticate"));
	/* a 503: pwbd's service could not reach the store (in cluster mode,
	 * its database); pwbd's Retry-After when it is a sane one */
	rep->retry_after = (int)json_integer_value(json_object_get(result, "retry_after"));
	if (rep->retry_after <= 0 || rep->retry_after > 3600)
		rep->retry_after = rep->status == 503 ? PWB_SCIM_RETRY_AFTER : 0;
}

static void relay(const struct pwb_config *cfg, const struct io *io, const char *method,
		  struct reply *rep)
{
	const char *https = param(io, "HTTPS"), *scheme;
	json_t *args, *result = NULL;
	struct pwb_error err = {0};
	char host[300];
	bool oom;
	int r;

	scheme = https && (strcmp(https, "on") == 0 || strcmp(https, "1") == 0) ? "https"
		 : param(io, "REQUEST_SCHEME") ? param(io, "REQUEST_SCHEME")
					       : "http";
	if (!method_known(method)) {
		fail(rep, 405, "the method is not allowed");
		return;
	}
	args = request_args(io, cfg, method, scheme, host_with_port(io, scheme, host, sizeof(host)),
			    &oom);
	if (!args) {
		fail(rep, oom ? 500 : 400,
		     oom ? "out of memory" : "a header or the URI is not UTF-8 text");
		return;
	}
	r = pwb_rpc_call(cfg, "scim.request", NULL, args, &result, NULL, &err);
	json_decref(args);
	if (r == 0) {
		take_result(rep, result);
		return;
	}
	pwb_log(LOG_ERR, "pwb-scim: %s", pwb_error_text(&err, r));
	if (r == PWB_ENODAEMON || r == PWB_EUNAVAIL)
		fail(rep, 503, "the provisioning service is not available; retry later");
	else if (r == PWB_EINVAL)
		fail(rep, 400,
		     "the request cannot be relayed (a header or the URI is too long "
		     "or holds control characters)");
	else
		fail(rep, 500, "the provisioning service refused the request; see the system log");
}

/* Whether uri (its path, before any query) is exactly scim-metrics-path. */
static bool is_metrics_path(const struct pwb_config *cfg, const char *uri)
{
	size_t n;

	if (!cfg->scim_metrics_path || !uri)
		return false;
	n = strcspn(uri, "?");
	return n == strlen(cfg->scim_metrics_path) && strncmp(uri, cfg->scim_metrics_path, n) == 0;
}

/* The Prometheus endpoint: pwbd decides who may read it and answers the
 * text; the relay only passes the token and the client's address on. */
static void relay_metrics(const struct pwb_config *cfg, const struct io *io, const char *method,
			  struct reply *rep)
{
	json_t *args, *result = NULL, *status;
	struct pwb_error err = {0};
	int r;

	if (strcmp(method, "GET") != 0) {
		fail(rep, 405, "the metrics endpoint answers GET only");
		return;
	}
	args = json_object();
	if (!args || add_param(args, "authorization", param(io, "HTTP_AUTHORIZATION")) < 0 ||
	    add_param(args, "remote_addr", param(io, "REMOTE_ADDR")) < 0) {
		json_decref(args);
		fail(rep, 400, "a header is not UTF-8 text");
		return;
	}
	r = pwb_rpc_call(cfg, "metrics.get", NULL, args, &result, NULL, &err);
	json_decref(args);
	if (r < 0) {
		pwb_log(LOG_ERR, "pwb-scim: metrics: %s", pwb_error_text(&err, r));
		fail(rep, r == PWB_ENODAEMON || r == PWB_EUNAVAIL ? 503 : 500,
		     "the provisioning service is not available; retry later");
		return;
	}
	rep->owner = result;
	status = json_object_get(result, "status");
	rep->status = json_is_integer(status) ? (int)json_integer_value(status) : 502;
	if (rep->status < 100 || rep->status > 599)
		rep->status = 502;
	rep->body = json_string_value(json_object_get(result, "body"));
	rep->content_type = METRICS_TYPE;
	rep->www_authenticate = json_is_true(json_object_get(result, "www_authenticate"));
}

static void serve_one(const struct pwb_config *cfg, const struct io *io)
{
	struct reply rep = {0};
	const char *method = param(io, "REQUEST_METHOD"), *uri = param(io, "REQUEST_URI");
	char path[256], shown_method[16], token_name[TOKEN_LOGGED * 4 + 1];
	struct timespec start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (!method)
		method = "GET";
	if (is_metrics_path(cfg, uri))
		relay_metrics(cfg, io, method, &rep);
	else
		relay(cfg, io, method, &rep);
	write_response(io, &rep);
	pwb_names_escape(uri ? uri : "", path, sizeof(path));
	if (strchr(path, '?'))
		*strchr(path, '?') = '\0'; /* the query may be long; the path says enough */
	pwb_names_escape(method, shown_method, sizeof(shown_method));
	pwb_names_escape(rep.token_name ? rep.token_name : "-", token_name, sizeof(token_name));
	pwb_log(LOG_INFO, "%s %s %d token=%s %.1fms", shown_method, path, rep.status, token_name,
		elapsed_ms(&start));
	json_decref(rep.owner);
	free(rep.own_body);
}

static volatile sig_atomic_t stopping;

/* SIGTERM/SIGINT: finish the request in hand, then leave the accept loop
 * and exit instead of cutting a reply short. */
static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pwb-scim [--config PATH] [--debug] [--log-stderr]\n"
		   "SCIM 2.0 FastCGI responder (or CGI program) for pwb: relays each request to\n"
		   "pwbd; see pwb-scim(8).\n");
}

int main(int argc, char **argv)
{
	struct pwb_service_cli cli;
	struct pwb_config cfg;
	struct pwb_error err = {0};
	int rc = pwb_service_cli_parse(argc, argv, usage, &cli);

	if (rc >= 0)
		return rc;
	rc = 1;
	/* Start-up failures also go to stderr: whoever started us (spawn-fcgi,
	 * systemd, an admin) should see them without reading syslog. */
	pwb_log_init("pwb-scim", true, cli.debug);
	if (geteuid() == 0) {
		pwb_log(LOG_ERR, "pwb-scim: refusing to run as root; run it as the scim-user "
				 "(spawn-fcgi -u pwb-scim, or User= in the systemd unit)");
		return 1;
	}
	if (pwb_config_load(pwb_config_path(cli.config_path), true, &cfg, &err) < 0) {
		pwb_log(LOG_ERR, "pwb-scim: %s", err.msg);
		return 1;
	}
	if (FCGX_Init() != 0) {
		pwb_log(LOG_ERR, "pwb-scim: out of memory");
		goto out;
	}
	pwb_log_init(NULL, cli.to_stderr, cli.debug);
	signal(SIGPIPE, SIG_IGN);
	if (FCGX_IsCGI()) {
		struct io io = {.fcgi = NULL};

		serve_one(&cfg, &io);
		fflush(stdout);
	} else {
		FCGX_Request request;
		struct io io = {.fcgi = &request};

		struct sigaction sa = {.sa_handler = on_stop};

		/* no SA_RESTART: a blocked accept returns so the loop can end */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		if (FCGX_InitRequest(&request, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
			goto out;
		while (!stopping && FCGX_Accept_r(&request) >= 0) {
			serve_one(&cfg, &io);
			FCGX_Finish_r(&request);
		}
		pwb_log(LOG_INFO, "pwb-scim: stopping");
	}
	rc = 0;
out:
	pwb_config_free(&cfg);
	return rc;
}
