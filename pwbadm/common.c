/* Helpers shared by pwbadm's command groups: one-line errors, option
 * parsing, opening config and store, name arguments, aligned tables and
 * the JSON form of users, groups and tokens. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "publish.h"
#include "pwbadm.h"
#include "util.h"

int pwbadm_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("pwbadm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return PWBADM_EXIT_FAILURE;
}

int pwbadm_usage(const char *command, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pwbadm: %s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see pwbadm %s --help)\n", command);
	return PWBADM_EXIT_USAGE;
}

int pwbadm_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c != '?' && c != ':')
		return c;
	if (optopt && strchr(shortopts, optopt) && optopt != ':')
		pwbadm_usage(argv[0], "option %s needs a value", argv[optind - 1]);
	else if (optopt)
		pwbadm_usage(argv[0], "unknown option -%c", optopt);
	else
		pwbadm_usage(argv[0], "unknown option or missing value: %s", argv[optind - 1]);
	return '?';
}

int pwbadm_load_config(struct pwbadm *adm)
{
	struct pwb_error err = {0};
	const char *path;
	int rc;

	if (adm->cfg_loaded)
		return 0;
	path = pwb_config_path(adm->config_path);
	rc = pwb_config_load(path, false, &adm->cfg, &err);
	if (rc < 0)
		return pwbadm_fail("%s", pwb_error_text(&err, rc));
	adm->cfg_loaded = true;
	return 0;
}

int pwbadm_open_store(struct pwbadm *adm)
{
	struct pwb_error err = {0};
	int rc;

	if (adm->store)
		return 0;
	if (pwbadm_load_config(adm))
		return PWBADM_EXIT_FAILURE;
	rc = pwb_store_open(&adm->cfg, &adm->store, &err);
	if (rc == 0)
		rc = pwb_publish_attach(adm->store, &err);
	if (rc < 0)
		return pwbadm_fail("cannot open the store in %s: %s", adm->cfg.db_dir,
				   pwb_error_text(&err, rc));
	return 0;
}

void pwbadm_close(struct pwbadm *adm)
{
	if (adm->store)
		pwb_store_close(adm->store);
	adm->store = NULL;
	if (adm->cfg_loaded)
		pwb_config_free(&adm->cfg);
	adm->cfg_loaded = false;
}

int pwbadm_one_user_operand(struct pwbadm *adm, int argc, char **argv, char out[PWB_NAME_MAX + 1])
{
	if (optind + 1 != argc)
		return pwbadm_usage(argv[0], "expects one user name");
	return pwbadm_user_arg(adm, argv[0], argv[optind], out) ? PWBADM_EXIT_USAGE : 0;
}

int pwbadm_user_arg(struct pwbadm *adm, const char *command, const char *arg,
		    char out[PWB_NAME_MAX + 1])
{
	struct pwb_error err = {0};
	int rc;

	if (pwbadm_load_config(adm))
		return PWBADM_EXIT_FAILURE;
	/* Root names accounts by their Linux names too: "alice" is alice,
	 * whatever auth-openid-username-domains says; "alice@DOMAIN" is
	 * mapped as a sign-in would map it. */
	rc = pwb_names_to_linux(arg,
				PWB_NAMES_LOWERCASE | PWB_NAMES_STRIP_DOMAIN | PWB_NAMES_ALLOW_BARE,
				adm->cfg.openid_username_domains, out, &err);
	if (rc < 0)
		return pwbadm_usage(command, "user %s", pwb_error_text(&err, rc));
	return 0;
}

int pwbadm_group_list_arg(const char *command, const char *arg, struct pwbadm_names *out)
{
	_cleanup_free_ char *copy = strdup(arg);
	struct pwb_error err = {0};
	char *item, *save = NULL;
	size_t i, slots = 1;
	int rc;

	out->names = NULL;
	out->count = 0;
	if (!copy)
		return pwbadm_fail("out of memory");
	for (i = 0; arg[i]; i++)
		slots += arg[i] == ',';
	out->names = calloc(slots, sizeof(*out->names));
	if (!out->names)
		return pwbadm_fail("out of memory");
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char name[PWB_NAME_MAX + 1];

		while (*item == ' ')
			item++;
		rc = pwb_names_to_linux(item, PWB_NAMES_LOWERCASE, NULL, name, &err);
		if (rc < 0) {
			pwbadm_names_free(out);
			return pwbadm_usage(command, "group %s", pwb_error_text(&err, rc));
		}
		for (i = 0; i < out->count; i++)
			if (strcmp(out->names[i], name) == 0)
				break;
		if (i == out->count)
			memcpy(out->names[out->count++], name, sizeof(name));
	}
	return 0;
}

