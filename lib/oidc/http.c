/* HTTPS with libcurl (see http.h): GET for discovery and JWKS, a form POST
 * for the token endpoint. Nothing here follows anything but https, a POST
 * follows nothing, and nothing is read past the size limit. libcurl is
 * loaded on the first request, not linked: a sign-in on a warm cache (every
 * PAM login, a short-lived process) never fetches, and linking libcurl
 * made every such process load and relocate some 30 libraries it pulls in
 * (TLS, LDAP, Kerberos, SSH, RTMP...): bench/login's pam_start phase. */
#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include "cleanup.h"
#include "http.h"

/* libcurl's ABI has been libcurl.so.4 since 2006 (curl 7.16). */
#define CURL_SONAME "libcurl.so.4"

/* The libcurl functions this file calls, resolved once per process. */
static struct {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	void (*easy_reset)(CURL *);
	void (*easy_cleanup)(CURL *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} lc;
static char curl_load_error[256];
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_load_once(void)
{
	/* Never closed: a module is -z nodelete, and libcurl keeps global
	 * state (its TLS backend's) that does not survive an unload. */
	void *h = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	const char *e;

	if (!h) {
		e = dlerror();
		snprintf(curl_load_error, sizeof(curl_load_error), "%s", e ? e : CURL_SONAME);
		return;
	}
#define RESOLVE(field, name)                                                                       \
	do {                                                                                       \
		if (!(*(void **)&lc.field = dlsym(h, name)))                                       \
			snprintf(curl_load_error, sizeof(curl_load_error), "%s: no %s",            \
				 CURL_SONAME, name);                                               \
	} while (0)
	RESOLVE(easy_init, "curl_easy_init");
	RESOLVE(easy_setopt, "curl_easy_setopt");
	RESOLVE(easy_perform, "curl_easy_perform");
	RESOLVE(easy_getinfo, "curl_easy_getinfo");
	RESOLVE(easy_strerror, "curl_easy_strerror");
	RESOLVE(easy_reset, "curl_easy_reset");
	RESOLVE(easy_cleanup, "curl_easy_cleanup");
	RESOLVE(slist_append, "curl_slist_append");
	RESOLVE(slist_free_all, "curl_slist_free_all");
#undef RESOLVE
}

/* Loads libcurl if this process has not yet: 0, or PWB_EUNAVAIL. */
static int curl_load(const char *url, struct pwb_error *err)
{
	pthread_once(&curl_once, curl_load_once);
	if (curl_load_error[0])
		return pwb_error_set(err, PWB_EUNAVAIL, "%s: cannot load libcurl: %s", url,
				     curl_load_error);
	return 0;
}

PWB_DEFINE_POINTER_CLEANUP(curl_easy_cleanupp, CURL, lc.easy_cleanup)
PWB_DEFINE_POINTER_CLEANUP(curl_slist_free_allp, struct curl_slist, lc.slist_free_all)

struct fetch {
	char *buf;
	size_t len, cap, max;
	bool too_big;
	int64_t max_age;
	bool no_store;
};

static void fetch_clear(struct fetch *f)
{
	free(f->buf);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct fetch *f = ctx;
	size_t n = size * nmemb;
	char *grown;

	if (n > f->max - f->len) {
		f->too_big = true;
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	}
	if (f->len + n + 1 > f->cap) {
		size_t cap = f->cap ? f->cap : 4096;

		while (cap < f->len + n + 1)
			cap *= 2;
		grown = realloc(f->buf, cap);
		if (!grown)
			return 0;
		f->buf = grown;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, data, n);
	f->len += n;
	f->buf[f->len] = '\0';
	return n;
}

void pwb_http_parse_cache_control(const char *value, int64_t *max_age, bool *no_store)
{
	const char *p = value;

	*max_age = -1;
	*no_store = false;
	while (p && *p) {
		size_t len;
		const char *end;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r' ||
				   p[len - 1] == '\n'))
			len--;
		if ((len == 8 && strncasecmp(p, "no-store", 8) == 0) ||
		    (len == 8 && strncasecmp(p, "no-cache", 8) == 0)) {
			*no_store = true;
		} else if (len > 8 && strncasecmp(p, "max-age=", 8) == 0) {
			int64_t n = 0;
			size_t i;

			for (i = 8; i < len && isdigit((unsigned char)p[i]); i++)
				if (n < 100000000)
					n = n * 10 + (p[i] - '0');
			if (i == len)
				*max_age = n;
		}
		p = end;
	}
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct fetch *f = ctx;
	size_t n = size * nmemb;
	static const char name[] = "cache-control:";
	char value[512];
	size_t vlen;

	/* A new response (after a redirect) starts a new header block. */
	if (n > 5 && strncmp(data, "HTTP/", 5) == 0) {
		f->max_age = -1;
		f->no_store = false;
	}
	if (n <= sizeof(name) - 1 || strncasecmp(data, name, sizeof(name) - 1) != 0)
		return n;
	vlen = n - (sizeof(name) - 1);
	if (vlen >= sizeof(value))
		vlen = sizeof(value) - 1;
	memcpy(value, data + sizeof(name) - 1, vlen);
	value[vlen] = '\0';
	pwb_http_parse_cache_control(value, &f->max_age, &f->no_store);
	return n;
}

