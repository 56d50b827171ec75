#!/usr/bin/env bash
# pwbd's socket as a hostile peer sees it: roles from SO_PEERCRED (root,
# the scim-user, the login-user; anyone else refused before a byte is read),
# malformed frames and requests (each refused or dropped, pwbd serving on),
# a client that sends nothing (dropped after the read timeout), a clean stop
# on SIGTERM, and socket activation (LISTEN_FDS).
set -u
: "${PWB_TEST_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
PWB_PWBD_ARGS="--read-timeout 2"
pwb_ns_enter "$@"

CALL=$PWB_PWBD_CALL
as_user() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups "$@"
}
# frame PAYLOAD: the 4-byte big-endian length, then the payload.
frame() {
	local n
	n=$(LC_ALL=C; printf '%s' "$1" | wc -c)
	header "$n"
	printf '%s' "$1"
}
header() {
	printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) \
		$(($1 >> 8 & 255)) $(($1 & 255)))"
}
still_serving() {
	local out
	out=$("$CALL" ping 2>&1)
	tap_like "$1: pwbd still answers ping" "$out" '"pid":'"$(pwb_pwbd_pid)"'[,}]'
}
# refused DESC CMD...: CMD's output is sent raw; the reply must be an
# error or a close, and pwbd must serve on.
refused() {
	local desc=$1 out
	shift
	out=$("$@" | "$CALL" --raw 2>/dev/null)
	tap_like "$desc: refused" "$out" '^(\{"v":1,"id":"[^"]*","code":-[0-9]+,"error":".+"\}|closed)$'
	still_serving "$desc"
}

# ---- roles
out=$("$CALL" ping)
tap_like "root: ping answers version and pid" "$out" '^\{"pid":[0-9]+,"version":"[^"]+"\}$'
out=$("$CALL" request.status '{"id":"no-such-request"}' 2>&1)
tap_like "root: request.status runs (an unknown id is not found)" "$out" '^pwbd-call: -1001: '

"$CALL" --print-id user.add '{"name":"statususer"}' >/dev/null 2>"$PWB_TMP/add.err" ||
	tap_diag "user.add failed: $(cat "$PWB_TMP/add.err")"
rid=$(sed -n 's/^id: //p' "$PWB_TMP/add.err")
out=$("$CALL" request.status "{\"id\":\"$rid\"}" 2>&1)
tap_like "root: request.status finds the change a request made, by its id" "$out" \
	'^\{"applied":true,"seq":[1-9][0-9]*\}$'

out=$(as_user nobody "$CALL" ping 2>&1) && rc=0 || rc=$?
tap_is "nobody: refused (exit 1)" "$rc" 1
tap_like "nobody: refused with PWB_EPERM naming the uid" "$out" \
	"^pwbd-call: -1013: pwbd serves no op to uid $(id -u nobody)\$"
tap_like "nobody: the refusal is logged with the uid" "$(cat "$PWB_TMP/pwbd.log")" \
	"refused uid $(id -u nobody) "
still_serving "after nobody"

for u in pwb-scim pwb-login; do
	uid=$(id -u "$u")
	out=$(as_user "$u" "$CALL" ping 2>&1)
	tap_like "$u: ping is allowed" "$out" '"pid":'
	out=$(as_user "$u" "$CALL" request.status '{"id":"x"}' 2>&1) && rc=0 || rc=$?
	tap_like "$u: request.status (root only) is refused" "$rc $out" \
		"^1 pwbd-call: -1013: op request.status is not allowed to uid $uid\$"
	tap_like "$u: the refusal is logged" "$(cat "$PWB_TMP/pwbd.log")" \
		"op request.status is not allowed to uid $uid"
done
out=$("$CALL" no.such.op 2>&1)
tap_like "an unknown op is refused" "$out" '^pwbd-call: -1003: no such op$'

# ---- malformed frames and requests
ping_req() { printf '{"v":1,"op":"ping","id":"t-1"%s}' "${1:-}"; }
refused "length 0" eval 'header 0'
refused "length above the maximum" eval 'header $((4 * 1024 * 1024 + 1))'
refused "truncated frame" eval '{ header 100; printf '\''{"v":1,'\''; }'
refused "not JSON" eval 'frame '\''this is not JSON'\'''
refused "a JSON array" eval 'frame '\''[1,2,3]'\'''
refused "an unknown key" eval 'frame "$(ping_req '\'',"extra":1'\'')"'
refused "v=2" eval 'frame '\''{"v":2,"op":"ping","id":"t-1"}'\'''
refused "v as a string" eval 'frame '\''{"v":"1","op":"ping","id":"t-1"}'\'''
refused "bad op charset" eval 'frame '\''{"v":1,"op":"Ping!","id":"t-1"}'\'''
refused "bad id charset" eval 'frame '\''{"v":1,"op":"ping","id":"t 1/.."}'\'''
refused "id too long" eval 'frame "{\"v\":1,\"op\":\"ping\",\"id\":\"$(printf '\''a%.0s'\'' $(seq 65))\"}"'
refused "no id" eval 'frame '\''{"v":1,"op":"ping"}'\'''
refused "args not an object" eval 'frame "$(ping_req '\'',"args":[]'\'')"'
refused "unknown actor key" eval 'frame "$(ping_req '\'',"actor":{"kind":"root","evil":"x"}'\'')"'
refused "a duplicate key" eval 'frame "$(ping_req '\'',"v":1'\'')"'
deep=$(printf '[%.0s' $(seq 10000))
refused "nesting 10000 deep" eval 'frame "$(ping_req ",\"args\":{\"a\":$deep")"'
# brackets inside strings do not count as nesting
out=$(frame "$(ping_req ",\"args\":{\"a\":\"$deep\"}")" | "$CALL" --raw)
tap_like "10000 brackets inside a string are only text" "$out" '"code":0,"result":\{.*"pid"'
out=$(frame "$(ping_req)" | "$CALL" --raw)
tap_like "a well-formed raw frame is answered" "$out" '^\{"v":1,"id":"t-1","code":0,"result":'

