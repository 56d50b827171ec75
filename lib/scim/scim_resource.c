/* Mapping between SCIM JSON and the store's user and group records. */
#include <errno.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cleanup.h"
#include "names.h"
#include "policy.h"
#include "scim_json.h"
#include "scim_resource.h"
#include "util.h"

#define GECOS_MAX      256
#define PATH_FIELD_MAX 1024

void pwb_scim_etag(uint64_t version, char out[32])
{
	snprintf(out, 32, "W/\"%" PRIu64 "\"", version);
}

static json_t *meta_json(const char *type, int64_t created, int64_t modified, uint64_t version,
			 const char *base_url, const char *plural, const char *id)
{
	char c[32], m[32], etag[32];
	json_t *meta;

	pwb_time_format(created, c);
	pwb_time_format(modified, m);
	pwb_scim_etag(version, etag);
	meta = json_pack("{s:s,s:s,s:s,s:s}", "resourceType", type, "created", c, "lastModified", m,
			 "version", etag);
	if (meta && base_url) {
		size_t n = strlen(base_url) + strlen(plural) + strlen(id) + 3;
		char *loc = malloc(n);

		if (loc) {
			snprintf(loc, n, "%s/%s/%s", base_url, plural, id);
			json_object_set_new(meta, "location", json_string(loc));
			free(loc);
		}
	}
	return meta;
}

/* schemas: the core one, ours, and every extension the attrs carry. */
static json_t *schemas_json(json_t *doc, const char *core, const char *ext)
{
	json_t *schemas = json_pack("[s,s]", core, ext), *v;
	const char *key;

	json_object_foreach(doc, key, v)
	{
		if (strncasecmp(key, "urn:", 4) == 0 && json_is_object(v) && strcmp(key, ext) != 0)
			json_array_append_new(schemas, json_string(key));
	}
	return schemas;
}

/* The document starts with schemas, id and the identifying attributes, as
 * people reading responses expect; the stored attributes follow. */
static json_t *doc_start(const char *id, const char *external_id)
{
	json_t *doc = json_object();

	if (!doc)
		return NULL;
	json_object_set_new(doc, "schemas", json_array());
	json_object_set_new(doc, "id", json_string(id));
	if (external_id)
		json_object_set_new(doc, "externalId", json_string(external_id));
	return doc;
}

/* Deep copies: the document is patched in place, the record must not be. */
static void add_attrs(json_t *doc, json_t *attrs)
{
	const char *key;
	json_t *v;

	json_object_foreach(attrs, key, v)
	{
		if (!json_object_get(doc, key))
			json_object_set_new(doc, key, json_deep_copy(v));
	}
}

json_t *pwb_scim_user_to_json(const struct pwb_user *u, json_t *groups, const char *base_url)
{
	json_t *doc = doc_start(u->id, u->external_id);

	if (!doc) {
		json_decref(groups);
		return NULL;
	}
	json_object_set_new(doc, "userName", json_string(u->user_name ? u->user_name : u->name));
	json_object_set_new(doc, "active", json_boolean(u->active));
	add_attrs(doc, u->attrs);
	/* A record the IdP wrote (attrs set, if only to {}) shows the
	 * displayName it sent or none: after a Remove the attribute is
	 * unassigned (RFC 7644 §3.5.2.2), though gecos may still come from
	 * name. A JIT or pwbadm record shows its gecos. */
	if (!u->attrs && u->gecos && *u->gecos)
		json_object_set_new(doc, "displayName", json_string(u->gecos));
	if (!pwb_scim_json_get(doc, "emails", NULL) && u->email)
		json_object_set_new(
		    doc, "emails",
		    json_pack("[{s:s,s:b,s:s}]", "value", u->email, "primary", 1, "type", "work"));
	json_object_set_new(doc, "groups", groups ? groups : json_array());
	json_object_set_new(doc, PWB_SCIM_POSIX_USER,
			    json_pack("{s:I,s:I,s:s,s:s}", "uidNumber", (json_int_t)u->uid,
				      "gidNumber", (json_int_t)u->gid, "homeDirectory",
				      u->home ? u->home : "", "loginShell",
				      u->shell ? u->shell : ""));
	json_object_set_new(doc, "schemas",
			    schemas_json(doc, PWB_SCIM_USER_SCHEMA, PWB_SCIM_POSIX_USER));
	json_object_set_new(
	    doc, "meta",
	    meta_json("User", u->created, u->modified, u->version, base_url, "Users", u->id));
	return doc;
}

