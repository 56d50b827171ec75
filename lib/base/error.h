/* pwb's one error idiom: functions return 0 or a negative code (-errno or
 * PWB_E*), and say what went wrong in a struct pwb_error the caller owns.
 * Messages name the file, line, user or field at fault, never a secret. */
#ifndef PWB_ERROR_H
#define PWB_ERROR_H

#include <stddef.h>

enum {
	PWB_ENOTFOUND = -1001, /* no such user, group, token or key */
	PWB_EEXIST = -1002,    /* a unique name, id or externalId is taken */
	PWB_EINVAL = -1003,    /* input refused (bad name, bad value) */
	PWB_ENOIDS = -1004,    /* the UID/GID range is exhausted */
	PWB_ECONFIG = -1005,   /* configuration file wrong */
	PWB_ESTORE = -1006,    /* Berkeley DB failed */
	PWB_ELOCAL = -1007,    /* name or id owned by a local (non-pwb) account */
	PWB_EAUTH = -1008,     /* credential refused */
	PWB_EUNAVAIL = -1009,  /* a service (IdP, store) cannot be reached */
	PWB_ECONFLICT = -1010, /* version mismatch (optimistic concurrency) */
	PWB_EDAMAGED = -1011,  /* a stored record cannot be decoded (see store.h) */
	PWB_ENODAEMON = -1012, /* pwbd cannot be reached (not running, no socket) */
	PWB_EPERM = -1013,     /* pwbd refuses this operation to this caller */
	PWB_EBUSY = -1014,     /* the store is in use (pwbd runs: no offline maintenance) */
};

struct pwb_error {
	int code;
	char msg[512];
};

/* Records code and a printf-style message; returns code so callers can
 * write `return pwb_error_set(err, PWB_EINVAL, "...")`. err may be NULL. */
int pwb_error_set(struct pwb_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes an existing message with more context ("file: line 3: ..."). */
int pwb_error_prefix(struct pwb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A short text for a code, for when no message was recorded. */
const char *pwb_strerror(int code);

/* The message if one was set, else pwb_strerror(code). */
const char *pwb_error_text(const struct pwb_error *err, int code);

#endif
