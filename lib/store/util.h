/* Small helpers shared by every component: UUIDs, time, base64url,
 * checked number parsing, secret wiping. */
#ifndef PWB_UTIL_H
#define PWB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A random (v4) lower-case UUID into out[37]. */
int pwb_uuid_generate(char out[37]);
bool pwb_uuid_is_valid(const char *s);

int64_t pwb_now(void); /* unix seconds */

/* Formats t as RFC 3339 UTC ("2026-11-28T12:00:00Z") into out[32]. */
void pwb_time_format(int64_t t, char out[32]);

/* Parses a whole decimal string into [min, max]; -EINVAL / -ERANGE. */
int pwb_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
int pwb_parse_i64(const char *s, int64_t *out);

/* base64url without padding. Encode: out must hold 4*ceil(len/3)+1 bytes.
 * Decode: refuses padding-free garbage; *outlen in: capacity, out: used. */
size_t pwb_base64url_encode(const unsigned char *in, size_t len, char *out);
int pwb_base64url_decode(const char *in, size_t len, unsigned char *out, size_t *outlen);

/* True if two optional strings differ (NULL equals only NULL). */
bool pwb_str_differs(const char *a, const char *b);

/* Wipes then frees a secret string. */
void pwb_free_secret(char *s);

#endif
