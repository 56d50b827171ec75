/* pwbadm's user commands: list-users, show-user, add-user, lock-user,
 * unlock-user, delete-user, set-groups. Each change is one store
 * transaction (which publishes the NSS snapshot); names are mapped by the
 * same rules as JIT and SCIM before they reach the store. Listings skip
 * (and report) records the store cannot decode; delete-user removes one. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cleanup.h"
#include "log.h"
#include "pwbadm.h"
#include "util.h"

/* Options shared by the commands that take only --help (and maybe --json). */
static const struct option json_options[] = {
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* ---- list-users ---- */

struct list_ctx {
	bool all, json;
	int64_t seen; /* records the walk returned, locked ones included */
	struct pwbadm_table table;
	struct pwbadm_json_list list;
	struct pwbadm_damaged damaged;
};

static int list_one(const struct pwb_user *u, void *vctx)
{
	struct list_ctx *c = vctx;
	char uid[12], gid[12], last[32];
	const char *row[8];

	c->seen++;
	if (!c->all && !u->active)
		return 0;
	if (c->json)
		return pwbadm_json_list_add(&c->list, pwbadm_user_json(u));
	snprintf(uid, sizeof(uid), "%u", u->uid);
	snprintf(gid, sizeof(gid), "%u", u->gid);
	pwbadm_time_text(u->last_login, last);
	row[0] = u->name;
	row[1] = uid;
	row[2] = gid;
	row[3] = u->active ? "active" : "locked";
	row[4] = pwb_user_source_name(u->source);
	row[5] = last;
	row[6] = u->home;
	row[7] = pwbadm_user_binding(u);
	return pwbadm_table_add(&c->table, row);
}

static int list_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct list_ctx *c = vctx;
	int rc;

	/* The body may run again after a retry: start from nothing. */
	pwbadm_table_free(&c->table);
	pwbadm_json_list_free(&c->list);
	c->seen = 0;
	rc = pwb_user_foreach(txn, list_one, c, err);
	if (rc == -ENOMEM)
		return pwb_error_set(err, rc, "out of memory while listing users");
	if (rc == 0)
		rc = pwbadm_damaged_find(txn, c->seen, -1, &c->damaged, err);
	return rc;
}

int pwbadm_list_users(struct pwbadm *adm, int argc, char **argv)
{
	static const char *const headers[] = {"NAME",	"UID",		"GID",	"STATE",
					      "SOURCE", "LAST SIGN-IN", "HOME", "BINDING"};
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"all", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct list_ctx c = {0};
	struct pwb_error err = {0};
	int opt, rc;

	while ((opt = pwbadm_getopt(argc, argv, "+jah", options)) != -1) {
		if (opt == 'h') {
			pwbadm_command_help(pwbadm_command_find(argv[0]), stdout);
			return PWBADM_EXIT_OK;
		}
		if (opt == 'j')
			c.json = true;
		else if (opt == 'a')
			c.all = true;
		else
			return PWBADM_EXIT_USAGE;
	}
	if (optind != argc)
		return pwbadm_usage(argv[0], "unexpected argument \"%s\"", argv[optind]);
	if (pwbadm_open_store(adm))
		return PWBADM_EXIT_FAILURE;
	pwbadm_table_init(&c.table, PWB_ARRAY_SIZE(headers), headers);
	rc = pwb_store_read(adm->store, list_txn, &c, &err);
	/* A damaged record is skipped, named on stderr, and does not fail the
	 * listing of everyone else. */
	if (rc == 0)
		pwbadm_damaged_report(&c.damaged);
	if (rc < 0) {
		rc = pwbadm_fail("cannot list users: %s", pwb_error_text(&err, rc));
	} else if (c.json) {
		rc = pwbadm_json_list_print(&c.list, stdout) ? pwbadm_fail("cannot write the list")
							     : 0;
	} else {
		pwbadm_table_sort(&c.table, 0);
		rc =
		    pwbadm_table_print(&c.table, stdout) ? pwbadm_fail("cannot write the list") : 0;
	}
	pwbadm_table_free(&c.table);
	pwbadm_json_list_free(&c.list);
	return rc;
}

/* ---- show-user ---- */

struct show_ctx {
	const char *name;
	struct pwb_txn *txn;
	struct pwb_user user;
	json_t *groups; /* names */
};

