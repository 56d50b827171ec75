/* pwbd-call: a test tool that talks to pwbd.
 *   pwbd-call [--socket PATH] [--actor JSON] [--print-id] OP [JSON-ARGS]
 *     sends one request through pwb_rpc_call (the socket from pwb.conf
 *     unless --socket) and prints the reply's result JSON; on error prints
 *     "pwbd-call: CODE: message" on stderr and exits 1. --print-id first
 *     prints "id: REQUEST-ID" on stderr.
 *   pwbd-call --raw [--socket PATH]
 *     sends stdin's bytes as they are (no framing added), then prints the
 *     reply payload, or "closed" when pwbd closed the connection without
 *     one (exit 3). For malformed-frame tests. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "cleanup.h"
#include "rpc.h"

static int raw_mode(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pwb_error err = {0};
	_cleanup_free_ char *reply = NULL;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char buf[65536];
	size_t len;
	ssize_t n;

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return 2;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "pwbd-call: connect %s: %s\n", path, strerror(errno));
		return 2;
	}
	while ((n = read(0, buf, sizeof(buf))) > 0)
		if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
			break; /* pwbd may close early: read what it said */
	if (pwb_rpc_read_frame(fd, timeout_ms, &reply, &len, &err) < 0) {
		printf("closed\n");
		fprintf(stderr, "pwbd-call: %s\n", err.msg);
		return 3;
	}
	printf("%s\n", reply);
	return 0;
}

static int parse_actor(const char *text, struct pwb_actor *a)
{
	json_auto_t *j = json_loads(text, 0, NULL);
	const char *kind = NULL, *name = NULL, *service = NULL, *rhost = NULL;

	if (!j || json_unpack(j, "{s?s, s?s, s?s, s?s !}", "kind", &kind, "name", &name, "service",
			      &service, "rhost", &rhost) < 0)
		return -1;
	snprintf(a->kind, sizeof(a->kind), "%s", kind ? kind : "");
	snprintf(a->name, sizeof(a->name), "%s", name ? name : "");
	snprintf(a->service, sizeof(a->service), "%s", service ? service : "");
	snprintf(a->rhost, sizeof(a->rhost), "%s", rhost ? rhost : "");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"actor", required_argument, NULL, 'a'},
	    {"raw", no_argument, NULL, 'r'},
	    {"print-id", no_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	struct pwb_config cfg = {0};
	struct pwb_error err = {0};
	struct pwb_actor actor = {0};
	const char *socket_path = NULL;
	bool raw = false, have_actor = false, print_id = false;
	char id[PWB_RPC_ID_MAX + 1] = "";
	json_auto_t *args = NULL, *result = NULL;
	_cleanup_free_ char *out = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			socket_path = optarg;
		else if (c == 'r')
			raw = true;
		else if (c == 'p')
			print_id = true;
		else if (c == 'a' && parse_actor(optarg, &actor) == 0)
			have_actor = true;
		else {
			fprintf(stderr, "usage: pwbd-call [--socket PATH] [--actor JSON] OP "
					"[JSON-ARGS] | --raw\n");
			return 2;
		}
	}
	r = pwb_config_load(pwb_config_path(NULL), true, &cfg, &err);
	if (r < 0) {
		fprintf(stderr, "pwbd-call: %s\n", pwb_error_text(&err, r));
		return 2;
	}
	if (socket_path) {
		free(cfg.pwbd_socket);
		cfg.pwbd_socket = strdup(socket_path);
	}
	if (raw) {
		r = raw_mode(cfg.pwbd_socket, (int)cfg.pwbd_timeout * 1000);
		pwb_config_free(&cfg);
		return r;
	}
	if (optind >= argc || argc - optind > 2) {
		fprintf(stderr, "usage: pwbd-call [--socket PATH] OP [JSON-ARGS]\n");
		return 2;
	}
	args = json_loads(optind + 1 < argc ? argv[optind + 1] : "{}", 0, NULL);
	if (!json_is_object(args)) {
		fprintf(stderr, "pwbd-call: JSON-ARGS must be a JSON object\n");
		return 2;
	}
	r = pwb_rpc_call(&cfg, argv[optind], have_actor ? &actor : NULL, args, &result, id, &err);
	pwb_config_free(&cfg);
	if (print_id)
		fprintf(stderr, "id: %s\n", id);
	if (r < 0) {
		fprintf(stderr, "pwbd-call: %d: %s\n", r, pwb_error_text(&err, r));
		return 1;
	}
	out = json_dumps(result, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s\n", out ? out : "{}");
	return 0;
}
