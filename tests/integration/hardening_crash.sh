#!/usr/bin/env bash
# Crash recovery: SIGKILL the SCIM responder (pwb-scim under spawn-fcgi,
# behind nginx, relaying to pwbd) during writes, and pwbd itself (the one
# store writer) during `pwbadm import` and during `pwbadm add-user` loops,
# $HARDENING_CRASH_REPEAT times each (default 20; 5 in the sanitizer pass,
# where each round is several times slower and the crash paths it covers
# are the same from the first round). After each restart pwbd
# opens the store (recovery runs) and writes; at the end the store
# verifies, every acknowledged write is present (and resolves through
# getent), nothing is half-written (every import is all-or-nothing), and the
# snapshot equals the store.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
. "$PWB_TEST_SRCDIR/tests/lib/hardening.sh"

for f in "$PWB_NSS_LIBDIR/libnss_pwb.so.2" "$PWB_BIN_PWBADM" "$PWB_BIN_SCIM"; do
	[ -e "$f" ] || tap_bail "not built: $f"
done
if [ -n "${PWB_SANITIZE:-}" ]; then REPEAT=${HARDENING_CRASH_REPEAT:-5}; else REPEAT=${HARDENING_CRASH_REPEAT:-20}; fi
OUT=$PWB_TMP/crash
mkdir -p "$OUT"

# ---- 1. the SCIM responder, killed while a client creates users
SCIM_TOKEN=$(pwb_scim_token crash) || tap_bail "cannot store a token"
pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_nginx_start || tap_bail "nginx did not start"

# Same arguments as pwb_scim_spawn, without re-creating the log.
scim_respawn() {
	rm -f "$PWB_SCIM_SOCK"
	spawn-fcgi -s "$PWB_SCIM_SOCK" -M 0660 -u pwb-scim -g pwb-scim -U www-data -G www-data -F 1 \
		-P "$PWB_TMP/run/pwb-scim.pid" -- /bin/sh -c 'exec "$0" --log-stderr 2>>"$1"' \
		"$PWB_BIN_SCIM" "$PWB_SCIM_LOG" >>"$OUT/spawn.log" 2>&1 || return 1
	local i
	for i in $(seq 1 50); do
		[ -S "$PWB_SCIM_SOCK" ] && return 0
		sleep 0.1
	done
	return 1
}

# client REP: creates users until killed; logs "create NAME ID" per 201.
client() {
	local i=0 st
	while :; do
		i=$((i + 1))
		st=$(curl -sS --max-time 20 -o "$OUT/client.body" -w '%{http_code}' -H "Authorization: Bearer $SCIM_TOKEN" \
			-H 'Content-Type: application/scim+json' \
			--data-binary "$(scim_user_json "c$1-$i" '"displayName":"Crash '"$1"'"')" \
			"$SCIM_URL/Users" 2>/dev/null)
		[ "$st" = 201 ] && echo "create c$1-$i $(jq -r .id "$OUT/client.body")"
	done
}

scim_kills=0 scim_restarts=0 scim_after=0 scim_hangs=''
for rep in $(seq 1 "$REPEAT"); do
	client "$rep" >>"$OUT/acked.log" 2>/dev/null &
	cpid=$!
	# The kill lands while creates are flowing: after this round's first
	# acknowledged one (so every round has some to check, however slow
	# the build), then a random while into the next ones.
	for i in $(seq 1 100); do
		grep -q "^create c$rep-" "$OUT/acked.log" 2>/dev/null && break
		sleep 0.1
	done
	sleep "0.$((RANDOM % 500))"
	kill -KILL "$(cat "$PWB_TMP/run/pwb-scim.pid")" 2>/dev/null && scim_kills=$((scim_kills + 1))
	sleep 0.1
	kill "$cpid" 2>/dev/null
	wait "$cpid" 2>/dev/null
	scim_respawn && scim_restarts=$((scim_restarts + 1))
	# The restarted responder relays to pwbd and writes. One that does not
	# answer fails a check, and is replaced so the other checks still run.
	for try in 1 2 3; do
		SCIM_STATUS=$(curl -sS --max-time 10 -o "$OUT/after.body" -w '%{http_code}' \
			-H "Authorization: Bearer $SCIM_TOKEN" -H 'Content-Type: application/scim+json' \
			--data-binary "$(scim_user_json "after-$rep")" "$SCIM_URL/Users" 2>/dev/null)
		[ "$SCIM_STATUS" != 201 ] || break
		scim_hangs="$scim_hangs rep-$rep:$SCIM_STATUS"
		kill -KILL "$(cat "$PWB_TMP/run/pwb-scim.pid")" 2>/dev/null
		scim_respawn
	done
	if [ "$SCIM_STATUS" = 201 ]; then
		scim_after=$((scim_after + 1))
		echo "create after-$rep" >>"$OUT/acked.log"
	fi
