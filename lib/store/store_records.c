/* The one record codec (see store_records.h): how users, groups and tokens
 * are kept (one compact JSON object per record, so SCIM's open-ended
 * attributes fit) and their public form for export, import and pwbd's
 * admin results, with typed C structs outside. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "cleanup.h"
#include "internal/store_internal.h"
#include "names.h"
#include "policy.h"
#include "store.h"
#include "util.h"

const char *pwb_user_source_name(enum pwb_user_source s)
{
	switch (s) {
	case PWB_SOURCE_JIT:
		return "jit";
	case PWB_SOURCE_SCIM:
		return "scim";
	case PWB_SOURCE_MANUAL:
	default:
		return "manual";
	}
}

static enum pwb_user_source source_from_name(const char *s)
{
	if (s && strcmp(s, "jit") == 0)
		return PWB_SOURCE_JIT;
	if (s && strcmp(s, "scim") == 0)
		return PWB_SOURCE_SCIM;
	return PWB_SOURCE_MANUAL;
}

void pwb_user_clear(struct pwb_user *u)
{
	if (!u)
		return;
	free(u->user_name);
	free(u->external_id);
	free(u->gecos);
	free(u->home);
	free(u->shell);
	free(u->email);
	free(u->issuer);
	free(u->subject);
	json_decref(u->attrs);
	memset(u, 0, sizeof(*u));
}

void pwb_group_clear(struct pwb_group *g)
{
	if (!g)
		return;
	free(g->display_name);
	free(g->external_id);
	json_decref(g->attrs);
	memset(g, 0, sizeof(*g));
}

static int dup_str(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

int pwb_user_copy(struct pwb_user *dst, const struct pwb_user *src)
{
	*dst = *src;
	dst->user_name = dst->external_id = dst->gecos = dst->home = dst->shell = dst->email = NULL;
	dst->issuer = dst->subject = NULL;
	dst->attrs = NULL;
	if (dup_str(&dst->user_name, src->user_name) < 0 ||
	    dup_str(&dst->external_id, src->external_id) < 0 ||
	    dup_str(&dst->gecos, src->gecos) < 0 || dup_str(&dst->home, src->home) < 0 ||
	    dup_str(&dst->shell, src->shell) < 0 || dup_str(&dst->email, src->email) < 0 ||
	    dup_str(&dst->issuer, src->issuer) < 0 || dup_str(&dst->subject, src->subject) < 0) {
		pwb_user_clear(dst);
		return -ENOMEM;
	}
	if (src->attrs && !(dst->attrs = json_deep_copy(src->attrs))) {
		pwb_user_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

const char *pwb_group_display(const struct pwb_group *g)
{
	return g->display_name ? g->display_name : g->name;
}

bool pwb_group_display_is(const struct pwb_group *g, const char *display_name)
{
	return display_name && strcasecmp(pwb_group_display(g), display_name) == 0;
}

int pwb_group_copy(struct pwb_group *dst, const struct pwb_group *src)
{
	*dst = *src;
	dst->display_name = dst->external_id = NULL;
	dst->attrs = NULL;
	if (dup_str(&dst->display_name, src->display_name) < 0 ||
	    dup_str(&dst->external_id, src->external_id) < 0) {
		pwb_group_clear(dst);
		return -ENOMEM;
	}
	if (src->attrs && !(dst->attrs = json_deep_copy(src->attrs))) {
		pwb_group_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

/* json_pack with "s?" stores null for NULL strings; we drop those keys. */
static int set_str(json_t *o, const char *key, const char *v)
{
	return v ? json_object_set_new(o, key, json_string(v)) : 0;
}

static int set_int(json_t *o, const char *key, int64_t v)
{
	return json_object_set_new(o, key, json_integer((json_int_t)v));
}