void pwb_http_response_clear(struct pwb_http_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
	resp->max_age = -1;
}

#define SETOPT(opt, val)                                                                           \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = lc.easy_setopt(curl, opt, val);                                       \
	} while (0)

/* The options every request shares: https only, peer and host verified,
 * bounded time and size, no signals, the body and headers into f. */
static CURLcode setup(CURL *curl, const char *url, const char *ca_file, unsigned timeout_s,
		      size_t max_bytes, struct fetch *f, char *errbuf)
{
	CURLcode rc = CURLE_OK;

	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_file)
		SETOPT(CURLOPT_CAINFO, ca_file);
	/* Signals would hit the host process (sshd, the web front end). */
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_CONNECTTIMEOUT, (long)timeout_s);
	SETOPT(CURLOPT_TIMEOUT, (long)timeout_s);
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, f);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, f);
	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(CURLOPT_USERAGENT, "pwb/" PACKAGE_VERSION);
	return rc;
}

/* Runs the request and moves what came back into resp; any status is
 * handed back (the caller decides which it accepts). */
static int perform(CURL *curl, const char *url, size_t max_bytes, struct fetch *f,
		   const char *errbuf, struct pwb_http_response *resp, struct pwb_error *err)
{
	CURLcode rc = lc.easy_perform(curl);
	long status = 0;

	if (f->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		return pwb_error_set(err, PWB_EUNAVAIL, "%s: response larger than %zu bytes", url,
				     max_bytes);
	if (rc != CURLE_OK)
		return pwb_error_set(err, PWB_EUNAVAIL, "%s: %s", url,
				     errbuf[0] ? errbuf : lc.easy_strerror(rc));
	if (lc.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		return pwb_error_set(err, PWB_EUNAVAIL, "%s: no HTTP status", url);
	resp->status = status;
	resp->len = f->len;
	resp->max_age = f->max_age;
	resp->no_store = f->no_store;
	resp->body = f->buf ? PWB_TAKE_PTR(f->buf) : strdup("");
	return resp->body ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
}

int pwb_http_get(const char *url, const char *ca_file, unsigned timeout_s, size_t max_bytes,
		 struct pwb_http_response *resp, struct pwb_error *err)
{
	_cleanup_(fetch_clear) struct fetch f = {.max = max_bytes, .max_age = -1};
	_cleanup_(curl_easy_cleanupp) CURL *curl = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc = CURLE_OK;
	int r;

	memset(resp, 0, sizeof(*resp));
	resp->max_age = -1;
	if (strncmp(url, "https://", 8) != 0)
		return pwb_error_set(err, PWB_EINVAL, "%s: only https:// URLs are fetched", url);
	if ((r = curl_load(url, err)) < 0)
		return r;
	curl = lc.easy_init();
	if (!curl)
		return pwb_error_set(err, -ENOMEM, "%s: curl_easy_init failed", url);
	rc = setup(curl, url, ca_file, timeout_s, max_bytes, &f, errbuf);
	SETOPT(CURLOPT_FOLLOWLOCATION, 1L);
	SETOPT(CURLOPT_MAXREDIRS, 3L);
	if (rc != CURLE_OK)
		return pwb_error_set(err, PWB_EUNAVAIL, "%s: curl setup: %s", url,
				     lc.easy_strerror(rc));
	r = perform(curl, url, max_bytes, &f, errbuf, resp, err);
	if (r < 0)
		return r;
	if (resp->status != 200 || resp->len == 0) {
		long status = resp->status;

		pwb_http_response_clear(resp);
		if (status != 200)
			return pwb_error_set(err, PWB_EUNAVAIL, "%s: HTTP status %ld", url, status);
		return pwb_error_set(err, PWB_EUNAVAIL, "%s: empty response", url);
	}
	return 0;
}

/* The handle of the form POSTs (the token endpoint), kept for the
 * thread's life: a long-lived caller (a pwb-login worker) reuses its
 * connection and TLS session at the next code exchange instead of a new
 * handshake each time. It is reset before and after each request
 * (curl_easy_reset drops every option, pointer and header of the last
 * request but keeps live connections and the TLS session cache), and
 * dropped after a failed transfer. Peer and host verification are set
 * again each time, and libcurl reuses a connection only for the same
 * host, port and TLS settings. */
static __thread CURL *post_handle;

static CURL *post_handle_get(void)
{
	if (post_handle)
		lc.easy_reset(post_handle);
	else
		post_handle = lc.easy_init();
	return post_handle;
}

/* After a request: forget its options; after a failure, the handle too. */
static void post_handle_put(bool failed)
{
	if (!post_handle)
		return;
	if (failed) {
		lc.easy_cleanup(post_handle);
		post_handle = NULL;
	} else {
		lc.easy_reset(post_handle);
	}
}

int pwb_http_post_form(const char *url, const char *ca_file, unsigned timeout_s, size_t max_bytes,
		       const char *authorization, const char *form, struct pwb_http_response *resp,
		       struct pwb_error *err)
{
	_cleanup_(fetch_clear) struct fetch f = {.max = max_bytes, .max_age = -1};
	_cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
	_cleanup_free_ char *auth_header = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc = CURLE_OK;
	struct curl_slist *h;
	CURL *curl;
	int r;

	memset(resp, 0, sizeof(*resp));
	resp->max_age = -1;
	if (strncmp(url, "https://", 8) != 0)
		return pwb_error_set(err, PWB_EINVAL, "%s: only https:// URLs are used", url);
	if ((r = curl_load(url, err)) < 0)
		return r;
	curl = post_handle_get();
	if (!curl)
		return pwb_error_set(err, -ENOMEM, "%s: curl_easy_init failed", url);
	h = lc.slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
	headers = h;
	if (h)
		h = lc.slist_append(headers, "Accept: application/json");
	if (h && authorization) {
		if (asprintf(&auth_header, "Authorization: %s", authorization) < 0) {
			auth_header = NULL;
			h = NULL;
		} else {
			h = lc.slist_append(headers, auth_header);
			OPENSSL_cleanse(auth_header, strlen(auth_header));
		}
	}
	if (!h) {
		post_handle_put(false);
		return pwb_error_set(err, -ENOMEM, "out of memory");
	}
	rc = setup(curl, url, ca_file, timeout_s, max_bytes, &f, errbuf);
	/* A POST carrying a code and a client secret goes to the configured
	 * endpoint and nowhere else: a redirect is an answer, not an order. */
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_HTTPHEADER, headers);
	SETOPT(CURLOPT_POSTFIELDS, form);
	SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(form));
	if (rc != CURLE_OK) {
		post_handle_put(true);
		return pwb_error_set(err, PWB_EUNAVAIL, "%s: curl setup: %s", url,
				     lc.easy_strerror(rc));
	}
	r = perform(curl, url, max_bytes, &f, errbuf, resp, err);
	post_handle_put(r < 0);
	return r;
}
