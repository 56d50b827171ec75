/* SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): parsing into
 * a tree, and evaluation against a resource's JSON. Attribute names are
 * case-insensitive; string comparison honours caseExact (id, externalId);
 * date-times compare as instants. Input is bounded in length and depth. */
#ifndef PWB_SCIM_FILTER_H
#define PWB_SCIM_FILTER_H

#include <stdbool.h>
#include <jansson.h>
#include "scim_error.h"

#define PWB_SCIM_FILTER_MAX_LEN	  4096
#define PWB_SCIM_FILTER_MAX_DEPTH 32

enum pwb_scim_filter_op {
	PWB_SCIM_EQ,
	PWB_SCIM_NE,
	PWB_SCIM_CO,
	PWB_SCIM_SW,
	PWB_SCIM_EW,
	PWB_SCIM_GT,
	PWB_SCIM_GE,
	PWB_SCIM_LT,
	PWB_SCIM_LE,
	PWB_SCIM_PR,
	PWB_SCIM_AND,
	PWB_SCIM_OR,
	PWB_SCIM_NOT,
	PWB_SCIM_VALUE_PATH, /* attr[filter]: some element of attr matches left */
};

/* attrPath: [URN ":"] attr ["." sub] */
struct pwb_scim_attr_path {
	char *urn;  /* schema URN or NULL */
	char *attr; /* never NULL */
	char *sub;  /* sub-attribute or NULL */
};

struct pwb_scim_filter {
	enum pwb_scim_filter_op op;
	struct pwb_scim_attr_path path; /* comparisons, pr, value paths */
	json_t *value;			/* comparison value */
	struct pwb_scim_filter *left;	/* and/or/not operand; value path filter */
	struct pwb_scim_filter *right;	/* and/or */
};

/* A PATCH path: attrPath, or attr[filter] optionally followed by ".sub". */
struct pwb_scim_patch_path {
	struct pwb_scim_attr_path path;
	struct pwb_scim_filter *filter; /* NULL without [..] */
	char *value_sub;		/* the ".sub" after "]" or NULL */
};

/* Parses text; 400 invalidFilter on error, naming the position. */
int pwb_scim_filter_parse(const char *text, struct pwb_scim_filter **out,
			  struct pwb_scim_error *err);
void pwb_scim_filter_free(struct pwb_scim_filter *f);

/* True if the resource (a User or Group JSON) matches. */
bool pwb_scim_filter_match(const struct pwb_scim_filter *f, json_t *resource);

/* True if any comparison in f names attribute attr (top level). */
bool pwb_scim_filter_mentions(const struct pwb_scim_filter *f, const char *attr);

/* When every match must satisfy `attr eq "string"` (f is that comparison,
 * or an "and" with it on either side), returns the string: the service
 * then looks the candidate up in an index instead of scanning. */
const char *pwb_scim_filter_indexed_eq(const struct pwb_scim_filter *f, const char *attr);

/* Parses one attrPath ("name.givenName", "urn:...:User:manager"). */
int pwb_scim_attr_path_parse(const char *text, struct pwb_scim_attr_path *out,
			     struct pwb_scim_error *err);
void pwb_scim_attr_path_clear(struct pwb_scim_attr_path *p);

/* Parses a PATCH path; 400 invalidPath on error. */
int pwb_scim_patch_path_parse(const char *text, struct pwb_scim_patch_path *out,
			      struct pwb_scim_error *err);
void pwb_scim_patch_path_clear(struct pwb_scim_patch_path *p);

/* The object an attrPath's attribute lives in: the resource itself for no
 * URN or the resource's core schema, else the extension object named by
 * the URN (created when create is true). NULL if absent. */
json_t *pwb_scim_path_container(json_t *resource, const struct pwb_scim_attr_path *p, bool create);

#endif
