#!/usr/bin/env bash
# The audit trail's retention: pwbd trims the change log when it opens the
# store and then daily, keeping entries younger than
# change-log-retention-days and the newest change-log-retention-entries.
# pwbd's clock is moved with libfaketime (a timestamp file pwbd re-reads,
# so time passes without a sleep or a restart); nothing in pwb reads a
# clock override.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm
libfaketime=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
[ -n "$libfaketime" ] || tap_bail "libfaketime is not installed (faketime; scripts/install-deps)"

# pwbd under libfaketime: its time is what $clock says, re-read on every
# call (FAKETIME_NO_CACHE), "+0d" to begin with.
clock=$PWB_TMP/faketime
echo "+0d" >"$clock"
pwb_conf_set "change-log-retention-days=30"
pwb_pwbd_stop >/dev/null
# (the faketime command's own FAKETIME would win over the file)
PWB_PWBD_WRAPPER="env LD_PRELOAD=${LD_PRELOAD:+$LD_PRELOAD:}$libfaketime FAKETIME_TIMESTAMP_FILE=$clock FAKETIME_NO_CACHE=1"
pwb_pwbd_start >/dev/null
at() { echo "$1" >"$clock"; }
names() { pwbadm log --json | jq -r '[.[] | select(.kind == "u") | .name] | join(" ")'; }
seqs() { pwbadm log --json | jq -r '[.[0].seq, .[-1].seq] | join(" ")'; }

pwbadm add-user alpha >/dev/null
pwbadm add-user beta >/dev/null
tap_is "two users, two entries" "$(names)" "alpha beta"
t0=$(pwbadm log --json | jq '.[0].time')
tap_like "pwbd's clock is the real one to begin with" "$(($(date +%s) - t0))" '^[0-9]$|^[0-9][0-9]$'

# ---- 20 days on: young entries stay ----
at "+20d"
pwbadm add-user gamma >/dev/null
t1=$(pwbadm log --user gamma --json | jq '.[0].time')
tap_is "gamma's entry is 20 days later (pwbd's clock moved)" "$(((t1 - t0) / 86400))" 20
pwb_pwbd_stop >/dev/null
pwb_pwbd_start >/dev/null
tap_is "a restart at 20 days trims nothing (30 days kept)" "$(names)" "alpha beta gamma"

# ---- 40 days on: the daily trim, without a restart ----
at "+40d"
tap_is "40 days on: alpha and beta are gone, gamma (20 days) stays" "$(names)" "gamma"
tap_like "the sequence goes on where it was (never reused)" "$(seqs)" '^3 3$'
pwbadm add-user delta >/dev/null
tap_is "new entries follow" "$(names)" "gamma delta"
tap_is "the store itself is intact" "$(pwbadm list-users | awk 'NR > 1 {print $1}' | tr '\n' ' ')" "alpha beta delta gamma "
tap_is "the trim wrote no entry and no user changed" "$(pwbadm log --json | jq length)" 2

# ---- the entry count: the newest change-log-retention-entries ----
pwb_conf_set "change-log-retention-entries=1000"
pwb_conf_set "change-log-retention-days=36500"
for i in $(seq 1 1020); do printf '{"type":"user","name":"bulk%d"}\n' "$i"; done >"$PWB_TMP/bulk.jsonl"
pwbadm import "$PWB_TMP/bulk.jsonl" >/dev/null
last=$(pwbadm log --limit 1 --json | jq '.[0].seq')
tap_is "1020 more entries" "$last" $((4 + 1020))
pwb_pwbd_stop >/dev/null
pwb_pwbd_start >/dev/null
tap_is "after pwbd's start, the newest 1000 are kept" "$(pwbadm log --json | jq -r '[length, .[0].seq, .[-1].seq] | join(" ")')" \
	"1000 $((last - 999)) $last"
tap_is "--user still finds a kept user" "$(pwbadm log --user bulk1020 --json | jq length)" 1
tap_is "... and nothing of a trimmed one" "$(pwbadm log --user alpha --json | jq length)" 0

tap_done
