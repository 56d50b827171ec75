/* pwbd's store.import: an export's lines (pwbadm reads the file and sends
 * them, numbered by position) parsed with the record codec's strict mode
 * and validated first, then written in one transaction, idempotently: a
 * record sets only the fields it has. Every message names the file, the
 * line and the record. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "admin.h"
#include "store.h"
#include "token.h"
#include "util.h"

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

struct import_map {
	size_t line;
	struct pwb_group_map m;
};

/* An audit trail entry, restored as history before the records. */
struct import_change {
	size_t line;
	json_t *record;
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
	struct import_map *maps;
	struct import_change *changes;
	size_t user_count, group_count, token_count, map_count, change_count;
	json_t *seen; /* keys already used in the file: duplicates are refused */
	/* results of the transaction */
	size_t created, updated, unchanged, restored;
	const struct pwb_progress *progress; /* the caller's, for parsing */
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
	for (i = 0; i < im->map_count; i++)
		pwb_group_map_clear(&im->maps[i].m);
	for (i = 0; i < im->change_count; i++)
		json_decref(im->changes[i].record);
	free(im->changes);
	free(im->maps);
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

static int parse_user(struct import *im, json_t *o, struct import_user *r, struct pwb_error *err)
{
	struct pwb_user *u = &r->u;
	char number[16];
	int rc;

	if ((rc = pwb_user_from_json(o, PWB_RECORD_STRICT, u, err)))
		return rc;
	/* The identity is kept apart: only pwb_user_bind sets it. */
	r->issuer = u->issuer;
	r->subject = u->subject;
	u->issuer = u->subject = NULL;
	r->has_identity = json_object_get(o, "issuer") && json_object_get(o, "subject");
	r->has_uid = u->uid != 0;
	r->has_gid = u->gid != 0;
	/* An empty home or shell means "the configured default", as on create. */
	r->has_home = u->home && u->home[0];
	r->has_shell = u->shell && u->shell[0];
	if ((rc = claim_key(im, "user", u->name, r->line, err)))
		return rc;
	if (u->id[0] && (rc = claim_key(im, "user id", u->id, r->line, err)))
		return rc;
	snprintf(number, sizeof(number), "%u", u->uid);
	if (r->has_uid && (rc = claim_key(im, "uid", number, r->line, err)))
		return rc;
	return 0;
}

static int parse_group(struct import *im, json_t *o, struct import_group *r, struct pwb_error *err)
{
	struct pwb_group *g = &r->g;
	json_t *members = NULL, *m;
	char number[16];
	size_t i;
	int rc;

	if ((rc = pwb_group_from_json(o, PWB_RECORD_STRICT, g, &members, err)))
		return rc;
	r->has_gid = g->gid != 0;
	r->members = calloc(json_array_size(members) + 1, sizeof(*r->members));
	if (!r->members) {
		json_decref(members);
		return pwb_error_set(err, -ENOMEM, "out of memory");
	}
	json_array_foreach(members, i, m)
	{
		snprintf(r->members[r->member_count++], PWB_NAME_MAX + 1, "%s",
			 json_string_value(m));
	}
	json_decref(members);
	if ((rc = claim_key(im, "group", g->name, r->line, err)))
		return rc;
	if (g->id[0] && (rc = claim_key(im, "group id", g->id, r->line, err)))
		return rc;
	snprintf(number, sizeof(number), "%u", g->gid);
	if (r->has_gid && (rc = claim_key(im, "gid", number, r->line, err)))
		return rc;
	return 0;
}

static int parse_map(struct import *im, json_t *o, struct import_map *r, struct pwb_error *err)
{
	int rc = pwb_group_map_from_json(o, PWB_RECORD_STRICT, &r->m, err);

	return rc ? rc : claim_key(im, "groupmap", r->m.name, r->line, err);
}

static int parse_token(struct import *im, json_t *o, struct import_token *r, struct pwb_error *err)
{
	int rc = pwb_token_from_json(o, PWB_RECORD_STRICT, &r->t, err);

	return rc ? rc : claim_key(im, "token", r->t.name, r->line, err);
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

static int add_retired(struct import *im, json_t *list, char kind, size_t line,
		       struct pwb_error *err)
{
	struct import_retired *r;
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v)
	{
		r = append_slot((void **)&im->retired, &im->retired_count, sizeof(*r));
		if (!r)
			return pwb_error_set(err, -ENOMEM, "out of memory");
		r->line = line;
		r->kind = kind;
		r->id = (uint32_t)json_integer_value(v);
	}
	return 0;
}

static int parse_retired(struct import *im, json_t *o, size_t line, struct pwb_error *err)
{
	json_t *uids, *gids;
	int rc = pwb_retired_from_json(o, PWB_RECORD_STRICT, &uids, &gids, err);

	if (rc == 0)
		rc = add_retired(im, uids, 'u', line, err);
	if (rc == 0)
		rc = add_retired(im, gids, 'g', line, err);
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
	} else if (strcmp(type, "groupmap") == 0) {
		struct import_map *r = append_slot((void **)&im->maps, &im->map_count, sizeof(*r));

		rc = r ? (r->line = line, parse_map(im, o, r, err))
		       : pwb_error_set(err, -ENOMEM, "out of memory");
	} else if (strcmp(type, "retired") == 0) {
		rc = parse_retired(im, o, line, err);
	} else if (strcmp(type, "change") == 0) {
		struct import_change *r =
		    append_slot((void **)&im->changes, &im->change_count, sizeof(*r));

		rc = r ? (r->line = line, r->record = json_incref(o), 0)
		       : pwb_error_set(err, -ENOMEM, "out of memory");
	} else {
		rc = pwb_error_set(err, PWB_EINVAL,
				   "unknown type (not user, group, groupmap, token, retired or "
				   "change)");
	}
	json_decref(o);
	return rc;
}

