#!/usr/bin/env bash
# pwbadm rebind-user: bind a user to a subject (issuer from the option or
# auth-openid-issuer), unbind (the next sign-in binds), and the bulk issuer
# migration (--all --issuer NEW [--from OLD]) in one transaction; what
# show-user, list-users and --json show of the binding; every usage error.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm

OLD=https://old.example.com/tenant
NEW=https://new.example.com/tenant
ident() { pwbadm show-user "$1" --json | jq -r '[.issuer, .subject, .bound, .bindOnLogin] | @csv'; }

for u in alice bob carol dave; do pwbadm add-user "$u" >/dev/null; done
tap_is "a user added by pwbadm is not bound; the first sign-in binds it" "$(ident alice)" ',,false,true'
tap_is "list-users shows it pending" "$(adm_column "$(pwbadm list-users)" alice 8)" pending

# ---- bind one user ----
out=$(pwbadm rebind-user alice --subject sub-a --issuer "$OLD" 2>&1)
tap_is "rebind-user NAME --subject --issuer: exit 0" "$?" 0
tap_is "it says what changed" "$out" "user alice bound to issuer $OLD, subject sub-a (was not bound)"
tap_is "show-user --json: bound to that identity" "$(ident alice)" "\"$OLD\",\"sub-a\",true,false"
tap_is "show-user text shows the binding" \
	"$(pwbadm show-user alice | grep -E '^(binding|issuer|subject):' | tr -s ' ')" \
	"$(printf 'binding: bound\nissuer: %s\nsubject: sub-a' "$OLD")"
tap_is "list-users shows it bound" "$(adm_column "$(pwbadm list-users)" alice 8)" bound
tap_is "list-users --json carries issuer and subject" \
	"$(pwbadm list-users --json | jq -r '.[] | select(.name=="alice") | .issuer + " " + .subject')" "$OLD sub-a"
tap_is "the same binding again: nothing to do" "$(pwbadm rebind-user alice --subject sub-a --issuer "$OLD")" \
	"user alice was already bound to that identity"

# --issuer defaults to auth-openid-issuer
tap_is "--subject without --issuer and no auth-openid-issuer: usage" \
	"$(adm_status pwbadm rebind-user bob --subject sub-b)" 2
pwb_conf_set auth-openid-issuer="$OLD"
tap_is "--subject alone uses auth-openid-issuer" "$(adm_status pwbadm rebind-user bob --subject sub-b)" 0
tap_is "bob bound at the configured issuer" "$(ident bob)" "\"$OLD\",\"sub-b\",true,false"
pwbadm rebind-user carol --subject sub-c >/dev/null
pwbadm rebind-user dave --subject sub-d --issuer "$NEW" >/dev/null

# a subject belongs to one user
tap_like "bob cannot take alice's subject" "$(adm_stderr pwbadm rebind-user bob --subject sub-a)" \
	'cannot rebind bob, nothing changed: .*(already bound|another user)'
tap_is "bob keeps his own" "$(ident bob)" "\"$OLD\",\"sub-b\",true,false"

# ---- unbind ----
out=$(pwbadm rebind-user carol)
tap_is "rebind-user NAME unbinds and says from what" "$out" \
	"user carol unbound (was issuer $OLD, subject sub-c): the next sign-in binds it"
tap_is "carol is pending again" "$(ident carol)" ',,false,true'
tap_is "unbinding an unbound user: nothing to do" "$(pwbadm rebind-user carol)" "user carol was already unbound"
pwbadm rebind-user carol --subject sub-c >/dev/null

# ---- issuer migration ----
# dave is already at NEW; alice, bob, carol move.
out=$(pwbadm rebind-user --all --issuer "$NEW" --from "$OLD")
tap_is "--all --from OLD: exit 0" "$?" 0
tap_is "--all lists each change" "$(printf '%s\n' "$out" | grep -c '^user .* bound to issuer '"$NEW")" 3
tap_like "--all says how many moved" "$out" '3 users rebound to the new issuer, 1 already there$'
tap_is "subjects are kept, issuers moved" \
	"$(for u in alice bob carol dave; do ident "$u"; done | tr '\n' ' ')" \
	"\"$NEW\",\"sub-a\",true,false \"$NEW\",\"sub-b\",true,false \"$NEW\",\"sub-c\",true,false \"$NEW\",\"sub-d\",true,false "
tap_like "again: nothing moves" "$(pwbadm rebind-user --all --issuer "$NEW")" '^0 users rebound to the new issuer, 4 already there$'

# one transaction: a conflict anywhere changes nothing anywhere
pwbadm rebind-user alice --subject shared --issuer "$OLD" >/dev/null
pwbadm rebind-user bob --subject shared --issuer "$NEW" >/dev/null
tap_is "--all into a pair another user holds fails" \
	"$(adm_status pwbadm rebind-user --all --issuer "$NEW" --from "$OLD")" 1
tap_is "and alice stayed where she was" "$(ident alice)" "\"$OLD\",\"shared\",true,false"
pwbadm rebind-user alice --subject sub-a --issuer "$OLD" >/dev/null
pwbadm rebind-user carol --subject sub-c --issuer "$OLD" >/dev/null
tap_is "--all without --from moves every bound user" \
	"$(pwbadm rebind-user --all --issuer https://third.example.com | tail -1)" \
	"4 users rebound to the new issuer, 0 already there"

# ---- bindings survive export and import ----
pwbadm export "$PWB_TMP/all.jsonl" >/dev/null
adm_reset_store
tap_is "import of an export with bindings" "$(adm_status pwbadm import "$PWB_TMP/all.jsonl")" 0
tap_is "bindings restored" "$(ident alice)" '"https://third.example.com","sub-a",true,false'

# ---- usage errors: exit 2, nothing changed ----
for args in "--all" "--all alice --issuer $NEW" "--all --issuer $NEW --subject x" \
	"alice --from $OLD" "alice --issuer $NEW" "alice --subject x --issuer http://plain.example.com" \
	"alice bob" ""; do
	# shellcheck disable=SC2086
	tap_is "rebind-user $args: usage error" "$(adm_status pwbadm rebind-user $args)" 2
done
tap_is "a subject with a control character: usage error" \
	"$(adm_status pwbadm rebind-user alice --subject "$(printf 'a\tb')")" 2
tap_is "unknown user: failure" "$(adm_status pwbadm rebind-user nobody)" 1
tap_like "--help documents the forms" "$(pwbadm rebind-user --help)" '--all --issuer NEW'

tap_done
