# nss targets for scripts/fuzz (sourced): target -> the sources it needs.
# fuzz_nss_snapshot drives nss_pwb's entry points over snapshot files.
srcs[fuzz_nss_snapshot]="$(echo nss_pwb/*.c lib/snapshot/*.c) lib/base/backoff.c lib/base/config.c lib/base/names.c lib/base/error.c lib/base/policy.c"
