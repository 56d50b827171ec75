#!/usr/bin/env bash
# nss_pwb under concurrency: 8 threads x 10,000 mixed lookups (getpwnam,
# getpwuid, getgrgid, getgrouplist) in one process while another process
# keeps publishing new generations (deltas, and compactions that replace
# the mid and base and unlink the old ones). Stable users must always
# resolve, with their supplementary group; churn users may come and go but
# must never resolve to a wrong entry; nothing may crash.
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/nss.sh"
# nss_pwb serves only ids inside the configured ranges: make room for these.
pwb_conf_set user-provisioning-end-uid=49999 group-provisioning-end-gid=49999
[ -x "$NSS_PROBE" ] || tap_bail "nss_probe not built ($NSS_PROBE)"

D=$NSS_SNAP_DIR
mkdir -m 0755 -p "$D"
STABLE=300 BASE=40000 SUPGID=45000

stable_users() {
	local k
	for ((k = 0; k < STABLE; k++)); do nss_snap_user "su$k" $((BASE + k)) "" $SUPGID; done
	nss_snap_group stress $SUPGID ""
}
# A random half of the churn users (su300..su599), the rest tombstoned.
churn_users() {
	local k
	for ((k = STABLE; k < 2 * STABLE; k++)); do
		if ((RANDOM % 2)); then nss_snap_user "su$k" $((BASE + k)) "" $SUPGID
		else printf 'p.su%s\t\np=%s\t\ng=%s\t\n' "$k" $((BASE + k)) $((BASE + k)); fi
	done
}

# Generated once, so the publisher below only loads and renames.
stable_users >"$PWB_TMP/stable.txt"
for v in 0 1 2 3 4 5; do churn_users >"$PWB_TMP/churn-$v.txt"; done
gen=1
nss_snap_load "$D/base-1.db" <"$PWB_TMP/stable.txt" || tap_bail "writing base"
: | nss_snap_load "$D/mid-1.db"
nss_snap_meta 1 1 1 | nss_snap_load "$D/delta.db"

# The publisher: new deltas back to back, a compaction every 8th time.
publisher() {
	local i=0 seq=2 old
	while :; do
		i=$((i + 1))
		if ((i % 8 == 0)); then
			old=$gen
			gen=$((gen + 1))
			nss_snap_load "$D/base-$gen.db" <"$PWB_TMP/stable.txt"
			nss_snap_load "$D/mid-$gen.db" <"$PWB_TMP/churn-$((i % 6)).txt"
			nss_snap_meta $gen $gen $seq | nss_snap_load "$D/delta.db"
			rm -f "$D/base-$old.db" "$D/mid-$old.db"
		else
			{ nss_snap_meta $gen $gen $seq; cat "$PWB_TMP/churn-$((i % 6)).txt"; } |
				nss_snap_load "$D/delta.db"
		fi
		seq=$((seq + 1))
		echo "$seq" >"$PWB_TMP/published.new" && mv "$PWB_TMP/published.new" "$PWB_TMP/published"
	done
}
publisher 2>"$PWB_TMP/publisher.err" &
pub_pid=$!
pwb_on_cleanup "kill $pub_pid 2>/dev/null"
sleep 0.5

for round in 1 2 3 4 5; do
	before=$(cat "$PWB_TMP/published" 2>/dev/null || echo 0)
	out=$(timeout 60 "$NSS_PROBE" stress 8 10000 su 0 $STABLE $BASE $SUPGID 2>&1) && rc=0 || rc=$?
	after=$(cat "$PWB_TMP/published" 2>/dev/null || echo 0)
	if [ "$rc" = 0 ]; then
		tap_ok "round $round: 8 threads x 10000 lookups, no wrong or missing answer ($(echo "$out" | tail -1); $((after - before)) publishes meanwhile)"
	else
		tap_fail "round $round: stress (exit $rc)"; tap_diag "$(echo "$out" | tail -20)"
	fi
done
kill "$pub_pid" 2>/dev/null; wait "$pub_pid" 2>/dev/null
tap_like "the publisher really published" "$(cat "$PWB_TMP/published")" '^[0-9]{2,}$'
tap_done
