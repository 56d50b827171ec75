/* pwbadm's group commands: list-groups (name, GID, members). Groups are
 * created by add-user/set-groups (as JIT does) and by SCIM. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "pwbadm.h"

struct list_ctx {
	bool json;
	struct pwb_txn *txn;
	struct pwbadm_table table;
	struct pwbadm_json_list list;
	json_t *members; /* names of the group being listed */
};

static int add_member(const char *user_id, void *vctx)
{
	struct list_ctx *c = vctx;
	struct pwb_user u = {0};
	struct pwb_error err = {0};
	int rc;

	rc = pwb_user_get(c->txn, user_id, &u, &err);
	if (rc == PWB_ENOTFOUND)
		return 0;
	if (rc == 0)
		rc = json_array_append_new(c->members, json_string(u.name)) ? -ENOMEM : 0;
	pwb_user_clear(&u);
	return rc;
}

/* Members as a comma-separated string (for the table). */
static char *members_text(json_t *members)
{
	size_t i, n = json_array_size(members), len = 1;
	char *text;

	for (i = 0; i < n; i++)
		len += strlen(json_string_value(json_array_get(members, i))) + 1;
	text = calloc(len, 1);
	if (!text)
		return NULL;
	for (i = 0; i < n; i++) {
		if (i)
			strcat(text, ",");
		strcat(text, json_string_value(json_array_get(members, i)));
	}
	return text;
}

static int list_one(const struct pwb_group *g, void *vctx)
{
	struct list_ctx *c = vctx;
	struct pwb_error err = {0};
	json_t *o;
	int rc;

	/* A fresh array per group: the JSON record keeps it. */
	json_decref(c->members);
	c->members = json_array();
	if (!c->members)
		return -ENOMEM;
	rc = pwb_member_foreach_user(c->txn, g->id, add_member, c, &err);
	if (rc == 0)
		rc = pwbadm_json_strings_sort(c->members);
	if (rc < 0)
		return rc;
	if (c->json) {
		o = pwbadm_group_json(g);
		if (!o || json_object_set(o, "members", c->members) < 0) {
			json_decref(o);
			return -ENOMEM;
		}
		return pwbadm_json_list_add(&c->list, o);
	} else {
		_cleanup_free_ char *members = members_text(c->members);
		char gid[12];
		const char *row[3] = {g->name, gid, members};

		if (!members)
			return -ENOMEM;
		snprintf(gid, sizeof(gid), "%u", g->gid);
		return pwbadm_table_add(&c->table, row);
	}
}

static int list_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct list_ctx *c = vctx;
	int rc;

	pwbadm_table_free(&c->table);
	pwbadm_json_list_free(&c->list);
	c->txn = txn;
	rc = pwb_group_foreach(txn, list_one, c, err);
	if (rc < 0 && !err->msg[0])
		pwb_error_set(err, rc, "%s", pwb_strerror(rc));
	return rc;
}

int pwbadm_list_groups(struct pwbadm *adm, int argc, char **argv)
{
	static const char *const headers[] = {"NAME", "GID", "MEMBERS"};
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct list_ctx c = {0};
	struct pwb_error err = {0};
	int opt, rc;

	while ((opt = pwbadm_getopt(argc, argv, "+jh", options)) != -1) {
		if (opt == 'h') {
			pwbadm_command_help(pwbadm_command_find(argv[0]), stdout);
			return PWBADM_EXIT_OK;
		}
		if (opt != 'j')
			return PWBADM_EXIT_USAGE;
		c.json = true;
	}
	if (optind != argc)
		return pwbadm_usage(argv[0], "unexpected argument \"%s\"", argv[optind]);
	if (pwbadm_open_store(adm))
		return PWBADM_EXIT_FAILURE;
	pwbadm_table_init(&c.table, PWB_ARRAY_SIZE(headers), headers);
	rc = pwb_store_read(adm->store, list_txn, &c, &err);
	if (rc < 0) {
		rc = pwbadm_fail("cannot list groups: %s", pwb_error_text(&err, rc));
	} else if (c.json) {
		rc = pwbadm_json_list_print(&c.list, stdout) ? pwbadm_fail("cannot write the list")
							     : 0;
	} else {
		pwbadm_table_sort(&c.table, 0);
		rc =
		    pwbadm_table_print(&c.table, stdout) ? pwbadm_fail("cannot write the list") : 0;
	}
	json_decref(c.members);
	pwbadm_table_free(&c.table);
	pwbadm_json_list_free(&c.list);
	return rc;
}
