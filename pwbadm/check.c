/* pwbadm check: diagnoses a setup, one line per check ("ok", "WARN" or
 * "FAIL", what was checked, and for anything not ok the fix). It reads the
 * real system files (nsswitch.conf, pam.d, nscd.conf) so that it works in a
 * mount namespace whose /etc files are bind-mounted. What the store holds
 * comes from pwbd (store.audit, user.list, group.list). */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "cleanup.h"
#include "http.h"
#include "pwbadm.h"
#include "store.h"
#include "secret.h"
#include "reader.h"
#include "util.h"

#ifndef PWB_PAMMODDIR
#define PWB_PAMMODDIR "/usr/lib/security"
#endif

#define NSSWITCH_CONF "/etc/nsswitch.conf"
#define PAM_DIR	      "/etc/pam.d"
#define NSCD_CONF     "/etc/nscd.conf"
#define DISCOVERY_MAX (256 * 1024)

enum level {
	OK,
	WARN,
	FAIL
};

struct check {
	struct pwbadm *adm;
	bool config_ok;
	struct pwb_config cfg; /* the file's, or defaults when it failed */
	unsigned fails, warns;
	char skel[PATH_MAX]; /* skel= of pam_pwb_mkhome, or /etc/skel */
};

/* One report line: LEVEL  AREA: what[; fix: how]. */
static void report(struct check *c, enum level level, const char *area, const char *fix,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void report(struct check *c, enum level level, const char *area, const char *fix,
		   const char *fmt, ...)
{
	static const char *const names[] = {"ok", "WARN", "FAIL"};
	va_list ap;

	printf("%-4s  %s: ", names[level], area);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (level != OK && fix)
		printf("; fix: %s", fix);
	putchar('\n');
	c->fails += level == FAIL;
	c->warns += level == WARN;
}

/* ---- configuration and store ---- */

static void check_config(struct check *c)
{
	struct pwb_error err = {0};
	const char *path = pwb_config_path(c->adm->config_path);
	int rc;

	rc = pwb_config_load(path, false, &c->cfg, &err);
	if (rc == 0) {
		c->config_ok = true;
		report(c, OK, "config", NULL, "%s parses", path);
		return;
	}
	report(c, FAIL, "config", "create or correct it (see pwb.conf(5) and examples/pwb.conf)",
	       "%s", pwb_error_text(&err, rc));
	pwb_config_defaults(&c->cfg);
}

/* The snapshot as nss_pwb reads it: lib/snapshot's one reader. */
struct snapshot {
	struct pwb_snapshot_reader *reader;
};

static void snapshot_close(struct snapshot *s)
{
	pwb_snapshot_reader_free(s->reader);
	s->reader = NULL;
}

/* Copies the start of key's value (at most size - 1 bytes: the checks
 * compare prefixes, and a large group's member list must not look absent)
 * into out; false if absent, a tombstone or unreadable. */
static bool snapshot_lookup(struct snapshot *s, const char *key, char *out, size_t size)
{
	_cleanup_free_ char *big = NULL;
	size_t len, cap = 64 * 1024;
	int r = pwb_snapshot_get(s->reader, PWB_SNAPSHOT_PUBLIC, key, out, size, &len);

	while (r == -ERANGE && cap <= 16 * 1024 * 1024) {
		free(big);
		big = malloc(cap);
		if (!big)
			return false;
		r = pwb_snapshot_get(s->reader, PWB_SNAPSHOT_PUBLIC, key, big, cap, &len);
		cap *= 4;
	}
	if (r == 0 && big)
		snprintf(out, size, "%s", big);
	return r == 0;
}

/* The first record of records (user.list or group.list's) that the
 * snapshot does not resolve to the same name and ids, as "user NAME", into
 * stale; *checked counts the records compared. */
static void compare_records(struct snapshot *snap, json_t *records, bool users, uint64_t *checked,
			    char *stale, size_t size)
{
	char key[64], want[80], line[256];
	const char *name;
	json_t *r;
	size_t i;

	json_array_foreach(records, i, r)
	{
		name = json_string_value(json_object_get(r, "name")) ?: "";
		if (users) {
			snprintf(key, sizeof(key), PWB_SNAP_KEY_PASSWD_NAME "%s", name);
			snprintf(want, sizeof(want), "%s:x:%lld:%lld:", name,
				 (long long)json_integer_value(json_object_get(r, "uid")),
				 (long long)json_integer_value(json_object_get(r, "gid")));
		} else {
			snprintf(key, sizeof(key), PWB_SNAP_KEY_GROUP_NAME "%s", name);
			snprintf(want, sizeof(want), "%s:x:%lld:", name,
				 (long long)json_integer_value(json_object_get(r, "gid")));
		}
		(*checked)++;
		if (!snapshot_lookup(snap, key, line, sizeof(line)) ||
		    strncmp(line, want, strlen(want)) != 0) {
			snprintf(stale, size, "%s %s", users ? "user" : "group", name);
			return;
		}
	}
}

/* Present: delta.db names a mid and a base that exist. Current: every
 * user and group in the store resolves in it to the same name and ids. */
static void check_snapshot(struct check *c, json_t *users, json_t *groups)
{
	static const char fix[] = "pwbadm rebuild-nss";
	struct snapshot snap = {0};
	char dir[PATH_MAX], stale[96] = "";
	uint64_t checked = 0, seq;

	snprintf(dir, sizeof(dir), "%s/" PWB_SNAP_DIR, c->cfg.db_dir);
	if (pwb_snapshot_reader_new(dir, &snap.reader) < 0 ||
	    pwb_snapshot_seq(snap.reader, &seq) < 0) {
		report(c, FAIL, "snapshot", fix,
		       "%s: delta.db, or the mid or base file it names, is missing or unreadable",
		       dir);
		goto out;
	}
	compare_records(&snap, users, true, &checked, stale, sizeof(stale));
	if (!stale[0])
		compare_records(&snap, groups, false, &checked, stale, sizeof(stale));
	if (stale[0])
		report(c, FAIL, "snapshot", fix, "%s is missing or stale in %s", stale, dir);
	else
		report(c, OK, "snapshot", NULL, "%s present and current (%llu records checked)",
		       dir, (unsigned long long)checked);
out:
	snapshot_close(&snap);
}

/* ---- identities and policy (what the store holds) ---- */

#define NAMES_SHOWN    10
#define PROBLEMS_SHOWN 20

/* A count and the first few names, "a, b, c". */
struct name_list {
	uint64_t count;
	char text[NAMES_SHOWN * (PWB_NAME_MAX + 2) + 1];
};

static void name_list_add(struct name_list *l, const char *name)
{
	size_t used = strlen(l->text);

	if (l->count++ < NAMES_SHOWN)
		snprintf(l->text + used, sizeof(l->text) - used, "%s%s", used ? ", " : "", name);
}

/* " (and N more)" when the list was capped. */
static const char *name_list_more(const struct name_list *l, char *buf, size_t size)
{
	buf[0] = '\0';
	if (l->count > NAMES_SHOWN)
		snprintf(buf, size, " (and %llu more)",
			 (unsigned long long)(l->count - NAMES_SHOWN));
	return buf;
}

struct binding_ctx {
	uint64_t users;
	struct name_list pending; /* created unbound: the first sign-in binds */
	struct name_list unbound; /* from before bindings */
};

static void note_bindings(struct binding_ctx *b, json_t *users)
{
	const char *name;
	json_t *u;
	size_t i;

	memset(b, 0, sizeof(*b));
	json_array_foreach(users, i, u)
	{
		b->users++;
		if (json_is_true(json_object_get(u, "bound")))
			continue;
		name = json_string_value(json_object_get(u, "name")) ?: "";
		name_list_add(json_is_true(json_object_get(u, "bindOnLogin")) ? &b->pending
									      : &b->unbound,
			      name);
	}
}

/* Users not bound to an IdP identity yet: those created unbound bind at
 * their first sign-in (fine); those from before bindings bind only when
 * pwb.conf allows it, and then to whoever signs in with the name first. */
static void check_identities(struct check *c, json_t *users)
{
	struct binding_ctx b;
	char more[48];
	bool allowed = c->cfg.openid_bind_existing_users || c->cfg.openid_username_domains;

	note_bindings(&b, users);
	if (b.pending.count)
		report(c, OK, "identity", NULL,
		       "%llu user%s not yet signed in bind to their IdP subject at the first "
		       "sign-in: %s%s",
		       (unsigned long long)b.pending.count, b.pending.count == 1 ? "" : "s",
		       b.pending.text, name_list_more(&b.pending, more, sizeof(more)));
	if (b.unbound.count && allowed)
		report(c, WARN, "identity",
		       "pwbadm rebind-user NAME --subject SUB binds one to a known subject now",
		       "%llu user%s from before identity binding: the next sign-in with the "
		       "name binds it to whoever signs in: %s%s",
		       (unsigned long long)b.unbound.count, b.unbound.count == 1 ? "" : "s",
		       b.unbound.text, name_list_more(&b.unbound, more, sizeof(more)));
	else if (b.unbound.count)
		report(c, WARN, "identity",
		       "pwbadm rebind-user NAME --subject SUB, or allow binding at sign-in with "
		       "auth-openid-bind-existing-users=1 or auth-openid-username-domains "
		       "(pwb.conf(5))",
		       "%llu user%s from before identity binding, not bound, and sign-in does "
		       "not bind them: %s%s",
		       (unsigned long long)b.unbound.count, b.unbound.count == 1 ? "" : "s",
		       b.unbound.text, name_list_more(&b.unbound, more, sizeof(more)));
	if (!b.pending.count && !b.unbound.count)
		report(c, OK, "identity", NULL, "all %llu users are bound to an IdP subject",
		       (unsigned long long)b.users);
}

/* Records the store holds that its policy would refuse today (written
 * before it, or planted) and records it cannot read: each a FAIL, listed,
 * and none stops the other checks. */
static void check_policy(struct check *c, json_t *problems)
{
	static const char fix[] = "correct the record (SCIM PUT or PATCH) or remove it (pwbadm "
				  "delete-user); see pwb.conf(5) for the policy";
	uint64_t count = (uint64_t)json_integer_value(json_object_get(problems, "count"));
	json_t *line;
	size_t i;

	if (count == 0) {
		report(c, OK, "policy", NULL, "every user and group fits the policy");
		return;
	}
	json_array_foreach(json_object_get(problems, "lines"), i, line)
	{
		report(c, FAIL, "policy", fix, "%s", json_string_value(line) ?: "");
	}
	if (count > json_array_size(json_object_get(problems, "lines")))
		report(c, FAIL, "policy", fix, "%llu problems in all, the first %zu above",
		       (unsigned long long)count,
		       json_array_size(json_object_get(problems, "lines")));
}

/* SCIM tokens: expired, expiring within PWB_TOKEN_EXPIRY_WARN_DAYS, or
 * unused for PWB_TOKEN_UNUSED_WARN_DAYS (never used: counted from its
 * creation); each a WARN naming the token. Last use is known to the
 * minute (see pwb_token_touch). */
static void check_tokens(struct check *c)
{
	_cleanup_json_ json_t *result = NULL;
	struct pwb_error err = {0};
	int64_t now = pwb_now(), unused = (int64_t)PWB_TOKEN_UNUSED_WARN_DAYS * 86400;
	char when[32];
	unsigned warned = 0;
	struct pwb_token t;
	json_t *record;
	size_t i;
	int rc;

	rc = pwbadm_call(c->adm, "token.list", json_object(), &result, &err);
	if (rc) {
		report(c, FAIL, "tokens", "see pwbd's log", "cannot list tokens: %s",
		       rc == PWBADM_CALL_REPORTED ? "see above" : pwb_error_text(&err, rc));
		return;
	}
	json_array_foreach(json_object_get(result, "tokens"), i, record)
	{
		if (pwb_token_from_json(record, 0, &t, &err) < 0)
			continue;
		if (t.expires && t.expires <= now) {
			pwbadm_time_text(t.expires, when);
			report(c, WARN, "tokens", "pwbadm revoke-token NAME once no IdP uses it",
			       "token %s expired %s", t.name, when);
			warned++;
		} else if (t.expires &&
			   t.expires - now <= (int64_t)PWB_TOKEN_EXPIRY_WARN_DAYS * 86400) {
			pwbadm_time_text(t.expires, when);
			report(c, WARN, "tokens",
			       "generate a new token, give it to the IdP, then revoke this one",
			       "token %s expires %s (in %lld days)", t.name, when,
			       (long long)((t.expires - now + 86399) / 86400));
			warned++;
		}
		if (now - (t.last_used ? t.last_used : t.created) >= unused) {
			pwbadm_time_text(t.last_used ? t.last_used : t.created, when);
			report(c, WARN, "tokens", "pwbadm revoke-token NAME if no IdP uses it",
			       t.last_used ? "token %s unused since %s (%d days or more)"
					   : "token %s never used since it was created %s (%d days "
					     "or more)",
			       t.name, when, PWB_TOKEN_UNUSED_WARN_DAYS);
			warned++;
		}
	}
	if (!warned)
		report(c, OK, "tokens", NULL,
		       "%zu SCIM tokens, none expiring within %d days or unused for %d",
		       json_array_size(json_object_get(result, "tokens")),
		       PWB_TOKEN_EXPIRY_WARN_DAYS, PWB_TOKEN_UNUSED_WARN_DAYS);
}

/* pwb-scim's Prometheus endpoint: off, on for loopback clients, or behind
 * a token file pwbd must be able to use. */
static void check_metrics(struct check *c)
{
	const char *path = c->cfg.scim_metrics_path, *file = c->cfg.scim_metrics_token_file;
	char token[512];
	struct pwb_error err = {0};
	int rc;

	if (!c->config_ok || !path)
		return;
	if (!file) {
		report(c, OK, "metrics", NULL, "%s served to loopback clients only", path);
		return;
	}
	rc = pwb_secret_read_token_file(file, token, sizeof(token), &err);
	OPENSSL_cleanse(token, sizeof(token));
	if (rc < 0)
		report(c, FAIL, "metrics", "one token on one line, root-owned, mode 0600",
		       "scim-metrics-token-file: %s", pwb_error_text(&err, rc));
	else
		report(c, OK, "metrics", NULL, "%s served with the token in %s", path, file);
}

/* The store's part, from pwbd: store.audit (verify, policy), user.list and
 * group.list (snapshot, identities). */
static int store_facts(struct check *c, json_t **audit, json_t **users, json_t **groups,
		       struct pwb_error *err)
{
	int rc;

	*audit = *users = *groups = NULL;
	rc = pwbadm_call(c->adm, "store.audit", json_object(), audit, err);
	if (rc == 0)
		rc = pwbadm_call_pages(c->adm, "user.list", json_pack("{s:b}", "all", 1), "users",
				       users, err);
	if (rc == 0)
		rc = pwbadm_call_pages(c->adm, "group.list", json_object(), "groups", groups, err);
	return rc;
}

static void check_store(struct check *c)
{
	_cleanup_json_ json_t *audit = NULL, *users = NULL, *groups = NULL;
	char path[PATH_MAX];
	struct pwb_error err = {0};
	const char *verify;
	bool snapshot_was_missing;
	int rc;

	/* With a broken config, db-dir would be the default: never create a
	 * store there by mistake. */
	if (!c->config_ok) {
		report(c, WARN, "store", "fix the config first", "not checked");
		report(c, WARN, "snapshot", "fix the config first", "not checked");
		return;
	}
	/* A diagnosis must not create the store it is looking for. */
	snprintf(path, sizeof(path), "%s/store", c->cfg.db_dir);
	if (access(path, F_OK) < 0) {
		report(c, FAIL, "store",
		       "any pwbadm command run as root creates it (pwbadm rebuild-nss)", "%s: %s",
		       path, strerror(errno));
		report(c, FAIL, "snapshot", "fix the store first", "not checked (no store)");
		return;
	}
	snprintf(path, sizeof(path), "%s/" PWB_SNAP_DIR "/" PWB_SNAP_DELTA, c->cfg.db_dir);
	snapshot_was_missing = access(path, F_OK) < 0;
	rc = store_facts(c, &audit, &users, &groups, &err);
	if (rc) {
		report(c, FAIL, "store",
		       rc == PWB_ENODAEMON ? "start pwbd (systemctl start pwbd.socket), or run "
					     "pwbadm --offline check while it is stopped"
					   : "see pwbd's log",
		       "cannot check %s/store: %s", c->cfg.db_dir,
		       rc == PWBADM_CALL_REPORTED ? "see above" : pwb_error_text(&err, rc));
		report(c, FAIL, "snapshot", "fix the store first", "not checked (no store)");
		return;
	}
	verify = json_string_value(json_object_get(audit, "verify"));
	if (verify)
		report(c, FAIL, "store", "restore from a backup or `pwbadm export`/`import`",
		       "%s/store does not verify: %s", c->cfg.db_dir, verify);
	else
		report(c, OK, "store", NULL, "%s/store opens and verifies", c->cfg.db_dir);
	if (snapshot_was_missing)
		report(c, FAIL, "snapshot", "pwbadm rebuild-nss, and find out what removed it",
		       "%s was missing: NSS cannot see pwb users until it is rebuilt", path);
	else
		check_snapshot(c, json_object_get(users, "users"),
			       json_object_get(groups, "groups"));
	check_identities(c, json_object_get(users, "users"));
	check_policy(c, json_object_get(audit, "problems"));
	check_tokens(c);
}

/* Cluster mode: the database reachable, this host not refusing writes,
 * and every host's sync (lag behind the database, last report), one line
 * per host. */
static void check_cluster(struct check *c)
{
	_cleanup_json_ json_t *st = NULL;
	struct pwb_error err = {0};
	char line[512];
	json_t *host;
	size_t i;
	int rc;

	if (!c->config_ok || !pwb_config_cluster(&c->cfg))
		return;
	rc = pwbadm_call(c->adm, "cluster.status", json_object(), &st, &err);
	if (rc) {
		report(c, FAIL, "cluster", "see pwbd's log", "cannot read the cluster state: %s",
		       rc == PWBADM_CALL_REPORTED ? "see above" : pwb_error_text(&err, rc));
		return;
	}
	if (!json_is_true(json_object_get(st, "connected")))
		report(c, FAIL, "cluster",
		       "check PostgreSQL and store-dsn; known users still sign in from the replica",
		       "the cluster database cannot be reached: %s; writes (JIT of new users, "
		       "SCIM, pwbadm) fail",
		       json_string_value(json_object_get(st, "why")) ?: "");
	else if (!json_is_true(json_object_get(st, "schema_ready")))
		report(c, FAIL, "cluster", "pwbadm cluster init",
		       "the database has no cluster schema yet");
	else
		report(c, OK, "cluster", NULL, "database reachable at change %lld",
		       (long long)pwbadm_json_int(st, "db_seq"));
	if (json_is_true(json_object_get(st, "refusing")))
		report(c, FAIL, "cluster",
		       "check the database (a restore? a failover?), then pwbadm cluster accept",
		       "this host refuses writes: %s",
		       json_string_value(json_object_get(st, "why")) ?: "");
	if (json_object_get(st, "hosts_error"))
		return;
	json_array_foreach(json_object_get(st, "hosts"), i, host)
	{
		bool warn = pwbadm_cluster_host_verdict(host, line, sizeof(line));

		report(c, warn ? WARN : OK, "cluster sync",
		       warn ? "check that host's pwbd and its log" : NULL, "%s", line);
	}
}

/* ---- name service ---- */

/* NSS sources that answer over the network. When one is down, glibc goes
 * on to the next source as if the name or id did not exist: listed before
 * pwb, an outage makes its users' ids look free to pwb's uid/gid allocator
 * (which fails closed only on errors it sees) and hides pwb's users. */
static bool network_source(const char *service)
{
	static const char *const network[] = {"sss", "ldap", "winbind", "nis", "nisplus", "hesiod"};
	size_t i;

	for (i = 0; i < PWB_ARRAY_SIZE(network); i++)
		if (strcmp(service, network[i]) == 0)
			return true;
	return false;
}

/* Checks one database line of nsswitch.conf: `pwb` listed; on the passwd
 * and group lines, which the allocator consults, no network source first. */
static void check_nsswitch_line(struct check *c, const char *db, const char *services)
{
	char fix[128], copy[512], net[32] = "", *tok, *save = NULL;
	int position = 0, pwb_at = -1;
	bool allocator = strcmp(db, "shadow") != 0;

	snprintf(fix, sizeof(fix),
		 "list pwb on the %s: line of " NSSWITCH_CONF " (e.g. \"%s: files systemd pwb\")",
		 db, db);
	if (!services) {
		report(c, FAIL, "nsswitch", fix, "no %s: line in " NSSWITCH_CONF, db);
		return;
	}
	snprintf(copy, sizeof(copy), "%s", services);
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (tok[0] == '[') /* an action such as [NOTFOUND=return] */
			continue;
		if (strcmp(tok, "pwb") == 0 && pwb_at < 0)
			pwb_at = position;
		if (pwb_at < 0 && !net[0] && network_source(tok))
			snprintf(net, sizeof(net), "%s", tok);
		position++;
	}
	if (pwb_at < 0) {
		report(c, FAIL, "nsswitch", fix, "%s: does not list pwb", db);
	} else if (allocator && net[0]) {
		snprintf(fix, sizeof(fix), "list pwb before %s (e.g. \"%s: files pwb %s\")", net,
			 db, net);
		report(c, WARN, "nsswitch", fix,
		       "%s: lists the network source %s before pwb: while %s is unreachable its "
		       "users and ids look absent, to pwb's allocator too",
		       db, net, net);
	} else {
		report(c, OK, "nsswitch", NULL, "%s: lists pwb", db);
	}
}

