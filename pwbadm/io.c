/* pwbadm's whole-store commands: export (users, groups with members, token
 * metadata as JSON lines), import (the same format: everything parsed and
 * validated first, then written in one transaction, idempotently) and
 * rebuild-nss (republish the snapshot from scratch). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cleanup.h"
#include "log.h"
#include "pwbadm.h"
#include "token.h"
#include "util.h"

#define LINE_MAX_BYTES (1024 * 1024)
#define TEXT_MAX_BYTES 1024

static int no_options(int argc, char **argv, int max_operands)
{
	static const struct option options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	while ((opt = pwbadm_getopt(argc, argv, "+h", options)) != -1) {
		if (opt != 'h')
			return PWBADM_EXIT_USAGE;
		pwbadm_command_help(pwbadm_command_find(argv[0]), stdout);
		return -1;
	}
	if (argc - optind > max_operands)
		return pwbadm_usage(argv[0], "unexpected argument \"%s\"",
				    argv[optind + max_operands]);
	return 0;
}

/* ---- rebuild-nss ---- */

int pwbadm_rebuild_nss(struct pwbadm *adm, int argc, char **argv)
{
	struct pwb_error err = {0};
	int rc;

	rc = no_options(argc, argv, 0);
	if (rc)
		return rc < 0 ? PWBADM_EXIT_OK : rc;
	if (pwbadm_open_store(adm))
		return PWBADM_EXIT_FAILURE;
	rc = pwb_store_publish_all(adm->store, &err);
	if (rc < 0)
		return pwbadm_fail("cannot rebuild the NSS snapshot in %s/nss: %s", adm->cfg.db_dir,
				   pwb_error_text(&err, rc));
	pwb_log(LOG_NOTICE, "NSS snapshot rebuilt by pwbadm");
	printf("NSS snapshot rebuilt in %s/nss\n", adm->cfg.db_dir);
	return PWBADM_EXIT_OK;
}

/* ---- export ---- */

struct export_ctx {
	struct pwb_txn *txn;
	struct pwbadm_json_list users, groups, tokens;
	struct pwbadm_damaged damaged;
	json_t *members;
	json_t *retired_uids, *retired_gids;
};

static int export_user(const struct pwb_user *u, void *vctx)
{
	struct export_ctx *c = vctx;

	return pwbadm_json_list_add(&c->users, pwbadm_user_json(u));
}

static int export_member(const char *user_id, void *vctx)
{
	struct export_ctx *c = vctx;
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

static int export_group(const struct pwb_group *g, void *vctx)
{
	struct export_ctx *c = vctx;
	struct pwb_error err = {0};
	json_t *o;
	int rc;

	c->members = json_array();
	if (!c->members)
		return -ENOMEM;
	rc = pwb_member_foreach_user(c->txn, g->id, export_member, c, &err);
	if (rc == 0)
		rc = pwbadm_json_strings_sort(c->members);
	o = rc == 0 ? pwbadm_group_json(g) : NULL;
	if (rc == 0 && (!o || json_object_set(o, "members", c->members) < 0))
		rc = -ENOMEM;
	json_decref(c->members);
	c->members = NULL;
	if (rc < 0) {
		json_decref(o);
		return rc;
	}
	return pwbadm_json_list_add(&c->groups, o);
}

static int export_token(const struct pwb_token *t, void *vctx)
{
	struct export_ctx *c = vctx;

	return pwbadm_json_list_add(&c->tokens, pwbadm_token_json(t));
}

static int export_retired(char kind, uint32_t id, void *vctx)
{
	struct export_ctx *c = vctx;

	return json_array_append_new(kind == 'u' ? c->retired_uids : c->retired_gids,
				     json_integer(id))
		   ? -ENOMEM
		   : 0;
}

static void export_reset(struct export_ctx *c)
{
	pwbadm_json_list_free(&c->users);
	pwbadm_json_list_free(&c->groups);
	pwbadm_json_list_free(&c->tokens);
	json_decref(c->retired_uids);
	json_decref(c->retired_gids);
	c->retired_uids = c->retired_gids = NULL;
}

/* Retired ids travel too, so an imported store never hands out an id whose
 * files may still exist. */
static int print_retired(const struct export_ctx *c, FILE *out)
{
	json_t *o;
	char *line;
	int rc = 0;

	if (json_array_size(c->retired_uids) == 0 && json_array_size(c->retired_gids) == 0)
		return 0;
	o = json_pack("{s:s, s:O, s:O}", "type", "retired", "uids", c->retired_uids, "gids",
		      c->retired_gids);
	line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (!line || fprintf(out, "%s\n", line) < 0)
		rc = -EIO;
	free(line);
	json_decref(o);
	return rc;
}

static int export_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct export_ctx *c = vctx;
	int rc;

	export_reset(c);
	c->txn = txn;
	c->retired_uids = json_array();
	c->retired_gids = json_array();
	if (!c->retired_uids || !c->retired_gids)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	rc = pwb_user_foreach(txn, export_user, c, err);
	if (rc == 0)
		rc = pwb_group_foreach(txn, export_group, c, err);
	if (rc == 0)
		rc = pwb_token_foreach(txn, export_token, c, err);
	if (rc == 0)
		rc = pwb_store_retired_foreach(txn, export_retired, c, err);
	if (rc == 0)
		rc = pwbadm_damaged_find(txn, (int64_t)c->users.count, (int64_t)c->groups.count,
					 &c->damaged, err);
	if (rc < 0 && !err->msg[0])
		pwb_error_set(err, rc, "%s", pwb_strerror(rc));
	return rc;
}

