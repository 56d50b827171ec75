/* libFuzzer target: nss_pwb (its cache over lib/snapshot's reader), from the files
 * to glibc's structs. Each input is a snapshot written by whoever owns the
 * files, so nothing in it is trusted:
 *   KEY<TAB>VALUE lines (any bytes but newline; an empty value deletes)
 *   %%                  then, optionally, extra pwb.conf lines
 *   %%                  then the local passwd file
 *   %%                  then the local group file
 * The records become delta.db and shadow-delta.db (Berkeley DB, as the
 * publisher writes them), and every map's entry points look up each key,
 * enumerate, and run initgroups, with roomy and tight buffers: the line
 * parsers, the trust checks (trust.c) and the configuration reader. */
#include <db.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../../nss_pwb/nss_pwb.h"
#include "../../nss_pwb/trust.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEFAULT_PASSWD "root:x:0:0::/root:/bin/sh\nlena:x:2500:2500::/home/lena:/bin/sh\n"
#define DEFAULT_GROUP  "root:x:0:\nsudo:x:27:lena\nlena:x:2500:\n"

static char dir[PATH_MAX];

/* The files of one input need no durability: Berkeley DB's sync on close
 * (not what is fuzzed) would otherwise take most of the time. */
int fdatasync(int fd);
int fdatasync(int fd)
{
	(void)fd;
	return 0;
}

static void quiet(const char *line)
{
	(void)line; /* no syslog from a fuzzer */
}

static void path_of(char *out, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", dir, name);
}

static void write_text(const char *name, const char *text, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	path_of(path, name);
	f = fopen(path, "we");
	if (!f)
		abort();
	if (len)
		fwrite(text, 1, len, f);
	fclose(f);
}

/* Writes the records (and the meta keys, unless the input sets them) to
 * a new file name. (Not renamed over the old one as the publisher does:
 * the reader is closed between inputs, and ext4 would flush every rename.) */
static void write_db(const char *name, const char *records, size_t len)
{
	char path[PATH_MAX];
	const char *p = records, *end = records + len;
	DB *db = NULL;

	path_of(path, name);
	unlink(path);
	if (db_create(&db, NULL, 0) != 0 ||
	    db->open(db, NULL, path, NULL, DB_BTREE, DB_CREATE, 0600) != 0)
		abort();
	if (!strstr(name, "base-")) {
		DBT k = {.data = "@base", .size = 5}, v = {.data = "1", .size = 1};

		db->put(db, NULL, &k, &v, DB_NOOVERWRITE);
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		const char *tab = memchr(p, '\t', (size_t)(line_end - p));
		DBT k = {0}, v = {0};

		if (tab && tab > p) {
			k.data = (void *)p;
			k.size = (u_int32_t)(tab - p);
			v.data = (void *)(tab + 1);
			v.size = (u_int32_t)(line_end - tab - 1);
			db->put(db, NULL, &k, &v, 0);
		}
		p = nl ? nl + 1 : end;
	}
	if (db->close(db, 0) != 0)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmpdir = getenv("TMPDIR");
	char path[PATH_MAX], passwd[PATH_MAX], group[PATH_MAX];

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/fuzz-nss-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(dir))
		abort();
	path_of(path, "nss");
	if (mkdir(path, 0755) != 0)
		abort();
	write_db("nss/base-1.db", "", 0);
	write_db("nss/shadow-base-1.db", "", 0);
	path_of(path, "pwb.conf");
	setenv("PWB_CONFIG", path, 1);
	path_of(passwd, "passwd");
	path_of(group, "group");
	pwb_nss_set_local_files(passwd, group);
	pwb_nss_trust_set_log_sink(quiet);
	return 0;
}

/* The next section of the input (up to "\n%%\n" or the end). */
static const char *section(const char **p, const char *end, size_t *len)
{
	const char *start = *p, *q;

	if (!start)
		return NULL;
	for (q = start; q + 4 <= end; q++) {
		if (memcmp(q, "\n%%\n", 4) == 0) {
			*len = (size_t)(q - start);
			*p = q + 4;
			return start;
		}
	}
	*len = (size_t)(end - start);
	*p = NULL;
	return start;
}

/* The name or number after a key's two-byte prefix, as a C string. */
static void key_rest(const char *key, size_t klen, char *out, size_t outlen)
{
	size_t n = klen - 2 < outlen - 1 ? klen - 2 : outlen - 1;

	memcpy(out, key + 2, n);
	out[n] = '\0';
}

