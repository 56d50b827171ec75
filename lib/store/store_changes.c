/* The change log's rules: what an entry holds (encoded as JSON; the
 * backend keeps bytes), its syslog copy, the public reader API and the
 * audit trail's search, the per-reader cursors and retention, export and
 * restore, and the format 2 -> 3 conversion. Every change the rule files
 * make goes through pwb_change_append, inside the writer's transaction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "log.h"
#include "names.h"
#include "internal/store_internal.h"
#include "util.h"

#define CURSOR_PREFIX	"cursor."
#define SECONDS_PER_DAY 86400

int64_t (*pwb_change_clock)(void);

static int64_t change_now(void)
{
	return pwb_change_clock ? pwb_change_clock() : pwb_now();
}

void pwb_change_init(struct pwb_change_entry *e, char kind, const char *op, const char *id,
		     const char *name, unsigned what)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	snprintf(e->op, sizeof(e->op), "%s", op);
	snprintf(e->id, sizeof(e->id), "%s", id ? id : "");
	snprintf(e->name, sizeof(e->name), "%s", name ? name : "");
	e->what = (unsigned char)what;
}

int pwb_change_note(struct pwb_change_entry *e, const char *attr)
{
	if (!e->changed && !(e->changed = json_array()))
		return -ENOMEM;
	return json_array_append_new(e->changed, json_string(attr)) < 0 ? -ENOMEM : 0;
}

static int set_str(json_t *o, const char *key, const char *val)
{
	if (!val || !*val)
		return 0;
	return json_object_set_new(o, key, json_string(val));
}

static int set_int(json_t *o, const char *key, json_int_t val)
{
	if (!val)
		return 0;
	return json_object_set_new(o, key, json_integer(val));
}

static json_t *encode_actor(const struct pwb_actor *a)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (set_str(o, "kind", a->kind[0] ? a->kind : "pwbd") < 0 ||
	    set_str(o, "name", a->name) < 0 || set_str(o, "service", a->service) < 0 ||
	    set_str(o, "rhost", a->rhost) < 0 || set_int(o, "uid", a->uid) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *encode_entry(const struct pwb_change_entry *e)
{
	char kind[2] = {e->kind, '\0'};
	json_t *o = json_object(), *actor = encode_actor(&e->actor);
	int r = o && actor ? 0 : -1;

	if (r == 0)
		r = json_object_set_new(o, "actor", actor);
	else
		json_decref(actor);
	actor = NULL;
	if (r == 0)
		r = json_object_set_new(o, "time", json_integer(e->time));
	if (r == 0)
		r = set_str(o, "request", e->request_id);
	if (r == 0)
		r = set_str(o, "kind", kind);
	if (r == 0)
		r = set_str(o, "op", e->op);
	if (r == 0)
		r = set_str(o, "id", e->id);
	if (r == 0)
		r = set_str(o, "name", e->name);
	if (r == 0 && e->changed)
		r = json_object_set(o, "changed", e->changed);
	if (r == 0)
		r = set_int(o, "what", e->what);
	if (r == 0)
		r = set_str(o, "old_name", e->old_name);
	if (r == 0)
		r = set_int(o, "old_num", e->old_num);
	if (r == 0)
		r = set_int(o, "old_gid", e->old_gid);
	if (r == 0 && e->old_private)
		r = json_object_set_new(o, "old_private", json_true());
	if (r < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void copy_str(char *dst, size_t size, json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	snprintf(dst, size, "%s", v ? v : "");
}

static uint32_t get_u32(json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 && v <= UINT32_MAX ? (uint32_t)v : 0;
}

/* Fills e (which owns e->changed afterwards) from a stored entry. */
static int decode_entry(uint64_t seq, const void *rec, size_t len, struct pwb_change_entry *e,
			struct pwb_error *err)
{
	json_t *o = json_loadb(rec, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *a = json_object_get(o, "actor"), *changed;
	char kind[2];

	memset(e, 0, sizeof(*e));
	if (!json_is_object(o)) {
		json_decref(o);
		return pwb_error_set(err, PWB_ESTORE, "change %llu is damaged",
				     (unsigned long long)seq);
	}
	e->seq = seq;
	e->time = json_integer_value(json_object_get(o, "time"));
	copy_str(e->actor.kind, sizeof(e->actor.kind), a, "kind");
	copy_str(e->actor.name, sizeof(e->actor.name), a, "name");
	copy_str(e->actor.service, sizeof(e->actor.service), a, "service");
	copy_str(e->actor.rhost, sizeof(e->actor.rhost), a, "rhost");
	e->actor.uid = get_u32(a, "uid");
	copy_str(e->request_id, sizeof(e->request_id), o, "request");
	copy_str(kind, sizeof(kind), o, "kind");
	e->kind = kind[0];
	copy_str(e->op, sizeof(e->op), o, "op");
	copy_str(e->id, sizeof(e->id), o, "id");
	copy_str(e->name, sizeof(e->name), o, "name");
	changed = json_object_get(o, "changed");
	if (json_is_array(changed))
		e->changed = json_incref(changed);
	e->what = (unsigned char)get_u32(o, "what");
	copy_str(e->old_name, sizeof(e->old_name), o, "old_name");
	e->old_num = get_u32(o, "old_num");
	e->old_gid = get_u32(o, "old_gid");
	e->old_private = json_is_true(json_object_get(o, "old_private"));
	json_decref(o);
	return 0;
}

/* ---- the syslog copy ---- */

const char *pwb_change_kind_name(char kind)
{
	switch (kind) {
	case 'u':
		return "user";
	case 'g':
		return "group";
	case 't':
		return "token";
	case 'm':
		return "groupmap";
	default:
		return "store";
	}
}

/* "pwb change 42: user alice update (gecos, email) by scim okta from
 * 192.0.2.1 uid 998, request r1": every outside string escaped. */
static char *audit_line(const struct pwb_change_entry *e)
{
	char kind[sizeof(e->actor.kind)], name[PWB_ACTOR_FIELD], service[PWB_ACTOR_FIELD];
	char rhost[PWB_ACTOR_FIELD], what[PWB_NAME_MAX + PWB_TOKEN_NAME_MAX + 2];
	char request[sizeof(e->request_id)], changed[512] = "", *line = NULL;
	json_t *a;
	size_t i, used = 0;

	pwb_names_escape(e->actor.kind, kind, sizeof(kind));
	pwb_names_escape(e->actor.name, name, sizeof(name));
	pwb_names_escape(e->actor.service, service, sizeof(service));
	pwb_names_escape(e->actor.rhost, rhost, sizeof(rhost));
	pwb_names_escape(e->name[0] ? e->name : e->id, what, sizeof(what));
	pwb_names_escape(e->request_id, request, sizeof(request));
	/* attribute names, never values; a list too long is cut */
	json_array_foreach(e->changed, i, a)
	{
		int n = snprintf(changed + used, sizeof(changed) - used, "%s%s", i ? ", " : "",
				 json_string_value(a) ? json_string_value(a) : "?");

		if (n < 0 || (size_t)n >= sizeof(changed) - used)
			break;
		used += (size_t)n;
	}
	if (asprintf(&line, "pwb change %llu: %s %s %s%s%s%s by %s%s%s%s%s%s%s uid %u%s%s",
		     (unsigned long long)e->seq, pwb_change_kind_name(e->kind),
		     what[0] ? what : "-", e->op, used ? " (" : "", changed, used ? ")" : "", kind,
		     name[0] ? " " : "", name, service[0] ? " service " : "", service,
		     rhost[0] ? " from " : "", rhost, (unsigned)e->actor.uid,
		     request[0] ? ", request " : "", request) < 0)
		return NULL;
	return line;
}

/* Keeps the line for after the commit: a body that runs again after a
 * conflict must not have logged its first attempt. */
static void audit_keep(struct pwb_txn *txn, const struct pwb_change_entry *e)
{
	char **grown, *line = audit_line(e);

	if (!line)
		return;
	grown = realloc(txn->lines, (txn->nlines + 1) * sizeof(*grown));
	if (!grown) {
		free(line);
		return;
	}
	grown[txn->nlines++] = line;
	txn->lines = grown;
}

void pwb_change_txn_end(struct pwb_txn *txn, bool committed)
{
	size_t i;

	for (i = 0; i < txn->nlines; i++) {
		if (committed)
			pwb_log(LOG_NOTICE, "%s", txn->lines[i]);
		free(txn->lines[i]);
	}
	free(txn->lines);
	txn->lines = NULL;
	txn->nlines = 0;
}

/* Stores e (its time, actor and request already set) under the next
 * sequence; index: request_id goes into the request index. */
static int append_entry(struct pwb_txn *txn, struct pwb_change_entry *e, const char *index,
			struct pwb_error *err)
{
	json_t *o = encode_entry(e);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int r;

