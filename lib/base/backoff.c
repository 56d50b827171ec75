/* Exponential back-off (backoff.h). */
#include <time.h>
#include "backoff.h"

void pwb_backoff_init(struct pwb_backoff *b, unsigned first_us, unsigned max_pause_us,
		      long long patience_us)
{
	b->attempt = 0;
	b->pause_us = first_us;
	b->max_pause_us = max_pause_us;
	b->waited_us = 0;
	b->patience_us = patience_us;
}

bool pwb_backoff_wait(struct pwb_backoff *b)
{
	struct timespec pause;

	if (b->waited_us >= b->patience_us)
		return false;
	if (b->pause_us) {
		pause.tv_sec = b->pause_us / 1000000;
		pause.tv_nsec = (long)(b->pause_us % 1000000) * 1000;
		while (nanosleep(&pause, &pause) != 0)
			; /* EINTR: sleep the rest */
		b->waited_us += b->pause_us;
	}
	b->attempt++;
	b->pause_us = b->pause_us ? b->pause_us * 2 : 1;
	if (b->pause_us > b->max_pause_us)
		b->pause_us = b->max_pause_us;
	return true;
}