static void check_nsswitch(struct check *c)
{
	static const char *const dbs[] = {"passwd", "group", "shadow"};
	_cleanup_fclose_ FILE *f = fopen(NSSWITCH_CONF, "re");
	char line[512], *found[3] = {NULL, NULL, NULL};
	size_t i, n;

	if (!f) {
		report(c, FAIL, "nsswitch", "create it with \"passwd: files systemd pwb\" etc.",
		       NSSWITCH_CONF ": %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "#\n")] = '\0';
		for (i = 0; i < PWB_ARRAY_SIZE(dbs); i++) {
			n = strlen(dbs[i]);
			if (strncmp(line, dbs[i], n) == 0 && line[n] == ':' && !found[i])
				found[i] = strdup(line + n + 1);
		}
	}
	for (i = 0; i < PWB_ARRAY_SIZE(dbs); i++) {
		check_nsswitch_line(c, dbs[i], found[i]);
		free(found[i]);
	}
}

/* glibc loads NSS modules with dlopen(), so dlopen() here finds what it
 * would find (ld.so.cache, the default directories, LD_LIBRARY_PATH). */
static void check_nss_module(struct check *c)
{
	void *h = dlopen("libnss_pwb.so.2", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		report(c, FAIL, "nss module",
		       "make install (puts it in the system library directory), then ldconfig",
		       "libnss_pwb.so.2 not found where glibc looks");
		return;
	}
	if (!dlsym(h, "_nss_pwb_getpwnam_r"))
		report(c, FAIL, "nss module", "reinstall pwb",
		       "libnss_pwb.so.2 lacks _nss_pwb_getpwnam_r");
	else
		report(c, OK, "nss module", NULL, "libnss_pwb.so.2 loads");
	dlclose(h);
}

static bool nscd_running(void)
{
	static const char *const sockets[] = {"/run/nscd/socket", "/var/run/nscd/socket"};
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	size_t i;
	bool up = false;

	for (i = 0; i < PWB_ARRAY_SIZE(sockets) && !up; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			continue;
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sockets[i]);
		up = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
		close(fd);
	}
	return up;
}

