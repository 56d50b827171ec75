#!/usr/bin/env bash
# nss_pwb against snapshots published by the real store (lib/store/publish.c):
# 1,000 users created through pwb_store_write, every map through glibc
# (getent, id), enumeration, users created / locked / deleted resolving at
# once (also in a running process), no system call per lookup (strace),
# unprivileged readers, valgrind, and
# 8 threads x 10,000 lookups while another process keeps publishing.
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/nss.sh"
[ -x "$NSS_PROBE" ] && [ -x "$NSS_STORE_TOOL" ] || tap_bail "nss test tools not built"
# nss_store_tool opens the store itself, which only one process may do:
# pwbd (when ns.sh started one) runs only for the pwbadm checks below.
pwbd_stop() { if command -v pwb_pwbd_stop >/dev/null; then pwb_pwbd_stop >/dev/null; fi; }
pwbd_start() { if command -v pwb_pwbd_start >/dev/null; then pwb_pwbd_start >/dev/null; fi; }
pwbd_stop
# Small levels, so this test also sees deltas merged and bases rewritten.
pwb_conf_set nss-delta-max=16 nss-mid-max=64
# The stress users below (30000-31000) lie inside the ranges nss_pwb serves.
pwb_conf_set user-provisioning-end-uid=39999 group-provisioning-end-gid=39999
T=$NSS_STORE_TOOL
N=1000 G=10 BASE=20000 GBASE=21000

out=$("$T" populate bu $N $BASE bg $G $GBASE 2>&1) || tap_bail "populate: $out"
tap_ok "1000 users in 10 groups created through the store"

# What the store was told, to check every answer against.
expected_groups() { # k -> sorted supplementary GIDs
	local k=$1
	printf '%s\n' $((GBASE + k % G)) $((GBASE + (k * 7 + 3) % G)) $((GBASE + (k * 13 + 5) % G)) |
		sort -u | paste -sd' '
}
tap_is "getent passwd NAME" "$(getent passwd bu5)" \
	"bu5:x:20005:20005:Bench User:$PWB_HOME_ROOT/bu5:/bin/bash"
tap_is "getent passwd UID" "$(getent passwd 20999 | cut -d: -f1,3,4)" "bu999:20999:20999"
tap_is "private group by name" "$(getent group bu42)" "bu42:x:20042:"
tap_is "private group by GID" "$(getent group 20042 | cut -d: -f1)" bu42
tap_is "id: supplementary groups (bu5)" "$(id -G bu5 | tr ' ' '\n' | sed 1d | sort -u | paste -sd' ')" \
	"$(expected_groups 5)"
tap_is "id: supplementary groups (bu998)" \
	"$(id -G bu998 | tr ' ' '\n' | sed 1d | sort -u | paste -sd' ')" "$(expected_groups 998)"
tap_is "id names the groups" "$(id -gn bu5) $(id -Gn bu5 | wc -w)" \
	"bu5 $(($(expected_groups 5 | wc -w) + 1))"
want_members=$(for ((k = 0; k < N; k++)); do
	case " $(expected_groups $k) " in *" $((GBASE + 3)) "*) echo "bu$k" ;; esac
done | sort | paste -sd,)
tap_is "members of a pwb group appear in getent group" \
	"$(getent group bg3 | cut -d: -f4 | tr ',' '\n' | sort | paste -sd,)" "$want_members"
tap_is "getent group GID of a pwb group" "$(getent group $((GBASE + 3)) | cut -d: -f1,3)" "bg3:$((GBASE + 3))"
tap_is "getent shadow: active user" "$(getent shadow bu5 | cut -d: -f1,2,8)" "bu5:*:"
tap_is "passwd enumeration: all 1000 users, once each" \
	"$(getent passwd | grep -c '^bu[0-9]*:x:') $(getent passwd | cut -d: -f1 | sort | uniq -d | wc -l)" \
	"1000 0"
tap_is "group enumeration: 1000 private + 10 pwb groups" \
	"$(getent group | grep -cE '^(bu|bg)[0-9]+:x:')" 1010
tap_is "shadow enumeration: 1000 entries" "$(getent shadow | grep -c '^bu[0-9]*:')" 1000

