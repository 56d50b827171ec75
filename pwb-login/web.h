/* pwb-login's HTTP layer: the CGI parameters of one request, the response
 * it builds (status, headers, body), and the strict parsers for what a
 * browser sends (Cookie header, query and form fields, the return URL).
 * Nothing here trusts a parameter for more than the request says: the
 * client address comes from X-Forwarded-For only behind a trusted proxy. */
#ifndef PWB_LOGIN_WEB_H
#define PWB_LOGIN_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX	  8192
#define HTTP_RETURN_MAX	  1024 /* bytes of a kept return URL */
#define HTTP_REF_LEN	  8    /* hex characters of an error reference */
#define HTTP_COOKIE_VALUE 64   /* bytes of one of pwb's cookie values, at most */

#define HTTP_COOKIE_SESSION "__Host-pwb-session"
#define HTTP_COOKIE_FLOW    "__Host-pwb-flow"

/* One request: the CGI parameters (a NULL-terminated "NAME=value" array,
 * FastCGI's envp or a test's) and the FastCGI role. */
struct http_request {
	char *const *envp;
	bool authorizer;    /* FCGI_ROLE=AUTHORIZER (Apache mod_authnz_fcgi) */
	const char *method; /* never NULL */
	const char *route;  /* path below the prefix ("" = landing); NULL: not ours */
	const char *query;  /* never NULL */
	char client[64];    /* the client's address, for PAM_RHOST and logs */
	char *body;	    /* read by the caller for POST (NUL-terminated), or NULL */
	size_t body_len;
};

struct http_response {
	int status;
	char head[HTTP_HEAD_MAX]; /* extra header lines, each ending in CRLF */
	size_t head_len;
	bool head_overflow; /* a header did not fit: the writer answers 500 */
	const char *content_type;
	char *body; /* malloc'd or NULL */
	size_t body_len;
};

/* The value of a CGI parameter, or NULL. */
const char *http_param(char *const *envp, const char *name);

/* The route below prefix ("/pwb/") of the request path: DOCUMENT_URI (the
 * subrequest's own path under nginx auth_request), else REQUEST_URI
 * without the query (Apache mod_proxy_fcgi), else SCRIPT_NAME + PATH_INFO. "" for the prefix itself
 * (and the prefix without its trailing slash); NULL when the path is not
 * under it. */
const char *http_route(char *const *envp, const char *prefix, char *buf, size_t len);

/* Appends "Name: value" (printf-style value). A value holding CR or LF is
 * dropped and marks the response broken. */
void http_header(struct http_response *res, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Takes body (malloc'd) as the response's body. */
void http_body(struct http_response *res, const char *content_type, char *body);
void http_response_clear(struct http_response *res);

/* Looks up one cookie by name in a Cookie header (RFC 6265 5.4 syntax:
 * "a=b; c=d"). Its value must be 1..HTTP_COOKIE_VALUE-1 base64url
 * characters. 0 with the value copied, PWB_ENOTFOUND when absent,
 * PWB_EINVAL when malformed or sent twice (callers treat both as none). */
int http_cookie_get(const char *header, const char *name, char out[HTTP_COOKIE_VALUE]);

/* The value of field name in a query string or an
 * application/x-www-form-urlencoded body, percent-decoded ('+' is a
 * space). *out malloc'd. PWB_ENOTFOUND when absent; PWB_EINVAL when given
 * twice, badly encoded, holding a control character or longer than max. */
int http_form_get(const char *text, const char *name, size_t max, char **out);

/* True for a return URL pwb-login may redirect to after sign-in: a path on
 * this site ("/x", not "//host" or "/\host"), printable ASCII without a
 * backslash, at most HTTP_RETURN_MAX bytes. */
bool http_return_url_ok(const char *url);

/* True for a base64url string of exactly PWB_RP_RANDOM_LEN characters:
 * what state, the session and flow cookies look like. */
bool http_is_random_value(const char *s);

/* The client's address: REMOTE_ADDR, or the last X-Forwarded-For entry when
 * REMOTE_ADDR is one of trusted (comma list of addresses). "-" when
 * neither is a plausible address. */
void http_client_address(char *const *envp, const char *trusted, char *out, size_t len);

/* HTML-escapes in into out (truncated to fit, always terminated). */
void http_html_escape(const char *in, char *out, size_t len);

/* A fresh error reference: HTTP_REF_LEN lowercase hex characters. */
void http_reference(char out[HTTP_REF_LEN + 1]);

/* An HTML error page: title and detail (both escaped here), the reference,
 * and a link to start again at login_url when not NULL. */
void http_error_page(struct http_response *res, int status, const char *title, const char *detail,
		     const char *ref, const char *login_url);

#endif
