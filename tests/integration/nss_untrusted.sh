#!/usr/bin/env bash
# Whoever can write the snapshot files (the store user, which the network-
# facing pwb-scim runs as) must not reach root or a local account through
# them. The snapshot is published by the real store (pwbadm), then rewritten
# by its owner as an attacker would, and glibc (getent, id, pam_unix through
# pamtester) shows each planted entry dropped or neutralised, with one
# syslog line per entry and process.
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/nss.sh"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
. "$PWB_TEST_SRCDIR/tests/lib/syslog.sh"
set -u
adm_require_pwbadm
[ -x "$NSS_PROBE" ] || tap_bail "nss_probe not built ($NSS_PROBE)"
command -v pamtester >/dev/null || tap_bail "pamtester is not installed"
pwb_syslog_capture || tap_bail "cannot capture syslog"

# A local account with its own group, inside pwb's ranges (20000-29999; made
# before pwb was set up), and the sudo group (27 on Debian; added to the
# private copy of /etc/group where the host has none).
echo 'lena:x:20500:20500:Lena Local:/home/lena:/bin/bash' >>/etc/passwd
echo 'lena:x:20500:' >>/etc/group
getent group 27 >/dev/null || echo 'sudo:x:27:' >>/etc/group
SUDO=$(getent group 27 | cut -d: -f1)

# The legitimate state, published by the store: alice in group data, bob
# locked (his shadow entry is expired: pam_unix refuses him).
pwbadm add-user alice --groups data >/dev/null || tap_bail "pwbadm add-user alice"
pwbadm add-user bob >/dev/null && pwbadm lock-user bob >/dev/null || tap_bail "pwbadm bob"
D=$NSS_SNAP_DIR
ALICE_UID=$(getent passwd alice | cut -d: -f3)
DATA_GID=$(getent group data | cut -d: -f3)
[ -n "$ALICE_UID" ] && [ -n "$DATA_GID" ] || tap_bail "alice or data do not resolve"
tap_is "before: id lena is the local account only" "$(id lena)" \
	"uid=20500(lena) gid=20500(lena) groups=20500(lena)"
owner=$(stat -c %U "$D/delta.db")
tap_like "the snapshot files belong to the store user (or root)" "$owner" '^(pwb|root)$'

# as_owner CMD...: run as the snapshot files' owner, without root's groups.
as_owner() { setpriv --reuid="$owner" --regid="$(id -g "$owner")" --clear-groups "$@"; }

# plant FILE MODE: the owner adds the "KEY<TAB>VALUE" lines on stdin to FILE
# (a copy, loaded and renamed over it, as a publisher would).
plant() {
	local file=$1 mode=$2 tmp
	tmp=$(as_owner mktemp "$D/.plant.XXXXXX") || return 1
	as_owner cp "$file" "$tmp" &&
		awk -F'\t' '{ k = $1; v = substr($0, length($1) + 2)
			gsub(/\\/, "\\\\", k); gsub(/\\/, "\\\\", v); print k; print v }' |
		as_owner db5.3_load -T -t btree "$tmp" &&
		as_owner chmod "$mode" "$tmp" && as_owner mv -f "$tmp" "$file"
}

