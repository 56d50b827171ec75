/* pwb-scim: the SCIM 2.0 service as a FastCGI responder (spawn-fcgi or a
 * systemd socket unit behind nginx or Apache), or as a plain CGI program.
 * This file only moves bytes: it reads the CGI parameters and body, hands
 * them to lib/scim_service.c, writes the response, and logs one line. */
#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "log.h"
#include "names.h"
#include "scim_service.h"
#include "publish.h"
#include "store.h"

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

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Payload Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return status >= 500 ? "Internal Server Error" : "Error";
	}
}

static void write_response(const struct io *io, const struct pwb_scim_response *resp)
{
	char head[2048];
	char *body = resp->body ? json_dumps(resp->body, JSON_COMPACT) : NULL;
	int n;

	n = snprintf(head, sizeof(head), "Status: %d %s\r\n", resp->status, reason(resp->status));
	if (body)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
			      "Content-Type: " PWB_SCIM_CONTENT_TYPE "\r\nContent-Length: %zu\r\n",
			      strlen(body));
	if (resp->location[0])
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Location: %s\r\n",
			      resp->location);
	if (resp->etag[0])
		n += snprintf(head + n, sizeof(head) - (size_t)n, "ETag: %s\r\n", resp->etag);
	if (resp->www_authenticate)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
			      "WWW-Authenticate: Bearer realm=\"pwb-scim\"\r\n");
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	put(io, head, (size_t)n);
	if (body)
		put(io, body, strlen(body));
	free(body);
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

static void serve_one(struct pwb_scim_service *svc, const struct pwb_config *cfg,
		      const struct io *io)
{
	struct pwb_scim_request req = {0};
	struct pwb_scim_response resp;
	const char *length = param(io, "CONTENT_LENGTH"), *https = param(io, "HTTPS");
	char *body = NULL, path[256], host[300], method[16], token_name[PWB_TOKEN_NAME_MAX * 4 + 1];
	struct timespec start;
	unsigned long long want = 0;
	bool unknown_length = false;

	clock_gettime(CLOCK_MONOTONIC, &start);
	req.method = param(io, "REQUEST_METHOD");
	req.uri = param(io, "REQUEST_URI");
	req.query = param(io, "QUERY_STRING");
	req.authorization = param(io, "HTTP_AUTHORIZATION");
	req.if_match = param(io, "HTTP_IF_MATCH");
	req.scheme = https && (strcmp(https, "on") == 0 || strcmp(https, "1") == 0) ? "https"
		     : param(io, "REQUEST_SCHEME") ? param(io, "REQUEST_SCHEME")
						   : "http";
	req.host = host_with_port(io, req.scheme, host, sizeof(host));
	if (!req.method)
		req.method = "GET";
	if (length && *length) {
		want = strtoull(length, NULL, 10);
	} else if (strcmp(req.method, "GET") != 0 && strcmp(req.method, "DELETE") != 0) {
		/* no length (a chunked body passed through): read up to one byte
		 * past the limit to tell a body that is too large */
		want = (unsigned long long)cfg->scim_max_request_bytes + 1;
		unknown_length = true;
	}
	if (want > cfg->scim_max_request_bytes && !unknown_length) {
		req.body_too_large = true;
	} else if (want > 0) {
		body = malloc(want);
		if (body)
			req.body_len = (size_t)read_body(io, body, want);
		req.body = body;
		if (req.body_len > cfg->scim_max_request_bytes)
			req.body_too_large = true;
	}
	pwb_scim_service_handle(svc, &req, &resp);
	write_response(io, &resp);
	pwb_names_escape(req.uri ? req.uri : "", path, sizeof(path));
	if (strchr(path, '?'))
		*strchr(path, '?') = '\0'; /* the query may be long; the path says enough */
	pwb_names_escape(req.method, method, sizeof(method));
	pwb_names_escape(resp.token_name, token_name, sizeof(token_name));
	pwb_log(LOG_INFO, "%s %s %d token=%s %.1fms", method, path, resp.status, token_name,
		elapsed_ms(&start));
	pwb_scim_response_clear(&resp);
	free(body);
}

static volatile sig_atomic_t stopping;

/* SIGTERM/SIGINT: finish the request in hand, then leave the accept loop
 * and close the store cleanly instead of dying inside a transaction. */
static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pwb-scim [--config PATH] [--debug] [--log-stderr]\n"
		   "SCIM 2.0 FastCGI responder (or CGI program) for pwb; see pwb-scim(8).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"debug", no_argument, NULL, 'd'},
	    {"log-stderr", no_argument, NULL, 'e'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	struct pwb_config cfg;
	struct pwb_error err = {0};
	struct pwb_store *st = NULL;
	struct pwb_scim_service *svc = NULL;
	bool debug = false, to_stderr = isatty(STDERR_FILENO);
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "c:deh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'd':
			debug = true;
			break;
		case 'e':
			to_stderr = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* Start-up failures also go to stderr: whoever started us (spawn-fcgi,
	 * systemd, an admin) should see them without reading syslog. */
	pwb_log_init("pwb-scim", true, debug);
	if (geteuid() == 0) {
		pwb_log(LOG_ERR, "pwb-scim: refusing to run as root; run it as the store user "
				 "(spawn-fcgi -u pwb, or User= in the systemd unit)");
		return 1;
	}
	if (pwb_config_load(pwb_config_path(config_path), true, &cfg, &err) < 0) {
		pwb_log(LOG_ERR, "pwb-scim: %s", err.msg);
		return 1;
	}
	if (pwb_store_open(&cfg, &st, &err) < 0 || pwb_publish_attach(st, &err) < 0) {
		pwb_log(LOG_ERR, "pwb-scim: opening the store: %s", err.msg);
		goto out;
	}
	if (pwb_scim_service_new(st, &cfg, &svc) < 0 || FCGX_Init() != 0) {
		pwb_log(LOG_ERR, "pwb-scim: out of memory");
		goto out;
	}
	pwb_log_init(NULL, to_stderr, debug);
	signal(SIGPIPE, SIG_IGN);
	if (FCGX_IsCGI()) {
		struct io io = {.fcgi = NULL};

		serve_one(svc, &cfg, &io);
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
			serve_one(svc, &cfg, &io);
			FCGX_Finish_r(&request);
		}
		pwb_log(LOG_INFO, "pwb-scim: stopping");
	}
	rc = 0;
out:
	pwb_scim_service_free(svc);
	if (st)
		pwb_store_close(st);
	pwb_config_free(&cfg);
	return rc;
}
