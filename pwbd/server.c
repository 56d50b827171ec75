/* pwbd's accept loop: one connection at a time; the peer's uid
 * (SO_PEERCRED) gives its role before anything is read, so a caller with
 * no role can never hold the daemon; the request must arrive within the
 * read timeout. pwb.conf is re-read when it changed (one stat per
 * request), and the store reopened when db-dir changed. SIGTERM or SIGINT
 * end the loop once the current request is answered. */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "cleanup.h"
#include "cluster.h"
#include "log.h"
#include "metrics.h"
#include "publish.h"
#include "pwbd.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int pwbd_config_refresh(struct pwbd *d, struct pwb_error *err)
{
	struct pwb_config fresh = {0};
	struct stat sb = {0};
	bool loaded = d->cfg.db_dir != NULL;
	int r;

	if (stat(d->config_path, &sb) < 0)
		memset(&sb, 0, sizeof(sb)); /* missing: defaults stand */
	if (loaded && same_file(&sb, &d->cfg_stat))
		return 0;
	r = pwb_config_load(d->config_path, true, &fresh, err);
	if (r < 0) {
		if (!loaded)
			return r;
		pwb_log(LOG_ERR,
			"pwbd: %s changed but cannot be used, keeping the old settings: %s",
			d->config_path, pwb_error_text(err, r));
		d->cfg_stat = sb; /* say it once per change */
		return 0;
	}
	/* The cluster store reads the settings it was opened with (DSN,
	 * role, intervals): it is reopened with the new ones at the next
	 * pwbd_store_ensure. */
	pwbd_cluster_close(d);
	if (loaded && d->st && strcmp(fresh.db_dir, d->cfg.db_dir) != 0) {
		pwb_log(LOG_INFO, "pwbd: db-dir changed from %s to %s: reopening the store",
			d->cfg.db_dir, fresh.db_dir);
		pwb_store_close(d->st);
		d->st = NULL;
	}
	if (loaded)
		pwb_config_free(&d->cfg);
	pwbd_account_forget_tokens();
	d->cfg = fresh;
	d->cfg_stat = sb;
	return 0;
}

/* The change log's retention (change-log-retention-days, -entries) is
 * applied when the store opens and then once a day, at the first request
 * after: one small transaction, never inside a request's own. */
static void trim_when_due(struct pwbd *d)
{
	struct pwb_error err = {0};
	int64_t now = (int64_t)time(NULL);
	int r;

	if (now < d->next_trim)
		return;
	d->next_trim = now + 86400;
	r = pwb_publish_trim(d->st, &err);
	if (r < 0)
		pwb_log(LOG_WARNING, "pwbd: trimming the change log: %s", pwb_error_text(&err, r));
}

int pwbd_store_ensure(struct pwbd *d, struct pwb_error *err)
{
	int r;

	if (d->st) {
		trim_when_due(d);
		return pwbd_cluster_open(d, err);
	}
	r = pwb_store_open(&d->cfg, &d->st, err);
	if (r < 0) {
		d->st = NULL;
		pwb_log(LOG_ERR, "pwbd: cannot open the store: %s", pwb_error_text(err, r));
		return r;
	}
	/* The publisher is the store's commit hook; attaching also publishes
	 * what a writer killed after its commit left unpublished. A failure
	 * there is logged: the hook is installed, so the next commit (or
	 * `pwbadm rebuild-nss`) catches up. */
	r = pwb_publish_attach(d->st, err);
	pwbd_metrics_time_publisher(d->st);
	if (r < 0)
		pwb_log(LOG_ERR, "pwbd: publishing the NSS snapshot failed: %s",
			pwb_error_text(err, r));
	d->next_trim = 0;
	trim_when_due(d);
	/* Cluster mode: the store just opened is this host's replica. Its
	 * writes must never stay local, so a cluster store that cannot be
	 * opened (a missing backend object, a bad configuration) fails every
	 * request until it can; a database that is down does not. */
	r = pwbd_cluster_open(d, err);
	if (r < 0)
		pwb_log(LOG_ERR, "pwbd: cannot open the cluster store: %s", pwb_error_text(err, r));
	return r;
}

void pwbd_close(struct pwbd *d)
{
	pwbd_cluster_close(d);
	if (d->st)
		pwb_store_close(d->st);
	d->st = NULL;
	if (d->cfg.db_dir)
		pwb_config_free(&d->cfg);
	memset(&d->cfg, 0, sizeof(d->cfg));
}