HASH=$(openssl passwd -6 -salt saltsalt0123 'Secret-123')
{
	# (a) gid 0 and 27 in initgroups: a local user's and a pwb user's
	printf 'i.lena\t0,27,%s\n' "$DATA_GID"
	printf 'i.alice\t%s,27,0\n' "$DATA_GID"
	# (c) passwd lines: a local uid, uid 0, a uid outside the range,
	# a primary gid of a local group, a password hash in passwd
	printf 'p.mallory\tmallory:x:20500:20999::/home/mallory:/bin/bash\n'
	printf 'p=20500\tmallory:x:20500:20999::/home/mallory:/bin/bash\n'
	printf 'p.toor\ttoor:x:0:20999::/root:/bin/bash\n'
	printf 'p.far\tfar:x:40000:40000::/home/far:/bin/bash\n'
	printf 'p.sudoer\tsudoer:x:20998:27::/home/sudoer:/bin/bash\n'
	printf 'p.carl\tcarl:%s:20997:20997::/home/carl:/bin/bash\n' "$HASH"
	# (d) groups with a local gid
	printf 'g.admins\tadmins:x:20500:alice\n'
	printf 'g=20500\tadmins:x:20500:alice\n'
	printf 'g.sudo2\tsudo2:x:27:alice\n'
} | plant "$D/delta.db" 0644 || tap_bail "the owner could not rewrite delta.db"
# (b) a real password hash in shadow: for alice, and for locked bob (whose
# expiry must stay); an empty password for carl
{
	printf 's.alice\talice:%s:20000:0:99999:7:::\n' "$HASH"
	printf 's.bob\tbob:%s:20000:0:99999:7::1:\n' "$HASH"
	printf 's.carl\tcarl::20000:0:99999:7:::\n'
} | plant "$D/shadow-delta.db" 0600 || tap_bail "the owner could not rewrite shadow-delta.db"
tap_is "the planted lines are in the owner's files" \
	"$(db5.3_dump -p "$D/delta.db" | grep -c -E '^ (i\.lena|p\.mallory|g\.sudo2)$')" 3

# logged N KEY: how many lines since the first N say KEY was dropped or changed.
logged() { pwb_syslog_since "$1" | grep -c "nss_pwb: untrusted snapshot entry $2: "; }

# ---- (a) initgroups
n=$(pwb_syslog_count)
tap_is "(a) id lena: no root, no $SUDO (a pwb group may stay: nss_pwb(8))" "$(id lena)" \
	"uid=20500(lena) gid=20500(lena) groups=20500(lena),$DATA_GID(data)"
tap_is "(a) the drop is logged once" "$(logged "$n" i.lena)" 1
tap_like "(a) the line says which gid and why" "$(pwb_syslog_since "$n")" \
	'i\.lena: 2 of its gids removed, the first: gid 0 is outside the configured'
n=$(pwb_syslog_count)
tap_is "(a) id alice keeps data, loses 0 and 27" "$(id -G alice | tr ' ' '\n' | sort -n | paste -sd' ')" \
	"$(printf '%s\n' "$ALICE_UID" "$DATA_GID" | sort -n | paste -sd' ')"
tap_is "(a) getgrouplist agrees" "$("$NSS_PROBE" groups alice "$ALICE_UID")" \
	"$(printf '%s\n' "$ALICE_UID" "$DATA_GID" | sort -n | paste -sd,)"

# ---- (b) shadow
tap_is "(b) a hash in shadow is served as !* (locked)" "$(getent shadow alice)" \
	"alice:!*:20000:0:99999:7:::"
tap_is "(b) the locked user keeps the expiry that locks him" "$(getent shadow bob)" \
	"bob:!*:20000:0:99999:7::1:"
tap_is "(b) an empty password is served as !*" "$(getent shadow carl | cut -d: -f2)" '!*'
cat >/etc/pam.d/unix-test <<-'PAM'
auth required pam_unix.so
account required pam_unix.so
PAM
n=$(pwb_syslog_count)
out=$(printf 'Secret-123\n' | pamtester -v unix-test alice authenticate 2>&1) && rc=0 || rc=$?
tap_is "(b) pam_unix refuses the planted hash" "$rc" 1
tap_like "(b) … as a wrong password" "$out" 'Authentication (failure|token is no longer valid)'
tap_is "(b) the rewrite is logged once" "$(logged "$n" s.alice)" 1
out=$(printf 'Secret-123\n' | pamtester -v unix-test bob authenticate acct_mgmt 2>&1) && rc=0 || rc=$?
tap_is "(b) pam_unix refuses the locked user with the planted hash" "$rc" 1
printf 's.dora\tdora:*:20000:0:99999:7:::\n' | plant "$D/shadow-delta.db" 0600
tap_is "(b) a legitimate '*' entry is served unchanged" "$(getent shadow dora)" \
	"dora:*:20000:0:99999:7:::"

