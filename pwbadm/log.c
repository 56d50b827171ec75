/* pwbadm log: the audit trail (pwbd's change log, searched by pwbd's
 * store.changes) as aligned lines in local time or JSON; also the pages
 * that show-user's last changes and export's change lines read. Dates
 * are ISO 8601 (local time unless they say Z or +HH:MM) or relative
 * ("7d": seven days ago; s, m, h, d, w). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cleanup.h"
#include "names.h"
#include "pwbadm.h"
#include "store.h"
#include "util.h"

#define PAGE_MAX 1000 /* store.changes' largest page */

int pwbadm_changes_foreach(struct pwbadm *adm, json_t *args, size_t limit, pwbadm_change_cb cb,
			   void *ctx, struct pwb_error *err)
{
	_cleanup_json_ json_t *owned = args;
	bool reverse = json_is_true(json_object_get(args, "reverse"));
	const char *from_key = reverse ? "before" : "after";
	size_t seen = 0, i;
	json_int_t next = 0;
	json_t *e;
	int rc;

	if (!args)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	do {
		_cleanup_json_ json_t *page = NULL;
		json_t *page_args = json_copy(args);
		size_t want = limit && limit - seen < PAGE_MAX ? limit - seen : PAGE_MAX;

		if (!page_args || json_object_set_new(page_args, "limit", json_integer(want)) < 0 ||
		    json_object_set_new(page_args, from_key, json_integer(next)) < 0) {
			json_decref(page_args);
			return pwb_error_set(err, -ENOMEM, "out of memory");
		}
		rc = pwbadm_call(adm, "store.changes", page_args, &page, err);
		if (rc)
			return rc;
		json_array_foreach(json_object_get(page, "changes"), i, e)
		{
			if ((rc = cb(e, ctx)) < 0)
				return pwb_error_set(err, rc, "%s", strerror(-rc));
			seen++;
		}
		next = json_integer_value(json_object_get(page, "next"));
	} while (next > 0 && (!limit || seen < limit));
	return 0;
}

/* ---- dates ---- */

static int relative_date(const char *s, int64_t now, int64_t *out)
{
	static const struct {
		char unit;
		int64_t seconds;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
	size_t len = strlen(s), i;
	char digits[16];
	int64_t n;

	if (len < 2 || len >= sizeof(digits) || strspn(s, "0123456789") != len - 1)
		return PWB_EINVAL;
	memcpy(digits, s, len - 1);
	digits[len - 1] = '\0';
	if (pwb_parse_i64(digits, &n) < 0 || n > 100 * 366 * 86400LL)
		return PWB_EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (s[len - 1] == units[i].unit) {
			*out = now - n * units[i].seconds;
			return 0;
		}
	return PWB_EINVAL;
}

/* The zone suffix after a date-time: "" (local), "Z", "+HH:MM", "-HHMM". */
static int zone_offset(const char *z, bool *utc, int64_t *offset)
{
	int h, m, n = 0;

	*utc = false;
	*offset = 0;
	if (!*z)
		return 0;
	*utc = true;
	if (strcmp(z, "Z") == 0 || strcmp(z, "z") == 0)
		return 0;
	if ((z[0] != '+' && z[0] != '-') ||
	    (sscanf(z + 1, "%2d:%2d%n", &h, &m, &n) != 2 &&
	     sscanf(z + 1, "%2d%2d%n", &h, &m, &n) != 2) ||
	    z[1 + n] != '\0' || h > 23 || m > 59)
		return PWB_EINVAL;
	*offset = (z[0] == '+' ? 1 : -1) * (int64_t)(h * 3600 + m * 60);
	return 0;
}

int pwbadm_date_parse(const char *s, int64_t now, int64_t *out)
{
	static const char *const formats[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
					      "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"};
	struct tm tm;
	const char *end = NULL;
	int64_t offset;
	bool utc;
	size_t i;
	time_t t;

	if (relative_date(s, now, out) == 0)
		return 0;
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]) && !end; i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, formats[i], &tm);
	}
	if (!end || zone_offset(end, &utc, &offset) < 0)
		return PWB_EINVAL;
	tm.tm_isdst = -1;
	t = utc ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1)
		return PWB_EINVAL;
	*out = (int64_t)t - offset;
	return 0;
}

