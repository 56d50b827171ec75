/* Progress reports (progress.h): the call that tolerates no listener, the
 * ten-a-second throttle, and the word rule the protocol checks. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "progress.h"

void pwb_progress_report(const struct pwb_progress *p, const char *stage, uint64_t done,
			 int64_t total, const char *unit)
{
	if (p && p->fn)
		p->fn(p->ctx, stage, done, total, unit);
}

bool pwb_progress_due(struct pwb_progress_throttle *t, const char *stage, const char *unit,
		      uint64_t done, int64_t total, int64_t now_ms)
{
	bool first = !t->started || strcmp(t->stage, stage) != 0 || strcmp(t->unit, unit) != 0;

	if (!first && (total < 0 || done != (uint64_t)total) &&
	    now_ms - t->last_ms < PWB_PROGRESS_INTERVAL_MS)
		return false;
	if (first) {
		snprintf(t->stage, sizeof(t->stage), "%s", stage);
		snprintf(t->unit, sizeof(t->unit), "%s", unit);
		t->started = true;
	}
	t->last_ms = now_ms;
	return true;
}

bool pwb_progress_word_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > PWB_PROGRESS_WORD_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz -") == n;
}

int64_t pwb_progress_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
