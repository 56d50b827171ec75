#!/usr/bin/env bash
# Sign-in with pwbd and without it. JIT registration goes through pwbd
# (its log shows the request with the PAM service as actor). With pwbd
# stopped, a known user bound to the token's identity still signs in
# (pam_pwb_oidc checks the token in-process, pam_pwb_mkhome reads the
# published snapshot), while an unknown user (JIT needs pwbd), a user
# bound to another subject, an unbound user and a locked user are
# refused, each with one "pwbd unavailable" syslog line.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/mkhome.sh"
set -u

for f in "$PWB_PAM_MKHOME" "$PWB_PAM_OIDC" "$PWB_NSS_LIBDIR/libnss_pwb.so.2" "$PWB_MKHOME_TOOL"; do
	[ -e "$f" ] || tap_bail "not built: $f"
done
mkhome_syslog_start
pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
mkhome_conf_put user-provisioning-register-on-first-login 1
SKEL=$PWB_TMP/skel
mkhome_make_skel "$SKEL"
mkhome_oidc_service pwb-login "skel=$SKEL"
# Account and session only: someone else authenticated (no claims).
mkhome_service pwb-noauth "skel=$SKEL" "auth required pam_permit.so"
uid_of() { getent passwd "$1" | cut -d: -f3; }
login_ok() { tap_like "$1" "$2" "session has successfully been closed"; }
login_refused() { tap_unlike "$1" "$2" "session has successfully been closed"; }
tap_unlike() { if printf '%s' "$2" | grep -Eq -- "$3"; then tap_fail "$1"; tap_diag "$2"; else tap_ok "$1"; fi; }

# --- JIT goes through pwbd
mkhome_syslog_mark
out=$(mkhome_login pwb-login alice "$(mkhome_token alice '"groups":["analysts"]')")
login_ok "first login of alice registers her (pwbd running)" "$out"
log=$(mkhome_syslog_since)
uid=$(uid_of alice)
tap_check "alice resolves with a pwb uid" test "${uid:-0}" -ge 20000
tap_like "pwbd logged the request, actor jit with the PAM service" "$log" \
	"pwbd\[[0-9]+\]: sign-in of alice for jit \(service 'pwb-login', rhost ''\): registered"
tap_like "pam_pwb_mkhome logged the registration" "$log" \
	"pam_pwb_mkhome\(pwb-login:account\): registered alice on first sign-in \(uid $uid"
tap_is "store: registered by JIT" "$(mkhome_field alice source)" "jit"
# dave: created by an administrator, unbound (binds at his first sign-in,
# which needs pwbd).
mkhome_tool add dave manual >/dev/null || tap_bail "cannot add dave"
dave_uid=$(uid_of dave)

# --- pwbd stops
mkhome_pwbd_stop || :
tap_check_fails "pwbd is stopped" "$PWB_PWBD_CALL" ping

mkhome_syslog_mark
out=$(mkhome_login pwb-login alice "$(mkhome_token alice '"groups":["ops"]')")
login_ok "alice (known, bound to this subject) still signs in" "$out"
log=$(mkhome_syslog_since)
tap_like "syslog: signed in from the snapshot" "$log" \
	"pam_pwb_mkhome\(pwb-login:account\): pwbd unavailable: alice \(uid $uid\) signs in as the snapshot lists the account"
tap_is "alice keeps her uid" "$(uid_of alice)" "$uid"
tap_like "groups not synced while pwbd is down" "$(id -nG alice)" "analysts"

mkhome_syslog_mark
out=$(mkhome_login pwb-login carol "$(mkhome_token carol)")
login_refused "carol (unknown) is refused: JIT needs pwbd" "$out"
log=$(mkhome_syslog_since)
tap_like "syslog: one pwbd-unavailable line for carol" "$log" \
	"pam_pwb_mkhome\(pwb-login:account\): pwbd unavailable: refusing carol: not a known pwb user, and registering one needs pwbd \(.*$PWB_PWBD_SOCKET"
tap_check_fails "carol was not registered" getent passwd carol

mkhome_syslog_mark
out=$(mkhome_login pwb-login alice "$(mkhome_token_as alice someone-else)")
login_refused "alice with another subject's token is refused" "$out"
tap_like "syslog: bound to another identity" "$(mkhome_syslog_since)" \
	"pwbd unavailable: refusing alice \(uid $uid\): the account is bound to another identity than the ID token's"

mkhome_syslog_mark
out=$(mkhome_login pwb-login dave "$(mkhome_token dave)")
login_refused "dave (known, not bound yet) is refused: binding needs pwbd" "$out"
tap_like "syslog: not bound yet" "$(mkhome_syslog_since)" \
	"pwbd unavailable: refusing dave \(uid $dave_uid\): the account is not bound to an IdP identity yet"

out=$(pamtester -v pwb-noauth dave authenticate acct_mgmt open_session close_session 2>&1)
login_ok "dave without claims (someone else authenticated) signs in from the snapshot" "$out"

mkhome_tool lock alice >/dev/null || tap_bail "cannot lock alice"
mkhome_syslog_mark
out=$(mkhome_login pwb-login alice "$(mkhome_token alice)")
login_refused "locked alice is refused while pwbd is down" "$out"
tap_like "syslog: locked" "$(mkhome_syslog_since)" \
	"pwbd unavailable: refusing alice \(uid $uid\): the account is locked"

# --- pwbd back: the same decisions come from pwbd again
mkhome_pwbd_start
mkhome_syslog_mark
out=$(mkhome_login pwb-login carol "$(mkhome_token carol)")
login_ok "with pwbd back, carol registers" "$out"
tap_unlike "no pwbd-unavailable line then" "$(mkhome_syslog_since)" "pwbd unavailable"
out=$(mkhome_login pwb-login alice "$(mkhome_token alice)")
login_refused "locked alice is still refused" "$out"

tap_done