static void lookup_key(const char *key, size_t klen, char *buf, size_t buflen)
{
	char arg[PWB_SNAPSHOT_KEY_MAX];
	struct passwd pw;
	struct group gr;
	struct spwd sp;
	unsigned long id;
	int err;

	if (klen < 2)
		return;
	key_rest(key, klen, arg, sizeof(arg));
	id = strtoul(arg, NULL, 10);
	if (memcmp(key, "p.", 2) == 0) {
		_nss_pwb_getpwnam_r(arg, &pw, buf, buflen, &err);
	} else if (memcmp(key, "p=", 2) == 0) {
		_nss_pwb_getpwuid_r((uid_t)id, &pw, buf, buflen, &err);
	} else if (memcmp(key, "g.", 2) == 0) {
		_nss_pwb_getgrnam_r(arg, &gr, buf, buflen, &err);
	} else if (memcmp(key, "g=", 2) == 0) {
		_nss_pwb_getgrgid_r((gid_t)id, &gr, buf, buflen, &err);
	} else if (memcmp(key, "s.", 2) == 0) {
		_nss_pwb_getspnam_r(arg, &sp, buf, buflen, &err);
	} else if (memcmp(key, "i.", 2) == 0) {
		long start = 1, size = 2;
		gid_t *groups = malloc((size_t)size * sizeof(gid_t));

		if (!groups)
			return;
		groups[0] = 2000;
		_nss_pwb_initgroups_dyn(arg, 2000, &start, &size, &groups, buflen < 64 ? 3 : 0,
					&err);
		free(groups);
	}
}

static void enumerate(char *buf, size_t buflen)
{
	struct passwd pw;
	struct group gr;
	struct spwd sp;
	int err, n;

	_nss_pwb_setpwent(0);
	for (n = 0; n < 1000 && _nss_pwb_getpwent_r(&pw, buf, buflen, &err) == NSS_STATUS_SUCCESS;
	     n++)
		;
	_nss_pwb_endpwent();
	_nss_pwb_setgrent(0);
	for (n = 0; n < 1000 && _nss_pwb_getgrent_r(&gr, buf, buflen, &err) == NSS_STATUS_SUCCESS;
	     n++)
		;
	_nss_pwb_endgrent();
	_nss_pwb_setspent(0);
	for (n = 0; n < 1000 && _nss_pwb_getspent_r(&sp, buf, buflen, &err) == NSS_STATUS_SUCCESS;
	     n++)
		;
	_nss_pwb_endspent();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *records, *conf, *passwd, *group;
	size_t records_len = 0, conf_len = 0, passwd_len = 0, group_len = 0;
	static const size_t sizes[] = {16, 64, 4096};
	char text[PATH_MAX + 64 + 1024], *buf;
	int n;

	records = section(&p, end, &records_len);
	conf = section(&p, end, &conf_len);
	passwd = section(&p, end, &passwd_len);
	group = section(&p, end, &group_len);

	n = snprintf(text, sizeof(text), "db-dir=%s\n", dir);
	if (conf && conf_len < 1024) {
		memcpy(text + n, conf, conf_len);
		n += (int)conf_len;
	}
	write_text("pwb.conf", text, (size_t)n);
	write_text("passwd", passwd ? passwd : DEFAULT_PASSWD,
		   passwd ? passwd_len : strlen(DEFAULT_PASSWD));
	write_text("group", group ? group : DEFAULT_GROUP,
		   group ? group_len : strlen(DEFAULT_GROUP));
	write_db("nss/delta.db", records, records_len);
	write_db("nss/shadow-delta.db", records, records_len);

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		buf = malloc(sizes[s]);
		if (!buf)
			break;
		for (const char *q = records; q < records + records_len;) {
			const char *nl = memchr(q, '\n', (size_t)(records + records_len - q));
			const char *line_end = nl ? nl : records + records_len;
			const char *tab = memchr(q, '\t', (size_t)(line_end - q));

			if (tab)
				lookup_key(q, (size_t)(tab - q), buf, sizes[s]);
			q = nl ? nl + 1 : line_end;
		}
		enumerate(buf, sizes[s]);
		free(buf);
	}
	pwb_nss_close_all();
	return 0;
}
