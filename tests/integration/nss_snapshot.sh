#!/usr/bin/env bash
# nss_pwb against hand-written snapshots (lib/snapshot/snapshot.h): the three levels
# and tombstones, every map through glibc (getent, id), enumeration,
# generation swaps seen by a running process, unprivileged readers, small
# buffers, broken or missing snapshots, descriptor hygiene and valgrind.
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/nss.sh"
[ -x "$NSS_PROBE" ] || tap_bail "nss_probe not built ($NSS_PROBE)"
[ -f "$PWB_NSS_LIBDIR/libnss_pwb.so.2" ] || tap_bail "module not built"

D=$NSS_SNAP_DIR
getent_rc() { getent "$@" >/dev/null 2>&1; echo $?; }

# --- nothing published yet: files keeps answering
tap_is "no snapshot: root still resolves through files" "$(getent passwd root | cut -d: -f1)" root
tap_is "no snapshot: an unknown user is simply not found" "$(getent_rc passwd alice)" 2
mkdir -m 0755 -p "$D"

# --- generation 1: base (alice, bob, erin, group data), mid (carol),
# delta (dave, bob deleted)
{
	nss_snap_user alice 20000 "Alice A" 20100
	nss_snap_user bob 20001 "" 20100
	nss_snap_user erin 20004 "Erin" ""
	nss_snap_group data 20100 alice,bob
	nss_snap_user toor 0 "not root"
	nss_snap_group wheel2 0 alice
} | nss_snap_load "$D/base-1.db" || tap_bail "writing base-1.db"
nss_snap_user carol 20002 "Carol" | nss_snap_load "$D/mid-1.db" || tap_bail "writing mid-1.db"
{
	nss_snap_meta 1 1 7
	nss_snap_user dave 20003 "Dave" 20100
	printf 'p.bob\t\np=20001\t\ng.bob\t\ng=20001\t\ni.bob\t\n'
	nss_snap_group data 20100 alice,dave
} | nss_snap_load "$D/delta.db" || tap_bail "writing delta.db"
{ nss_snap_shadow alice; nss_snap_shadow bob; nss_snap_shadow erin locked; } |
	nss_snap_load "$D/shadow-base-1.db" 0600
: | nss_snap_load "$D/shadow-mid-1.db" 0600
{ nss_snap_meta 1 1 7; printf 's.bob\t\n'; nss_snap_shadow dave; } |
	nss_snap_load "$D/shadow-delta.db" 0600

tap_is "getent passwd NAME (base level)" "$(getent passwd alice)" \
	"alice:x:20000:20000:Alice A:/home/alice:/bin/bash"
tap_is "getent passwd UID" "$(getent passwd 20000)" \
	"alice:x:20000:20000:Alice A:/home/alice:/bin/bash"
tap_is "a user in the mid level" "$(getent passwd carol | cut -d: -f1,3)" "carol:20002"
tap_is "a user in the delta" "$(getent passwd 20003 | cut -d: -f1)" dave
tap_is "a tombstone in the delta hides the base entry (name)" "$(getent_rc passwd bob)" 2
tap_is "a tombstone in the delta hides the base entry (uid)" "$(getent_rc passwd 20001)" 2
tap_is "the newest level's group line wins" "$(getent group data)" "data:x:20100:alice,dave"
tap_is "getent group GID: a private group" "$(getent group 20000)" "alice:x:20000:"
tap_is "private group by name" "$(getent group erin)" "erin:x:20004:"
tap_is "id shows supplementary groups" "$(id alice)" \
	"uid=20000(alice) gid=20000(alice) groups=20000(alice),20100(data)"
tap_is "id of a user without pwb groups" "$(id -G erin)" "20004"
tap_is "initgroups of a deleted user finds nothing" "$("$NSS_PROBE" groups bob 20001)" "20001"
tap_is "getent shadow: active user" "$(getent shadow alice)" "alice:*:20000:0:99999:7:::"
tap_is "getent shadow: locked user is locked and expired" "$(getent shadow erin)" \
	"erin:!*:20000:0:99999:7::1:"
tap_is "getent shadow: deleted user" "$(getent_rc shadow bob)" 2

