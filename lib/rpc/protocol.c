/* pwbd's protocol v1 (see rpc.h): length-prefixed frames read and written
 * under a deadline, the strict request parser (nesting depth checked by a
 * byte scan before Jansson sees the text) and request ids. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "cleanup.h"
#include "rpc.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events before the deadline. */
static int wait_fd(int fd, short events, int64_t deadline, struct pwb_error *err)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return pwb_error_set(err, PWB_EUNAVAIL, "timed out");
		r = poll(&p, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return pwb_error_set(err, PWB_EUNAVAIL, "timed out");
		if (errno != EINTR)
			return pwb_error_set(err, PWB_EUNAVAIL, "poll: %s", strerror(errno));
	}
}

static int read_full(int fd, void *buf, size_t len, int64_t deadline, struct pwb_error *err)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n;
		int r = wait_fd(fd, POLLIN, deadline, err);

		if (r < 0)
			return r;
		n = recv(fd, (char *)buf + got, len - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0)
			return pwb_error_set(err, PWB_EUNAVAIL, "read: %s", strerror(errno));
		if (n == 0)
			return pwb_error_set(err, PWB_EUNAVAIL,
					     "connection closed after %zu of %zu bytes", got, len);
		got += (size_t)n;
	}
	return 0;
}

int pwb_rpc_read_frame(int fd, int timeout_ms, char **payload, size_t *len, struct pwb_error *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	unsigned char hdr[4];
	_cleanup_free_ char *buf = NULL;
	uint32_t n;
	int r;

	*payload = NULL;
	*len = 0;
	r = read_full(fd, hdr, sizeof(hdr), deadline, err);
	if (r < 0)
		return r;
	n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (n == 0 || n > PWB_RPC_MAX_FRAME)
		return pwb_error_set(err, PWB_EINVAL, "frame length %u out of range (1..%u)", n,
				     PWB_RPC_MAX_FRAME);
	buf = malloc((size_t)n + 1);
	if (!buf)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	r = read_full(fd, buf, n, deadline, err);
	if (r < 0)
		return r;
	buf[n] = '\0';
	*len = n;
	*payload = PWB_TAKE_PTR(buf);
	return 0;
}

int pwb_rpc_write_frame(int fd, int timeout_ms, const void *payload, size_t len,
			struct pwb_error *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	unsigned char hdr[4];
	size_t sent = 0, total = len + sizeof(hdr);

	if (len == 0 || len > PWB_RPC_MAX_FRAME)
		return pwb_error_set(err, PWB_EINVAL, "frame length %zu out of range (1..%u)", len,
				     PWB_RPC_MAX_FRAME);
	hdr[0] = (unsigned char)(len >> 24);
	hdr[1] = (unsigned char)(len >> 16);
	hdr[2] = (unsigned char)(len >> 8);
	hdr[3] = (unsigned char)len;
	while (sent < total) {
		const char *p = sent < sizeof(hdr) ? (const char *)hdr + sent
						   : (const char *)payload + (sent - sizeof(hdr));
		size_t chunk = sent < sizeof(hdr) ? sizeof(hdr) - sent : total - sent;
		ssize_t n;
		int r = wait_fd(fd, POLLOUT, deadline, err);

		if (r < 0)
			return r;
		n = send(fd, p, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0)
			return pwb_error_set(err, PWB_EUNAVAIL, "write: %s", strerror(errno));
		sent += (size_t)n;
	}
	return 0;
}

/* The deepest nesting of arrays and objects in buf, brackets inside
 * strings ignored; stops counting once max is exceeded. */
static unsigned scan_depth(const char *buf, size_t len, unsigned max)
{
	unsigned depth = 0, deepest = 0;
	bool in_string = false, escaped = false;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"')
			in_string = true;
		else if (c == '[' || c == '{') {
			if (++depth > deepest)
				deepest = depth;
			if (deepest > max)
				break;
		} else if ((c == ']' || c == '}') && depth > 0)
			depth--;
	}
	return deepest;
}

static bool charset_ok(const char *s, size_t max, const char *extra, bool first_lower)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool lower = c >= 'a' && c <= 'z', digit = c >= '0' && c <= '9';
		bool upper = c >= 'A' && c <= 'Z';

		if (first_lower && i == 0) {
			if (!lower)
				return false;
			continue;
		}
		if (lower || digit || (!first_lower && upper) || (c && strchr(extra, c)))
			continue;
		return false;
	}
	return true;
}

/* The actor object: strings only, each printable and bounded, from a
 * fixed set of keys. */
