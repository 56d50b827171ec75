/* Home directory creation (see home.h). Nothing here resolves a path
 * string twice: each component is opened with O_NOFOLLOW relative to its
 * parent's descriptor, every parent must be root's alone, and the new home
 * is filled while it is still a root-owned 0700 directory under a temporary
 * name. */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cleanup.h"
#include "home.h"
#include "log.h"
#include "policy.h"

#define SKEL_MAX_DEPTH 32

struct copy_ctx {
	uid_t uid;
	gid_t gid;
	mode_t umask;
	const char *skel;
	const char *home;
	struct pwb_error *err;
};

static int open_dir_at(int dfd, const char *name)
{
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int fail(struct copy_ctx *c, int e, const char *what, const char *rel)
{
	return pwb_error_set(c->err, -e, "cannot create home %s: %s %s/%s: %s", c->home, what,
			     c->skel, rel, strerror(e));
}

/* Owner and mode last, so the user gets nothing half-written. */
static int set_owner_mode(struct copy_ctx *c, int fd, mode_t mode, const char *rel)
{
	if (fchown(fd, c->uid, c->gid) < 0)
		return fail(c, errno, "chown of copy of", rel);
	if (fchmod(fd, mode & 0777 & ~c->umask) < 0)
		return fail(c, errno, "chmod of copy of", rel);
	return 0;
}

static int copy_data(int in, int out)
{
	char buf[65536];
	ssize_t n, w, off;

	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		for (off = 0; off < n; off += w) {
			w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w < 0)
				return -errno;
		}
	}
}

static int copy_file(struct copy_ctx *c, int src, int dst, const char *name, const char *rel)
{
	_cleanup_close_ int in = -1, out = -1;
	struct stat st;
	int r;

	/* O_NONBLOCK: a fifo swapped in after the lstat must not hang us. */
	in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		return fail(c, errno, "cannot open", rel);
	if (fstat(in, &st) < 0)
		return fail(c, errno, "cannot stat", rel);
	if (!S_ISREG(st.st_mode))
		return fail(c, EINVAL, "changed while copying:", rel);
	out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return fail(c, errno, "cannot create copy of", rel);
	r = copy_data(in, out);
	if (r < 0)
		return fail(c, -r, "cannot copy", rel);
	return set_owner_mode(c, out, st.st_mode, rel);
}

