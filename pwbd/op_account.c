/* pwbd's account operations (see ops.h). */
#include "ops.h"

const struct pwbd_op pwbd_ops_account[] = {
    {NULL, 0, false, NULL},
};
