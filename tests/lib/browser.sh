# Headless Chromium for integration tests (sourced after ns.sh and idp.sh):
# tests/browser/driver.mjs runs as a coprocess, one JSON command in, one
# JSON answer out, so cookies and tabs live across the test's steps.
# Chromium trusts only the test server's key (PWB_WEB_SPKI), runs headless,
# --no-sandbox as root, and never with the sanitizer runtime.
#
#   pwb_browser_start          launch (needs pwb_web_ca)
#   pwb_browser JSON           send one command; the answer is in BROWSER_OUT;
#                              fails when the driver answers ok:false or dies
#   browser_jq FILTER          jq -r FILTER on the last answer
#   pwb_browser_signin TAB URL USER [PASSWORD]
#   pwb_browser_goto TAB URL
#   pwb_browser_shot NAME [TAB...]
#                              screenshots into $PWB_TMP/screenshots/NAME-TAB.png
#   pwb_browser_keep_shots_on_failure TEST
#                              when the test has a failed check, the browser's
#                              last screenshot of every tab and the ones taken
#                              so far are kept in tests/integration/TEST.screenshots/
#   pwb_browser_stop           (also done at cleanup)

PWB_BROWSER_SRC=$PWB_TEST_SRCDIR/tests/browser

pwb_browser_start() {
	[ -x "${PWB_CHROMIUM:-/usr/bin/chromium}" ] || { echo "pwb_browser_start: no chromium" >&2; return 1; }
	pwb_idp_deps || return 1
	PWB_BROWSER_LOG=$PWB_TMP/browser.log
	# HOME: Chromium writes its profile and crash dumps there.
	mkdir -p "$PWB_TMP/browser-home"
	coproc PWB_BROWSER_PROC {
		cd "$PWB_BROWSER_SRC" && exec env -u LD_PRELOAD -u LD_LIBRARY_PATH HOME="$PWB_TMP/browser-home" \
			NODE_EXTRA_CA_CERTS="$PWB_WEB_CA" node driver.mjs --spki "$PWB_WEB_SPKI" \
			2>>"$PWB_BROWSER_LOG"
	}
	PWB_BROWSER_PID=$PWB_BROWSER_PROC_PID
	PWB_BROWSER_IN=${PWB_BROWSER_PROC[1]}
	PWB_BROWSER_OUT=${PWB_BROWSER_PROC[0]}
	pwb_on_cleanup pwb_browser_stop
	pwb_browser '{"op":"open","tab":"main"}'
}

pwb_browser() {
	BROWSER_OUT=
	[ -n "${PWB_BROWSER_PID:-}" ] || { echo "pwb_browser: not started" >&2; return 1; }
	# One line per command (the driver reads lines), written by this shell:
	# a coprocess's descriptors do not reach subshells, so never call this
	# inside $(...) or a pipeline.
	local line
	line=$(printf '%s' "$1" | jq -c .) || return 1
	printf '%s\n' "$line" >&"$PWB_BROWSER_IN" || return 1
	IFS= read -r -t 120 BROWSER_OUT <&"$PWB_BROWSER_OUT" || {
		echo "pwb_browser: no answer; its log:" >&2
		tail -20 "$PWB_BROWSER_LOG" >&2
		return 1
	}
	[ "$(printf '%s' "$BROWSER_OUT" | jq -r .ok)" = true ]
}

browser_jq() { printf '%s' "$BROWSER_OUT" | jq -r "$1"; }

pwb_browser_goto() {
	pwb_browser "$(jq -cn --arg t "$1" --arg u "$2" '{op: "goto", tab: $t, url: $u}')"
}

pwb_browser_signin() {
	pwb_browser "$(jq -cn --arg t "$1" --arg u "$2" --arg n "$3" --arg p "${4:-pw-$3}" \
		'{op: "signin", tab: $t, url: $u, user: $n, password: $p}')"
}

# Screenshots of every tab named, into the test's temp dir (kept: a
# failing test leaves them for the reader, see pwb_browser_keep_shots).
pwb_browser_shot() {
	local name=$1 tab
	shift
	mkdir -p "$PWB_TMP/screenshots"
	for tab in "${@:-main}"; do
		pwb_browser "$(jq -cn --arg t "$tab" --arg p "$PWB_TMP/screenshots/$name-$tab.png" \
			'{op: "screenshot", tab: $t, path: $p}')" || true
	done
}

pwb_browser_keep_shots_on_failure() { PWB_BROWSER_KEEP=$1; }

pwb_browser_stop() {
	local keep
	[ -n "${PWB_BROWSER_PID:-}" ] || return 0
	if [ -n "${PWB_BROWSER_KEEP:-}" ] && [ "${TAP_FAILED:-0}" -gt 0 ]; then
		mkdir -p "$PWB_TMP/screenshots"
		pwb_browser "$(jq -cn --arg d "$PWB_TMP/screenshots" '{op: "shots", dir: $d, prefix: "last"}')"
		keep=$PWB_TEST_BUILDDIR/tests/integration/$PWB_BROWSER_KEEP.screenshots
		rm -rf "$keep" && cp -r "$PWB_TMP/screenshots" "$keep" &&
			echo "# screenshots kept in $keep"
	fi
	printf '{"op":"quit"}\n' >&"$PWB_BROWSER_IN" 2>/dev/null
	local i
	for i in $(seq 1 50); do
		kill -0 "$PWB_BROWSER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill "$PWB_BROWSER_PID" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$PWB_BROWSER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$PWB_BROWSER_PID" 2>/dev/null
	wait "$PWB_BROWSER_PID" 2>/dev/null
	PWB_BROWSER_PID=
	return 0
}
