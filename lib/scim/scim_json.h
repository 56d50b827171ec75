/* JSON helpers for SCIM: attribute names are case-insensitive (RFC 7643
 * §2.1), so every lookup of an attribute in a resource goes through here,
 * never through json_object_get() directly. */
#ifndef PWB_SCIM_JSON_H
#define PWB_SCIM_JSON_H

#include <stdbool.h>
#include <jansson.h>

/* How deep a request body may nest: a scalar is 0 levels, an object or
 * array one more than its deepest member. The store bounds what it keeps
 * the same way; refusing at parse time names the request's fault. */
#define PWB_SCIM_JSON_DEPTH_MAX 32

/* True if v nests deeper than max levels. Looks no further than max + 1
 * levels down, so the recursion is bounded by max, not by the input. */
bool pwb_scim_json_deeper_than(json_t *v, unsigned max);

/* The key of the first member of obj whose value nests deeper than max - 1
 * levels (so that obj is deeper than max), or NULL if none. */
const char *pwb_scim_json_too_deep_member(json_t *obj, unsigned max);

/* The member of obj whose key equals name ignoring ASCII case, or NULL;
 * *key_out (may be NULL) receives the key as stored. Borrowed reference. */
json_t *pwb_scim_json_get(json_t *obj, const char *name, const char **key_out);

/* Sets name (replacing a member that differs only in case); steals value. */
int pwb_scim_json_set(json_t *obj, const char *name, json_t *value);

/* Removes every member named name ignoring case. */
void pwb_scim_json_del(json_t *obj, const char *name);

/* A string member (case-insensitive name) or NULL if absent/not a string. */
const char *pwb_scim_json_string(json_t *obj, const char *name);

/* A SCIM boolean: JSON true/false or Entra ID's "True"/"False" strings.
 * Returns 0, or -1 when value is neither. */
int pwb_scim_json_bool(json_t *value, bool *out);

/* Parses an RFC 3339 date-time ("2026-11-28T12:00:00Z", fractions and
 * offsets allowed) into seconds since the epoch. */
bool pwb_scim_parse_datetime(const char *s, double *out);

#endif
