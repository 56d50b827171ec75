/* pwbd: the one store writer (see pwbd.8). Options, the listening socket
 * (socket activation through LISTEN_FDS, or --socket PATH bound here), and
 * the daemon's lifetime; the accept loop is in server.c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>
#include "cleanup.h"
#include "log.h"
#include "metrics.h"
#include "pwbd.h"

#define SD_LISTEN_FDS_START 3

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pwbd [--socket PATH] [--foreground] [--config PATH]\n"
		"            [--read-timeout SECONDS]\n"
		"pwbd is pwb's one store writer. Under systemd it is socket-activated\n"
		"(pwbd.socket); --socket PATH binds PATH itself (tests, no systemd).\n"
		"  --socket PATH          listen on PATH (mode 0666; its directory is\n"
		"                         created 0755 if missing)\n"
		"  --foreground           with --socket: stay in the foreground, log to stderr\n"
		"  --config PATH          pwb.conf (default: $PWB_CONFIG, else %s)\n"
		"  --read-timeout SECONDS how long a client may take to send its request\n"
		"                         (default 5)\n"
		"  --help                 this text\n"
		"  --version              the version\n",
		PWB_CONFIG_DEFAULT_PATH);
}

/* sd_listen_fds(3) semantics: LISTEN_PID must be us; exactly one socket,
 * fd 3, a listening Unix stream socket. The variables are unset. */
static int activated_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int type = 0, listening = 0;
	socklen_t l = sizeof(type);
	char *end;
	long n;

	if (!pid || !fds)
		return -ENOENT;
	errno = 0;
	n = strtol(pid, &end, 10);
	if (errno || *end || n != (long)getpid())
		return -ENOENT;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	n = strtol(fds, &end, 10);
	if (*end || n != 1) {
		fprintf(stderr, "pwbd: LISTEN_FDS=%s: expected exactly one socket\n", fds);
		return -EINVAL;
	}
	if (getsockopt(SD_LISTEN_FDS_START, SOL_SOCKET, SO_TYPE, &type, &l) < 0 ||
	    type != SOCK_STREAM ||
	    getsockopt(SD_LISTEN_FDS_START, SOL_SOCKET, SO_ACCEPTCONN, &listening,
		       &(socklen_t){sizeof(listening)}) < 0 ||
	    !listening) {
		fprintf(stderr, "pwbd: fd 3 is not a listening stream socket\n");
		return -EINVAL;
	}
	fcntl(SD_LISTEN_FDS_START, F_SETFD, FD_CLOEXEC);
	return SD_LISTEN_FDS_START;
}

/* Is something listening at path? */
static bool socket_alive(const struct sockaddr_un *sa)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	return fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
}

static int make_dirs(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	char *parent;
	struct stat sb;

	if (!copy)
		return -ENOMEM;
	if (stat(path, &sb) == 0)
		return S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
	parent = dirname(copy);
	if (strcmp(parent, path) != 0 && strcmp(parent, "/") != 0 && strcmp(parent, ".") != 0) {
		int r = make_dirs(parent);

		if (r < 0)
			return r;
	}
	if (mkdir(path, 0755) < 0)
		return errno == EEXIST ? 0 : -errno;
	return chmod(path, 0755) < 0 ? -errno : 0; /* whatever the umask */
}

/* Binds path: its directory made 0755 if missing, a stale socket (nothing
 * listening) replaced, the socket 0666 (pwbd authorises by peer uid). */
static int bind_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_free_ char *copy = strdup(path);
	_cleanup_close_ int fd = -1;
	struct stat sb;
	int r;

	if (!copy)
		return -ENOMEM;
	if (strlen(path) >= sizeof(sa.sun_path) || path[0] != '/') {
		fprintf(stderr, "pwbd: --socket %s: need an absolute path shorter than %zu bytes\n",
			path, sizeof(sa.sun_path));
		return -EINVAL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = make_dirs(dirname(copy));
	if (r < 0) {
		fprintf(stderr, "pwbd: cannot make the directory of %s: %s\n", path, strerror(-r));
		return r;
	}
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			fprintf(stderr, "pwbd: %s exists and is not a socket\n", path);
			return -EEXIST;
		}
		if (socket_alive(&sa)) {
			fprintf(stderr, "pwbd: another pwbd already listens on %s\n", path);
			return -EADDRINUSE;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0 ||
	    listen(fd, 64) < 0) {
		r = -errno;
		fprintf(stderr, "pwbd: cannot listen on %s: %s\n", path, strerror(errno));
		return r;
	}
	return PWB_TAKE_FD(fd);
}

static int daemonize(void)
{
	pid_t pid = fork();
	int null;

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	setsid();
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"config", required_argument, NULL, 'c'},
	    {"read-timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct pwbd d = {.read_timeout_ms = 5000};
	struct pwb_error err = {0};
	const char *socket_path = NULL, *config = NULL;
	bool foreground = false;
	int c, fd, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			socket_path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'c':
			config = optarg;
			break;
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 1 || v > 3600) {
				fprintf(stderr, "pwbd: --read-timeout: 1..3600 seconds\n");
				return 2;
			}
			d.read_timeout_ms = (int)v * 1000;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("pwbd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	d.config_path = pwb_config_path(config);
	pwb_log_init("pwbd", foreground, false);
	if (socket_path)
		fd = bind_socket(socket_path);
	else {
		fd = activated_socket();
		if (fd == -ENOENT)
			fprintf(stderr,
				"pwbd: no socket: run it from pwbd.socket (systemd) or give "
				"--socket PATH\n");
	}
	if (fd < 0)
		return 1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	r = pwbd_config_refresh(&d, &err);
	if (r < 0) {
		fprintf(stderr, "pwbd: %s\n", pwb_error_text(&err, r));
		if (socket_path)
			unlink(socket_path);
		return 1;
	}
	if (socket_path && !foreground && daemonize() < 0) {
		fprintf(stderr, "pwbd: cannot fork: %s\n", strerror(errno));
		return 1;
	}
	pwb_log(LOG_INFO, "pwbd %s: serving %s", PACKAGE_VERSION,
		socket_path ? socket_path : "the activated socket");
	pwbd_metrics_start();
	r = pwbd_serve(&d, fd);
	pwbd_close(&d);
	if (socket_path)
		unlink(socket_path);
	close(fd);
	return r < 0 ? 1 : 0;
}
