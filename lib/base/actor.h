/* Who made a change, as the change log records it (and, later, the audit
 * trail shows it). pwbd fills it from the caller's SO_PEERCRED and, for
 * root callers only, from what the request says. */
#ifndef PWB_ACTOR_H
#define PWB_ACTOR_H

#include <stdint.h>

#define PWB_ACTOR_FIELD 256 /* each string, bytes with the NUL */

/* Who asked, as pwbd records it in the change log (every field a
 * NUL-terminated string, possibly empty). kind: "root" (a root caller that
 * gave no more), "jit" (PAM: service, rhost), "pwbadm" (user: SUDO_USER or
 * the login uid's name), "scim" (name: the SCIM token's name; rhost: the
 * client address), "pwb-login", "pwbd" (the daemon itself). */
struct pwb_actor {
	char kind[16];
	char name[PWB_ACTOR_FIELD];    /* token name, pwbadm's invoking user, ... */
	char service[PWB_ACTOR_FIELD]; /* PAM service */
	char rhost[PWB_ACTOR_FIELD];   /* remote host / client address */
	uint32_t uid;		       /* the peer's uid (SO_PEERCRED) */
};

#endif