static int copy_symlink(struct copy_ctx *c, int src, int dst, const char *name, const char *rel)
{
	char target[PATH_MAX];
	ssize_t n;

	n = readlinkat(src, name, target, sizeof(target));
	if (n < 0)
		return fail(c, errno, "cannot read symlink", rel);
	if ((size_t)n >= sizeof(target))
		return fail(c, ENAMETOOLONG, "cannot read symlink", rel);
	target[n] = '\0';
	if (symlinkat(target, dst, name) < 0)
		return fail(c, errno, "cannot create copy of symlink", rel);
	if (fchownat(dst, name, c->uid, c->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(c, errno, "chown of copy of symlink", rel);
	return 0;
}

static int copy_tree(struct copy_ctx *c, int src, int dst, const char *rel, int depth);

static int copy_dir(struct copy_ctx *c, int src, int dst, const char *name, const char *rel,
		    int depth)
{
	_cleanup_close_ int in = -1, out = -1;
	struct stat st;
	int r;

	if (depth >= SKEL_MAX_DEPTH)
		return fail(c, ELOOP, "nested too deep at", rel);
	in = open_dir_at(src, name);
	if (in < 0)
		return fail(c, errno, "cannot open directory", rel);
	if (fstat(in, &st) < 0)
		return fail(c, errno, "cannot stat", rel);
	if (mkdirat(dst, name, 0700) < 0)
		return fail(c, errno, "cannot create copy of directory", rel);
	out = open_dir_at(dst, name);
	if (out < 0)
		return fail(c, errno, "cannot open copy of directory", rel);
	r = copy_tree(c, in, out, rel, depth + 1);
	if (r < 0)
		return r;
	return set_owner_mode(c, out, st.st_mode, rel);
}

static int copy_entry(struct copy_ctx *c, int src, int dst, const char *name, const char *rel,
		      int depth)
{
	struct stat st;

	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(c, errno, "cannot stat", rel);
	if (S_ISREG(st.st_mode))
		return copy_file(c, src, dst, name, rel);
	if (S_ISDIR(st.st_mode))
		return copy_dir(c, src, dst, name, rel, depth);
	if (S_ISLNK(st.st_mode))
		return copy_symlink(c, src, dst, name, rel);
	pwb_log(LOG_NOTICE,
		"pam_pwb_mkhome: skipping %s/%s in skel: not a file, directory or symlink", c->skel,
		rel);
	return 0;
}

/* Copies the entries of directory src into directory dst. */
static int copy_tree(struct copy_ctx *c, int src, int dst, const char *rel, int depth)
{
	char sub[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int fd, r = 0;

	fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return fail(c, errno, "cannot read directory", rel);
	dir = fdopendir(fd);
	if (!dir) {
		r = fail(c, errno, "cannot read directory", rel);
		close(fd);
		return r;
	}
	rewinddir(dir); /* the duplicate shares the original's offset */
	for (;;) {
		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno)
				r = fail(c, errno, "cannot read directory", rel);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
		    (int)sizeof(sub)) {
			r = fail(c, ENAMETOOLONG, "path too long:", rel);
			break;
		}
		r = copy_entry(c, src, dst, de->d_name, sub, depth);
		if (r < 0)
			break;
	}
	closedir(dir);
	return r;
}

/* Removes a half-built tree without following any symlink in it. */
static void remove_tree_at(int dfd, const char *name, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int fd;

	fd = open_dir_at(dfd, name);
	if (fd < 0) {
		unlinkat(dfd, name, 0);
		return;
	}
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
		    depth < SKEL_MAX_DEPTH + 1)
			remove_tree_at(fd, de->d_name, depth + 1);
		else
			unlinkat(fd, de->d_name, 0);
	}
	closedir(dir);
	unlinkat(dfd, name, AT_REMOVEDIR);
}

/* An existing parent must not let anyone but root swap what is inside it.
 * No exception for sticky directories: in /tmp anyone may plant the name
 * first (a symlink, or a directory of their own). */
static int check_parent(int fd, const char *home, const char *upto, struct pwb_error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return pwb_error_set(err, -errno, "cannot use home %s: cannot stat %s: %s", home,
				     upto, strerror(errno));
	if (st.st_uid != 0)
		return pwb_error_set(
		    err, -EPERM, "cannot use home %s: parent %s is not owned by root", home, upto);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return pwb_error_set(
		    err, -EPERM, "cannot use home %s: parent %s is writable by group or others%s",
		    home, upto,
		    (st.st_mode & S_ISVTX) ? " (a sticky bit does not make it safe)" : "");
	return 0;
}

/* What is already at the home path may be used only if it is a real
 * directory of the user's: a symlink, another user's home (say, of a user
 * renamed away from this name) or a root-owned system directory is refused
 * and left exactly as it is. */
static int check_existing(const struct stat *st, const char *home, uid_t uid, struct pwb_error *err)
{
	if (S_ISLNK(st->st_mode))
		return pwb_error_set(err, -ELOOP,
				     "refusing home %s: it is a symlink (never followed)", home);
	if (!S_ISDIR(st->st_mode))
		return pwb_error_set(err, -ENOTDIR, "refusing home %s: it is not a directory",
				     home);
	if (st->st_uid != uid)
		return pwb_error_set(err, -EPERM,
				     "refusing home %s: it is owned by uid %u, not by the user's "
				     "uid %u (nothing changed)",
				     home, (unsigned)st->st_uid, (unsigned)uid);
	return PWB_HOME_EXISTED;
}

/* Opens one parent component; when create is set, a missing one is created
 * root-owned 0755. */
static int open_parent(int dfd, const char *name, bool create, const char *home, const char *upto,
		       struct pwb_error *err)
{
	bool created = false;
	int fd, r;

