# rpc targets for scripts/fuzz (sourced): target -> the lib sources it needs.
# fuzz_rpc_request: pwbd's strict request parser.
srcs[fuzz_rpc_request]="lib/rpc/protocol.c lib/base/error.c"
