/* The checks nss_pwb applies to every snapshot value it serves (trust.h):
 * loaded once per generation, then a range compare and a binary search per
 * lookup, and a syslog line only the first time an entry is refused. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <syslog.h>
#include "cleanup.h"
#include "names.h"
#include "policy.h"
#include "snapshot.h"
#include "cache.h"
#include "trust.h"

static int compare_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The first n ':'-separated fields of s (s_len bytes), in one pass that
 * stops at the n-th colon: where each starts and how long it is. Returns
 * how many of them the line has (at most n). */
struct fields {
	size_t start[4], len[4];
};

static int split_fields(const char *s, size_t s_len, int n, struct fields *f)
{
	size_t begin = 0;
	int count = 0;

	for (size_t i = 0; i < s_len; i++) {
		if (s[i] != ':')
			continue;
		f->start[count] = begin;
		f->len[count++] = i - begin;
		begin = i + 1;
		if (count == n)
			return n;
	}
	if (count < n) {
		f->start[count] = begin;
		f->len[count++] = s_len - begin;
	}
	return count;
}

/* A decimal id of 1-10 digits below UINT32_MAX, as the map parsers take. */
static bool parse_id(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v >= UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool field_id(const char *s, const struct fields *f, int n, uint32_t *out)
{
	return parse_id(s + f->start[n], f->len[n], out);
}

static bool field_is(const char *s, const struct fields *f, int n, const char *want)
{
	return f->len[n] == strlen(want) && memcmp(s + f->start[n], want, f->len[n]) == 0;
}

/* Replaces field n of buf (found by split_fields) with repl, moving the
 * rest of the line. */
static int replace_field(char *buf, size_t *len, size_t buflen, const struct fields *f, int n,
			 const char *repl)
{
	size_t start = f->start[n], flen = f->len[n], rlen = strlen(repl), new_len;

	new_len = *len - flen + rlen;
	if (new_len + 1 > buflen)
		return -ERANGE;
	memmove(buf + start + rlen, buf + start + flen, *len - start - flen + 1);
	memcpy(buf + start, repl, rlen);
	*len = new_len;
	return 0;
}

/* The ids in the third field of each line of a passwd or group file that
 * lie in [lo1, hi1] or [lo2, hi2]: the others fail the range check before
 * the set is asked, so on most hosts the set is empty. */
static int load_ids(const char *path, uint32_t lo1, uint32_t hi1, uint32_t lo2, uint32_t hi2,
		    struct pwb_nss_ids *out)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	_cleanup_free_ uint32_t *ids = NULL;
	size_t cap = 0, n = 0, line_cap = 0;
	ssize_t line_len;
	uint32_t id;

	out->ids = NULL;
	out->n = 0;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while ((line_len = getline(&line, &line_cap, f)) > 0) {
		struct fields fl;

		/* comments, NIS "+" lines: no id to protect */
		if (split_fields(line, (size_t)line_len - (line[line_len - 1] == '\n'), 3, &fl) <
			3 ||
		    !field_id(line, &fl, 2, &id))
			continue;
		if ((id < lo1 || id > hi1) && (id < lo2 || id > hi2))
			continue;
		if (n == cap) {
			size_t new_cap = cap ? 2 * cap : 64;
			uint32_t *grown = realloc(ids, new_cap * sizeof(*ids));

			if (!grown)
				return -ENOMEM;
			ids = grown;
			cap = new_cap;
		}
		ids[n++] = id;
	}
	if (ferror(f))
		return -EIO;
	if (n)
		qsort(ids, n, sizeof(*ids), compare_id);
	out->ids = PWB_TAKE_PTR(ids);
	out->n = n;
	return 0;
}

int pwb_nss_trust_load(struct pwb_nss_trust *t, const struct pwb_nss_config *cfg,
		       const char *passwd_path, const char *group_path)
{
	int r;

	memset(t, 0, sizeof(*t));
	t->start_uid = cfg->start_uid;
	t->end_uid = cfg->end_uid;
	t->start_gid = cfg->start_gid;
	t->end_gid = cfg->end_gid;
	r = load_ids(passwd_path, t->start_uid, t->end_uid, t->start_uid, t->end_uid,
		     &t->local_uids);
	if (r == 0)
		r = load_ids(group_path, t->start_gid, t->end_gid, t->start_uid, t->end_uid,
			     &t->local_gids);
	if (r < 0)
		pwb_nss_trust_free(t);
	return r;
}

