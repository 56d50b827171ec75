/* Logging sink for library code: syslog (authpriv), plus stderr for
 * programs that ask for it. State is process-wide and set once at start. */
#include <stdarg.h>
#include <stdio.h>
#include "log.h"

static bool log_to_stderr;
static bool log_debug;

void pwb_log_init(const char *ident, bool to_stderr, bool debug)
{
	if (ident)
		openlog(ident, LOG_PID, LOG_AUTHPRIV);
	log_to_stderr = to_stderr;
	log_debug = debug;
}

bool pwb_log_debug_enabled(void)
{
	return log_debug;
}

void pwb_log(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(LOG_AUTHPRIV | priority, fmt, ap);
	va_end(ap);
	if (log_to_stderr) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}