json_t *pwb_scim_group_to_json(const struct pwb_group *g, json_t *members, const char *base_url)
{
	json_t *doc = doc_start(g->id, g->external_id);

	if (!doc) {
		json_decref(members);
		return NULL;
	}
	json_object_set_new(doc, "displayName", json_string(pwb_group_display(g)));
	add_attrs(doc, g->attrs);
	json_object_set_new(doc, "members", members ? members : json_array());
	json_object_set_new(
	    doc, PWB_SCIM_POSIX_GROUP,
	    json_pack("{s:I,s:s}", "gidNumber", (json_int_t)g->gid, "groupName", g->name));
	json_object_set_new(doc, "schemas",
			    schemas_json(doc, PWB_SCIM_GROUP_SCHEMA, PWB_SCIM_POSIX_GROUP));
	json_object_set_new(
	    doc, "meta",
	    meta_json("Group", g->created, g->modified, g->version, base_url, "Groups", g->id));
	return doc;
}

/* An optional string attribute; absent or null gives NULL. */
static int opt_string(json_t *in, const char *name, size_t max, char **out,
		      struct pwb_scim_error *err)
{
	json_t *v = pwb_scim_json_get(in, name, NULL);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return pwb_scim_fail(err, 400, "invalidValue", "%s must be a string", name);
	if (json_string_length(v) == 0)
		return 0;
	if (json_string_length(v) > max)
		return pwb_scim_fail(err, 400, "invalidValue", "%s is longer than %zu bytes", name,
				     max);
	*out = strdup(json_string_value(v));
	return *out ? 0 : -ENOMEM;
}

/* An id number from the posix or workbench extension: 1..2^32-2. */
static int opt_id(json_t *ext, const char *name, uint32_t *out, struct pwb_scim_error *err)
{
	json_t *v = pwb_scim_json_get(ext, name, NULL);
	json_int_t n;

	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		/* some IdPs send every attribute as a string */
		char *end;
		long long x = strtoll(json_string_value(v), &end, 10);

		if (!*json_string_value(v) || *end)
			return pwb_scim_fail(err, 400, "invalidValue", "%s must be an integer",
					     name);
		n = x;
	} else if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else {
		return pwb_scim_fail(err, 400, "invalidValue", "%s must be an integer", name);
	}
	if (n < 1 || n > 4294967294LL)
		return pwb_scim_fail(err, 400, "invalidValue", "%s %lld is out of range", name,
				     (long long)n);
	*out = (uint32_t)n;
	return 0;
}

/* Text that goes into a passwd line: the one passwd-field rule (policy.h),
 * and home and shell are absolute paths. */
static int passwd_safe(const char *field, const char *s, bool absolute, struct pwb_scim_error *err)
{
	struct pwb_error perr = {0};

	if (!s)
		return 0;
	if (absolute && s[0] != '/')
		return pwb_scim_fail(err, 400, "invalidValue", "%s must be an absolute path",
				     field);
	if (pwb_policy_passwd_field(field, s, &perr) < 0)
		return pwb_scim_fail(err, 400, "invalidValue", "%s", perr.msg);
	return 0;
}

/* A resource (a body, or a document a PATCH produced) whose attributes nest
 * deeper than the store keeps: refused naming the attribute. */