/* nscd caches passwd and group unless nscd.conf says `enable-cache X no`. */
static bool nscd_caches(const char *db)
{
	_cleanup_fclose_ FILE *f = fopen(NSCD_CONF, "re");
	char line[256], key[64], name[64], value[64];
	bool caches = true;

	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "#\n")] = '\0';
		if (sscanf(line, "%63s %63s %63s", key, name, value) == 3 &&
		    strcmp(key, "enable-cache") == 0 && strcmp(name, db) == 0)
			caches = strcmp(value, "no") != 0;
	}
	return caches;
}

static void check_nscd(struct check *c)
{
	static const char fix[] =
	    "set \"enable-cache passwd no\" and \"enable-cache group no\" in " NSCD_CONF
	    " (or stop nscd)";

	if (!nscd_running())
		report(c, OK, "nscd", NULL, "not running");
	else if (nscd_caches("passwd") || nscd_caches("group"))
		report(c, FAIL, "nscd", fix,
		       "caches passwd/group: new and locked users show late or not at all");
	else
		report(c, OK, "nscd", NULL, "running without passwd/group caches");
}

/* ---- PAM ---- */

static bool module_installed(const char *module)
{
	static const char *const dirs[] = {PWB_PAMMODDIR, "/lib/x86_64-linux-gnu/security",
					   "/usr/lib/x86_64-linux-gnu/security", "/lib/security",
					   "/usr/lib/security"};
	char path[PATH_MAX];
	size_t i;

	if (module[0] == '/')
		return access(module, R_OK) == 0;
	for (i = 0; i < PWB_ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], module);
		if (access(path, R_OK) == 0)
			return true;
	}
	return false;
}

