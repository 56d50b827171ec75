/* Scope-bound cleanup helpers (systemd style): a variable declared with one
 * of these is released however the scope is left, so early returns never
 * leak. Each free function is NULL-safe. */
#ifndef PWB_CLEANUP_H
#define PWB_CLEANUP_H

#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>

static inline void pwb_freep(void *p)
{
	free(*(void **)p);
}

static inline void pwb_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void pwb_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_(f)	 __attribute__((cleanup(f)))
#define _cleanup_free_	 _cleanup_(pwb_freep)
#define _cleanup_close_	 _cleanup_(pwb_closep)
#define _cleanup_fclose_ _cleanup_(pwb_fclosep)

/* Hands ownership over: returns p and NULLs the variable holding it. */
#define PWB_TAKE_PTR(p)                                                                            \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})

#define PWB_TAKE_FD(fd)                                                                            \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

#define PWB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
