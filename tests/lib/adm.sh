# Helpers for pwbadm's integration tests (sourced after ns.sh and tap.sh).

# pwbadm ARGS...: the binary under test.
pwbadm() { "$PWB_BIN_PWBADM" "$@"; }

# adm_status CMD...: prints CMD's exit status (its output is discarded).
adm_status() {
	local rc=0
	"$@" >/dev/null 2>&1 || rc=$?
	echo "$rc"
}

# adm_stderr CMD...: prints what CMD wrote on stderr.
adm_stderr() { "$@" 2>&1 >/dev/null; }

# adm_column TEXT NAME N: field N of the table row whose first field is NAME.
adm_column() { printf '%s\n' "$1" | awk -v n="$2" -v c="$3" '$1 == n { print $c }'; }

# adm_have_nss: true when nss_pwb is built, so getent/id can see the store.
adm_have_nss() { [ -e "$PWB_NSS_LIBDIR/libnss_pwb.so.2" ]; }

# adm_reset_store: an empty store in a fresh db-dir (same config). pwbd
# holds the store open: it is stopped meanwhile and started again (if it
# ran) on the new store.
adm_reset_store() {
	local was_running
	was_running=$(pwb_pwbd_pid)
	pwb_pwbd_stop || :
	rm -rf --one-file-system "$PWB_DB_DIR"
	mkdir -m 0755 "$PWB_DB_DIR"
	if [ -n "$was_running" ]; then pwb_pwbd_start; fi
}

# adm_require_pwbadm: bail out (not skip) when the binary is missing.
adm_require_pwbadm() {
	[ -x "$PWB_BIN_PWBADM" ] || tap_bail "pwbadm not built: $PWB_BIN_PWBADM"
}

# adm_plant_damaged_user NAME: overwrites NAME's stored record with text
# that does not decode (a truncated JSON object), behind the store's back
# with db5.3_load, as a crash or a bug might leave it. No pwb process may
# have the store open meanwhile: pwbd is stopped around the load (and
# started again if it ran), so call it in the test's shell, not in $(...).
# Sets ADM_DAMAGED_ID to the record's id.
adm_plant_damaged_user() {
	local store=$PWB_DB_DIR/store id was_running
	id=$(pwbadm show-user "$1" --json | jq -r .id) || return 1
	was_running=$(pwb_pwbd_pid)
	pwb_pwbd_stop || :
	printf 'VERSION=3\nformat=print\ndatabase=users\ntype=btree\nHEADER=END\n %s\n {"name":"%s","uid":\nDATA=END\n' \
		"$id" "$1" | db5.3_load -h "$store" store.db || return 1
	# the load may have written files as root: give them back
	chown -R --reference="$store" "$store"
	if [ -n "$was_running" ]; then pwb_pwbd_start; fi
	ADM_DAMAGED_ID=$id
}