pw_all=$(getent passwd | awk -F: '$3 >= 20000 && $3 < 30000 {print $1}' | sort | tr '\n' ' ')
tap_is "enumeration: every live user once, no deleted one" "$pw_all" "alice carol dave erin "
gr_all=$(getent group | awk -F: '$3 >= 20000 && $3 < 30000 {print $1}' | sort | tr '\n' ' ')
tap_is "group enumeration" "$gr_all" "alice carol data dave erin "
sp_all=$(getent shadow | grep -E '^(alice|bob|carol|dave|erin):' | cut -d: -f1 | sort | tr '\n' ' ')
tap_is "shadow enumeration (carol has no shadow entry)" "$sp_all" "alice dave erin "

tap_is "a snapshot user with UID 0 is refused" "$(getent_rc passwd toor)" 2
tap_is "a snapshot group with GID 0 is refused" "$(getent_rc group wheel2)" 2

# --- names that must never reach the snapshot
tap_is "an invalid name is not found" "$(getent_rc passwd '../alice')" 2
tap_is "an upper-case name is not found" "$(getent_rc passwd Alice)" 2

# --- unprivileged readers
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
tap_is "nobody resolves passwd" "$(as_nobody getent passwd alice | cut -d: -f1)" alice
tap_is "nobody resolves group" "$(as_nobody getent group data | cut -d: -f1)" data
tap_is "nobody cannot read shadow" "$(as_nobody getent shadow alice >/dev/null 2>&1; echo $?)" 2
tap_like "a root process that drops to nobody loses shadow at once" \
	"$("$NSS_PROBE" spnam-drop alice | cut -d: -f1,2 | paste -sd' ')" '^alice:\* (notfound|error .*)$'
tap_is "shadow files are 0600" "$(stat -c %a "$D"/shadow-*.db | sort -u)" 600

# --- buffers: ERANGE with a tiny buffer, glibc's retry for a big group
tap_is "a short buffer gives ERANGE" "$("$NSS_PROBE" pwnam alice 16)" "error ERANGE"
tap_is "a short buffer for group pointers gives ERANGE" "$("$NSS_PROBE" grnam data 32)" \
	"error ERANGE"
tap_is "the same lookup with room succeeds" "$("$NSS_PROBE" grnam data 64)" \
	"data:x:20100:alice,dave"
members=$(seq -f 'm%g' 1 3000 | paste -sd,)
{
	nss_snap_meta 1 1 8
	nss_snap_user dave 20003 "Dave" 20100
	printf 'p.bob\t\np=20001\t\ng.bob\t\ng=20001\t\ni.bob\t\n'
	nss_snap_group data 20100 alice,dave
	nss_snap_group big 20200 "$members"
} | nss_snap_load "$D/delta.db"
tap_is "a group with 3000 members comes back whole" \
	"$(getent group big | cut -d: -f4 | tr ',' '\n' | wc -l)" 3000

# --- a running process sees new generations at once
mkfifo "$PWB_TMP/watch.in" "$PWB_TMP/watch.out"
"$NSS_PROBE" watch <"$PWB_TMP/watch.in" >"$PWB_TMP/watch.out" &
watch_pid=$!
pwb_on_cleanup "kill $watch_pid 2>/dev/null"
exec 7>"$PWB_TMP/watch.in" 8<"$PWB_TMP/watch.out"
ask() { echo "$1" >&7; read -r -t 10 reply <&8; echo "$reply"; }
tap_is "watcher: frank unknown" "$(ask frank)" "notfound"
{ nss_snap_meta 1 1 9; nss_snap_user frank 20005 "Frank"; } | nss_snap_load "$D/delta.db"
tap_is "watcher: frank resolves right after publish" "$(ask frank | cut -d: -f1,3)" "frank:20005"
tap_is "watcher: bob is back (tombstone gone)" "$(ask bob | cut -d: -f1)" bob
{ nss_snap_meta 1 1 10; printf 'p.frank\t\np=20005\t\n'; } | nss_snap_load "$D/delta.db"
tap_is "watcher: a deleted user stops resolving" "$(ask frank)" "notfound"
# a compaction: new base and mid, old files unlinked
{ nss_snap_user alice 20000 "Alice B" 20100; nss_snap_user gina 20006 "Gina"; } |
	nss_snap_load "$D/base-2.db"
