/* Reading a small file that is already open, the one loop: retried on
 * EINTR, stopping at end of file or when the buffer is full. */
#ifndef PWB_FILEIO_H
#define PWB_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Reads up to cap bytes into buf: the count read, or -errno. */
ssize_t pwb_read_all(int fd, void *buf, size_t cap);

#endif
