#!/usr/bin/env bash
# The README's first command as a newcomer runs it as root: `git clone`
# into a private home (0700, as /root and every home Debian 12 makes) and
# `scripts/demo` there. The demo builds in that clone and runs to its end:
# the unprivileged service users (pwb-scim, pwb-login, nginx's www-data)
# cannot enter the checkout, so they must run the copy the demo stages in
# its temp dir (tests/lib/ns.sh pwb_ns_stage); the checkout's permissions
# stay as they were. It clones the repository of the tree under test (its
# committed HEAD). A full build plus the demo: about 4 minutes on 2 CPUs.
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
PWB_NS_NO_PWBD=1 # the demo starts its own
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
pwb_ns_enter "$@"
set -u

if [ "${PWB_SANITIZE:-0}" = 1 ]; then
	tap_skip "scripts/demo from a 0700 checkout" "ASan build (PWB_SANITIZE=1): it runs in the normal pass"
	tap_done
	exit 0
fi
if ! git -C "$PWB_TEST_SRCDIR" rev-parse --verify -q HEAD >/dev/null; then
	tap_skip "scripts/demo from a 0700 checkout" "the tree under test is not a git repository"
	tap_done
	exit 0
fi

home=$PWB_TMP/home-private # a home as Debian 12 makes it
mkdir -m 0700 "$home"
clone=$home/pwb
log=$PWB_TMP/demo.log
out=$PWB_TMP/demo-out
git clone -q "$PWB_TEST_SRCDIR" "$clone" >"$PWB_TMP/clone.log" 2>&1
tap_is "git clone of the tree under test" "$?" 0
tap_is "the clone is at the tree's HEAD" "$(git -C "$clone" rev-parse HEAD 2>&1)" \
	"$(git -C "$PWB_TEST_SRCDIR" rev-parse HEAD)"

# As typed in a root shell: nothing of this test's namespace or build leaks
# in. The demo enters a namespace of its own below this test's.
start=$(date +%s)
(cd "$clone" && exec env -u PWB_IN_NS -u PWB_CONFIG -u LD_LIBRARY_PATH -u PWB_TEST_SRCDIR \
	-u PWB_TEST_BUILDDIR -u PWB_NS_STAGE PWB_DEMO_OUT="$out" scripts/demo) </dev/null >"$log" 2>&1
rc=$?
tap_diag "clone, build and demo took $(($(date +%s) - start)) s"
tap_is "scripts/demo in the 0700 checkout exits 0" "$rc" 0
[ "$rc" = 0 ] || tap_diag "$(tail -25 "$log")"
tap_check "it built there" test -x "$clone/scim-cgi/pwb-scim" -a -x "$clone/pwb-login/pwb-login"
tap_check_fails "the service users cannot reach that build (the case under test)" \
	pwb_ns_reachable "$PWB_SCIM_UID" "$clone/scim-cgi/pwb-scim"
tap_like "it ran every step, the browser leg last" \
	"$(grep -E '^== ' "$log" | sed 's/ *$//' | tr '\n' '|')" \
	'== 1\. SCIM push.*\|== 2\. Just-in-time.*\|== 3\. Deactivation.*\|== 4\. pwbadm check.*\|== 5\. The browser.*\|== Summary\|$'
tap_like "pwb-scim answered: users pushed" "$(grep -c 'HTTP 201' "$log")" '^[3-9]$'
tap_like "pwb-login ran as the pwb-login user" "$(grep 'pwb-login: FastCGI on' "$log")" 'as user pwb-login$'
tap_is "the landing page screenshot is a PNG" \
	"$(head -c 8 "$out/landing.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" "89504e470d0a1a0a"
tap_is "the private home is still 0700" "$(stat -c %a "$home")" 700
tap_done
