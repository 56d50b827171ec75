/* Static discovery documents, built with json_pack so the structure is
 * checked by Jansson rather than by hand-written JSON text. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "scim_discovery.h"
#include "scim_list.h"
#include "scim_resource.h"

static json_t *with_meta(json_t *doc, const char *type, const char *base_url, const char *path)
{
	char loc[512];

	snprintf(loc, sizeof(loc), "%s/%s", base_url, path);
	json_object_set_new(doc, "meta",
			    json_pack("{s:s,s:s}", "resourceType", type, "location", loc));
	return doc;
}

json_t *pwb_scim_service_provider_config(const char *base_url, unsigned max_bytes)
{
	json_t *doc = json_pack(
	    "{s:[s],s:{s:b},s:{s:b,s:i,s:i},s:{s:b,s:i},s:{s:b},s:{s:b},s:{s:b},"
	    "s:[{s:s,s:s,s:s,s:b}]}",
	    "schemas", "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig", "patch",
	    "supported", 1, "bulk", "supported", 0, "maxOperations", 0, "maxPayloadSize",
	    (int)max_bytes, "filter", "supported", 1, "maxResults", PWB_SCIM_LIST_MAX_COUNT,
	    "changePassword", "supported", 0, "sort", "supported", 1, "etag", "supported", 1,
	    "authenticationSchemes", "type", "oauthbearertoken", "name", "OAuth Bearer Token",
	    "description", "A bearer token made by `pwbadm generate-token`", "primary", 1);

	return doc ? with_meta(doc, "ServiceProviderConfig", base_url, "ServiceProviderConfig")
		   : NULL;
}

static json_t *resource_type(const char *base_url, const char *name, const char *endpoint,
			     const char *schema, const char *extension)
{
	char path[64];
	json_t *doc = json_pack("{s:[s],s:s,s:s,s:s,s:s,s:[{s:s,s:b}]}", "schemas",
				"urn:ietf:params:scim:schemas:core:2.0:ResourceType", "id", name,
				"name", name, "endpoint", endpoint, "schema", schema,
				"schemaExtensions", "schema", extension, "required", 0);

	snprintf(path, sizeof(path), "ResourceTypes/%s", name);
	return doc ? with_meta(doc, "ResourceType", base_url, path) : NULL;
}

json_t *pwb_scim_resource_types(const char *base_url, const char *name)
{
	json_t *user =
	    resource_type(base_url, "User", "/Users", PWB_SCIM_USER_SCHEMA, PWB_SCIM_POSIX_USER);
	json_t *group = resource_type(base_url, "Group", "/Groups", PWB_SCIM_GROUP_SCHEMA,
				      PWB_SCIM_POSIX_GROUP);

	if (group)
		json_object_set_new(group, "description",
				    json_string("Linux group; its name is the extension's "
						"groupName, else a pwbadm map-group mapping of "
						"displayName, else displayName lower-cased with "
						"spaces replaced (fixed at creation)"));

	if (name) {
		json_t *one = strcasecmp(name, "User") == 0    ? json_incref(user)
			      : strcasecmp(name, "Group") == 0 ? json_incref(group)
							       : NULL;
		json_decref(user);
		json_decref(group);
		return one;
	}
	return pwb_scim_list_response(json_pack("[o,o]", user, group), 2, 1);
}

/* One attribute definition (RFC 7643 §7). */
static json_t *attr(const char *name, const char *type, int multi, int required, int case_exact,
		    const char *mutability, const char *uniqueness)
{
	return json_pack("{s:s,s:s,s:b,s:b,s:b,s:s,s:s,s:s}", "name", name, "type", type,
			 "multiValued", multi, "required", required, "caseExact", case_exact,
			 "mutability", mutability, "returned", "default", "uniqueness", uniqueness);
}

/* RFC 7643 §4.1.1 and §7: a password is never returned, in any response. */
static json_t *returned_never(json_t *a)
{
	if (a)
		json_object_set_new(a, "returned", json_string("never"));
	return a;
}

static json_t *complex_attr(const char *name, int multi, const char *mutability, json_t *subs)
{
	json_t *a = attr(name, "complex", multi, 0, 0, mutability, "none");

	if (a)
		json_object_set_new(a, "subAttributes", subs);
	else
		json_decref(subs);
	return a;
}

/* A user's groups and a group's members: value, display and $ref of the
 * other resource (value and $ref with the given mutability). */
static json_t *reference_attr(const char *name, const char *mutability, const char *ref_mutability)
{
	return complex_attr(name, 1, mutability,
			    json_pack("[o,o,o]",
				      attr("value", "string", 0, 0, 1, ref_mutability, "none"),
				      attr("display", "string", 0, 0, 0, "readOnly", "none"),
				      attr("$ref", "reference", 0, 0, 1, ref_mutability, "none")));
}

