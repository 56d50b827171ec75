# nss targets for scripts/fuzz (sourced): target -> the sources it needs.
# fuzz_nss_snapshot drives nss_pwb's entry points over snapshot files.
srcs[fuzz_nss_snapshot]="$(echo nss_pwb/*.c) lib/config.c lib/names.c lib/error.c lib/policy.c"