char *pwb_user_encode(const struct pwb_user *u)
{
	json_t *o = json_object();
	char *s = NULL;

	if (!o)
		return NULL;
	if (set_str(o, "name", u->name) == 0 && set_str(o, "userName", u->user_name) == 0 &&
	    set_str(o, "externalId", u->external_id) == 0 && set_int(o, "uid", u->uid) == 0 &&
	    set_int(o, "gid", u->gid) == 0 &&
	    json_object_set_new(o, "privateGroup", json_boolean(u->private_group)) == 0 &&
	    set_str(o, "gecos", u->gecos) == 0 && set_str(o, "home", u->home) == 0 &&
	    set_str(o, "shell", u->shell) == 0 && set_str(o, "email", u->email) == 0 &&
	    json_object_set_new(o, "active", json_boolean(u->active)) == 0 &&
	    set_str(o, "source", pwb_user_source_name(u->source)) == 0 &&
	    set_int(o, "created", u->created) == 0 && set_int(o, "modified", u->modified) == 0 &&
	    set_int(o, "lastLogin", u->last_login) == 0 &&
	    set_int(o, "version", (int64_t)u->version) == 0 &&
	    set_str(o, "issuer", u->issuer) == 0 && set_str(o, "subject", u->subject) == 0 &&
	    json_object_set_new(o, "bindOnLogin", json_boolean(u->bind_on_login)) == 0 &&
	    (!u->attrs || json_object_set(o, "attrs", u->attrs) == 0))
		s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static int get_str(json_t *o, const char *key, char **out)
{
	const char *v = json_string_value(json_object_get(o, key));

	return dup_str(out, v);
}

static int64_t get_int(json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

static int copy_name(json_t *o, const char *key, char out[PWB_NAME_MAX + 1])
{
	const char *v = json_string_value(json_object_get(o, key));

	if (!v || strlen(v) > PWB_NAME_MAX)
		return -EINVAL;
	strcpy(out, v);
	return 0;
}

int pwb_user_decode(const char *id, const char *text, struct pwb_user *u)
{
	json_t *o = json_loads(text, 0, NULL);
	json_t *attrs;
	int r = -EINVAL;

	memset(u, 0, sizeof(*u));
	if (!o || strlen(id) != PWB_ID_LEN)
		goto out;
	memcpy(u->id, id, PWB_ID_LEN + 1);
	if (copy_name(o, "name", u->name) < 0)
		goto out;
	r = -ENOMEM;
	if (get_str(o, "userName", &u->user_name) < 0 ||
	    get_str(o, "externalId", &u->external_id) < 0 || get_str(o, "gecos", &u->gecos) < 0 ||
	    get_str(o, "home", &u->home) < 0 || get_str(o, "shell", &u->shell) < 0 ||
	    get_str(o, "email", &u->email) < 0 || get_str(o, "issuer", &u->issuer) < 0 ||
	    get_str(o, "subject", &u->subject) < 0)
		goto out;
	/* Records from before identities were stored have neither: unbound,
	 * and bound at sign-in only if the configuration allows it. */
	u->bind_on_login = json_is_true(json_object_get(o, "bindOnLogin"));
	u->uid = (uint32_t)get_int(o, "uid");
	u->gid = (uint32_t)get_int(o, "gid");
	u->private_group = json_is_true(json_object_get(o, "privateGroup"));
	u->active = json_is_true(json_object_get(o, "active"));
	u->source = source_from_name(json_string_value(json_object_get(o, "source")));
	u->created = get_int(o, "created");
	u->modified = get_int(o, "modified");
	u->last_login = get_int(o, "lastLogin");
	u->version = (uint64_t)get_int(o, "version");
	attrs = json_object_get(o, "attrs");
	if (attrs)
		u->attrs = json_incref(attrs);
	r = 0;
out:
	json_decref(o);
	if (r < 0)
		pwb_user_clear(u);
	return r;
}

char *pwb_group_encode(const struct pwb_group *g)
{
	json_t *o = json_object();
	char *s = NULL;

	if (!o)
		return NULL;
	if (set_str(o, "name", g->name) == 0 && set_str(o, "displayName", g->display_name) == 0 &&
	    set_str(o, "externalId", g->external_id) == 0 && set_int(o, "gid", g->gid) == 0 &&
	    set_int(o, "created", g->created) == 0 && set_int(o, "modified", g->modified) == 0 &&
	    set_int(o, "version", (int64_t)g->version) == 0 &&
	    (!g->attrs || json_object_set(o, "attrs", g->attrs) == 0))
		s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

int pwb_group_decode(const char *id, const char *text, struct pwb_group *g)
{
	json_t *o = json_loads(text, 0, NULL);
	json_t *attrs;
	int r = -EINVAL;

	memset(g, 0, sizeof(*g));
	if (!o || strlen(id) != PWB_ID_LEN)
		goto out;
	memcpy(g->id, id, PWB_ID_LEN + 1);
	if (copy_name(o, "name", g->name) < 0)
		goto out;
	r = -ENOMEM;
	if (get_str(o, "displayName", &g->display_name) < 0 ||
	    get_str(o, "externalId", &g->external_id) < 0)
		goto out;
	g->gid = (uint32_t)get_int(o, "gid");
	g->created = get_int(o, "created");
	g->modified = get_int(o, "modified");
	g->version = (uint64_t)get_int(o, "version");
	attrs = json_object_get(o, "attrs");
	if (attrs)
		g->attrs = json_incref(attrs);
	r = 0;
out:
	json_decref(o);
	if (r < 0)
		pwb_group_clear(g);
	return r;
}

char *pwb_token_encode(const struct pwb_token *t)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "name", t->name, "hash", t->hash,
			      "masked", t->masked, "created", (json_int_t)t->created, "expires",
			      (json_int_t)t->expires, "lastUsed", (json_int_t)t->last_used);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

int pwb_token_decode(const char *text, struct pwb_token *t)
{
	json_t *o = json_loads(text, 0, NULL);
	const char *name, *hash, *masked;
	int r = -EINVAL;

	memset(t, 0, sizeof(*t));
	if (!o)
		return r;
	name = json_string_value(json_object_get(o, "name"));
	hash = json_string_value(json_object_get(o, "hash"));
	masked = json_string_value(json_object_get(o, "masked"));
	if (name && hash && strlen(name) <= PWB_TOKEN_NAME_MAX &&
	    strlen(hash) == PWB_HASH_HEX_LEN) {
		strcpy(t->name, name);
		strcpy(t->hash, hash);
		snprintf(t->masked, sizeof(t->masked), "%s", masked ? masked : "");
		t->created = get_int(o, "created");
		t->expires = get_int(o, "expires");
		t->last_used = get_int(o, "lastUsed");
		r = 0;
	}
	json_decref(o);
	return r;
}

void pwb_group_map_clear(struct pwb_group_map *m)
{
	free(m->display_name);
	memset(m, 0, sizeof(*m));
}

char *pwb_group_map_encode(const struct pwb_group_map *m)
{
	json_t *o = json_pack("{s:s, s:s, s:I}", "displayName", m->display_name, "name", m->name,
			      "created", (json_int_t)m->created);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

int pwb_group_map_decode(const char *text, struct pwb_group_map *m)
{
	json_t *o = json_loads(text, 0, NULL);
	const char *display, *name;
	int r = -EINVAL;

	memset(m, 0, sizeof(*m));
	if (!o)
		return r;
	display = json_string_value(json_object_get(o, "displayName"));
	name = json_string_value(json_object_get(o, "name"));
	if (display && name && pwb_names_is_valid(name)) {
		m->display_name = strdup(display);
		strcpy(m->name, name);
		m->created = get_int(o, "created");
		r = m->display_name ? 0 : -ENOMEM;
	}
	json_decref(o);
	return r;
}

/* ---- bounds on the extra attributes ---- */

/* Nesting depth of v (a scalar is 0), counted no further than limit + 1. */
static size_t json_depth(json_t *v, size_t limit)
{
	size_t max = 0, d, i;
	const char *key;
	json_t *x;

	if (!json_is_object(v) && !json_is_array(v))
		return 0;
	if (limit == 0)
		return 1;
	if (json_is_object(v)) {
		json_object_foreach(v, key, x)
		{
			if ((d = json_depth(x, limit - 1)) > max)
				max = d;
			if (max >= limit)
				break;
		}
	} else {
		json_array_foreach(v, i, x)
		{
			if ((d = json_depth(x, limit - 1)) > max)
				max = d;
			if (max >= limit)
				break;
		}
	}
	return max + 1;
}

int pwb_attrs_check(const json_t *attrs, const char *whose, struct pwb_error *err)
{
	const char *key, *largest = NULL;
	size_t total, size, largest_size = 0;
	char shown[96];
	json_t *v;

	if (!attrs)
		return 0;
	json_object_foreach((json_t *)attrs, key, v)
	{
		if (json_depth(v, PWB_ATTRS_MAX_DEPTH) > PWB_ATTRS_MAX_DEPTH) {
			pwb_names_escape(key, shown, sizeof(shown));
			return pwb_error_set(
			    err, PWB_EINVAL,
			    "attribute '%s' of '%s' is nested deeper than %d levels", shown, whose,
			    PWB_ATTRS_MAX_DEPTH);
		}
		size = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY) + strlen(key);
		if (size > largest_size) {
			largest_size = size;
			largest = key;
		}
	}
	total = json_dumpb(attrs, NULL, 0, JSON_COMPACT);
	if (total <= PWB_ATTRS_MAX_BYTES)
		return 0;
	pwb_names_escape(largest ? largest : "", shown, sizeof(shown));
	return pwb_error_set(err, PWB_EINVAL,
			     "attributes of '%s' take %zu bytes, more than %d (the largest is "
			     "'%s')",
			     whose, total, PWB_ATTRS_MAX_BYTES, shown);
}

struct record_walk {
	char kind; /* 'u' or 'g' */
	pwb_record_walk_cb cb;
	void *ctx;
};

static int record_walk_one(const void *key, size_t klen, const void *val, size_t vlen, void *ctx,
			   struct pwb_error *err)
{
	struct record_walk *w = ctx;
	char id[PWB_ID_LEN + 1];
	_cleanup_free_ char *text = NULL;
	struct pwb_user u = {0};
	struct pwb_group g = {0};
	int r;

	if (klen != PWB_ID_LEN)
		return 0;
	memcpy(id, key, PWB_ID_LEN);
	id[PWB_ID_LEN] = '\0';
	text = strndup(val, vlen);
	if (!text)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if (w->kind == 'u')
		r = pwb_user_decode(id, text, &u) == 0 ? w->cb('u', id, &u, w->ctx)
						       : w->cb('u', id, NULL, w->ctx);
	else
		r = pwb_group_decode(id, text, &g) == 0 ? w->cb('g', id, &g, w->ctx)
							: w->cb('g', id, NULL, w->ctx);
	pwb_user_clear(&u);
	pwb_group_clear(&g);
	return r;
}

int pwb_records_walk(struct pwb_txn *txn, char kind, pwb_record_walk_cb cb, void *ctx,
		     struct pwb_error *err)
{
	struct record_walk w = {kind, cb, ctx};

	return pwb_kv_foreach(txn, kind == 'u' ? DBI_USERS : DBI_GROUPS, record_walk_one, &w, err);
}

struct damaged_walk {
	pwb_audit_cb cb;
	void *ctx;
};

static int report_damaged(char kind, const char *id, const void *record, void *ctx)
{
	static const char *const how[] = {"damaged record (pwbadm delete-user removes it)",
					  "damaged record (deleting the group removes it)"};
	struct damaged_walk *w = ctx;

	return record ? 0 : w->cb(kind, id, NULL, how[kind != 'u'], w->ctx);
}

int pwb_records_audit_damaged(struct pwb_txn *txn, char kind, pwb_audit_cb cb, void *ctx,
			      struct pwb_error *err)
{
	struct damaged_walk w = {cb, ctx};

	return pwb_records_walk(txn, kind, report_damaged, &w, err);
}

/* ---- the public form ---- */

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

bool pwb_user_bound(const struct pwb_user *u)
{
	return u->issuer && u->subject;
}

const char *pwb_user_binding(const struct pwb_user *u)
{
	if (pwb_user_bound(u))
		return "bound";
	return u->bind_on_login ? "pending" : "unbound";
}

bool pwb_record_identity_ok(const char *s)
{
	if (!s || !*s || strlen(s) > PWB_RECORD_IDENTITY_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

json_t *pwb_user_to_json(const struct pwb_user *u)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:o, s:s, s:s, s:o, s:b, s:s, "
			      "s:I, s:I, s:I, s:I}",
			      "type", "user", "id", u->id, "name", u->name, "userName",
			      string_or_null(u->user_name), "uid", (json_int_t)u->uid, "gid",
			      (json_int_t)u->gid, "gecos", string_or_null(u->gecos), "home",
			      u->home ? u->home : "", "shell", u->shell ? u->shell : "", "email",
			      string_or_null(u->email), "active", u->active, "source",
			      pwb_user_source_name(u->source), "created", (json_int_t)u->created,
			      "modified", (json_int_t)u->modified, "lastLogin",
			      (json_int_t)u->last_login, "version", (json_int_t)u->version);

	/* The IdP identity the account belongs to; "bound" is derived (import
	 * ignores it), the rest round-trips through export and import. */
	if (o && (json_object_set_new(o, "externalId", string_or_null(u->external_id)) < 0 ||
		  json_object_set_new(o, "issuer", string_or_null(u->issuer)) < 0 ||
		  json_object_set_new(o, "subject", string_or_null(u->subject)) < 0 ||
		  json_object_set_new(o, "bound", json_boolean(pwb_user_bound(u))) < 0 ||
		  json_object_set_new(o, "bindOnLogin", json_boolean(u->bind_on_login)) < 0 ||
		  (u->attrs && json_object_set(o, "attrs", u->attrs) < 0))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *pwb_group_to_json(const struct pwb_group *g)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:I}", "type", "group", "id", g->id,
		      "name", g->name, "displayName", string_or_null(g->display_name), "externalId",
		      string_or_null(g->external_id), "gid", (json_int_t)g->gid, "created",
		      (json_int_t)g->created, "modified", (json_int_t)g->modified, "version",
		      (json_int_t)g->version);

	if (o && g->attrs && json_object_set(o, "attrs", g->attrs) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *pwb_token_to_json(const struct pwb_token *t)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "type", "token", "name", t->name,
			 "hash", t->hash, "masked", t->masked, "created", (json_int_t)t->created,
			 "expires", (json_int_t)t->expires, "lastUsed", (json_int_t)t->last_used);
}

json_t *pwb_group_map_to_json(const struct pwb_group_map *m)
{
	return json_pack("{s:s, s:s, s:s, s:I}", "type", "groupmap", "displayName",
			 m->display_name ? m->display_name : "", "name", m->name, "created",
			 (json_int_t)m->created);
}

json_t *pwb_retired_to_json(json_t *uids, json_t *gids)
{
	return json_pack("{s:s, s:O, s:O}", "type", "retired", "uids", uids, "gids", gids);
}

/* Field readers for the public form: each names its field on failure. */

static int check_keys(json_t *o, const char *const *keys, unsigned flags, struct pwb_error *err)
{
	const char *key, *const *k;
	char shown[48];
	json_t *value;

	if (!(flags & PWB_RECORD_STRICT))
		return 0;
	json_object_foreach(o, key, value)
	{
		for (k = keys; *k && strcmp(key, *k) != 0; k++)
			;
		if (!*k) {
			pwb_names_escape(key, shown, sizeof(shown));
			return pwb_error_set(err, PWB_EINVAL, "unknown field \"%s\"", shown);
		}
	}
	return 0;
}

static int check_type(json_t *o, const char *type, struct pwb_error *err)
{
	json_t *v = json_object_get(o, "type");

	if (v && (!json_is_string(v) || strcmp(json_string_value(v), type) != 0))
		return pwb_error_set(err, PWB_EINVAL, "field type: not \"%s\"", type);
	return 0;
}

/* An optional string field: absent or null leaves *out NULL. */
static int read_text(json_t *o, const char *key, bool passwd_field, char **out,
		     struct pwb_error *err)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	int rc;

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return pwb_error_set(err, PWB_EINVAL, "field %s: not a string", key);
	s = json_string_value(v);
	if (strlen(s) > PWB_RECORD_TEXT_MAX || memchr(s, '\0', json_string_length(v)))
		return pwb_error_set(err, PWB_EINVAL, "field %s: too long or contains NUL", key);
	if (passwd_field && (rc = pwb_policy_passwd_field(key, s, err)) < 0)
		return pwb_error_set(err, rc, "field %s: contains ':' or a control character", key);
	if (!(*out = strdup(s)))
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int read_name_value(json_t *v, const char *key, char out[PWB_NAME_MAX + 1],
			   struct pwb_error *err)
{
	const char *s = json_string_value(v);
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

static int read_id(json_t *o, char out[PWB_ID_LEN + 1], struct pwb_error *err)
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

static bool xid_ok(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 1 &&
	       json_integer_value(v) < (json_int_t)UINT32_MAX;
}

/* An optional id number: absent or null leaves *out 0. */
static int read_xid(json_t *o, const char *key, uint32_t *out, struct pwb_error *err)
{
	json_t *v = json_object_get(o, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!xid_ok(v))
		return pwb_error_set(err, PWB_EINVAL, "field %s: not an id number", key);
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static int read_time(json_t *o, const char *key, int64_t *out, struct pwb_error *err)
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

static int read_bool(json_t *o, const char *key, bool dflt, bool *out, struct pwb_error *err)
{
	json_t *v = json_object_get(o, key);

	*out = dflt;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return pwb_error_set(err, PWB_EINVAL, "field %s: not true or false", key);
	*out = json_is_true(v);
	return 0;
}

static int read_attrs(json_t *o, json_t **out, struct pwb_error *err)
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

static int read_source(json_t *o, enum pwb_user_source *out, struct pwb_error *err)
{
	static const enum pwb_user_source all[] = {PWB_SOURCE_MANUAL, PWB_SOURCE_JIT,
						   PWB_SOURCE_SCIM};
	json_t *v = json_object_get(o, "source");
	size_t i;

	*out = PWB_SOURCE_MANUAL;
	if (!v)
		return 0;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), pwb_user_source_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return pwb_error_set(err, PWB_EINVAL, "field source: not manual, jit or scim");
}

/* Names the record in a field's message: "user alice: field uid: ...". */
static int record_error(struct pwb_error *err, int rc, const char *kind, const char *name)
{
	char shown[48];

	if (!name || !name[0])
		return pwb_error_prefix(err, "%s", kind);
	pwb_names_escape(name, shown, sizeof(shown));
	pwb_error_prefix(err, "%s %s", kind, shown);
	return rc;
}

static int user_fields(json_t *o, unsigned flags, struct pwb_user *u, struct pwb_error *err)
{
	static const char *const keys[] = {
	    "type",   "id",	   "name",  "userName",	   "externalId", "uid",
	    "gid",    "gecos",	   "home",  "shell",	   "email",	 "active",
	    "source", "lastLogin", "attrs", "created",	   "modified",	 "version",
	    "issuer", "subject",   "bound", "bindOnLogin", NULL,
	};
	json_t *version = json_object_get(o, "version");
	bool bound;
	int rc;

	if ((rc = read_name_value(json_object_get(o, "name"), "name", u->name, err)) ||
	    (rc = check_type(o, "user", err)) || (rc = check_keys(o, keys, flags, err)) ||
	    (rc = read_id(o, u->id, err)) ||
	    (rc = read_text(o, "userName", false, &u->user_name, err)) ||
	    (rc = read_text(o, "externalId", false, &u->external_id, err)) ||
	    (rc = read_xid(o, "uid", &u->uid, err)) || (rc = read_xid(o, "gid", &u->gid, err)) ||
	    (rc = read_text(o, "gecos", true, &u->gecos, err)) ||
	    (rc = read_text(o, "home", true, &u->home, err)) ||
	    (rc = read_text(o, "shell", true, &u->shell, err)) ||
	    (rc = read_text(o, "email", false, &u->email, err)) ||
	    (rc = read_source(o, &u->source, err)) ||
	    (rc = read_time(o, "lastLogin", &u->last_login, err)) ||
	    (rc = read_time(o, "created", &u->created, err)) ||
	    (rc = read_time(o, "modified", &u->modified, err)) ||
	    (rc = read_attrs(o, &u->attrs, err)) ||
	    (rc = read_bool(o, "active", true, &u->active, err)) ||
	    /* "bound" follows from the identity: read, never set */
	    (rc = read_bool(o, "bound", false, &bound, err)) ||
	    (rc = read_bool(o, "bindOnLogin", false, &u->bind_on_login, err)) ||
	    (rc = read_text(o, "issuer", false, &u->issuer, err)) ||
	    (rc = read_text(o, "subject", false, &u->subject, err)))
		return rc;
	if (version && !json_is_null(version) &&
	    (!json_is_integer(version) || json_integer_value(version) < 0))
		return pwb_error_set(err, PWB_EINVAL, "field version: not a number");
	u->version = (uint64_t)json_integer_value(version);
	if (!u->issuer != !u->subject)
		return pwb_error_set(err, PWB_EINVAL, "fields issuer and subject go together");
	if (u->issuer &&
	    (!pwb_record_identity_ok(u->issuer) || !pwb_record_identity_ok(u->subject)))
		return pwb_error_set(
		    err, PWB_EINVAL,
		    "fields issuer, subject: empty, too long or a control character");
	/* An empty home or shell means "the configured default", as on create. */
	if (u->home && u->home[0] && u->home[0] != '/')
		return pwb_error_set(err, PWB_EINVAL, "field home: not an absolute path");
	if (u->shell && u->shell[0] && u->shell[0] != '/')
		return pwb_error_set(err, PWB_EINVAL, "field shell: not an absolute path");
	return 0;
}

int pwb_user_from_json(json_t *o, unsigned flags, struct pwb_user *u, struct pwb_error *err)
{
	int rc;

	memset(u, 0, sizeof(*u));
	if (!json_is_object(o))
		return pwb_error_set(err, PWB_EINVAL, "user: not an object");
	rc = user_fields(o, flags, u, err);
	if (rc < 0) {
		record_error(err, rc, "user", json_string_value(json_object_get(o, "name")));
		pwb_user_clear(u);
	}
	return rc;
}

static int read_members(json_t *o, json_t **members, struct pwb_error *err)
{
	json_t *list = json_object_get(o, "members"), *m;
	char name[PWB_NAME_MAX + 1];
	size_t i, j;

	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return pwb_error_set(err, PWB_EINVAL, "field members: not an array of names");
	json_array_foreach(list, i, m)
	{
		if (read_name_value(m, "members", name, err) < 0)
			return pwb_error_prefix(err, "item %zu", i + 1);
		for (j = 0; j < i; j++)
			if (strcmp(name, json_string_value(json_array_get(list, j))) == 0)
				return pwb_error_set(err, PWB_EINVAL, "member %s listed twice",
						     name);
	}
	if (members)
		*members = json_incref(list);
	return 0;
}

int pwb_group_from_json(json_t *o, unsigned flags, struct pwb_group *g, json_t **members,
			struct pwb_error *err)
{
	static const char *const keys[] = {
	    "type",    "id",	"name",	   "displayName", "externalId", "gid",
	    "members", "attrs", "created", "modified",	  "version",	NULL,
	};
	int rc;

	memset(g, 0, sizeof(*g));
	if (members)
		*members = NULL;
	if (!json_is_object(o))
		return pwb_error_set(err, PWB_EINVAL, "group: not an object");
	if ((rc = read_name_value(json_object_get(o, "name"), "name", g->name, err)) ||
	    (rc = check_type(o, "group", err)) || (rc = check_keys(o, keys, flags, err)) ||
	    (rc = read_id(o, g->id, err)) ||
	    (rc = read_text(o, "displayName", false, &g->display_name, err)) ||
	    (rc = read_text(o, "externalId", false, &g->external_id, err)) ||
	    (rc = read_xid(o, "gid", &g->gid, err)) ||
	    (rc = read_time(o, "created", &g->created, err)) ||
	    (rc = read_time(o, "modified", &g->modified, err)) ||
	    (rc = read_attrs(o, &g->attrs, err)) || (rc = read_members(o, members, err))) {
		record_error(err, rc, "group", json_string_value(json_object_get(o, "name")));
		pwb_group_clear(g);
		return rc;
	}
	g->version = (uint64_t)json_integer_value(json_object_get(o, "version"));
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

static int token_fields(json_t *o, unsigned flags, struct pwb_token *t, struct pwb_error *err)
{
	static const char *const keys[] = {"type",    "name",	 "hash",     "masked",
					   "created", "expires", "lastUsed", NULL};
	json_t *masked = json_object_get(o, "masked");
	const char *hash = json_string_value(json_object_get(o, "hash"));
	char name[PWB_NAME_MAX + 1];
	int rc;

	if ((rc = read_name_value(json_object_get(o, "name"), "name", name, err)) ||
	    (rc = check_type(o, "token", err)) || (rc = check_keys(o, keys, flags, err)) ||
	    (rc = read_time(o, "created", &t->created, err)) ||
	    (rc = read_time(o, "expires", &t->expires, err)) ||
	    (rc = read_time(o, "lastUsed", &t->last_used, err)))
		return rc;
	if (strlen(name) > PWB_TOKEN_NAME_MAX)
		return pwb_error_set(err, PWB_EINVAL, "field name: too long");
	strcpy(t->name, name);
	if (!hash || !is_hex_hash(hash))
		return pwb_error_set(err, PWB_EINVAL,
				     "field hash: not a SHA-256 in lower-case hex");
	strcpy(t->hash, hash);
	if (masked && !json_is_null(masked) &&
	    (!json_is_string(masked) || json_string_length(masked) >= sizeof(t->masked) ||
	     pwb_policy_passwd_field("masked", json_string_value(masked), NULL) < 0))
		return pwb_error_set(err, PWB_EINVAL, "field masked: too long");
	snprintf(t->masked, sizeof(t->masked), "%s", json_string_value(masked) ?: "");
	return 0;
}

int pwb_token_from_json(json_t *o, unsigned flags, struct pwb_token *t, struct pwb_error *err)
{
	int rc;

	memset(t, 0, sizeof(*t));
	if (!json_is_object(o))
		return pwb_error_set(err, PWB_EINVAL, "token: not an object");
	rc = token_fields(o, flags, t, err);
	if (rc < 0) {
		record_error(err, rc, "token", json_string_value(json_object_get(o, "name")));
		memset(t, 0, sizeof(*t));
	}
	return rc;
}

static int group_map_fields(json_t *o, unsigned flags, struct pwb_group_map *m,
			    struct pwb_error *err)
{
	static const char *const keys[] = {"type", "displayName", "name", "created", NULL};
	int rc;

	if ((rc = read_name_value(json_object_get(o, "name"), "name", m->name, err)) ||
	    (rc = check_type(o, "groupmap", err)) || (rc = check_keys(o, keys, flags, err)) ||
	    (rc = read_time(o, "created", &m->created, err)) ||
	    (rc = read_text(o, "displayName", false, &m->display_name, err)))
		return rc;
	if (!m->display_name || !*m->display_name ||
	    strlen(m->display_name) > PWB_GROUP_DISPLAY_MAX)
		return pwb_error_set(err, PWB_EINVAL, "field displayName: missing or too long");
	return 0;
}

int pwb_group_map_from_json(json_t *o, unsigned flags, struct pwb_group_map *m,
			    struct pwb_error *err)
{
	int rc;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(o))
		return pwb_error_set(err, PWB_EINVAL, "groupmap: not an object");
	rc = group_map_fields(o, flags, m, err);
	if (rc < 0) {
		record_error(err, rc, "groupmap", json_string_value(json_object_get(o, "name")));
		pwb_group_map_clear(m);
	}
	return rc;
}

static int read_xid_list(json_t *o, const char *key, json_t **out, struct pwb_error *err)
{
	json_t *list = json_object_get(o, key), *v;
	size_t i;

	*out = NULL;
	if (!list)
		return 0;
	if (!json_is_array(list))
		return pwb_error_set(err, PWB_EINVAL, "field %s: not a list", key);
	json_array_foreach(list, i, v)
	{
		if (!xid_ok(v))
			return pwb_error_set(err, PWB_EINVAL, "field %s: item %zu is not an id",
					     key, i + 1);
	}
	*out = list;
	return 0;
}

int pwb_retired_from_json(json_t *o, unsigned flags, json_t **uids, json_t **gids,
			  struct pwb_error *err)
{
	static const char *const keys[] = {"type", "uids", "gids", NULL};
	int rc;

	*uids = *gids = NULL;
	if (!json_is_object(o))
		return pwb_error_set(err, PWB_EINVAL, "retired: not an object");
	if ((rc = check_type(o, "retired", err)) || (rc = check_keys(o, keys, flags, err)) ||
	    (rc = read_xid_list(o, "uids", uids, err)) ||
	    (rc = read_xid_list(o, "gids", gids, err))) {
		*uids = *gids = NULL;
		return pwb_error_prefix(err, "retired");
	}
	return 0;
}