	json_decref(o);
	if (!text)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	r = pwb_be_change_append(txn, text, strlen(text), index, &e->seq, err);
	free(text);
	if (r < 0)
		return r;
	txn->changed = true;
	txn->last_seq = e->seq;
	return 0;
}

int pwb_change_append(struct pwb_txn *txn, struct pwb_change_entry *e, struct pwb_error *err)
{
	struct pwb_store *st = txn->st;
	int r;

	e->time = change_now();
	e->actor = st->actor;
	if (!e->actor.kind[0])
		snprintf(e->actor.kind, sizeof(e->actor.kind), "pwbd");
	snprintf(e->request_id, sizeof(e->request_id), "%s", st->request_id);
	/* A delete names what it removed: the audit trail finds it by name. */
	if (!e->name[0] && e->old_name[0])
		memcpy(e->name, e->old_name, sizeof(e->name));
	r = append_entry(txn, e, st->request_id, err);
	if (r == 0)
		audit_keep(txn, e);
	json_decref(e->changed);
	e->changed = NULL;
	return r;
}

/* ---- reading ---- */

struct foreach_ctx {
	pwb_change_cb cb;
	void *ctx;
};

static int foreach_one(uint64_t seq, const void *rec, size_t len, void *ctx, struct pwb_error *err)
{
	struct foreach_ctx *f = ctx;
	struct pwb_change_entry e;
	int r = decode_entry(seq, rec, len, &e, err);

	if (r < 0)
		return r;
	r = f->cb(&e, f->ctx);
	json_decref(e.changed);
	return r;
}

int pwb_change_foreach(struct pwb_txn *txn, uint64_t after, size_t limit, pwb_change_cb cb,
		       void *ctx, uint64_t *last, struct pwb_error *err)
{
	struct foreach_ctx f = {cb, ctx};
	int r;

	if (last && (r = pwb_be_change_last(txn, last, err)) < 0)
		return r;
	return pwb_be_change_foreach(txn, after, limit, foreach_one, &f, err);
}

int pwb_change_first_seq(struct pwb_txn *txn, uint64_t *first, struct pwb_error *err)
{
	return pwb_be_change_first(txn, first, err);
}

int pwb_change_by_request(struct pwb_txn *txn, const char *request_id, uint64_t *seq,
			  struct pwb_error *err)
{
	return pwb_be_change_by_request(txn, request_id, seq, err);
}

uint64_t pwb_change_last_seq(struct pwb_txn *txn)
{
	uint64_t seq = 0;

	return pwb_be_change_last(txn, &seq, NULL) < 0 ? 0 : seq;
}

uint64_t pwb_store_change_seq(struct pwb_txn *txn)
{
	return pwb_change_last_seq(txn);
}

/* ---- the audit trail ---- */

#define IDS_TRACKED 16 /* ids that held a filtered name (renames, re-creates) */

struct search {
	const struct pwb_change_filter *f;
	struct pwb_txn *txn;
	pwb_change_cb cb;
	void *ctx;
	size_t limit, found, scan_max, scanned;
	bool back;
	uint64_t next;
	char ids[IDS_TRACKED][PWB_TOKEN_NAME_MAX + 1];
	size_t id_count;
};

static bool id_tracked(const struct search *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->id_count; i++)
		if (strcmp(s->ids[i], id) == 0)
			return true;
	return false;
}

