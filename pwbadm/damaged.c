/* Records the store cannot decode: pwbd's walks skip them (one bad record
 * never hides the others) and report how many, naming the first few (see
 * pwbd/admin.h); pwbadm says so on stderr. */
#include <stdio.h>
#include <string.h>
#include "pwbadm.h"

uint64_t pwbadm_damaged_count(json_t *damaged)
{
	return (uint64_t)json_integer_value(json_object_get(damaged, "count"));
}

void pwbadm_damaged_report(json_t *damaged)
{
	json_t *records = json_object_get(damaged, "records"), *r;
	uint64_t count = pwbadm_damaged_count(damaged);
	size_t i;

	json_array_foreach(records, i, r)
	{
		const char *id = json_string_value(json_object_get(r, "id")) ?: "";

		if (strcmp(json_string_value(json_object_get(r, "kind")) ?: "", "g") == 0)
			fprintf(stderr,
				"pwbadm: warning: group %s: damaged record skipped (a SCIM DELETE "
				"of /Groups/%s removes it)\n",
				id, id);
		else
			fprintf(stderr,
				"pwbadm: warning: user %s: damaged record skipped (pwbadm "
				"delete-user %s removes it)\n",
				id, id);
	}
	if (count > json_array_size(records))
		fprintf(stderr,
			"pwbadm: warning: %llu damaged record%s skipped in all (pwbadm check lists "
			"them)\n",
			(unsigned long long)count, count == 1 ? "" : "s");
}
