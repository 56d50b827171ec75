#!/usr/bin/env bash
# The whole sign-in chain end to end, as an administrator verifies it:
# pamtester -v SERVICE USER authenticate acct_mgmt setcred open_session
# close_session, with pam_pwb_oidc validating tokens from a real HTTPS test
# issuer and nss_pwb resolving the result. First login registers (JIT),
# a repeat login keeps the uid and follows group changes, 20 parallel first
# logins get 20 distinct uids, locked users and JIT-off are refused, local
# accounts are never registered.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/mkhome.sh"
set -u

for f in "$PWB_PAM_MKHOME" "$PWB_PAM_OIDC" "$PWB_NSS_LIBDIR/libnss_pwb.so.2" "$PWB_MKHOME_TOOL" \
	"$PWB_BIN_PWBADM"; do
	[ -e "$f" ] || tap_bail "not built: $f"
done
mkhome_syslog_start
pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
mkhome_conf_put user-provisioning-register-on-first-login 1
SKEL=$PWB_TMP/skel
mkhome_make_skel "$SKEL"
OUTSIDE=$PWB_TMP/outside
mkdir -m 0755 "$OUTSIDE"
ln -s "$OUTSIDE" "$SKEL/escape" # planted in skel: must stay a mere symlink
mkhome_oidc_service pwb-login "skel=$SKEL umask=0077"

uid_of() { getent passwd "$1" | cut -d: -f3; }
# tap_unlike DESC TEXT REGEX: passes when TEXT does not match.
tap_unlike() { if printf '%s' "$2" | grep -Eq -- "$3"; then tap_fail "$1"; tap_diag "$2"; else tap_ok "$1"; fi; }
groups_of() { id -nG "$1" | tr ' ' '\n' | sort | tr '\n' ' '; }

# --- first login of alice registers her
mkhome_syslog_mark
out=$(mkhome_login pwb-login alice "$(mkhome_token alice \
	'"name":"Alice Liddell","email":"alice@example.com","groups":["Data-Science","analysts","bad group!","pwb","docker","Wheel"]')")
tap_like "first login of alice succeeds end to end" "$out" "session has successfully been closed"
log=$(mkhome_syslog_since)
uid=$(uid_of alice)
tap_check "alice resolves through nss_pwb with uid >= start uid (20000)" test "${uid:-0}" -ge 20000
tap_is "getent passwd alice" "$(getent passwd alice)" \
	"alice:x:$uid:$uid:Alice Liddell:$PWB_HOME_ROOT/alice:/bin/bash"
tap_is "id alice shows the claim's groups (valid, non-local)" "$(groups_of alice)" "alice analysts data-science "
tap_is "store: registered by JIT" "$(mkhome_field alice source)" "jit"
tap_is "store: email from the claim" "$(mkhome_field alice email)" "alice@example.com"
tap_check "store: sign-in time recorded" test "$(mkhome_field alice last_login)" -gt 0
tap_like "syslog: registration" "$log" "pam_pwb_mkhome\(pwb-login:account\): registered alice on first sign-in \(uid $uid"
tap_like "syslog: pwbd made the decision (actor jit, PAM service)" "$log" \
	"pwbd\[[0-9]+\]: sign-in of alice for jit \(service 'pwb-login', rhost ''\): registered"
tap_like "syslog: invalid group name skipped" "$log" "user alice: skipping group .*bad group"
tap_like "syslog: local group skipped" "$log" "user alice: skipping group pwb from claim: 'pwb' is a local group"
tap_is "local group pwb untouched" "$(getent group pwb)" "pwb:x:999:"
tap_like "syslog: deny-listed group docker skipped" "$log" \
	"user alice: skipping group docker from claim: group name 'docker' is in group-provisioning-deny-names"
tap_like "syslog: deny-listed group Wheel skipped (after mapping, any case)" "$log" \
	"user alice: skipping group wheel from claim: group name 'wheel' is in group-provisioning-deny-names"
tap_is "no pwb group docker or wheel was created" \
	"$(mkhome_tool show-group docker >/dev/null 2>&1; echo $?)$(mkhome_tool show-group wheel >/dev/null 2>&1; echo $?)" 22