static void id_track(struct search *s, const char *id)
{
	if (*id && !id_tracked(s, id) && s->id_count < IDS_TRACKED)
		snprintf(s->ids[s->id_count++], sizeof(s->ids[0]), "%s", id);
}

/* Whether e is of the user (kind 'u') or group (kind 'g') named name. */
static bool entity_matches(struct search *s, const struct pwb_change_entry *e, char kind,
			   const char *name)
{
	if (e->kind != kind)
		return false;
	if (strcmp(e->name, name) == 0 || strcmp(e->old_name, name) == 0) {
		id_track(s, e->id);
		return true;
	}
	return id_tracked(s, e->id);
}

static bool entry_matches(struct search *s, const struct pwb_change_entry *e)
{
	const struct pwb_change_filter *f = s->f;

	if ((f->since && e->time < f->since) || (f->until && e->time >= f->until))
		return false;
	if (f->actor && strcmp(e->actor.kind, f->actor) != 0 &&
	    strcmp(e->actor.name, f->actor) != 0)
		return false;
	if (f->user || f->group)
		return (f->user && entity_matches(s, e, 'u', f->user)) ||
		       (f->group && entity_matches(s, e, 'g', f->group));
	return true;
}

/* A membership entry names only the id: the record's name, if it exists. */
static void fill_name(struct pwb_txn *txn, struct pwb_change_entry *e)
{
	struct pwb_user u = {0};
	struct pwb_group g = {0};

	if (e->name[0] || (e->kind != 'u' && e->kind != 'g'))
		return;
	if (e->kind == 'u' && pwb_user_get(txn, e->id, &u, NULL) == 0)
		snprintf(e->name, sizeof(e->name), "%s", u.name);
	if (e->kind == 'g' && pwb_group_get(txn, e->id, &g, NULL) == 0)
		snprintf(e->name, sizeof(e->name), "%s", g.name);
	pwb_user_clear(&u);
	pwb_group_clear(&g);
}

