/* libFuzzer target: the SCIM filter parser (lib/scim_filter.c) on a query's
 * filter, and evaluation of what parses against a User resource that has
 * strings, booleans, a date, a complex and a multi-valued attribute. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "scim_filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char resource_text[] =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
    "\"urn:pwb:params:scim:schemas:extension:posix:1.0:User\"],"
    "\"id\":\"2819c223-7f76-453a-919d-413861904646\",\"externalId\":\"00u1\","
    "\"userName\":\"alice@example.com\",\"active\":true,"
    "\"name\":{\"givenName\":\"Alice\",\"familyName\":\"Liddell\"},"
    "\"emails\":[{\"value\":\"alice@example.com\",\"type\":\"work\",\"primary\":true},"
    "{\"value\":\"a@home.example\",\"type\":\"home\"}],"
    "\"meta\":{\"resourceType\":\"User\",\"created\":\"2026-01-02T03:04:05Z\","
    "\"lastModified\":\"2026-11-28T10:00:00.5+01:00\",\"version\":\"W/\\\"3\\\"\"},"
    "\"urn:pwb:params:scim:schemas:extension:posix:1.0:User\":{\"uidNumber\":1001,"
    "\"homeDirectory\":\"/home/alice\"}}";

static json_t *resource;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pwb_scim_filter *f = NULL;
	struct pwb_scim_error err = {0};
	char *text;

	if (!resource)
		resource = json_loads(resource_text, 0, NULL);
	if (!resource)
		abort();
	text = strndup((const char *)data, size); /* a query's filter is a C string */
	if (!text)
		return 0;
	if (pwb_scim_filter_parse(text, &f, &err) == 0) {
		pwb_scim_filter_match(f, resource);
		pwb_scim_filter_mentions(f, "userName");
		pwb_scim_filter_indexed_eq(f, "externalId");
		pwb_scim_filter_free(f);
	}
	free(text);
	return 0;
}