void pwbadm_names_free(struct pwbadm_names *n)
{
	free(n->names);
	n->names = NULL;
	n->count = 0;
}

int pwbadm_group_ensure(struct pwb_txn *txn, const char *name, struct pwb_group *out,
			struct pwb_error *err)
{
	int rc;

	rc = pwb_group_get_by_name(txn, name, out, err);
	if (rc != PWB_ENOTFOUND)
		return rc;
	memset(err, 0, sizeof(*err));
	pwb_group_clear(out);
	if (strlen(name) >= sizeof(out->name))
		return pwb_error_set(err, PWB_EINVAL, "group name too long");
	strcpy(out->name, name);
	rc = pwb_group_create(txn, out, err);
	if (rc < 0)
		pwb_error_prefix(err, "creating group %s", name);
	return rc;
}

void pwbadm_time_text(int64_t t, char out[32])
{
	if (t <= 0)
		strcpy(out, "never");
	else
		pwb_time_format(t, out);
}

/* Display width of UTF-8 text: continuation bytes take no column. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

void pwbadm_table_init(struct pwbadm_table *t, size_t columns, const char *const *headers)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->columns = columns < PWBADM_TABLE_MAX_COLUMNS ? columns : PWBADM_TABLE_MAX_COLUMNS;
	t->headers = headers;
	for (i = 0; i < t->columns; i++)
		t->width[i] = text_width(headers[i]);
}

int pwbadm_table_add(struct pwbadm_table *t, const char *const *row)
{
	size_t i, len[PWBADM_TABLE_MAX_COLUMNS], total = 0, w;
	char *block, **cells;

	if (t->rows == t->capacity) {
		size_t cap = t->capacity ? t->capacity * 2 : 64;

		cells = reallocarray(t->cells, cap * t->columns, sizeof(*cells));
		if (!cells)
			return -ENOMEM;
		t->cells = cells;
		t->capacity = cap;
	}
	for (i = 0; i < t->columns; i++) {
		len[i] = strlen(row[i] ? row[i] : "");
		total += len[i] + 1;
	}
	block = malloc(total);
	if (!block)
		return -ENOMEM;
	cells = &t->cells[t->rows * t->columns];
	for (i = 0; i < t->columns; i++) {
		cells[i] = block;
		memcpy(block, row[i] ? row[i] : "", len[i] + 1);
		block += len[i] + 1;
		w = text_width(cells[i]);
		if (w > t->width[i])
			t->width[i] = w;
	}
	t->rows++;
	return 0;
}

static int compare_rows(const void *a, const void *b, void *column)
{
	size_t c = *(const size_t *)column;

	return strcmp(((char *const *)a)[c], ((char *const *)b)[c]);
}

void pwbadm_table_sort(struct pwbadm_table *t, size_t column)
{
	/* Each element is a whole row: `columns` consecutive cell pointers. */
	if (t->rows) /* an empty table has no array, and qsort_r must not get NULL */
		qsort_r(t->cells, t->rows, t->columns * sizeof(*t->cells), compare_rows, &column);
}

static void print_row(FILE *out, const char *const *cells, size_t columns, const size_t *width)
{
	size_t i, pad;

	for (i = 0; i < columns; i++) {
		fputs(cells[i], out);
		if (i + 1 == columns)
			break;
		for (pad = text_width(cells[i]); pad < width[i] + 2; pad++)
			putc(' ', out);
	}
	putc('\n', out);
}

int pwbadm_table_print(const struct pwbadm_table *t, FILE *out)
{
	size_t r;

	print_row(out, t->headers, t->columns, t->width);
	for (r = 0; r < t->rows; r++)
		print_row(out, (const char *const *)&t->cells[r * t->columns], t->columns,
			  t->width);
	return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}

