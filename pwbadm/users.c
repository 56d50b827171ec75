/* pwbadm's user commands: list-users, show-user, add-user, lock-user,
 * unlock-user, delete-user, set-groups. Each is one request to pwbd (see
 * pwbd/admin_users.c for the store side); names are mapped by the same
 * rules as JIT and SCIM before they are sent. Listings skip (and report)
 * records the store cannot decode; delete-user removes one. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cleanup.h"
#include "log.h"
#include "policy.h"
#include "pwbadm.h"
#include "store.h"
#include "util.h"

/* ---- list-users ---- */

/* One row of the table from a user record (the codec's public form). */
static int user_row(json_t *record, struct pwbadm_table *table, struct pwb_error *err)
{
	struct pwb_user u;
	char uid[12], gid[12], last[32];
	const char *row[8];
	int rc;

	if ((rc = pwb_user_from_json(record, 0, &u, err)) < 0)
		return rc;
	snprintf(uid, sizeof(uid), "%u", u.uid);
	snprintf(gid, sizeof(gid), "%u", u.gid);
	pwbadm_time_text(u.last_login, last);
	row[0] = u.name;
	row[1] = uid;
	row[2] = gid;
	row[3] = u.active ? "active" : "locked";
	row[4] = pwb_user_source_name(u.source);
	row[5] = last;
	row[6] = u.home;
	row[7] = pwb_user_binding(&u);
	rc = pwbadm_table_add(table, row);
	pwb_user_clear(&u);
	return rc;
}

int pwbadm_list_users(struct pwbadm *adm, const struct pwbadm_args *a)
{
	static const char *const headers[] = {"NAME",	"UID",		"GID",	"STATE",
					      "SOURCE", "LAST SIGN-IN", "HOME", "BINDING"};
	static const struct pwbadm_list list = {"users", headers, PWB_ARRAY_SIZE(headers),
						user_row};
	_cleanup_json_ json_t *result = NULL;
	struct pwb_error err = {0};
	int rc;

	pwbadm_progress_start(adm, a);
	rc = pwbadm_call_pages(adm, "user.list", json_pack("{s:b}", "all", pwbadm_opt_set(a, 'a')),
			       "users", &result, &err);
	pwbadm_progress_end(adm);
	if (rc)
		return pwbadm_call_fail(rc, &err, "cannot list users");
	pwbadm_replica_note(adm);
	/* A damaged record is skipped, named on stderr, and does not fail the
	 * listing of everyone else. */
	pwbadm_damaged_report(json_object_get(result, "damaged"));
	return pwbadm_list_print(&list, json_object_get(result, "users"), a->json);
}

/* ---- show-user ---- */

static void show_field(const char *label, const char *value)
{
	printf("%-14s%s\n", label, value ? value : "");
}

static void show_time(const char *label, int64_t t)
{
	char text[32];

	pwbadm_time_text(t, text);
	show_field(label, text);
}

static void show_text(const struct pwb_user *u, json_t *groups)
{
	char number[24];
	size_t i;
	json_t *g;

	show_field("name:", u->name);
	show_field("id:", u->id);
	show_field("userName:", u->user_name ? u->user_name : u->name);
	show_field("externalId:", u->external_id);
	snprintf(number, sizeof(number), "%u", u->uid);
	show_field("uid:", number);
	snprintf(number, sizeof(number), "%u", u->gid);
	show_field("gid:", number);
	show_field("state:", u->active ? "active" : "locked");
	show_field("source:", pwb_user_source_name(u->source));
	show_field("home:", u->home);
	show_field("shell:", u->shell);
	show_field("gecos:", u->gecos);
	show_field("email:", u->email);
	show_field("binding:", pwb_user_binding(u));
	show_field("issuer:", u->issuer);
	show_field("subject:", u->subject);
	printf("%-14s", "groups:");
	json_array_foreach(groups, i, g)
	{
		printf("%s%s", i ? "," : "", json_string_value(g));
	}
	putchar('\n');
	show_time("created:", u->created);
	show_time("modified:", u->modified);
	show_time("last sign-in:", u->last_login);
	snprintf(number, sizeof(number), "%llu", (unsigned long long)u->version);
	show_field("version:", number);
	if (u->attrs && json_object_size(u->attrs) > 0) {
		_cleanup_free_ char *attrs = json_dumps(u->attrs, JSON_COMPACT | JSON_SORT_KEYS);

		show_field("attributes:", attrs);
	}
}

#define LAST_CHANGES 5

