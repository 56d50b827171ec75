/* How users, groups and tokens are kept: one compact JSON object per record
 * (so SCIM's open-ended attributes fit), with typed C structs outside. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "cleanup.h"
#include "internal/store_internal.h"
#include "store_records.h"

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

struct damaged_walk {
	char kind; /* 'u' or 'g' */
	pwb_audit_cb cb;
	void *ctx;
};

static int report_damaged(const void *key, size_t klen, const void *val, size_t vlen, void *ctx,
			  struct pwb_error *err)
{
	static const char *const how[] = {"damaged record (pwbadm delete-user removes it)",
					  "damaged record (deleting the group removes it)"};
	struct damaged_walk *w = ctx;
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
	r = w->kind == 'u' ? pwb_user_decode(id, text, &u) : pwb_group_decode(id, text, &g);
	pwb_user_clear(&u);
	pwb_group_clear(&g);
	return r == 0 ? 0 : w->cb(w->kind, id, NULL, how[w->kind != 'u'], w->ctx);
}

int pwb_records_audit_damaged(struct pwb_txn *txn, char kind, pwb_audit_cb cb, void *ctx,
			      struct pwb_error *err)
{
	struct damaged_walk w = {kind, cb, ctx};

	return pwb_kv_foreach(txn, kind == 'u' ? DBI_USERS : DBI_GROUPS, report_damaged, &w, err);
}
