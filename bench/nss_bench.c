/* Times single NSS lookups through glibc (getpwnam, getpwuid, getgrouplist)
 * for whatever source nsswitch.conf names, and prints the median. Every
 * answer is checked, so a source that fails fast is never reported as fast.
 *
 *   nss_bench OP PREFIX COUNT BASEID MAX_SAMPLES BUDGET_MS
 * OP is getpwnam, getpwuid or initgroups; users PREFIXk, k in [0, COUNT),
 * have UID and private GID BASEID+k and at least one supplementary group. */
#include <grp.h>
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

/* One lookup; 0 when the answer is the expected one. */
static int lookup(const char *op, const char *name, uint32_t id)
{
	static char buf[4096];
	struct passwd pw, *pwp = NULL;

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
