/* The OIDC client secret at rest (see secret.h): AES-256-GCM through
 * OpenSSL EVP under a 32-byte key file only its owner (root, or pwb-login
 * for its own credentials) can read, and the reader of the
 * client-id/client-secret file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "cleanup.h"
#include "cleanup_ssl.h"
#include "fileio.h"
#include "secret.h"
#include "util.h"

#define KEY_BYTES	32
#define NONCE_BYTES	12
#define TAG_BYTES	16
#define SECRET_MAX	4096
#define CLIENT_FILE_MAX 16384
/* Binds the ciphertext to this format version. */
#define AAD "pwb1"
/* nonce, ciphertext and tag; base64 decoding may write up to 3 more bytes */
#define BLOCK_BYTES (NONCE_BYTES + SECRET_MAX + TAG_BYTES + 3)

/* Keys, ciphertexts and plaintexts are wiped however a function leaves. */
static void cleanse_key(unsigned char (*key)[KEY_BYTES])
{
	OPENSSL_cleanse(*key, sizeof(*key));
}

static void cleanse_block(unsigned char (*block)[BLOCK_BYTES])
{
	OPENSSL_cleanse(*block, sizeof(*block));
}

/* A plaintext buffer of known length (it need not hold a string yet). */
struct plaintext {
	char *text;
	size_t size;
};

static void plaintext_free(struct plaintext *p)
{
	if (p->text)
		OPENSSL_cleanse(p->text, p->size);
	free(p->text);
}

bool pwb_secret_is_encrypted(const char *value)
{
	return value && strncmp(value, PWB_SECRET_PREFIX, strlen(PWB_SECRET_PREFIX)) == 0;
}

/* The rule for both secret files (the key and the client-secret file): a
 * regular file closed to group and others, owned by root or by the
 * process's own effective uid. The latter is pwb-login (the login-user)
 * reading its own credentials; a PAM module in a root process is held to
 * root, and in a user's process to files that user can already read. */
static int check_private_file(int fd, const char *path, struct stat *st, struct pwb_error *err)
{
	uid_t euid = geteuid();

	if (fstat(fd, st) < 0)
		return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st->st_mode))
		return pwb_error_set(err, PWB_ECONFIG, "%s: not a regular file", path);
	if (st->st_uid != 0 && st->st_uid != euid)
		return pwb_error_set(err, PWB_ECONFIG,
				     "%s: owned by uid %u, must be root or uid %u", path,
				     (unsigned)st->st_uid, (unsigned)euid);
	if (st->st_mode & 077)
		return pwb_error_set(err, PWB_ECONFIG, "%s: mode %04o, must be 0600 or stricter",
				     path, (unsigned)(st->st_mode & 07777));
	return 0;
}

/* Reads exactly KEY_BYTES from an already open key file after checking it
 * is private (check_private_file). */
static int read_key_fd(int fd, const char *path, unsigned char key[KEY_BYTES],
		       struct pwb_error *err)
{
	struct stat st;
	size_t off = 0;
	int r;

	r = check_private_file(fd, path, &st, err);
	if (r < 0)
		return r;
	if (st.st_size != KEY_BYTES)
		return pwb_error_set(err, PWB_ECONFIG, "%s: must hold exactly %d bytes", path,
				     KEY_BYTES);
	while (off < KEY_BYTES) {
		ssize_t n = read(fd, key + off, KEY_BYTES - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return pwb_error_set(err, PWB_ECONFIG, "%s: short read", path);
		off += (size_t)n;
	}
	return 0;
}

static int create_key(const char *path, unsigned char key[KEY_BYTES], struct pwb_error *err)
{
	_cleanup_close_ int fd = -1;
	size_t off = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return pwb_error_set(err, -errno, "%s: cannot create: %s", path, strerror(errno));
	if (RAND_priv_bytes(key, KEY_BYTES) != 1) {
		unlink(path);
		return pwb_error_set(err, -EIO, "%s: no random bytes for a new key", path);
	}
	while (off < KEY_BYTES) {
		ssize_t n = write(fd, key + off, KEY_BYTES - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			unlink(path);
			return pwb_error_set(err, -EIO, "%s: write failed", path);
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		unlink(path);
		return pwb_error_set(err, -errno, "%s: fsync: %s", path, strerror(errno));
	}
	return 0;
}

static int load_key(const char *path, bool create, unsigned char key[KEY_BYTES],
		    struct pwb_error *err)
{
	_cleanup_close_ int fd = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		int r = create_key(path, key, err);

		/* Another process may have created it first: use theirs. */
		if (r != -EEXIST)
			return r;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return pwb_error_set(err, errno == ENOENT ? PWB_ECONFIG : -errno,
				     "%s: cannot open key file: %s", path, strerror(errno));
	return read_key_fd(fd, path, key, err);
}

int pwb_secret_encrypt(const char *key_file, bool create_key_file, const char *plain, char **out,
		       struct pwb_error *err)
{
	_cleanup_(cleanse_key) unsigned char key[KEY_BYTES];
	_cleanup_(cleanse_block) unsigned char buf[BLOCK_BYTES];
	_cleanup_evp_cipher_ctx_ EVP_CIPHER_CTX *ctx = NULL;
	size_t plen = strlen(plain), prefix = strlen(PWB_SECRET_PREFIX);
	char *text;
	int n, fin, r;

	*out = NULL;
	if (plen == 0 || plen > SECRET_MAX)
		return pwb_error_set(err, PWB_EINVAL, "secret must be 1 to %d bytes", SECRET_MAX);
	r = load_key(key_file, create_key_file, key, err);
	if (r < 0)
		return r;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || RAND_bytes(buf, NONCE_BYTES) != 1 ||
	    EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), key, buf, NULL) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)AAD, strlen(AAD)) != 1 ||
	    EVP_EncryptUpdate(ctx, buf + NONCE_BYTES, &n, (const unsigned char *)plain,
			      (int)plen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, buf + NONCE_BYTES + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES,
				buf + NONCE_BYTES + n + fin) != 1)
		return pwb_error_set(err, -EIO, "AES-256-GCM encryption failed");
	n = NONCE_BYTES + n + fin + TAG_BYTES;
	text = malloc(prefix + 4 * ((size_t)n + 2) / 3 + 1);
	if (!text)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	memcpy(text, PWB_SECRET_PREFIX, prefix);
	EVP_EncodeBlock((unsigned char *)text + prefix, buf, n);
	*out = text;
	return 0;
}