struct pam_scan {
	char oidc_service[NAME_MAX + 1];
	char mkhome_service[NAME_MAX + 1];
	char oidc_module[PATH_MAX];
	char mkhome_module[PATH_MAX];
};

/* Notes the first service file using each module, its module path and the
 * skel= argument of pam_pwb_mkhome. */
static void scan_pam_file(struct check *c, struct pam_scan *s, const char *service, FILE *f)
{
	char line[1024], *tok, *save;
	bool oidc = false;

	while (fgets(line, sizeof(line), f)) {
		char *module = NULL;

		line[strcspn(line, "#\n")] = '\0';
		save = NULL;
		for (tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
			if (strstr(tok, "pam_pwb_oidc.so")) {
				module = tok;
				oidc = true;
				if (!s->oidc_service[0]) {
					snprintf(s->oidc_service, sizeof(s->oidc_service), "%s",
						 service);
					snprintf(s->oidc_module, sizeof(s->oidc_module), "%s", tok);
				}
			} else if (strstr(tok, "pam_pwb_mkhome.so")) {
				module = tok;
				if (!s->mkhome_service[0] ||
				    (oidc && strcmp(s->mkhome_service, service))) {
					snprintf(s->mkhome_service, sizeof(s->mkhome_service), "%s",
						 service);
					snprintf(s->mkhome_module, sizeof(s->mkhome_module), "%s",
						 tok);
				}
			} else if (module && strstr(module, "pam_pwb_mkhome") &&
				   strncmp(tok, "skel=", 5) == 0) {
				snprintf(c->skel, sizeof(c->skel), "%s", tok + 5);
			}
		}
	}
}

