#!/usr/bin/env bash
# pwbadm's user and group commands against a temp store: add-user (uid
# allocation, --uid, --groups, --home, name mapping), list-users, show-user,
# lock/unlock, set-groups, list-groups, delete-user (uid retired, home kept),
# and the one-line errors and exit codes.
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/tap.sh"
. "${PWB_TEST_SRCDIR:-$(dirname "$0")/../..}/tests/lib/ns.sh"
pwb_ns_enter "$@"
. "$PWB_TEST_SRCDIR/tests/lib/adm.sh"
adm_require_pwbadm
# Homes outside user-homedir-path must lie under an allowed root.
pwb_conf_set "user-homedir-allowed-roots=/srv"

# ---- add-user ----
out=$(pwbadm add-user alice 2>&1)
tap_is "add-user alice succeeds" "$?" 0
tap_like "add-user reports the allocated uid" "$out" '^added user alice: uid 20000, gid 20000, home '"$PWB_HOME_ROOT"'/alice$'
tap_is "add-user with an e-mail name strips the domain and folds case" \
	"$(adm_status pwbadm add-user Bob@Example.COM)" 0
tap_is "add-user --uid uses that uid" "$(adm_status pwbadm add-user carol --uid 25000)" 0
tap_is "add-user --groups and --home" \
	"$(adm_status pwbadm add-user dave --groups 'data-science,Ops' --home /srv/home/dave)" 0

list=$(pwbadm list-users)
tap_is "list-users has a header and 4 users" "$(printf '%s\n' "$list" | wc -l)" 5
tap_is "list-users header" "$(printf '%s\n' "$list" | head -1 | tr -s ' ')" \
	"NAME UID GID STATE SOURCE LAST SIGN-IN HOME BINDING"
tap_is "list-users is sorted by name" "$(printf '%s\n' "$list" | awk 'NR>1 {print $1}' | tr '\n' ' ')" \
	"alice bob carol dave "
tap_is "bob got the next uid" "$(adm_column "$list" bob 2)" 20001
tap_is "carol's uid is the one asked for" "$(adm_column "$list" carol 2)" 25000
tap_is "a user's gid is their private group's, = uid" "$(adm_column "$list" carol 3)" 25000
tap_is "state active" "$(adm_column "$list" alice 4)" active
tap_is "source manual" "$(adm_column "$list" alice 5)" manual
tap_is "never signed in" "$(adm_column "$list" alice 6)" never
tap_is "default home under user-homedir-path" "$(adm_column "$list" alice 7)" "$PWB_HOME_ROOT/alice"
tap_is "--home recorded" "$(adm_column "$list" dave 7)" /srv/home/dave
# Columns are aligned: every row's UID column starts at the same offset.
tap_is "columns aligned" "$(printf '%s\n' "$list" | awk '{ print index($0, $2) }' | sort -u | wc -l)" 1
tap_check_fails "add-user does not create the home (pam_pwb_mkhome does)" test -e "$PWB_HOME_ROOT/alice"

