/* pwbd's admin operations (see ops.h). */
#include "ops.h"

const struct pwbd_op pwbd_ops_admin[] = {
    {NULL, 0, false, NULL},
};