static void check_pam(struct check *c)
{
	static const char fix[] = "add \"auth required pam_pwb_oidc.so\", \"account required "
				  "pam_pwb_mkhome.so\" and \"session required pam_pwb_mkhome.so\" "
				  "to the front end's service (see examples/pam.d)";
	struct pam_scan s = {0};
	DIR *dir = opendir(PAM_DIR);
	struct dirent *e;

	if (!dir) {
		report(c, FAIL, "pam", fix, PAM_DIR ": %s", strerror(errno));
		return;
	}
	while ((e = readdir(dir))) {
		_cleanup_fclose_ FILE *f = NULL;
		int fd;

		if (e->d_name[0] == '.')
			continue;
		fd = openat(dirfd(dir), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 || !(f = fdopen(fd, "r"))) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		scan_pam_file(c, &s, e->d_name, f);
	}
	closedir(dir);
	if (!s.oidc_service[0])
		report(c, FAIL, "pam", fix, "no service in " PAM_DIR " uses pam_pwb_oidc.so");
	else if (!module_installed(s.oidc_module))
		report(c, FAIL, "pam", "make install", "%s (used by %s) is not installed",
		       s.oidc_module, s.oidc_service);
	else
		report(c, OK, "pam", NULL, PAM_DIR "/%s uses pam_pwb_oidc.so", s.oidc_service);
	if (!s.mkhome_service[0])
		report(c, WARN, "pam", fix,
		       "no service in " PAM_DIR " uses pam_pwb_mkhome.so (no JIT provisioning)");
	else if (!module_installed(s.mkhome_module))
		report(c, FAIL, "pam", "make install", "%s (used by %s) is not installed",
		       s.mkhome_module, s.mkhome_service);
	else
		report(c, OK, "pam", NULL, PAM_DIR "/%s uses pam_pwb_mkhome.so", s.mkhome_service);
}

