#!/usr/bin/env bash
# Permission audit: everything pwb creates has the modes DESIGN.md names
# (store 0700 and snapshot root's, secrets 0600, shadow snapshot unreadable
# to others, pwbd's socket 0666 in a root directory), nothing
# it creates is world-writable, and an unprivileged user can read the
# public snapshot but not the store or the shadow files.
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm

pwb_conf_set "secure-key-file=/etc/pwb/secure-key"
# Exercise every writer: users, a group, a lock, a token, a delete, a full
# rebuild, and the secret key's creation.
pwbadm add-user alice --groups data >/dev/null
pwbadm add-user bob >/dev/null
pwbadm lock-user bob >/dev/null
pwbadm generate-token okta >/dev/null
pwbadm add-user carol >/dev/null
pwbadm delete-user --yes carol >/dev/null
pwbadm rebuild-nss >/dev/null
enc=$(printf 'client-secret-value\n' | pwbadm encrypt-password)
printf 'client-id=c\nclient-secret=%s\n' "$enc" >/etc/pwb/openid-client-secret
chmod 0600 /etc/pwb/openid-client-secret

mode() { stat -c %a "$1"; }
owner() { stat -c %U "$1"; }

tap_is "db-dir is 0755" "$(mode "$PWB_DB_DIR")" 755
tap_is "store/ is 0700" "$(mode "$PWB_DB_DIR/store")" 700
tap_is "store/ belongs to root (pwbd, the one writer)" "$(owner "$PWB_DB_DIR/store")" root
tap_is "nss/ is 0755" "$(mode "$PWB_DB_DIR/nss")" 755
tap_is "cache/ is 0700 root" "$(mode "$PWB_DB_DIR/cache") $(owner "$PWB_DB_DIR/cache")" "700 root"
tap_is "the secure key is 0600 root" \
	"$(mode /etc/pwb/secure-key) $(owner /etc/pwb/secure-key)" "600 root"
tap_is "every store file is private to root" \
	"$(find "$PWB_DB_DIR/store" -type f \( -perm /077 -o ! -user root \) -printf '%p %m %u\n')" ""
tap_is "the snapshot belongs to root" "$(find "$PWB_DB_DIR/nss" ! -user root -printf '%p %u\n')" ""
tap_is "shadow snapshot files are 0600" \
	"$(find "$PWB_DB_DIR/nss" -name 'shadow-*' ! -perm 600 -printf '%p %m\n')" ""
tap_like "there are shadow snapshot files to check" \
	"$(find "$PWB_DB_DIR/nss" -name 'shadow-*' | wc -l)" '^[1-9]'
tap_is "public snapshot files are 0644" \
	"$(find "$PWB_DB_DIR/nss" -name '*.db' ! -name 'shadow-*' ! -perm 644 -printf '%p %m\n')" ""
tap_is "nothing pwb created is world-writable" \
	"$(find "$PWB_DB_DIR" /etc/pwb -perm -0002 ! -type l -printf '%p\n')" ""

# As nobody: the public snapshot is readable, the store and shadow are not.
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
tap_check "nobody can read the public delta" as_nobody head -c1 "$PWB_DB_DIR/nss/delta.db"
tap_check_fails "nobody cannot list the store" as_nobody ls "$PWB_DB_DIR/store"
tap_check_fails "nobody cannot read the shadow delta" \
	as_nobody head -c1 "$PWB_DB_DIR/nss/shadow-delta.db"
tap_check_fails "nobody cannot read the secure key" as_nobody head -c1 /etc/pwb/secure-key
tap_check_fails "nobody cannot read the client secret" \
	as_nobody head -c1 /etc/pwb/openid-client-secret
tap_check_fails "nobody cannot run pwbadm on the store" as_nobody "$PWB_BIN_PWBADM" list-users
# pwbd's socket: anyone may connect (pwbd authorises by peer uid), nobody
# but root may replace it, and a uid without a role gets nothing.
tap_is "pwbd's socket is a 0666 root socket" \
	"$(stat -c '%F %a %U' "$PWB_PWBD_SOCKET")" "socket 666 root"
tap_is "... in a 0755 root directory" "$(stat -c '%a %U' "$(dirname "$PWB_PWBD_SOCKET")")" "755 root"
tap_check_fails "nobody cannot replace pwbd's socket" as_nobody rm -f "$PWB_PWBD_SOCKET"
tap_check_fails "nobody cannot add a file beside it" \
	as_nobody touch "$(dirname "$PWB_PWBD_SOCKET")/fake.sock"
tap_like "nobody's request to pwbd is refused" "$(as_nobody "$PWB_PWBD_CALL" ping 2>&1)" \
	'^pwbd-call: -1013: pwbd serves no op to uid'
if adm_have_nss; then
	tap_check "nobody resolves alice through NSS" as_nobody getent passwd alice
	tap_check_fails "nobody cannot read alice's shadow entry" as_nobody getent shadow alice
	tap_like "root reads bob's locked shadow entry" "$(getent shadow bob)" '^bob:!\*:'
else
	tap_skip "nobody resolves alice through NSS" "nss_pwb not built"
	tap_skip "nobody cannot read alice's shadow entry" "nss_pwb not built"
	tap_skip "root reads bob's locked shadow entry" "nss_pwb not built"
fi
tap_done