/* ---- the human form ---- */

static void local_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(out, 32, "%lld", (long long)t);
}

static const char *str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/* kind[:name][/service][@rhost], every part escaped. */
static void actor_text(json_t *a, char *out, size_t size)
{
	char name[128], service[128], rhost[128], kind[32];

	pwb_names_escape(str(a, "kind"), kind, sizeof(kind));
	pwb_names_escape(str(a, "name"), name, sizeof(name));
	pwb_names_escape(str(a, "service"), service, sizeof(service));
	pwb_names_escape(str(a, "rhost"), rhost, sizeof(rhost));
	snprintf(out, size, "%s%s%s%s%s%s%s", kind, name[0] ? ":" : "", name, service[0] ? "/" : "",
		 service, rhost[0] ? "@" : "", rhost);
}

static void changed_text(json_t *changed, char *out, size_t size)
{
	size_t i, used = 0;
	json_t *v;

	out[0] = '\0';
	json_array_foreach(changed, i, v)
	{
		int n = snprintf(out + used, size - used, "%s%s", i ? "," : "",
				 json_string_value(v) ? json_string_value(v) : "?");

		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

static int change_row(json_t *e, struct pwbadm_table *t)
{
	char when[32], seq[24], actor[512], entity[160], name[128], changed[512];
	const char *row[6] = {when, seq, actor, str(e, "op"), entity, changed};

	local_time(json_integer_value(json_object_get(e, "time")), when);
	snprintf(seq, sizeof(seq), "%lld",
		 (long long)json_integer_value(json_object_get(e, "seq")));
	actor_text(json_object_get(e, "actor"), actor, sizeof(actor));
	pwb_names_escape(str(e, "name")[0] ? str(e, "name") : str(e, "id"), name, sizeof(name));
	snprintf(entity, sizeof(entity), "%s %s", pwb_change_kind_name(str(e, "kind")[0]), name);
	changed_text(json_object_get(e, "changed"), changed, sizeof(changed));
	if (!changed[0])
		strcpy(changed, "-"); /* a create, a delete: no attribute list */
	return pwbadm_table_add(t, row);
}

static const char *const headers[6] = {"TIME", "SEQ", "ACTOR", "OP", "WHAT", "CHANGED"};

/* ---- reading and printing ---- */

static int collect_one(json_t *e, void *ctx)
{
	return json_array_append(ctx, e) < 0 ? -ENOMEM : 0;
}

int pwbadm_changes_read(struct pwbadm *adm, json_t *args, size_t limit, json_t **out,
			struct pwb_error *err)
{
	json_t *entries = json_array();
	size_t n, i;
	int rc;

	*out = NULL;
	/* the newest N: read backwards, then turned around */
	if (!entries || !args || (limit && json_object_set_new(args, "reverse", json_true()) < 0)) {
		json_decref(entries);
		json_decref(args);
		return pwb_error_set(err, -ENOMEM, "out of memory");
	}
	rc = pwbadm_changes_foreach(adm, args, limit, collect_one, entries, err);
	if (rc) {
		json_decref(entries);
		return rc;
	}
	n = json_array_size(entries);
	for (i = 0; limit && i < n / 2; i++) {
		json_t *x = json_incref(json_array_get(entries, i));

		json_array_set(entries, i, json_array_get(entries, n - 1 - i));
		json_array_set_new(entries, n - 1 - i, x);
	}
	*out = entries;
	return 0;
}

/* Where entries go: aligned rows (printed at the end, once every width is
 * known) or JSON, streamed, so a long log is never held whole as JSON. */
struct sink {
	bool json;
	size_t count;
	struct pwbadm_table table;
};

static void sink_init(struct sink *k, bool json)
{
	k->json = json;
	k->count = 0;
	pwbadm_table_init(&k->table, 6, headers);
}

static int sink_one(json_t *e, void *ctx)
{
	struct sink *k = ctx;
	_cleanup_free_ char *line = NULL;

	if (!k->json)
		return change_row(e, &k->table);
	if (!(line = json_dumps(e, JSON_COMPACT)))
		return -ENOMEM;
	return printf("%s\n%s", k->count++ ? "," : "[", line) < 0 ? -EIO : 0;
}

/* Prints what is left and frees the sink. */
static int sink_end(struct sink *k)
{
	int rc = 0;

	if (k->json && fputs(k->count ? "\n]\n" : "[]\n", stdout) < 0)
		rc = -EIO;
	if (!k->json)
		rc = pwbadm_table_print(&k->table, stdout);
	pwbadm_table_free(&k->table);
	return rc == 0 && fflush(stdout) == 0 ? 0 : -EIO;
}

static int sink_all(struct sink *k, json_t *entries)
{
	size_t i;
	json_t *e;
	int rc = 0;

	json_array_foreach(entries, i, e)
	{
		if ((rc = sink_one(e, k)) < 0)
			break;
	}
	return sink_end(k) ?: rc;
}

int pwbadm_changes_print(json_t *entries)
{
	struct sink k;

	sink_init(&k, false);
	return sink_all(&k, entries);
}

/* ---- pwbadm log ---- */

static int date_arg(const struct pwbadm_args *a, int opt, const char *label, json_t *args,
		    const char *key)
{
	const char *s = pwbadm_opt_arg(a, opt);
	int64_t t;

	if (!s)
		return 0;
	if (pwbadm_date_parse(s, (int64_t)time(NULL), &t) < 0 || t < 0)
		return pwbadm_usage(a->command,
				    "%s: not a date (YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM], or 7d, "
				    "12h, ...): \"%.40s\"",
				    label, s);
	json_object_set_new(args, key, json_integer(t));
	return 0;
}

static int log_args(struct pwbadm *adm, const struct pwbadm_args *a, json_t *args, size_t *limit)
{
	const char *user = pwbadm_opt_arg(a, 'u'), *group = pwbadm_opt_arg(a, 'g');
	const char *actor = pwbadm_opt_arg(a, 'a'), *n = pwbadm_opt_arg(a, 'n');
	char name[PWB_NAME_MAX + 1];
	uint32_t v;

	if (user) {
		if (pwbadm_user_arg(adm, a->command, user, name))
			return PWBADM_EXIT_USAGE;
		json_object_set_new(args, "user", json_string(name));
	}
	if (group) {
		if (!pwb_names_is_valid(group))
			return pwbadm_usage(a->command, "--group: not a group name");
		json_object_set_new(args, "group", json_string(group));
	}
	if (actor) {
		if (!*actor || strlen(actor) >= PWB_ACTOR_FIELD)
			return pwbadm_usage(a->command, "--actor: a kind or a name");
		json_object_set_new(args, "actor", json_string(actor));
	}
	if (n) {
		if (pwb_parse_u32(n, 1, 1000000, &v) < 0)
			return pwbadm_usage(a->command, "--limit: 1 to 1000000");
		*limit = v;
	}
	if (date_arg(a, 's', "--since", args, "since") ||
	    date_arg(a, 'U', "--until", args, "until"))
		return PWBADM_EXIT_USAGE;
	return 0;
}

int pwbadm_log(struct pwbadm *adm, const struct pwbadm_args *a)
{
	_cleanup_json_ json_t *entries = NULL;
	json_t *args = json_object();
	struct pwb_error err = {0};
	struct sink k;
	size_t limit = 0;
	int rc;

	if (!args)
		return pwbadm_fail("out of memory");
	if ((rc = log_args(adm, a, args, &limit))) {
		json_decref(args);
		return rc;
	}
	sink_init(&k, a->json);
	/* the newest N are read backwards and turned around; everything else
	 * goes out as it arrives */
	rc = limit ? pwbadm_changes_read(adm, args, limit, &entries, &err)
		   : pwbadm_changes_foreach(adm, args, 0, sink_one, &k, &err);
	if (rc) {
		pwbadm_table_free(&k.table);
		return pwbadm_call_fail(rc, &err, "cannot read the change log");
	}
	pwbadm_replica_note(adm);
	rc = entries ? sink_all(&k, entries) : sink_end(&k);
	return rc < 0 ? pwbadm_fail("cannot write the change log") : PWBADM_EXIT_OK;
}