# --- the fast path: a lookup makes no system call of nss_pwb's own (the
# mapped generation counter; an fstat of the delta about once a second).
# glibc's files module, asked first, makes its own: only calls on the
# snapshot's files and privilege checks are counted.
if command -v strace >/dev/null; then
	strace -f -y -o "$PWB_TMP/strace.out" "$NSS_PROBE" repeat bu5 2000 >"$PWB_TMP/repeat.out"
	tap_is "2000 lookups in one process all found" "$(cat "$PWB_TMP/repeat.out")" "found 2000"
	calls=$(grep -cE '/nss/|geteuid|getuid' "$PWB_TMP/strace.out") || true
	if [ "$calls" -lt 200 ]; then
		tap_ok "2000 lookups: no system call per lookup on the snapshot ($calls in all)"
	else
		tap_fail "2000 lookups: no system call per lookup on the snapshot ($calls in all)"
		tap_diag "$(grep -oE '^[0-9]+ +[a-z0-9_]+' "$PWB_TMP/strace.out" | awk '{print $2}' |
			sort | uniq -c | sort -rn | head -5)"
	fi
else
	tap_skip "2000 lookups in one process all found" "strace not installed"
	tap_skip "2000 lookups: no system call per lookup on the snapshot" "strace not installed"
fi

# --- changes resolve at once, also inside a process that keeps running
mkfifo "$PWB_TMP/watch.in" "$PWB_TMP/watch.out"
"$NSS_PROBE" watch <"$PWB_TMP/watch.in" >"$PWB_TMP/watch.out" &
watch_pid=$!
pwb_on_cleanup "kill $watch_pid 2>/dev/null"
exec 7>"$PWB_TMP/watch.in" 8<"$PWB_TMP/watch.out"
ask() { echo "$1" >&7; read -r -t 10 reply <&8; echo "$reply"; }
tap_is "running process: zed unknown" "$(ask zed)" notfound
uid=$("$T" add zed) || tap_bail "adding zed"
tap_is "created user resolves at once in the running process" "$(ask zed | cut -d: -f1,3)" "zed:$uid"
tap_is "created user resolves at once with getent" "$(getent passwd zed | cut -d: -f1,3)" "zed:$uid"
tap_is "its private group too" "$(getent group "$uid" | cut -d: -f1)" zed
tap_check "the publisher keeps a generation counter for readers" \
	test -s "$PWB_DB_DIR/nss/generation"
# A replaced counter file (the running process maps the old one) costs at
# most a second of freshness: the reader re-checks delta.db every second.
rm -f "$PWB_DB_DIR/nss/generation"
uid2=$("$T" add yan) || tap_bail "adding yan"
found=""
for _ in $(seq 1 40); do
	reply=$(ask yan)
	case $reply in yan:*) found=$reply; break ;; esac
	sleep 0.1
done
tap_is "counter file replaced: the running process still catches up" \
	"$(echo "$found" | cut -d: -f1,3)" "yan:$uid2"
"$T" lock zed || tap_fail "locking zed"
tap_is "locked user: still in passwd" "$(getent passwd zed | cut -d: -f1)" zed
tap_is "locked user: shadow locked and expired" "$(getent shadow zed | cut -d: -f2,8)" '!*:1'
"$T" unlock zed
tap_is "unlocked user: shadow active again" "$(getent shadow zed | cut -d: -f2,8)" '*:'
"$T" delete bu7 || tap_fail "deleting bu7"
tap_is "deleted user stops resolving in the running process" "$(ask bu7)" notfound
tap_is "deleted user stops resolving by name" "$(getent passwd bu7 >/dev/null; echo $?)" 2
tap_is "deleted user stops resolving by UID" "$(getent passwd 20007 >/dev/null; echo $?)" 2
tap_is "deleted user leaves its groups" "$(getent group bg7 | cut -d: -f4 | tr ',' '\n' | grep -cx bu7)" 0
tap_is "deleted user: no shadow entry" "$(getent shadow bu7 >/dev/null; echo $?)" 2
tap_is "enumeration after the changes" "$(getent passwd | grep -cE '^(bu[0-9]+|zed|yan):')" 1001
"$T" add-group team 21100 bu1 zed
# (member order is the store's, not part of the contract)
tap_is "a new group with members" \
	"$(getent group team | cut -d: -f1-3) $(getent group team | cut -d: -f4 | tr ',' '\n' | sort | paste -sd,)" \
	"team:x:21100 bu1,zed"
tap_like "id sees the new group" "$(id -G zed)" "(^| )21100( |$)"