	if (create && mkdirat(dfd, name, 0755) == 0)
		created = true;
	else if (create && errno != EEXIST)
		return pwb_error_set(err, -errno, "cannot create home %s: mkdir %s: %s", home, upto,
				     strerror(errno));
	fd = open_dir_at(dfd, name);
	if (fd < 0) {
		struct stat st;

		r = errno;
		if (r == ENOENT && !create)
			return pwb_error_set(err, -ENOENT, "home %s does not exist (no %s)", home,
					     upto);
		if ((r == ELOOP || r == ENOTDIR) &&
		    fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return S_ISLNK(st.st_mode)
				   ? pwb_error_set(err, -ELOOP,
						   "cannot create home %s: %s is a symlink: %s",
						   home, upto, strerror(ELOOP))
				   : pwb_error_set(err, -ENOTDIR, "cannot create home %s: %s: %s",
						   home, upto, strerror(ENOTDIR));
		return pwb_error_set(err, -r, "cannot create home %s: open %s: %s", home, upto,
				     strerror(r));
	}
	if (created && (fchown(fd, 0, 0) < 0 || fchmod(fd, 0755) < 0)) {
		r = pwb_error_set(err, -errno, "cannot create home %s: chown/chmod %s: %s", home,
				  upto, strerror(errno));
		close(fd);
		return r;
	}
	r = check_parent(fd, home, upto, err);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* Splits an absolute path into components in place; refuses "." and "..". */
static int split_path(char *path, char **comp, size_t max, size_t *n)
{
	char *save = NULL, *tok;

	*n = 0;
	if (path[0] != '/')
		return -EINVAL;
	for (tok = strtok_r(path, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, ".") || !strcmp(tok, ".."))
			return -EINVAL;
		if (*n == max)
			return -ENAMETOOLONG;
		comp[(*n)++] = tok;
	}
	return 0;
}

static int temp_name(const char *base, char *out, size_t outlen)
{
	unsigned char rnd[8];
	char hex[17];
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	if (snprintf(out, outlen, ".pwb-mkhome.%s.%s", base, hex) >= (int)outlen)
		return -ENAMETOOLONG;
	return 0;
}

/* Fills the fresh directory tmp in parent from skel and gives it to the
 * user (mode from the umask). */
static int fill_home(int parent, const char *tmp, const char *skel, struct copy_ctx *c)
{
	_cleanup_close_ int home = -1, skelfd = -1;
	int r;

	home = open_dir_at(parent, tmp);
	if (home < 0)
		return pwb_error_set(c->err, -errno, "cannot create home %s: open: %s", c->home,
				     strerror(errno));
	if (skel) {
		skelfd = open(skel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (skelfd < 0 && errno != ENOENT)
			return pwb_error_set(c->err, -errno, "cannot create home %s: skel %s: %s",
					     c->home, skel, strerror(errno));
		if (skelfd < 0)
			pwb_log(LOG_NOTICE,
				"pam_pwb_mkhome: skel %s does not exist; home %s left empty", skel,
				c->home);
	}
	if (skelfd >= 0) {
		r = copy_tree(c, skelfd, home, "", 0);
		if (r < 0)
			return r;
	}
	if (fchown(home, c->uid, c->gid) < 0 || fchmod(home, 0777 & ~c->umask) < 0)
		return pwb_error_set(c->err, -errno, "cannot create home %s: chown/chmod: %s",
				     c->home, strerror(errno));
	return 0;
}

/* Renames the filled tmp to name: PWB_HOME_CREATED, or what is found there
 * when a concurrent session won the race or someone planted the name
 * meanwhile (checked as found), or an error. */
static int rename_home(int parent, const char *tmp, const char *name, struct copy_ctx *c)
{
	struct stat st;

	if (renameat2(parent, tmp, parent, name, RENAME_NOREPLACE) == 0)
		return PWB_HOME_CREATED;
	if (errno == EEXIST && fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return check_existing(&st, c->home, c->uid, c->err);
	return pwb_error_set(c->err, -errno, "cannot create home %s: rename: %s", c->home,
			     strerror(errno));
}

/* Builds the home under a temporary name in parent, then renames it in;
 * the temporary tree is removed unless it became the home. */
static int build_home(int parent, const char *name, const char *skel, struct copy_ctx *c)
{
	char tmp[NAME_MAX + 1];
	int r;

	r = temp_name(name, tmp, sizeof(tmp));
	if (r < 0)
		return pwb_error_set(c->err, r, "cannot create home %s: %s", c->home, strerror(-r));
	if (mkdirat(parent, tmp, 0700) < 0)
		return pwb_error_set(c->err, -errno, "cannot create home %s: mkdir: %s", c->home,
				     strerror(errno));
	r = fill_home(parent, tmp, skel, c);
	if (r == 0)
		r = rename_home(parent, tmp, name, c);
	if (r != PWB_HOME_CREATED)
		remove_tree_at(parent, tmp, 0);
	return r;
}

/* Walks to the home's parent (creating missing parents when create is
 * set), then uses what is there or builds the home. */
static int home_walk(const char *home, uid_t uid, gid_t gid, const char *skel, mode_t umask,
		     bool create, struct pwb_error *err)
{
	_cleanup_free_ char *copy = NULL;
	_cleanup_close_ int dfd = -1;
	char *comp[PATH_MAX / 2], upto[PATH_MAX] = "";
	struct copy_ctx c = {
	    .uid = uid,
	    .gid = gid,
	    .umask = umask & 0777,
	    .skel = skel,
	    .home = home,
	    .err = err,
	};
	struct stat st;
	size_t n, i;
	int r, fd;

	if (!home || strlen(home) >= PATH_MAX)
		return pwb_error_set(err, -ENAMETOOLONG, "home path too long");
	copy = strdup(home);
	if (!copy)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	r = split_path(copy, comp, PWB_ARRAY_SIZE(comp), &n);
	if (r < 0)
		return pwb_error_set(
		    err, r, "cannot use home %s: not an absolute path without . or ..", home);

	dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return pwb_error_set(err, -errno, "cannot open /: %s", strerror(errno));
	if (n == 0) {
		if (fstat(dfd, &st) < 0)
			return pwb_error_set(err, -errno, "cannot stat /: %s", strerror(errno));
		return check_existing(&st, home, uid, err);
	}
	for (i = 0; i + 1 < n; i++) {
		strncat(upto, "/", sizeof(upto) - strlen(upto) - 1);
		strncat(upto, comp[i], sizeof(upto) - strlen(upto) - 1);
		fd = open_parent(dfd, comp[i], create, home, upto, err);
		if (fd < 0)
			return fd;
		close(dfd);
		dfd = fd;
	}

	if (fstatat(dfd, comp[n - 1], &st, AT_SYMLINK_NOFOLLOW) == 0)
		return check_existing(&st, home, uid, err);
	if (errno != ENOENT)
		return pwb_error_set(err, -errno, "cannot use home %s: stat: %s", home,
				     strerror(errno));
	if (!create)
		return pwb_error_set(err, -ENOENT, "home %s does not exist", home);
	return build_home(dfd, comp[n - 1], skel, &c);
}

int pwb_home_create(const char *home, uid_t uid, gid_t gid, const char *skel, mode_t umask,
		    struct pwb_error *err)
{
	return home_walk(home, uid, gid, skel, umask, true, err);
}

int pwb_home_use_existing(const char *home, uid_t uid, struct pwb_error *err)
{
	return home_walk(home, uid, (gid_t)-1, NULL, 0, false, err);
}

int pwb_home_open(const struct pwb_config *cfg, const char *home, uid_t uid, gid_t gid,
		  const char *skel, mode_t umask, char **used, struct pwb_error *err)
{
	_cleanup_free_ char *norm = NULL;
	struct pwb_error perr = {0};
	int r, pr;

	*used = NULL;
	pr = pwb_policy_home(cfg, home, &norm, &perr);
	if (pr == 0)
		r = pwb_home_create(norm, uid, gid, skel, umask, err);
	else
		r = pwb_home_use_existing(home, uid, err);
	if (r < 0 && pr < 0) {
		/* Both reasons, in one line: why it was not created, and why
		 * what is there (if anything) is not the user's. */
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", r == -ENOENT ? "" : pwb_error_text(err, r));
		return pwb_error_set(err, r, "home not created: %s%s%s", pwb_error_text(&perr, pr),
				     why[0] ? "; " : "", why);
	}
	if (r < 0)
		return r;
	*used = pr == 0 ? PWB_TAKE_PTR(norm) : strdup(home);
	if (!*used)
		return pwb_error_set(err, -ENOMEM, "out of memory");
	return r;
}
