/* How pwbadm reaches the store: every command that reads or writes it sends
 * one request to pwbd (an op of pwbd_ops_admin, arguments and result as
 * JSON). With --offline (pwbd stopped: recovery, rebuild-nss, import of a
 * whole store) pwbadm opens the store itself and runs the same handlers
 * in-process; the store's lock refuses that while pwbd holds the store. */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "cleanup.h"
#include "names.h"
#include "ops.h"
#include "publish.h"
#include "pwbadm.h"

/* Who acts, as pwbd records it: the administrator behind sudo, else the
 * login uid's user, else the uid's. */
static void actor_fill(struct pwb_actor *a)
{
	const char *sudo = getenv("SUDO_USER");
	unsigned long luid = (unsigned long)-1;
	struct passwd *pw = NULL;
	FILE *f;

	memset(a, 0, sizeof(*a));
	snprintf(a->kind, sizeof(a->kind), "pwbadm");
	a->uid = (uint32_t)getuid();
	if (sudo && pwb_names_is_valid(sudo)) {
		snprintf(a->name, sizeof(a->name), "%s", sudo);
		return;
	}
	f = fopen("/proc/self/loginuid", "re");
	if (f) {
		if (fscanf(f, "%lu", &luid) != 1)
			luid = (unsigned long)-1;
		fclose(f);
	}
	if (luid != (unsigned long)-1 && luid != 4294967295UL)
		pw = getpwuid((uid_t)luid);
	if (!pw)
		pw = getpwuid(getuid());
	if (pw)
		snprintf(a->name, sizeof(a->name), "%s", pw->pw_name);
	else
		snprintf(a->name, sizeof(a->name), "%u", (unsigned)getuid());
}

/* The pid of the process serving the socket (pwbd), or 0. */
static pid_t socket_server_pid(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	struct ucred cred = {0};
	socklen_t len = sizeof(cred);

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return 0;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return 0;
	return cred.pid;
}

static int open_offline(struct pwbadm *adm)
{
	struct pwb_error err = {0};
	pid_t pid;
	int rc;

	if (adm->store)
		return 0;
	rc = pwb_store_open(&adm->cfg, &adm->store, &err);
	/* As in pwbd: the publisher runs after each commit. */
	if (rc == 0 && (rc = pwb_publish_attach(adm->store, &err)) < 0) {
		pwb_store_close(adm->store);
		adm->store = NULL;
	}
	if (rc == PWB_EBUSY) {
		pid = socket_server_pid(adm->cfg.pwbd_socket);
		if (pid > 0)
			return pwbadm_fail("pwbd is running (pid %ld): stop it first, or run "
					   "without --offline",
					   (long)pid);
		return pwbadm_fail("the store in %s is in use (%s): stop pwbd first, or run "
				   "without --offline",
				   adm->cfg.db_dir, pwb_error_text(&err, rc));
	}
	if (rc < 0)
		return pwbadm_fail("cannot open the store in %s: %s", adm->cfg.db_dir,
				   pwb_error_text(&err, rc));
	return 0;
}

static const struct pwbd_op *op_find(const char *name)
{
	const struct pwbd_op *op;

	for (op = pwbd_ops_admin; op->name; op++)
		if (strcmp(op->name, name) == 0)
			return op;
	return NULL;
}

/* --offline: the handler pwbd would run, on the store opened here. */
static int call_offline(struct pwbadm *adm, const char *op_name, json_t *args, json_t **result,
			struct pwb_error *err)
{
	const struct pwbd_op *op = op_find(op_name);
	struct pwb_rpc_request req = {0};
	struct pwbd_call call = {0};
	int r;

	if (!op)
		return pwb_error_set(err, PWB_EINVAL, "no operation %s", op_name);
	/* On a cluster host the local store is the replica pwbd's follower
	 * keeps: a change made here would exist on this host only. Rebuilding
	 * the snapshot from it is still a local repair. */
	if (op->writes && pwb_config_cluster(&adm->cfg) && strcmp(op_name, "snapshot.rebuild") != 0)
		return pwb_error_set(err, PWB_EPERM,
				     "--offline: this host's store is a replica of the cluster "
				     "database (store-backend=postgresql); make changes through "
				     "pwbd, without --offline");
	if (open_offline(adm))
		return PWBADM_CALL_REPORTED;
	snprintf(req.op, sizeof(req.op), "%s", op_name);
	pwb_rpc_new_id(req.id);
	req.args = args;
	call.st = adm->store;
	call.cfg = &adm->cfg;
	call.role = PWBD_ROLE_ROOT;
	call.in_process = true;
	call.req = &req;
	actor_fill(&call.actor);
	call.progress = adm->progress;
	pwb_store_set_request(adm->store, &call.actor, req.id);
	pwb_store_set_progress(adm->store, &adm->progress);
	r = op->fn(&call, result, err);
	pwb_store_set_progress(adm->store, NULL);
	return r;
}

int pwbadm_call(struct pwbadm *adm, const char *op, json_t *args, json_t **result,
		struct pwb_error *err)
{
	_cleanup_json_ json_t *owned = args;
	struct pwb_actor actor;

	*result = NULL;
	if (!args)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if (pwbadm_load_config(adm))
		return PWBADM_CALL_REPORTED;
	if (adm->offline)
		return call_offline(adm, op, args, result, err);
	actor_fill(&actor);
	return pwb_rpc_call_progress(&adm->cfg, op, &actor, args, &adm->progress, result, NULL,
				     err);
}

int pwbadm_call_pages(struct pwbadm *adm, const char *op, json_t *args, const char *key,
		      json_t **result, struct pwb_error *err)
{
	_cleanup_json_ json_t *owned = args, *all = json_array();
	json_t *page = NULL, *page_args;
	const char *next;
	int rc;

	*result = NULL;
	if (!args || !all)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	for (;;) {
		page_args = json_copy(args);
		if (page && page_args) {
			/* on from where the last page stopped */
			json_object_set(page_args, "after", json_object_get(page, "next"));
			if (json_object_get(page, "seen"))
				json_object_set(page_args, "seen", json_object_get(page, "seen"));
		}
		json_decref(page);
		page = NULL;
		rc = pwbadm_call(adm, op, page_args, &page, err);
		if (rc)
			return rc;
		if (json_array_extend(all, json_object_get(page, key)) < 0) {
			json_decref(page);
			return pwb_error_set(err, -ENOMEM, "out of memory");
		}
		pwb_progress_report(&adm->progress, "listing", json_array_size(all), -1, key);
		next = json_string_value(json_object_get(page, "next"));
		if (!next)
			break;
	}
	json_object_set(page, key, all);
	*result = page;
	return 0;
}

int pwbadm_call_fail(int rc, const struct pwb_error *err, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	if (rc == PWBADM_CALL_REPORTED)
		return PWBADM_EXIT_FAILURE;
	/* pwbd unreachable: one line naming the socket, nothing else. */
	if (rc == PWB_ENODAEMON)
		return pwbadm_fail("%s", pwb_error_text(err, rc));
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return pwbadm_fail("%s: %s", what, pwb_error_text(err, rc));
}
