#!/usr/bin/env bash
# A store written by an older pwb opens with this one and is upgraded in
# place: format 1 (commit 122cac8, no format version, no home index:
# tests/data/store-v1.dump, made by make-store-v1.sh) and format 2 (commit
# 04d38d6, change entries as raw structs: store-v2.dump, make-store-v2.sh)
# become format 4 (format 3: entries with actor and request id, a request
# index, reader cursors; format 4: the group name mappings, empty), ids and
# homes kept; a store an older release left to its
# store-user is taken over by root; a store newer than this pwb knows is
# refused unread.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm
command -v db5.3_load >/dev/null || tap_bail "db5.3_load (db5.3-util) is missing"

store=$PWB_DB_DIR/store
# meta_format: the store's format key, empty if there is none.
meta_format() {
	meta_key format
}
# meta_key KEY: a key of the store's meta database, empty if absent.
meta_key() {
	db5.3_dump -p -s meta "$store/store.db" | awk -v k="$1" '$1 == k { getline; print $1 }'
}

install -d -m 0700 -o pwb -g pwb "$store"
sed "s|@HOME_ROOT@|$PWB_HOME_ROOT|g" "$PWB_TEST_SRCDIR/tests/data/store-v1.dump" |
	db5.3_load "$store/store.db"
chown pwb:pwb "$store/store.db"
chmod 0600 "$store/store.db"
tap_is "the old store has no format version" "$(meta_format)" ""

list=$(pwbadm list-users --all 2>"$PWB_TMP/err")
tap_is "list-users opens the old store" "$?" 0
tap_is "... without complaint" "$(cat "$PWB_TMP/err")" ""
tap_is "its users are all there" "$(printf '%s\n' "$list" | awk 'NR>1 {print $1}' | tr '\n' ' ')" \
	"alice bob carol dave "
tap_is "alice keeps uid 20000" "$(adm_column "$list" alice 2)" 20000
tap_is "bob keeps uid 25000" "$(adm_column "$list" bob 2)" 25000
tap_is "carol keeps gid 20003" "$(adm_column "$list" carol 3)" 20003
tap_is "carol stays locked" "$(adm_column "$list" carol 4)" locked
tap_is "alice keeps her home" "$(adm_column "$list" alice 7)" "$PWB_HOME_ROOT/alice"
tap_is "dave keeps a home from before the home roots" "$(adm_column "$list" dave 7)" /srv/home/dave
db5.3_checkpoint -1 -h "$store" >/dev/null 2>&1 || true
tap_is "the store now has format 4" "$(meta_format)" 4
tap_is "... and is root's now (taken over from the store-user)" \
	"$(stat -c %U "$store" "$store/store.db" | sort -u)" root
tap_is "the publisher's cursor: at the snapshot pwbd published on opening" "$(meta_key cursor.publish)" "$(meta_key seq)"
tap_is "... and the log is kept whole (younger than the retention)" "$(pwbadm log --json | jq '.[0].seq')" 1
tap_like "groups and members survive" "$(pwbadm list-groups)" 'ops +[0-9]+ +bob,carol'
tap_like "tokens survive" "$(pwbadm list-tokens)" 'idp'

# The home index was built from the old users.
tap_is "alice's home is taken (the index was built)" \
	"$(adm_status pwbadm add-user frank --home "$PWB_HOME_ROOT/alice")" 1
tap_like "... naming its holder" "$(adm_stderr pwbadm add-user frank --home "$PWB_HOME_ROOT/alice")" \
	"homeDirectory.*held by user 'alice'"