void pwb_nss_trust_free(struct pwb_nss_trust *t)
{
	free(t->local_uids.ids);
	free(t->local_gids.ids);
	memset(t, 0, sizeof(*t));
}

/* A binary search, written out: this runs on every lookup. */
static bool contains(const struct pwb_nss_ids *set, uint32_t id)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (set->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < set->n && set->ids[lo] == id;
}

const char *pwb_nss_trust_uid_problem(const struct pwb_nss_trust *t, uint32_t uid)
{
	if (uid < t->start_uid || uid > t->end_uid)
		return "outside the configured uid range";
	if (pwb_id_reserved(uid))
		return "reserved";
	if (contains(&t->local_uids, uid))
		return "owned by a local account";
	return NULL;
}

const char *pwb_nss_trust_gid_problem(const struct pwb_nss_trust *t, uint32_t gid)
{
	if ((gid < t->start_gid || gid > t->end_gid) && (gid < t->start_uid || gid > t->end_uid))
		return "outside the configured gid and uid ranges";
	if (pwb_id_reserved(gid))
		return "reserved";
	if (contains(&t->local_gids, gid))
		return "owned by a local group";
	return NULL;
}

static void (*log_sink)(const char *line);

void pwb_nss_trust_set_log_sink(void (*sink)(const char *line))
{
	log_sink = sink;
}

void pwb_nss_trust_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_sink)
		log_sink(line);
	else
		syslog(LOG_AUTHPRIV | LOG_WARNING, "%s", line);
}

static uint64_t key_hash(const char *key, size_t keylen)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */

	for (size_t i = 0; i < keylen; i++)
		h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
	return h;
}

/* Logs what happened to the entry under key, the first time this
 * generation; the key comes from the snapshot, so it is escaped. */
static void log_once(struct pwb_nss_trust *t, const char *key, size_t keylen, const char *what,
		     uint32_t id, const char *why)
{
	char raw[PWB_SNAPSHOT_KEY_MAX], shown[2 * PWB_SNAPSHOT_KEY_MAX];
	uint64_t h = key_hash(key, keylen);

	for (unsigned i = 0; i < t->n_logged; i++)
		if (t->logged[i] == h)
			return;
	if (t->n_logged == PWB_NSS_TRUST_LOG_MAX) {
		if (!t->log_full)
			pwb_nss_trust_log("nss_pwb: more untrusted snapshot entries in this "
					  "generation, not logged one by one");
		t->log_full = true;
		return;
	}
	t->logged[t->n_logged++] = h;
	if (keylen >= sizeof(raw))
		keylen = sizeof(raw) - 1;
	memcpy(raw, key, keylen);
	raw[keylen] = '\0';
	pwb_names_escape(raw, shown, sizeof(shown));
	if (why)
		pwb_nss_trust_log("nss_pwb: untrusted snapshot entry %s: %s %u is %s", shown, what,
				  id, why);
	else
		pwb_nss_trust_log("nss_pwb: untrusted snapshot entry %s: %s", shown, what);
}

/* passwd and group lines carry no password: whatever the snapshot holds
 * in field 1 is served as "x". */
static int serve_x_password(struct pwb_nss_trust *t, const char *key, size_t keylen, char *buf,
			    size_t *len, size_t buflen, struct fields *f)
{
	int r;

	if (field_is(buf, f, 1, "x"))
		return 0;
	r = replace_field(buf, len, buflen, f, 1, "x");
	if (r == 0)
		log_once(t, key, keylen, "password field served as \"x\"", 0, NULL);
	return r;
}

static int filter_passwd(struct pwb_nss_trust *t, const char *key, size_t keylen, char *buf,
			 size_t *len, size_t buflen)
{
	struct fields f;
	const char *why;
	uint32_t uid, gid;

	if (split_fields(buf, *len, 4, &f) < 4 || !field_id(buf, &f, 2, &uid) ||
	    !field_id(buf, &f, 3, &gid)) {
		log_once(t, key, keylen, "dropped: not a passwd line", 0, NULL);
		return PWB_ENOTFOUND;
	}
	if ((why = pwb_nss_trust_uid_problem(t, uid))) {
		log_once(t, key, keylen, "dropped: uid", uid, why);
		return PWB_ENOTFOUND;
	}
	if ((why = pwb_nss_trust_gid_problem(t, gid))) {
		log_once(t, key, keylen, "dropped: primary gid", gid, why);
		return PWB_ENOTFOUND;
	}
	return serve_x_password(t, key, keylen, buf, len, buflen, &f);
}

