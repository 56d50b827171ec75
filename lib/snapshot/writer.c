/* Writing snapshot level files (writer.h): glibc nss_db/makedb's way, a
 * temp file beside the live one, written, fsync'ed, renamed over it. */
#include <db.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "writer.h"

#define BUILD_CACHE_BYTES (64 * 1024 * 1024)
#define TMP_PREFIX	  ".tmp-"
#define TMP_ATTEMPTS	  16

void pwb_snapshot_kvset_free(struct pwb_snapshot_kvset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].key);
		free(s->v[i].val);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int pwb_snapshot_kvset_add(struct pwb_snapshot_kvset *s, const void *key, size_t klen,
			   const void *val, size_t vlen)
{
	struct pwb_snapshot_kv *e;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct pwb_snapshot_kv *grown = realloc(s->v, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		s->v = grown;
		s->cap = cap;
	}
	e = &s->v[s->n];
	e->key = malloc(klen + 1);
	e->val = malloc(vlen + 1);
	if (!e->key || !e->val) {
		free(e->key);
		free(e->val);
		return -ENOMEM;
	}
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	if (vlen)
		memcpy(e->val, val, vlen);
	e->val[vlen] = '\0';
	e->klen = klen;
	e->vlen = vlen;
	e->order = s->n;
	s->n++;
	return 0;
}

int pwb_snapshot_kvset_adds(struct pwb_snapshot_kvset *s, const char *key, const char *val)
{
	return pwb_snapshot_kvset_add(s, key, strlen(key), val, strlen(val));
}

int pwb_snapshot_kvset_append(struct pwb_snapshot_kvset *dst, const struct pwb_snapshot_kvset *src)
{
	for (size_t i = 0; i < src->n; i++) {
		int r = pwb_snapshot_kvset_add(dst, src->v[i].key, src->v[i].klen, src->v[i].val,
					       src->v[i].vlen);

		if (r < 0)
			return r;
	}
	return 0;
}

static int kv_cmp(const void *a, const void *b)
{
	const struct pwb_snapshot_kv *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);

	if (c)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->order > y->order ? -1 : (x->order < y->order); /* newest first */
}

static bool same_key(const struct pwb_snapshot_kv *a, const struct pwb_snapshot_kv *b)
{
	return a->klen == b->klen && memcmp(a->key, b->key, a->klen) == 0;
}

void pwb_snapshot_kvset_settle(struct pwb_snapshot_kvset *s, bool drop_tombstones)
{
	size_t i, run, o = 0;

	if (s->n) /* qsort's array must not be NULL, even when empty */
		qsort(s->v, s->n, sizeof(*s->v), kv_cmp);
	for (i = 0; i < s->n; i = run) {
		/* s->v[i] is the newest of its run of equal keys. */
		for (run = i + 1; run < s->n && same_key(&s->v[i], &s->v[run]); run++) {
			free(s->v[run].key);
			free(s->v[run].val);
		}
		if (drop_tombstones && s->v[i].vlen == 0) {
			free(s->v[i].key);
			free(s->v[i].val);
			continue;
		}
		s->v[o++] = s->v[i];
	}
	s->n = o;
	for (i = 0; i < s->n; i++)
		s->v[i].order = i;
}

bool pwb_snapshot_kvset_equal(const struct pwb_snapshot_kvset *a,
			      const struct pwb_snapshot_kvset *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!same_key(&a->v[i], &b->v[i]) || a->v[i].vlen != b->v[i].vlen ||
		    memcmp(a->v[i].val, b->v[i].val, a->v[i].vlen) != 0)
			return false;
	return true;
}

/* Berkeley DB syncs a file when it is closed. Delta files are rewritten on
 * every change and are derived data: a delta lost to a power cut is rebuilt
 * from the store by the next publish (its load fails -> full rebuild), so
 * they are written without fsync; mid and base files, written rarely, are
 * synced. The switch is per thread and only ever set around a delta write;
 * every other Berkeley DB sync in the process (the store's commits) is
 * untouched. */
static __thread bool skip_sync;
static pthread_once_t sync_hook_once = PTHREAD_ONCE_INIT;