# Ids stay retired and the counter goes on.
tap_is "erin's retired uid is not handed out" "$(adm_status pwbadm add-user erin --uid 20005)" 1
out=$(pwbadm add-user gina)
tap_like "a new user gets a fresh uid" "$out" 'uid 2000[6-9]'
tap_is "the old users can be changed" "$(adm_status pwbadm unlock-user carol)" 0
tap_is "... and deleted" "$(adm_status pwbadm delete-user --yes alice)" 0
if adm_have_nss; then
	tap_like "getent sees the upgraded store" "$(getent passwd bob)" '^bob:x:25000:25000:'
	tap_like "... and the new user" "$(getent passwd gina)" '^gina:x:2000[6-9]:'
	tap_check_fails "... and not the deleted one" getent passwd alice
else
	tap_skip "getent" "nss_pwb not built"
fi

# A store from a newer pwb is refused, never misread or written.
pwbadm list-users >/dev/null
# (pwbd, the store's one opener, steps aside while the file is edited)
pwb_pwbd_stop
db5.3_checkpoint -1 -h "$store" >/dev/null 2>&1 || true
printf 'format\n5\n' | db5.3_load -T -t btree -c database=meta -h "$store" store.db
pwb_pwbd_start
tap_is "the store claims format 5" "$(meta_format)" 5
tap_is "a newer store is refused" "$(adm_status pwbadm list-users)" 1
tap_like "... saying why" "$(adm_stderr pwbadm list-users)" 'format 5, newer than this pwb knows \(4\)'
tap_is "... and left as it was" "$(meta_format)" 5

# Format 2: the change log is converted, entry by entry, in place.
pwb_pwbd_stop
rm -rf "$store" "$PWB_DB_DIR/nss"
install -d -m 0700 -o pwb -g pwb "$store"
sed "s|@HOME_ROOT@|$PWB_HOME_ROOT|g" "$PWB_TEST_SRCDIR/tests/data/store-v2.dump" |
	db5.3_load "$store/store.db"
chown pwb:pwb "$store/store.db"
chmod 0600 "$store/store.db"
pwb_pwbd_start
tap_is "the format 2 store says so" "$(meta_format)" 2
tap_is "... and has 15 changes" "$(meta_key seq)" 15
list=$(pwbadm list-users --all 2>"$PWB_TMP/err")
tap_is "list-users opens the format 2 store" "$?" 0
tap_is "... without complaint" "$(cat "$PWB_TMP/err")" ""
tap_is "its users are all there" "$(printf '%s\n' "$list" | awk 'NR>1 {print $1}' | tr '\n' ' ')" \
	"alice bob carol dave "
db5.3_checkpoint -1 -h "$store" >/dev/null 2>&1 || true
tap_is "the store now has format 4" "$(meta_format)" 4
changes=$(db5.3_dump -p -s changes "$store/store.db" | sed -n '/^HEADER=END/,/^DATA=END/p')
tap_is "every change entry is now a JSON entry" \
	"$(printf '%s\n' "$changes" | awk 'NR % 2 == 1 && NR > 1' | grep -vc '^ {')" 0
tap_like "... naming who and what" "$changes" '"actor":\{"kind":"pwbd"\}.*"kind":"u","op":"update"'
tap_is "the upgrade itself is entry 16" "$(meta_key seq)" 16
tap_is "the publisher's cursor: at the snapshot pwbd published on opening" "$(meta_key cursor.publish)" "$(meta_key seq)"
tap_is "... and the log is kept whole (younger than the retention)" "$(pwbadm log --json | jq '.[0].seq')" 1
out=$(pwbadm add-user hank)
tap_like "a new user gets a fresh uid" "$out" 'uid 2000[6-9]'
db5.3_checkpoint -1 -h "$store" >/dev/null 2>&1 || true
tap_is "... and the log goes on gap-free" "$(meta_key seq)" 17
tap_is "... the store is root's" "$(stat -c %U "$store" "$store/store.db" | sort -u)" root
if adm_have_nss; then
	tap_like "getent sees the upgraded store" "$(getent passwd carol)" '^carol:x:20003:'
	tap_like "... and the new user" "$(getent passwd hank)" '^hank:x:2000[6-9]:'
else
	tap_skip "getent" "nss_pwb not built"
fi

tap_done