int pwbadm_export(struct pwbadm *adm, int argc, char **argv)
{
	_cleanup_fclose_ FILE *file = NULL;
	struct export_ctx c = {0};
	struct pwb_error err = {0};
	const char *path = NULL;
	FILE *out = stdout;
	int rc, fd;

	rc = no_options(argc, argv, 1);
	if (rc)
		return rc < 0 ? PWBADM_EXIT_OK : rc;
	if (optind < argc && strcmp(argv[optind], "-") != 0)
		path = argv[optind];
	if (pwbadm_open_store(adm))
		return PWBADM_EXIT_FAILURE;
	if (path) {
		/* Exports name every account: readable by root only. */
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 || !(file = fdopen(fd, "w"))) {
			rc = -errno;
			if (fd >= 0)
				close(fd);
			return pwbadm_fail("cannot write %s: %s", path, strerror(-rc));
		}
		out = file;
	}
	rc = pwb_store_read(adm->store, export_txn, &c, &err);
	if (rc < 0) {
		export_reset(&c);
		return pwbadm_fail("cannot export: %s", pwb_error_text(&err, rc));
	}
	rc = pwbadm_json_list_print_lines(&c.users, out);
	if (rc == 0)
		rc = pwbadm_json_list_print_lines(&c.groups, out);
	if (rc == 0)
		rc = pwbadm_json_list_print_lines(&c.tokens, out);
	if (rc == 0)
		rc = print_retired(&c, out);
	if (rc == 0 && (fflush(out) != 0 || ferror(out) || (file && fsync(fileno(file)) < 0)))
		rc = -EIO;
	if (file && rc == 0)
		printf("exported %zu users, %zu groups, %zu tokens to %s\n", c.users.count,
		       c.groups.count, c.tokens.count, path);
	export_reset(&c);
	if (rc < 0)
		return pwbadm_fail("cannot write %s: %s", path ? path : "stdout", strerror(-rc));
	/* Everything readable was written; what could not be read is not in it,
	 * so the export is no complete backup: say so, and fail. */
	if (c.damaged.count) {
		pwbadm_damaged_report(&c.damaged);
		return pwbadm_fail("the export lacks %llu damaged record%s",
				   (unsigned long long)c.damaged.count,
				   c.damaged.count == 1 ? "" : "s");
	}
	return PWBADM_EXIT_OK;
}

/* ---- import: parsing and validation ---- */

struct import_user {
	size_t line;
	json_t *record; /* the parsed line: which fields it sets */
	bool has_uid, has_gid, has_home, has_shell;
	bool has_identity;	/* issuer and subject given (both null: unbound) */
	char *issuer, *subject; /* kept apart from u: only pwb_user_bind sets them */
	struct pwb_user u;
};

struct import_group {
	size_t line;
	json_t *record;
	bool has_gid;
	struct pwb_group g;
	char (*members)[PWB_NAME_MAX + 1];
	size_t member_count;
};

struct import_token {
	size_t line;
	struct pwb_token t;
};

struct import_retired {
	size_t line;
	char kind; /* 'u' or 'g' */
	uint32_t id;
};

struct import {
	const char *origin; /* file name for messages */
	struct import_retired *retired;
	size_t retired_count;
	struct import_user *users;
	struct import_group *groups;
	struct import_token *tokens;
	size_t user_count, group_count, token_count;
	json_t *seen; /* keys already used in the file: duplicates are refused */
	/* results of the transaction */
	size_t created, updated, unchanged;
};