void pwbadm_table_free(struct pwbadm_table *t)
{
	size_t r;

	for (r = 0; r < t->rows; r++)
		free(t->cells[r * t->columns]);
	free(t->cells);
	pwbadm_table_init(t, t->columns, t->headers);
}

/* json_string() of NULL is NULL, which json_object_set_new() refuses:
 * absent optional strings become JSON null instead. */
static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

bool pwbadm_user_bound(const struct pwb_user *u)
{
	return u->issuer && u->subject;
}

const char *pwbadm_user_binding(const struct pwb_user *u)
{
	if (pwbadm_user_bound(u))
		return "bound";
	return u->bind_on_login ? "pending" : "unbound";
}

json_t *pwbadm_user_json(const struct pwb_user *u)
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
		  json_object_set_new(o, "bound", json_boolean(pwbadm_user_bound(u))) < 0 ||
		  json_object_set_new(o, "bindOnLogin", json_boolean(u->bind_on_login)) < 0)) {
		json_decref(o);
		return NULL;
	}
	if (o && u->attrs && json_object_set(o, "attrs", u->attrs) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *pwbadm_group_json(const struct pwb_group *g)
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

json_t *pwbadm_token_json(const struct pwb_token *t)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "type", "token", "name", t->name,
			 "hash", t->hash, "masked", t->masked, "created", (json_int_t)t->created,
			 "expires", (json_int_t)t->expires, "lastUsed", (json_int_t)t->last_used);
}

int pwbadm_json_list_add(struct pwbadm_json_list *l, json_t *item)
{
	struct pwbadm_json_item *slot;
	int rc = -ENOMEM;

	if (!item)
		return -ENOMEM;
	if (l->count == l->capacity) {
		size_t cap = l->capacity ? l->capacity * 2 : 64;
		struct pwbadm_json_item *items = reallocarray(l->items, cap, sizeof(*items));

		if (!items)
			goto out;
		l->items = items;
		l->capacity = cap;
	}
	slot = &l->items[l->count];
	slot->name = strdup(json_string_value(json_object_get(item, "name")) ?: "");
	slot->text = json_dumps(item, JSON_COMPACT);
	if (!slot->name || !slot->text) {
		free(slot->name);
		free(slot->text);
		goto out;
	}
	l->count++;
	rc = 0;
out:
	json_decref(item);
	return rc;
}

static int compare_items(const void *a, const void *b)
{
	return strcmp(((const struct pwbadm_json_item *)a)->name,
		      ((const struct pwbadm_json_item *)b)->name);
}

void pwbadm_json_list_sort(struct pwbadm_json_list *l)
{
	if (l->count) /* an empty list has no array, and qsort must not get NULL */
		qsort(l->items, l->count, sizeof(*l->items), compare_items);
}

int pwbadm_json_list_print(struct pwbadm_json_list *l, FILE *out)
{
	size_t i;

	pwbadm_json_list_sort(l);
	fputc('[', out);
	for (i = 0; i < l->count; i++) {
		fputs(i ? ",\n" : "\n", out);
		fputs(l->items[i].text, out);
	}
	fputs("\n]\n", out);
	return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}

int pwbadm_json_list_print_lines(struct pwbadm_json_list *l, FILE *out)
{
	size_t i;

	pwbadm_json_list_sort(l);
	for (i = 0; i < l->count; i++) {
		fputs(l->items[i].text, out);
		fputc('\n', out);
	}
	return ferror(out) ? -EIO : 0;
}

void pwbadm_json_list_free(struct pwbadm_json_list *l)
{
	size_t i;

	for (i = 0; i < l->count; i++) {
		free(l->items[i].name);
		free(l->items[i].text);
	}
	free(l->items);
	l->items = NULL;
	l->count = l->capacity = 0;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a) ?: "",
		      json_string_value(*(json_t *const *)b) ?: "");
}

int pwbadm_json_strings_sort(json_t *array)
{
	size_t i, n = json_array_size(array);
	json_t **items = calloc(n + 1, sizeof(*items));

	if (!items)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(array, i));
	qsort(items, n, sizeof(*items), compare_strings);
	json_array_clear(array);
	for (i = 0; i < n; i++)
		json_array_append_new(array, items[i]);
	free(items);
	return 0;
}

bool pwbadm_passwd_field_ok(const char *s)
{
	for (; *s; s++)
		if (*s == ':' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}