H=$PWB_HOME_ROOT/alice
tap_is "home is 0700, owned by alice" "$(mkhome_stat "$H")" "700 $uid:$uid directory"
tap_is "skel dotfile, owned by alice" "$(mkhome_stat "$H/.profile")" "600 $uid:$uid regular file"
tap_is "skel subdirectory" "$(mkhome_stat "$H/sub")" "700 $uid:$uid directory"
tap_is "skel file in subdirectory" "$(mkhome_stat "$H/sub/notes.txt")" "600 $uid:$uid regular file"
tap_is "skel symlink, as a symlink" "$(mkhome_stat "$H/notes-link") -> $(readlink "$H/notes-link")" \
	"777 $uid:$uid symbolic link -> sub/notes.txt"
tap_is "skel symlink to outside copied as a symlink" "$(mkhome_stat "$H/escape")" "777 $uid:$uid symbolic link"
tap_is "... and nothing happened outside" "$(mkhome_stat "$OUTSIDE") $(ls -A "$OUTSIDE")" "755 0:0 directory "
tap_is "ls -l shows alice as the owner (nss_pwb)" "$(stat -c %U:%G "$H/.profile")" "alice:alice"

# --- second login: same uid, groups follow the claim
out=$(mkhome_login pwb-login alice "$(mkhome_token alice '"name":"Alice Liddell","groups":["analysts","ops"]')")
tap_like "second login of alice succeeds" "$out" "session has successfully been closed"
tap_is "same uid" "$(uid_of alice)" "$uid"
tap_is "groups updated: data-science dropped, ops added" "$(groups_of alice)" "alice analysts ops "
tap_is "store agrees" "$(mkhome_tool groups alice | sort | tr '\n' ' ')" "analysts ops "
tap_check "data-science still exists as a group" getent group data-science
tap_is "home left alone" "$(mkhome_stat "$H")" "700 $uid:$uid directory"

# --- 20 parallel first logins
pids=() users=()
for i in $(seq -w 1 20); do
	users+=("par$i")
	tok=$(mkhome_token "par$i" '"groups":["crowd"]')
	(mkhome_login pwb-login "par$i" "$tok" >"$PWB_TMP/par$i.out") &
	pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
ok=$(grep -l "session has successfully been closed" "$PWB_TMP"/par*.out | wc -l)
tap_is "20 parallel first logins all succeed" "$ok" 20
[ "$ok" = 20 ] && [ "$failed" = 0 ] || tap_diag "$(grep -L "session has successfully been closed" "$PWB_TMP"/par*.out | xargs cat)"
uids=$(for u in "${users[@]}"; do uid_of "$u"; done)
tap_is "20 distinct uids" "$(printf '%s\n' "$uids" | grep -c .):$(printf '%s\n' "$uids" | sort -u | grep -c .)" "20:20"
tap_check "all in the configured range" awk '$1 < 20000 || $1 > 29999 {exit 1}' <<<"$uids"
tap_is "none took alice's uid" "$(printf '%s\n' "$uids" | grep -cx "$uid")" 0
tap_is "all 20 in group crowd" "$(getent group crowd | cut -d: -f4 | tr ',' '\n' | grep -c '^par')" 20
tap_is "20 homes" "$(ls -d "$PWB_HOME_ROOT"/par* | wc -l)" 20

# --- the same user's first login twice at once (a double click): both
# succeed, one registration, one home, no temporary left behind
tok=$(mkhome_token twin)
(mkhome_login pwb-login twin "$tok" >"$PWB_TMP/twin1.out") &
p1=$!
(mkhome_login pwb-login twin "$tok" >"$PWB_TMP/twin2.out") &
p2=$!
wait $p1 $p2
tap_is "both simultaneous first logins of twin succeed" \
	"$(grep -l "session has successfully been closed" "$PWB_TMP"/twin?.out | wc -l)" 2
[ "$(grep -l "session has successfully been closed" "$PWB_TMP"/twin?.out | wc -l)" = 2 ] ||
	tap_diag "$(cat "$PWB_TMP"/twin?.out)"
