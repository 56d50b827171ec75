/* The one retry pause: exponential back-off with a cap and a total
 * patience, for loops that retry an operation another party can make fail
 * for a moment (a snapshot level swapped away, a lock conflict). libc only. */
#ifndef PWB_BACKOFF_H
#define PWB_BACKOFF_H

#include <stdbool.h>

struct pwb_backoff {
	unsigned attempt;      /* waits so far */
	unsigned pause_us;     /* the next pause */
	unsigned max_pause_us; /* pauses double up to this */
	long long waited_us;   /* slept so far */
	long long patience_us; /* no wait past this in total */
};

/* First pause first_us (0: retry at once, then 1 microsecond doubling). */
void pwb_backoff_init(struct pwb_backoff *b, unsigned first_us, unsigned max_pause_us,
		      long long patience_us);

/* Sleeps the next pause and returns true, or returns false without
 * sleeping once the patience is spent: the caller gives up. */
bool pwb_backoff_wait(struct pwb_backoff *b);

#endif