static void import_free(struct import *im)
{
	size_t i;

	for (i = 0; i < im->user_count; i++) {
		pwb_user_clear(&im->users[i].u);
		json_decref(im->users[i].record);
		free(im->users[i].issuer);
		free(im->users[i].subject);
	}
	for (i = 0; i < im->group_count; i++) {
		pwb_group_clear(&im->groups[i].g);
		json_decref(im->groups[i].record);
		free(im->groups[i].members);
	}
	free(im->users);
	free(im->groups);
	free(im->tokens);
	free(im->retired);
	json_decref(im->seen);
}

/* Records a unique key (kind + value); a second use is a duplicate. */
static int claim_key(struct import *im, const char *kind, const char *value, size_t line,
		     struct pwb_error *err)
{
	char key[128];
	json_t *first;

	snprintf(key, sizeof(key), "%s\t%s", kind, value);
	first = json_object_get(im->seen, key);
	if (first)
		return pwb_error_set(err, PWB_EINVAL, "%s %s already appears on line %lld", kind,
				     value, (long long)json_integer_value(first));
	if (json_object_set_new(im->seen, key, json_integer((json_int_t)line)) < 0)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

static bool known_key(const char *key, const char *const *keys)
{
	for (; *keys; keys++)
		if (strcmp(key, *keys) == 0)
			return true;
	return false;
}

static int check_keys(json_t *o, const char *const *keys, struct pwb_error *err)
{
	const char *key;
	json_t *value;
	char shown[48];

	json_object_foreach(o, key, value)
	{
		if (!known_key(key, keys)) {
			pwb_names_escape(key, shown, sizeof(shown));
			return pwb_error_set(err, PWB_EINVAL, "unknown field \"%s\"", shown);
		}
	}
	return 0;
}

/* An optional string field: absent or null leaves *out NULL. */
static int get_text(json_t *o, const char *key, bool passwd_field, char **out,
		    struct pwb_error *err)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return pwb_error_set(err, PWB_EINVAL, "field %s: not a string", key);
	s = json_string_value(v);
	if (strlen(s) > TEXT_MAX_BYTES || memchr(s, '\0', json_string_length(v)))
		return pwb_error_set(err, PWB_EINVAL, "field %s: too long or contains NUL", key);
	if (passwd_field && !pwbadm_passwd_field_ok(s))
		return pwb_error_set(err, PWB_EINVAL,
				     "field %s: contains ':' or a control character", key);
	if (!(*out = strdup(s)))
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int get_name(json_t *o, const char *key, char *out, struct pwb_error *err)
{
	const char *s = json_string_value(json_object_get(o, key));
	char shown[48];

	if (!s)
		return pwb_error_set(err, PWB_EINVAL, "field %s: missing or not a string", key);
	if (!pwb_names_is_valid(s)) {
		pwb_names_escape(s, shown, sizeof(shown));
		return pwb_error_set(err, PWB_EINVAL, "field %s: \"%s\" is not a valid name", key,
				     shown);
	}
	strcpy(out, s);
	return 0;
}

static int get_id(json_t *o, char out[PWB_ID_LEN + 1], struct pwb_error *err)
{
	json_t *v = json_object_get(o, "id");

	out[0] = '\0';
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || !pwb_uuid_is_valid(json_string_value(v)))
		return pwb_error_set(err, PWB_EINVAL, "field id: not a lower-case UUID");
	strcpy(out, json_string_value(v));
	return 0;
}

/* An optional id number: absent or null leaves *present false. */
static int get_xid(json_t *o, const char *key, uint32_t *out, bool *present, struct pwb_error *err)
{
	json_t *v = json_object_get(o, key);

	*present = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) >= (json_int_t)UINT32_MAX)
		return pwb_error_set(err, PWB_EINVAL, "field %s: not an id number", key);
	*out = (uint32_t)json_integer_value(v);
	*present = true;
	return 0;
}

static int get_time(json_t *o, const char *key, int64_t *out, struct pwb_error *err)
{
	json_t *v = json_object_get(o, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return pwb_error_set(err, PWB_EINVAL, "field %s: not a time in unix seconds", key);
	*out = json_integer_value(v);
	return 0;
}

static int get_attrs(json_t *o, json_t **out, struct pwb_error *err)
{
	json_t *v = json_object_get(o, "attrs");

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return pwb_error_set(err, PWB_EINVAL, "field attrs: not an object");
	*out = json_incref(v);
	return 0;
}

static int parse_source(json_t *o, enum pwb_user_source *out, struct pwb_error *err)
{
	static const enum pwb_user_source all[] = {PWB_SOURCE_MANUAL, PWB_SOURCE_JIT,
						   PWB_SOURCE_SCIM};
	json_t *v = json_object_get(o, "source");
	size_t i;

	*out = PWB_SOURCE_MANUAL;
	if (!v)
		return 0;
	for (i = 0; i < PWB_ARRAY_SIZE(all); i++)
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), pwb_user_source_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return pwb_error_set(err, PWB_EINVAL, "field source: not manual, jit or scim");
}

