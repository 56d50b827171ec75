# Captures syslog lines inside the test's mount namespace (sourced after
# ns.sh, inside pwb_ns_enter), so a test can check the one line a refused
# login logs. The host has no /dev/log to borrow and must not be changed,
# so /dev is replaced, in this namespace only, by a tmpfs holding the usual
# device nodes (bind-mounted from the real /dev) and a /dev/log socket
# served by pwb-test-syslogd.
#
#   pwb_syslog_capture     start; lines go to $PWB_SYSLOG (one message per line)
#   pwb_syslog_since N     the lines after the first N (N from pwb_syslog_count)
#   pwb_syslog_count       how many lines so far
# (both wait until everything logged before the call has arrived)

PWB_TEST_SYSLOGD=$PWB_TEST_BUILDDIR/tests/tools/pwb-test-syslogd

pwb_syslog_capture() {
	local real=$PWB_TMP/.realdev n
	PWB_SYSLOG=$PWB_TMP/syslog
	: >"$PWB_SYSLOG"
	mkdir -p "$real"
	mount --rbind /dev "$real" || return 1
	# The real /dev must be detached before the temp dir is removed.
	pwb_on_cleanup "umount -l '$real' 2>/dev/null; rmdir '$real' 2>/dev/null"
	mount -t tmpfs -o mode=0755,size=1m pwb-dev /dev || return 1
	for n in null zero full random urandom tty; do
		[ -e "$real/$n" ] || continue
		: >"/dev/$n" && mount --bind "$real/$n" "/dev/$n"
	done
	mkdir -p /dev/pts /dev/shm
	mount --rbind "$real/pts" /dev/pts 2>/dev/null
	mount --rbind "$real/shm" /dev/shm 2>/dev/null
	ln -s /proc/self/fd /dev/fd
	ln -s /proc/self/fd/0 /dev/stdin
	ln -s /proc/self/fd/1 /dev/stdout
	ln -s /proc/self/fd/2 /dev/stderr
	"$PWB_TEST_SYSLOGD" /dev/log "$PWB_SYSLOG" </dev/null >/dev/null 2>&1 &
	PWB_SYSLOGD_PID=$!
	pwb_on_cleanup 'kill $PWB_SYSLOGD_PID 2>/dev/null; wait $PWB_SYSLOGD_PID 2>/dev/null'
	for n in $(seq 1 50); do
		# 0666 like the system's own: services running as their own
		# users (pwb-scim, pwb-login) log there too
		[ -S /dev/log ] && chmod 0666 /dev/log && return 0
		sleep 0.05
	done
	return 1
}

# Syslog is a datagram socket: a line logged just before may not be in the
# file yet. A marker sent now arrives after it, so once the marker is in
# the file everything logged before is too. Markers are hidden from
# pwb_syslog_count/pwb_syslog_since.
pwb_syslog_sync() {
	local marker=pwb-syslog-sync-$$-$RANDOM n
	logger -u /dev/log -- "$marker" 2>/dev/null || return 0
	for n in $(seq 1 100); do
		grep -q -- "$marker" "$PWB_SYSLOG" && return 0
		sleep 0.02
	done
}

pwb_syslog_count() {
	pwb_syslog_sync
	grep -vc 'pwb-syslog-sync-' "$PWB_SYSLOG"
}

pwb_syslog_since() {
	pwb_syslog_sync
	grep -v 'pwb-syslog-sync-' "$PWB_SYSLOG" | tail -n +"$(($1 + 1))"
}