static int search_one(uint64_t seq, const void *rec, size_t len, void *ctx, struct pwb_error *err)
{
	struct search *s = ctx;
	struct pwb_change_entry e;
	int r;

	if (s->scan_max && s->scanned == s->scan_max) {
		s->next = s->back ? seq + 1 : seq - 1; /* seq itself is still to read */
		return 1;
	}
	s->scanned++;
	if ((r = decode_entry(seq, rec, len, &e, err)) < 0)
		return r;
	if (!e.name[0] && e.old_name[0] && strcmp(e.op, "delete") == 0)
		memcpy(e.name, e.old_name, sizeof(e.name)); /* written before names were kept */
	r = 0;
	if (entry_matches(s, &e)) {
		fill_name(s->txn, &e);
		r = s->cb(&e, s->ctx);
		if (r == 0 && s->limit && ++s->found == s->limit) {
			s->next = seq;
			r = 1;
		}
	}
	json_decref(e.changed);
	return r;
}

/* Seeds the ids of what holds the filtered names today. */
static void seed_ids(struct search *s, enum pwb_dbi dbi, const char *name)
{
	char *id = NULL;

	if (name && pwb_kv_get(s->txn, dbi, name, strlen(name), &id, NULL, false, NULL) == 0)
		id_track(s, id);
	free(id);
}

int pwb_change_search(struct pwb_txn *txn, const struct pwb_change_filter *f, uint64_t from,
		      bool back, size_t limit, size_t scan_max, pwb_change_cb cb, void *ctx,
		      uint64_t *next, struct pwb_error *err)
{
	struct search s = {.f = f,
			   .txn = txn,
			   .cb = cb,
			   .ctx = ctx,
			   .limit = limit,
			   .scan_max = scan_max,
			   .back = back};
	int r;

	seed_ids(&s, DBI_USER_NAME, f->user);
	seed_ids(&s, DBI_GROUP_NAME, f->group);
	r = back ? pwb_be_change_foreach_back(txn, from, 0, search_one, &s, err)
		 : pwb_be_change_foreach(txn, from, 0, search_one, &s, err);
	*next = s.next;
	return r < 0 ? r : 0;
}

json_t *pwb_change_to_json(const struct pwb_change_entry *e)
{
	char kind[2] = {e->kind, '\0'};

	return json_pack("{s:I, s:I, s:{s:s, s:s, s:s, s:s, s:I}, s:s, s:s, s:s, s:s, s:s, s:O?}",
			 "seq", (json_int_t)e->seq, "time", (json_int_t)e->time, "actor", "kind",
			 e->actor.kind, "name", e->actor.name, "service", e->actor.service, "rhost",
			 e->actor.rhost, "uid", (json_int_t)e->actor.uid, "requestId",
			 e->request_id, "kind", kind, "op", e->op, "id", e->id, "name", e->name,
			 "changed", e->changed);
}