/* args.lines: the file's lines in order (line N at index N-1; blank ones
 * empty), each at most PWB_IMPORT_LINE_MAX bytes. */
static int parse_lines(struct import *im, json_t *lines, struct pwb_error *err)
{
	json_t *line;
	size_t i;
	int rc;

	im->seen = json_object();
	if (!im->seen)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if (!json_is_array(lines))
		return pwb_error_set(err, PWB_EINVAL, "argument lines: not a list of strings");
	json_array_foreach(lines, i, line)
	{
		if (!json_is_string(line))
			return pwb_error_set(err, PWB_EINVAL, "%s: line %zu: not a string",
					     im->origin, i + 1);
		if (json_string_length(line) > PWB_IMPORT_LINE_MAX)
			return pwb_error_set(err, PWB_EINVAL, "%s: line %zu: longer than %d bytes",
					     im->origin, i + 1, PWB_IMPORT_LINE_MAX);
		pwb_progress_report(im->progress, "checking", i + 1,
				    (int64_t)json_array_size(lines), "lines");
		if (json_string_length(line) == 0)
			continue;
		rc = parse_line(im, json_string_value(line), json_string_length(line), i + 1, err);
		if (rc < 0)
			return pwb_error_prefix(err, "%s: line %zu", im->origin, i + 1);
	}
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

/* A mapping already in the store is unchanged when it agrees; the store
 * refuses one that collides. */
static int import_map(struct import *im, struct pwb_txn *txn, struct import_map *r,
		      struct pwb_error *err)
{
	struct pwb_group_map cur = {0};
	int rc = pwb_group_map_get(txn, r->m.display_name, &cur, err);
	bool same = rc == 0 && strcmp(cur.name, r->m.name) == 0;

	pwb_group_map_clear(&cur);
	if (same) {
		im->unchanged++;
		return 0;
	}
	if (rc != 0 && rc != PWB_ENOTFOUND)
		return rc;
	memset(err, 0, sizeof(*err));
	im->created++;
	return pwb_group_map_put(txn, &r->m, err);
}

static int import_txn(struct pwb_txn *txn, void *vctx, struct pwb_error *err)
{
	struct import *im = vctx;
	size_t i;
	int rc = 0;

	im->created = im->updated = im->unchanged = 0;
	/* The audit trail first, in the file's order: history before the
	 * import's own changes. */
	im->restored = 0;
	for (i = 0; rc == 0 && i < im->change_count; i++) {
		bool restored = false;

		if ((rc = pwb_change_restore(txn, im->changes[i].record, &restored, err)))
			pwb_error_prefix(err, "%s: line %zu", im->origin, im->changes[i].line);
		im->restored += restored;
	}
	if (rc == 0)
		rc = pwb_change_log_import(txn, im->restored, err);
	/* Retired first: no user or group of the file may take such an id. */
	for (i = 0; rc == 0 && i < im->retired_count; i++)
		if ((rc = pwb_store_retire(txn, im->retired[i].kind, im->retired[i].id, err)))
			pwb_error_prefix(err, "%s: line %zu: retired", im->origin,
					 im->retired[i].line);
	for (i = 0; rc == 0 && i < im->user_count; i++) {
		if ((rc = import_user(im, txn, &im->users[i], err)))
			pwb_error_prefix(err, "%s: line %zu: user %s", im->origin,
					 im->users[i].line, im->users[i].u.name);
		pwb_txn_progress(txn, "importing", i + 1, (int64_t)im->user_count, "users");
	}
	for (i = 0; rc == 0 && i < im->group_count; i++) {
		if ((rc = import_group(im, txn, &im->groups[i], err)))
			pwb_error_prefix(err, "%s: line %zu: group %s", im->origin,
					 im->groups[i].line, im->groups[i].g.name);
		pwb_txn_progress(txn, "importing", i + 1, (int64_t)im->group_count, "groups");
	}
	for (i = 0; rc == 0 && i < im->map_count; i++)
		if ((rc = import_map(im, txn, &im->maps[i], err)))
			pwb_error_prefix(err, "%s: line %zu: groupmap %s", im->origin,
					 im->maps[i].line, im->maps[i].m.name);
	for (i = 0; rc == 0 && i < im->token_count; i++)
		if ((rc = import_token(im, txn, &im->tokens[i], err)))
			pwb_error_prefix(err, "%s: line %zu: token %s", im->origin,
					 im->tokens[i].line, im->tokens[i].t.name);
	return rc;
}

int admin_store_import(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	json_t *args = call->req->args;
	struct import im = {0};
	int rc;

	im.origin = json_string_value(json_object_get(args, "origin")) ?: "stdin";
	im.progress = &call->progress;
	/* Everything is parsed and checked before the store is touched. */
	rc = parse_lines(&im, json_object_get(args, "lines"), err);
	if (rc == 0)
		rc = pwb_store_write(call->st, import_txn, &im, err);
	if (rc == 0 &&
	    !(*result = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "users",
				  (json_int_t)im.user_count, "groups", (json_int_t)im.group_count,
				  "groupmaps", (json_int_t)im.map_count, "tokens",
				  (json_int_t)im.token_count, "changes", (json_int_t)im.restored,
				  "created", (json_int_t)im.created, "updated",
				  (json_int_t)im.updated, "unchanged", (json_int_t)im.unchanged)))
		rc = pwb_error_set(err, -ENOMEM, "out of memory");
	import_free(&im);
	return rc;
}
