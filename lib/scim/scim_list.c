/* Query-string decoding, projection, sorting and ListResponse building. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "scim_filter.h"
#include "scim_json.h"
#include "scim_list.h"
#include "urltext.h"
#include "util.h"

char *pwb_scim_url_decode(const char *s, size_t n, bool plus)
{
	char *out = NULL;

	return pwb_percent_decode(s, n, plus ? PWB_PERCENT_PLUS : 0, &out) == 0 ? out : NULL;
}

void pwb_scim_query_clear(struct pwb_scim_query *q)
{
	free(q->filter);
	free(q->sort_by);
	free(q->attributes);
	free(q->excluded);
	memset(q, 0, sizeof(*q));
}

static int set_string(char **slot, char *value)
{
	free(*slot);
	*slot = value;
	return 0;
}

static int parse_count(const char *name, const char *v, uint64_t *out, struct pwb_scim_error *err)
{
	int64_t n;

	if (pwb_parse_i64(v, &n) < 0)
		return pwb_scim_fail(err, 400, "invalidValue", "%s must be an integer", name);
	*out = n < 0 ? 0 : (uint64_t)n;
	return 0;
}

int pwb_scim_query_parse(const char *query, struct pwb_scim_query *q, struct pwb_scim_error *err)
{
	const char *p = query ? query : "";
	int r = 0;

	memset(q, 0, sizeof(*q));
	q->start = 1;
	q->count = PWB_SCIM_LIST_DEFAULT_COUNT;
	while (*p && r == 0) {
		const char *end = strchr(p, '&'), *eq;
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *key, *value;

		eq = memchr(p, '=', n);
		key = pwb_scim_url_decode(p, eq ? (size_t)(eq - p) : n, true);
		value =
		    eq ? pwb_scim_url_decode(eq + 1, n - (size_t)(eq - p) - 1, true) : strdup("");
		if (!key || !value) {
			free(key);
			free(value);
			pwb_scim_query_clear(q);
			return pwb_scim_fail(err, 400, "invalidValue", "malformed query string");
		}
		if (strcasecmp(key, "filter") == 0) {
			r = set_string(&q->filter, value);
			value = NULL;
		} else if (strcasecmp(key, "sortBy") == 0) {
			r = set_string(&q->sort_by, value);
			value = NULL;
		} else if (strcasecmp(key, "attributes") == 0) {
			r = set_string(&q->attributes, value);
			value = NULL;
		} else if (strcasecmp(key, "excludedAttributes") == 0) {
			r = set_string(&q->excluded, value);
			value = NULL;
		} else if (strcasecmp(key, "sortOrder") == 0) {
			q->descending = strcasecmp(value, "descending") == 0;
		} else if (strcasecmp(key, "startIndex") == 0) {
			r = parse_count("startIndex", value, &q->start, err);
			if (q->start < 1)
				q->start = 1;
		} else if (strcasecmp(key, "count") == 0) {
			r = parse_count("count", value, &q->count, err);
			if (q->count > PWB_SCIM_LIST_MAX_COUNT)
				q->count = PWB_SCIM_LIST_MAX_COUNT;
		}
		free(key);
		free(value);
		p += n;
		if (*p == '&')
			p++;
	}
	if (r < 0)
		pwb_scim_query_clear(q);
	return r;
}

/* A string member, or an array of strings joined with commas. */
static int search_string(json_t *body, const char *name, char **out, struct pwb_scim_error *err)
{
	json_t *v = pwb_scim_json_get(body, name, NULL), *el;
	size_t i, n = 1;
	char *text;

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		*out = strdup(json_string_value(v));
		return *out ? 0 : -ENOMEM;
	}
	if (!json_is_array(v))
		return pwb_scim_fail(err, 400, "invalidValue", "%s must be a string or an array",
				     name);
	json_array_foreach(v, i, el)
	{
		if (!json_is_string(el))
			return pwb_scim_fail(err, 400, "invalidValue", "%s[%zu] must be a string",
					     name, i);
		n += json_string_length(el) + 1;
	}
	text = calloc(1, n);
	if (!text)
		return -ENOMEM;
	json_array_foreach(v, i, el)
	{
		if (i)
			strcat(text, ",");
		strcat(text, json_string_value(el));
	}
	*out = text;
	return 0;
}

static int search_count(json_t *body, const char *name, uint64_t *out, struct pwb_scim_error *err)
{
	json_t *v = pwb_scim_json_get(body, name, NULL);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return pwb_scim_fail(err, 400, "invalidValue", "%s must be an integer", name);
	*out = json_integer_value(v) < 0 ? 0 : (uint64_t)json_integer_value(v);
	return 0;
}

int pwb_scim_query_from_search(json_t *body, struct pwb_scim_query *q, struct pwb_scim_error *err)
{
	const char *order;
	int r;

	memset(q, 0, sizeof(*q));
	q->start = 1;
	q->count = PWB_SCIM_LIST_DEFAULT_COUNT;
	if ((r = search_string(body, "filter", &q->filter, err)) < 0 ||
	    (r = search_string(body, "sortBy", &q->sort_by, err)) < 0 ||
	    (r = search_string(body, "attributes", &q->attributes, err)) < 0 ||
	    (r = search_string(body, "excludedAttributes", &q->excluded, err)) < 0 ||
	    (r = search_count(body, "startIndex", &q->start, err)) < 0 ||
	    (r = search_count(body, "count", &q->count, err)) < 0) {
		pwb_scim_query_clear(q);
		return r;
	}
	order = pwb_scim_json_string(body, "sortOrder");
	q->descending = order && strcasecmp(order, "descending") == 0;
	if (q->start < 1)
		q->start = 1;
	if (q->count > PWB_SCIM_LIST_MAX_COUNT)
		q->count = PWB_SCIM_LIST_MAX_COUNT;
	return 0;
}