/* ---- restore (import) ---- */

/* An operation or attribute name: shown as it is, so letters, digits and
 * "_.:-" only. */
static bool word_ok(const char *s, size_t max)
{
	size_t len = strlen(s);

	return len > 0 && len <= max &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") ==
		   len;
}

static int restore_str(json_t *o, const char *key, char *dst, size_t size, bool required,
		       struct pwb_error *err)
{
	json_t *v = json_object_get(o, key);

	if (!v && !required)
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= size ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return pwb_error_set(err, PWB_EINVAL,
				     "change field %s: not a string of at most %zu bytes", key,
				     size - 1);
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int restore_keys(json_t *o, const char *const *keys, const char *what, struct pwb_error *err)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(o, key, v)
	{
		for (i = 0; keys[i] && strcmp(keys[i], key) != 0; i++)
			;
		if (!keys[i])
			return pwb_error_set(err, PWB_EINVAL, "%s: unknown field \"%s\"", what,
					     key);
	}
	return 0;
}

static int restore_actor(json_t *a, struct pwb_actor *actor, struct pwb_error *err)
{
	static const char *const keys[] = {"kind", "name", "service", "rhost", "uid", NULL};
	json_t *uid = json_object_get(a, "uid");
	int r;

	if (!json_is_object(a))
		return pwb_error_set(err, PWB_EINVAL, "change field actor: not an object");
	if ((r = restore_keys(a, keys, "change actor", err)) < 0 ||
	    (r = restore_str(a, "kind", actor->kind, sizeof(actor->kind), true, err)) < 0 ||
	    (r = restore_str(a, "name", actor->name, sizeof(actor->name), false, err)) < 0 ||
	    (r = restore_str(a, "service", actor->service, sizeof(actor->service), false, err)) <
		0 ||
	    (r = restore_str(a, "rhost", actor->rhost, sizeof(actor->rhost), false, err)) < 0)
		return r;
	if (uid && (!json_is_integer(uid) || json_integer_value(uid) < 0 ||
		    json_integer_value(uid) > UINT32_MAX))
		return pwb_error_set(err, PWB_EINVAL, "change actor field uid: not a uid");
	actor->uid = (uint32_t)json_integer_value(uid);
	return 0;
}

int pwb_change_restore(struct pwb_txn *txn, json_t *o, bool *restored, struct pwb_error *err)
{
	static const char *const keys[] = {"type", "seq", "time", "actor",   "requestId", "kind",
					   "op",   "id",  "name", "changed", NULL};
	json_t *time = json_object_get(o, "time"), *changed = json_object_get(o, "changed"), *v;
	json_t *seq = json_object_get(o, "seq");
	struct pwb_change_entry e;
	char kind[2] = "", *text;
	uint64_t last;
	size_t i;
	int r;

	memset(&e, 0, sizeof(e));
	*restored = false;
	if ((r = restore_keys(o, keys, "change", err)) < 0)
		return r;
	if (!json_is_integer(seq) || json_integer_value(seq) < 1)
		return pwb_error_set(err, PWB_EINVAL, "change field seq: not a sequence number");
	e.seq = (uint64_t)json_integer_value(seq);
	if (!json_is_integer(time) || json_integer_value(time) < 0)
		return pwb_error_set(err, PWB_EINVAL, "change field time: not unix seconds");
	if (json_is_null(changed))
		changed = NULL; /* as store.changes writes "none" */
	if (changed && !json_is_array(changed))
		return pwb_error_set(err, PWB_EINVAL, "change field changed: not a list");
	json_array_foreach(changed, i, v)
	{
		if (!json_is_string(v) || !word_ok(json_string_value(v), PWB_NAME_MAX))
			return pwb_error_set(err, PWB_EINVAL,
					     "change field changed: not a list of attribute names");
	}
	if ((r = restore_actor(json_object_get(o, "actor"), &e.actor, err)) < 0 ||
	    (r = restore_str(o, "requestId", e.request_id, sizeof(e.request_id), false, err)) < 0 ||
	    (r = restore_str(o, "kind", kind, sizeof(kind), true, err)) < 0 ||
	    (r = restore_str(o, "op", e.op, sizeof(e.op), true, err)) < 0 ||
	    (r = restore_str(o, "id", e.id, sizeof(e.id), false, err)) < 0 ||
	    (r = restore_str(o, "name", e.name, sizeof(e.name), false, err)) < 0)
		return r;
	if (!word_ok(e.op, sizeof(e.op) - 1))
		return pwb_error_set(err, PWB_EINVAL, "change field op: not an operation name");
	if (!strchr("ugtms", kind[0]) || !kind[0])
		return pwb_error_set(err, PWB_EINVAL, "change field kind: not u, g, t, m or s");
	e.kind = kind[0];
	e.time = json_integer_value(time);
	e.changed = changed; /* borrowed: the encoder copies it */
	/* The store has this sequence already: the same history imported
	 * before, or its own. */
	if ((r = pwb_be_change_last(txn, &last, err)) < 0)
		return r;
	if (e.seq <= last)
		return 0;
	/* History only: no publisher hints, no request index, no syslog line
	 * (it was logged when it happened). */
	o = encode_entry(&e);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	r = pwb_be_change_put(txn, e.seq, text, strlen(text), err);
	free(text);
	if (r == 0) {
		txn->changed = true;
		txn->last_seq = e.seq;
		*restored = true;
	}
	return r;
}