static int parse_user(struct import *im, json_t *o, struct import_user *r, struct pwb_error *err)
{
	static const char *const keys[] = {
	    "type",   "id",	   "name",  "userName",	   "externalId", "uid",
	    "gid",    "gecos",	   "home",  "shell",	   "email",	 "active",
	    "source", "lastLogin", "attrs", "created",	   "modified",	 "version",
	    "issuer", "subject",   "bound", "bindOnLogin", NULL,
	};
	struct pwb_user *u = &r->u;
	json_t *active = json_object_get(o, "active");
	char number[16];
	int rc;

	if ((rc = check_keys(o, keys, err)) || (rc = get_name(o, "name", u->name, err)) ||
	    (rc = get_id(o, u->id, err)) ||
	    (rc = get_text(o, "userName", false, &u->user_name, err)) ||
	    (rc = get_text(o, "externalId", false, &u->external_id, err)) ||
	    (rc = get_xid(o, "uid", &u->uid, &r->has_uid, err)) ||
	    (rc = get_xid(o, "gid", &u->gid, &r->has_gid, err)) ||
	    (rc = get_text(o, "gecos", true, &u->gecos, err)) ||
	    (rc = get_text(o, "home", true, &u->home, err)) ||
	    (rc = get_text(o, "shell", true, &u->shell, err)) ||
	    (rc = get_text(o, "email", false, &u->email, err)) ||
	    (rc = parse_source(o, &u->source, err)) ||
	    (rc = get_time(o, "lastLogin", &u->last_login, err)) ||
	    (rc = get_attrs(o, &u->attrs, err)))
		return rc;
	if (active && !json_is_boolean(active))
		return pwb_error_set(err, PWB_EINVAL, "field active: not true or false");
	/* "bound" and "bindOnLogin" follow from the identity: read, not set */
	if ((json_object_get(o, "bound") && !json_is_boolean(json_object_get(o, "bound"))) ||
	    (json_object_get(o, "bindOnLogin") &&
	     !json_is_boolean(json_object_get(o, "bindOnLogin"))))
		return pwb_error_set(err, PWB_EINVAL,
				     "fields bound, bindOnLogin: not true or false");
	if ((rc = get_text(o, "issuer", false, &r->issuer, err)) ||
	    (rc = get_text(o, "subject", false, &r->subject, err)))
		return rc;
	if (!r->issuer != !r->subject)
		return pwb_error_set(err, PWB_EINVAL, "fields issuer and subject go together");
	r->has_identity = json_object_get(o, "issuer") && json_object_get(o, "subject");
	u->active = !active || json_is_true(active);
	/* An empty home or shell means "the configured default", as on create. */
	r->has_home = u->home && u->home[0];
	r->has_shell = u->shell && u->shell[0];
	if (u->home && u->home[0] != '/' && r->has_home)
		return pwb_error_set(err, PWB_EINVAL, "field home: not an absolute path");
	if (u->shell && u->shell[0] != '/' && r->has_shell)
		return pwb_error_set(err, PWB_EINVAL, "field shell: not an absolute path");
	if ((rc = claim_key(im, "user", u->name, r->line, err)))
		return rc;
	if (u->id[0] && (rc = claim_key(im, "user id", u->id, r->line, err)))
		return rc;
	snprintf(number, sizeof(number), "%u", u->uid);
	if (r->has_uid && (rc = claim_key(im, "uid", number, r->line, err)))
		return rc;
	return 0;
}

static int parse_members(json_t *o, struct import_group *r, struct pwb_error *err)
{
	json_t *members = json_object_get(o, "members"), *m;
	size_t i, j;
	int rc;

	if (!members || json_is_null(members))
		return 0;
	if (!json_is_array(members))
		return pwb_error_set(err, PWB_EINVAL, "field members: not an array of names");
	r->members = calloc(json_array_size(members) + 1, sizeof(*r->members));
	if (!r->members)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	json_array_foreach(members, i, m)
	{
		json_t *wrap = json_pack("{s:O}", "member", m);

		rc = wrap ? get_name(wrap, "member", r->members[r->member_count], err)
			  : pwb_error_set(err, -ENOMEM, "out of memory");
		json_decref(wrap);
		if (rc)
			return pwb_error_prefix(err, "field members[%zu]", i);
		for (j = 0; j < r->member_count; j++)
			if (strcmp(r->members[j], r->members[r->member_count]) == 0)
				return pwb_error_set(err, PWB_EINVAL, "member %s listed twice",
						     r->members[j]);
		r->member_count++;
	}
	return 0;
}