int pwb_secret_decrypt(const char *key_file, const char *value, char **out, struct pwb_error *err)
{
	_cleanup_(cleanse_key) unsigned char key[KEY_BYTES];
	_cleanup_(cleanse_block) unsigned char raw[BLOCK_BYTES];
	_cleanup_evp_cipher_ctx_ EVP_CIPHER_CTX *ctx = NULL;
	_cleanup_(plaintext_free) struct plaintext plain = {NULL, 0};
	const char *b64;
	size_t b64len, pad = 0, rawlen, ctlen;
	int n, fin, r;

	*out = NULL;
	if (!pwb_secret_is_encrypted(value)) {
		*out = strdup(value);
		return *out ? 0 : pwb_error_set(err, -ENOMEM, "out of memory");
	}
	b64 = value + strlen(PWB_SECRET_PREFIX);
	b64len = strlen(b64);
	if (b64len % 4 != 0 || b64len / 4 * 3 > sizeof(raw))
		return pwb_error_set(err, PWB_EAUTH, "encrypted secret is malformed");
	if (b64len >= 1 && b64[b64len - 1] == '=')
		pad++;
	if (b64len >= 2 && b64[b64len - 2] == '=')
		pad++;
	n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)b64len);
	if (n < 0 || (size_t)n < pad)
		return pwb_error_set(err, PWB_EAUTH, "encrypted secret is malformed");
	rawlen = (size_t)n - pad;
	if (rawlen <= NONCE_BYTES + TAG_BYTES)
		return pwb_error_set(err, PWB_EAUTH, "encrypted secret is too short");
	ctlen = rawlen - NONCE_BYTES - TAG_BYTES;
	r = load_key(key_file, false, key, err);
	if (r < 0)
		return r;
	plain.size = ctlen + 1;
	plain.text = malloc(plain.size);
	ctx = EVP_CIPHER_CTX_new();
	if (!plain.text || !ctx)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	if (EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), key, raw, NULL) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)AAD, strlen(AAD)) != 1 ||
	    EVP_DecryptUpdate(ctx, (unsigned char *)plain.text, &n, raw + NONCE_BYTES,
			      (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, raw + NONCE_BYTES + ctlen) !=
		1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)plain.text + n, &fin) != 1)
		return pwb_error_set(err, PWB_EAUTH,
				     "encrypted secret does not decrypt with %s (wrong key or "
				     "tampered value)",
				     key_file);
	plain.text[(size_t)n + (size_t)fin] = '\0';
	if (strlen(plain.text) != (size_t)n + (size_t)fin)
		return pwb_error_set(err, PWB_EAUTH, "decrypted secret contains a NUL byte");
	*out = PWB_TAKE_PTR(plain.text);
	return 0;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

