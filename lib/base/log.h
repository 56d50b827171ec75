/* Logging for library code: one syslog line per event (authpriv facility),
 * optionally mirrored to stderr for programs. Callers never pass a token,
 * secret or password; untrusted names go through pwb_names_escape first. */
#ifndef PWB_LOG_H
#define PWB_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* ident: syslog tag ("pwb-scim", "pwbadm"); NULL keeps the host's openlog
 * (PAM and NSS must not call openlog in someone else's process). */
void pwb_log_init(const char *ident, bool to_stderr, bool debug);

bool pwb_log_debug_enabled(void);

void pwb_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pwb_debug(...)                                                                             \
	do {                                                                                       \
		if (pwb_log_debug_enabled())                                                       \
			pwb_log(LOG_DEBUG, __VA_ARGS__);                                           \
	} while (0)

#endif
