#!/usr/bin/env bash
# pwbadm and pwbd: every store command goes through pwbd's socket; with
# pwbd stopped pwbadm fails in one line naming the socket, and --offline
# opens the store itself (and only then); pwbd serves pwbadm's operations
# to root only; a strict import names the record and field it refuses.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm

as_user() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups "$@"
}

# ---- through pwbd ----
pwbadm add-user alice --groups ops >/dev/null
tap_is "add-user through pwbd" "$?" 0
tap_like "pwbd made the change (its store sees alice)" "$("$PWB_PWBD_CALL" user.show '{"name":"alice"}')" '"name":"alice"'

# ---- the change log records who: pwbadm and the invoking administrator ----
# change_of NAME: the last change log entry naming NAME, as "kind:name op".
change_of() {
	"$PWB_PWBD_CALL" store.changes '{}' |
		jq -r --arg n "$1" '[.changes[] | select(.name == $n)] | last | "\(.actor.kind):\(.actor.name) \(.op)"'
}
SUDO_USER=alice2 pwbadm add-user zed >/dev/null
tap_is "the change records pwbadm and SUDO_USER" "$(change_of zed)" "pwbadm:alice2 create"
env -u SUDO_USER "$PWB_BIN_PWBADM" lock-user zed >/dev/null
tap_like "without sudo: the login user's name, else the uid's" "$(change_of zed)" \
	"^pwbadm:($(id -un "$(cat /proc/self/loginuid 2>/dev/null || echo 0)" 2>/dev/null || echo root)|root) update\$"
SUDO_USER='bad name;x' pwbadm unlock-user zed >/dev/null
tap_like "an invalid SUDO_USER is not recorded" "$(change_of zed)" '^pwbadm:[a-z_][a-z0-9_.-]* update$'

# ---- not root: refused by pwbd, whatever the op ----
for op in user.list user.add store.export store.changes token.generate; do
	out=$(as_user nobody "$PWB_PWBD_CALL" "$op" '{"name":"mallory"}' 2>&1) && rc=0 || rc=$?
	tap_like "nobody running $op on the socket: refused" "$rc $out" "^1 pwbd-call: -1013: "
done
for u in pwb-scim pwb-login; do
	out=$(as_user "$u" "$PWB_PWBD_CALL" user.add '{"name":"mallory"}' 2>&1) && rc=0 || rc=$?
	tap_like "$u running user.add on the socket: refused" "$rc $out" "^1 pwbd-call: -1013: "
	out=$(as_user "$u" "$PWB_PWBD_CALL" store.export '{}' 2>&1) && rc=0 || rc=$?
	tap_like "$u running store.export on the socket: refused" "$rc $out" "^1 pwbd-call: -1013: "
done
tap_check_fails "no mallory was added" getent passwd mallory
tap_check_fails "... not even in the store" "$PWB_PWBD_CALL" user.show '{"name":"mallory"}'

# ---- strict arguments: pwbd validates what it is sent ----
out=$("$PWB_PWBD_CALL" user.add '{"name":"Bad Name"}' 2>&1) && rc=0 || rc=$?
tap_like "an invalid name sent straight to pwbd is refused" "$rc $out" '^1 pwbd-call: -1003: argument name'

# ---- strict import: an unknown field names the record and the field ----
printf '{"type":"user","name":"bob"}\n{"type":"user","name":"carol","colour":"red"}\n' >"$PWB_TMP/strict.jsonl"
tap_is "an unknown field fails the import" "$(adm_status pwbadm import "$PWB_TMP/strict.jsonl")" 1
tap_like "... naming file, line, record and field" "$(adm_stderr pwbadm import "$PWB_TMP/strict.jsonl")" \
	'^pwbadm: import failed, nothing written: .*strict\.jsonl: line 2: user carol: unknown field "colour"$'
printf '{"type":"group","name":"staff","gid":"12"}\n' >"$PWB_TMP/strict2.jsonl"
tap_like "a wrong type names the record and field" "$(adm_stderr pwbadm import "$PWB_TMP/strict2.jsonl")" \
	'line 1: group staff: field gid: not an id number$'
tap_check_fails "nothing was written" "$PWB_PWBD_CALL" user.show '{"name":"bob"}'

# ---- more than one request may carry: refused up front, naming --offline ----
pad=$(head -c 900000 /dev/zero | tr '\0' x)
for i in 1 2 3 4 5; do printf '{"type":"user","name":"big%d","gecos":"%s"}\n' "$i" "$pad"; done >"$PWB_TMP/huge.jsonl"
out=$(pwbadm import "$PWB_TMP/huge.jsonl" 2>&1) && rc=0 || rc=$?
tap_like "an import larger than one request fails naming --offline" "$rc $out" \
	'^1 pwbadm: import failed, nothing written: .*huge\.jsonl is larger than one request to pwbd .*pwbadm --offline import$'

# ---- pwbd stopped ----
pwb_pwbd_stop
out=$(pwbadm list-users 2>&1) && rc=0 || rc=$?
tap_is "pwbd stopped: list-users fails" "$rc" 1
tap_like "... in one line naming the socket" "$out" "^pwbadm: pwbd is not reachable at $PWB_PWBD_SOCKET"
tap_is "... one line only" "$(printf '%s\n' "$out" | wc -l)" 1
tap_like "pwbd stopped: add-user fails the same way" "$(adm_stderr pwbadm add-user bob)" "^pwbadm: pwbd is not reachable at $PWB_PWBD_SOCKET"

# ---- --offline while pwbd is stopped ----
tap_is "--offline add-user works while pwbd is stopped" "$(adm_status pwbadm --offline add-user bob)" 0
tap_like "--offline list-users sees it" "$(pwbadm --offline list-users)" $'\nbob '
pwbadm --offline export >"$PWB_TMP/all.jsonl"
tap_is "--offline export" "$?" 0
rm -rf "$PWB_DB_DIR/nss"/*
tap_is "--offline rebuild-nss" "$(adm_status pwbadm --offline rebuild-nss)" 0
tap_check "... wrote the snapshot" test -s "$PWB_DB_DIR/nss/delta.db"
adm_reset_store
tap_like "--offline import of a whole store" "$(pwbadm --offline import "$PWB_TMP/all.jsonl")" \
	'^imported 3 users, 1 groups, 0 tokens, [0-9]+ changes: 4 created'

SUDO_USER=carol2 pwbadm --offline lock-user bob >/dev/null

# ---- pwbd running again: sees the offline work; --offline refused ----
pwb_pwbd_start
tap_like "pwbd serves what --offline wrote" "$(pwbadm list-users)" $'\nbob '
tap_is "... and its change log names the offline administrator" "$(change_of bob)" "pwbadm:carol2 update"
out=$(pwbadm --offline list-users 2>&1) && rc=0 || rc=$?
tap_is "--offline while pwbd runs: refused" "$rc" 1
tap_like "... naming pwbd's pid and the way out" "$out" \
	"^pwbadm: pwbd is running \\(pid $(pwb_pwbd_pid)\\): stop it first, or run without --offline\$"
tap_is "... in one line" "$(printf '%s\n' "$out" | wc -l)" 1

tap_done
