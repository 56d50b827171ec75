/* pwbadm status: one screen on the system's health (users by state and
 * source, groups, tokens near expiry, the published snapshot, the store's
 * size, SCIM and sign-in activity, pwbd itself), from pwbd's store.status;
 * --json prints that result as it is, for monitoring. When pwbd is down
 * it says so and shows what it can still read alone: the snapshot. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "admin.h"
#include "cleanup.h"
#include "pwbadm.h"
#include "util.h"

/* "7.5 MiB" */
static void size_text(int64_t bytes, char out[32])
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < PWB_ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	snprintf(out, 32, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void print_snapshot(json_t *snap)
{
	char when[32], age[48];

	if (!json_is_true(json_object_get(snap, "readable"))) {
		printf("snapshot   unreadable or missing in %s (pwbadm rebuild-nss)\n",
		       json_string_value(json_object_get(snap, "path")));
		return;
	}
	pwbadm_time_text(pwbadm_json_int(snap, "published"), when);
	pwbadm_duration_text(pwbadm_json_int(snap, "age_seconds"), age);
	printf("snapshot   generation %lld, published %s (%s ago), change %lld, %lld users, "
	       "%lld bytes\n",
	       (long long)pwbadm_json_int(snap, "generation"), when, age,
	       (long long)pwbadm_json_int(snap, "seq"), (long long)pwbadm_json_int(snap, "users"),
	       (long long)pwbadm_json_int(snap, "bytes"));
}

static void print_tokens(json_t *st)
{
	json_t *expiring = json_object_get(json_object_get(st, "tokens"), "expiring"), *t;
	char when[32];
	size_t i;

	printf("tokens     %lld; %zu expiring within %d days",
	       (long long)pwbadm_json_int(st, "tokens.total"), json_array_size(expiring),
	       PWB_TOKEN_EXPIRY_WARN_DAYS);
	json_array_foreach(expiring, i, t)
	{
		pwbadm_time_text(pwbadm_json_int(t, "expires"), when);
		printf("%s%s (%s)", i ? ", " : ": ", json_string_value(json_object_get(t, "name")),
		       when);
	}
	printf("; %lld expired\n", (long long)pwbadm_json_int(st, "tokens.expired"));
}

static void print_status(json_t *st)
{
	json_t *pwbd = json_object_get(st, "pwbd");
	const char *last_token =
	    json_string_value(json_object_get(json_object_get(st, "scim"), "last_token"));
	char when[32], up[48], since[32], size[32];
	time_t midnight = (time_t)pwbadm_json_int(st, "signins.since");
	struct tm tm;

	if (json_is_true(json_object_get(pwbd, "running"))) {
		pwbadm_duration_text(pwbadm_json_int(pwbd, "uptime_seconds"), up);
		printf("pwbd       running, pid %lld, up %s; %lld SCIM requests and %lld store "
		       "write retries since it started\n",
		       (long long)pwbadm_json_int(pwbd, "pid"), up,
		       (long long)pwbadm_json_int(pwbd, "scim_requests"),
		       (long long)pwbadm_json_int(pwbd, "store_retries"));
	} else {
		printf("pwbd       not asked (--offline: read from the store directly)\n");
	}
	printf("users      %lld: %lld active, %lld locked; by source: scim %lld, jit %lld, manual "
	       "%lld",
	       (long long)pwbadm_json_int(st, "users.total"),
	       (long long)pwbadm_json_int(st, "users.active"),
	       (long long)pwbadm_json_int(st, "users.locked"),
	       (long long)pwbadm_json_int(st, "users.by_source.scim"),
	       (long long)pwbadm_json_int(st, "users.by_source.jit"),
	       (long long)pwbadm_json_int(st, "users.by_source.manual"));
	if (pwbadm_json_int(st, "users.damaged"))
		printf("; %lld damaged (pwbadm check)",
		       (long long)pwbadm_json_int(st, "users.damaged"));
	printf("\ngroups     %lld\n", (long long)pwbadm_json_int(st, "groups.total"));
	print_tokens(st);
	print_snapshot(json_object_get(st, "snapshot"));
	size_text(pwbadm_json_int(st, "store.bytes"), size);
	printf("store      %lld bytes (%s) on disk in %s\n",
	       (long long)pwbadm_json_int(st, "store.bytes"), size,
	       json_string_value(json_object_get(json_object_get(st, "store"), "path")));
	pwbadm_time_text(pwbadm_json_int(st, "scim.last_request"), when);
	printf("SCIM       last request %s", when);
	if (last_token && *last_token)
		printf(" (last token used: %s)", last_token);
	if (!localtime_r(&midnight, &tm) || !strftime(since, sizeof(since), "%Y-%m-%d", &tm))
		strcpy(since, "today");
	printf("\nsign-ins   %lld users signed in today (%s, local time)\n",
	       (long long)pwbadm_json_int(st, "signins.today"), since);
	if (json_object_get(st, "cluster"))
		pwbadm_cluster_summary(json_object_get(st, "cluster"), stdout);
}

/* pwbd is down: say so, and show the snapshot NSS still answers from. */
static int status_without_pwbd(struct pwbadm *adm, const struct pwbadm_args *a, const char *why)
{
	_cleanup_json_ json_t *out = NULL;
	json_t *snap = NULL;

	if (admin_snapshot_status(adm->cfg.db_dir, &snap) < 0 ||
	    !(out = json_pack("{s:I, s:{s:b, s:s}, s:o}", "time", (json_int_t)pwb_now(), "pwbd",
			      "running", 0, "error", why, "snapshot", snap)))
		return pwbadm_fail("out of memory");
	if (a->json) {
		if (json_dumpf(out, stdout, JSON_COMPACT) < 0)
			return pwbadm_fail("cannot write the output");
		putchar('\n');
	} else {
		printf("pwbd       NOT RUNNING: %s\n"
		       "           the store cannot be read without it (pwbadm --offline status\n"
		       "           reads it while pwbd is stopped); the published snapshot:\n",
		       why);
		print_snapshot(snap);
	}
	fflush(stdout);
	return pwbadm_fail("%s", why);
}

int pwbadm_status(struct pwbadm *adm, const struct pwbadm_args *a)
{
	_cleanup_json_ json_t *result = NULL;
	struct pwb_error err = {0};
	int rc;

	rc = pwbadm_call(adm, "store.status", json_object(), &result, &err);
	if (rc == PWB_ENODAEMON)
		return status_without_pwbd(adm, a, pwb_error_text(&err, rc));
	if (rc)
		return pwbadm_call_fail(rc, &err, "cannot read the status");
	if (a->json) {
		if (json_dumpf(result, stdout, JSON_COMPACT) < 0)
			return pwbadm_fail("cannot write the output");
		putchar('\n');
	} else {
		print_status(result);
	}
	return PWBADM_EXIT_OK;
}