/* ---- OpenID Connect ---- */

static void check_issuer(struct check *c)
{
	struct pwb_http_response resp = {0};
	struct pwb_error err = {0};
	const char *issuer = c->cfg.openid_issuer, *got;
	char url[2048];
	json_t *doc;
	int rc;

	if (!issuer) {
		report(c, WARN, "issuer", "set auth-openid-issuer in pwb.conf",
		       "auth-openid-issuer is not set (OIDC sign-in disabled)");
		return;
	}
	if (strncmp(issuer, "https://", 8) != 0) {
		report(c, FAIL, "issuer", "use the issuer's https:// URL",
		       "auth-openid-issuer must start with https://");
		return;
	}
	snprintf(url, sizeof(url), "%s%s.well-known/openid-configuration", issuer,
		 issuer[strlen(issuer) - 1] == '/' ? "" : "/");
	rc = pwb_http_get(url, c->cfg.openid_ca_file, c->cfg.openid_http_timeout, DISCOVERY_MAX,
			  &resp, &err);
	if (rc < 0) {
		report(c, FAIL, "issuer",
		       "check the URL, DNS, proxy and auth-openid-ca-file (for a private CA)",
		       "discovery failed: %s", pwb_error_text(&err, rc));
		return;
	}
	doc = json_loadb(resp.body, resp.len, 0, NULL);
	got = json_string_value(json_object_get(doc, "issuer"));
	if (!got)
		report(c, FAIL, "issuer", "point auth-openid-issuer at the IdP's issuer",
		       "%s has no \"issuer\"", url);
	else if (strcmp(got, issuer) != 0)
		report(c, FAIL, "issuer",
		       "set auth-openid-issuer to exactly the issuer the IdP announces",
		       "discovery says issuer \"%.200s\", configured \"%s\"", got, issuer);
	else
		report(c, OK, "issuer", NULL, "discovery reachable and issuer matches");
	json_decref(doc);
	pwb_http_response_clear(&resp);
}

