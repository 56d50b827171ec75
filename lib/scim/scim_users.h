/* Internal to libpwb_scim: the User resource type's operations. */
#ifndef PWB_SCIM_USERS_H
#define PWB_SCIM_USERS_H

#include "scim_endpoint.h"

extern const struct pwb_scim_resource_ops pwb_scim_users_ops;

#endif