# ---- refusals ----
tap_is "a taken name is refused (exit 1)" "$(adm_status pwbadm add-user alice)" 1
tap_like "... with one line naming the user" "$(adm_stderr pwbadm add-user alice)" '^pwbadm: cannot add user alice: .+$'
tap_is "... on one line" "$(adm_stderr pwbadm add-user alice | wc -l)" 1
tap_is "a taken uid is refused" "$(adm_status pwbadm add-user erin --uid 25000)" 1
tap_is "a local account's name is refused" "$(adm_status pwbadm add-user root)" 1
tap_is "a local account's uid is refused" "$(adm_status pwbadm add-user erin --uid 999)" 1
tap_is "an invalid name is a usage error (exit 2)" "$(adm_status pwbadm add-user '../etc')" 2
tap_like "... naming what is wrong" "$(adm_stderr pwbadm add-user '../etc')" '^pwbadm: add-user: user name .*\.\./etc'
tap_is "a bad --uid is a usage error" "$(adm_status pwbadm add-user erin --uid 12x)" 2
tap_is "a relative --home is a usage error" "$(adm_status pwbadm add-user erin --home rel/dir)" 2
tap_is "a --home with ':' is a usage error" "$(adm_status pwbadm add-user erin --home /a:b)" 2
tap_is "an invalid group name is a usage error" "$(adm_status pwbadm add-user erin --groups 'ok,Bad Name')" 2
tap_is "missing name is a usage error" "$(adm_status pwbadm add-user)" 2
tap_is "unknown option is a usage error" "$(adm_status pwbadm add-user --frobnicate erin)" 2
cp "$PWB_CONF" "$PWB_TMP/base.conf"
pwb_conf_set "auth-openid-username-domains=example.com"
tap_is "with username-domains, an allowed domain is stripped" "$(adm_status pwbadm show-user bob@EXAMPLE.com)" 0
tap_is "... and a bare Linux name still names the account" "$(adm_status pwbadm show-user Bob)" 0
tap_is "... and another domain is refused (usage error)" "$(adm_status pwbadm add-user erin@evil.example)" 2
tap_like "... naming the rule" "$(adm_stderr pwbadm add-user erin@evil.example)" 'auth-openid-username-domains'
cp "$PWB_TMP/base.conf" "$PWB_CONF"
tap_is "refused adds wrote nothing" "$(pwbadm list-users | wc -l)" 5

# ---- show-user ----
show=$(pwbadm show-user dave)
tap_like "show-user names the user" "$show" '^name: +dave$'
tap_like "show-user lists groups" "$show" '^groups: +data-science,ops$'
tap_like "show-user shows externalId" "$show" '^externalId:'
tap_like "show-user shows the SCIM id" "$show" '^id: +[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
json=$(pwbadm show-user --json DAVE)
tap_is "show-user --json: uid" "$(jq -r .uid <<<"$json")" 20002
tap_is "show-user --json: groups" "$(jq -r '.groups | sort | join(",")' <<<"$json")" "data-science,ops"
tap_is "show-user --json: source" "$(jq -r .source <<<"$json")" manual
tap_is "show-user NAME --json works too" "$(pwbadm show-user dave --json | jq -r .name)" dave
tap_is "show-user of a missing user fails" "$(adm_status pwbadm show-user zed)" 1
tap_like "... saying so" "$(adm_stderr pwbadm show-user zed)" '^pwbadm: no user named zed$'

# ---- groups ----
groups=$(pwbadm list-groups)
tap_is "list-groups header" "$(printf '%s\n' "$groups" | head -1 | tr -s ' ')" "NAME GID MEMBERS DISPLAY NAME"
gid=$(adm_column "$groups" data-science 2)
tap_check "groups created by --groups got gids from the configured range" test "$gid" -ge 20000 -a "$gid" -le 29999
tap_is "... that no user's private group has" "$(pwbadm list-users --all | awk -v g="$gid" 'NR>1 && $3==g')" ""
tap_is "data-science members" "$(adm_column "$groups" data-science 3)" dave
tap_is "set-groups sets exactly" "$(adm_status pwbadm set-groups alice 'ops,finance')" 0
groups=$(pwbadm list-groups)
tap_is "ops has alice and dave" "$(adm_column "$groups" ops 3)" "alice,dave"
tap_is "finance created with alice" "$(adm_column "$groups" finance 3)" alice
tap_is "set-groups again replaces" "$(adm_status pwbadm set-groups alice finance)" 0
tap_is "alice left ops" "$(adm_column "$(pwbadm list-groups)" ops 3)" dave
tap_is "set-groups of a missing user fails" "$(adm_status pwbadm set-groups zed ops)" 1
tap_like "... naming the user" "$(adm_stderr pwbadm set-groups zed ops)" '^pwbadm: cannot set the groups of zed: no user named zed$'
tap_is "set-groups with one argument is a usage error" "$(adm_status pwbadm set-groups alice)" 2
tap_is "set-groups '' removes all" "$(adm_status pwbadm set-groups alice '')" 0
tap_is "alice in no group" "$(pwbadm show-user alice --json | jq -r '.groups | length')" 0
tap_is "list-groups --json is one array" "$(pwbadm list-groups --json | jq -r 'map(.name) | join(",")')" \
	"data-science,finance,ops"
