/* The HTTP text rules pwb's web front ends share (pwb-scim, pwb-login, the
 * SCIM service behind pwbd): percent-decoding of paths, query strings and
 * form bodies, and the reason phrase of a status code. libc only. */
#ifndef PWB_URLTEXT_H
#define PWB_URLTEXT_H

#include <stddef.h>

/* '+' decodes to a space (query strings and form bodies, not paths). */
#define PWB_PERCENT_PLUS 1u
/* A malformed escape or a decoded control character is refused instead
 * of kept as it is. */
#define PWB_PERCENT_STRICT 2u

/* Decodes n bytes of percent-encoded text into a new string (*out
 * malloc'd). A decoded NUL is always refused. 0, PWB_EINVAL or -ENOMEM. */
int pwb_percent_decode(const char *in, size_t n, unsigned flags, char **out);

/* The reason phrase of an HTTP status code ("Not Found"). */
const char *pwb_http_reason(int status);

#endif
