/* pwb-login's HTTP layer (see web.h): parameters, the response under
 * construction, and strict parsers for cookies, form fields and the return
 * URL. Pure functions over strings, so the unit tests drive them directly. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "cleanup.h"
#include "error.h"
#include "urltext.h"
#include "web.h"

#define RANDOM_VALUE_LEN 43 /* PWB_RP_RANDOM_LEN: base64url of 32 bytes */

const char *http_param(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static const char *path_below(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(path, prefix, n) == 0)
		return path + n;
	/* "/pwb" for "/pwb/": the landing page */
	if (n > 1 && prefix[n - 1] == '/' && strncmp(path, prefix, n - 1) == 0 &&
	    path[n - 1] == '\0')
		return path + n - 1;
	return NULL;
}

const char *http_route(char *const *envp, const char *prefix, char *buf, size_t len)
{
	const char *doc = http_param(envp, "DOCUMENT_URI");
	const char *script = http_param(envp, "SCRIPT_NAME");
	const char *info = http_param(envp, "PATH_INFO");
	const char *uri = http_param(envp, "REQUEST_URI");

	if (doc && *doc)
		snprintf(buf, len, "%s", doc);
	else if (uri && *uri)
		snprintf(buf, len, "%.*s", (int)strcspn(uri, "?"), uri);
	else if (script && *script)
		snprintf(buf, len, "%s%s", script, info ? info : "");
	else
		return NULL;
	return path_below(buf, prefix);
}

void http_header(struct http_response *res, const char *name, const char *fmt, ...)
{
	char value[HTTP_HEAD_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(value) || strpbrk(value, "\r\n")) {
		res->head_overflow = true;
		return;
	}
	n = snprintf(res->head + res->head_len, sizeof(res->head) - res->head_len, "%s: %s\r\n",
		     name, value);
	if (n < 0 || (size_t)n >= sizeof(res->head) - res->head_len) {
		res->head[res->head_len] = '\0';
		res->head_overflow = true;
		return;
	}
	res->head_len += (size_t)n;
}

void http_body(struct http_response *res, const char *content_type, char *body)
{
	free(res->body);
	res->body = body;
	res->body_len = body ? strlen(body) : 0;
	res->content_type = content_type;
}

void http_response_clear(struct http_response *res)
{
	free(res->body);
	res->body = NULL;
}

static bool is_base64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

bool http_is_random_value(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++)
		if (!is_base64url(s[n]))
			return false;
	return n == RANDOM_VALUE_LEN;
}

int http_cookie_get(const char *header, const char *name, char out[HTTP_COOKIE_VALUE])
{
	size_t nlen = strlen(name);
	const char *p = header;
	bool found = false;

	out[0] = '\0';
	if (!header)
		return PWB_ENOTFOUND;
	while (*p) {
		const char *end = p + strcspn(p, ";"), *value;
		size_t vlen;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			if (found)
				return PWB_EINVAL; /* sent twice: which one is ours is unknown */
			value = p + nlen + 1;
			vlen = (size_t)(end - value);
			while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
				vlen--;
			if (vlen == 0 || vlen >= HTTP_COOKIE_VALUE)
				return PWB_EINVAL;
			for (size_t i = 0; i < vlen; i++)
				if (!is_base64url(value[i]))
					return PWB_EINVAL;
			memcpy(out, value, vlen);
			out[vlen] = '\0';
			found = true;
		}
		p = *end ? end + 1 : end;
	}
	return found ? 0 : PWB_ENOTFOUND;
}

/* Decodes n bytes of a form value into a new string, strictly. */
static int form_decode(const char *in, size_t n, size_t max, char **out)
{
	int r;

	if (n > max * 3)
		return PWB_EINVAL;
	r = pwb_percent_decode(in, n, PWB_PERCENT_PLUS | PWB_PERCENT_STRICT, out);
	if (r == 0 && strlen(*out) > max) {
		free(*out);
		*out = NULL;
		r = PWB_EINVAL;
	}
	return r;
}

