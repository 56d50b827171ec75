/* Progress of a long operation (an import, an export, a full snapshot
 * rebuild): the callback a long loop reports to, and the one throttle that
 * keeps reports to about ten a second. pwbd turns reports into progress
 * frames (lib/rpc); pwbadm --offline draws them itself. libc only. */
#ifndef PWB_PROGRESS_H
#define PWB_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

/* One report: done of total units so far in stage. total < 0: unknown.
 * stage ("importing", "publishing") and unit ("users", "groups") are short
 * lowercase words (see pwb_progress_word_ok); a change of either starts a
 * new count. */
typedef void (*pwb_progress_fn)(void *ctx, const char *stage, uint64_t done, int64_t total,
				const char *unit);

struct pwb_progress {
	pwb_progress_fn fn; /* NULL: nobody listens */
	void *ctx;
};

/* Calls p's callback if there is one (p may be NULL). */
void pwb_progress_report(const struct pwb_progress *p, const char *stage, uint64_t done,
			 int64_t total, const char *unit);

/* The throttle: a report is due when it is the first of its stage and
 * unit, the last (done == total), or PWB_PROGRESS_INTERVAL_MS after the
 * last one let through. Zero-initialise; the strings are copied. */
#define PWB_PROGRESS_INTERVAL_MS 100
#define PWB_PROGRESS_WORD_MAX	 32
struct pwb_progress_throttle {
	char stage[PWB_PROGRESS_WORD_MAX + 1], unit[PWB_PROGRESS_WORD_MAX + 1];
	int64_t last_ms; /* CLOCK_MONOTONIC of the last report let through */
	bool started;
};
bool pwb_progress_due(struct pwb_progress_throttle *t, const char *stage, const char *unit,
		      uint64_t done, int64_t total, int64_t now_ms);

/* A stage or unit word: [a-z][a-z -]{0,31}. */
bool pwb_progress_word_ok(const char *s);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t pwb_progress_now_ms(void);

#endif
