#!/usr/bin/env bash
# Allocation fails closed: the store looks ids and names up in the other
# NSS sources with a buffer that grows (up to 1 MiB) instead of taking an
# entry too big for a fixed buffer as "free". A local group whose entry is
# larger than 16 KiB (an LDAP or AD group with many members, here in
# /etc/group) keeps its gid and its name.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm

# biglocal: gid 20000 (the first of the uid and gid ranges), 700 members.
members=$(for i in $(seq 1 700); do printf 'member-with-a-long-name-%04d,' "$i"; done)
echo "biglocal:x:20000:${members%,}" >>/etc/group
tap_check "the local group entry is larger than 16 KiB" \
	test "$(grep '^biglocal:' /etc/group | wc -c)" -gt 16384
tap_like "getent sees it (files)" "$(getent group biglocal | cut -d: -f1,3)" '^biglocal:20000$'

out=$(pwbadm add-user alice 2>&1)
tap_is "add-user alice succeeds" "$?" 0
tap_like "... but not with uid/gid 20000, the local group's gid" "$out" 'uid 20001, gid 20001'
tap_is "a new group's gid skips it too" "$(adm_status pwbadm add-user bob --groups analysts)" 0
tap_is "... analysts did not get 20000" \
	"$(adm_column "$(pwbadm list-groups)" analysts 2 | grep -c '^20000$')" 0
tap_is "asking for uid 20000 explicitly is refused" "$(adm_status pwbadm add-user carol --uid 20000)" 1
tap_like "... naming the local group" "$(adm_stderr pwbadm add-user carol --uid 20000)" 'local group'
tap_is "a pwb group of the local group's name is refused" \
	"$(adm_status pwbadm add-user dave --groups biglocal)" 1
tap_like "... as a local group" "$(adm_stderr pwbadm add-user dave --groups biglocal)" \
	"'biglocal' is a local group"
tap_is "a user whose private group would take that name is refused" \
	"$(adm_status pwbadm add-user biglocal)" 1
tap_like "... saying why" "$(adm_stderr pwbadm add-user biglocal)" "name of a local group"
tap_is "nothing else was written" "$(pwbadm list-users | awk 'NR>1 {print $1}' | tr '\n' ' ')" \
	"alice bob "

# An entry past the 1 MiB limit is a failed lookup (glibc's files module
# cannot return it, nor step over it): allocation is refused, not guessed.
cp /etc/group "$PWB_TMP/group.saved"
members=$(for i in $(seq 1 40000); do printf 'member-with-a-long-name-%05d,' "$i"; done)
echo "hugelocal:x:20050:${members%,}" >>/etc/group
tap_check "the second local group entry is larger than 1 MiB" \
	test "$(grep '^hugelocal:' /etc/group | wc -c)" -gt 1048576
tap_is "add-user is refused while the lookup fails" "$(adm_status pwbadm add-user erin)" 1
tap_like "... saying the lookup failed" "$(adm_stderr pwbadm add-user erin)" \
	'cannot look .* up in the other NSS sources'
tap_is "... and wrote nothing" "$(pwbadm list-users | awk 'NR>1 {print $1}' | tr '\n' ' ')" \
	"alice bob "
cat "$PWB_TMP/group.saved" >/etc/group
tap_is "once the source answers again, add-user works" "$(adm_status pwbadm add-user erin)" 0

tap_done
