/* The OIDC client secret at rest: `pwbadm encrypt-password` writes it
 * encrypted (AES-256-GCM under secure-key-file, versioned, base64), and
 * pam_pwb_oidc and pwb-login decrypt it. The key file is created 0600 on
 * first use; it and the client-secret file are refused unless regular,
 * closed to group and others, and owned by root or by the caller's
 * effective uid (pwb-login reading its own credentials). */
#ifndef PWB_SECRET_H
#define PWB_SECRET_H

#include <stdbool.h>
#include "cleanup.h"
#include "config.h"
#include "error.h"
#include "util.h" /* pwb_free_secret */

/* Encrypted values look like "pwb1:BASE64" (version prefix, then
 * nonce || ciphertext || tag). Anything else is a plain secret. */
#define PWB_SECRET_PREFIX "pwb1:"

bool pwb_secret_is_encrypted(const char *value);

/* Encrypts plain under the key in key_file (created when create_key and
 * missing). *out is malloc'd; free with pwb_free_secret(). */
int pwb_secret_encrypt(const char *key_file, bool create_key, const char *plain, char **out,
		       struct pwb_error *err);

/* Decrypts an encrypted value, or copies a plain one. A tampered value or a
 * wrong key is PWB_EAUTH. *out is malloc'd; free with pwb_free_secret(). */
int pwb_secret_decrypt(const char *key_file, const char *value, char **out, struct pwb_error *err);

/* A secret string wiped and freed when its scope ends. */
PWB_DEFINE_POINTER_CLEANUP(pwb_free_secretp, char, pwb_free_secret)
#define _cleanup_secret_ _cleanup_(pwb_free_secretp)

/* Reads the client-secret file (`client-id=`, `client-secret=` lines; the
 * same ownership and mode rule as the key file) and returns the client id and the decrypted
 * secret (NULL when the file has none). */
int pwb_secret_read_client_file(const char *path, const char *key_file, char **client_id,
				char **client_secret, struct pwb_error *err);

/* Reads a bearer token kept in clear in a file (scim-metrics-token-file):
 * the one line of a file with the same ownership and mode rule, into
 * out[cap]; a trailing newline is dropped. Wipe out after use. */
int pwb_secret_read_token_file(const char *path, char *out, size_t cap, struct pwb_error *err);

/* The names of pwb-login's credentials under $CREDENTIALS_DIRECTORY
 * (systemd LoadCredential=). */
#define PWB_CREDENTIAL_CLIENT_SECRET "openid-client-secret"
#define PWB_CREDENTIAL_SECURE_KEY    "secure-key"

/* pwb-login's client id and secret: from
 * $CREDENTIALS_DIRECTORY/openid-client-secret and .../secure-key when the
 * variable is set (an absolute path) and the file exists, each falling
 * back to auth-openid-client-secret-file and secure-key-file. For
 * pwb-login only: PAM modules must never call this, since the environment
 * of a setuid program's caller is hostile (it would pick the key and the
 * client secret the module trusts); they use pwb_secret_read_client_file
 * with the configured paths. */
int pwb_secret_read_credentials(const struct pwb_config *cfg, char **client_id,
				char **client_secret, struct pwb_error *err);

#endif
