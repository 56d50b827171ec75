# pwbd for integration tests (sourced by ns.sh). pwb_ns_enter starts one
# pwbd per test namespace, listening on $PWB_PWBD_SOCKET (the test config's
# pwbd-socket), and stops it on cleanup. Tests that need it stopped (offline
# pwbadm, a tool that opens the store directly) use pwb_pwbd_stop and
# pwb_pwbd_start; pwb_pwbd_restart does both; pwb_pwbd_kill crashes it.
#   PWB_BIN_PWBD      the daemon
#   PWB_PWBD_CALL     tests/tools/pwbd-call: `$PWB_PWBD_CALL OP 'JSON-ARGS'`
#                     prints the result JSON (non-zero exit and a message on
#                     stderr on error); `--raw` sends stdin's bytes as they are
#   PWB_PWBD_WRAPPER  a command prefix to run pwbd under (valgrind ...)
#   PWB_PWBD_ARGS     extra pwbd options (--read-timeout 2, ...)
#   $PWB_TMP/pwbd.log pwbd's stderr

PWB_BIN_PWBD=$PWB_TEST_BUILDDIR/pwbd/pwbd
PWB_PWBD_CALL=$PWB_TEST_BUILDDIR/tests/tools/pwbd-call
PWB_PWBD_PID=

# The running pwbd's pid is kept in $PWB_TMP/pwbd.pid (empty or missing:
# stopped), so that a start or stop inside $(...) or a pipeline, whose
# variables never reach the test's shell, is still seen by the test and
# by cleanup. PWB_PWBD_PID mirrors it after each call.
pwb_pwbd_sync() {
	PWB_PWBD_PID=
	if [ -s "$PWB_TMP/pwbd.pid" ]; then PWB_PWBD_PID=$(cat "$PWB_TMP/pwbd.pid"); fi
	return 0
}

# Starts pwbd in the background and waits until it answers ping (it
# bails out of the test when it does not within 20 s).
pwb_pwbd_start() {
	pwb_pwbd_sync
	if [ -n "$PWB_PWBD_PID" ] && kill -0 "$PWB_PWBD_PID" 2>/dev/null; then return 0; fi
	[ -x "$PWB_BIN_PWBD" ] && [ -x "$PWB_PWBD_CALL" ] ||
		{ echo "Bail out! pwbd or pwbd-call not built"; exit 1; }
	# shellcheck disable=SC2086 # the wrapper and args are word lists
	${PWB_PWBD_WRAPPER:-} "$PWB_BIN_PWBD" --socket "$PWB_PWBD_SOCKET" --foreground \
		${PWB_PWBD_ARGS:-} </dev/null >>"$PWB_TMP/pwbd.log" 2>&1 &
	PWB_PWBD_PID=$!
	echo "$PWB_PWBD_PID" >"$PWB_TMP/pwbd.pid"
	local i
	for i in $(seq 1 400); do
		if "$PWB_PWBD_CALL" ping >/dev/null 2>&1; then return 0; fi
		if ! kill -0 "$PWB_PWBD_PID" 2>/dev/null; then break; fi
		sleep 0.05
	done
	echo "# pwbd did not answer ping within 20 s (attempt $i); its log:"
	sed 's/^/# /' "$PWB_TMP/pwbd.log"
	echo "Bail out! pwbd does not start"
	exit 1
}

# pwb_pwbd_signal SIG: sends SIG to pwbd and waits until it is gone;
# returns its exit status when this shell started it (else 0).
pwb_pwbd_signal() {
	local pid rc=0
	pwb_pwbd_sync
	pid=$PWB_PWBD_PID
	: >"$PWB_TMP/pwbd.pid"
	PWB_PWBD_PID=
	[ -n "$pid" ] || return 0
	kill "-$1" "$pid" 2>/dev/null || return 0
	wait "$pid" 2>/dev/null || rc=$?
	[ "$rc" != 127 ] || rc=0 # not this shell's child: its status is unknown
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	return $rc
}

# Stops pwbd with SIGTERM and waits for it; returns its exit status (0
# when it was not running).
pwb_pwbd_stop() { pwb_pwbd_signal TERM; }

# Kills pwbd with SIGKILL (a crash: no cleanup) and reaps it; fails when
# it was not running.
pwb_pwbd_kill() {
	pwb_pwbd_sync
	[ -n "$PWB_PWBD_PID" ] && kill -0 "$PWB_PWBD_PID" 2>/dev/null || return 1
	pwb_pwbd_signal KILL || :
}

pwb_pwbd_restart() {
	pwb_pwbd_stop || :
	pwb_pwbd_start
}

# Prints the running pwbd's pid (nothing when stopped).
pwb_pwbd_pid() {
	pwb_pwbd_sync
	[ -z "$PWB_PWBD_PID" ] || echo "$PWB_PWBD_PID"
}

# Adds a system user and its group to the namespace's passwd/group copies
# (never the host's): uid and gid wanted, or the next free one below.
pwb_ns_add_system_user() {
	local name=$1 id=$2 gecos=$3
	grep -q "^$name:" "$PWB_TMP/etc/passwd" && return 0
	while cut -d: -f3 "$PWB_TMP/etc/passwd" | grep -qx "$id" ||
		cut -d: -f3 "$PWB_TMP/etc/group" | grep -qx "$id"; do
		id=$((id - 1))
	done
	echo "$name:x:$id:$id:$gecos:/nonexistent:/usr/sbin/nologin" >>"$PWB_TMP/etc/passwd"
	echo "$name:x:$id:" >>"$PWB_TMP/etc/group"
}