static int snapshot_db_fsync(int fd)
{
	return skip_sync ? 0 : fdatasync(fd);
}

static void install_sync_hook(void)
{
	db_env_set_func_fsync(snapshot_db_fsync);
}

void pwb_snapshot_writer_init(void)
{
	pthread_once(&sync_hook_once, install_sync_hook);
}

static void parse_meta(const DBT *k, const DBT *v, struct pwb_snapshot_meta *meta)
{
	char buf[32] = {0};

	if (v->size >= sizeof(buf))
		return;
	memcpy(buf, v->data, v->size);
	if (k->size == strlen(PWB_SNAP_META_MID) &&
	    memcmp(k->data, PWB_SNAP_META_MID, k->size) == 0)
		meta->mid = strtoull(buf, NULL, 10);
	else if (k->size == strlen(PWB_SNAP_META_BASE) &&
		 memcmp(k->data, PWB_SNAP_META_BASE, k->size) == 0)
		meta->base = strtoull(buf, NULL, 10);
	else if (k->size == strlen(PWB_SNAP_META_SEQ) &&
		 memcmp(k->data, PWB_SNAP_META_SEQ, k->size) == 0)
		meta->seq = strtoull(buf, NULL, 10);
}

int pwb_snapshot_level_load(const char *dir, const char *name, struct pwb_snapshot_kvset *s,
			    struct pwb_snapshot_meta *meta)
{
	char path[PATH_MAX];
	DB *db = NULL;
	DBC *c = NULL;
	DBT k = {0}, v = {0};
	int ret, r = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	ret = db_create(&db, NULL, 0);
	if (ret == 0)
		ret = db->open(db, NULL, path, NULL, DB_BTREE, DB_RDONLY, 0);
	if (ret != 0) {
		if (db)
			db->close(db, 0);
		return ret == ENOENT ? -ENOENT : -EIO;
	}
	ret = db->cursor(db, NULL, &c, 0);
	k.flags = v.flags = DB_DBT_REALLOC;
	while (ret == 0 && (ret = c->get(c, &k, &v, DB_NEXT)) == 0) {
		if (k.size > 0 && ((char *)k.data)[0] == '@') {
			if (meta)
				parse_meta(&k, &v, meta);
			continue;
		}
		if (s && (r = pwb_snapshot_kvset_add(s, k.data, k.size, v.data, v.size)) < 0)
			break;
	}
	free(k.data);
	free(v.data);
	if (c)
		c->close(c);
	db->close(db, 0);
	if (r < 0)
		return r;
	return ret == DB_NOTFOUND ? 0 : -EIO;
}

/* A fresh temp name beside final: what mkstemp would pick, for a file that
 * Berkeley DB itself must create (DB_EXCL refuses an existing one). */
static void temp_name(char *out, size_t len, const char *dir, const char *name, unsigned attempt)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(out, len, "%s/" TMP_PREFIX "%s-%ld-%lx%x", dir, name, (long)getpid(),
		 (unsigned long)now.tv_nsec, attempt);
}

static int put_all(DB *db, const struct pwb_snapshot_kvset *s, const struct pwb_snapshot_meta *meta)
{
	DBT k = {0}, v = {0};
	int ret = 0;

	for (size_t i = 0; ret == 0 && i < s->n; i++) {
		k.data = s->v[i].key;
		k.size = (u_int32_t)s->v[i].klen;
		v.data = s->v[i].val;
		v.size = (u_int32_t)s->v[i].vlen;
		ret = db->put(db, NULL, &k, &v, 0);
	}
	if (ret == 0 && meta) {
		const char *keys[3] = {PWB_SNAP_META_MID, PWB_SNAP_META_BASE, PWB_SNAP_META_SEQ};
		char buf[3][24];

		snprintf(buf[0], sizeof(buf[0]), "%llu", meta->mid);
		snprintf(buf[1], sizeof(buf[1]), "%llu", meta->base);
		snprintf(buf[2], sizeof(buf[2]), "%llu", (unsigned long long)meta->seq);
		for (int j = 0; ret == 0 && j < 3; j++) {
			k.data = (void *)keys[j];
			k.size = (u_int32_t)strlen(keys[j]);
			v.data = buf[j];
			v.size = (u_int32_t)strlen(buf[j]);
			ret = db->put(db, NULL, &k, &v, 0);
		}
	}
	return ret;
}

