/* The OIDC client secret at rest: `pwbadm encrypt-password` writes it
 * encrypted (AES-256-GCM under secure-key-file, versioned, base64), and
 * pam_pwb_oidc decrypts it. The key file is created 0600 on first use and
 * refused if group/world-accessible or not owned by root. */
#ifndef PWB_SECRET_H
#define PWB_SECRET_H

#include <stdbool.h>
#include "cleanup.h"
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

/* Reads the client-secret file (`client-id=`, `client-secret=` lines; mode
 * must be 0600 or stricter) and returns the client id and the decrypted
 * secret (NULL when the file has none). */
int pwb_secret_read_client_file(const char *path, const char *key_file, char **client_id,
				char **client_secret, struct pwb_error *err);

#endif
