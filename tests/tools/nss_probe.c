/* Test driver for nss_pwb through glibc's real NSS path: single lookups with
 * chosen buffer sizes, a long-lived process that looks names up as they are
 * fed on stdin (a user published a moment ago must resolve in the same
 * process), a descriptor check (nothing leaks across exec), and a stress
 * run of threads doing mixed lookups that must never return a wrong answer.
 *
 *   nss_probe pwnam NAME [BUFLEN]   passwd line, or "notfound" / "error E"
 *   nss_probe pwuid UID [BUFLEN]
 *   nss_probe grnam NAME [BUFLEN]
 *   nss_probe grgid GID [BUFLEN]
 *   nss_probe spnam NAME [BUFLEN]
 *   nss_probe groups NAME GID       getgrouplist, sorted
 *   nss_probe watch                 one pwnam per stdin line, flushed
 *   nss_probe repeat NAME N         N pwnam lookups, prints how many found
 *   nss_probe cloexec NAME          descriptors open without FD_CLOEXEC
 *   nss_probe spnam-drop NAME       spnam as root, then again after
 *                                   switching to nobody (65534) in-process
 *   nss_probe stress THREADS N PREFIX FIRST COUNT BASEUID [SUPGID]
 * Users PREFIXk (k in [FIRST, FIRST+COUNT)) are expected to exist with UID
 * and private group GID BASEUID+k, a home ending in /PREFIXk, and SUPGID
 * among their supplementary groups. Users PREFIXk beyond that range may
 * come and go; when they resolve, their entry must be the one their name
 * implies. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <shadow.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_BUFLEN 4096

static void print_error(int r)
{
	if (r == 0)
		printf("notfound\n");
	else
		printf("error %s\n", r == ERANGE ? "ERANGE" : strerror(r));
}

static void print_group(const struct group *gr)
{
	printf("%s:%s:%u:", gr->gr_name, gr->gr_passwd, (unsigned)gr->gr_gid);
	for (char **m = gr->gr_mem; *m; m++)
		printf("%s%s", m == gr->gr_mem ? "" : ",", *m);
	printf("\n");
}

static int lookup(const char *what, const char *arg, size_t buflen)
{
	char *buf = malloc(buflen);
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	struct spwd sp, *spp = NULL;
	int r = EINVAL;

	if (!buf)
		return 2;
	if (strcmp(what, "pwnam") == 0)
		r = getpwnam_r(arg, &pw, buf, buflen, &pwp);
	else if (strcmp(what, "pwuid") == 0)
		r = getpwuid_r((uid_t)strtoul(arg, NULL, 10), &pw, buf, buflen, &pwp);
	else if (strcmp(what, "grnam") == 0)
		r = getgrnam_r(arg, &gr, buf, buflen, &grp);
	else if (strcmp(what, "grgid") == 0)
		r = getgrgid_r((gid_t)strtoul(arg, NULL, 10), &gr, buf, buflen, &grp);
	else if (strcmp(what, "spnam") == 0)
		r = getspnam_r(arg, &sp, buf, buflen, &spp);
	if (pwp)
		printf("%s:%s:%u:%u:%s:%s:%s\n", pw.pw_name, pw.pw_passwd, (unsigned)pw.pw_uid,
		       (unsigned)pw.pw_gid, pw.pw_gecos, pw.pw_dir, pw.pw_shell);
	else if (grp)
		print_group(grp);
	else if (spp)
		printf("%s:%s:%ld:%ld:%ld:%ld:%ld:%ld\n", sp.sp_namp, sp.sp_pwdp, sp.sp_lstchg,
		       sp.sp_min, sp.sp_max, sp.sp_warn, sp.sp_inact, sp.sp_expire);
	else
		print_error(r);
	free(buf);
	return pwp || grp || spp ? 0 : 1;
}

static int compare_gid(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;

	return x < y ? -1 : x > y;
}

static int groups(const char *name, gid_t gid)
{
	gid_t list[256];
	int n = 256;

	if (getgrouplist(name, gid, list, &n) < 0) {
		printf("error too many groups\n");
		return 1;
	}
	qsort(list, (size_t)n, sizeof(list[0]), compare_gid);
	for (int i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", (unsigned)list[i]);
	printf("\n");
	return 0;
}

static int watch(void)
{
	char line[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		lookup("pwnam", line, DEFAULT_BUFLEN);
	}
	return 0;
}

/* Descriptors open without FD_CLOEXEC; with before != NULL, only those
 * that were not already open then (the test's shell hands us some). */
static int count_inheritable(const bool *before, bool *now, int max)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name), flags;

		if (e->d_name[0] == '.' || fd == dirfd(d) || fd >= max)
			continue;
		flags = fcntl(fd, F_GETFD);
		if (flags < 0 || (flags & FD_CLOEXEC))
			continue;
		if (now)
			now[fd] = true;
		if (before && !before[fd])
			n++;
	}
	closedir(d);
	return n;
}

static int cloexec(const char *name)
{
	static bool before[1024];

	if (count_inheritable(NULL, before, 1024) < 0)
		return 2;
	lookup("pwnam", name, DEFAULT_BUFLEN);
	lookup("grnam", name, DEFAULT_BUFLEN);
	lookup("spnam", name, DEFAULT_BUFLEN);
	printf("leaked %d\n", count_inheritable(before, NULL, 1024));
	return 0;
}

struct stress {
	const char *prefix;
	unsigned first, count, base, iterations, supgid;
	atomic_uint wrong, found, missing;
	unsigned seed;
};

/* Checks an answer against what the name implies; NULL answers are fine
 * for churn users, counted as missing for the stable ones. */