int pwb_snapshot_level_write(const char *dir, const char *name, const struct pwb_snapshot_kvset *s,
			     const struct pwb_snapshot_meta *meta, mode_t mode, bool durable,
			     struct pwb_error *err)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	DB *db = NULL;
	int ret = EEXIST, cret, fd, e;

	if ((size_t)snprintf(final, sizeof(final), "%s/%s", dir, name) >= sizeof(final))
		return pwb_error_set(err, -ENAMETOOLONG, "%s/%s: path too long", dir, name);
	skip_sync = !durable; /* creating the file syncs too */
	for (unsigned attempt = 0; ret == EEXIST && attempt < TMP_ATTEMPTS; attempt++) {
		temp_name(tmp, sizeof(tmp), dir, name, attempt);
		ret = db_create(&db, NULL, 0);
		if (ret == 0 && s->n > 10000)
			ret = db->set_cachesize(db, 0, BUILD_CACHE_BYTES, 1);
		if (ret == 0)
			ret = db->open(db, NULL, tmp, NULL, DB_BTREE, DB_CREATE | DB_EXCL, mode);
		if (ret == EEXIST) {
			db->close(db, 0);
			db = NULL;
		}
	}
	if (ret == 0)
		ret = put_all(db, s, meta);
	if (db) {
		cret = db->close(db, 0);
		if (ret == 0)
			ret = cret;
	}
	skip_sync = false;
	if (ret != 0) {
		unlink(tmp);
		return pwb_error_set(err, PWB_ESTORE, "%s: writing: %s", tmp, db_strerror(ret));
	}
	fd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fchmod(fd, mode) < 0 || (durable && fsync(fd) < 0)) {
		e = errno;
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return pwb_error_set(err, -e, "%s: %s", tmp, strerror(e));
	}
	close(fd);
	if (rename(tmp, final) < 0) {
		e = errno;
		unlink(tmp);
		return pwb_error_set(err, -e, "%s: rename: %s", final, strerror(e));
	}
	return 0;
}

int pwb_snapshot_generation_bump(const char *dir, struct pwb_error *err)
{
	char path[PATH_MAX];
	uint64_t gen = 0;
	int fd, e;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, PWB_SNAP_GENERATION) >= sizeof(path))
		return pwb_error_set(err, -ENAMETOOLONG, "%s: path too long", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return pwb_error_set(err, -errno, "%s: %s", path, strerror(errno));
	/* A new (or recreated) counter starts from the clock, so that it does
	 * not repeat a value a reader saw in the file it replaces. */
	if (pread(fd, &gen, sizeof(gen), 0) != (ssize_t)sizeof(gen)) {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		gen = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	}
	gen++;
	if (fchmod(fd, 0644) < 0 || pwrite(fd, &gen, sizeof(gen), 0) != (ssize_t)sizeof(gen)) {
		e = errno;
		close(fd);
		return pwb_error_set(err, -e, "%s: %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

void pwb_snapshot_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

void pwb_snapshot_remove_stale(const char *dir, const struct pwb_snapshot_meta *live)
{
	char keep[4][64];
	DIR *d = opendir(dir);
	struct dirent *de;
	int i = 0;

	if (!d)
		return;
	for (int set = 0; set < 2; set++) {
		pwb_snapshot_level_name(set, PWB_SNAPSHOT_MID, live->mid, keep[i++],
					sizeof(keep[0]));
		pwb_snapshot_level_name(set, PWB_SNAPSHOT_BASE, live->base, keep[i++],
					sizeof(keep[0]));
	}
	while ((de = readdir(d))) {
		const char *n = de->d_name;

		if (strncmp(n, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
			unlinkat(dirfd(d), n, 0);
			continue;
		}
		if (!pwb_snapshot_is_level_file(n))
			continue;
		for (i = 0; i < 4; i++)
			if (strcmp(n, keep[i]) == 0)
				break;
		if (i == 4)
			unlinkat(dirfd(d), n, 0);
	}
	closedir(d);
}