static int parse_group(struct import *im, json_t *o, struct import_group *r, struct pwb_error *err)
{
	static const char *const keys[] = {
	    "type",    "id",	"name",	   "displayName", "externalId", "gid",
	    "members", "attrs", "created", "modified",	  "version",	NULL,
	};
	struct pwb_group *g = &r->g;
	char number[16];
	int rc;

	if ((rc = check_keys(o, keys, err)) || (rc = get_name(o, "name", g->name, err)) ||
	    (rc = get_id(o, g->id, err)) ||
	    (rc = get_text(o, "displayName", false, &g->display_name, err)) ||
	    (rc = get_text(o, "externalId", false, &g->external_id, err)) ||
	    (rc = get_xid(o, "gid", &g->gid, &r->has_gid, err)) ||
	    (rc = get_attrs(o, &g->attrs, err)) || (rc = parse_members(o, r, err)))
		return rc;
	if ((rc = claim_key(im, "group", g->name, r->line, err)))
		return rc;
	if (g->id[0] && (rc = claim_key(im, "group id", g->id, r->line, err)))
		return rc;
	snprintf(number, sizeof(number), "%u", g->gid);
	if (r->has_gid && (rc = claim_key(im, "gid", number, r->line, err)))
		return rc;
	return 0;
}

static bool is_hex_hash(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == PWB_HASH_HEX_LEN;
}

static int parse_token(struct import *im, json_t *o, struct import_token *r, struct pwb_error *err)
{
	static const char *const keys[] = {"type",    "name",	 "hash",     "masked",
					   "created", "expires", "lastUsed", NULL};
	struct pwb_token *t = &r->t;
	const char *hash = json_string_value(json_object_get(o, "hash"));
	const char *masked = json_string_value(json_object_get(o, "masked"));
	int rc;

	if ((rc = check_keys(o, keys, err)) || (rc = get_name(o, "name", t->name, err)) ||
	    (rc = get_time(o, "created", &t->created, err)) ||
	    (rc = get_time(o, "expires", &t->expires, err)) ||
	    (rc = get_time(o, "lastUsed", &t->last_used, err)))
		return rc;
	if (!hash || !is_hex_hash(hash))
		return pwb_error_set(err, PWB_EINVAL,
				     "field hash: not a SHA-256 in lower-case hex");
	strcpy(t->hash, hash);
	if (masked && (strlen(masked) >= sizeof(t->masked) || !pwbadm_passwd_field_ok(masked)))
		return pwb_error_set(err, PWB_EINVAL, "field masked: too long");
	snprintf(t->masked, sizeof(t->masked), "%s", masked ? masked : "");
	return claim_key(im, "token", t->name, r->line, err);
}

/* Grows *array (of elem bytes) to hold one more; returns the new slot. */
static void *append_slot(void **array, size_t *count, size_t elem)
{
	char *p;

	/* Doubling at powers of two keeps appends amortised O(1). */
	if ((*count & (*count - 1)) == 0) {
		p = reallocarray(*array, *count ? *count * 2 : 1, elem);
		if (!p)
			return NULL;
		*array = p;
	}
	p = (char *)*array + *count * elem;
	memset(p, 0, elem);
	(*count)++;
	return p;
}

static int parse_retired_list(struct import *im, json_t *o, const char *key, char kind, size_t line,
			      struct pwb_error *err)
{
	json_t *list = json_object_get(o, key), *v;
	size_t i;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return pwb_error_set(err, PWB_EINVAL, "%s: not a list", key);
	json_array_foreach(list, i, v)
	{
		struct import_retired *r;
		json_int_t n = json_integer_value(v);

		if (!json_is_integer(v) || n < 1 || n >= (json_int_t)UINT32_MAX)
			return pwb_error_set(err, PWB_EINVAL, "%s: item %zu is not an id", key,
					     i + 1);
		r = append_slot((void **)&im->retired, &im->retired_count, sizeof(*r));
		if (!r)
			return pwb_error_set(err, -ENOMEM, "out of memory");
		r->line = line;
		r->kind = kind;
		r->id = (uint32_t)n;
	}
	return 0;
}