/* The user's last few changes from the audit trail, oldest first. */
static int show_changes(struct pwbadm *adm, const char *name)
{
	_cleanup_json_ json_t *entries = NULL;
	struct pwb_error err = {0};
	int rc;

	rc = pwbadm_changes_read(adm, json_pack("{s:s}", "user", name), LAST_CHANGES, &entries,
				 &err);
	if (rc)
		return pwbadm_call_fail(rc, &err, "cannot read the changes of %s", name);
	printf("\nlast changes (pwbadm log --user %s):\n", name);
	if (pwbadm_changes_print(entries) < 0)
		return pwbadm_fail("cannot write user %s", name);
	return PWBADM_EXIT_OK;
}

int pwbadm_show_user(struct pwbadm *adm, const struct pwbadm_args *a)
{
	_cleanup_json_ json_t *result = NULL;
	struct pwb_error err = {0};
	char name[PWB_NAME_MAX + 1];
	struct pwb_user u;
	json_t *record;
	int rc;

	if (pwbadm_user_arg(adm, a->command, a->operands[0], name))
		return PWBADM_EXIT_USAGE;
	rc = pwbadm_call(adm, "user.show", json_pack("{s:s}", "name", name), &result, &err);
	if (rc == PWB_ENOTFOUND)
		return pwbadm_fail("no user named %s", name);
	if (rc)
		return pwbadm_call_fail(rc, &err, "cannot read user %s", name);
	pwbadm_replica_note(adm);
	record = json_object_get(result, "user");
	if (a->json) {
		if (json_dumpf(record, stdout, JSON_INDENT(2)) < 0)
			return pwbadm_fail("cannot write user %s as JSON", name);
		putchar('\n');
		return PWBADM_EXIT_OK;
	}
	if (pwb_user_from_json(record, 0, &u, &err) < 0)
		return pwbadm_fail("cannot read user %s: %s", name, err.msg);
	show_text(&u, json_object_get(record, "groups"));
	pwb_user_clear(&u);
	return show_changes(adm, name);
}

/* ---- add-user ---- */

static bool home_ok(const char *home)
{
	return home[0] == '/' && strlen(home) < PATH_MAX && !strstr(home, "/../") &&
	       !strstr(home, "/./") && pwb_policy_passwd_field("home", home, NULL) == 0;
}

int pwbadm_add_user(struct pwbadm *adm, const struct pwbadm_args *a)
{
	_cleanup_json_ json_t *args = json_object(), *result = NULL, *groups = NULL;
	struct pwb_error err = {0};
	char name[PWB_NAME_MAX + 1];
	struct pwb_user u;
	const char *uid_arg = pwbadm_opt_arg(a, 'u'), *groups_arg = pwbadm_opt_arg(a, 'g');
	const char *home = pwbadm_opt_arg(a, 'd');
	uint32_t uid;
	int rc;

	if (!args)
		return pwbadm_fail("out of memory");
	if (uid_arg) {
		if (pwb_parse_u32(uid_arg, 1, UINT32_MAX - 1, &uid) < 0)
			return pwbadm_usage(a->command, "--uid: not a UID: \"%.20s\"", uid_arg);
		json_object_set_new(args, "uid", json_integer(uid));
	}
	if (groups_arg && pwbadm_group_list_arg(a->command, groups_arg, &groups))
		return PWBADM_EXIT_USAGE;
	if (home) {
		if (!home_ok(home))
			return pwbadm_usage(a->command,
					    "--home must be an absolute, normalised path "
					    "without ':' or control characters");
		json_object_set_new(args, "home", json_string(home));
	}
	if (pwbadm_user_arg(adm, a->command, a->operands[0], name))
		return PWBADM_EXIT_USAGE;
	json_object_set_new(args, "name", json_string(name));
	if (groups)
		json_object_set(args, "groups", groups);
	rc = pwbadm_call(adm, "user.add", json_incref(args), &result, &err);
	if (rc)
		return pwbadm_call_fail(rc, &err, "cannot add user %s", name);
	if (pwb_user_from_json(json_object_get(result, "user"), 0, &u, &err) < 0)
		return pwbadm_fail("user %s added, but the reply is unreadable: %s", name, err.msg);
	pwb_log(LOG_NOTICE, "user %s added (uid %u) by pwbadm", name, u.uid);
	printf("added user %s: uid %u, gid %u, home %s\n", name, u.uid, u.gid,
	       u.home ? u.home : "");
	pwb_user_clear(&u);
	return PWBADM_EXIT_OK;
}

/* ---- lock-user, unlock-user ---- */

