# TAP output for integration tests (sourced). Every check prints one
# "ok N - what" or "not ok N - what"; tap_done prints the plan and sets the
# exit status. A failing check shows its command's output as TAP comments.
TAP_N=0
TAP_FAILED=0

tap_ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
tap_fail() {
	TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"
}
tap_skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP ${2:-}"; }
tap_diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# tap_check DESC CMD...: passes when CMD exits 0.
tap_check() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" -eq 0 ]; then tap_ok "$desc"; else tap_fail "$desc (exit $rc)"; tap_diag "$out"; fi
}

# tap_check_fails DESC CMD...: passes when CMD exits non-zero.
tap_check_fails() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" -ne 0 ]; then tap_ok "$desc"; else tap_fail "$desc (unexpectedly succeeded)"; tap_diag "$out"; fi
}

# tap_is DESC GOT WANT: string equality.
tap_is() {
	if [ "$2" = "$3" ]; then tap_ok "$1"; else
		tap_fail "$1"; tap_diag "got:  $2" "want: $3"; fi
}

# tap_like DESC TEXT REGEX: extended-regex match.
tap_like() {
	if printf '%s' "$2" | grep -Eq -- "$3"; then tap_ok "$1"; else
		tap_fail "$1"; tap_diag "text: $2" "does not match: $3"; fi
}

# tap_unlike DESC TEXT REGEX: no extended-regex match.
tap_unlike() {
	if printf '%s' "$2" | grep -Eq -- "$3"; then tap_fail "$1"; tap_diag "text: $2" "matches: $3"
	else tap_ok "$1"; fi
}

tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}

# tap_bail REASON: the test cannot go on (setup failed).
tap_bail() { echo "Bail out! $*"; exit 1; }