int pwb_change_log_import(struct pwb_txn *txn, size_t restored, struct pwb_error *err)
{
	struct pwb_change_entry e;

	if (!restored)
		return 0;
	pwb_change_init(&e, 's', "import", "", "", 0);
	if (pwb_change_note(&e, "changes") < 0)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return pwb_change_append(txn, &e, err);
}

/* ---- cursors and retention ---- */

static bool reader_name_ok(const char *reader)
{
	size_t i, len = reader ? strlen(reader) : 0;

	if (len == 0 || len > 32)
		return false;
	for (i = 0; i < len; i++)
		if (!((reader[i] >= 'a' && reader[i] <= 'z') || reader[i] == '-'))
			return false;
	return true;
}

struct min_cursor {
	uint64_t min;
	bool any;
};

static int min_cursor_one(const void *key, size_t klen, const void *val, size_t vlen, void *ctx,
			  struct pwb_error *err)
{
	struct min_cursor *m = ctx;
	char buf[24];
	int64_t v;

	if (klen <= strlen(CURSOR_PREFIX) || memcmp(key, CURSOR_PREFIX, strlen(CURSOR_PREFIX)) != 0)
		return 0;
	if (vlen == 0 || vlen >= sizeof(buf))
		return 0;
	memcpy(buf, val, vlen);
	buf[vlen] = '\0';
	if (pwb_parse_i64(buf, &v) < 0 || v < 0)
		return 0;
	if (!m->any || (uint64_t)v < m->min)
		m->min = (uint64_t)v;
	m->any = true;
	return 0;
}

struct trim_scan {
	uint64_t upto;	   /* entries <= upto may go */
	uint64_t by_count; /* entries <= by_count are beyond the entry limit */
	int64_t cutoff;	   /* entries older than this are beyond the age limit */
	uint64_t max;	   /* the slowest cursor */
};

static int trim_scan_one(uint64_t seq, const void *rec, size_t len, void *ctx,
			 struct pwb_error *err)
{
	struct trim_scan *t = ctx;
	struct pwb_change_entry e;
	bool old;

	if (seq > t->max)
		return 1;
	if (seq > t->by_count) {
		if (decode_entry(seq, rec, len, &e, NULL) < 0)
			return 1;
		json_decref(e.changed);
		old = e.time < t->cutoff;
		if (!old)
			return 1; /* in order: what follows is as recent */
	}
	t->upto = seq;
	return 0;
}

struct cursor_set {
	const char *reader;
	uint64_t seq;
};