static int set_state(struct pwbadm *adm, const struct pwbadm_args *a, bool active)
{
	_cleanup_json_ json_t *result = NULL;
	struct pwb_error err = {0};
	char name[PWB_NAME_MAX + 1];
	const char *verb = active ? "unlocked" : "locked";
	int rc;

	if (pwbadm_user_arg(adm, a->command, a->operands[0], name))
		return PWBADM_EXIT_USAGE;
	rc = pwbadm_call(adm, active ? "user.unlock" : "user.lock",
			 json_pack("{s:s}", "name", name), &result, &err);
	if (rc == PWB_ENOTFOUND)
		return pwbadm_fail("no user named %s", name);
	if (rc)
		return pwbadm_call_fail(rc, &err, "cannot update user %s", name);
	if (!json_is_true(json_object_get(result, "changed"))) {
		printf("user %s was already %s\n", name, verb);
	} else {
		pwb_log(LOG_NOTICE, "user %s %s by pwbadm", name, verb);
		printf("user %s %s\n", name, verb);
	}
	return PWBADM_EXIT_OK;
}

int pwbadm_lock_user(struct pwbadm *adm, const struct pwbadm_args *a)
{
	return set_state(adm, a, false);
}

int pwbadm_unlock_user(struct pwbadm *adm, const struct pwbadm_args *a)
{
	return set_state(adm, a, true);
}

/* ---- delete-user ---- */

/* Asks on the terminal; only a "y" or "yes" answer confirms. */
static bool confirm(const char *question)
{
	char answer[16];

	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin))
		return false;
	answer[strcspn(answer, "\n")] = '\0';
	return strcmp(answer, "y") == 0 || strcmp(answer, "yes") == 0;
}

int pwbadm_delete_user(struct pwbadm *adm, const struct pwbadm_args *a)
{
	_cleanup_json_ json_t *result = NULL;
	struct pwb_error err = {0};
	char name[PWB_ID_LEN + 1], question[128];
	const char *id, *home;
	bool yes = pwbadm_opt_set(a, 'y'), by_id = false, damaged;
	int rc;

	/* A record id (what listings print for a damaged record) is never a
	 * user name: 36 characters, longer than any name. */
	if (pwb_uuid_is_valid(a->operands[0])) {
		snprintf(name, sizeof(name), "%s", a->operands[0]);
		by_id = true;
	} else if (pwbadm_user_arg(adm, a->command, a->operands[0], name)) {
		return PWBADM_EXIT_USAGE;
	}
	if (!yes) {
		if (!isatty(STDIN_FILENO))
			return pwbadm_usage(a->command,
					    "refusing to delete %s without --yes "
					    "(stdin is not a terminal)",
					    name);
		snprintf(question, sizeof(question),
			 "Delete user %s? The UID is retired, the home directory is kept.", name);
		if (!confirm(question))
			return pwbadm_fail("user %s not deleted", name);
	}
	rc = pwbadm_call(adm, "user.delete", json_pack("{s:s}", by_id ? "id" : "name", name),
			 &result, &err);
	if (rc == PWB_ENOTFOUND)
		return pwbadm_fail(by_id ? "no user with id %s" : "no user named %s", name);
	if (rc)
		return pwbadm_call_fail(rc, &err, "cannot delete user %s", name);
	id = json_string_value(json_object_get(result, "id")) ?: "";
	home = json_string_value(json_object_get(result, "home")) ?: "";
	damaged = json_is_true(json_object_get(result, "damaged"));
	if (damaged && by_id) {
		pwb_log(LOG_NOTICE, "damaged user record %s deleted by pwbadm", id);
		printf("deleted the damaged user record %s\n", id);
	} else if (damaged) {
		pwb_log(LOG_NOTICE, "damaged record of user %s (id %s) deleted by pwbadm", name,
			id);
		printf("deleted the damaged record of user %s (id %s)\n", name, id);
	} else {
		uint32_t uid = (uint32_t)json_integer_value(json_object_get(result, "uid"));

		pwb_log(LOG_NOTICE, "user %s (uid %u) deleted by pwbadm", name, uid);
		printf("deleted user %s: uid %u retired, home %s kept\n", name, uid, home);
	}
	return PWBADM_EXIT_OK;
}

/* ---- set-groups ---- */

int pwbadm_set_groups(struct pwbadm *adm, const struct pwbadm_args *a)
{
	_cleanup_json_ json_t *groups = NULL, *result = NULL;
	struct pwb_error err = {0};
	char name[PWB_NAME_MAX + 1];
	size_t n;
	int rc;

	if (pwbadm_user_arg(adm, a->command, a->operands[0], name))
		return PWBADM_EXIT_USAGE;
	if (pwbadm_group_list_arg(a->command, a->operands[1], &groups))
		return PWBADM_EXIT_USAGE;
	n = json_array_size(groups);
	rc = pwbadm_call(adm, "user.groups.set",
			 json_pack("{s:s, s:O}", "name", name, "groups", groups), &result, &err);
	if (rc)
		return pwbadm_call_fail(rc, &err, "cannot set the groups of %s", name);
	pwb_log(LOG_NOTICE, "groups of user %s set by pwbadm", name);
	printf("user %s is now in %zu group%s\n", name, n, n == 1 ? "" : "s");
	return PWBADM_EXIT_OK;
}
