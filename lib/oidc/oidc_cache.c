/* Disk cache of discovery documents and JWKS (see oidc_cache.h). Entries
 * are small JSON files; a reader sees the old or the new file, never half,
 * because writers rename a complete temporary file into place. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "cleanup.h"
#include "cleanup_json.h"
#include "oidc_cache.h"
#include "other_sources.h"

#define CACHE_ENTRY_MAX (1024 * 1024)

int pwb_oidc_cache_dir(const char *base, char out[PATH_MAX], struct pwb_error *err)
{
	struct stat st;
	int n;

	n = snprintf(out, PATH_MAX, "%s/cache", base);
	if (n < 0 || n >= PATH_MAX) {
		out[0] = '\0';
		return pwb_error_set(err, PWB_ECONFIG, "%s: path too long", base);
	}
	if (mkdir(out, 0700) < 0 && errno != EEXIST)
		return pwb_error_set(err, -errno, "%s: cannot create: %s", out, strerror(errno));
	if (lstat(out, &st) < 0)
		return pwb_error_set(err, -errno, "%s: %s", out, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return pwb_error_set(err, PWB_ECONFIG, "%s: not a directory", out);
	if (st.st_uid != geteuid())
		return pwb_error_set(err, PWB_ECONFIG, "%s: owned by uid %u, expected %u", out,
				     (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & 077)
		return pwb_error_set(err, PWB_ECONFIG, "%s: mode %04o, must be 0700", out,
				     (unsigned)(st.st_mode & 07777));
	return 0;
}

int pwb_oidc_cache_dir_for(const struct pwb_config *cfg, char out[PATH_MAX], struct pwb_error *err)
{
	struct pwb_error lerr = {0};
	uid_t euid = geteuid();
	uint32_t login_uid;

	out[0] = '\0';
	if (euid == 0)
		return pwb_oidc_cache_dir(cfg->db_dir, out, err);
	if (cfg->login_user && *cfg->login_user &&
	    pwb_other_source_user_uid(cfg->login_user, &login_uid, &lerr) == 1 &&
	    login_uid == euid) {
		if (!cfg->openid_session_dir || !*cfg->openid_session_dir)
			return pwb_error_set(err, PWB_ENOTFOUND,
					     "no auth-openid-session-dir for the cache");
		return pwb_oidc_cache_dir(cfg->openid_session_dir, out, err);
	}
	return pwb_error_set(err, PWB_ENOTFOUND, "uid %u has no discovery/JWKS cache",
			     (unsigned)euid);
}

int pwb_oidc_cache_name(const char *kind, const char *url, char out[80])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char hex[17];

	if (!EVP_Digest(url, strlen(url), md, &mdlen, EVP_sha256(), NULL) || mdlen < 8)
		return -EIO;
	for (i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(out, 80, "%.20s-%s.json", kind, hex);
	return 0;
}

void pwb_cache_entry_clear(struct pwb_cache_entry *e)
{
	free(e->url);
	free(e->body);
	memset(e, 0, sizeof(*e));
}

int pwb_oidc_cache_load(const char *dir, const char *name, struct pwb_cache_entry *e,
			struct pwb_error *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_json_ json_t *root = NULL;
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *url, *body, *fetched, *expires, *forced;
	struct stat st;

	memset(e, 0, sizeof(*e));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return pwb_error_set(err, PWB_ENOTFOUND, "%s: not cached", path);
		return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CACHE_ENTRY_MAX)
		return pwb_error_set(err, PWB_EINVAL, "%s: not a cache entry", path);
	root = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return pwb_error_set(err, PWB_EINVAL, "%s: line %d: %s", path, jerr.line,
				     jerr.text);
	url = json_object_get(root, "url");
	body = json_object_get(root, "body");
	fetched = json_object_get(root, "fetched");
	expires = json_object_get(root, "expires");
	forced = json_object_get(root, "forced");
	if (!json_is_string(url) || !json_is_string(body) || !json_is_integer(fetched) ||
	    !json_is_integer(expires) || (forced && !json_is_integer(forced)))
		return pwb_error_set(err, PWB_EINVAL, "%s: malformed cache entry", path);
	e->url = strdup(json_string_value(url));
	e->body = strdup(json_string_value(body));
	e->fetched = json_integer_value(fetched);
	e->expires = json_integer_value(expires);
	e->forced = forced ? json_integer_value(forced) : 0;
	if (!e->url || !e->body) {
		pwb_cache_entry_clear(e);
		return pwb_error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

int pwb_oidc_cache_save(const char *dir, const char *name, const struct pwb_cache_entry *e,
			struct pwb_error *err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -1;
	_cleanup_unlink_ char *unsaved = NULL; /* tmp, until renamed into place */
	char tmp[PATH_MAX], path[PATH_MAX];
	json_t *root;
	size_t len, off = 0;

	root = json_pack("{s:s, s:s, s:I, s:I, s:I}", "url", e->url, "body", e->body, "fetched",
			 (json_int_t)e->fetched, "expires", (json_int_t)e->expires, "forced",
			 (json_int_t)e->forced);
	if (!root)
		return pwb_error_set(err, -ENOMEM, "cache entry %s: cannot encode", name);
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!text)
		return pwb_error_set(err, -ENOMEM, "cache entry %s: cannot encode", name);
	len = strlen(text);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return pwb_error_set(err, -errno, "%s: %s", tmp, strerror(errno));
	unsaved = tmp;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return pwb_error_set(err, -EIO, "%s: write: %s", tmp, strerror(errno));
		off += (size_t)n;
	}
	if (fchmod(fd, 0600) < 0 || fsync(fd) < 0)
		return pwb_error_set(err, -errno, "%s: %s", tmp, strerror(errno));
	if (close(PWB_TAKE_FD(fd)) < 0)
		return pwb_error_set(err, -errno, "%s: close: %s", tmp, strerror(errno));
	if (rename(tmp, path) < 0)
		return pwb_error_set(err, -errno, "%s: rename: %s", path, strerror(errno));
	unsaved = NULL;
	return 0;
}