static int show_group(const char *group_id, void *vctx)
{
	struct show_ctx *c = vctx;
	struct pwb_group g = {0};
	struct pwb_error err = {0};
	int rc;

	rc = pwb_group_get(c->txn, group_id, &g, &err);
	if (rc == PWB_ENOTFOUND)
		return 0;
	if (rc == 0)
		rc = json_array_append_new(c->groups, json_string(g.name)) ? -ENOMEM : 0;
	pwb_group_clear(&g);
	return rc;
}

static int show_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct show_ctx *c = vctx;
	int rc;

	pwb_user_clear(&c->user);
	json_array_clear(c->groups);
	c->txn = txn;
	rc = pwb_user_get_by_name(txn, c->name, &c->user, err);
	if (rc < 0)
		return rc;
	rc = pwb_member_foreach_group(txn, c->user.id, show_group, c, err);
	if (rc == 0)
		rc = pwbadm_json_strings_sort(c->groups);
	if (rc < 0 && !err->msg[0])
		pwb_error_set(err, rc, "cannot read the groups of %s", c->name);
	return rc;
}

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
	show_field("binding:", pwbadm_user_binding(u));
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

int pwbadm_show_user(struct pwbadm *adm, int argc, char **argv)
{
	struct show_ctx c = {0};
	struct pwb_error err = {0};
	char name[PWB_NAME_MAX + 1];
	bool json = false;
	int opt, rc;

	while ((opt = pwbadm_getopt(argc, argv, "jh", json_options)) != -1) {
		if (opt == 'h') {
			pwbadm_command_help(pwbadm_command_find(argv[0]), stdout);
			return PWBADM_EXIT_OK;
		}
		if (opt != 'j')
			return PWBADM_EXIT_USAGE;
		json = true;
	}
	if ((rc = pwbadm_one_user_operand(adm, argc, argv, name)))
		return rc;
	if (pwbadm_open_store(adm))
		return PWBADM_EXIT_FAILURE;
	c.name = name;
	c.groups = json_array();
	if (!c.groups)
		return pwbadm_fail("out of memory");
	rc = pwb_store_read(adm->store, show_txn, &c, &err);
	if (rc == PWB_ENOTFOUND) {
		rc = pwbadm_fail("no user named %s", name);
	} else if (rc < 0) {
		rc = pwbadm_fail("cannot read user %s: %s", name, pwb_error_text(&err, rc));
	} else if (json) {
		json_t *o = pwbadm_user_json(&c.user);

		if (!o || json_object_set(o, "groups", c.groups) < 0 ||
		    json_dumpf(o, stdout, JSON_INDENT(2)) < 0)
			rc = pwbadm_fail("cannot write user %s as JSON", name);
		else
			putchar('\n');
		json_decref(o);
	} else {
		show_text(&c.user, c.groups);
	}
	pwb_user_clear(&c.user);
	json_decref(c.groups);
	return rc;
}

/* ---- add-user ---- */

struct add_ctx {
	const char *name;
	uint32_t uid;
	const char *home;
	const struct pwbadm_names *groups;
	struct pwb_user created;
};

static int add_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct add_ctx *c = vctx;
	struct pwb_user u = {0};
	size_t i;
	int rc;

	pwb_user_clear(&c->created);
	strcpy(u.name, c->name);
	u.uid = c->uid;
	u.active = true;
	u.source = PWB_SOURCE_MANUAL;
	if (c->home && !(u.home = strdup(c->home)))
		return pwb_error_set(err, -ENOMEM, "out of memory");
	rc = pwb_user_create(txn, &u, err);
	for (i = 0; rc == 0 && i < c->groups->count; i++) {
		struct pwb_group g = {0};

		rc = pwbadm_group_ensure(txn, c->groups->names[i], &g, err);
		if (rc == 0)
			rc = pwb_member_add(txn, g.id, u.id, err);
		pwb_group_clear(&g);
	}
	if (rc == 0)
		c->created = u;
	else
		pwb_user_clear(&u);
	return rc;
}

static bool home_ok(const char *home)
{
	return home[0] == '/' && strlen(home) < PATH_MAX && !strstr(home, "/../") &&
	       !strstr(home, "/./") && pwbadm_passwd_field_ok(home);
}

