# SCIM targets for scripts/fuzz (sourced): target -> the lib sources it needs.
scim_lib="lib/scim/scim_json.c lib/scim/scim_error.c lib/scim/scim_filter.c"
srcs[fuzz_scim_filter]="$scim_lib lib/base/error.c"
srcs[fuzz_scim_patch_path]="$scim_lib lib/base/error.c"
srcs[fuzz_scim_patch]="$scim_lib lib/scim/scim_patch.c lib/base/error.c"
# the whole service (the generic endpoint and every resource type) on a
# real store: every lib/scim and lib/store source, the backend included
srcs[fuzz_scim_service]="$(echo lib/scim/scim_*.c lib/base/error.c lib/base/log.c lib/base/config.c lib/base/names.c \
	lib/base/claims.c lib/base/policy.c lib/base/other_sources.c lib/store/*.c lib/store/internal/*.c)"