static json_t *schema(const char *base_url, const char *id, const char *name,
		      const char *description, json_t *attributes)
{
	char path[256];
	json_t *doc = json_pack("{s:[s],s:s,s:s,s:s,s:o}", "schemas",
				"urn:ietf:params:scim:schemas:core:2.0:Schema", "id", id, "name",
				name, "description", description, "attributes", attributes);

	snprintf(path, sizeof(path), "Schemas/%s", id);
	return doc ? with_meta(doc, "Schema", base_url, path) : NULL;
}

static json_t *user_attributes(void)
{
	return json_pack(
	    "[o,o,o,o,o,o,o,o,o,o]", attr("userName", "string", 0, 1, 0, "readWrite", "server"),
	    complex_attr("name", 0, "readWrite",
			 json_pack("[o,o,o]",
				   attr("formatted", "string", 0, 0, 0, "readWrite", "none"),
				   attr("familyName", "string", 0, 0, 0, "readWrite", "none"),
				   attr("givenName", "string", 0, 0, 0, "readWrite", "none"))),
	    attr("displayName", "string", 0, 0, 0, "readWrite", "none"),
	    attr("nickName", "string", 0, 0, 0, "readWrite", "none"),
	    attr("title", "string", 0, 0, 0, "readWrite", "none"),
	    attr("active", "boolean", 0, 0, 0, "readWrite", "none"),
	    returned_never(attr("password", "string", 0, 0, 0, "writeOnly", "none")),
	    complex_attr("emails", 1, "readWrite",
			 json_pack("[o,o,o]", attr("value", "string", 0, 0, 0, "readWrite", "none"),
				   attr("type", "string", 0, 0, 0, "readWrite", "none"),
				   attr("primary", "boolean", 0, 0, 0, "readWrite", "none"))),
	    reference_attr("groups", "readOnly", "readOnly"),
	    attr("externalId", "string", 0, 0, 1, "readWrite", "server"));
}

static json_t *group_attributes(void)
{
	return json_pack("[o,o,o]", attr("displayName", "string", 0, 1, 0, "readWrite", "server"),
			 reference_attr("members", "readWrite", "immutable"),
			 attr("externalId", "string", 0, 0, 1, "readWrite", "server"));
}

static json_t *posix_user_attributes(void)
{
	return json_pack("[o,o,o,o]", attr("uidNumber", "integer", 0, 0, 0, "readWrite", "server"),
			 attr("gidNumber", "integer", 0, 0, 0, "readWrite", "none"),
			 attr("homeDirectory", "string", 0, 0, 1, "readWrite", "none"),
			 attr("loginShell", "string", 0, 0, 1, "readWrite", "none"));
}

static json_t *posix_group_attributes(void)
{
	/* groupName: the Linux name, overriding the displayName rule and any
	 * pwbadm map-group mapping; fixed once the group exists. */
	return json_pack("[o,o]", attr("gidNumber", "integer", 0, 0, 0, "readWrite", "server"),
			 attr("groupName", "string", 0, 0, 1, "immutable", "server"));
}

/* The schemas served, in order. */
static const struct {
	const char *id, *name, *description;
	json_t *(*attributes)(void);
} schemas[] = {
    {PWB_SCIM_USER_SCHEMA, "User", "User Account", user_attributes},
    {PWB_SCIM_GROUP_SCHEMA, "Group", "Group", group_attributes},
    {PWB_SCIM_POSIX_USER, "PosixUser", "Linux account: UID, primary GID, home directory and shell",
     posix_user_attributes},
    {PWB_SCIM_POSIX_GROUP, "PosixGroup",
     "Linux group: GID and name (groupName; else a pwbadm map-group mapping of the displayName, "
     "else the displayName lower-cased with spaces replaced)",
     posix_group_attributes},
};

json_t *pwb_scim_schemas(const char *base_url, const char *urn)
{
	json_t *all = json_array(), *s;
	size_t i;

	if (!all)
		return NULL;
	for (i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++) {
		s = schema(base_url, schemas[i].id, schemas[i].name, schemas[i].description,
			   schemas[i].attributes());
		if (!s || json_array_append_new(all, s) < 0) {
			json_decref(all);
			return NULL;
		}
	}
	if (!urn)
		return pwb_scim_list_response(all, json_array_size(all), 1);
	json_array_foreach(all, i, s)
	{
		if (strcasecmp(json_string_value(json_object_get(s, "id")), urn) == 0) {
			json_incref(s);
			json_decref(all);
			return s;
		}
	}
	json_decref(all);
	return NULL;
}