static int parse_actor(json_t *obj, struct pwb_actor *a, struct pwb_error *err)
{
	static const char *const keys[] = {"kind",    "name",  "user", "ruser",
					   "service", "rhost", "tty"};
	const char *key, *user = NULL, *ruser = NULL, *name = NULL;
	json_t *v;

	if (!json_is_object(obj))
		return pwb_error_set(err, PWB_EINVAL, "request: \"actor\" must be an object");
	json_object_foreach(obj, key, v)
	{
		const char *s;
		bool known = false;

		for (size_t i = 0; i < PWB_ARRAY_SIZE(keys); i++)
			known = known || strcmp(key, keys[i]) == 0;
		if (!known)
			return pwb_error_set(err, PWB_EINVAL, "request: unknown actor key \"%s\"",
					     charset_ok(key, 32, "_-", false) ? key : "?");
		if (!json_is_string(v))
			return pwb_error_set(err, PWB_EINVAL,
					     "request: actor \"%s\" must be a string", key);
		s = json_string_value(v);
		if (strlen(s) >= PWB_ACTOR_FIELD)
			return pwb_error_set(err, PWB_EINVAL, "request: actor \"%s\" is too long",
					     key);
		for (const unsigned char *p = (const unsigned char *)s; *p; p++)
			if (*p < 0x20 || *p == 0x7f)
				return pwb_error_set(
				    err, PWB_EINVAL,
				    "request: actor \"%s\" has a control character", key);
		if (strcmp(key, "kind") == 0) {
			if (!charset_ok(s, sizeof(a->kind) - 1, "-", true))
				return pwb_error_set(
				    err, PWB_EINVAL,
				    "request: actor \"kind\" must match [a-z][a-z0-9-]{0,14}");
			snprintf(a->kind, sizeof(a->kind), "%s", s);
		} else if (strcmp(key, "service") == 0)
			snprintf(a->service, sizeof(a->service), "%s", s);
		else if (strcmp(key, "rhost") == 0)
			snprintf(a->rhost, sizeof(a->rhost), "%s", s);
		else if (strcmp(key, "name") == 0)
			name = s;
		else if (strcmp(key, "user") == 0)
			user = s;
		else if (strcmp(key, "ruser") == 0)
			ruser = s;
	}
	/* name: who acts, by the most specific field given. */
	name = name ? name : user ? user : ruser;
	snprintf(a->name, sizeof(a->name), "%s", name ? name : "");
	return 0;
}

void pwb_rpc_request_clear(struct pwb_rpc_request *r)
{
	if (!r)
		return;
	json_decref(r->args);
	memset(r, 0, sizeof(*r));
}

int pwb_rpc_request_parse(const void *buf, size_t len, struct pwb_rpc_request *out,
			  struct pwb_error *err)
{
	json_t *root, *val;
	json_error_t jerr;
	const char *key;
	bool have_v = false, have_op = false, have_id = false;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > PWB_RPC_MAX_FRAME)
		return pwb_error_set(err, PWB_EINVAL, "request: size %zu out of range (1..%u)", len,
				     PWB_RPC_MAX_FRAME);
	if (scan_depth(buf, len, PWB_RPC_MAX_DEPTH) > PWB_RPC_MAX_DEPTH)
		return pwb_error_set(err, PWB_EINVAL, "request: nested deeper than %d",
				     PWB_RPC_MAX_DEPTH);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return pwb_error_set(err, PWB_EINVAL, "request: not JSON (line %d, column %d)",
				     jerr.line, jerr.column); /* jerr.text may quote the input */
	if (!json_is_object(root)) {
		json_decref(root);
		return pwb_error_set(err, PWB_EINVAL, "request: not a JSON object");
	}
	json_object_foreach(root, key, val)
	{
		if (strcmp(key, "v") == 0) {
			have_v = true;
			if (!json_is_integer(val) || json_integer_value(val) != PWB_RPC_VERSION)
				r = pwb_error_set(err, PWB_EINVAL,
						  "request: \"v\" must be the integer %d",
						  PWB_RPC_VERSION);
		} else if (strcmp(key, "op") == 0) {
			have_op = true;
			if (!json_is_string(val) ||
			    !charset_ok(json_string_value(val), PWB_RPC_OP_MAX, "_.", true))
				r = pwb_error_set(
				    err, PWB_EINVAL,
				    "request: \"op\" must match [a-z][a-z0-9_.]{0,47}");
			else
				snprintf(out->op, sizeof(out->op), "%s", json_string_value(val));
		} else if (strcmp(key, "id") == 0) {
			have_id = true;
			if (!json_is_string(val) ||
			    !charset_ok(json_string_value(val), PWB_RPC_ID_MAX, "._:-", false))
				r = pwb_error_set(
				    err, PWB_EINVAL,
				    "request: \"id\" must match [A-Za-z0-9._:-]{1,64}");
			else
				snprintf(out->id, sizeof(out->id), "%s", json_string_value(val));
		} else if (strcmp(key, "actor") == 0) {
			r = parse_actor(val, &out->actor, err);
		} else if (strcmp(key, "progress") == 0) {
			if (!json_is_boolean(val))
				r = pwb_error_set(err, PWB_EINVAL,
						  "request: \"progress\" must be a boolean");
			else
				out->progress = json_is_true(val);
		} else if (strcmp(key, "args") == 0) {
			if (!json_is_object(val))
				r = pwb_error_set(err, PWB_EINVAL,
						  "request: \"args\" must be an object");
			else
				out->args = json_incref(val);
		} else {
			r = pwb_error_set(err, PWB_EINVAL,
					  "request: unknown key \"%s\" (allowed: v, op, id, actor, "
					  "args, progress)",
					  charset_ok(key, 32, "_-", false) ? key : "?");
		}
		if (r < 0)
			break;
	}
	if (r == 0 && !have_v)
		r = pwb_error_set(err, PWB_EINVAL, "request: \"v\" is missing");
	if (r == 0 && !have_op)
		r = pwb_error_set(err, PWB_EINVAL, "request: \"op\" is missing");
	if (r == 0 && !have_id)
		r = pwb_error_set(err, PWB_EINVAL, "request: \"id\" is missing");
	if (r == 0 && !out->args && !(out->args = json_object()))
		r = pwb_error_set(err, -ENOMEM, "out of memory");
	json_decref(root);
	if (r < 0)
		pwb_rpc_request_clear(out);
	return r;
}