static void check_client_secret(struct check *c)
{
	const char *path = c->cfg.openid_client_secret_file;
	struct pwb_error err = {0};
	char *client_id = NULL, *secret = NULL;
	struct stat st;
	int rc;

	if (stat(path, &st) < 0) {
		report(c, c->cfg.openid_issuer ? FAIL : WARN, "client secret",
		       "write client-id= and client-secret= (from pwbadm encrypt-password) "
		       "into it, mode 0600",
		       "%s: %s", path, strerror(errno));
		return;
	}
	if (st.st_uid != 0 || (st.st_mode & 077)) {
		report(c, FAIL, "client secret", "chown root and chmod 600 it",
		       "%s: owner uid %u, mode %04o (must be root, 0600)", path,
		       (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return;
	}
	rc = pwb_secret_read_client_file(path, c->cfg.secure_key_file, &client_id, &secret, &err);
	if (rc < 0)
		report(c, FAIL, "client secret",
		       "re-encrypt the secret with pwbadm encrypt-password (same secure-key-file)",
		       "%s", pwb_error_text(&err, rc));
	else if (!client_id)
		report(c, FAIL, "client secret", "add a client-id= line", "%s has no client-id",
		       path);
	else
		report(c, OK, "client secret", NULL, "%s present, 0600, %s", path,
		       secret ? "secret decrypts" : "no secret (public client)");
	pwb_free_secret(client_id);
	pwb_free_secret(secret);
}

/* ---- homes ---- */

static void check_homes(struct check *c)
{
	const char *dir = c->cfg.homedir_path;
	struct stat st;

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		report(c, FAIL, "home", "create it (root, 0755)", "%s is not a directory", dir);
	else if (access(dir, W_OK) < 0)
		report(c, FAIL, "home", "make it writable by root", "%s is not writable", dir);
	else if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
		report(c, FAIL, "home", "chmod o-w it", "%s is world-writable", dir);
	else
		report(c, OK, "home", NULL, "%s writable", dir);
	if (stat(c->skel, &st) < 0 || !S_ISDIR(st.st_mode))
		report(c, WARN, "skel", "create it, or set skel= on pam_pwb_mkhome",
		       "%s is missing (homes start empty)", c->skel);
	else
		report(c, OK, "skel", NULL, "%s present", c->skel);
}

int pwbadm_check(struct pwbadm *adm, const struct pwbadm_args *a)
{
	struct check c = {.adm = adm};

	(void)a;
	strcpy(c.skel, "/etc/skel");
	check_config(&c);
	check_store(&c);
	check_cluster(&c);
	check_nsswitch(&c);
	check_nss_module(&c);
	check_nscd(&c);
	check_pam(&c);
	check_issuer(&c);
	check_client_secret(&c);
	check_metrics(&c);
	check_homes(&c);
	pwb_config_free(&c.cfg);
	printf("%u failed, %u warnings\n", c.fails, c.warns);
	return c.fails ? PWBADM_EXIT_FAILURE : PWBADM_EXIT_OK;
}
