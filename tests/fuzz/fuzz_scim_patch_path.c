/* libFuzzer target: the SCIM PATCH path parser (lib/scim_filter.c), e.g.
 * `members[value eq "x"].display` or `urn:...:User:manager.value`, and the
 * lookup of the parsed path's container in a User resource. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "scim_filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char resource_text[] =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"bob\","
    "\"emails\":[{\"value\":\"bob@example.com\",\"type\":\"work\"}],"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
    "{\"manager\":{\"value\":\"m1\"},\"department\":\"R&D\"}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pwb_scim_patch_path path = {0};
	struct pwb_scim_attr_path attr = {0};
	struct pwb_scim_error err = {0};
	json_t *resource;
	char *text;

	text = strndup((const char *)data, size); /* a PATCH path is a JSON string */
	resource = json_loads(resource_text, 0, NULL);
	if (!text || !resource)
		abort();
	if (pwb_scim_patch_path_parse(text, &path, &err) == 0) {
		pwb_scim_path_container(resource, &path.path, false);
		pwb_scim_path_container(resource, &path.path, true);
		if (path.filter)
			pwb_scim_filter_match(path.filter, resource);
		pwb_scim_patch_path_clear(&path);
	}
	if (pwb_scim_attr_path_parse(text, &attr, &err) == 0)
		pwb_scim_attr_path_clear(&attr);
	json_decref(resource);
	free(text);
	return 0;
}