/* Calls fn for each attrPath in a comma list. */
static void each_path(const char *list,
		      void (*fn)(json_t *, const struct pwb_scim_attr_path *, void *),
		      json_t *resource, void *ctx)
{
	const char *p = list;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *item = strndup(p, n), *s = item, *e;
		struct pwb_scim_attr_path path;

		if (item) {
			while (*s == ' ')
				s++;
			e = s + strlen(s);
			while (e > s && e[-1] == ' ')
				*--e = '\0';
			if (*s && pwb_scim_attr_path_parse(s, &path, NULL) == 0) {
				fn(resource, &path, ctx);
				pwb_scim_attr_path_clear(&path);
			}
			free(item);
		}
		p = end ? end + 1 : NULL;
	}
}

static void copy_path(json_t *resource, const struct pwb_scim_attr_path *p, void *ctx)
{
	json_t *kept = ctx, *from = pwb_scim_path_container(resource, p, false), *to, *v;
	const char *key;

	if (!from)
		return;
	v = pwb_scim_json_get(from, p->attr, &key);
	if (!v)
		return;
	to = from == resource ? kept : pwb_scim_path_container(kept, p, true);
	if (!to)
		return;
	if (!p->sub || !json_is_object(v)) {
		json_object_set(to, key, v);
		return;
	}
	json_t *sub_from = v, *sub_to = json_object_get(to, key), *sv;
	const char *sub_key;

	sv = pwb_scim_json_get(sub_from, p->sub, &sub_key);
	if (!sv)
		return;
	if (!json_is_object(sub_to)) {
		sub_to = json_object();
		json_object_set_new(to, key, sub_to);
	}
	json_object_set(sub_to, sub_key, sv);
}

static void drop_path(json_t *resource, const struct pwb_scim_attr_path *p, void *ctx)
{
	json_t *from = pwb_scim_path_container(resource, p, false);

	(void)ctx;
	if (!from ||
	    (!p->urn && (strcasecmp(p->attr, "id") == 0 || strcasecmp(p->attr, "schemas") == 0)))
		return;
	if (p->sub)
		pwb_scim_json_del(pwb_scim_json_get(from, p->attr, NULL), p->sub);
	else
		pwb_scim_json_del(from, p->attr);
}

void pwb_scim_project(json_t *resource, const struct pwb_scim_query *q)
{
	if (q->attributes && *q->attributes) {
		json_t *kept = json_object();
		const char *key;
		json_t *v;

		if (!kept)
			return;
		json_object_set(kept, "id", json_object_get(resource, "id"));
		json_object_set(kept, "schemas", json_object_get(resource, "schemas"));
		each_path(q->attributes, copy_path, resource, kept);
		json_object_clear(resource);
		json_object_foreach(kept, key, v)
		{
			json_object_set(resource, key, v);
		}
		json_decref(kept);
	} else if (q->excluded && *q->excluded) {
		each_path(q->excluded, drop_path, resource, NULL);
	}
}

json_t *pwb_scim_list_response(json_t *resources, uint64_t total, uint64_t start)
{
	json_t *list = json_pack("{s:[s],s:I,s:I,s:I}", "schemas", PWB_SCIM_LIST_SCHEMA,
				 "totalResults", (json_int_t)total, "startIndex", (json_int_t)start,
				 "itemsPerPage", (json_int_t)json_array_size(resources));

	if (!list) {
		json_decref(resources);
		return NULL;
	}
	json_object_set_new(list, "Resources", resources);
	return list;
}

static const char *sort_key(json_t *resource, const struct pwb_scim_attr_path *p)
{
	json_t *c = pwb_scim_path_container(resource, p, false);
	json_t *v = pwb_scim_json_get(c, p->attr, NULL);

	if (json_is_array(v))
		v = json_array_get(v, 0);
	if (p->sub)
		v = pwb_scim_json_get(v, p->sub, NULL);
	else if (json_is_object(v))
		v = pwb_scim_json_get(v, "value", NULL);
	return json_string_value(v);
}

struct sort_item {
	json_t *resource;
	const char *key;
};

static int compare_items(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;

	if (!x->key || !y->key)
		return (x->key == NULL) - (y->key == NULL);
	return strcasecmp(x->key, y->key);
}

void pwb_scim_sort(json_t *resources, const char *sort_by, bool descending)
{
	struct pwb_scim_attr_path p;
	size_t n = json_array_size(resources), i;
	struct sort_item *items;

	if (n < 2 || pwb_scim_attr_path_parse(sort_by, &p, NULL) < 0)
		return;
	items = calloc(n, sizeof(*items));
	if (items) {
		for (i = 0; i < n; i++) {
			items[i].resource = json_incref(json_array_get(resources, i));
			items[i].key = sort_key(items[i].resource, &p);
		}
		qsort(items, n, sizeof(*items), compare_items);
		json_array_clear(resources);
		for (i = 0; i < n; i++)
			json_array_append_new(resources,
					      items[descending ? n - 1 - i : i].resource);
		free(items);
	}
	pwb_scim_attr_path_clear(&p);
}