static int check_depth(json_t *in, const char *what, struct pwb_scim_error *err)
{
	const char *key = pwb_scim_json_too_deep_member(in, PWB_SCIM_JSON_DEPTH_MAX);
	char shown[64];

	if (!key)
		return 0;
	pwb_names_escape(key, shown, sizeof(shown));
	return pwb_scim_fail(err, 400, "invalidValue",
			     "%s attribute %s is nested deeper than %d levels", what, shown,
			     PWB_SCIM_JSON_DEPTH_MAX);
}

static char *gecos_from(json_t *in)
{
	const char *display = pwb_scim_json_string(in, "displayName");
	json_t *name = pwb_scim_json_get(in, "name", NULL);
	const char *formatted = pwb_scim_json_string(name, "formatted");
	const char *given = pwb_scim_json_string(name, "givenName");
	const char *family = pwb_scim_json_string(name, "familyName");
	char buf[GECOS_MAX];

	if (display && *display)
		snprintf(buf, sizeof(buf), "%s", display);
	else if (formatted && *formatted)
		snprintf(buf, sizeof(buf), "%s", formatted);
	else if (given || family)
		snprintf(buf, sizeof(buf), "%s%s%s", given ? given : "", given && family ? " " : "",
			 family ? family : "");
	else
		return NULL;
	/* the display name is free text: keep it, minus what breaks passwd */
	pwb_policy_passwd_field_clean(buf);
	return strdup(buf);
}

static char *primary_email(json_t *in)
{
	json_t *emails = pwb_scim_json_get(in, "emails", NULL), *e, *first = NULL;
	size_t i;
	bool primary;

	json_array_foreach(emails, i, e)
	{
		if (!pwb_scim_json_string(e, "value"))
			continue;
		if (!first)
			first = e;
		if (pwb_scim_json_bool(pwb_scim_json_get(e, "primary", NULL), &primary) == 0 &&
		    primary) {
			first = e;
			break;
		}
	}
	return first ? strdup(pwb_scim_json_string(first, "value")) : NULL;
}

/* attrs: what the body holds beyond the mapped attributes. */
static json_t *extra_attrs(json_t *in, const char *const *mapped, size_t n)
{
	json_t *attrs = json_deep_copy(in), *v;
	const char *key;
	void *tmp;

	if (!attrs)
		return NULL;
	json_object_foreach_safe(attrs, tmp, key, v)
	{
		for (size_t i = 0; i < n; i++)
			if (strcasecmp(key, mapped[i]) == 0) {
				json_object_del(attrs, key);
				break;
			}
	}
	return attrs;
}

static const char *const user_mapped[] = {
    "schemas",
    "id",
    "meta",
    "groups",
    "password",
    "userName",
    "externalId",
    "active",
    PWB_SCIM_POSIX_USER,
    PWB_SCIM_WORKBENCH_USER,
};