done
scim_acked=$(grep -c '^create c' "$OUT/acked.log")
tap_diag "SCIM: $scim_kills SIGKILLs of pwb-scim during $scim_acked acknowledged creates"
tap_is "pwb-scim was SIGKILLed $REPEAT times" "$scim_kills" "$REPEAT"
tap_is "and restarted $REPEAT times" "$scim_restarts" "$REPEAT"
tap_is "each restarted pwb-scim wrote (through pwbd)" "$scim_after" "$REPEAT"
tap_is "each restarted pwb-scim answered at the first try" "$scim_hangs" ""
tap_check "acknowledged creates to check" test "$scim_acked" -gt 0
kill "$(cat "$PWB_TMP/nginx/nginx.pid")" "$(cat "$PWB_TMP/run/pwb-scim.pid")" 2>/dev/null

store_names() { "$PWB_BIN_PWBADM" list-users --all --json | jq -r '.[].name'; }
names=$(store_names)
tap_is "every acknowledged SCIM create is in the store" \
	"$(awk '{ print $2 }' "$OUT/acked.log" | grep -vxFf <(printf '%s\n' "$names"))" ""
# A create that was never acknowledged is all there or not there at all.
tap_is "every stored SCIM user is whole (display name, uid, home, shell)" \
	"$("$PWB_BIN_PWBADM" list-users --all --json | jq -r '.[] | select(.name | startswith("c")) |
		select((.gecos | startswith("Crash ") | not) or .uid < 20000 or .home == null or .shell == null) | .name')" ""
tap_check "db5.3_verify accepts the store after the SCIM kills" hardening_verify_store

# ---- 2. pwbd, killed at random points of `pwbadm import` (one request,
# one transaction in pwbd): each import is all there or not there at all,
# and every import pwbadm reported finished is there.
N=200
import_file() {
	local i
	for i in $(seq 1 "$N"); do printf '{"type":"user","name":"i%s-%s","active":true}\n' "$1" "$i"; done
	printf '{"type":"group","name":"imp%s","members":["i%s-1","i%s-%s"]}\n' "$1" "$1" "$1" "$N"
}
# How long a whole import takes here: kill within that time.
import_file 0 >"$OUT/imp0"
t0=$(date +%s%N)
"$PWB_BIN_PWBADM" import "$OUT/imp0" >/dev/null || tap_bail "a plain import failed"
span=$((($(date +%s%N) - t0) / 1000000 + 1))
import_kills=0 import_done=0 import_cut=0 half='' lost='' opened=0
# "user NAME" and "group NAME" lines of the whole store (through pwbd,
# which opens the store again: recovery); fails after 15 s.
hardening_list_names() {
	local json
	json=$(timeout -s KILL 15 "$PWB_BIN_PWBADM" export) || return 1
	printf '%s\n' "$json" | jq -r 'select(.type == "user" or .type == "group") | "\(.type) \(.name)"'
}
for rep in $(seq 1 "$REPEAT"); do
	import_file "$rep" >"$OUT/imp$rep"
	"$PWB_BIN_PWBADM" import "$OUT/imp$rep" >/dev/null 2>&1 &
	ipid=$!
	# Odd rounds kill in the import's first half (most are cut off), even
	# rounds anywhere in it (some finish first), so both outcomes occur
	# even in the sanitizer pass's 5 rounds.
	window=$span
	[ $((rep % 2)) = 1 ] && window=$((span / 2 + 1))
	delay=$((RANDOM % window))
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	pwb_pwbd_kill && import_kills=$((import_kills + 1))
	rc=0
	wait "$ipid" || rc=$?
	case $rc in
	0) import_done=$((import_done + 1)) ;;
	*) import_cut=$((import_cut + 1)) ;;
	esac
	pwb_pwbd_start
	got=$(hardening_list_names) && opened=$((opened + 1))
	users=$(printf '%s\n' "$got" | grep -c "^user i$rep-" || true)
	group=$(printf '%s\n' "$got" | grep -cx "group imp$rep" || true)
	case "$users $group" in
	"0 0") [ "$rc" != 0 ] || lost="$lost import-$rep" ;;
	"$N 1") ;;
	*) half="$half import-$rep:$users-users-$group-group" ;;
	esac
