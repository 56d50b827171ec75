#!/usr/bin/env bash
# Benchmark of pwbadm on a large store (not a test; run by hand as root):
# imports N users (default 100000) in one transaction, then times
# `pwbadm list-users` and `list-users --json` against a baseline measured
# in the same run: `sort` of a text file as large as the table (the least
# any listing sorted by name costs). Prints seconds and ratios.
# Usage: sudo bench/run-adm.sh [N]
set -u
export PWB_TEST_SRCDIR=${PWB_TEST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
pwb_ns_enter "$@"
n=${1:-100000}
adm=$PWB_BIN_PWBADM
[ -x "$adm" ] || { echo "pwbadm not built" >&2; exit 1; }

# A uid range wide enough for n users (the test config has 10000).
cat >"$PWB_CONF" <<CONF
db-dir=$PWB_DB_DIR
store-user=pwb
user-homedir-path=$PWB_HOME_ROOT
user-provisioning-start-uid=100000
user-provisioning-end-uid=$((100000 + 2 * n))
group-provisioning-start-gid=100000
group-provisioning-end-gid=$((100000 + 2 * n))
CONF

# seconds CMD...: wall time of CMD in seconds (3 decimals), output discarded.
seconds() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null || { echo "failed: $*" >&2; exit 1; }
	t1=$(date +%s%N)
	echo "scale=3; ($t1 - $t0) / 1000000000" | bc
}
ratio() { echo "scale=2; $1 / $2" | bc; }

awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"type\":\"user\",\"name\":\"user%06d\",\"uid\":%d,\"source\":\"scim\"}\n", i, 100000 + i }' \
	>"$PWB_TMP/users.jsonl"
t_import=$(seconds "$adm" import "$PWB_TMP/users.jsonl")
rows=$("$adm" list-users | wc -l)
[ "$rows" -eq $((n + 1)) ] || { echo "list-users printed $rows lines, expected $((n + 1))" >&2; exit 1; }
"$adm" list-users >"$PWB_TMP/table.txt"
shuf "$PWB_TMP/table.txt" >"$PWB_TMP/shuffled.txt"
t_base=$(seconds sort "$PWB_TMP/shuffled.txt")
t_list=$(seconds "$adm" list-users)
t_json=$(seconds "$adm" list-users --json)
echo "users:                   $n"
echo "import (one transaction): ${t_import}s"
echo "baseline (sort table):    ${t_base}s"
echo "list-users:               ${t_list}s  ($(ratio "$t_list" "$t_base")x baseline)"
echo "list-users --json:        ${t_json}s  ($(ratio "$t_json" "$t_base")x baseline)"
