/* pwb-login: the browser front door (see pwb-login.8), a FastCGI responder
 * (nginx: the routes, and auth_request to auth) and authorizer (Apache
 * mod_authnz_fcgi), run as the login-user under spawn-fcgi or a systemd
 * socket unit. This file: options, the client credentials, the accept
 * loop, reading a request and writing its response. */
#include <errno.h>
#include <fastcgi.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "cleanup.h"
#include "log.h"
#include "login.h"
#include "reader.h"
#include "secret.h"
#include "urltext.h"
#include "service_cli.h"

#define BODY_MAX (64 * 1024) /* bytes of a POST body (a logout token fits) */

extern char **environ;

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pwb-login [--config PATH] [--debug] [--log-stderr]\n"
		   "OpenID Connect sign-in for pwb: a FastCGI responder (nginx, auth_request)\n"
		   "and authorizer (Apache mod_authnz_fcgi) run as the login-user; see\n"
		   "pwb-login(8).\n"
		   "  --config PATH  read PATH instead of $PWB_CONFIG or /etc/pwb/pwb.conf\n"
		   "  --debug        log debug lines\n"
		   "  --log-stderr   copy log lines to stderr\n"
		   "  --help         show this text\n");
}

/* One request's streams: FastCGI, or the process's own for CGI. */
struct io {
	FCGX_Request *fcgi; /* NULL: CGI */
};

static void put(const struct io *io, const char *s, size_t n)
{
	if (io->fcgi)
		FCGX_PutStr(s, (int)n, io->fcgi->out);
	else
		fwrite(s, 1, n, stdout);
}

static ssize_t get(const struct io *io, char *buf, size_t n)
{
	if (io->fcgi)
		return FCGX_GetStr(buf, (int)n, io->fcgi->in);
	return (ssize_t)fread(buf, 1, n, stdin);
}

