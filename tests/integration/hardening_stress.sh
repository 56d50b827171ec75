#!/usr/bin/env bash
# Concurrency stress, bounded in time ($HARDENING_STRESS_SECONDS, default
# 30): 4 SCIM clients creating/updating/deactivating/deleting users through
# nginx, 4 JIT login loops through pamtester, 4 getent/id loops through
# nss_pwb and a pwbadm list-users loop, all at once, every write through
# the one pwbd (which must serve it all without a restart). Then: every
# acknowledged write is in the store (and every acknowledged delete is
# gone), no name or id is doubled, the store verifies and the published
# snapshot equals the store.
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
. "$PWB_TEST_SRCDIR/tests/lib/scim.sh"
. "$PWB_TEST_SRCDIR/tests/lib/nginx.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/mkhome.sh"
. "$PWB_TEST_SRCDIR/tests/lib/hardening.sh"

for f in "$PWB_PAM_MKHOME" "$PWB_PAM_OIDC" "$PWB_NSS_LIBDIR/libnss_pwb.so.2" "$PWB_BIN_PWBADM" \
	"$PWB_BIN_SCIM" "$PWB_TEST_SIGN"; do
	[ -e "$f" ] || tap_bail "not built: $f"
done
SECONDS_RUN=${HARDENING_STRESS_SECONDS:-30}

pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
mkhome_conf_put user-provisioning-register-on-first-login 1
mkdir -p "$PWB_TMP/skel"
mkhome_oidc_service pwb-stress "skel=$PWB_TMP/skel umask=0077"
SCIM_TOKEN=$(pwb_scim_token stress) || tap_bail "cannot store a token"
PWB_SCIM_CHILDREN=2 pwb_scim_spawn || tap_bail "spawn-fcgi pwb-scim failed"
pwb_nginx_start || tap_bail "nginx did not start"
OUT=$PWB_TMP/stress
mkdir -p "$OUT"
END=$(($(date +%s) + SECONDS_RUN))

# req METHOD PATH [BODY]: prints the HTTP status; the body in $1.body.
req() {
	local args=(-sS -o "$OUT/$W.body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $SCIM_TOKEN")
	[ -z "${3:-}" ] || args+=(-H 'Content-Type: application/scim+json' --data-binary "$3")
	curl "${args[@]}" "$SCIM_URL$2" || echo curl-failed
}
patch_body() {
	printf '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"%s","value":%s}]}' "$1" "$2"
}

# SCIM client W: each round creates a user, updates it, then deactivates
# (round % 3 == 1) or deletes it (round % 3 == 2). Logs what was
# acknowledged ("create NAME ID", "update NAME", "deactivate NAME",
# "delete NAME") and anything unexpected ("error OP STATUS").
scim_client() {
	W=scim$1
	local i=0 name id st
	while [ "$(date +%s)" -lt "$END" ]; do
		i=$((i + 1))
		name=s$1-$i
		st=$(req POST /Users "$(scim_user_json "$name")")
		if [ "$st" != 201 ]; then echo "error create $st $(head -c 200 "$OUT/$W.body")"; continue; fi
		id=$(jq -r .id "$OUT/$W.body")
		echo "create $name $id"
		st=$(req PATCH "/Users/$id" "$(patch_body displayName "\"Round $i\"")")
		if [ "$st" = 200 ]; then echo "update $name"; else echo "error update $st"; fi
		case $((i % 3)) in
		1)
			st=$(req PATCH "/Users/$id" "$(patch_body active false)")
			if [ "$st" = 200 ]; then echo "deactivate $name"; else echo "error deactivate $st"; fi
			;;
		2)
			st=$(req DELETE "/Users/$id")
			if [ "$st" = 204 ]; then echo "delete $name"; else echo "error delete $st"; fi
			;;
		esac
	done
}

# JIT loop W: odd rounds are a first login (new user), even ones a repeat
# login of the loop's first user. Logs "login NAME" per acknowledged login.
jit_loop() {
	local i=0 name out
	while [ "$(date +%s)" -lt "$END" ]; do
		i=$((i + 1))
		if [ $((i % 2)) = 1 ]; then name=j$1-$i; else name=j$1-1; fi
		out=$(mkhome_login pwb-stress "$name" "$(mkhome_token "$name" '"groups":["stress-jit"]')")
		case $out in
		*"successfully been closed"*) echo "login $name" ;;
		*) echo "error login $name: $(printf '%s' "$out" | tail -1)" ;;
		esac
	done
}

# NSS loop: enumeration, lookups by name, id; a status >= 128 is a crash.
nss_loop() {
	local rc
	while [ "$(date +%s)" -lt "$END" ]; do
		for cmd in "getent passwd" "getent group" "getent passwd s$1-1" "id j$1-1" \
			"getent shadow s$1-2" "getent initgroups j$1-1"; do
			rc=0
			$cmd >/dev/null 2>&1 || rc=$?
			if [ "$rc" -ge 128 ]; then echo "crash $cmd $rc"; else echo "ok"; fi
		done
	done
}

