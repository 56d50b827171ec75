/* Unit tests for pwbadm/cluster_text.c: how pwbadm shows cluster mode from
 * pwbd's cluster.status result: the per-host sync verdict of `pwbadm
 * check` (lag and report age against the thresholds), the hosts table,
 * the status lines (reachable or not, refusing and why) and the note that
 * a read came from the replica. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pwbadm.h"

static json_t *host(const char *name, long long applied, long long lag, long long reported_at,
		    long long age)
{
	json_t *h = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "name", name, "role", "writer",
			      "applied", (json_int_t)applied, "lag", (json_int_t)lag, "reported_at",
			      (json_int_t)reported_at, "report_age_seconds", (json_int_t)age);

	ck_assert_ptr_nonnull(h);
	return h;
}

static int verdict(json_t *h, char *line, size_t len)
{
	int v = pwbadm_cluster_host_verdict(h, line, len);

	json_decref(h);
	return v;
}

START_TEST(host_verdicts)
{
	char line[256];

	/* in step, or behind for less than the threshold: ok */
	ck_assert_int_eq(verdict(host("web1", 40, 0, 1000, 5), line, sizeof(line)), 0);
	ck_assert_str_eq(line, "host web1 applied 40, 0 behind, reported 5s ago");
	ck_assert_int_eq(
	    verdict(host("web2", 38, 2, 1000, PWBADM_CLUSTER_LAG_WARN_S), line, sizeof(line)), 0);
	/* behind and silent past the lag threshold: warn, with the numbers */
	ck_assert_int_eq(
	    verdict(host("web2", 38, 2, 1000, PWBADM_CLUSTER_LAG_WARN_S + 1), line, sizeof(line)),
	    1);
	ck_assert_str_eq(line,
			 "host web2 is 2 changes behind (applied 38) and last reported 1m 1s ago");
	/* in step but silent for 5 minutes: warn */
	ck_assert_int_eq(
	    verdict(host("slurm1", 40, 0, 1000, PWBADM_CLUSTER_REPORT_WARN_S), line, sizeof(line)),
	    0);
	ck_assert_int_eq(verdict(host("slurm1", 40, 0, 1000, PWBADM_CLUSTER_REPORT_WARN_S + 1),
				 line, sizeof(line)),
			 1);
	ck_assert_str_eq(line, "host slurm1 has not reported for 5m 1s (applied 40, 0 behind)");
	/* never reported */
	ck_assert_int_eq(verdict(host("new", 0, 40, 0, 0), line, sizeof(line)), 1);
	ck_assert_str_eq(line, "host new has never reported");
}
END_TEST

static char *print_to_string(void (*fn)(json_t *, FILE *), int (*fn2)(json_t *, FILE *), json_t *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	if (fn)
		fn(st, f);
	else
		ck_assert_int_eq(fn2(st, f), 0);
	fclose(f);
	return buf;
}

static json_t *status(bool connected, bool refusing, const char *why)
{
	json_t *st = json_pack(
	    "{s:s, s:s, s:b, s:b, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:[]}", "host", "web1",
	    "role", "writer", "connected", connected, "schema_ready", 1, "refusing", refusing,
	    "why", why, "applied", (json_int_t)120, "applied_at", (json_int_t)1000,
	    "applied_age_seconds", (json_int_t)75, "db_seq", (json_int_t)130, "last_contact",
	    (json_int_t)0, "refused_records", (json_int_t)0, "hosts");

	ck_assert_ptr_nonnull(st);
	return st;
}

START_TEST(summary_lines)
{
	json_t *st = status(true, false, "");
	char *text = print_to_string(pwbadm_cluster_summary, NULL, st);

	ck_assert_str_eq(text, "cluster    host web1 (writer), database connected; applied 120 "
			       "(1m 15s ago), database at 130\n");
	free(text);
	json_decref(st);

	st = status(false, true,
		    "the database is behind this host (database at seq 100, this host applied "
		    "120)");
	text = print_to_string(pwbadm_cluster_summary, NULL, st);
	ck_assert_ptr_nonnull(strstr(text, "database NOT REACHABLE; applied 120"));
	ck_assert_ptr_nonnull(strstr(text, "database at 130 when last reached (never)"));
	ck_assert_ptr_nonnull(strstr(text, "writes REFUSED: the database is behind this host "
					   "(database at seq 100, this host applied 120) (pwbadm "
					   "cluster accept)\n"));
	free(text);
	json_decref(st);
}
END_TEST

START_TEST(hosts_table_sorted_with_lag)
{
	json_t *st = status(true, false, "");
	json_t *hosts = json_object_get(st, "hosts");
	char *text;

	json_array_append_new(hosts, host("web2", 128, 2, 1000, 3));
	json_array_append_new(hosts, host("compute1", 130, 0, 0, 0));
	text = print_to_string(NULL, pwbadm_cluster_hosts_print, st);
	ck_assert_str_eq(text, "HOST      ROLE    APPLIED  LAG  LAST REPORT\n"
			       "compute1  writer  130      0    never\n"
			       "web2      writer  128      2    3s ago\n");
	free(text);
	/* the database could not be asked: said, no table */
	json_object_set_new(st, "hosts_error", json_string("cannot reach db:5432"));
	text = print_to_string(NULL, pwbadm_cluster_hosts_print, st);
	ck_assert_str_eq(text, "hosts: not known (cannot reach db:5432)\n");
	free(text);
	json_decref(st);
}
END_TEST

START_TEST(replica_note)
{
	json_t *st = status(true, false, "");
	char note[512];

	/* the database answered: no note */
	pwbadm_replica_note_text(st, note, sizeof(note));
	ck_assert_str_eq(note, "");
	pwbadm_replica_note_text(NULL, note, sizeof(note));
	ck_assert_str_eq(note, "");
	json_object_set_new(st, "connected", json_false());
	pwbadm_replica_note_text(st, note, sizeof(note));
	ck_assert_str_eq(note, "note: the cluster database cannot be reached; read from this "
			       "host's replica (web1): change 120, applied 1m 15s ago");
	json_object_set_new(st, "applied_at", json_integer(0));
	json_object_set_new(st, "applied", json_integer(0));
	pwbadm_replica_note_text(st, note, sizeof(note));
	ck_assert_str_eq(note, "note: the cluster database cannot be reached; read from this "
			       "host's replica (web1): change 0, applied never");
	json_decref(st);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("adm_cluster");
	TCase *tc = tcase_create("adm_cluster");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, host_verdicts);
	tcase_add_test(tc, summary_lines);
	tcase_add_test(tc, hosts_table_sorted_with_lag);
	tcase_add_test(tc, replica_note);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