done
tap_diag "import: $REPEAT runs of $N users + 1 group (about ${span} ms each), pwbd SIGKILLed" \
	"during each: $import_cut imports cut off, $import_done finished before the kill"
tap_is "pwbd was SIGKILLed during each import" "$import_kills" "$REPEAT"
tap_is "the restarted pwbd opened the store after each kill" "$opened" "$REPEAT"
tap_is "no import was half-written" "$half" ""
tap_is "every finished import is present" "$lost" ""
tap_check "some imports were cut off mid-way" test "$import_cut" -gt 0

# ---- 3. pwbd, SIGKILLed mid-write: pwbadm add-user goes through pwbd
# (op user.add, the admin ops). Every acknowledged user survives, resolves
# through getent and is whole; a refused or cut-off add leaves nothing or a
# whole user; the restarted pwbd opens the store (recovery) and writes.
{
	# adder REP: adds users through pwbd until killed; logs "added NAME" per success.
	adder() {
		local i=0
		while :; do
			i=$((i + 1))
			"$PWB_BIN_PWBADM" add-user "k$1-$i" >/dev/null 2>&1 && echo "added k$1-$i"
		done
	}
	pwbd_kills=0 pwbd_after=0
	for rep in $(seq 1 "$REPEAT"); do
		adder "$rep" >>"$OUT/pwbd-acked.log" &
		apid=$!
		sleep "0.$((100 + RANDOM % 400))"
		pwb_pwbd_kill && pwbd_kills=$((pwbd_kills + 1))
		sleep 0.1
		kill "$apid" 2>/dev/null
		wait "$apid" 2>/dev/null
		pwb_pwbd_start
		"$PWB_BIN_PWBADM" add-user "kafter-$rep" >/dev/null 2>&1 &&
			pwbd_after=$((pwbd_after + 1)) && echo "added kafter-$rep" >>"$OUT/pwbd-acked.log"
	done
	pwbd_acked=$(grep -c '^added k' "$OUT/pwbd-acked.log")
	tap_diag "pwbd: $pwbd_kills SIGKILLs during $pwbd_acked acknowledged adds"
	tap_is "pwbd was SIGKILLed $REPEAT times mid-write" "$pwbd_kills" "$REPEAT"
	tap_is "each restarted pwbd wrote at once" "$pwbd_after" "$REPEAT"
	names=$("$PWB_BIN_PWBADM" list-users --all --json | jq -r '.[].name')
	tap_is "every acknowledged add through pwbd is in the store" \
		"$(awk '{ print $2 }' "$OUT/pwbd-acked.log" | grep -vxFf <(printf '%s\n' "$names"))" ""
	tap_is "every acknowledged add through pwbd resolves through getent" \
		"$(awk '{ print $2 }' "$OUT/pwbd-acked.log" | while read -r n; do
			getent passwd "$n" >/dev/null || echo "$n"; done)" ""
	tap_is "every user written through pwbd is whole" \
		"$("$PWB_BIN_PWBADM" list-users --all --json | jq -r '.[] | select(.name | startswith("k")) |
			select(.uid < 20000 or .uid > 29999 or .home == null or .shell == null or
				.gid != .uid) | .name')" ""
}

# ---- 4. the whole: an opener after a crash published what the dead
# writer had committed, so store == snapshot with no further write; and
# still after one more write
hardening_check_consistent "after the crashes, with no further write"
"$PWB_BIN_PWBADM" add-user final >/dev/null || tap_diag "add-user final failed"
hardening_check_consistent "after one more write"
tap_done