static bool uid_of(const char *name, uid_t *uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (!name || !*name || getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return false;
	*uid = res->pw_uid;
	return true;
}

unsigned pwbd_role_of(const struct pwbd *d, uid_t uid)
{
	uid_t u;

	if (uid == 0)
		return PWBD_ROLE_ROOT;
	if (uid_of(d->cfg.scim_user, &u) && u == uid)
		return PWBD_ROLE_SCIM;
	if (uid_of(d->cfg.login_user, &u) && u == uid)
		return PWBD_ROLE_LOGIN;
	return 0;
}

static void send_reply(int fd, int timeout_ms, char *reply)
{
	struct pwb_error err = {0};

	if (!reply)
		return;
	if (pwb_rpc_write_frame(fd, timeout_ms, reply, strlen(reply), &err) < 0)
		pwb_log(LOG_NOTICE, "pwbd: could not send a reply: %s", err.msg);
	free(reply);
}

static void serve_one(struct pwbd *d, int fd)
{
	struct ucred cred = {0};
	socklen_t clen = sizeof(cred);
	struct pwb_error err = {0};
	_cleanup_free_ char *payload = NULL;
	size_t len = 0;
	unsigned role;
	char msg[128];
	int r;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || clen != sizeof(cred)) {
		pwb_log(LOG_WARNING, "pwbd: refused a connection: no peer credentials: %s",
			strerror(errno));
		return;
	}
	if (pwbd_config_refresh(d, &err) < 0) {
		send_reply(fd, d->read_timeout_ms,
			   pwbd_reply_error(NULL, err.code ? err.code : PWB_ECONFIG, err.msg));
		return;
	}
	role = pwbd_role_of(d, cred.uid);
	if (!role) {
		pwb_log(LOG_WARNING,
			"pwbd: refused uid %u (pid %d): not root, scim-user or login-user",
			(unsigned)cred.uid, (int)cred.pid);
		snprintf(msg, sizeof(msg), "pwbd serves no op to uid %u", (unsigned)cred.uid);
		send_reply(fd, d->read_timeout_ms, pwbd_reply_error(NULL, PWB_EPERM, msg));
		return;
	}
	r = pwb_rpc_read_frame(fd, d->read_timeout_ms, &payload, &len, &err);
	if (r < 0) {
		pwb_log(LOG_WARNING, "pwbd: dropped a connection from uid %u: %s",
			(unsigned)cred.uid, pwb_error_text(&err, r));
		if (r == PWB_EINVAL)
			send_reply(fd, d->read_timeout_ms, pwbd_reply_error(NULL, r, err.msg));
		return;
	}
	send_reply(fd, d->read_timeout_ms, pwbd_dispatch(d, role, cred.uid, payload, len, fd));
}

int pwbd_serve(struct pwbd *d, int listen_fd)
{
	struct sigaction sa = {.sa_handler = on_stop};
	sigset_t block, orig;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);
	while (!stop_requested) {
		struct pollfd p[2] = {{.fd = listen_fd, .events = POLLIN}, {.fd = -1}};
		struct timespec ts;
		_cleanup_close_ int fd = -1;
		int timeout, r;

		/* A cluster host follows from the start (and after a reload), not
		 * from its next request. */
		if (!d->cluster && pwb_config_cluster(&d->cfg)) {
			struct pwb_error err = {0};

			pwbd_store_ensure(d, &err); /* logged there */
		}
		p[1] = (struct pollfd){.fd = pwbd_cluster_poll_fd(d),
				       .events = pwbd_cluster_poll_events(d)};
		timeout = pwbd_cluster_poll_timeout(d);
		ts = (struct timespec){timeout / 1000, (long)(timeout % 1000) * 1000000};
		/* signals only arrive here */
		r = ppoll(p, p[1].fd >= 0 ? 2 : 1, timeout >= 0 ? &ts : NULL, &orig);

		if (r < 0 && errno != EINTR) {
			pwb_log(LOG_ERR, "pwbd: poll: %s", strerror(errno));
			return -errno;
		}
		if (d->cluster && r >= 0)
			pwbd_cluster_tick(d); /* notifications, the poll, reconnecting */
		if (r <= 0 || !(p[0].revents & POLLIN))
			continue;
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
				pwb_log(LOG_ERR, "pwbd: accept: %s", strerror(errno));
			if (errno == EMFILE || errno == ENFILE || errno == ENOMEM)
				usleep(100000);
			continue;
		}
		serve_one(d, fd);
	}
	pwb_log(LOG_INFO, "pwbd: stopping");
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return 0;
}