tap_is "one twin in passwd" "$(getent passwd | grep -c '^twin:')" 1
tap_is "one home, nothing else" "$(ls -A "$PWB_HOME_ROOT" | grep -c twin)" 1

# --- a user locked with pwbadm is refused at acct_mgmt
tap_check "pwbadm lock-user alice" "$PWB_BIN_PWBADM" lock-user alice
mkhome_syslog_mark
out=$(mkhome_login pwb-login alice "$(mkhome_token alice '"groups":["analysts"]')")
tap_like "locked alice is refused at acct_mgmt" "$out" "User account has expired"
tap_like "syslog says locked" "$(mkhome_syslog_since)" "refusing alice \(uid $uid\): the account is locked"
tap_is "groups not synced while locked" "$(mkhome_tool groups alice | sort | tr '\n' ' ')" "analysts ops "

# --- JIT off: an unknown user is refused even with a valid token
mkhome_conf_put user-provisioning-register-on-first-login 0
mkhome_syslog_mark
out=$(mkhome_login pwb-login nina "$(mkhome_token nina)")
tap_like "JIT off: unknown nina refused" "$out" "User not known to the underlying authentication module"
tap_like "syslog says why" "$(mkhome_syslog_since)" "refusing unknown user nina: user-provisioning-register-on-first-login is off"
tap_is "nina not in the store" "$(mkhome_tool show nina >/dev/null 2>&1; echo $?)" 2
mkhome_conf_put user-provisioning-register-on-first-login 1

# --- local accounts are never registered
passwd_before=$(md5sum </etc/passwd)
count=$(mkhome_tool count)
out=$(mkhome_login pwb-login daemon "$(mkhome_token daemon)")
tap_like "daemon cannot sign in with a token" "$out" "pamtester: "
tap_unlike "... and got no session" "$out" "successfully opened a session"
tap_is "daemon not in the store" "$(mkhome_tool show daemon >/dev/null 2>&1; echo $?)" 2
tap_is "store user count unchanged" "$(mkhome_tool count)" "$count"
tap_is "/etc/passwd unchanged" "$(md5sum </etc/passwd)" "$passwd_before"

# allowed local account (uid >= 1000): used as it is, home created, store untouched
mkhome_add_local_user lena 1500 "$PWB_HOME_ROOT/lena"
mkhome_conf_put auth-openid-allow-local-accounts 1
out=$(mkhome_login pwb-login lena "$(mkhome_token lena '"groups":["analysts"]')")
tap_like "allowed local lena signs in" "$out" "session has successfully been closed"
tap_is "lena not in the store" "$(mkhome_tool show lena >/dev/null 2>&1; echo $?)" 2
tap_is "lena's home created, owned by her local uid" "$(mkhome_stat "$PWB_HOME_ROOT/lena")" "700 1500:1500 directory"
tap_is "lena not added to pwb group analysts" "$(getent group analysts | cut -d: -f4 | tr ',' '\n' | grep -c '^lena$')" 0
out=$(mkhome_login pwb-login daemon "$(mkhome_token daemon)")
tap_unlike "daemon still refused with local accounts allowed" "$out" "successfully opened a session"
tap_is "daemon still not in the store" "$(mkhome_tool show daemon >/dev/null 2>&1; echo $?)" 2

# --- a symlink planted at the home path's parent: registered, but the
# session fails naming the path, and nothing is written through the link
ln -s "$OUTSIDE" "$PWB_HOME_ROOT/linkhomes"
mkhome_conf_put user-homedir-path "$PWB_HOME_ROOT/linkhomes"
mkhome_syslog_mark
out=$(mkhome_login pwb-login sym1 "$(mkhome_token sym1)")
tap_like "session refused for a home under a symlinked parent" "$out" "Cannot make/remove an entry for the specified session"
tap_like "syslog names the path and the error" "$(mkhome_syslog_since)" \
	"cannot open session for sym1: cannot create home $PWB_HOME_ROOT/linkhomes/sym1: $PWB_HOME_ROOT/linkhomes is a symlink: Too many levels of symbolic links"
tap_is "nothing created through the symlink" "$(ls -A "$OUTSIDE")" ""
tap_done
