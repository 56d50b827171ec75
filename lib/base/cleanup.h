/* Scope-bound cleanup helpers (systemd style): a variable declared with one
 * of these is released however the scope is left, so early returns never
 * leak. Each free function is NULL-safe. pwb's one cleanup idiom: a
 * function uses these, never a `goto out` as well; ownership leaves a
 * variable with PWB_TAKE_PTR/PWB_TAKE_FD. */
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

/* A file that exists only until its scope succeeds (a temporary file not
 * yet renamed into place): unlinked unless the variable was set to NULL. */
static inline void pwb_unlinkp(char **path)
{
	if (*path)
		unlink(*path);
}

/* Defines NAME(TYPE **p), a cleanup function that calls FREE(*p) when *p
 * is not NULL: one line per owned type. The types that need a library have
 * their helpers in their own header, included only by that library's
 * users (so base stays libc-only): cleanup_json.h (Jansson),
 * cleanup_ssl.h (OpenSSL), snapshot/db_cleanup.h (Berkeley DB),
 * store/store_cleanup.h (store records and handles). */
#define PWB_DEFINE_POINTER_CLEANUP(name, type, free_fn)                                            \
	static inline void name(type **p)                                                          \
	{                                                                                          \
		if (*p)                                                                            \
			free_fn(*p);                                                               \
	}

#define _cleanup_(f)	 __attribute__((cleanup(f)))
#define _cleanup_free_	 _cleanup_(pwb_freep)
#define _cleanup_close_	 _cleanup_(pwb_closep)
#define _cleanup_fclose_ _cleanup_(pwb_fclosep)
#define _cleanup_unlink_ _cleanup_(pwb_unlinkp)

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