adm_loop() {
	while [ "$(date +%s)" -lt "$END" ]; do
		if "$PWB_BIN_PWBADM" list-users --all --json 2>"$OUT/adm.err" | jq -e 'type == "array"' \
			>/dev/null; then echo ok; else echo "error $(head -1 "$OUT/adm.err")"; fi
	done
}

PWBD_PID_BEFORE=$(pwb_pwbd_pid)
pids=()
for w in 1 2 3 4; do
	scim_client "$w" >"$OUT/scim$w.log" 2>&1 &
	pids+=($!)
	jit_loop "$w" >"$OUT/jit$w.log" 2>&1 &
	pids+=($!)
	nss_loop "$w" >"$OUT/nss$w.log" 2>&1 &
	pids+=($!)
done
adm_loop >"$OUT/adm.log" 2>&1 &
pids+=($!)
# (the issuer runs in the background too: wait for the loops only)
wait "${pids[@]}"

count() { cat "$@" 2>/dev/null | grep -c "${PATTERN:-.}" || true; }
creates=$(PATTERN='^create ' count "$OUT"/scim*.log)
updates=$(PATTERN='^update ' count "$OUT"/scim*.log)
deacts=$(PATTERN='^deactivate ' count "$OUT"/scim*.log)
deletes=$(PATTERN='^delete ' count "$OUT"/scim*.log)
logins=$(PATTERN='^login ' count "$OUT"/jit*.log)
nss_ops=$(PATTERN='^ok' count "$OUT"/nss*.log)
adm_ops=$(PATTERN='^ok' count "$OUT/adm.log")
tap_diag "stress: ${SECONDS_RUN}s: SCIM creates=$creates updates=$updates deactivations=$deacts" \
	"deletes=$deletes; JIT logins=$logins; NSS lookups=$nss_ops; pwbadm list-users=$adm_ops"
tap_check "the SCIM clients were acknowledged creates" test "$creates" -gt 0
tap_check "the JIT loops were acknowledged logins" test "$logins" -gt 0
tap_is "no SCIM request failed" "$(grep -h '^error' "$OUT"/scim*.log | head -5)" ""
tap_is "no JIT login failed" "$(grep -h '^error' "$OUT"/jit*.log | head -5)" ""
tap_is "no getent/id crashed" "$(grep -h '^crash' "$OUT"/nss*.log | head -5)" ""
tap_is "no pwbadm list-users failed" "$(grep -h '^error' "$OUT/adm.log" | head -5)" ""
# (a deadlock that was retried is Berkeley DB doing its job)
tap_is "pwb-scim logged no internal error" \
	"$(grep -iE 'internal|deadlock|panic|recover' "$PWB_SCIM_LOG" | grep -v '(retried)$' | head -5)" ""

tap_is "one pwbd served the whole stress" "$(pwb_pwbd_pid) $(kill -0 "$PWBD_PID_BEFORE" && echo alive)" \
	"$PWBD_PID_BEFORE alive"
tap_is "pwbd logged no store failure" \
	"$(grep -iE 'cannot open the store|internal|panic|publishing the NSS snapshot failed' \
		"$PWB_TMP/pwbd.log" | head -5)" ""

# Stop the writers before verifying the files.
kill $(cat "$PWB_TMP/nginx/nginx.pid" "$PWB_TMP/run/pwb-scim.pid" 2>/dev/null) 2>/dev/null
sleep 0.5

store=$(hardening_store_users)
in_store() { printf '%s\n' "$store" | awk -v n="$1" '$1 == n { print $4 }'; }
missing='' resurrected='' wrong_state=''
while read -r op name _; do
	case $op in
	create | login)
		if grep -qx "delete $name" "$OUT"/scim*.log; then
			[ -z "$(in_store "$name")" ] || resurrected="$resurrected $name"
		else
			[ -n "$(in_store "$name")" ] || missing="$missing $name"
		fi
		;;
	deactivate) [ "$(in_store "$name")" = false ] || wrong_state="$wrong_state $name" ;;
	esac
done < <(cat "$OUT"/scim*.log "$OUT"/jit*.log)
tap_is "every acknowledged create or login (not later deleted) is in the store" "$missing" ""
tap_is "no acknowledged delete came back" "$resurrected" ""
tap_is "every acknowledged deactivation holds" "$wrong_state" ""
expected=$(cat "$OUT"/scim*.log "$OUT"/jit*.log | awk '$1 == "create" || $1 == "login" { print $2 }' |
	sort -u | grep -vxFf <(awk '$1 == "delete" { print $2 }' "$OUT"/scim*.log) | wc -l)
tap_is "the store holds exactly those users" "$(printf '%s\n' "$store" | grep -c .)" "$expected"
tap_is "an acknowledged update landed (displayName in passwd's GECOS)" \
	"$(getent passwd s1-1 | cut -d: -f5)" "Round 1"
hardening_check_consistent "after the stress"
tap_done
