/* The names of the store's tables (backend.h's enum pwb_dbi): Berkeley
 * DB's sub-databases of store.db, PostgreSQL's tables pwb_NAME; and which
 * are membership sets. Shared by both backends (compiled into each). */
#include "backend.h"

static const struct {
	const char *name;
	bool dup;
} dbdefs[DBI_COUNT] = {
    [DBI_META] = {"meta", false},
    [DBI_USERS] = {"users", false},
    [DBI_USER_NAME] = {"user_name", false},
    [DBI_USER_UNAME] = {"user_username", false},
    [DBI_USER_UID] = {"user_uid", false},
    [DBI_USER_EXT] = {"user_external_id", false},
    [DBI_GROUPS] = {"groups", false},
    [DBI_GROUP_NAME] = {"group_name", false},
    [DBI_GROUP_GID] = {"group_gid", false},
    [DBI_GROUP_EXT] = {"group_external_id", false},
    [DBI_MEMBERS] = {"members", true},
    [DBI_MEMBER_OF] = {"member_of", true},
    [DBI_TOKENS] = {"tokens", false},
    [DBI_TOKEN_HASH] = {"token_hash", false},
    [DBI_RETIRED] = {"retired", false},
    [DBI_CHANGES] = {"changes", false},
    [DBI_USER_SUBJECT] = {"user_subject", false},
    [DBI_USER_HOME] = {"user_home", false},
    [DBI_CHANGE_REQUEST] = {"change_request", false},
    [DBI_GROUP_MAP] = {"group_map", false},
    [DBI_GROUP_MAP_NAME] = {"group_map_name", false},
};

const char *pwb_dbi_name(enum pwb_dbi dbi)
{
	return (unsigned)dbi < DBI_COUNT ? dbdefs[dbi].name : "?";
}

bool pwb_dbi_is_set(enum pwb_dbi dbi)
{
	return (unsigned)dbi < DBI_COUNT && dbdefs[dbi].dup;
}