static int filter_group(struct pwb_nss_trust *t, const char *key, size_t keylen, char *buf,
			size_t *len, size_t buflen)
{
	struct fields f;
	const char *why;
	uint32_t gid;

	if (split_fields(buf, *len, 3, &f) < 3 || !field_id(buf, &f, 2, &gid)) {
		log_once(t, key, keylen, "dropped: not a group line", 0, NULL);
		return PWB_ENOTFOUND;
	}
	if ((why = pwb_nss_trust_gid_problem(t, gid))) {
		log_once(t, key, keylen, "dropped: gid", gid, why);
		return PWB_ENOTFOUND;
	}
	return serve_x_password(t, key, keylen, buf, len, buflen, &f);
}

/* Keeps the gids that may be served, in order, compacting the list in
 * place; logs the first one removed. */
static int filter_initgroups(struct pwb_nss_trust *t, const char *key, size_t keylen, char *buf,
			     size_t *len)
{
	size_t in = 0, out = 0, removed = 0;
	const char *first_why = NULL;
	uint32_t gid, first_gid = 0;
	char what[64];

	while (in < *len) {
		const char *comma = memchr(buf + in, ',', *len - in);
		size_t item = comma ? (size_t)(comma - (buf + in)) : *len - in;
		const char *why = "not a number";

		if (parse_id(buf + in, item, &gid))
			why = pwb_nss_trust_gid_problem(t, gid);
		else
			gid = 0;
		if (why) {
			if (!removed++) {
				first_why = why;
				first_gid = gid;
			}
		} else {
			if (out)
				buf[out++] = ',';
			memmove(buf + out, buf + in, item);
			out += item;
		}
		in += item + 1;
	}
	if (!removed)
		return 0;
	buf[out] = '\0';
	*len = out;
	snprintf(what, sizeof(what), "%zu of its gids removed, the first: gid", removed);
	log_once(t, key, keylen, what, first_gid, first_why);
	return out ? 0 : PWB_ENOTFOUND;
}

static int filter_shadow(struct pwb_nss_trust *t, const char *key, size_t keylen, char *buf,
			 size_t *len, size_t buflen)
{
	struct fields f;
	int r;

	if (split_fields(buf, *len, 2, &f) < 2) {
		log_once(t, key, keylen, "dropped: not a shadow line", 0, NULL);
		return PWB_ENOTFOUND;
	}
	if (field_is(buf, &f, 1, "*") || field_is(buf, &f, 1, "!*"))
		return 0;
	r = replace_field(buf, len, buflen, &f, 1, "!*");
	if (r == 0)
		log_once(t, key, keylen, "password served as \"!*\" (locked)", 0, NULL);
	return r;
}

/* Every map's keys start with two bytes (snapshot.h). */
_Static_assert(sizeof(PWB_SNAP_KEY_PASSWD_NAME) == 3 && sizeof(PWB_SNAP_KEY_PASSWD_UID) == 3 &&
		   sizeof(PWB_SNAP_KEY_GROUP_NAME) == 3 && sizeof(PWB_SNAP_KEY_GROUP_GID) == 3 &&
		   sizeof(PWB_SNAP_KEY_INITGROUPS) == 3 && sizeof(PWB_SNAP_KEY_SHADOW_NAME) == 3,
	       "two-byte map prefixes");

static bool has_prefix(const char *key, size_t keylen, const char prefix[3])
{
	return keylen >= 2 && key[0] == prefix[0] && key[1] == prefix[1];
}

int pwb_nss_trust_filter(struct pwb_nss_trust *t, const char *key, size_t keylen, char *buf,
			 size_t *len, size_t buflen)
{
	if (has_prefix(key, keylen, PWB_SNAP_KEY_PASSWD_NAME) ||
	    has_prefix(key, keylen, PWB_SNAP_KEY_PASSWD_UID))
		return filter_passwd(t, key, keylen, buf, len, buflen);
	if (has_prefix(key, keylen, PWB_SNAP_KEY_GROUP_NAME) ||
	    has_prefix(key, keylen, PWB_SNAP_KEY_GROUP_GID))
		return filter_group(t, key, keylen, buf, len, buflen);
	if (has_prefix(key, keylen, PWB_SNAP_KEY_INITGROUPS))
		return filter_initgroups(t, key, keylen, buf, len);
	if (has_prefix(key, keylen, PWB_SNAP_KEY_SHADOW_NAME))
		return filter_shadow(t, key, keylen, buf, len, buflen);
	return PWB_ENOTFOUND; /* no map reads anything else */
}