# --- the same through pwbadm, the admin's way
if [ -x "$PWB_BIN_PWBADM" ]; then
	pwbd_start
	tap_check "pwbadm add-user" "$PWB_BIN_PWBADM" add-user adminmade --uid 22000
	tap_is "pwbadm's user resolves at once" "$(getent passwd adminmade | cut -d: -f1,3)" "adminmade:22000"
	tap_is "… also in the running process" "$(ask adminmade | cut -d: -f1)" adminmade
	tap_check "pwbadm lock-user" "$PWB_BIN_PWBADM" lock-user adminmade
	tap_is "pwbadm-locked user: shadow locked and expired" \
		"$(getent shadow adminmade | cut -d: -f2,8)" '!*:1'
	tap_check "pwbadm delete-user" "$PWB_BIN_PWBADM" delete-user --yes adminmade
	tap_is "pwbadm-deleted user stops resolving" "$(ask adminmade)" notfound
	pwbd_stop
else
	tap_skip "pwbadm checks" "pwbadm not built"
fi

# --- unprivileged readers
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
tap_is "nobody resolves passwd" "$(as_nobody getent passwd bu5 | cut -d: -f1)" bu5
tap_is "nobody resolves group" "$(as_nobody getent group bg3 | cut -d: -f1)" bg3
tap_is "nobody runs id" "$(as_nobody id -G bu5 | wc -w)" "$(($(expected_groups 5 | wc -w) + 1))"
tap_is "nobody cannot read shadow" "$(as_nobody getent shadow bu5 >/dev/null 2>&1; echo $?)" 2
tap_is "published shadow files are 0600" "$(stat -c %a "$NSS_SNAP_DIR"/shadow-*.db | sort -u)" 600

# --- valgrind
if [ "${PWB_SANITIZE:-0}" = 1 ]; then
	tap_skip "valgrind" "ASan build (PWB_SANITIZE=1): valgrind cannot run under ASan"
elif command -v valgrind >/dev/null; then
	for q in "passwd bu5" "passwd 20005" "group bg3" "group 20005" "shadow bu5" \
		"initgroups bu5" "passwd"; do
		# shellcheck disable=SC2086
		out=$(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
			getent $q 2>&1 >/dev/null) && rc=0 || rc=$?
		if [ "$rc" != 99 ] && [ -z "$out" ]; then tap_ok "valgrind clean: getent $q"; else
			tap_fail "valgrind clean: getent $q (exit $rc)"; tap_diag "$out"; fi
	done
else
	tap_skip "valgrind" "valgrind not installed"
fi

# --- 8 threads x 10,000 lookups while the store keeps publishing
"$T" populate su 300 30000 sg 1 31000 >/dev/null || tap_bail "populate su"
"$T" churn su 300 300 30000 31000 60 >"$PWB_TMP/churn.out" 2>&1 &
churn_pid=$!
pwb_on_cleanup "kill $churn_pid 2>/dev/null"
base_gen() { ls "$NSS_SNAP_DIR" | sed -n 's/^base-\([0-9]*\)\.db$/\1/p' | sort -n | tail -1; }
seq_now() { db5.3_dump -p "$NSS_SNAP_DIR/delta.db" | grep -A1 '^ @seq$' | tail -1 | tr -d ' '; }
base_before=$(base_gen) seq_before=$(seq_now)
for round in 1 2 3; do
	out=$(timeout 60 "$NSS_PROBE" stress 8 10000 su 0 300 30000 31000 2>&1) && rc=0 || rc=$?
	if [ "$rc" = 0 ]; then tap_ok "round $round: 8 threads x 10000 lookups while publishing ($(echo "$out" | tail -1))"
	else tap_fail "round $round: stress (exit $rc)"; tap_diag "$(echo "$out" | tail -20)"; fi
done
kill -0 "$churn_pid" 2>/dev/null && tap_ok "the store was still publishing at the end" ||
	tap_fail "the churn ended before the lookups: $(cat "$PWB_TMP/churn.out")"
kill "$churn_pid" 2>/dev/null; wait "$churn_pid" 2>/dev/null
tap_check "the store published meanwhile (seq $seq_before -> $(seq_now))" \
	test "$(seq_now)" -gt $((seq_before + 20))
tap_check "bases were rewritten meanwhile (base-$base_before -> base-$(base_gen))" \
	test "$(base_gen)" -gt "$base_before"
tap_done
