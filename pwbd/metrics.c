/* pwbd's metrics (see metrics.h) and the metrics.get op behind pwb-scim's
 * Prometheus endpoint. pwbd serves one connection at a time, so plain
 * counters suffice. Access is decided here, not in the relay: with
 * scim-metrics-token-file set the request's bearer token must be the
 * file's (compared as SHA-256 hashes in constant time; the file is read
 * per request, so a new token needs no restart), else only loopback
 * clients, by the address the relay saw. SCIM tokens never open it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "cleanup.h"
#include "log.h"
#include "metrics.h"
#include "names.h"
#include "secret.h"
#include "token.h"
#include "util.h"

#define ARG_MAX	       8192 /* the authorization header or the address, bytes */
#define TOKEN_FILE_MAX 512

/* Prometheus's default buckets, seconds. */
static const double bucket_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define BUCKETS (sizeof(bucket_bounds) / sizeof(bucket_bounds[0]))

struct histogram {
	uint64_t buckets[BUCKETS]; /* not cumulative: the exposition sums them */
	uint64_t count;
	double sum;
};

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
#define METHODS	   (sizeof(methods) / sizeof(methods[0]))
#define STATUS_MIN 100
#define STATUSES   500 /* 100..599 */

static struct {
	int64_t started; /* unix seconds; 0: not pwbd (pwbadm --offline) */
	uint64_t scim[METHODS][STATUSES];
	uint64_t scim_total;
	int64_t scim_last; /* unix seconds of the last SCIM request */
	struct histogram scim_seconds, publish_seconds;
	pwb_store_commit_hook publish;
	void *publish_ctx;
} m;

static double monotonic_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void observe(struct histogram *h, double seconds)
{
	size_t i = 0;

	while (i < BUCKETS && seconds > bucket_bounds[i])
		i++;
	if (i < BUCKETS)
		h->buckets[i]++;
	h->count++;
	h->sum += seconds;
}

void pwbd_metrics_start(void)
{
	m.started = pwb_now();
}

bool pwbd_metrics_started(void)
{
	return m.started != 0;
}

void pwbd_metrics_scim(const char *method, int status, double seconds)
{
	for (size_t i = 0; i < METHODS; i++)
		if (method && strcmp(method, methods[i]) == 0 && status >= STATUS_MIN &&
		    status < STATUS_MIN + STATUSES)
			m.scim[i][status - STATUS_MIN]++;
	m.scim_total++;
	m.scim_last = pwb_now();
	observe(&m.scim_seconds, seconds);
}

static void timed_publish(struct pwb_store *st, uint64_t seq, void *ctx)
{
	double start = monotonic_seconds();

	(void)ctx;
	m.publish(st, seq, m.publish_ctx);
	observe(&m.publish_seconds, monotonic_seconds() - start);
}

void pwbd_metrics_time_publisher(struct pwb_store *st)
{
	void *ctx;
	pwb_store_commit_hook hook = pwb_store_commit_hook_of(st, &ctx);

	if (!hook || hook == timed_publish)
		return;
	m.publish = hook;
	m.publish_ctx = ctx;
	pwb_store_on_commit(st, timed_publish, NULL);
}

json_t *pwbd_metrics_status(void)
{
	int64_t now = pwb_now();

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "started", (json_int_t)m.started,
			 "uptime_seconds", (json_int_t)(m.started ? now - m.started : 0), "pid",
			 (json_int_t)getpid(), "scim_requests", (json_int_t)m.scim_total,
			 "last_scim_request", (json_int_t)m.scim_last, "store_retries",
			 (json_int_t)pwb_store_retries());
}

static void histogram_text(FILE *f, const char *name, const char *help, const struct histogram *h)
{
	uint64_t cumulative = 0;

	fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (size_t i = 0; i < BUCKETS; i++) {
		cumulative += h->buckets[i];
		fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, bucket_bounds[i],
			(unsigned long long)cumulative);
	}
	fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
		(unsigned long long)h->count, name, h->sum, name, (unsigned long long)h->count);
}

static void counter_text(FILE *f, const char *name, const char *help, uint64_t value)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
		(unsigned long long)value);
}