int pwb_scim_user_from_json(json_t *in, const struct pwb_config *cfg,
			    const struct pwb_user *existing, struct pwb_user *out,
			    struct pwb_scim_error *err)
{
	json_t *posix, *workbench, *active;
	const char *user_name, *posix_name;
	char *wb_home = NULL;
	struct pwb_error nerr = {0};
	int r;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(in))
		return pwb_scim_fail(err, 400, "invalidSyntax", "a User must be a JSON object");
	if ((r = check_depth(in, "User", err)) < 0)
		return r;
	user_name = pwb_scim_json_string(in, "userName");
	if (!user_name || !*user_name)
		return pwb_scim_fail(err, 400, "invalidValue", "userName is required");
	if (strlen(user_name) > 256)
		return pwb_scim_fail(err, 400, "invalidValue", "userName is longer than 256 bytes");
	posix = pwb_scim_json_get(in, PWB_SCIM_POSIX_USER, NULL);
	workbench = pwb_scim_json_get(in, PWB_SCIM_WORKBENCH_USER, NULL);
	posix_name = pwb_scim_json_string(workbench, "posixUserName");
	if (posix_name && *posix_name)
		r = pwb_names_to_linux(posix_name, PWB_NAMES_LOWERCASE, NULL, out->name, &nerr);
	else
		r = pwb_names_to_linux(user_name, PWB_NAMES_STRIP_DOMAIN | PWB_NAMES_LOWERCASE,
				       cfg->openid_username_domains, out->name, &nerr);
	if (r < 0)
		return pwb_scim_fail(err, 400, "invalidValue", "userName: %s", nerr.msg);
	if (existing) {
		memcpy(out->id, existing->id, sizeof(out->id));
		out->uid = existing->uid;
		out->gid = existing->gid;
		out->source = existing->source;
		out->created = existing->created;
		out->modified = existing->modified;
		out->last_login = existing->last_login;
		out->version = existing->version;
	} else {
		out->source = PWB_SOURCE_SCIM;
	}
	/* A body without "active" never unlocks a deactivated account. */
	out->active = existing ? existing->active : true;
	active = pwb_scim_json_get(in, "active", NULL);
	if (active && !json_is_null(active) && pwb_scim_json_bool(active, &out->active) < 0) {
		r = pwb_scim_fail(err, 400, "invalidValue", "active must be a boolean");
		goto fail;
	}
	if ((r = opt_id(workbench, "posixUserId", &out->uid, err)) < 0 ||
	    (r = opt_id(posix, "uidNumber", &out->uid, err)) < 0 ||
	    (r = opt_id(posix, "gidNumber", &out->gid, err)) < 0)
		goto fail;
	out->user_name = strdup(user_name);
	if (!out->user_name) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = opt_string(in, "externalId", 256, &out->external_id, err)) < 0 ||
	    (r = opt_string(posix, "homeDirectory", PATH_FIELD_MAX, &out->home, err)) < 0 ||
	    (r = opt_string(posix, "loginShell", PATH_FIELD_MAX, &out->shell, err)) < 0)
		goto fail;
	if ((r = opt_string(workbench, "homeDirectory", PATH_FIELD_MAX, &wb_home, err)) < 0)
		goto fail;
	/* Both extensions may carry a home: a PATCH document always holds the
	 * posix one as stored, so the one that differs from the stored home is
	 * the change asked for (and goes through the store's policy). */
	if (wb_home && (!out->home ||
			(existing && existing->home && strcmp(out->home, existing->home) == 0))) {
		free(out->home);
		out->home = PWB_TAKE_PTR(wb_home);
	}
	free(wb_home);
	wb_home = NULL;
	if ((r = passwd_safe("homeDirectory", out->home, true, err)) < 0 ||
	    (r = passwd_safe("loginShell", out->shell, true, err)) < 0)
		goto fail;
	if (existing && !out->home && existing->home && !(out->home = strdup(existing->home))) {
		r = -ENOMEM;
		goto fail;
	}
	if (existing && !out->shell && existing->shell && !(out->shell = strdup(existing->shell))) {
		r = -ENOMEM;
		goto fail;
	}
	out->gecos = gecos_from(in);
	out->email = primary_email(in);
	out->attrs = extra_attrs(in, user_mapped, PWB_ARRAY_SIZE(user_mapped));
	if (!out->attrs) {
		r = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	pwb_user_clear(out);
	return r;
}

static const char *const group_mapped[] = {
    "schemas", "id", "meta", "members", "displayName", "externalId", PWB_SCIM_POSIX_GROUP,
};

/* The Linux name: fixed once the group exists (a displayName change never
 * renames it; groupName may only repeat it), else the posix extension's
 * groupName, else empty: the caller derives it from displayName
 * (pwb_provision_group_name, which knows the mappings). */
static int group_linux_name(json_t *posix, const struct pwb_config *cfg,
			    const struct pwb_group *existing, char out[PWB_NAME_MAX + 1],
			    struct pwb_scim_error *err)
{
	const char *explicit_name = pwb_scim_json_string(posix, "groupName");
	struct pwb_error nerr = {0};
	char shown[64];

