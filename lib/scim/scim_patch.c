/* PATCH operations on SCIM JSON. Multi-valued attributes are arrays of
 * values or of complex values; complex elements are the same when their
 * "value" members are equal (members, groups, emails). */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "scim_filter.h"
#include "scim_json.h"
#include "scim_patch.h"

enum patch_op {
	OP_ADD,
	OP_REPLACE,
	OP_REMOVE
};

static bool read_only(const char *attr)
{
	return strcasecmp(attr, "id") == 0 || strcasecmp(attr, "meta") == 0 ||
	       strcasecmp(attr, "groups") == 0 || strcasecmp(attr, "schemas") == 0;
}

static bool same_element(json_t *a, json_t *b)
{
	json_t *va = json_is_object(a) ? pwb_scim_json_get(a, "value", NULL) : NULL;
	json_t *vb = json_is_object(b) ? pwb_scim_json_get(b, "value", NULL) : NULL;

	if (va && vb)
		return json_equal(va, vb);
	return json_equal(a, b);
}

/* Adds the values of v (an array or one value) to array arr, skipping
 * ones already present. */
static int array_add(json_t *arr, json_t *v)
{
	json_t *el, *have;
	size_t i, j;
	json_t *list = json_is_array(v) ? v : NULL;
	size_t n = list ? json_array_size(list) : 1;

	for (i = 0; i < n; i++) {
		bool dup = false;

		el = list ? json_array_get(list, i) : v;
		json_array_foreach(arr, j, have)
		{
			if (same_element(have, el)) {
				dup = true;
				break;
			}
		}
		if (!dup && json_array_append(arr, el) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Merges the members of src into object dst (sub-attributes replaced). */
static int object_merge(json_t *dst, json_t *src)
{
	const char *key;
	json_t *v;

	json_object_foreach(src, key, v)
	{
		if (pwb_scim_json_set(dst, key, json_incref(v)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* add/replace of value at a plain attrPath (no filter). */
static int set_at_path(json_t *resource, const struct pwb_scim_attr_path *p, enum patch_op op,
		       json_t *value, struct pwb_scim_error *err)
{
	json_t *container = pwb_scim_path_container(resource, p, true);
	json_t *have, *parent;

	if (!container)
		return pwb_scim_fail(err, 400, "invalidPath", "cannot resolve path");
	have = pwb_scim_json_get(container, p->attr, NULL);
	if (p->sub) {
		parent = have;
		if (json_is_array(parent)) {
			/* "emails.value": apply to every element */
			size_t i;
			json_t *el;

			json_array_foreach(parent, i, el)
			{
				if (json_is_object(el))
					pwb_scim_json_set(el, p->sub, json_incref(value));
			}
			return 0;
		}
		if (!json_is_object(parent)) {
			parent = json_object();
			if (pwb_scim_json_set(container, p->attr, parent) < 0)
				return -ENOMEM;
		}
		have = pwb_scim_json_get(parent, p->sub, NULL);
		if (op == OP_ADD && json_is_array(have))
			return array_add(have, value);
		return pwb_scim_json_set(parent, p->sub, json_incref(value));
	}
	if (op == OP_ADD && (json_is_array(have) || json_is_array(value))) {
		if (!json_is_array(have)) {
			have = json_array();
			if (pwb_scim_json_set(container, p->attr, have) < 0)
				return -ENOMEM;
		}
		return array_add(have, value);
	}
	if (json_is_object(have) && json_is_object(value))
		return object_merge(have, value);
	return pwb_scim_json_set(container, p->attr, json_incref(value));
}

/* A new element for add/replace through a filter that matched nothing:
 * Entra ID writes `emails[type eq "work"].value` to create a work email.
 * Only "and"-ed equality comparisons can describe the element. */
static int element_from_filter(const struct pwb_scim_filter *f, json_t *el)
{
	if (f->op == PWB_SCIM_AND)
		return element_from_filter(f->left, el) || element_from_filter(f->right, el);
	if (f->op == PWB_SCIM_EQ && !f->path.urn && !f->path.sub)
		return pwb_scim_json_set(el, f->path.attr, json_incref(f->value));
	return -1;
}

static int apply_filtered(json_t *resource, const struct pwb_scim_patch_path *pp, enum patch_op op,
			  json_t *value, struct pwb_scim_error *err)
{
	json_t *container = pwb_scim_path_container(resource, &pp->path, op != OP_REMOVE);
	json_t *arr = pwb_scim_json_get(container, pp->path.attr, NULL);
	size_t i, matched = 0;
	json_t *el;

	if (arr && !json_is_array(arr))
		return pwb_scim_fail(err, 400, "invalidPath", "%s is not multi-valued",
				     pp->path.attr);
	for (i = 0; arr && i < json_array_size(arr);) {
		el = json_array_get(arr, i);
		if (!pwb_scim_filter_match(pp->filter, el)) {
			i++;
			continue;
		}
		matched++;
		if (op == OP_REMOVE) {
			if (pp->value_sub)
				pwb_scim_json_del(el, pp->value_sub);
			else {
				json_array_remove(arr, i);
				continue;
			}
		} else if (pp->value_sub) {
			pwb_scim_json_set(el, pp->value_sub, json_incref(value));
		} else if (json_is_object(value)) {
			if (op == OP_REPLACE)
				json_object_clear(el);
			object_merge(el, value);
		} else {
			json_array_set(arr, i, value);
		}
		i++;
	}
	if (matched || op == OP_REMOVE)
		return 0;
	if (!pp->value_sub && op == OP_REPLACE)
		return pwb_scim_fail(err, 400, "noTarget", "no value of %s matches the filter",
				     pp->path.attr);
	/* Nothing matched an add (or a sub-attribute replace): create it. */
	el = json_object();
	if (!el)
		return -ENOMEM;
	if (element_from_filter(pp->filter, el) != 0) {
		json_decref(el);
		return pwb_scim_fail(err, 400, "noTarget", "no value of %s matches the filter",
				     pp->path.attr);
	}
	if (pp->value_sub)
		pwb_scim_json_set(el, pp->value_sub, json_incref(value));
	else if (json_is_object(value))
		object_merge(el, value);
	if (!arr) {
		arr = json_array();
		if (pwb_scim_json_set(container, pp->path.attr, arr) < 0) {
			json_decref(el);
			return -ENOMEM;
		}
	}
	return json_array_append_new(arr, el);
}

static int remove_at_path(json_t *resource, const struct pwb_scim_attr_path *p, json_t *value)
{
	json_t *container = pwb_scim_path_container(resource, p, false);
	json_t *have = pwb_scim_json_get(container, p->attr, NULL);

	if (!have)
		return 0;
	if (p->sub) {
		size_t i;
		json_t *el;

		if (json_is_array(have)) {
			json_array_foreach(have, i, el)
			{
				pwb_scim_json_del(el, p->sub);
			}
		} else {
			pwb_scim_json_del(have, p->sub);
		}
		return 0;
	}
	if (json_is_array(have) && value && !json_is_null(value)) {
		/* Entra ID: remove the listed values only. */
		json_t *list = json_is_array(value) ? value : NULL;
		size_t n = list ? json_array_size(list) : 1;

		for (size_t k = 0; k < n; k++) {
			json_t *gone = list ? json_array_get(list, k) : value;

			for (size_t i = 0; i < json_array_size(have);) {
				if (same_element(json_array_get(have, i), gone))
					json_array_remove(have, i);
				else
					i++;
			}
		}
		return 0;
	}
	pwb_scim_json_del(container, p->attr);
	return 0;
}

static int apply_path(json_t *resource, const char *path, enum patch_op op, json_t *value,
		      struct pwb_scim_error *err)
{
	struct pwb_scim_patch_path pp;
	int r;

	r = pwb_scim_patch_path_parse(path, &pp, err);
	if (r < 0)
		return r;
	if (!pp.path.urn && read_only(pp.path.attr)) {
		r = 0; /* ignored: the service owns these */
	} else if (pp.filter) {
		r = apply_filtered(resource, &pp, op, value, err);
	} else if (op == OP_REMOVE) {
		r = remove_at_path(resource, &pp.path, value);
	} else {
		r = set_at_path(resource, &pp.path, op, value, err);
	}
	pwb_scim_patch_path_clear(&pp);
	return r;
}

/* A schema URN ends in the schema's name ("...:2.0:User"), capitalised;
 * an attribute path ends in an attribute ("...:User:manager"), which is not. */
static bool is_schema_urn(const char *key)
{
	const char *last = strrchr(key, ':');

	return strncasecmp(key, "urn:", 4) == 0 && last && last[1] >= 'A' && last[1] <= 'Z';
}

static bool is_core_urn(const char *key)
{
	return strncasecmp(key, "urn:ietf:params:scim:schemas:core:2.0:", 38) == 0;
}

/* add/replace without a path: every member of value is an attribute (or,
 * from Entra ID, an attribute path) to set. */
static int apply_pathless(json_t *resource, enum patch_op op, json_t *value,
			  struct pwb_scim_error *err)
{
	const char *key;
	json_t *v;
	int r;

	if (!json_is_object(value))
		return pwb_scim_fail(err, 400, "invalidValue",
				     "an operation without \"path\" needs an object \"value\"");
	json_object_foreach(value, key, v)
	{
		if (is_schema_urn(key) && json_is_object(v)) {
			/* a whole schema's attributes: set each of them */
			json_t *ext =
			    is_core_urn(key) ? resource : pwb_scim_json_get(resource, key, NULL);

			if (!json_is_object(ext)) {
				ext = json_object();
				if (pwb_scim_json_set(resource, key, ext) < 0)
					return -ENOMEM;
			}
			if ((r = apply_pathless(ext, op, v, err)) < 0)
				return r;
			continue;
		}
		if ((r = apply_path(resource, key, op, v, err)) < 0)
			return r;
	}
	return 0;
}

int pwb_scim_patch_apply(json_t *resource, json_t *request, struct pwb_scim_error *err)
{
	json_t *schemas = pwb_scim_json_get(request, "schemas", NULL);
	json_t *ops = pwb_scim_json_get(request, "Operations", NULL);
	json_t *o, *s;
	size_t i;
	int r;

	if (!json_is_object(request))
		return pwb_scim_fail(err, 400, "invalidSyntax", "PATCH body must be an object");
	if (schemas) {
		bool found = false;

		json_array_foreach(schemas, i, s)
		{
			if (json_is_string(s) &&
			    strcmp(json_string_value(s), PWB_SCIM_PATCH_SCHEMA) == 0)
				found = true;
		}
		if (!found)
			return pwb_scim_fail(err, 400, "invalidSyntax", "schemas must list %s",
					     PWB_SCIM_PATCH_SCHEMA);
	}
	if (!json_is_array(ops) || json_array_size(ops) == 0)
		return pwb_scim_fail(err, 400, "invalidSyntax",
				     "\"Operations\" must be a non-empty array");
	if (json_array_size(ops) > PWB_SCIM_PATCH_MAX_OPS)
		return pwb_scim_fail(err, 400, "tooMany", "more than %d operations",
				     PWB_SCIM_PATCH_MAX_OPS);
	json_array_foreach(ops, i, o)
	{
		const char *name = pwb_scim_json_string(o, "op");
		const char *path = pwb_scim_json_string(o, "path");
		json_t *value = pwb_scim_json_get(o, "value", NULL);
		enum patch_op op;

		if (!name)
			return pwb_scim_fail(err, 400, "invalidSyntax",
					     "operation %zu has no \"op\"", i + 1);
		if (strcasecmp(name, "add") == 0)
			op = OP_ADD;
		else if (strcasecmp(name, "replace") == 0)
			op = OP_REPLACE;
		else if (strcasecmp(name, "remove") == 0)
			op = OP_REMOVE;
		else
			return pwb_scim_fail(err, 400, "invalidSyntax",
					     "operation %zu: unknown op (add, replace, remove)",
					     i + 1);
		if (path && !*path)
			path = NULL;
		if (op != OP_REMOVE && !value)
			return pwb_scim_fail(err, 400, "invalidValue",
					     "operation %zu has no \"value\"", i + 1);
		if (op == OP_REMOVE && !path)
			return pwb_scim_fail(err, 400, "noTarget",
					     "operation %zu: remove needs a path", i + 1);
		r = path ? apply_path(resource, path, op, value, err)
			 : apply_pathless(resource, op, value, err);
		if (r < 0)
			return r;
	}
	return 0;
}