char *pwbd_metrics_text(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fputs("# HELP pwb_scim_requests_total SCIM requests pwbd answered, by method and "
	      "status.\n# TYPE pwb_scim_requests_total counter\n",
	      f);
	for (size_t i = 0; i < METHODS; i++)
		for (size_t s = 0; s < STATUSES; s++)
			if (m.scim[i][s])
				fprintf(
				    f,
				    "pwb_scim_requests_total{method=\"%s\",status=\"%zu\"} %llu\n",
				    methods[i], s + STATUS_MIN, (unsigned long long)m.scim[i][s]);
	histogram_text(f, "pwb_scim_request_duration_seconds",
		       "Time pwbd took to answer a SCIM request.", &m.scim_seconds);
	counter_text(f, "pwb_store_write_retries_total",
		     "Store transactions run again after losing a lock conflict.",
		     pwb_store_retries());
	histogram_text(f, "pwb_snapshot_publish_duration_seconds",
		       "Time to publish the NSS snapshot after a commit.", &m.publish_seconds);
	fprintf(f,
		"# HELP pwbd_start_time_seconds When pwbd started, unix seconds.\n"
		"# TYPE pwbd_start_time_seconds gauge\npwbd_start_time_seconds %lld\n",
		(long long)m.started);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---- metrics.get {authorization, remote_addr} -> {status, body, www_authenticate} ---- */

/* 127.0.0.0/8, ::1, or 127.0.0.0/8 mapped into IPv6 (a dual-stack socket). */
static bool is_loopback(const char *addr)
{
	static const unsigned char one[16] = {[15] = 1};
	static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
	unsigned char a[16];

	if (!addr)
		return false;
	if (inet_pton(AF_INET, addr, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, addr, a) != 1)
		return false;
	return memcmp(a, one, 16) == 0 || (memcmp(a, mapped, 12) == 0 && a[12] == 127);
}

/* 200 when the bearer token is the token file's, 401 when not, 500 when
 * the file cannot be used (logged; the token never is). */
static int token_status(const char *path, const char *authorization)
{
	char want[TOKEN_FILE_MAX], want_hash[PWB_HASH_HEX_LEN + 1], got_hash[PWB_HASH_HEX_LEN + 1];
	struct pwb_error err = {0};
	const char *token;
	bool match;
	int r;

	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return 401;
	token = authorization + 7;
	while (*token == ' ')
		token++;
	r = pwb_secret_read_token_file(path, want, sizeof(want), &err);
	if (r < 0) {
		pwb_log(LOG_ERR, "pwbd: metrics: scim-metrics-token-file: %s",
			pwb_error_text(&err, r));
		return 500;
	}
	match = *token && pwb_token_hash(want, strlen(want), want_hash) == 0 &&
		pwb_token_hash(token, strlen(token), got_hash) == 0 &&
		pwb_token_hash_equal(want_hash, got_hash);
	OPENSSL_cleanse(want, sizeof(want));
	OPENSSL_cleanse(want_hash, sizeof(want_hash));
	OPENSSL_cleanse(got_hash, sizeof(got_hash));
	return match ? 200 : 401;
}

static int metrics_args(json_t *args, const char **authorization, const char **addr,
			struct pwb_error *err)
{
	const char *key;
	json_t *v;

	*authorization = *addr = NULL;
	json_object_foreach(args, key, v)
	{
		const char *s = json_string_value(v);

		if (!s || json_string_length(v) > ARG_MAX || strlen(s) != json_string_length(v))
			return pwb_error_set(err, PWB_EINVAL,
					     "metrics.get: %s must be a string of at most %d bytes",
					     key, ARG_MAX);
		if (strcmp(key, "authorization") == 0)
			*authorization = s;
		else if (strcmp(key, "remote_addr") == 0)
			*addr = s;
		else
			return pwb_error_set(err, PWB_EINVAL, "metrics.get: unknown argument %s",
					     key);
	}
	return 0;
}

static int metrics_get(struct pwbd_call *call, json_t **result, struct pwb_error *err)
{
	const struct pwb_config *cfg = call->cfg;
	const char *authorization, *addr, *body;
	_cleanup_free_ char *text = NULL;
	char shown[64];
	int r, status;

	*result = NULL;
	r = metrics_args(call->req->args, &authorization, &addr, err);
	if (r < 0)
		return r;
	if (!cfg->scim_metrics_path)
		status = 404;
	else if (cfg->scim_metrics_token_file)
		status = token_status(cfg->scim_metrics_token_file, authorization);
	else
		status = is_loopback(addr) ? 200 : 403;
	if (status == 401 || status == 403) {
		pwb_names_escape(addr ? addr : "-", shown, sizeof(shown));
		pwb_log(LOG_NOTICE, "pwbd: metrics refused to %s: %s", shown,
			status == 401 ? "not the metrics token" : "not a loopback client");
	}
	if (status == 200) {
		text = pwbd_metrics_text();
		if (!text)
			return pwb_error_set(err, -ENOMEM, "out of memory");
		body = text;
	} else {
		body = status == 404   ? "not found\n"
		       : status == 401 ? "the metrics token is required\n"
		       : status == 403
			   ? "metrics are served to loopback clients only\n"
			   : "the metrics token file cannot be read; see the system log\n";
	}
	*result = json_pack("{s:i, s:s, s:b}", "status", status, "body", body, "www_authenticate",
			    status == 401);
	return *result ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

const struct pwbd_op pwbd_ops_metrics[] = {
    {"metrics.get", PWBD_ROLE_SCIM | PWBD_ROLE_ROOT, false, metrics_get},
    {NULL, 0, false, NULL},
};
