# SCIM targets for scripts/fuzz (sourced): target -> the lib sources it needs.
scim_lib="lib/scim_json.c lib/scim_error.c lib/scim_filter.c"
srcs[fuzz_scim_filter]="$scim_lib lib/error.c"
srcs[fuzz_scim_patch_path]="$scim_lib lib/error.c"
srcs[fuzz_scim_patch]="$scim_lib lib/scim_patch.c lib/error.c"
srcs[fuzz_scim_service]="$(echo lib/scim_*.c lib/error.c lib/log.c lib/config.c lib/names.c \
	lib/claims.c lib/policy.c lib/util.c lib/fsid.c lib/store.c lib/store_*.c lib/publish.c lib/token.c)"
