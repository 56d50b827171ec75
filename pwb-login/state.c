/* pwb-login's flows, sessions and jti replay cache on disk (see state.h).
 * Every file is read and written relative to a directory descriptor with
 * O_NOFOLLOW, named by a SHA-256 in hex, and replaced whole by rename. A
 * session's last-seen time is its file's mtime, so marking it seen never
 * rewrites (or resurrects) it. */
#include <dirent.h>
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
#include "fileio.h"
#include "state.h"

#define FILE_MAX      65536 /* bytes of one state file, at most */
#define HASH_HEX      65    /* SHA-256 in hex, with the NUL */
#define BROWSER_HEX   16    /* hex characters of the browser's hash in a flow's name */
#define FLOW_NAME_MAX (BROWSER_HEX + 1 + HASH_HEX)
#define STALE_TEMP_S  60 /* a temporary file older than this was left by a crash */

PWB_DEFINE_POINTER_CLEANUP(closedirp, DIR, closedir)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* A listing of the folder behind dirfd with its own position (a dup()
 * would share, and keep, the offset of the last walk). */
static DIR *listing(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d && fd >= 0)
		close(fd);
	return d;
}

static int hash_hex(const char *s, char out[HASH_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return -EIO;
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int open_subdir(int parent, const char *name, struct pwb_error *err)
{
	int fd;

	if (mkdirat(parent, name, 0700) < 0 && errno != EEXIST)
		return pwb_error_set(err, -errno, "cannot create %s: %s", name, strerror(errno));
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return pwb_error_set(err, -errno, "cannot open %s: %s", name, strerror(errno));
	return fd;
}

/* The directory (and each folder in it) must be ours alone. */
static int check_private(int fd, const char *what, struct pwb_error *err)
{
	struct stat s;

	if (fstat(fd, &s) < 0)
		return pwb_error_set(err, -errno, "%s: %s", what, strerror(errno));
	if (s.st_uid != geteuid())
		return pwb_error_set(err, PWB_ECONFIG, "%s is owned by uid %u, not by uid %u", what,
				     (unsigned)s.st_uid, (unsigned)geteuid());
	if (s.st_mode & 077)
		return pwb_error_set(err, PWB_ECONFIG,
				     "%s has mode %04o: group or others may enter it (want 0700)",
				     what, (unsigned)(s.st_mode & 07777));
	return 0;
}

int state_open(const char *dir, struct state_store *st, struct pwb_error *err)
{
	static const char *const names[] = {"flows", "sessions", "jti"};
	int *fds[] = {&st->flows, &st->sessions, &st->jti};
	int r;

	st->dir = st->flows = st->sessions = st->jti = -1;
	if (!dir || dir[0] != '/')
		return pwb_error_set(err, PWB_ECONFIG,
				     "auth-openid-session-dir must be an absolute path");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return pwb_error_set(err, -errno, "cannot create %s: %s", dir, strerror(errno));
	st->dir = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (st->dir < 0)
		return pwb_error_set(err, -errno, "cannot open %s: %s", dir, strerror(errno));
	r = check_private(st->dir, dir, err);
	for (size_t i = 0; r == 0 && i < PWB_ARRAY_SIZE(names); i++) {
		*fds[i] = open_subdir(st->dir, names[i], err);
		r = *fds[i] < 0 ? *fds[i] : check_private(*fds[i], names[i], err);
	}
	if (r < 0) {
		pwb_error_prefix(err, "session directory: ");
		state_close(st);
	}
	return r;
}

void state_close(struct state_store *st)
{
	int *fds[] = {&st->dir, &st->flows, &st->sessions, &st->jti};

	for (size_t i = 0; i < PWB_ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* Writes text to a new temporary file in dirfd; its name goes to tmp. */
static int write_temp(int dirfd, const char *text, char tmp[64], struct pwb_error *err)
{
	static unsigned counter;
	_cleanup_close_ int fd = -1;
	size_t n = strlen(text), done = 0;

	snprintf(tmp, 64, ".tmp-%ld-%u", (long)getpid(), counter++);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return pwb_error_set(err, -errno, "cannot create a state file: %s",
				     strerror(errno));
	while (done < n) {
		ssize_t w = write(fd, text + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;

			unlinkat(dirfd, tmp, 0);
			return pwb_error_set(err, -e, "cannot write a state file: %s", strerror(e));
		}
		done += (size_t)w;
	}
	return 0;
}

static int write_file(int dirfd, const char *name, const char *text, struct pwb_error *err)
{
	char tmp[64];
	int r = write_temp(dirfd, text, tmp, err);

	if (r < 0)
		return r;
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		r = -errno;
		unlinkat(dirfd, tmp, 0);
		return pwb_error_set(err, r, "cannot store a state file: %s", strerror(-r));
	}
	return 0;
}

/* Reads a state file (bounded) as JSON; its stat goes to sb. */
static int read_json(int dirfd, const char *name, json_t **out, struct stat *sb,
		     struct pwb_error *err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	json_error_t jerr;
	ssize_t n;

	*out = NULL;
	if (fd < 0)
		return errno == ENOENT ? PWB_ENOTFOUND
				       : pwb_error_set(err, -errno, "cannot open a state file: %s",
						       strerror(errno));
	if (fstat(fd, sb) < 0 || !S_ISREG(sb->st_mode) || sb->st_size > FILE_MAX)
		return pwb_error_set(err, PWB_EINVAL, "a state file is not a small regular file");
	buf = malloc(FILE_MAX + 1);
	if (!buf)
		return -ENOMEM;
	n = pwb_read_all(fd, buf, FILE_MAX);
	if (n < 0)
		return pwb_error_set(err, (int)n, "cannot read a state file: %s",
				     strerror((int)-n));
	*out = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
	explicit_bzero(buf, (size_t)n);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return pwb_error_set(err, PWB_EINVAL, "a state file is not a JSON object");
	}
	return 0;
}

static void copy_str(char *dst, size_t len, json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));

	snprintf(dst, len, "%s", v ? v : "");
}

