#!/usr/bin/env bash
# pwbadm's command line: --help for every command, the man page documents
# every command and the exit codes, usage errors exit 2 with one line on
# stderr, a missing store/config exits 1 naming it.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm

commands="list-users show-user add-user lock-user unlock-user delete-user set-groups list-groups
generate-token list-tokens revoke-token encrypt-password check rebuild-nss export import cluster"
man=$(MANWIDTH=200 man -l "$PWB_TEST_SRCDIR/pwbadm/pwbadm.8" 2>/dev/null)
help=$(pwbadm --help)
tap_is "pwbadm --help exits 0" "$?" 0
tap_like "--help documents the exit codes" "$help" 'Exit status: 0 success, 1 failure.*2 usage error'
tap_like "the man page documents the exit codes" "$man" 'EXIT STATUS'
for c in $commands; do
	out=$(pwbadm "$c" --help)
	rc=$?
	tap_is "$c --help exits 0" "$rc" 0
	tap_like "$c --help shows its usage" "$out" "^Usage: pwbadm \[--config FILE\] $c"
	tap_like "pwbadm --help lists $c" "$help" "^  $c "$'|\n  '"$c "
	tap_like "the man page documents $c" "$man" "
       $c"
done
tap_is "help COMMAND is COMMAND --help" "$(pwbadm help add-user)" "$(pwbadm add-user --help)"

tap_is "no command: usage error" "$(adm_status pwbadm)" 2
tap_is "unknown command: usage error" "$(adm_status pwbadm frobnicate)" 2
tap_like "... one line naming it" "$(adm_stderr pwbadm frobnicate)" '^pwbadm: unknown command "frobnicate" \(see pwbadm --help\)$'
tap_is "unknown global option: usage error" "$(adm_status pwbadm --bogus list-users)" 2
tap_is "unknown command option: usage error" "$(adm_status pwbadm list-users --bogus)" 2
tap_like "... one line naming it" "$(adm_stderr pwbadm list-users --bogus)" '^pwbadm: list-users: unknown option.*--bogus'
tap_like "a missing option value names the option" "$(adm_stderr pwbadm add-user erin --uid)" '^pwbadm: add-user: option --uid needs a value'
tap_is "extra operand: usage error" "$(adm_status pwbadm list-users extra)" 2

tap_is "a missing config file: failure" "$(adm_status pwbadm --config "$PWB_TMP/none.conf" list-users)" 1
tap_like "... naming the file" "$(adm_stderr pwbadm --config "$PWB_TMP/none.conf" list-users)" "^pwbadm: .*none.conf"
# (root creates a missing db-dir, but not a missing parent; only --offline
# opens the store itself: the running pwbd has another db-dir)
printf 'db-dir=%s\n' "$PWB_TMP/no/db" >"$PWB_TMP/nodb.conf"
tap_is "a missing db-dir: failure" "$(adm_status pwbadm --config "$PWB_TMP/nodb.conf" --offline list-users)" 1
tap_like "... naming it" "$(adm_stderr pwbadm --config "$PWB_TMP/nodb.conf" --offline list-users)" "^pwbadm: cannot open the store in $PWB_TMP/no/db: .*$PWB_TMP/no/db"
tap_is "... on one line" "$(adm_stderr pwbadm --config "$PWB_TMP/nodb.conf" --offline list-users | wc -l)" 1
# (store-user is obsolete: pwbd, root, owns the store; a config whose
# pwbd-socket has no pwbd fails naming the socket)
printf 'db-dir=%s\npwbd-socket=%s\n' "$PWB_DB_DIR" "$PWB_TMP/nosuch.sock" >"$PWB_TMP/nosock.conf"
tap_like "no pwbd on pwbd-socket: failure naming the socket" "$(adm_stderr pwbadm --config "$PWB_TMP/nosock.conf" list-users)" "^pwbadm: pwbd is not reachable at $PWB_TMP/nosuch.sock"
tap_is "--config is used (PWB_CONFIG overridden)" \
	"$(adm_status env PWB_CONFIG=/nonexistent "$PWB_BIN_PWBADM" --config "$PWB_CONF" list-users)" 0
tap_is "an empty store lists only the header" "$(pwbadm list-users)" \
	"NAME  UID  GID  STATE  SOURCE  LAST SIGN-IN  HOME  BINDING"

# Commands taking one user name refuse none or two, with the usage exit.
for cmd in show-user lock-user unlock-user delete-user add-user; do
	tap_is "$cmd without a name: usage error (2)" "$(adm_status pwbadm "$cmd")" 2
	tap_like "$cmd without a name: says so" "$(adm_stderr pwbadm "$cmd")" 'expects one user name'
	tap_is "$cmd with two names: usage error (2)" "$(adm_status pwbadm "$cmd" a b)" 2
done
tap_done
