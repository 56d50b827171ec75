#!/usr/bin/env bash
# A repeat sign-in that changes nothing NSS can see writes nothing durable
# (issue 19): through the real chain (pamtester, pam_pwb_oidc,
# pam_pwb_mkhome, pwbd), a repeat login with unchanged claims leaves the
# store's change log (pwbd's store.changes) and the NSS snapshot generation
# as they were, while pwbadm show-user still shows the new sign-in time; a
# changed group claim changes both (one publish), and the group shows.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/issuer.sh"
. "$PWB_TEST_SRCDIR/tests/lib/mkhome.sh"
set -u

for f in "$PWB_PAM_MKHOME" "$PWB_PAM_OIDC" "$PWB_NSS_LIBDIR/libnss_pwb.so.2" "$PWB_BIN_PWBADM"; do
	[ -e "$f" ] || tap_bail "not built: $f"
done
pwb_issuer_start || tap_bail "cannot start the test issuer"
pwb_issuer_configure
mkhome_conf_put user-provisioning-register-on-first-login 1
mkhome_make_skel "$PWB_TMP/skel"
mkhome_oidc_service pwb-repeat "skel=$PWB_TMP/skel umask=0077"

# The change log's newest entry (its seq), as pwbd reports it.
last_change() { "$PWB_PWBD_CALL" store.changes '{}' | jq '[.changes[].seq] | max // 0'; }
# The published snapshot's generation counter (snapshot.h: a native uint64).
generation() { od -An -tu8 "$PWB_DB_DIR/nss/generation" | tr -d ' '; }
last_sign_in() { "$PWB_BIN_PWBADM" show-user carol | sed -n 's/^last sign-in: *//p'; }
login() {
	mkhome_login pwb-repeat carol "$(mkhome_token carol "\"groups\":[$1]")"
}
groups_of() { id -nG carol | tr ' ' '\n' | sort | tr '\n' ' '; }

tap_like "first login registers carol" "$(login '"red","blue"')" "session has successfully been closed"
tap_is "carol has the claim's groups" "$(groups_of)" "blue carol red "
seq0=$(last_change) gen0=$(generation) seen0=$(last_sign_in)
tap_check "the first login logged changes" test "$seq0" -gt 0
tap_check "the first login published" test "$gen0" -gt 0
tap_check "show-user shows a sign-in time" test -n "$seen0" -a "$seen0" != never

sleep 1.1 # the sign-in time has a resolution of a second
tap_like "repeat login, same claims" "$(login '"red","blue"')" "session has successfully been closed"
tap_is "repeat login: the change log is untouched" "$(last_change)" "$seq0"
tap_is "repeat login: the snapshot generation is untouched (no publish)" "$(generation)" "$gen0"
seen1=$(last_sign_in)
tap_check "repeat login: show-user shows a later sign-in ($seen0 -> $seen1)" \
	test -n "$seen1" -a "$seen1" != "$seen0"
tap_like "repeat login, claim groups in another order" "$(login '"blue","red"')" \
	"session has successfully been closed"
tap_is "same groups in another order: the change log is untouched" "$(last_change)" "$seq0"
tap_is "same groups in another order: no publish" "$(generation)" "$gen0"

tap_like "repeat login with a changed group claim" "$(login '"red","green"')" \
	"session has successfully been closed"
seq1=$(last_change) gen1=$(generation)
tap_check "changed groups: the change log grew ($seq0 -> $seq1)" test "$seq1" -gt "$seq0"
tap_check "changed groups: published ($gen0 -> $gen1)" test "$gen1" -gt "$gen0"
tap_is "changed groups: carol's groups follow the claim" "$(groups_of)" "carol green red "

pwb_pwbd_stop || :
tap_like "repeat login with pwbd down, same claims" "$(login '"red","green"')" \
	"session has successfully been closed"
tap_is "pwbd down: no publish" "$(generation)" "$gen1"
pwb_pwbd_start
tap_is "pwbd down: the change log is untouched" "$(last_change)" "$seq1"
tap_done