int pwbadm_add_user(struct pwbadm *adm, int argc, char **argv)
{
	static const struct option options[] = {
	    {"uid", required_argument, NULL, 'u'},
	    {"groups", required_argument, NULL, 'g'},
	    {"home", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct pwbadm_names groups = {0};
	struct add_ctx c = {0};
	struct pwb_error err = {0};
	char name[PWB_NAME_MAX + 1];
	int opt, rc;

	while ((opt = pwbadm_getopt(argc, argv, "u:g:d:h", options)) != -1) {
		switch (opt) {
		case 'h':
			pwbadm_names_free(&groups);
			pwbadm_command_help(pwbadm_command_find(argv[0]), stdout);
			return PWBADM_EXIT_OK;
		case 'u':
			if (pwb_parse_u32(optarg, 1, UINT32_MAX - 1, &c.uid) < 0) {
				pwbadm_names_free(&groups);
				return pwbadm_usage(argv[0], "--uid: not a UID: \"%.20s\"", optarg);
			}
			break;
		case 'g':
			pwbadm_names_free(&groups);
			if (pwbadm_group_list_arg(argv[0], optarg, &groups))
				return PWBADM_EXIT_USAGE;
			break;
		case 'd':
			if (!home_ok(optarg)) {
				pwbadm_names_free(&groups);
				return pwbadm_usage(argv[0],
						    "--home must be an absolute, normalised path "
						    "without ':' or control characters");
			}
			c.home = optarg;
			break;
		default:
			pwbadm_names_free(&groups);
			return PWBADM_EXIT_USAGE;
		}
	}
	if ((rc = pwbadm_one_user_operand(adm, argc, argv, name))) {
		pwbadm_names_free(&groups);
		return rc;
	}
	if (pwbadm_open_store(adm)) {
		pwbadm_names_free(&groups);
		return PWBADM_EXIT_FAILURE;
	}
	c.name = name;
	c.groups = &groups;
	rc = pwb_store_write(adm->store, add_txn, &c, &err);
	pwbadm_names_free(&groups);
	if (rc < 0)
		return pwbadm_fail("cannot add user %s: %s", name, pwb_error_text(&err, rc));
	pwb_log(LOG_NOTICE, "user %s added (uid %u) by pwbadm", name, c.created.uid);
	printf("added user %s: uid %u, gid %u, home %s\n", name, c.created.uid, c.created.gid,
	       c.created.home ? c.created.home : "");
	pwb_user_clear(&c.created);
	return PWBADM_EXIT_OK;
}

/* ---- lock-user, unlock-user ---- */

struct state_ctx {
	const char *name;
	bool active;
	bool unchanged;
};

static int state_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct state_ctx *c = vctx;
	struct pwb_user u = {0};
	int rc;

	c->unchanged = false;
	rc = pwb_user_get_by_name(txn, c->name, &u, err);
	if (rc == 0 && u.active == c->active)
		c->unchanged = true;
	else if (rc == 0) {
		u.active = c->active;
		rc = pwb_user_update(txn, &u, err);
	}
	pwb_user_clear(&u);
	return rc;
}

static int set_state(struct pwbadm *adm, int argc, char **argv, bool active)
{
	static const struct option options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct state_ctx c = {0};
	struct pwb_error err = {0};
	char name[PWB_NAME_MAX + 1];
	const char *verb = active ? "unlocked" : "locked";
	int opt, rc;

	while ((opt = pwbadm_getopt(argc, argv, "+h", options)) != -1) {
		if (opt != 'h')
			return PWBADM_EXIT_USAGE;
		pwbadm_command_help(pwbadm_command_find(argv[0]), stdout);
		return PWBADM_EXIT_OK;
	}
	if ((rc = pwbadm_one_user_operand(adm, argc, argv, name)))
		return rc;
	if (pwbadm_open_store(adm))
		return PWBADM_EXIT_FAILURE;
	c.name = name;
	c.active = active;
	rc = pwb_store_write(adm->store, state_txn, &c, &err);
	if (rc == PWB_ENOTFOUND)
		return pwbadm_fail("no user named %s", name);
	if (rc < 0)
		return pwbadm_fail("cannot update user %s: %s", name, pwb_error_text(&err, rc));
	if (c.unchanged) {
		printf("user %s was already %s\n", name, verb);
	} else {
		pwb_log(LOG_NOTICE, "user %s %s by pwbadm", name, verb);
		printf("user %s %s\n", name, verb);
	}
	return PWBADM_EXIT_OK;
}

int pwbadm_lock_user(struct pwbadm *adm, int argc, char **argv)
{
	return set_state(adm, argc, argv, false);
}

int pwbadm_unlock_user(struct pwbadm *adm, int argc, char **argv)
{
	return set_state(adm, argc, argv, true);
}

/* ---- delete-user ---- */

struct delete_ctx {
	const char *name; /* a user name, or the id of a damaged record */
	bool by_id;
	bool damaged; /* the record could not be read: removed by its id */
	struct pwb_user deleted;
};

static int delete_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct delete_ctx *c = vctx;
	int rc;

	pwb_user_clear(&c->deleted);
	c->damaged = false;
	rc = c->by_id ? pwb_user_get(txn, c->name, &c->deleted, err)
		      : pwb_user_get_by_name(txn, c->name, &c->deleted, err);
	/* The store still knows a damaged record's id: that is enough. */
	if (rc == PWB_EDAMAGED && c->deleted.id[0]) {
		c->damaged = true;
		memset(err, 0, sizeof(*err));
		rc = 0;
	}
	if (rc == 0)
		rc = pwb_user_delete(txn, c->deleted.id, err);
	return rc;
}

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

