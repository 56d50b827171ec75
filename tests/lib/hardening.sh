# Helpers for the hardening tests (sourced after ns.sh, tap.sh and adm.sh,
# inside the namespace): the consistency checks that the stress and crash
# tests run after the dust settles, and the store verifier.
#
#   hardening_verify_store       db5.3_verify accepts the store (pwbd stopped around it)
#   hardening_store_users        "name uid gid active" for every user in the store
#   hardening_passwd_from_store  the passwd lines the store implies, sorted
#   hardening_passwd_from_nss    pwb's passwd lines as getent enumerates them, sorted
#   hardening_check_consistent   TAP checks: unique names/uids/gids, store
#                                verifies, snapshot == store, == rebuild-nss

# Only the provisioned ranges (the namespace's pwb.conf: 20000-29999).
HARDENING_MIN_ID=20000
HARDENING_MAX_ID=29999

hardening_verify_store() {
	local rc=0 was_running
	was_running=$(pwb_pwbd_pid)
	# never a file in use: pwbd (the one opener) is stopped around it
	pwb_pwbd_stop || :
	db5.3_verify -q -h "$PWB_DB_DIR/store" store.db || rc=$?
	[ -z "$was_running" ] || pwb_pwbd_start
	return $rc
}

hardening_store_users() {
	"$PWB_BIN_PWBADM" list-users --all --json | jq -r '.[] | "\(.name) \(.uid) \(.gid) \(.active)"'
}

hardening_passwd_from_store() {
	"$PWB_BIN_PWBADM" list-users --all --json |
		jq -r '.[] | "\(.name):x:\(.uid):\(.gid):\(.gecos // ""):\(.home):\(.shell)"' | sort
}

hardening_in_range() {
	awk -F: -v lo="$HARDENING_MIN_ID" -v hi="$HARDENING_MAX_ID" '$3 >= lo && $3 <= hi'
}

hardening_passwd_from_nss() { getent passwd | hardening_in_range | sort; }

# Group lines with their member lists sorted, so order does not matter.
hardening_groups_from_nss() {
	getent group | hardening_in_range |
		perl -F: -lane 'print join(":", $F[0], $F[2], join(",", sort split(/,/, $F[3] // "")))' |
		sort
}

# Every user's private group plus every stored group with its members.
hardening_groups_from_store() {
	{
		"$PWB_BIN_PWBADM" list-users --all --json | jq -r '.[] | "\(.name):\(.gid):"'
		"$PWB_BIN_PWBADM" export |
			jq -r 'select(.type == "group") | "\(.name):\(.gid):\(.members | sort | join(","))"'
	} | sort
}

hardening_shadow_from_nss() {
	local n
	getent passwd | hardening_in_range | cut -d: -f1 | sort | while read -r n; do
		getent shadow "$n" || echo "$n: no shadow entry"
	done
}

# hardening_check_consistent WHAT: the checks every hardening test ends with.
hardening_check_consistent() {
	local what=$1 users before after
	users=$(hardening_store_users)
	tap_is "$what: no duplicate user name in the store" \
		"$(printf '%s\n' "$users" | awk 'NF { print $1 }' | sort | uniq -d)" ""
	tap_is "$what: no duplicate uid in the store" \
		"$(printf '%s\n' "$users" | awk 'NF { print $2 }' | sort | uniq -d)" ""
	tap_is "$what: no duplicate group name or gid in the store" \
		"$(hardening_groups_from_store | awk -F: '{ print "name " $1; print "gid " $2 }' | sort | uniq -d)" ""
	tap_check "$what: db5.3_verify accepts the store" hardening_verify_store
	tap_is "$what: nss_pwb's passwd enumeration equals the store" \
		"$(hardening_passwd_from_nss)" "$(hardening_passwd_from_store)"
	tap_is "$what: nss_pwb's group enumeration equals the store" \
		"$(hardening_groups_from_nss)" "$(hardening_groups_from_store)"
	before="$(hardening_passwd_from_nss)
$(hardening_groups_from_nss)
$(hardening_shadow_from_nss)"
	"$PWB_BIN_PWBADM" rebuild-nss >/dev/null || tap_diag "rebuild-nss failed"
	after="$(hardening_passwd_from_nss)
$(hardening_groups_from_nss)
$(hardening_shadow_from_nss)"
	tap_is "$what: the published snapshot equals a full rebuild-nss" "$before" "$after"
}