static int parse_retired(struct import *im, json_t *o, size_t line, struct pwb_error *err)
{
	static const char *const keys[] = {"type", "uids", "gids", NULL};
	int rc = check_keys(o, keys, err);

	if (rc == 0)
		rc = parse_retired_list(im, o, "uids", 'u', line, err);
	if (rc == 0)
		rc = parse_retired_list(im, o, "gids", 'g', line, err);
	return rc;
}

static int parse_line(struct import *im, const char *text, size_t len, size_t line,
		      struct pwb_error *err)
{
	json_error_t jerr;
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *type;
	int rc;

	if (!o)
		return pwb_error_set(err, PWB_EINVAL, "not JSON: %s", jerr.text);
	type = json_string_value(json_object_get(o, "type"));
	if (!json_is_object(o) || !type) {
		rc = pwb_error_set(err, PWB_EINVAL, "not an object with a \"type\"");
	} else if (strcmp(type, "user") == 0) {
		struct import_user *r =
		    append_slot((void **)&im->users, &im->user_count, sizeof(*r));

		rc = r ? (r->line = line, r->record = json_incref(o), parse_user(im, o, r, err))
		       : pwb_error_set(err, -ENOMEM, "out of memory");
	} else if (strcmp(type, "group") == 0) {
		struct import_group *r =
		    append_slot((void **)&im->groups, &im->group_count, sizeof(*r));

		rc = r ? (r->line = line, r->record = json_incref(o), parse_group(im, o, r, err))
		       : pwb_error_set(err, -ENOMEM, "out of memory");
	} else if (strcmp(type, "token") == 0) {
		struct import_token *r =
		    append_slot((void **)&im->tokens, &im->token_count, sizeof(*r));

		rc = r ? (r->line = line, parse_token(im, o, r, err))
		       : pwb_error_set(err, -ENOMEM, "out of memory");
	} else if (strcmp(type, "retired") == 0) {
		rc = parse_retired(im, o, line, err);
	} else {
		rc = pwb_error_set(err, PWB_EINVAL,
				   "unknown type (not user, group, token or retired)");
	}
	json_decref(o);
	return rc;
}

static int parse_file(struct import *im, FILE *in, struct pwb_error *err)
{
	/* A fixed buffer: a hostile file cannot make one line cost more. */
	_cleanup_free_ char *line = malloc(LINE_MAX_BYTES + 2);
	size_t number = 0, len;
	int rc;

	im->seen = json_object();
	if (!im->seen || !line)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	while (fgets(line, LINE_MAX_BYTES + 2, in)) {
		number++;
		len = strlen(line);
		if (len > LINE_MAX_BYTES && line[len - 1] != '\n')
			return pwb_error_set(err, PWB_EINVAL, "%s: line %zu: longer than %d bytes",
					     im->origin, number, LINE_MAX_BYTES);
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len == 0)
			continue;
		rc = parse_line(im, line, len, number, err);
		if (rc < 0)
			return pwb_error_prefix(err, "%s: line %zu", im->origin, number);
	}
	if (ferror(in))
		return pwb_error_set(err, -EIO, "%s: read error", im->origin);
	return 0;
}

/* ---- import: the transaction ---- */

