/* SCIM discovery documents (RFC 7644 §4, RFC 7643 §5-7): the
 * ServiceProviderConfig, the User and Group ResourceTypes, and the Schemas
 * of what pwb-scim serves (core User, core Group, pwb's posix extensions). */
#ifndef PWB_SCIM_DISCOVERY_H
#define PWB_SCIM_DISCOVERY_H

#include <jansson.h>

json_t *pwb_scim_service_provider_config(const char *base_url, unsigned max_bytes);

/* All resource types as a ListResponse, or the one named (NULL if none). */
json_t *pwb_scim_resource_types(const char *base_url, const char *name);

/* All schemas as a ListResponse, or the one whose id is urn (NULL if none). */
json_t *pwb_scim_schemas(const char *base_url, const char *urn);

#endif
