/* pwbadm's progress line: on a terminal only (stderr a tty, no --json),
 * one line on stderr rewritten in place ("importing: 41,000/100,000 users,
 * 9,800/s, ETA 6 s") from pwbd's progress frames, or from the handlers
 * themselves with --offline; cleared before the command prints its result. */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "pwbadm.h"

/* n with a comma every three digits. */
static void thousands(uint64_t n, char out[32])
{
	char digits[24];
	size_t len, o = 0;

	len = (size_t)snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

static void eta_text(uint64_t seconds, char *out, size_t len)
{
	if (seconds < 60)
		snprintf(out, len, "%llu s", (unsigned long long)seconds);
	else if (seconds < 3600)
		snprintf(out, len, "%llu min %02llu s", (unsigned long long)(seconds / 60),
			 (unsigned long long)(seconds % 60));
	else
		snprintf(out, len, "%llu h %02llu min", (unsigned long long)(seconds / 3600),
			 (unsigned long long)(seconds / 60 % 60));
}

void pwbadm_progress_format(char *out, size_t len, const char *stage, uint64_t done, int64_t total,
			    const char *unit, uint64_t counted, int64_t elapsed_ms)
{
	char d[32], t[32], r[32], eta[32];
	uint64_t rate = 0;
	size_t n;

	thousands(done, d);
	if (total >= 0) {
		thousands((uint64_t)total, t);
		n = (size_t)snprintf(out, len, "%s: %s/%s %s", stage, d, t, unit);
	} else {
		n = (size_t)snprintf(out, len, "%s: %s %s", stage, d, unit);
	}
	if (n >= len || elapsed_ms <= 0 || counted == 0)
		return; /* no rate from a single point in time */
	rate = counted * 1000 / (uint64_t)elapsed_ms;
	thousands(rate, r);
	n += (size_t)snprintf(out + n, len - n, ", %s/s", r);
	if (n >= len || total < 0 || done >= (uint64_t)total || rate == 0)
		return;
	/* rounded up: "ETA 0 s" would be a lie while work remains */
	eta_text(((uint64_t)total - done + rate - 1) / rate, eta, sizeof(eta));
	snprintf(out + n, len - n, ", ETA %s", eta);
}

/* Draws a report (throttled). The rate counts from a stage's first
 * report: what came before it (reading a file, a commit) is not the
 * stage's work. */
static void draw(void *ctx, const char *stage, uint64_t done, int64_t total, const char *unit)
{
	struct pwbadm_progress *p = ctx;
	int64_t now = pwb_progress_now_ms();
	char line[256];
	size_t len;

	if (strcmp(p->stage, stage) != 0 || strcmp(p->unit, unit) != 0) {
		snprintf(p->stage, sizeof(p->stage), "%s", stage);
		snprintf(p->unit, sizeof(p->unit), "%s", unit);
		p->stage_start_ms = now;
		p->stage_start_done = done;
	}
	if (!pwb_progress_due(&p->throttle, stage, unit, done, total, now))
		return;
	pwbadm_progress_format(line, sizeof(line), stage, done, total, unit,
			       done - p->stage_start_done, now - p->stage_start_ms);
	len = strlen(line);
	/* One row: a line that wrapped could not be rewritten with \r. */
	if (p->columns > 1 && len > p->columns - 1)
		line[len = p->columns - 1] = '\0';
	/* Back to the start, and blanks over what the last line had more:
	 * no escape sequence, so any terminal shows it right. */
	fprintf(stderr, "\r%s%*s", line, p->width > len ? (int)(p->width - len) : 0, "");
	fflush(stderr);
	p->width = len;
}

/* Off a terminal the frames are still asked for and dropped: each one
 * restarts the client's reply timeout (pwbd-timeout), so an import that
 * runs longer than that is not given up on while pwbd is still working. */
static void keep_alive(void *ctx, const char *stage, uint64_t done, int64_t total, const char *unit)
{
	(void)ctx, (void)stage, (void)done, (void)total, (void)unit;
}

void pwbadm_progress_start(struct pwbadm *adm, const struct pwbadm_args *a)
{
	struct pwbadm_progress *p = &adm->progress_line;
	struct winsize ws;

	memset(p, 0, sizeof(*p));
	adm->progress = (struct pwb_progress){.fn = keep_alive};
	if (a->json || !isatty(STDERR_FILENO))
		return;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0)
		p->columns = ws.ws_col;
	adm->progress = (struct pwb_progress){.fn = draw, .ctx = p};
}

void pwbadm_progress_end(struct pwbadm *adm)
{
	struct pwbadm_progress *p = &adm->progress_line;

	if (p->width) {
		fprintf(stderr, "\r%*s\r", (int)p->width, "");
		fflush(stderr);
	}
	p->width = 0;
	adm->progress = (struct pwb_progress){0};
}