static bool same_text(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool same_attrs(json_t *a, json_t *b)
{
	if (!a || !b)
		return json_object_size(a) == json_object_size(b);
	return json_equal(a, b);
}

static int replace_text(char **field, const char *value)
{
	char *copy = NULL;

	if (value && !(copy = strdup(value)))
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

/* A field the record sets (null included: it clears the value). A field
 * the record leaves out keeps the store's value. */
static bool sets(json_t *record, const char *key)
{
	return json_object_get(record, key) != NULL;
}

/* Applies one optional text field of the record to *field. */
static int merge_text(json_t *record, const char *key, const char *value, char **field,
		      bool *changed)
{
	if (!sets(record, key) || same_text(*field, value))
		return 0;
	*changed = true;
	return replace_text(field, value);
}

/* Merges the fields the record sets into cur; *changed if any differed. */
static int merge_user(struct pwb_user *cur, const struct import_user *r, bool *changed)
{
	const struct pwb_user *u = &r->u;
	json_t *rec = r->record;

	*changed = false;
	if (r->has_uid && cur->uid != u->uid) {
		cur->uid = u->uid;
		*changed = true;
	}
	if (r->has_gid && cur->gid != u->gid) {
		cur->gid = u->gid;
		*changed = true;
	}
	if (sets(rec, "active") && cur->active != u->active) {
		cur->active = u->active;
		*changed = true;
	}
	if (sets(rec, "source") && cur->source != u->source) {
		cur->source = u->source;
		*changed = true;
	}
	if (sets(rec, "attrs") && !same_attrs(cur->attrs, u->attrs)) {
		json_decref(cur->attrs);
		cur->attrs = u->attrs ? json_deep_copy(u->attrs) : NULL;
		*changed = true;
		if (u->attrs && !cur->attrs)
			return -ENOMEM;
	}
	if (merge_text(rec, "userName", u->user_name, &cur->user_name, changed) ||
	    merge_text(rec, "externalId", u->external_id, &cur->external_id, changed) ||
	    merge_text(rec, "gecos", u->gecos, &cur->gecos, changed) ||
	    merge_text(rec, "email", u->email, &cur->email, changed) ||
	    (r->has_home && merge_text(rec, "home", u->home, &cur->home, changed)) ||
	    (r->has_shell && merge_text(rec, "shell", u->shell, &cur->shell, changed)))
		return -ENOMEM;
	return 0;
}

static int import_user(struct import *im, struct pwb_txn *txn, const struct import_user *r,
		       struct pwb_error *err)
{
	struct pwb_user cur = {0};
	bool changed = false;
	int rc;

	rc = pwb_user_get_by_name(txn, r->u.name, &cur, err);
	if (rc == 0 && r->u.id[0] && strcmp(cur.id, r->u.id) != 0) {
		rc = pwb_error_set(err, PWB_EEXIST, "exists in the store with another id (%s)",
				   cur.id);
	} else if (rc == 0) {
		rc = merge_user(&cur, r, &changed);
		if (rc == 0 && changed)
			rc = pwb_user_update(txn, &cur, err);
		/* The identity is only ever set through pwb_user_bind. */
		if (rc == 0 && r->has_identity &&
		    (!same_text(cur.issuer, r->issuer) || !same_text(cur.subject, r->subject))) {
			rc = pwb_user_bind(txn, cur.id, r->issuer, r->subject, err);
			changed = true;
		}
		im->updated += changed;
		im->unchanged += !changed;
	} else if (rc == PWB_ENOTFOUND) {
		memset(err, 0, sizeof(*err));
		pwb_user_clear(&cur);
		rc = pwb_user_copy(&cur, &r->u);
		if (rc == 0) {
			if (!r->has_home)
				replace_text(&cur.home, NULL);
			if (!r->has_shell)
				replace_text(&cur.shell, NULL);
			cur.last_login = 0;
			rc = pwb_user_create(txn, &cur, err);
		}
		if (rc == 0 && r->issuer)
			rc = pwb_user_bind(txn, cur.id, r->issuer, r->subject, err);
		im->created++;
	}
	if (rc == 0 && r->u.last_login > cur.last_login)
		rc = pwb_user_touch_login(txn, cur.id, r->u.last_login, err);
	if (rc == -ENOMEM && !err->msg[0])
		pwb_error_set(err, rc, "out of memory");
	pwb_user_clear(&cur);
	return rc;
}

static int import_group(struct import *im, struct pwb_txn *txn, const struct import_group *r,
			struct pwb_error *err)
{
	const struct pwb_group *g = &r->g;
	struct pwb_group cur = {0};
	size_t i;
	int rc;

	rc = pwb_group_get_by_name(txn, g->name, &cur, err);
	if (rc == 0 && g->id[0] && strcmp(cur.id, g->id) != 0) {
		rc = pwb_error_set(err, PWB_EEXIST, "exists in the store with another id (%s)",
				   cur.id);
	} else if (rc == 0) {
		bool changed = false;

		if (r->has_gid && cur.gid != g->gid) {
			cur.gid = g->gid;
			changed = true;
		}
		if (sets(r->record, "attrs") && !same_attrs(cur.attrs, g->attrs)) {
			json_decref(cur.attrs);
			cur.attrs = g->attrs ? json_deep_copy(g->attrs) : NULL;
			changed = true;
		}
		if (merge_text(r->record, "displayName", g->display_name, &cur.display_name,
			       &changed) ||
		    merge_text(r->record, "externalId", g->external_id, &cur.external_id, &changed))
			rc = -ENOMEM;
		if (rc == 0 && changed)
			rc = pwb_group_update(txn, &cur, err);
		im->updated += changed;
		im->unchanged += !changed;
	} else if (rc == PWB_ENOTFOUND) {
		memset(err, 0, sizeof(*err));
		pwb_group_clear(&cur);
		rc = pwb_group_copy(&cur, g);
		if (rc == 0)
			rc = pwb_group_create(txn, &cur, err);
		im->created++;
	}
	for (i = 0; rc == 0 && i < r->member_count; i++) {
		struct pwb_user u = {0};

		rc = pwb_user_get_by_name(txn, r->members[i], &u, err);
		if (rc == PWB_ENOTFOUND)
			rc = pwb_error_set(err, rc, "member %s: no such user", r->members[i]);
		else if (rc == 0)
			rc = pwb_member_add(txn, cur.id, u.id, err);
		pwb_user_clear(&u);
	}
	if (rc == -ENOMEM && !err->msg[0])
		pwb_error_set(err, rc, "out of memory");
	pwb_group_clear(&cur);
	return rc;
}

static int import_token(struct import *im, struct pwb_txn *txn, const struct import_token *r,
			struct pwb_error *err)
{
	struct pwb_token cur;
	int rc;

	rc = pwb_token_get(txn, r->t.name, &cur, err);
	if (rc == 0 && !pwb_token_hash_equal(cur.hash, r->t.hash))
		return pwb_error_set(err, PWB_EEXIST, "exists in the store with a different key");
	if (rc == 0) {
		im->unchanged++;
		return 0;
	}
	if (rc != PWB_ENOTFOUND)
		return rc;
	memset(err, 0, sizeof(*err));
	im->created++;
	return pwb_token_put(txn, &r->t, err);
}

static int import_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct import *im = vctx;
	size_t i;
	int rc = 0;

	im->created = im->updated = im->unchanged = 0;
	/* Retired first: no user or group of the file may take such an id. */
	for (i = 0; rc == 0 && i < im->retired_count; i++)
		if ((rc = pwb_store_retire(txn, im->retired[i].kind, im->retired[i].id, err)))
			pwb_error_prefix(err, "%s: line %zu: retired", im->origin,
					 im->retired[i].line);
	for (i = 0; rc == 0 && i < im->user_count; i++)
		if ((rc = import_user(im, txn, &im->users[i], err)))
			pwb_error_prefix(err, "%s: line %zu: user %s", im->origin,
					 im->users[i].line, im->users[i].u.name);
	for (i = 0; rc == 0 && i < im->group_count; i++)
		if ((rc = import_group(im, txn, &im->groups[i], err)))
			pwb_error_prefix(err, "%s: line %zu: group %s", im->origin,
					 im->groups[i].line, im->groups[i].g.name);
	for (i = 0; rc == 0 && i < im->token_count; i++)
		if ((rc = import_token(im, txn, &im->tokens[i], err)))
			pwb_error_prefix(err, "%s: line %zu: token %s", im->origin,
					 im->tokens[i].line, im->tokens[i].t.name);
	return rc;
}

int pwbadm_import(struct pwbadm *adm, int argc, char **argv)
{
	_cleanup_fclose_ FILE *file = NULL;
	struct import im = {0};
	struct pwb_error err = {0};
	FILE *in = stdin;
	int rc;

	rc = no_options(argc, argv, 1);
	if (rc)
		return rc < 0 ? PWBADM_EXIT_OK : rc;
	im.origin = "stdin";
	if (optind < argc && strcmp(argv[optind], "-") != 0) {
		im.origin = argv[optind];
		file = fopen(im.origin, "re");
		if (!file)
			return pwbadm_fail("cannot read %s: %s", im.origin, strerror(errno));
		in = file;
	}
	if (pwbadm_load_config(adm))
		return PWBADM_EXIT_FAILURE;
	/* Everything is parsed and checked before the store is touched. */
	rc = parse_file(&im, in, &err);
	if (rc == 0 && pwbadm_open_store(adm))
		rc = PWBADM_EXIT_FAILURE;
	else if (rc == 0)
		rc = pwb_store_write(adm->store, import_txn, &im, &err);
	if (rc < 0) {
		rc = pwbadm_fail("import failed, nothing written: %s", pwb_error_text(&err, rc));
	} else if (rc == 0) {
		char shown[128];

		/* A file name is the admin's text: escaped before syslog. */
		pwb_names_escape(im.origin, shown, sizeof(shown));
		pwb_log(LOG_NOTICE, "pwbadm import from %s: %zu created, %zu updated", shown,
			im.created, im.updated);
		printf("imported %zu users, %zu groups, %zu tokens: %zu created, %zu updated, "
		       "%zu unchanged\n",
		       im.user_count, im.group_count, im.token_count, im.created, im.updated,
		       im.unchanged);
	}
	import_free(&im);
	return rc;
}
