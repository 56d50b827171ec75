/* The change log's rules: what an entry holds (encoded as JSON; the
 * backend keeps bytes), the public reader API, the per-reader cursors and
 * retention, and the format 2 -> 3 conversion. Every change the rule files
 * make goes through pwb_change_append, inside the writer's transaction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "log.h"
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

int pwb_change_append(struct pwb_txn *txn, struct pwb_change_entry *e, struct pwb_error *err)
{
	struct pwb_store *st = txn->st;
	json_t *o;
	char *text;
	int r;

	e->time = change_now();
	e->actor = st->actor;
	if (!e->actor.kind[0])
		snprintf(e->actor.kind, sizeof(e->actor.kind), "pwbd");
	snprintf(e->request_id, sizeof(e->request_id), "%s", st->request_id);
	o = encode_entry(e);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	json_decref(e->changed);
	e->changed = NULL;
	if (!text)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	r = pwb_be_change_append(txn, text, strlen(text), st->request_id, &e->seq, err);
	free(text);
	if (r < 0)
		return r;
	txn->changed = true;
	txn->last_seq = e->seq;
	return 0;
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
	return pwb_store_write(st, cursor_set_fn, &c, err);
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
