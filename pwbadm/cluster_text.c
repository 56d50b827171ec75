/* How pwbadm shows cluster mode (store-backend=postgresql): the cluster
 * part of `pwbadm status` and `pwbadm cluster status`, the per-host sync
 * verdict of `pwbadm check`, and the note that a read came from this
 * host's replica. Pure: text from pwbd's cluster.status result
 * (pwbd/op_cluster.c), so the unit tests pin it down. */
#include <stdio.h>
#include <string.h>
#include "cleanup.h"
#include "pwbadm.h"

static const char *text(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

int pwbadm_cluster_host_verdict(json_t *host, char *out, size_t len)
{
	int64_t lag = pwbadm_json_int(host, "lag"),
		age = pwbadm_json_int(host, "report_age_seconds");
	char ago[48];

	pwbadm_duration_text(age, ago);
	if (!pwbadm_json_int(host, "reported_at")) {
		snprintf(out, len, "host %s has never reported", text(host, "name"));
		return 1;
	}
	if (age > PWBADM_CLUSTER_REPORT_WARN_S) {
		snprintf(out, len, "host %s has not reported for %s (applied %lld, %lld behind)",
			 text(host, "name"), ago, (long long)pwbadm_json_int(host, "applied"),
			 (long long)lag);
		return 1;
	}
	if (lag > 0 && age > PWBADM_CLUSTER_LAG_WARN_S) {
		snprintf(out, len,
			 "host %s is %lld changes behind (applied %lld) and last reported %s ago",
			 text(host, "name"), (long long)lag,
			 (long long)pwbadm_json_int(host, "applied"), ago);
		return 1;
	}
	snprintf(out, len, "host %s applied %lld, %lld behind, reported %s ago", text(host, "name"),
		 (long long)pwbadm_json_int(host, "applied"), (long long)lag, ago);
	return 0;
}

void pwbadm_cluster_summary(json_t *st, FILE *out)
{
	char ago[48], contact[32];
	json_t *why = json_object_get(st, "why");

	pwbadm_duration_text(pwbadm_json_int(st, "applied_age_seconds"), ago);
	fprintf(out, "cluster    host %s (%s), database %s; applied %lld", text(st, "host"),
		text(st, "role"),
		json_is_true(json_object_get(st, "connected")) ? "connected" : "NOT REACHABLE",
		(long long)pwbadm_json_int(st, "applied"));
	if (pwbadm_json_int(st, "applied_at"))
		fprintf(out, " (%s ago)", ago);
	fprintf(out, ", database at %lld", (long long)pwbadm_json_int(st, "db_seq"));
	if (!json_is_true(json_object_get(st, "connected"))) {
		pwbadm_time_text(pwbadm_json_int(st, "last_contact"), contact);
		fprintf(out, " when last reached (%s)", contact);
	}
	fputc('\n', out);
	if (json_is_true(json_object_get(st, "refusing")))
		fprintf(out, "           writes REFUSED: %s (pwbadm cluster accept)\n",
			text(st, "why"));
	else if (json_string_length(why))
		fprintf(out, "           last error: %s\n", text(st, "why"));
	if (!json_is_true(json_object_get(st, "schema_ready")) &&
	    json_is_true(json_object_get(st, "connected")))
		fprintf(out, "           no schema in the database yet (pwbadm cluster init)\n");
	if (pwbadm_json_int(st, "refused_records"))
		fprintf(out,
			"           %lld records refused by the policy since pwbd started "
			"(see the system log)\n",
			(long long)pwbadm_json_int(st, "refused_records"));
}

int pwbadm_cluster_hosts_print(json_t *st, FILE *out)
{
	static const char *const headers[] = {"HOST", "ROLE", "APPLIED", "LAG", "LAST REPORT"};
	struct pwbadm_table t;
	json_t *h;
	size_t i;
	int rc = 0;

	if (json_object_get(st, "hosts_error")) {
		fprintf(out, "hosts: not known (%s)\n", text(st, "hosts_error"));
		return 0;
	}
	pwbadm_table_init(&t, PWB_ARRAY_SIZE(headers), headers);
	json_array_foreach(json_object_get(st, "hosts"), i, h)
	{
		char applied[24], lag[24], ago[64];
		const char *row[] = {text(h, "name"), text(h, "role"), applied, lag, ago};

		snprintf(applied, sizeof(applied), "%lld",
			 (long long)pwbadm_json_int(h, "applied"));
		snprintf(lag, sizeof(lag), "%lld", (long long)pwbadm_json_int(h, "lag"));
		if (pwbadm_json_int(h, "reported_at")) {
			pwbadm_duration_text(pwbadm_json_int(h, "report_age_seconds"), ago);
			strncat(ago, " ago", sizeof(ago) - strlen(ago) - 1);
		} else {
			snprintf(ago, sizeof(ago), "never");
		}
		if ((rc = pwbadm_table_add(&t, row)) < 0)
			break;
	}
	if (rc == 0) {
		pwbadm_table_sort(&t, 0);
		rc = pwbadm_table_print(&t, out);
	}
	pwbadm_table_free(&t);
	return rc;
}

void pwbadm_replica_note_text(json_t *st, char *out, size_t len)
{
	char ago[48] = "never";

	out[0] = '\0';
	if (!st || json_is_true(json_object_get(st, "connected")))
		return;
	if (pwbadm_json_int(st, "applied_at")) {
		pwbadm_duration_text(pwbadm_json_int(st, "applied_age_seconds"), ago);
		strncat(ago, " ago", sizeof(ago) - strlen(ago) - 1);
	}
	snprintf(out, len,
		 "note: the cluster database cannot be reached; read from this host's replica "
		 "(%s): change %lld, applied %s",
		 text(st, "host"), (long long)pwbadm_json_int(st, "applied"), ago);
}