/* Reads a POST body of at most BODY_MAX bytes. -E2BIG when larger. */
static int read_body(const struct io *io, struct http_request *req)
{
	const char *length = http_param(req->envp, "CONTENT_LENGTH");
	unsigned long long want = length && *length ? strtoull(length, NULL, 10) : 0;
	size_t got = 0;

	if (want > BODY_MAX)
		return -E2BIG;
	req->body = malloc(want + 1);
	if (!req->body)
		return -ENOMEM;
	while (got < want) {
		ssize_t r = get(io, req->body + got, want - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	req->body[got] = '\0';
	req->body_len = got;
	return 0;
}

static void write_response(const struct io *io, struct http_response *res)
{
	char head[HTTP_HEAD_MAX + 1024];
	int n;

	if (res->head_overflow || res->status < 100 || res->status > 599) {
		http_response_clear(res);
		res->status = 500;
		res->head_len = 0;
		res->head[0] = '\0';
	}
	/* no form-action: the sign-out form's redirect to the provider's
	 * end-session endpoint is another origin, and browsers apply
	 * form-action to redirects */
	n = snprintf(
	    head, sizeof(head),
	    "Status: %d %s\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n"
	    "Content-Security-Policy: default-src 'none'; base-uri 'none'; "
	    "frame-ancestors 'none'\r\n%s",
	    res->status, pwb_http_reason(res->status), res->head);
	if (res->body)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
			      "Content-Type: %s\r\nContent-Length: %zu\r\n", res->content_type,
			      res->body_len);
	else
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: 0\r\n");
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	put(io, head, (size_t)n);
	if (res->body)
		put(io, res->body, res->body_len);
}

static void serve_one(struct login_ctx *ctx, const struct io *io, char **envp, bool authorizer)
{
	struct http_request req = {.envp = envp, .authorizer = authorizer};
	struct http_response res = {.status = 500};
	char path[2048];
	const char *query = http_param(envp, "QUERY_STRING");

	req.method = http_param(envp, "REQUEST_METHOD");
	if (!req.method)
		req.method = "GET";
	req.query = query ? query : "";
	req.route = http_route(envp, ctx->cfg.openid_login_path, path, sizeof(path));
	http_client_address(envp, ctx->cfg.openid_trusted_proxies, req.client, sizeof(req.client));
	/* only back-channel logout reads a body: auth_request subrequests may
	 * carry the original request's length without its body */
	if (!authorizer && req.route && strcmp(req.route, "backchannel-logout") == 0 &&
	    strcmp(req.method, "POST") == 0 && read_body(io, &req) < 0) {
		res.status = 413;
	} else {
		login_route(ctx, &req, &res);
	}
	write_response(io, &res);
	http_response_clear(&res);
	free(req.body);
}

/* Client id and secret: systemd credentials when CREDENTIALS_DIRECTORY is
 * set (LoadCredential=openid-client-secret, secure-key), else the
 * configured files. */
static int load_credentials(struct login_ctx *ctx, struct pwb_error *err)
{
	int r = pwb_secret_read_credentials(&ctx->cfg, &ctx->client_id, &ctx->client_secret, err);

	if (r < 0)
		return r;
	if (!ctx->client_id || !ctx->client_secret)
		return pwb_error_set(err, PWB_ECONFIG,
				     "the client-secret file needs client-id= and client-secret=");
	return 0;
}

/* Checks the keys pwb-login cannot run without and derives the redirect
 * URI from them (never from a request). */
static int check_config(struct login_ctx *ctx, struct pwb_error *err)
{
	const struct pwb_config *cfg = &ctx->cfg;
	const char *base = cfg->openid_base_uri, *path = cfg->openid_login_path;
	size_t blen;
	int r;

	if (!cfg->openid_issuer)
		return pwb_error_set(err, PWB_ECONFIG, "auth-openid-issuer is not set");
	if (!base || strncmp(base, "https://", 8) != 0 || strpbrk(base, "?#\\ \t\r\n") ||
	    strlen(base) <= 8)
		return pwb_error_set(err, PWB_ECONFIG,
				     "auth-openid-base-uri must be set to the site's https:// URL");
	if (!path || path[0] != '/' || path[strlen(path) - 1] != '/' || strpbrk(path, "?#\\"))
		return pwb_error_set(err, PWB_ECONFIG,
				     "auth-openid-login-path must start and end with '/'");
	r = pwb_rp_auth_method_parse(cfg->openid_token_method, &ctx->method, err);
	if (r < 0)
		return r;
	blen = strlen(base);
	while (blen > 8 && base[blen - 1] == '/')
		blen--;
	if (asprintf(&ctx->redirect_uri, "%.*s%scallback", (int)blen, base, path) < 0) {
		ctx->redirect_uri = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void ctx_free(struct login_ctx *ctx)
{
	free(ctx->client_id);
	pwb_free_secret(ctx->client_secret);
	free(ctx->redirect_uri);
	state_close(&ctx->store);
	if (ctx->snapshot)
		pwb_snapshot_reader_free(ctx->snapshot);
	pwb_config_free(&ctx->cfg);
}

/* true when the listening socket (fd 0) is a unix socket. */
static bool listens_on_unix(void)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	return getsockname(0, (struct sockaddr *)&sa, &len) == 0 && sa.ss_family == AF_UNIX;
}

/* Ends a request. On a unix socket the connection is closed at once:
 * libfcgi's lingering close (shutdown, then wait up to 2 s for the web
 * server to close its end) kept a worker idle after every auth_request
 * answer until nginx's event loop came round. What the web server already
 * sent and nobody read (the empty stdin record) is drained first, so the
 * close is a plain end of stream; a unix socket never loses the answer it
 * queued. TCP (Apache) keeps libfcgi's close, which guards against a reset
 * discarding the answer. */
static void finish(FCGX_Request *request, bool unix_socket)
{
	if (unix_socket && !request->keepConnection && request->ipcFd >= 0) {
		char trash[1024];

		while (recv(request->ipcFd, trash, sizeof(trash), MSG_DONTWAIT) > 0)
			;
		request->detached = 1; /* libfcgi: close without the linger */
	}
	FCGX_Finish_r(request);
}

static int serve(struct login_ctx *ctx)
{
	FCGX_Request request;
	struct io io = {.fcgi = &request};
	struct sigaction sa = {.sa_handler = on_stop};
	bool unix_socket;

	if (FCGX_IsCGI()) {
		struct io cgi = {.fcgi = NULL};

		serve_one(ctx, &cgi, environ, false);
		fflush(stdout);
		return 0;
	}
	/* no SA_RESTART: a blocked accept returns so the loop can end */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (FCGX_InitRequest(&request, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		return -ENOMEM;
	unix_socket = listens_on_unix();
	while (!stopping && FCGX_Accept_r(&request) >= 0) {
		serve_one(ctx, &io, request.envp, request.role == FCGI_AUTHORIZER);
		finish(&request, unix_socket);
	}
	pwb_log(LOG_INFO, "pwb-login: stopping");
	return 0;
}

int main(int argc, char **argv)
{
	struct login_ctx ctx = {.store = {-1, -1, -1, -1}};
	struct pwb_service_cli cli;
	struct pwb_error err = {0};
	int r = pwb_service_cli_parse(argc, argv, usage, &cli);

	if (r >= 0)
		return r;
	/* start-up failures also go to stderr, for whoever started us */
	pwb_log_init("pwb-login", true, cli.debug);
	if (geteuid() == 0) {
		pwb_log(LOG_ERR, "pwb-login: refusing to run as root; run it as the login-user "
				 "(spawn-fcgi -u pwb-login, or User= in the systemd unit)");
		return 1;
	}
	if (pwb_config_load(pwb_config_path(cli.config_path), true, &ctx.cfg, &err) < 0) {
		pwb_log(LOG_ERR, "pwb-login: %s", err.msg);
		return 1;
	}
	r = check_config(&ctx, &err);
	r = r < 0 ? r : load_credentials(&ctx, &err);
	r = r < 0 ? r : state_open(ctx.cfg.openid_session_dir, &ctx.store, &err);
	if (r == 0 && FCGX_Init() != 0)
		r = pwb_error_set(&err, -ENOMEM, "cannot initialise libfcgi");
	if (r < 0) {
		pwb_log(LOG_ERR, "pwb-login: %s", pwb_error_text(&err, r));
		ctx_free(&ctx);
		return 1;
	}
	pwb_log_init(NULL, cli.to_stderr, cli.debug);
	signal(SIGPIPE, SIG_IGN);
	r = serve(&ctx);
	ctx_free(&ctx);
	return r < 0 ? 1 : 0;
}
