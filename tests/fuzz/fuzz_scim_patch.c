/* libFuzzer target: SCIM PATCH application (lib/scim_patch.c). The input is
 * a PatchOp request body; it is applied to a User and to a Group as the
 * service would (JSON parsed with the service's flags). */
#include <stdint.h>
#include <stdlib.h>
#include <jansson.h>
#include "scim_patch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const resources[] = {
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
    "\"urn:pwb:params:scim:schemas:extension:posix:1.0:User\"],"
    "\"id\":\"2819c223-7f76-453a-919d-413861904646\",\"externalId\":\"00u1\","
    "\"userName\":\"alice@example.com\",\"active\":true,\"displayName\":\"Alice\","
    "\"name\":{\"givenName\":\"Alice\",\"familyName\":\"Liddell\"},"
    "\"emails\":[{\"value\":\"alice@example.com\",\"type\":\"work\",\"primary\":true},"
    "{\"value\":\"a@home.example\",\"type\":\"home\"}],"
    "\"meta\":{\"resourceType\":\"User\",\"created\":\"2026-01-02T03:04:05Z\"},"
    "\"urn:pwb:params:scim:schemas:extension:posix:1.0:User\":{\"uidNumber\":1001}}",
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
    "\"id\":\"e9e30dba-f08f-4109-8486-d5c6a331660a\",\"displayName\":\"analysts\","
    "\"members\":[{\"value\":\"2819c223-7f76-453a-919d-413861904646\",\"display\":\"alice\"},"
    "{\"value\":\"902c246b-6245-4190-8e05-00816be7344a\"}]}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pwb_scim_error err = {0};
	json_t *request, *resource;
	size_t i;

	request = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!request)
		return 0;
	for (i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
		resource = json_loads(resources[i], 0, NULL);
		if (!resource)
			abort();
		pwb_scim_patch_apply(resource, request, &err);
		json_decref(resource);
	}
	json_decref(request);
	return 0;
}
