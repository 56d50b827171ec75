/* SCIM User and Group resources (RFC 7643) <-> store records. Attributes
 * the store has fields for are mapped; every other attribute the IdP sends
 * (name, emails, enterprise extension, ...) is kept in the record's attrs
 * and returned as sent. Passwords are dropped, never stored. */
#ifndef PWB_SCIM_RESOURCE_H
#define PWB_SCIM_RESOURCE_H

#include <jansson.h>
#include "config.h"
#include "scim_error.h"
#include "store.h"

#define PWB_SCIM_USER_SCHEMA	 "urn:ietf:params:scim:schemas:core:2.0:User"
#define PWB_SCIM_GROUP_SCHEMA	 "urn:ietf:params:scim:schemas:core:2.0:Group"
#define PWB_SCIM_POSIX_USER	 "urn:pwb:params:scim:schemas:extension:posix:1.0:User"
#define PWB_SCIM_POSIX_GROUP	 "urn:pwb:params:scim:schemas:extension:posix:1.0:Group"
#define PWB_SCIM_WORKBENCH_USER	 "urn:rstudio:params:scim:schemas:extension:workbench:1.0:User"
#define PWB_SCIM_ENTERPRISE_USER "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

/* base_url: "https://host/scim/v2", for meta.location and $ref. groups
 * (stolen, may be NULL): the user's [{value, display}] memberships. */
json_t *pwb_scim_user_to_json(const struct pwb_user *u, json_t *groups, const char *base_url);

/* Fills out (zeroed) from a User body. existing (NULL on create) supplies
 * what the body may omit without meaning "change it": id, uid/gid, home,
 * shell, active, created, version. The Linux name comes from userName through
 * pwb_names_to_linux (domain stripped, lower-cased, within cfg's allowed
 * domains); a refused name is 400 invalidValue naming the field. */
int pwb_scim_user_from_json(json_t *in, const struct pwb_config *cfg,
			    const struct pwb_user *existing, struct pwb_user *out,
			    struct pwb_scim_error *err);

/* members (stolen, may be NULL): [{value, display}] of the group. */
json_t *pwb_scim_group_to_json(const struct pwb_group *g, json_t *members, const char *base_url);

/* The Linux name comes from displayName (lower-cased); a name in
 * group-provisioning-deny-names is 400 invalidValue naming displayName. */
int pwb_scim_group_from_json(json_t *in, const struct pwb_config *cfg,
			     const struct pwb_group *existing, struct pwb_group *out,
			     struct pwb_scim_error *err);

/* The member user ids a Group body lists, as a JSON array of strings; NULL
 * in *out when the body has no "members" (PUT then keeps them). */
int pwb_scim_group_member_ids(json_t *in, json_t **out, struct pwb_scim_error *err);

/* W/"N": the ETag of a version. */
void pwb_scim_etag(uint64_t version, char out[32]);

#endif
