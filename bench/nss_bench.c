/* Times single NSS lookups through glibc (getpwnam, getpwuid, getgrouplist)
 * for whatever source nsswitch.conf names, and prints the median. Every
 * answer is checked, so a source that fails fast is never reported as fast.
 *
 *   nss_bench OP PREFIX COUNT BASEID MAX_SAMPLES BUDGET_MS
 * OP is getpwnam, getpwuid or initgroups; users PREFIXk, k in [0, COUNT),
 * have UID and private GID BASEID+k and at least one supplementary group.
 * OP module-getpwnam / module-getpwuid calls the NSS module named by
 * $NSS_BENCH_MODULE ("pwb", "db") directly, without glibc's per-call work
 * (nsswitch.conf check, nscd probe, dispatch): the module's own cost. */
#include <dlfcn.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

typedef enum nss_status (*getpwnam_fn)(const char *, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*getpwuid_fn)(uid_t, struct passwd *, char *, size_t, int *);
static getpwnam_fn module_getpwnam;
static getpwuid_fn module_getpwuid;

static int load_module(void)
{
	const char *m = getenv("NSS_BENCH_MODULE");
	char path[64], sym[64];
	void *h;

	if (!m)
		return -1;
	snprintf(path, sizeof(path), "libnss_%s.so.2", m);
	h = dlopen(path, RTLD_NOW);
	if (!h)
		return -1;
	snprintf(sym, sizeof(sym), "_nss_%s_getpwnam_r", m);
	module_getpwnam = (getpwnam_fn)dlsym(h, sym);
	snprintf(sym, sizeof(sym), "_nss_%s_getpwuid_r", m);
	module_getpwuid = (getpwuid_fn)dlsym(h, sym);
	return module_getpwnam && module_getpwuid ? 0 : -1;
}

/* One lookup; 0 when the answer is the expected one. */
static int lookup(const char *op, const char *name, uint32_t id)
{
	static char buf[4096];
	struct passwd pw, *pwp = NULL;
	int e;

	if (strcmp(op, "module-getpwnam") == 0) {
		if (module_getpwnam(name, &pw, buf, sizeof(buf), &e) != NSS_STATUS_SUCCESS)
			return -1;
		return pw.pw_uid == id ? 0 : -1;
	}
	if (strcmp(op, "module-getpwuid") == 0) {
		if (module_getpwuid(id, &pw, buf, sizeof(buf), &e) != NSS_STATUS_SUCCESS)
			return -1;
		return strcmp(pw.pw_name, name) == 0 ? 0 : -1;
	}
	if (strcmp(op, "getpwnam") == 0) {
		getpwnam_r(name, &pw, buf, sizeof(buf), &pwp);
		return pwp && pwp->pw_uid == id ? 0 : -1;
	}
	if (strcmp(op, "getpwuid") == 0) {
		getpwuid_r(id, &pw, buf, sizeof(buf), &pwp);
		return pwp && strcmp(pwp->pw_name, name) == 0 ? 0 : -1;
	}
	if (strcmp(op, "initgroups") == 0) {
		gid_t list[256];
		int n = 256;

		return getgrouplist(name, id, list, &n) >= 0 && n >= 2 ? 0 : -1;
	}
	return -1;
}

int main(int argc, char **argv)
{
	const char *op, *prefix;
	unsigned count, base, max_samples, seed = 12345;
	uint64_t budget, start, *samples;
	size_t n = 0;
	char name[64];

	if (argc != 7) {
		fprintf(stderr, "usage: nss_bench OP PREFIX COUNT BASEID MAX_SAMPLES BUDGET_MS\n");
		return 2;
	}
	op = argv[1];
	prefix = argv[2];
	count = (unsigned)strtoul(argv[3], NULL, 10);
	base = (unsigned)strtoul(argv[4], NULL, 10);
	max_samples = (unsigned)strtoul(argv[5], NULL, 10);
	budget = strtoull(argv[6], NULL, 10) * 1000000u;
	if (strncmp(op, "module-", 7) == 0 && load_module() < 0) {
		fprintf(stderr, "nss_bench: cannot load module $NSS_BENCH_MODULE\n");
		return 2;
	}
	samples = calloc(max_samples ? max_samples : 1, sizeof(*samples));
	if (!samples || count == 0 || max_samples == 0)
		return 2;
	/* Warm up as a long-lived process would be: module loaded, files
	 * opened and mapped; a few hundred calls, or a tenth of the budget. */
	start = now_ns();
	for (unsigned i = 0; i < 300 && (i < 3 || now_ns() - start < budget / 10); i++) {
		snprintf(name, sizeof(name), "%s%u", prefix, i % count);
		if (lookup(op, name, base + i % count) < 0) {
			fprintf(stderr, "nss_bench: %s %s: wrong or no answer\n", op, name);
			return 1;
		}
	}
	start = now_ns();
	while (n < max_samples && (n < 11 || now_ns() - start < budget)) {
		unsigned k = (unsigned)rand_r(&seed) % count;
		uint64_t t0;

		snprintf(name, sizeof(name), "%s%u", prefix, k);
		t0 = now_ns();
		if (lookup(op, name, base + k) < 0) {
			fprintf(stderr, "nss_bench: %s %s: wrong or no answer\n", op, name);
			return 1;
		}
		samples[n++] = now_ns() - t0;
	}
	qsort(samples, n, sizeof(*samples), compare_u64);
	printf("%llu %zu\n", (unsigned long long)samples[n / 2], n);
	free(samples);
	return 0;
}
