/* pwbadm's group commands: list-groups (Linux name, display name, GID,
 * members) and the group name mappings: map-group, unmap-group,
 * list-group-maps. Groups are created by add-user/set-groups (as JIT does)
 * and by SCIM. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cleanup.h"
#include "log.h"
#include "pwbadm.h"
#include "util.h"

/* One table row: name, gid, members comma-separated, display name. */
static int group_row(json_t *record, struct pwbadm_table *table, struct pwb_error *err)
{
	json_t *members = json_object_get(record, "members"), *m;
	_cleanup_free_ char *text = NULL;
	size_t i, len = 1;
	char gid[12];
	const char *row[4];

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
	/* Last, as it may hold spaces: the columns before it keep their places
	 * for scripts. None of its own: the IdP (or JIT) sent the Linux name. */
	row[3] = json_string_value(json_object_get(record, "displayName")) ?: row[0];
	return pwbadm_table_add(table, row);
}

int pwbadm_list_groups(struct pwbadm *adm, const struct pwbadm_args *a)
{
	static const char *const headers[] = {"NAME", "GID", "MEMBERS", "DISPLAY NAME"};
	static const struct pwbadm_list list = {"groups", headers, PWB_ARRAY_SIZE(headers),
						group_row};
	_cleanup_json_ json_t *result = NULL;
	struct pwb_error err = {0};
	int rc;

	pwbadm_progress_start(adm, a);
	rc = pwbadm_call_pages(adm, "group.list", json_object(), "groups", &result, &err);
	pwbadm_progress_end(adm);
	if (rc)
		return pwbadm_call_fail(rc, &err, "cannot list groups");
	pwbadm_replica_note(adm);
	return pwbadm_list_print(&list, json_object_get(result, "groups"), a->json);
}

/* A display name as an administrator types it: what the IdP sends
 * ("Data Scientists"); pwbd's store checks it again. */
static int display_arg(const char *command, const char *arg)
{
	_cleanup_json_ json_t *probe = NULL;
	const char *p;

	if (!*arg || strlen(arg) > PWB_GROUP_DISPLAY_MAX)
		return pwbadm_usage(command, "the display name must have 1 to %d bytes",
				    PWB_GROUP_DISPLAY_MAX);
	for (p = arg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return pwbadm_usage(command,
					    "the display name contains a control character");
	/* what an IdP sends is JSON text, so UTF-8 */
	probe = json_string(arg);
	if (!probe)
		return pwbadm_usage(command, "the display name is not UTF-8");
	return 0;
}

int pwbadm_map_group(struct pwbadm *adm, const struct pwbadm_args *a)
{
	_cleanup_json_ json_t *result = NULL;
	struct pwb_error err = {0};
	const char *display = a->operands[0], *name = a->operands[1];
	char shown[PWB_GROUP_DISPLAY_MAX + 8];
	int rc;

	if (display_arg(a->command, display))
		return PWBADM_EXIT_USAGE;
	if (!pwb_names_is_valid(name)) {
		pwb_names_escape(name, shown, sizeof(shown));
		return pwbadm_usage(a->command,
				    "\"%s\" is not a valid Linux group name ([a-z_][a-z0-9_.-]*, "
				    "at most %d characters)",
				    shown, PWB_NAME_MAX);
	}
	pwb_names_escape(display, shown, sizeof(shown));
	rc = pwbadm_call(adm, "group.map",
			 json_pack("{s:s, s:s}", "displayName", display, "name", name), &result,
			 &err);
	if (rc)
		return pwbadm_call_fail(rc, &err, "cannot map group \"%s\" to %s", shown, name);
	pwb_log(LOG_NOTICE, "group \"%s\" mapped to %s by pwbadm", shown, name);
	printf("group \"%s\" maps to %s\n", shown, name);
	return PWBADM_EXIT_OK;
}

int pwbadm_unmap_group(struct pwbadm *adm, const struct pwbadm_args *a)
{
	_cleanup_json_ json_t *result = NULL;
	struct pwb_error err = {0};
	char shown[PWB_GROUP_DISPLAY_MAX + 8];
	int rc;

	if (display_arg(a->command, a->operands[0]))
		return PWBADM_EXIT_USAGE;
	pwb_names_escape(a->operands[0], shown, sizeof(shown));
	rc = pwbadm_call(adm, "group.unmap", json_pack("{s:s}", "displayName", a->operands[0]),
			 &result, &err);
	if (rc)
		return pwbadm_call_fail(rc, &err, "cannot unmap group \"%s\"", shown);
	pwb_log(LOG_NOTICE, "group mapping of \"%s\" removed by pwbadm", shown);
	printf("group \"%s\" is no longer mapped\n", shown);
	return PWBADM_EXIT_OK;
}

static int map_row(json_t *record, struct pwbadm_table *table, struct pwb_error *err)
{
	const char *row[2];

	(void)err;
	row[0] = json_string_value(json_object_get(record, "displayName")) ?: "";
	row[1] = json_string_value(json_object_get(record, "name")) ?: "";
	return pwbadm_table_add(table, row);
}

int pwbadm_list_group_maps(struct pwbadm *adm, const struct pwbadm_args *a)
{
	static const char *const headers[] = {"DISPLAY NAME", "NAME"};
	static const struct pwbadm_list list = {"group mappings", headers, PWB_ARRAY_SIZE(headers),
						map_row};
	_cleanup_json_ json_t *result = NULL;
	struct pwb_error err = {0};
	int rc;

	rc = pwbadm_call(adm, "group.maps", json_object(), &result, &err);
	if (rc)
		return pwbadm_call_fail(rc, &err, "cannot list group mappings");
	return pwbadm_list_print(&list, json_object_get(result, "maps"), a->json);
}
