#!/usr/bin/env bash
# scripts/demo, the README's first command, runs to its end here (in a
# namespace below this test's, so it skips its own apt and build steps): SCIM,
# JIT through pamtester, deactivation, pwbadm check and the browser leg
# (the real IdP, pwb-login behind nginx, headless Chromium). Its screenshot
# is a PNG; it prints no token.
. "$PWB_TEST_SRCDIR/tests/lib/tap.sh"
PWB_NS_NO_PWBD=1 # the demo starts its own
. "$PWB_TEST_SRCDIR/tests/lib/ns.sh"
pwb_ns_enter "$@"
set -u

if [ "${PWB_SANITIZE:-0}" = 1 ]; then
	# (the browser smoke subset of the sanitizer pass is login_browser's)
	tap_skip "scripts/demo" "ASan build (PWB_SANITIZE=1): the demo runs in the normal pass"
	tap_done
	exit 0
fi
if [ "$(cd "$PWB_TEST_BUILDDIR" && pwd -P)" != "$(cd "$PWB_TEST_SRCDIR" && pwd -P)" ]; then
	tap_skip "scripts/demo" "the demo runs from an in-tree build (scripts/build)"
	tap_done
	exit 0
fi

out=$PWB_TMP/demo-out
log=$PWB_TMP/demo.log
# A namespace of its own below this test's: its mounts end with it.
PWB_DEMO_OUT=$out PWB_IN_NS=1 unshare -m --propagation private bash "$PWB_TEST_SRCDIR/scripts/demo" \
	</dev/null >"$log" 2>&1
rc=$?
tap_is "scripts/demo exits 0" "$rc" 0
[ "$rc" = 0 ] || tap_diag "$(tail -25 "$log")"
tap_like "it ran every step, the browser leg last" \
	"$(grep -E '^== ' "$log" | sed 's/ *$//' | tr '\n' '|')" \
	'== 1\. SCIM push.*\|== 2\. Just-in-time.*\|== 3\. Deactivation.*\|== 4\. pwbadm check.*\|== 5\. The browser.*\|== Summary\|$'
tap_like "Chromium saw the IdP's login page" "$(grep 'saw the IdP' "$log")" ': true$'
tap_like "alice landed on the landing page, her home made at that sign-in" \
	"$(grep -E '^ +ok: ' "$log" | tr '\n' '|')" \
	"ok: the landing page names alice\|.*ok: alice's home was created at her first sign-in"
tap_like "the app behind auth_request got X-Pwb-User: alice" "$(grep -E '^ +\| X-Pwb-User:' "$log")" \
	'X-Pwb-User: alice$'
tap_is "the screenshot is a PNG" "$(head -c 8 "$out/landing.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" \
	"89504e470d0a1a0a"
tap_like "the demo names where it saved it" "$(grep 'screenshot of alice' "$log")" "$out/landing.png"
tap_is "the demo's output holds no JWT" "$(grep -cE 'eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}' "$log")" 0
tap_done
