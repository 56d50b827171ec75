/* Scope-bound release of Jansson values (see cleanup.h): a json_t declared
 * _cleanup_json_ is json_decref'd when its scope ends. Included only by
 * Jansson users, so base itself stays libc-only. */
#ifndef PWB_CLEANUP_JSON_H
#define PWB_CLEANUP_JSON_H

#include <jansson.h>
#include "cleanup.h"

PWB_DEFINE_POINTER_CLEANUP(pwb_json_decrefp, json_t, json_decref)
#define _cleanup_json_ _cleanup_(pwb_json_decrefp)

#endif