: | nss_snap_load "$D/mid-2.db"
nss_snap_meta 2 2 11 | nss_snap_load "$D/delta.db"
rm -f "$D/base-1.db" "$D/mid-1.db"
tap_is "watcher: follows a new base" "$(ask alice | cut -d: -f5)" "Alice B"
tap_is "watcher: old base's users are gone" "$(ask carol)" "notfound"
tap_is "getent follows a new base" "$(getent passwd gina | cut -d: -f1)" gina

# --- descriptors never cross exec
tap_is "no descriptor without O_CLOEXEC" "$("$NSS_PROBE" cloexec alice | tail -1)" "leaked 0"

# --- broken snapshots never break the host
cp "$D/delta.db" "$PWB_TMP/delta.good"
head -c 5000 /dev/urandom >"$D/delta.db"
tap_is "garbage delta: files still answers" "$(getent passwd root | cut -d: -f1)" root
tap_is "garbage delta: pwb unavailable" "$(getent_rc passwd alice)" 2
nss_snap_meta 2 9 12 | nss_snap_load "$D/delta.db"
tap_is "delta naming a missing base: unavailable" "$(getent_rc passwd alice)" 2
cp "$PWB_TMP/delta.good" "$D/delta.db.new" && mv "$D/delta.db.new" "$D/delta.db"
tap_is "recovers once a good delta is back" "$(getent passwd alice | cut -d: -f1)" alice
tap_is "no config file: compiled default, files still answers" \
	"$(PWB_CONFIG=$PWB_TMP/none.conf getent passwd root | cut -d: -f1)" root
tap_is "no config file: pwb unavailable" "$(PWB_CONFIG=$PWB_TMP/none.conf getent_rc passwd alice)" 2

tap_is "unreadable config: files still answers" \
	"$(chmod 0600 "$PWB_CONF"; setpriv --reuid=nobody --regid=nogroup --clear-groups getent passwd root | cut -d: -f1)" root
tap_is "unreadable config: pwb answers nothing" \
	"$(setpriv --reuid=nobody --regid=nogroup --clear-groups getent passwd alice >/dev/null; echo $?)" 2
chmod 0644 "$PWB_CONF"

# --- what the module links and exports
so=$PWB_NSS_LIBDIR/libnss_pwb.so.2
tap_is "soname" "$(objdump -p "$so" | awk '$1 == "SONAME" {print $2}')" libnss_pwb.so.2
tap_is "exports only _nss_pwb_*" \
	"$(nm -D --defined-only "$so" | awk '{print $3}' | grep -vc '^_nss_pwb_')" 0
tap_is "exports all 15 entry points" "$(nm -D --defined-only "$so" | grep -c ' T _nss_pwb_')" 15
sanitizer_libs='^$'
[ "${PWB_SANITIZE:-0}" = 1 ] && sanitizer_libs='^lib(asan|ubsan)\.so' # the ASan+UBSan build's runtimes
tap_is "links only libc and libdb" \
	"$(objdump -p "$so" | awk '$1 == "NEEDED" {print $2}' | grep -vE "$sanitizer_libs" | sort |
		paste -sd' ')" "libc.so.6 libdb-5.3.so"

# --- valgrind: every map through getent
if [ "${PWB_SANITIZE:-0}" = 1 ]; then
	tap_skip "valgrind" "ASan build (PWB_SANITIZE=1): valgrind cannot run under ASan"
elif command -v valgrind >/dev/null; then
	for q in "passwd alice" "passwd 20000" "passwd" "group data" "group 20000" "group" \
		"shadow alice" "shadow" "initgroups alice"; do
		# shellcheck disable=SC2086
		out=$(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
			getent $q 2>&1 >/dev/null) && rc=0 || rc=$?
		if [ "$rc" != 99 ] && [ -z "$out" ]; then tap_ok "valgrind clean: getent $q"; else
			tap_fail "valgrind clean: getent $q (exit $rc)"; tap_diag "$out"; fi
	done
else
	tap_skip "valgrind" "valgrind not installed"
fi
tap_done