int http_form_get(const char *text, const char *name, size_t max, char **out)
{
	size_t nlen = strlen(name);
	const char *p = text, *value = NULL;
	size_t vlen = 0;

	*out = NULL;
	if (!text)
		return PWB_ENOTFOUND;
	while (*p) {
		const char *end = p + strcspn(p, "&");

		if ((size_t)(end - p) >= nlen && strncmp(p, name, nlen) == 0 &&
		    (p[nlen] == '=' || p + nlen == end)) {
			if (value)
				return PWB_EINVAL; /* given twice */
			value = p + nlen + (p[nlen] == '=' ? 1 : 0);
			vlen = (size_t)(end - value);
		}
		p = *end ? end + 1 : end;
	}
	if (!value)
		return PWB_ENOTFOUND;
	return form_decode(value, vlen, max, out);
}

bool http_return_url_ok(const char *url)
{
	size_t n;

	if (!url || url[0] != '/' || url[1] == '/' || url[1] == '\\')
		return false;
	for (n = 0; url[n]; n++) {
		unsigned char c = (unsigned char)url[n];

		if (c < 0x21 || c > 0x7e || c == '\\')
			return false;
	}
	return n <= HTTP_RETURN_MAX;
}

static bool address_plausible(const char *s, size_t n)
{
	if (n == 0 || n >= 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF.:", s[i]))
			return false;
	return true;
}

/* True if addr is one of the comma list. */
static bool in_list(const char *list, const char *addr)
{
	size_t n = strlen(addr);

	while (list && *list) {
		const char *end = list + strcspn(list, ","), *s = list, *e = end;

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - s) == n && strncmp(s, addr, n) == 0)
			return true;
		list = *end ? end + 1 : end;
	}
	return false;
}

void http_client_address(char *const *envp, const char *trusted, char *out, size_t len)
{
	const char *remote = http_param(envp, "REMOTE_ADDR");
	const char *xff = http_param(envp, "HTTP_X_FORWARDED_FOR");

	snprintf(out, len, "-");
	if (!remote || !address_plausible(remote, strlen(remote)))
		return;
	snprintf(out, len, "%s", remote);
	if (xff && in_list(trusted, remote)) {
		const char *last = strrchr(xff, ',');
		size_t n;

		last = last ? last + 1 : xff;
		while (*last == ' ')
			last++;
		n = strcspn(last, " ");
		if (address_plausible(last, n))
			snprintf(out, len, "%.*s", (int)n, last);
	}
}

void http_html_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;

	if (len == 0)
		return;
	for (; in && *in; in++) {
		const char *rep = NULL;
		char one[2] = {*in, '\0'};
		size_t rlen;

		switch (*in) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			if ((unsigned char)*in < 0x20 || *in == 0x7f)
				one[0] = '?';
			rep = one;
		}
		rlen = strlen(rep);
		if (o + rlen >= len)
			break;
		memcpy(out + o, rep, rlen);
		o += rlen;
	}
	out[o] = '\0';
}

void http_reference(char out[HTTP_REF_LEN + 1])
{
	unsigned char b[HTTP_REF_LEN / 2] = {0};

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		b[0] ^= 0x5a; /* a reference is for humans; a weak one still serves */
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

void http_error_page(struct http_response *res, int status, const char *title, const char *detail,
		     const char *ref, const char *login_url)
{
	char t[512], d[2048], u[1024];
	char *body = NULL;

	http_html_escape(title, t, sizeof(t));
	http_html_escape(detail ? detail : "", d, sizeof(d));
	http_html_escape(login_url ? login_url : "", u, sizeof(u));
	res->status = status;
	if (asprintf(&body,
		     "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		     "<title>%s</title></head>\n<body>\n<h1>%s</h1>\n<p>%s</p>\n"
		     "<p>Reference: <code id=\"pwb-ref\">%s</code></p>\n%s%s%s</body></html>\n",
		     t, t, d, ref, login_url ? "<p><a href=\"" : "", login_url ? u : "",
		     login_url ? "\">Sign in again</a></p>\n" : "") < 0)
		body = NULL;
	http_body(res, "text/html; charset=utf-8", body);
}