static bool passwd_right(const struct stress *st, const struct passwd *pw, unsigned k)
{
	char name[64];
	size_t nlen, hlen = strlen(pw->pw_dir);

	snprintf(name, sizeof(name), "%s%u", st->prefix, k);
	nlen = strlen(name);
	/* the home is HOMEDIR-PATH/NAME, whatever the configured root */
	return strcmp(pw->pw_name, name) == 0 && pw->pw_uid == st->base + k && hlen > nlen &&
	       pw->pw_dir[hlen - nlen - 1] == '/' && strcmp(pw->pw_dir + hlen - nlen, name) == 0;
}

static void *stress_thread(void *arg)
{
	struct stress *st = arg;
	unsigned seed = __atomic_add_fetch(&st->seed, 7919, __ATOMIC_RELAXED);
	char buf[1024], name[64];

	for (unsigned i = 0; i < st->iterations; i++) {
		/* Half the picks among the stable users, half beyond them (churn). */
		unsigned k = st->first + (unsigned)rand_r(&seed) % (st->count * 2);
		bool stable = k < st->first + st->count;
		struct passwd pw, *pwp = NULL;
		struct group gr, *grp = NULL;
		bool ok = true, got;

		snprintf(name, sizeof(name), "%s%u", st->prefix, k);
		switch (i % 4) {
		case 0:
			getpwnam_r(name, &pw, buf, sizeof(buf), &pwp);
			got = pwp != NULL;
			ok = !pwp || passwd_right(st, pwp, k);
			break;
		case 1:
			getpwuid_r(st->base + k, &pw, buf, sizeof(buf), &pwp);
			got = pwp != NULL;
			ok = !pwp || passwd_right(st, pwp, k);
			break;
		case 2:
			getgrgid_r(st->base + k, &gr, buf, sizeof(buf), &grp);
			got = grp != NULL;
			ok = !grp ||
			     (strcmp(grp->gr_name, name) == 0 && grp->gr_gid == st->base + k);
			break;
		default: {
			gid_t list[64];
			int n = 64;

			got = getgrouplist(name, st->base + k, list, &n) >= 0;
			ok = got && n >= 1 && list[0] == st->base + k;
			if (ok && stable && st->supgid) {
				got = false;
				for (int j = 1; j < n; j++)
					got = got || list[j] == st->supgid;
			}
			break;
		}
		}
		if (!ok) {
			atomic_fetch_add(&st->wrong, 1);
			fprintf(stderr, "wrong answer for %s (op %u)\n", name, i % 4);
		} else if (stable && !got) {
			atomic_fetch_add(&st->missing, 1);
			fprintf(stderr, "stable %s did not resolve (op %u)\n", name, i % 4);
		} else if (got) {
			atomic_fetch_add(&st->found, 1);
		}
	}
	return NULL;
}

static int stress(int argc, char **argv)
{
	struct stress st = {0};
	unsigned threads;
	pthread_t tid[64];

	if (argc < 8)
		return 2;
	threads = (unsigned)atoi(argv[2]);
	st.iterations = (unsigned)atoi(argv[3]);
	st.prefix = argv[4];
	st.first = (unsigned)atoi(argv[5]);
	st.count = (unsigned)atoi(argv[6]);
	st.base = (unsigned)atoi(argv[7]);
	st.supgid = argc > 8 ? (unsigned)atoi(argv[8]) : 0;
	if (threads == 0 || threads > 64 || st.count == 0)
		return 2;
	for (unsigned t = 0; t < threads; t++)
		pthread_create(&tid[t], NULL, stress_thread, &st);
	for (unsigned t = 0; t < threads; t++)
		pthread_join(tid[t], NULL);
	printf("lookups %u found %u wrong %u missing %u\n", threads * st.iterations,
	       (unsigned)st.found, (unsigned)st.wrong, (unsigned)st.missing);
	return st.wrong || st.missing ? 1 : 0;
}

static int spnam_drop(const char *name)
{
	gid_t none[1];

	lookup("spnam", name, DEFAULT_BUFLEN);
	fflush(stdout);
	if (setgroups(0, none) != 0 || setresgid(65534, 65534, 65534) != 0 ||
	    setresuid(65534, 65534, 65534) != 0)
		return 2;
	lookup("spnam", name, DEFAULT_BUFLEN);
	return 0;
}

/* Many lookups of one name in one process: what a strace -c of it counts
 * beyond start-up is what a lookup costs in system calls. */
static int repeat(const char *name, long n)
{
	char buf[DEFAULT_BUFLEN];
	struct passwd pw, *res;
	long found = 0;

	for (long i = 0; i < n; i++)
		found += getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 && res;
	printf("found %ld\n", found);
	return 0;
}

int main(int argc, char **argv)
{
	size_t buflen = DEFAULT_BUFLEN;

	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "watch") == 0)
		return watch();
	if (strcmp(argv[1], "stress") == 0)
		return stress(argc, argv);
	if (argc < 3)
		return 2;
	if (strcmp(argv[1], "cloexec") == 0)
		return cloexec(argv[2]);
	if (strcmp(argv[1], "spnam-drop") == 0)
		return spnam_drop(argv[2]);
	if (strcmp(argv[1], "repeat") == 0)
		return argc < 4 ? 2 : repeat(argv[2], strtol(argv[3], NULL, 10));
	if (strcmp(argv[1], "groups") == 0)
		return argc < 4 ? 2 : groups(argv[2], (gid_t)strtoul(argv[3], NULL, 10));
	if (argc > 3)
		buflen = strtoul(argv[3], NULL, 10);
	return lookup(argv[1], argv[2], buflen);
}
