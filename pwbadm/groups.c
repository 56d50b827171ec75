/* pwbadm's group commands: list-groups (name, GID, members). Groups are
 * created by add-user/set-groups (as JIT does) and by SCIM. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "pwbadm.h"
#include "util.h"

/* One table row: name, gid, members comma-separated. */
static int group_row(json_t *record, struct pwbadm_table *table, struct pwb_error *err)
{
	json_t *members = json_object_get(record, "members"), *m;
	_cleanup_free_ char *text = NULL;
	size_t i, len = 1;
	char gid[12];
	const char *row[3];

	json_array_foreach(members, i, m)
	{
		len += strlen(json_string_value(m) ?: "") + 1;
	}
	text = calloc(len, 1);
	if (!text)
		return -ENOMEM;
	json_array_foreach(members, i, m)
	{
		if (i)
			strcat(text, ",");
		strcat(text, json_string_value(m) ?: "");
	}
	snprintf(gid, sizeof(gid), "%lld",
		 (long long)json_integer_value(json_object_get(record, "gid")));
	row[0] = json_string_value(json_object_get(record, "name")) ?: "";
	row[1] = gid;
	row[2] = text;
	return pwbadm_table_add(table, row);
}

int pwbadm_list_groups(struct pwbadm *adm, const struct pwbadm_args *a)
{
	static const char *const headers[] = {"NAME", "GID", "MEMBERS"};
	static const struct pwbadm_list list = {"groups", headers, PWB_ARRAY_SIZE(headers),
						group_row};
	_cleanup_json_ json_t *result = NULL;
	struct pwb_error err = {0};
	int rc;

	rc = pwbadm_call_pages(adm, "group.list", json_object(), "groups", &result, &err);
	if (rc)
		return pwbadm_call_fail(rc, &err, "cannot list groups");
	return pwbadm_list_print(&list, json_object_get(result, "groups"), a->json);
}
