/* pam_pwb_oidc's device mode (RFC 8628 for sshd and console logins): the
 * prompt a person reads (device_prompt.c: host, account, URL, code, an
 * optional QR code), the caps on flows in progress (device_slots.c) and
 * the flow itself (device.c: request a code, prompt, poll, hand the ID
 * token back for the same validation as a web sign-in). */
#ifndef PWB_PAM_DEVICE_H
#define PWB_PAM_DEVICE_H

#include <stdbool.h>
#include <security/pam_modules.h>
#include "config.h"
#include "error.h"

/* The one echo-off prompt of a device sign-in, each part on its own line:
 *   Sign in to HOST as USER
 *   Open: URI
 *   Code: USER_CODE
 *   [the QR code of URI, when qr and the module was built with libqrencode]
 *   Press Enter after you approve:
 * HOST is escaped (printable bytes only); USER, URI and USER_CODE are
 * already checked (a valid name, printable ASCII). *out malloc'd. */
int pwb_device_prompt(const char *host, const char *user, const char *uri, const char *user_code,
		      bool qr, char **out);

/* What the module asks when the token endpoint still says pending after
 * the person pressed Enter. */
#define PWB_DEVICE_REPROMPT "Not approved yet; press Enter after you approve: "

/* text as a QR code (error correction L) in Unicode half blocks, two module
 * rows per line, with a 2-module quiet zone, drawn for a dark terminal
 * background (a full block is a light module); lines end with '\n'.
 * *out malloc'd. -ENOTSUP when built without libqrencode, PWB_EINVAL when
 * text does not fit in a QR code. */
int pwb_device_qr(const char *text, char **out);

/* Takes a slot for one device flow in dir (created 0700, owned by the
 * caller, refused when open to others): at most max_flows on the host and,
 * when address is not NULL or empty, at most max_per_address from that
 * remote address. A slot is a flock(2) on one of max_flows files, so a
 * process that dies (sshd killing a child at LoginGraceTime) frees its
 * slot at once. *fd: the slot, for pwb_device_slot_release. PWB_EBUSY
 * with a message naming the cap that was hit; -errno when dir is unusable. */
int pwb_device_slot_take(const char *dir, unsigned max_flows, unsigned max_per_address,
			 const char *address, int *fd, struct pwb_error *err);
void pwb_device_slot_release(int fd);

/* The device flow for user (who has an account): device client from
 * auth-openid-device-client-file, a device code, the prompt, the polls.
 * PAM_SUCCESS: *id_token (wipe it), *client_id (the audience the token
 * must carry) and *client_secret (NULL for a public client; the key of an
 * HMAC-signed token; wipe it) are malloc'd. Otherwise a PAM error, with one
 * syslog line and (unless PAM_SILENT) one message to the person already
 * given. */
int pwb_device_obtain_token(pam_handle_t *pamh, int flags, const struct pwb_config *cfg,
			    const char *user, bool qr, char **id_token, char **client_id,
			    char **client_secret);

#endif
