/* pwbd's scim operations (see ops.h). */
#include "ops.h"

const struct pwbd_op pwbd_ops_scim[] = {
    {NULL, 0, false, NULL},
};