static int cursor_set_fn(struct pwb_txn *txn, void *ctx, struct pwb_error *err)
{
	const struct pwb_config *cfg = txn->st->cfg;
	struct cursor_set *c = ctx;
	struct min_cursor m = {0};
	struct trim_scan t = {0};
	char key[64];
	uint64_t last;
	int r;

	snprintf(key, sizeof(key), "%s%s", CURSOR_PREFIX, c->reader);
	if ((r = pwb_be_change_last(txn, &last, err)) < 0)
		return r;
	if (c->seq > last)
		return pwb_error_set(err, PWB_EINVAL,
				     "cursor %s: %llu is past the last change (%llu)", c->reader,
				     (unsigned long long)c->seq, (unsigned long long)last);
	if ((r = pwb_be_counter_set(txn, key, c->seq, err)) < 0 ||
	    (r = pwb_kv_foreach(txn, DBI_META, min_cursor_one, &m, err)) < 0)
		return r;
	t.max = m.min;
	t.cutoff = change_now() - (int64_t)cfg->change_log_retention_days * SECONDS_PER_DAY;
	t.by_count =
	    last > cfg->change_log_retention_entries ? last - cfg->change_log_retention_entries : 0;
	r = pwb_be_change_foreach(txn, 0, 0, trim_scan_one, &t, err);
	if (r < 0)
		return r;
	return t.upto ? pwb_be_change_trim(txn, t.upto, err) : 0;
}

int pwb_store_cursor_set(struct pwb_store *st, const char *reader, uint64_t seq,
			 struct pwb_error *err)
{
	struct cursor_set c = {reader, seq};

	if (!reader_name_ok(reader))
		return pwb_error_set(err, PWB_EINVAL, "invalid change-log reader name");
	return pwb_store_write_local(st, cursor_set_fn, &c, err);
}

/* ---- format 2 -> 3 ---- */

/* A format 2 entry: the publisher's hints only, as a raw struct (the
 * layout of struct pwb_change above, which has not changed since). */
struct upgrade_walk {
	struct pwb_txn *txn;
	uint64_t converted, dropped;
};

static int upgrade_one(uint64_t seq, const void *rec, size_t len, void *ctx, struct pwb_error *err)
{
	struct upgrade_walk *w = ctx;
	struct pwb_change old;
	struct pwb_change_entry e;
	json_t *o;
	char *text;
	int r;

	if (len > 0 && *(const char *)rec == '{')
		return 0; /* already an entry */
	memset(&old, 0, sizeof(old));
	if (len == sizeof(old))
		memcpy(&old, rec, len);
	if (len != sizeof(old) || (old.kind != 'u' && old.kind != 'g') ||
	    memchr(old.id, '\0', sizeof(old.id)) == NULL ||
	    memchr(old.old_name, '\0', sizeof(old.old_name)) == NULL) {
		/* Unreadable: kept as an entry that names no entity, so the
		 * sequence stays gap-free; a full publish (pwbadm rebuild-nss,
		 * which the warning below asks for) covers what it named. */
		w->dropped++;
		pwb_change_init(&e, 's', "upgrade", "", "", 0);
	} else {
		w->converted++;
		pwb_change_init(&e, old.kind, "update", old.id, "", old.what);
		memcpy(e.old_name, old.old_name, sizeof(e.old_name));
		e.old_num = old.old_num;
		e.old_gid = old.old_gid;
		e.old_private = old.old_private;
	}
	e.seq = seq;
	e.time = change_now();
	snprintf(e.actor.kind, sizeof(e.actor.kind), "pwbd");
	o = encode_entry(&e);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	r = pwb_be_change_replace(w->txn, seq, text, strlen(text), err);
	free(text);
	return r;
}

/* Converts every entry in place (same sequences), and starts the
 * publisher's cursor at 0: nothing is trimmed before it has read. */
int pwb_change_upgrade(struct pwb_txn *txn, struct pwb_error *err)
{
	struct upgrade_walk w = {txn, 0, 0};
	int r;

	r = pwb_be_change_foreach(txn, 0, 0, upgrade_one, &w, err);
	if (r == 0)
		r = pwb_be_counter_set(txn, CURSOR_PREFIX "publish", 0, err);
	if (r == 0 && w.dropped)
		pwb_log(LOG_WARNING,
			"pwb store: %llu change entries could not be converted; run pwbadm "
			"rebuild-nss",
			(unsigned long long)w.dropped);
	return r;
}