static int parse_client_file(char *text, const char *path, const char *key_file, char **client_id,
			     char **client_secret, struct pwb_error *err)
{
	_cleanup_free_ char *id = NULL;
	_cleanup_secret_ char *secret = NULL;
	char *line, *save = NULL;
	unsigned lineno = 0;
	int r;

	for (line = text; line; line = save) {
		char *eq, *k, *v, **slot;

		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		lineno++;
		line = trim(line);
		if (!*line || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq)
			return pwb_error_set(err, PWB_ECONFIG, "%s: line %u: expected key=value",
					     path, lineno);
		*eq = '\0';
		k = trim(line);
		v = trim(eq + 1);
		if (strcmp(k, "client-id") == 0)
			slot = &id;
		else if (strcmp(k, "client-secret") == 0)
			slot = &secret;
		else
			return pwb_error_set(err, PWB_ECONFIG, "%s: line %u: unknown key \"%.40s\"",
					     path, lineno, k);
		if (*slot)
			return pwb_error_set(err, PWB_ECONFIG, "%s: line %u: %s given twice", path,
					     lineno, k);
		if (slot == &secret) {
			r = pwb_secret_decrypt(key_file, v, slot, err);
			if (r < 0) {
				pwb_error_prefix(err, "%s: line %u: client-secret", path, lineno);
				return r;
			}
		} else {
			*slot = strdup(v);
			if (!*slot)
				return pwb_error_set(err, -ENOMEM, "out of memory");
		}
	}
	if (!id || !*id)
		return pwb_error_set(err, PWB_ECONFIG, "%s: no client-id line", path);
	*client_id = PWB_TAKE_PTR(id);
	*client_secret = PWB_TAKE_PTR(secret);
	return 0;
}

/* Reads a private file (check_private_file) of at most cap - 1 bytes into
 * buf, NUL-terminated: its length, or a negative code with err set. */
static ssize_t read_private_file(const char *path, char *buf, size_t cap, struct pwb_error *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	ssize_t n;
	int r;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return pwb_error_set(err, errno == ENOENT ? PWB_ECONFIG : -errno, "%s: %s", path,
				     strerror(errno));
	r = check_private_file(fd, path, &st, err);
	if (r < 0)
		return r;
	if ((size_t)st.st_size > cap - 1)
		return pwb_error_set(err, PWB_ECONFIG, "%s: larger than %zu bytes", path, cap - 1);
	n = pwb_read_all(fd, buf, cap - 1);
	if (n < 0)
		return pwb_error_set(err, (int)n, "%s: %s", path, strerror((int)-n));
	buf[n] = '\0';
	return n;
}

int pwb_secret_read_client_file(const char *path, const char *key_file, char **client_id,
				char **client_secret, struct pwb_error *err)
{
	char text[CLIENT_FILE_MAX + 1];
	ssize_t n;
	int r;

	*client_id = NULL;
	*client_secret = NULL;
	n = read_private_file(path, text, sizeof(text), err);
	if (n < 0)
		return (int)n;
	r = parse_client_file(text, path, key_file, client_id, client_secret, err);
	OPENSSL_cleanse(text, sizeof(text));
	return r;
}

int pwb_secret_read_token_file(const char *path, char *out, size_t cap, struct pwb_error *err)
{
	ssize_t n = read_private_file(path, out, cap, err);

	if (n < 0) {
		out[0] = '\0';
		return (int)n;
	}
	out[strcspn(out, "\r\n")] = '\0';
	if (!out[0] || strpbrk(out, " \t")) {
		OPENSSL_cleanse(out, cap);
		return pwb_error_set(err, PWB_ECONFIG, "%s: must hold one token on one line", path);
	}
	return 0;
}

/* path = dir/name when that file exists; 0 with path empty when not. */
static int credential_path(const char *dir, const char *name, char path[PATH_MAX],
			   struct pwb_error *err)
{
	int n = snprintf(path, PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= PATH_MAX)
		return pwb_error_set(err, PWB_ECONFIG, "CREDENTIALS_DIRECTORY: path too long");
	if (access(path, F_OK) < 0) {
		if (errno != ENOENT)
			return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
		path[0] = '\0';
	}
	return 0;
}

int pwb_secret_read_credentials(const struct pwb_config *cfg, char **client_id,
				char **client_secret, struct pwb_error *err)
{
	/* secure_getenv: nothing in a setuid process, should this ever run in one. */
	const char *creds = secure_getenv("CREDENTIALS_DIRECTORY");
	char client_path[PATH_MAX] = "", key_path[PATH_MAX] = "";
	int r;

	*client_id = NULL;
	*client_secret = NULL;
	/* systemd sets an absolute path; anything else is not its. */
	if (creds && creds[0] == '/') {
		r = credential_path(creds, PWB_CREDENTIAL_CLIENT_SECRET, client_path, err);
		if (r == 0)
			r = credential_path(creds, PWB_CREDENTIAL_SECURE_KEY, key_path, err);
		if (r < 0)
			return r;
	}
	if (!client_path[0] && !cfg->openid_client_secret_file)
		return pwb_error_set(err, PWB_ECONFIG, "no auth-openid-client-secret-file");
	if (!key_path[0] && !cfg->secure_key_file)
		return pwb_error_set(err, PWB_ECONFIG, "no secure-key-file");
	return pwb_secret_read_client_file(
	    client_path[0] ? client_path : cfg->openid_client_secret_file,
	    key_path[0] ? key_path : cfg->secure_key_file, client_id, client_secret, err);
}