static int dup_str(char **dst, json_t *obj, const char *key, bool required)
{
	const char *v = json_string_value(json_object_get(obj, key));

	*dst = NULL;
	if (!v)
		return required ? PWB_EINVAL : 0;
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

static void flow_name(const char *state, const char *browser, char out[FLOW_NAME_MAX], int *rc)
{
	char hs[HASH_HEX], hb[HASH_HEX];

	*rc = hash_hex(state, hs) < 0 || hash_hex(browser, hb) < 0 ? -EIO : 0;
	snprintf(out, FLOW_NAME_MAX, "%.*s-%s", BROWSER_HEX, hb, hs);
}

/* Walks flows/: drops expired flows and stale temporary files, counts the
 * rest, and those of the browser whose name prefix is given. */
static void flows_scan(struct state_store *st, const char *prefix, uint32_t timeout, int64_t now,
		       unsigned *total, unsigned *mine)
{
	_cleanup_closedir_ DIR *d = listing(st->flows);
	struct dirent *e;

	*total = *mine = 0;
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat sb;
		bool temp = e->d_name[0] == '.';

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(st->flows, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if ((int64_t)sb.st_mtime + (temp ? STALE_TEMP_S : (int64_t)timeout) < now) {
			unlinkat(st->flows, e->d_name, 0);
			continue;
		}
		if (temp)
			continue;
		(*total)++;
		if (prefix && strncmp(e->d_name, prefix, BROWSER_HEX) == 0)
			(*mine)++;
	}
}

int state_flow_put(struct state_store *st, const char *state, const char *browser,
		   const struct state_flow *flow, const struct state_limits *lim, int64_t now,
		   struct pwb_error *err)
{
	_cleanup_json_ json_t *doc = NULL;
	_cleanup_free_ char *text = NULL;
	char name[FLOW_NAME_MAX];
	unsigned total, mine;
	int r;

	flow_name(state, browser, name, &r);
	if (r < 0)
		return pwb_error_set(err, r, "cannot hash the flow's state");
	flows_scan(st, name, lim->flow_timeout, now, &total, &mine);
	if (total >= lim->max_flows)
		return pwb_error_set(err, PWB_EBUSY,
				     "%u sign-ins are open (auth-openid-max-pending-flows)", total);
	if (mine >= lim->max_browser_flows)
		return pwb_error_set(err, PWB_EBUSY, "this browser has %u sign-ins open", mine);
	doc = json_pack("{s:s,s:s,s:s,s:I}", "nonce", flow->nonce, "verifier", flow->verifier,
			"return", flow->return_to, "created", (json_int_t)flow->created);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (!text)
		return -ENOMEM;
	r = write_file(st->flows, name, text, err);
	explicit_bzero(text, strlen(text));
	return r;
}

int state_flow_take(struct state_store *st, const char *state, const char *browser,
		    uint32_t flow_timeout, int64_t now, struct state_flow *out,
		    struct pwb_error *err)
{
	static unsigned counter;
	_cleanup_json_ json_t *doc = NULL;
	char name[FLOW_NAME_MAX], taken[96];
	struct stat sb;
	json_t *created;
	int r;

	memset(out, 0, sizeof(*out));
	flow_name(state, browser, name, &r);
	if (r < 0)
		return pwb_error_set(err, r, "cannot hash the flow's state");
	/* the rename is the one step that can succeed only once */
	snprintf(taken, sizeof(taken), ".taken-%ld-%u", (long)getpid(), counter++);
	if (renameat(st->flows, name, st->flows, taken) < 0)
		return errno == ENOENT
			   ? pwb_error_set(err, PWB_ENOTFOUND,
					   "no open sign-in for this state and browser")
			   : pwb_error_set(err, -errno, "cannot take a flow: %s", strerror(errno));
	r = read_json(st->flows, taken, &doc, &sb, err);
	unlinkat(st->flows, taken, 0);
	if (r < 0)
		return r == PWB_ENOTFOUND ? pwb_error_set(err, r, "the flow vanished") : r;
	created = json_object_get(doc, "created");
	if (!json_is_integer(created))
		return pwb_error_set(err, PWB_EINVAL, "a flow record lacks its creation time");
	out->created = json_integer_value(created);
	if (out->created + (int64_t)flow_timeout < now || out->created > now + 60)
		return pwb_error_set(err, PWB_ENOTFOUND,
				     "the sign-in expired (auth-openid-flow-timeout)");
	copy_str(out->nonce, sizeof(out->nonce), doc, "nonce");
	copy_str(out->verifier, sizeof(out->verifier), doc, "verifier");
	copy_str(out->return_to, sizeof(out->return_to), doc, "return");
	if (!out->nonce[0] || !out->verifier[0])
		return pwb_error_set(err, PWB_EINVAL, "a flow record lacks its nonce or verifier");
	return 0;
}

void state_session_clear(struct state_session *s)
{
	free(s->home);
	free(s->groups);
	free(s->issuer);
	free(s->subject);
	free(s->sid);
	if (s->id_token)
		explicit_bzero(s->id_token, strlen(s->id_token));
	free(s->id_token);
	memset(s, 0, sizeof(*s));
}

static char *session_text(const struct state_session *s)
{
	_cleanup_json_ json_t *doc = json_pack(
	    "{s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:s*,s:s,s:I,s:I}", "user", s->user, "uid",
	    (json_int_t)s->uid, "gid", (json_int_t)s->gid, "home", s->home ? s->home : "", "groups",
	    s->groups ? s->groups : "", "issuer", s->issuer ? s->issuer : "", "subject",
	    s->subject ? s->subject : "", "sid", s->sid, "id_token", s->id_token ? s->id_token : "",
	    "created", (json_int_t)s->created, "seq", (json_int_t)s->seq);

	return doc ? json_dumps(doc, JSON_COMPACT) : NULL;
}

static int session_name(const char *cookie, char out[HASH_HEX], struct pwb_error *err)
{
	return hash_hex(cookie, out) < 0 ? pwb_error_set(err, -EIO, "cannot hash a cookie") : 0;
}

int state_session_put(struct state_store *st, const char *cookie, const struct state_session *s,
		      struct pwb_error *err)
{
	_cleanup_free_ char *text = session_text(s);
	char name[HASH_HEX];
	int r;

	if (!text)
		return -ENOMEM;
	r = session_name(cookie, name, err);
	if (r == 0)
		r = write_file(st->sessions, name, text, err);
	explicit_bzero(text, strlen(text));
	return r;
}

static int session_decode(json_t *doc, struct state_session *out)
{
	json_t *uid = json_object_get(doc, "uid"), *gid = json_object_get(doc, "gid");
	json_t *created = json_object_get(doc, "created"), *seq = json_object_get(doc, "seq");
	int r = 0;

	copy_str(out->user, sizeof(out->user), doc, "user");
	if (!pwb_names_is_valid(out->user) || !json_is_integer(uid) || !json_is_integer(gid) ||
	    !json_is_integer(created) || !json_is_integer(seq) || json_integer_value(uid) < 0 ||
	    json_integer_value(uid) > UINT32_MAX || json_integer_value(gid) < 0 ||
	    json_integer_value(gid) > UINT32_MAX)
		return PWB_EINVAL;
	out->uid = (uint32_t)json_integer_value(uid);
	out->gid = (uint32_t)json_integer_value(gid);
	out->created = json_integer_value(created);
	out->seq = (uint64_t)json_integer_value(seq);
	r = r ? r : dup_str(&out->home, doc, "home", true);
	r = r ? r : dup_str(&out->groups, doc, "groups", true);
	r = r ? r : dup_str(&out->issuer, doc, "issuer", true);
	r = r ? r : dup_str(&out->subject, doc, "subject", true);
	r = r ? r : dup_str(&out->sid, doc, "sid", false);
	r = r ? r : dup_str(&out->id_token, doc, "id_token", true);
	return r;
}

int state_session_get(struct state_store *st, const char *cookie, struct state_session *out,
		      struct pwb_error *err)
{
	_cleanup_json_ json_t *doc = NULL;
	char name[HASH_HEX];
	struct stat sb;
	int r;

	memset(out, 0, sizeof(*out));
	r = session_name(cookie, name, err);
	if (r == 0)
		r = read_json(st->sessions, name, &doc, &sb, err);
	if (r < 0)
		return r;
	r = session_decode(doc, out);
	if (r < 0) {
		state_session_clear(out);
		return pwb_error_set(err, r, "a session record is damaged");
	}
	out->last_seen = (int64_t)sb.st_mtime;
	return 0;
}

int state_session_update(struct state_store *st, const char *cookie, const struct state_session *s,
			 struct pwb_error *err)
{
	_cleanup_free_ char *text = session_text(s);
	char name[HASH_HEX], tmp[64];
	int r;

	if (!text)
		return -ENOMEM;
	r = session_name(cookie, name, err);
	if (r == 0)
		r = write_temp(st->sessions, text, tmp, err);
	explicit_bzero(text, strlen(text));
	if (r < 0)
		return r;
	/* an exchange fails when the session was ended meanwhile; a plain
	 * rename would bring it back */
	if (renameat2(st->sessions, tmp, st->sessions, name, RENAME_EXCHANGE) < 0) {
		r = errno;
		if (r == EINVAL && faccessat(st->sessions, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
		    renameat(st->sessions, tmp, st->sessions, name) == 0)
			return 0;
		unlinkat(st->sessions, tmp, 0);
		return r == ENOENT
			   ? PWB_ENOTFOUND
			   : pwb_error_set(err, -r, "cannot update a session: %s", strerror(r));
	}
	unlinkat(st->sessions, tmp, 0); /* now the old record */
	return 0;
}

int state_session_touch(struct state_store *st, const char *cookie)
{
	char name[HASH_HEX];

	if (hash_hex(cookie, name) < 0)
		return -EIO;
	return utimensat(st->sessions, name, NULL, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

int state_session_delete(struct state_store *st, const char *cookie)
{
	char name[HASH_HEX];

	if (hash_hex(cookie, name) < 0)
		return -EIO;
	if (unlinkat(st->sessions, name, 0) < 0)
		return errno == ENOENT ? PWB_ENOTFOUND : -errno;
	return 0;
}

bool state_session_expired(const struct state_session *s, uint32_t idle_minutes, uint32_t max_hours,
			   int64_t now)
{
	return s->last_seen + (int64_t)idle_minutes * 60 < now ||
	       s->created + (int64_t)max_hours * 3600 < now || s->created > now + 60;
}

static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

int state_sessions_end(struct state_store *st, const char *issuer, const char *sid, const char *sub,
		       unsigned *ended, struct pwb_error *err)
{
	_cleanup_closedir_ DIR *d = listing(st->sessions);
	struct dirent *e;

	*ended = 0;
	if (!d)
		return pwb_error_set(err, -EIO, "cannot list the sessions");
	if (!sid && !sub)
		return pwb_error_set(err, PWB_EINVAL, "neither sid nor sub");
	while ((e = readdir(d))) {
		_cleanup_json_ json_t *doc = NULL;
		struct pwb_error ignored = {0};
		struct stat sb;

		if (e->d_name[0] == '.')
			continue;
		if (read_json(st->sessions, e->d_name, &doc, &sb, &ignored) < 0)
			continue;
		if (!same(json_string_value(json_object_get(doc, "issuer")), issuer) ||
		    (sid && !same(json_string_value(json_object_get(doc, "sid")), sid)) ||
		    (sub && !same(json_string_value(json_object_get(doc, "subject")), sub)))
			continue;
		if (unlinkat(st->sessions, e->d_name, 0) == 0)
			(*ended)++;
	}
	return 0;
}

int state_jti_record(struct state_store *st, const char *jti, int64_t expires, uint32_t max,
		     int64_t now, struct pwb_error *err)
{
	_cleanup_closedir_ DIR *d = listing(st->jti);
	_cleanup_close_ int file = -1;
	struct timespec times[2] = {{.tv_sec = expires}, {.tv_sec = expires}};
	char name[HASH_HEX];
	struct dirent *e;
	unsigned live = 0;

	if (!d)
		return pwb_error_set(err, -EIO, "cannot list the jti cache");
	if (hash_hex(jti, name) < 0)
		return pwb_error_set(err, -EIO, "cannot hash a jti");
	/* an entry's mtime is its expiry */
	while ((e = readdir(d))) {
		struct stat sb;

		if (e->d_name[0] == '.' ||
		    fstatat(st->jti, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if ((int64_t)sb.st_mtime < now && strcmp(e->d_name, name) != 0)
			unlinkat(st->jti, e->d_name, 0);
		else
			live++;
	}
	file = openat(st->jti, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (file < 0 && errno == EEXIST)
		return pwb_error_set(err, PWB_EEXIST, "jti: this logout token was seen before");
	if (file < 0)
		return pwb_error_set(err, -errno, "cannot record a jti: %s", strerror(errno));
	if (live >= max) {
		unlinkat(st->jti, name, 0);
		return pwb_error_set(err, PWB_EBUSY, "jti: the replay cache is full");
	}
	if (futimens(file, times) < 0)
		return pwb_error_set(err, -errno, "cannot date a jti: %s", strerror(errno));
	return 0;
}

void state_gc(struct state_store *st, const struct state_limits *lim, uint32_t idle_minutes,
	      int64_t now)
{
	_cleanup_closedir_ DIR *d = listing(st->sessions);
	struct dirent *e;
	unsigned total, mine;

	flows_scan(st, NULL, lim->flow_timeout, now, &total, &mine);
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat sb;
		int64_t keep = e->d_name[0] == '.' ? STALE_TEMP_S : (int64_t)idle_minutes * 60;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    fstatat(st->sessions, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if ((int64_t)sb.st_mtime + keep < now)
			unlinkat(st->sessions, e->d_name, 0);
	}
}