	out[0] = '\0';
	if (explicit_name && !*explicit_name)
		explicit_name = NULL;
	if (existing) {
		if (explicit_name && strcmp(explicit_name, existing->name) != 0)
			return pwb_scim_fail(err, 400, "mutability",
					     "groupName is immutable: this group is %s",
					     existing->name);
		memcpy(out, existing->name, PWB_NAME_MAX + 1);
		return 0;
	}
	if (!explicit_name)
		return 0;
	if (!pwb_names_is_valid(explicit_name)) {
		pwb_names_escape(explicit_name, shown, sizeof(shown));
		return pwb_scim_fail(err, 400, "invalidValue",
				     "groupName \"%s\" is not a valid Linux name "
				     "([a-z_][a-z0-9_.-]*, at most %d characters)",
				     shown, PWB_NAME_MAX);
	}
	/* The store refuses it too; here the error can name the attribute. */
	if (pwb_policy_group_name(cfg, explicit_name, &nerr) < 0)
		return pwb_scim_fail(err, 400, "invalidValue", "groupName: %s", nerr.msg);
	memcpy(out, explicit_name, strlen(explicit_name) + 1);
	return 0;
}

int pwb_scim_group_from_json(json_t *in, const struct pwb_config *cfg,
			     const struct pwb_group *existing, struct pwb_group *out,
			     struct pwb_scim_error *err)
{
	json_t *posix;
	const char *display;
	int r;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(in))
		return pwb_scim_fail(err, 400, "invalidSyntax", "a Group must be a JSON object");
	if ((r = check_depth(in, "Group", err)) < 0)
		return r;
	/* RFC 7643 §4.2: displayName is required, so a PATCH that removes it
	 * fails here too (400 invalidValue: "a required value was missing",
	 * RFC 7644 §3.12). */
	display = pwb_scim_json_string(in, "displayName");
	if (!display || !*display)
		return pwb_scim_fail(err, 400, "invalidValue", "displayName is required");
	if (strlen(display) > PWB_GROUP_DISPLAY_MAX)
		return pwb_scim_fail(err, 400, "invalidValue",
				     "displayName is longer than %d bytes", PWB_GROUP_DISPLAY_MAX);
	for (const char *p = display; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return pwb_scim_fail(err, 400, "invalidValue",
					     "displayName contains a control character");
	posix = pwb_scim_json_get(in, PWB_SCIM_POSIX_GROUP, NULL);
	if ((r = group_linux_name(posix, cfg, existing, out->name, err)) < 0)
		return r;
	if (existing) {
		memcpy(out->id, existing->id, sizeof(out->id));
		out->gid = existing->gid;
		out->created = existing->created;
		out->modified = existing->modified;
		out->version = existing->version;
	}
	if ((r = opt_id(posix, "gidNumber", &out->gid, err)) < 0)
		goto fail;
	if (!(out->display_name = strdup(display))) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = opt_string(in, "externalId", 256, &out->external_id, err)) < 0)
		goto fail;
	out->attrs = extra_attrs(in, group_mapped, PWB_ARRAY_SIZE(group_mapped));
	if (!out->attrs) {
		r = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	pwb_group_clear(out);
	return r;
}

int pwb_scim_group_member_ids(json_t *in, json_t **out, struct pwb_scim_error *err)
{
	json_t *members = pwb_scim_json_get(in, "members", NULL), *m, *ids;
	size_t i;

	*out = NULL;
	if (!members || json_is_null(members))
		return 0;
	if (!json_is_array(members))
		return pwb_scim_fail(err, 400, "invalidValue", "members must be an array");
	ids = json_array();
	if (!ids)
		return -ENOMEM;
	json_array_foreach(members, i, m)
	{
		const char *id =
		    json_is_string(m) ? json_string_value(m) : pwb_scim_json_string(m, "value");

		if (!id || !pwb_uuid_is_valid(id)) {
			json_decref(ids);
			return pwb_scim_fail(err, 400, "invalidValue",
					     "members[%zu].value must be a User id", i);
		}
		json_array_append_new(ids, json_string(id));
	}
	*out = ids;
	return 0;
}
