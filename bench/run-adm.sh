#!/usr/bin/env bash
# Benchmark of pwbadm on a large store (not a test; run by hand as root):
# imports N users (default 100000) in one transaction (with --offline while
# pwbd is stopped: a whole store is more than one request to pwbd may
# carry), then times `pwbadm list-users` and `list-users --json` (through
# pwbd, page by page) against a baseline measured
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
pwbd-socket=$PWB_PWBD_SOCKET
user-homedir-path=$PWB_HOME_ROOT
user-provisioning-start-uid=100000
user-provisioning-end-uid=$((100000 + 2 * n))
group-provisioning-start-gid=100000
group-provisioning-end-gid=$((100000 + 2 * n))
CONF

# seconds CMD...: "WALL CPU" seconds of CMD (best of 3 wall times, since
# the machine is shared), output discarded.
seconds() {
	local best="" line wall cpu
	for _ in 1 2 3; do
		line=$({ TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1; } 2>&1) ||
			{ echo "failed: $*" >&2; exit 1; }
		wall=${line%% *}
		cpu=$(echo "$line" | awk '{ printf "%.3f", $2 + $3 }')
		if [ -z "$best" ] || [ "$(echo "$wall < ${best%% *}" | bc)" = 1 ]; then best="$wall $cpu"; fi
	done
	echo "$best"
}
ratio() { echo "scale=2; $1 / $2" | bc; }

awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"type\":\"user\",\"name\":\"user%06d\",\"uid\":%d,\"source\":\"scim\"}\n", i, 100000 + i }' \
	>"$PWB_TMP/users.jsonl"
pwb_pwbd_stop
t0=$(date +%s%N)
"$adm" --offline import "$PWB_TMP/users.jsonl" >/dev/null || { echo "import failed" >&2; exit 1; }
t_import=$(echo "scale=1; ($(date +%s%N) - $t0) / 1000000000" | bc)
pwb_pwbd_start
rows=$("$adm" list-users | wc -l)
[ "$rows" -eq $((n + 1)) ] || { echo "list-users printed $rows lines, expected $((n + 1))" >&2; exit 1; }
"$adm" list-users >"$PWB_TMP/table.txt"
shuf "$PWB_TMP/table.txt" >"$PWB_TMP/shuffled.txt"
read -r base base_cpu < <(seconds sort "$PWB_TMP/shuffled.txt")
read -r list list_cpu < <(seconds "$adm" list-users)
read -r json json_cpu < <(seconds "$adm" list-users --json)
echo "users:                    $n"
echo "import (one transaction, --offline): ${t_import}s"
echo "baseline (sort the table): ${base}s wall, ${base_cpu}s cpu"
echo "list-users:               ${list}s wall, ${list_cpu}s cpu ($(ratio "$list" "$base")x baseline)"
echo "list-users --json:        ${json}s wall, ${json_cpu}s cpu ($(ratio "$json" "$base")x baseline)"