# ---- (c) passwd
n=$(pwb_syslog_count)
tap_is "(c) a passwd line with a local uid is dropped (name)" "$(adm_status getent passwd mallory)" 2
tap_is "(c) … and logged once" "$(logged "$n" p.mallory)" 1
tap_like "(c) … naming the uid and why" "$(pwb_syslog_since "$n")" \
	'p\.mallory: dropped: uid 20500 is owned by a local account'
tap_is "(c) uid 20500 is still lena" "$(getent passwd 20500 | cut -d: -f1)" lena
tap_is "(c) uid 0 is dropped" "$(adm_status getent passwd toor)" 2
tap_is "(c) a uid outside the configured range is dropped" "$(adm_status getent passwd far)" 2
tap_is "(c) a primary gid of a local group is dropped" "$(adm_status getent passwd sudoer)" 2
tap_is "(c) a hash in passwd is served as x" "$(getent passwd carl | cut -d: -f1,2,3)" "carl:x:20997"
pw_all=$(getent passwd | cut -d: -f1 | grep -E '^(alice|bob|mallory|toor|far|sudoer|carl|lena)$' |
	sort | paste -sd' ')
tap_is "(c) enumeration skips the dropped entries" "$pw_all" "alice bob carl lena"

# ---- (d) groups
n=$(pwb_syslog_count)
tap_is "(d) a group with a local gid is dropped (name)" "$(adm_status getent group admins)" 2
tap_is "(d) … and logged once" "$(logged "$n" g.admins)" 1
tap_is "(d) gid 20500 is still lena's group" "$(getent group 20500)" "lena:x:20500:"
tap_is "(d) a group with gid 27 is dropped" "$(adm_status getent group sudo2)" 2
tap_is "(d) the legitimate group still resolves" "$(getent group data | cut -d: -f1,3)" \
	"data:$DATA_GID"

# ---- once per entry per generation, not per lookup
n=$(pwb_syslog_count)
mkfifo "$PWB_TMP/watch.in" "$PWB_TMP/watch.out"
"$NSS_PROBE" watch <"$PWB_TMP/watch.in" >"$PWB_TMP/watch.out" &
watch_pid=$!
pwb_on_cleanup "kill $watch_pid 2>/dev/null"
exec 7>"$PWB_TMP/watch.in" 8<"$PWB_TMP/watch.out"
ask() { echo "$1" >&7; read -r -t 10 reply <&8; echo "$reply"; }
for i in 1 2 3 4 5; do r=$(ask mallory); done
tap_is "five lookups in one process: not found" "$r" notfound
tap_is "five lookups in one process: one log line" "$(logged "$n" p.mallory)" 1
printf 'p.erin\terin:x:20996:20996::/home/erin:/bin/bash\n' | plant "$D/delta.db" 0644
sleep 1.2 # no generation counter bump: the once-a-second check finds the new delta
tap_is "a new generation resolves in the same process" "$(ask erin | cut -d: -f1)" erin
ask mallory >/dev/null
tap_is "a new generation logs the entry again, once" "$(logged "$n" p.mallory)" 2
exec 7>&- 8<&-

# ---- the configuration is what nss_pwb trusts
n=$(pwb_syslog_count)
pwb_conf_set user-provisioning-end-uid=not-a-number
printf 'p.fred\tfred:x:20995:20995::/home/fred:/bin/bash\n' | plant "$D/delta.db" 0644
tap_is "a malformed range in pwb.conf: nothing from pwb" "$(adm_status getent passwd alice)" 2
tap_is "… files still answers" "$(getent passwd lena | cut -d: -f1)" lena
tap_is "… and it says so in syslog" \
	"$(pwb_syslog_since "$n" | grep -c 'nss_pwb: .*pwb.conf: malformed user-provisioning-end-uid')" 1
pwb_conf_set user-provisioning-end-uid=29999
tap_is "fixed: alice resolves again" "$(getent passwd alice | cut -d: -f1)" alice
pwb_conf_set user-provisioning-start-uid=20997
tap_is "narrower ranges take effect for a new process" "$(adm_status getent passwd alice)" 2
tap_is "… and a user inside them still resolves" "$(getent passwd carl | cut -d: -f1)" carl
pwb_conf_set user-provisioning-start-uid=20000
tap_done