int pwbadm_delete_user(struct pwbadm *adm, int argc, char **argv)
{
	static const struct option options[] = {
	    {"yes", no_argument, NULL, 'y'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct delete_ctx c = {0};
	struct pwb_error err = {0};
	char name[PWB_ID_LEN + 1], question[128];
	bool yes = false;
	int opt, rc;

	while ((opt = pwbadm_getopt(argc, argv, "yh", options)) != -1) {
		if (opt == 'h') {
			pwbadm_command_help(pwbadm_command_find(argv[0]), stdout);
			return PWBADM_EXIT_OK;
		}
		if (opt != 'y')
			return PWBADM_EXIT_USAGE;
		yes = true;
	}
	/* A record id (what listings print for a damaged record) is never a
	 * user name: 36 characters, longer than any name. */
	if (optind + 1 == argc && pwb_uuid_is_valid(argv[optind])) {
		snprintf(name, sizeof(name), "%s", argv[optind]);
		c.by_id = true;
	} else if ((rc = pwbadm_one_user_operand(adm, argc, argv, name))) {
		return rc;
	}
	if (!yes) {
		if (!isatty(STDIN_FILENO))
			return pwbadm_usage(argv[0],
					    "refusing to delete %s without --yes "
					    "(stdin is not a terminal)",
					    name);
		snprintf(question, sizeof(question),
			 "Delete user %s? The UID is retired, the home directory is kept.", name);
		if (!confirm(question))
			return pwbadm_fail("user %s not deleted", name);
	}
	if (pwbadm_open_store(adm))
		return PWBADM_EXIT_FAILURE;
	c.name = name;
	rc = pwb_store_write(adm->store, delete_txn, &c, &err);
	if (rc == PWB_ENOTFOUND)
		rc = pwbadm_fail(c.by_id ? "no user with id %s" : "no user named %s", name);
	else if (rc < 0)
		rc = pwbadm_fail("cannot delete user %s: %s", name, pwb_error_text(&err, rc));
	else if (c.damaged && c.by_id) {
		pwb_log(LOG_NOTICE, "damaged user record %s deleted by pwbadm", c.deleted.id);
		printf("deleted the damaged user record %s\n", c.deleted.id);
	} else if (c.damaged) {
		pwb_log(LOG_NOTICE, "damaged record of user %s (id %s) deleted by pwbadm", name,
			c.deleted.id);
		printf("deleted the damaged record of user %s (id %s)\n", name, c.deleted.id);
	} else {
		pwb_log(LOG_NOTICE, "user %s (uid %u) deleted by pwbadm", name, c.deleted.uid);
		printf("deleted user %s: uid %u retired, home %s kept\n", name, c.deleted.uid,
		       c.deleted.home ? c.deleted.home : "");
	}
	pwb_user_clear(&c.deleted);
	return rc;
}

/* ---- set-groups ---- */

struct set_groups_ctx {
	const char *name;
	const struct pwbadm_names *groups;
	struct pwb_txn *txn;
	char (*wanted)[PWB_ID_LEN + 1]; /* ids of the wanted groups */
	char (*current)[PWB_ID_LEN + 1];
	size_t current_count, current_capacity;
};

static int collect_group(const char *group_id, void *vctx)
{
	struct set_groups_ctx *c = vctx;

	if (c->current_count == c->current_capacity) {
		size_t cap = c->current_capacity ? c->current_capacity * 2 : 16;
		void *p = reallocarray(c->current, cap, sizeof(*c->current));

		if (!p)
			return -ENOMEM;
		c->current = p;
		c->current_capacity = cap;
	}
	snprintf(c->current[c->current_count++], PWB_ID_LEN + 1, "%s", group_id);
	return 0;
}

static int set_groups_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct set_groups_ctx *c = vctx;
	struct pwb_user u = {0};
	size_t i, j;
	int rc;

	c->current_count = 0;
	c->txn = txn;
	rc = pwb_user_get_by_name(txn, c->name, &u, err);
	if (rc == PWB_ENOTFOUND)
		pwb_error_set(err, rc, "no user named %s", c->name);
	for (i = 0; rc == 0 && i < c->groups->count; i++) {
		struct pwb_group g = {0};

		rc = pwbadm_group_ensure(txn, c->groups->names[i], &g, err);
		if (rc == 0) {
			strcpy(c->wanted[i], g.id);
			rc = pwb_member_add(txn, g.id, u.id, err);
		}
		pwb_group_clear(&g);
	}
	if (rc == 0)
		rc = pwb_member_foreach_group(txn, u.id, collect_group, c, err);
	for (i = 0; rc == 0 && i < c->current_count; i++) {
		for (j = 0; j < c->groups->count; j++)
			if (strcmp(c->current[i], c->wanted[j]) == 0)
				break;
		if (j == c->groups->count)
			rc = pwb_member_remove(txn, c->current[i], u.id, err);
	}
	if (rc == -ENOMEM && !err->msg[0])
		pwb_error_set(err, rc, "out of memory");
	pwb_user_clear(&u);
	return rc;
}

int pwbadm_set_groups(struct pwbadm *adm, int argc, char **argv)
{
	static const struct option options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct pwbadm_names groups = {0};
	struct set_groups_ctx c = {0};
	struct pwb_error err = {0};
	char name[PWB_NAME_MAX + 1];
	int opt, rc;

	while ((opt = pwbadm_getopt(argc, argv, "+h", options)) != -1) {
		if (opt != 'h')
			return PWBADM_EXIT_USAGE;
		pwbadm_command_help(pwbadm_command_find(argv[0]), stdout);
		return PWBADM_EXIT_OK;
	}
	if (optind + 2 != argc)
		return pwbadm_usage(argv[0], "expects a user name and a list of groups");
	if (pwbadm_user_arg(adm, argv[0], argv[optind], name))
		return PWBADM_EXIT_USAGE;
	if (pwbadm_group_list_arg(argv[0], argv[optind + 1], &groups))
		return PWBADM_EXIT_USAGE;
	if (pwbadm_open_store(adm)) {
		pwbadm_names_free(&groups);
		return PWBADM_EXIT_FAILURE;
	}
	c.name = name;
	c.groups = &groups;
	c.wanted = calloc(groups.count + 1, sizeof(*c.wanted));
	if (!c.wanted) {
		pwbadm_names_free(&groups);
		return pwbadm_fail("out of memory");
	}
	rc = pwb_store_write(adm->store, set_groups_txn, &c, &err);
	if (rc < 0)
		rc = pwbadm_fail("cannot set the groups of %s: %s", name, pwb_error_text(&err, rc));
	else {
		pwb_log(LOG_NOTICE, "groups of user %s set by pwbadm", name);
		printf("user %s is now in %zu group%s\n", name, groups.count,
		       groups.count == 1 ? "" : "s");
	}
	free(c.wanted);
	free(c.current);
	pwbadm_names_free(&groups);
	return rc;
}