char *pwb_rpc_progress_encode(const char *id, const char *stage, uint64_t done, int64_t total,
			      const char *unit)
{
	json_auto_t *frame = NULL;

	if (!pwb_progress_word_ok(stage) || !pwb_progress_word_ok(unit) ||
	    done > (uint64_t)INT64_MAX)
		return NULL;
	if (total >= 0 && done > (uint64_t)total)
		total = (int64_t)done;
	frame = json_pack("{s:i, s:s, s:{s:s, s:I, s:o, s:s}}", "v", PWB_RPC_VERSION, "id", id,
			  "progress", "stage", stage, "done", (json_int_t)done, "total",
			  total < 0 ? json_null() : json_integer((json_int_t)total), "unit", unit);
	return frame ? json_dumps(frame, JSON_COMPACT) : NULL;
}

/* A progress word into out (PWB_PROGRESS_WORD_MAX + 1 bytes). */
static bool progress_word(json_t *v, char *out)
{
	if (!json_is_string(v) || !pwb_progress_word_ok(json_string_value(v)))
		return false;
	snprintf(out, PWB_PROGRESS_WORD_MAX + 1, "%s", json_string_value(v));
	return true;
}

int pwb_rpc_progress_parse(const char *buf, size_t len, const char *id,
			   struct pwb_rpc_progress *out, struct pwb_error *err)
{
	json_auto_t *frame = NULL;
	json_t *p, *v, *done, *total;

	memset(out, 0, sizeof(*out));
	/* A progress frame is small: a larger frame is the reply (an export's
	 * is megabytes), which the reply decoder parses and judges. */
	if (len == 0 || len > PWB_RPC_PROGRESS_MAX ||
	    scan_depth(buf, len, PWB_RPC_MAX_DEPTH) > PWB_RPC_MAX_DEPTH)
		return 0;
	frame = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	p = json_object_get(frame, "progress");
	if (!p)
		return 0;
	v = json_object_get(frame, "v");
	if (json_object_size(frame) != 3 || !json_is_integer(v) ||
	    json_integer_value(v) != PWB_RPC_VERSION ||
	    !json_is_string(json_object_get(frame, "id")) ||
	    strcmp(json_string_value(json_object_get(frame, "id")), id) != 0)
		return pwb_error_set(err, PWB_EINVAL,
				     "progress frame: not {v: 1, id: the request's, progress}");
	done = json_object_get(p, "done");
	total = json_object_get(p, "total");
	if (!json_is_object(p) || json_object_size(p) != 4 ||
	    !progress_word(json_object_get(p, "stage"), out->stage) ||
	    !progress_word(json_object_get(p, "unit"), out->unit) || !json_is_integer(done) ||
	    json_integer_value(done) < 0 || !(json_is_null(total) || json_is_integer(total)))
		return pwb_error_set(err, PWB_EINVAL,
				     "progress frame: not {stage, done, total, unit}");
	out->done = (uint64_t)json_integer_value(done);
	out->total = json_is_null(total) ? -1 : json_integer_value(total);
	if (out->total >= 0 && out->done > (uint64_t)out->total)
		return pwb_error_set(err, PWB_EINVAL, "progress frame: done past total");
	if (out->total < 0 && !json_is_null(total))
		return pwb_error_set(err, PWB_EINVAL, "progress frame: negative total");
	return 1;
}

int pwb_rpc_new_id(char *out)
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, PWB_RPC_ID_MAX + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return 0;
}
