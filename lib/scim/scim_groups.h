/* Internal to libpwb_scim: the Group resource type's operations. */
#ifndef PWB_SCIM_GROUPS_H
#define PWB_SCIM_GROUPS_H

#include "scim_endpoint.h"

extern const struct pwb_scim_resource_ops pwb_scim_groups_ops;

#endif
