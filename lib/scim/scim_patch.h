/* SCIM PATCH (RFC 7644 §3.5.2) applied to a resource's JSON: add, replace
 * and remove, with or without a path, value filters in paths, and the
 * forms Okta and Entra ID send (capitalised ops, a path-less replace whose
 * value keys are themselves paths, member removal by a value array). The
 * caller turns the patched JSON back into a record, so the same checks as
 * PUT apply. Read-only attributes (id, meta, groups, schemas) are left
 * alone. */
#ifndef PWB_SCIM_PATCH_H
#define PWB_SCIM_PATCH_H

#include <jansson.h>
#include "scim_error.h"

#define PWB_SCIM_PATCH_SCHEMA  "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define PWB_SCIM_PATCH_MAX_OPS 1000

/* Applies the PatchOp request body to resource in place. On error the
 * resource may be partly changed; the caller discards it. */
int pwb_scim_patch_apply(json_t *resource, json_t *request, struct pwb_scim_error *err);

#endif
