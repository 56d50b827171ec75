/* Helpers shared by pwbadm's command groups: one-line errors, option
 * parsing, loading the config, name arguments, aligned tables and the one
 * printer of every list (table or JSON). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
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

void pwbadm_close(struct pwbadm *adm)
{
	if (adm->store)
		pwb_store_close(adm->store);
	adm->store = NULL;
	if (adm->cfg_loaded)
		pwb_config_free(&adm->cfg);
	adm->cfg_loaded = false;
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

int pwbadm_group_list_arg(const char *command, const char *arg, json_t **out)
{
	_cleanup_free_ char *copy = strdup(arg);
	struct pwb_error err = {0};
	char *item, *save = NULL;
	json_t *g;
	size_t i;
	int rc;

	*out = json_array();
	if (!copy || !*out)
		return pwbadm_fail("out of memory");
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char name[PWB_NAME_MAX + 1];

		while (*item == ' ')
			item++;
		rc = pwb_names_to_linux(item, PWB_NAMES_LOWERCASE, NULL, name, &err);
		if (rc < 0) {
			json_decref(*out);
			*out = NULL;
			return pwbadm_usage(command, "group %s", pwb_error_text(&err, rc));
		}
		json_array_foreach(*out, i, g)
		{
			if (strcmp(json_string_value(g), name) == 0)
				break;
		}
		if (i == json_array_size(*out))
			json_array_append_new(*out, json_string(name));
	}
	return 0;
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

int pwbadm_list_print(const struct pwbadm_list *list, json_t *records, bool json)
{
	struct pwbadm_json_list items = {0};
	struct pwbadm_table table;
	struct pwb_error err = {0};
	json_t *record;
	size_t i;
	int rc = 0;

	pwbadm_table_init(&table, list->columns, list->headers);
	json_array_foreach(records, i, record)
	{
		rc = json ? pwbadm_json_list_add(&items, json_incref(record))
			  : list->row(record, &table, &err);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		rc = pwbadm_fail("cannot list %s: %s", list->what, pwb_error_text(&err, rc));
	} else if (json) {
		rc = pwbadm_json_list_print(&items, stdout) ? pwbadm_fail("cannot write the list")
							    : 0;
	} else {
		pwbadm_table_sort(&table, 0);
		rc = pwbadm_table_print(&table, stdout) ? pwbadm_fail("cannot write the list") : 0;
	}
	pwbadm_table_free(&table);
	pwbadm_json_list_free(&items);
	return rc;
}

int64_t pwbadm_json_int(json_t *o, const char *path)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
	return (int64_t)json_integer_value(json_object_get(o, path));
}

void pwbadm_duration_text(int64_t s, char out[48])
{
	int64_t d, h, m;

	if (s < 0)
		s = 0;
	d = s / 86400;
	h = s / 3600 % 24;
	m = s / 60 % 60;
	if (d)
		snprintf(out, 48, "%lldd %lldh %lldm", (long long)d, (long long)h, (long long)m);
	else if (h)
		snprintf(out, 48, "%lldh %lldm", (long long)h, (long long)m);
	else if (m)
		snprintf(out, 48, "%lldm %llds", (long long)m, (long long)(s % 60));
	else
		snprintf(out, 48, "%llds", (long long)s);
}