# ---- a client that sends nothing is dropped after the read timeout
start=$(date +%s%N)
out=$("$CALL" --raw </dev/null 2>/dev/null)
ms=$((($(date +%s%N) - start) / 1000000))
tap_is "a silent client is dropped" "$out" closed
if [ "$ms" -ge 1500 ] && [ "$ms" -lt 10000 ]; then tap_ok "... after the read timeout (${ms} ms)"; else
	tap_fail "... after the read timeout (${ms} ms, want about 2000)"; fi
still_serving "after a silent client"
# and while one is held, a second client is served once it is dropped
"$CALL" --raw </dev/null >/dev/null 2>&1 &
holder=$!
sleep 0.2
out=$("$CALL" ping 2>&1)
tap_like "a client queued behind a silent one is served" "$out" '"pid":'
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null

# ---- SIGTERM
pid=$(pwb_pwbd_pid)
pwb_pwbd_stop && rc=0 || rc=$?
tap_is "SIGTERM: pwbd exits 0" "$rc" 0
tap_check_fails "SIGTERM: the socket is gone" test -e "$PWB_PWBD_SOCKET"
out=$("$CALL" ping 2>&1)
tap_like "a client names the socket when pwbd is down" "$out" \
	"^pwbd-call: -1012: pwbd is not reachable at $PWB_PWBD_SOCKET"
# finishing the current request: SIGTERM while a request is half read
pwb_pwbd_start
( { header 28; printf '{"v":1,'; sleep 1; printf '"op":"ping","id":"x"}'; } | "$CALL" --raw >"$PWB_TMP/late.out" 2>&1 ) &
client=$!
sleep 0.3
pid=$(pwb_pwbd_pid)
kill -TERM "$pid"
wait "$client"
tap_like "SIGTERM during a request: the request is answered first" "$(cat "$PWB_TMP/late.out")" \
	'"id":"x","code":0'
PWB_PWBD_PID=$pid
pwb_pwbd_stop && rc=0 || rc=$?
tap_is "... and pwbd then exits 0" "$rc" 0
# a live socket is never taken over; a stale one is
pwb_pwbd_start
out=$("$PWB_BIN_PWBD" --socket "$PWB_PWBD_SOCKET" --foreground 2>&1) && rc=0 || rc=$?
tap_like "a second pwbd refuses a socket another one listens on" "$rc $out" '^1 .*already listens'
still_serving "after the second pwbd"
pwb_pwbd_stop
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' \
	"$PWB_PWBD_SOCKET" 2>/dev/null || tap_diag "cannot make a stale socket"
pwb_pwbd_start
still_serving "a stale socket is replaced"

# ---- socket activation (LISTEN_FDS)
if command -v systemd-socket-activate >/dev/null; then
	sock=$PWB_TMP/activated/pwbd.sock
	mkdir -p "$PWB_TMP/activated"
	systemd-socket-activate -l "$sock" "$PWB_BIN_PWBD" --foreground \
		</dev/null >>"$PWB_TMP/activated.log" 2>&1 &
	act=$!
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	out=$("$CALL" --socket "$sock" ping 2>&1)
	tap_like "socket activation: pwbd answers on the socket it was handed" "$out" "\"pid\":$act[,}]"
	kill -TERM "$act"
	wait "$act" && rc=0 || rc=$?
	tap_is "socket activation: SIGTERM exits 0" "$rc" 0
else
	tap_skip "socket activation" "systemd-socket-activate is not installed"
	tap_skip "socket activation: SIGTERM" "systemd-socket-activate is not installed"
fi
out=$(sh -c 'export LISTEN_PID=$$ LISTEN_FDS=1; exec "$0" --foreground' "$PWB_BIN_PWBD" \
	2>&1 3</dev/null) && rc=0 || rc=$?
tap_like "LISTEN_FDS naming a non-socket is refused" "$rc $out" '^1 .*not a listening stream socket'
out=$("$PWB_BIN_PWBD" --foreground 2>&1) && rc=0 || rc=$?
tap_like "no socket at all: pwbd says how to run it" "$rc $out" '^1 .*--socket PATH'

tap_done