tap_is "list-groups --json members" \
	"$(pwbadm list-groups --json | jq -r '.[] | select(.name=="ops") | .members | join(",")')" dave

# ---- lock / unlock ----
tap_is "lock-user" "$(adm_status pwbadm lock-user alice)" 0
tap_is "locked users are hidden without --all" "$(adm_column "$(pwbadm list-users)" alice 1)" ""
tap_is "list-users --all shows them locked" "$(adm_column "$(pwbadm list-users --all)" alice 4)" locked
tap_is "show-user says locked" "$(pwbadm show-user alice --json | jq -r .active)" false
tap_like "locking again says so" "$(pwbadm lock-user alice)" 'already locked'
if adm_have_nss; then
	tap_like "a locked user stays in passwd" "$(getent passwd alice)" '^alice:x:20000:'
	tap_like "... with a locked, expired shadow entry" "$(getent shadow alice)" '^alice:!\*:[0-9]*:[0-9]*:[0-9]*:[0-9]*:[0-9]*:1:'
else
	tap_skip "a locked user stays in passwd" "nss_pwb not built in this tree"
	tap_skip "... with a locked, expired shadow entry" "nss_pwb not built in this tree"
fi
tap_is "unlock-user" "$(adm_status pwbadm unlock-user alice)" 0
tap_is "unlocked user is active" "$(adm_column "$(pwbadm list-users)" alice 4)" active
tap_is "lock-user of a missing user fails" "$(adm_status pwbadm lock-user zed)" 1

# ---- JSON listing ----
ljson=$(pwbadm list-users --json)
tap_is "list-users --json is one array of all active users" "$(jq -r 'length' <<<"$ljson")" 4
tap_is "list-users --json fields" "$(jq -r '.[0] | [.name, .uid, .gid, .active, .source, .home] | join(" ")' <<<"$ljson")" \
	"alice 20000 20000 true manual $PWB_HOME_ROOT/alice"

# ---- NSS sees the changes (when nss_pwb is built) ----
if adm_have_nss; then
	tap_is "getent passwd bob" "$(getent passwd bob | cut -d: -f1,3,4,6)" "bob:20001:20001:$PWB_HOME_ROOT/bob"
	tap_like "id dave lists the groups" "$(id -Gn dave 2>&1)" 'data-science'
else
	tap_skip "getent passwd bob" "nss_pwb not built in this tree"
	tap_skip "id dave lists the groups" "nss_pwb not built in this tree"
fi

# ---- delete-user ----
mkdir -p "$PWB_HOME_ROOT/bob" && touch "$PWB_HOME_ROOT/bob/data"
tap_is "delete-user without --yes and no terminal is refused" "$(adm_status pwbadm delete-user bob </dev/null)" 2
tap_is "... and bob is still there" "$(adm_column "$(pwbadm list-users)" bob 2)" 20001
# On a terminal delete-user asks; only "y"/"yes" confirms (script(1) gives it a tty).
printf 'n\n' | script -qec "$PWB_BIN_PWBADM delete-user bob" /dev/null >"$PWB_TMP/ask.out" 2>&1
tap_like "delete-user asks on a terminal" "$(cat "$PWB_TMP/ask.out")" 'Delete user bob\? .*\[y/N\]'
tap_is "answering n keeps bob" "$(adm_column "$(pwbadm list-users)" bob 2)" 20001
tap_like "delete-user --yes" "$(pwbadm delete-user --yes bob)" '^deleted user bob: uid 20001 retired'
tap_is "bob gone" "$(adm_status pwbadm show-user bob)" 1
tap_check "bob's home kept" test -e "$PWB_HOME_ROOT/bob/data"
tap_is "bob's uid is not reused" "$(adm_status pwbadm add-user frank)" 0
uid=$(adm_column "$(pwbadm list-users)" frank 2)
tap_check "frank did not get bob's retired uid" test "$uid" -gt 20000 -a "$uid" != 20001
tap_is "a retired uid cannot be taken with --uid" "$(adm_status pwbadm add-user gina --uid 20001)" 1
tap_is "delete-user of a missing user fails" "$(adm_status pwbadm delete-user --yes bob)" 1

tap_done
