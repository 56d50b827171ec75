/* See fileio.h. */
#include <errno.h>
#include <unistd.h>
#include "fileio.h"

ssize_t pwb_read_all(int fd, void *buf, size_t cap)
{
	size_t used = 0;

	while (used < cap) {
		ssize_t n = read(fd, (char *)buf + used, cap - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		used += (size_t)n;
	}
	return (ssize_t)used;
}
