/* Scope-bound release of store records and handles (see cleanup.h): a
 * struct pwb_user or pwb_group declared _cleanup_user_/_cleanup_group_
 * (zero-initialised) is cleared when its scope ends, a struct pwb_store *
 * declared _cleanup_store_ is closed. */
#ifndef PWB_STORE_CLEANUP_H
#define PWB_STORE_CLEANUP_H

#include "cleanup.h"
#include "store.h"

PWB_DEFINE_POINTER_CLEANUP(pwb_store_closep, struct pwb_store, pwb_store_close)

#define _cleanup_user_	_cleanup_(pwb_user_clear)
#define _cleanup_group_ _cleanup_(pwb_group_clear)
#define _cleanup_store_ _cleanup_(pwb_store_closep)

#endif
