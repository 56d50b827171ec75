#!/usr/bin/env bash
# Writes tests/data/store-v2.dump: a store in format 2 (home index, change
# log entries as raw structs, no request index, no cursors), as pwb wrote it
# up to commit 04d38d6, for tests/integration/store_upgrade.sh.
# Run as root from a build of that commit:
#   git worktree add /tmp/prev 04d38d6 && (cd /tmp/prev && scripts/build)
#   PWB_TEST_BUILDDIR=/tmp/prev PWB_TEST_SRCDIR=/tmp/prev \
#       bash tests/data/make-store-v2.sh "$PWD/tests/data/store-v2.dump"
set -eu
out=$1
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
pwb_ns_enter "$@"
pwbadm() { "$PWB_BIN_PWBADM" "$@"; }
pwbadm add-user alice
pwbadm add-user bob --uid 25000 --groups data-science,ops
pwbadm add-user carol --groups ops
pwbadm add-user dave
pwbadm add-user erin
pwbadm lock-user carol
pwbadm delete-user --yes erin
pwbadm generate-token --no-expiry idp >/dev/null
db5.3_checkpoint -1 -h "$PWB_DB_DIR/store"
# Home paths and ids are what the test checks: make them portable.
db5.3_dump -p "$PWB_DB_DIR/store/store.db" | sed "s|$PWB_HOME_ROOT|@HOME_ROOT@|g" >"$out"
