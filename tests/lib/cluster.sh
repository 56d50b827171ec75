# Several "hosts" of one pwb cluster on one machine, for the cluster-mode
# tests and bench/cluster (issue 15; sourced after ns.sh, scim.sh,
# nginx.sh and pg.sh, inside pwb_ns_enter, which must not start its own
# pwbd: PWB_NS_NO_PWBD=1). Each host N has, under $PWB_TMP/hN:
#   etc/pwb/pwb.conf   the test's pwb.conf ($PWB_CONF, as the test left it)
#                      with db-dir, pwbd-socket and the cluster keys
#                      (store-backend=postgresql, store-dsn over TCP with
#                      scram-sha-256, store-password-file, cluster-host-name
#                      hN, cluster-role); the other files of /etc/pwb copied
#   etc/pam.d, etc/{passwd,group,shadow}, home, db, run
#   mnt                its persistent mount namespace (unshare --mount=FILE):
#                      a copy of the test's namespace with the files above
#                      bound over /etc/pwb, /etc/pam.d, /etc/passwd, ... and
#                      home over $PWB_HOME_ROOT. NSS, PAM, pwbadm, pwbd and
#                      pwb-scim run in it see only that host.
# /dev (tests/lib/syslog.sh's capture) and the nscd socket's tmpfs are
# inherited: capture syslog before pwb_cluster_add_host to see every host.
#
#   pwb_cluster_start [N]       PostgreSQL (tests/lib/pg.sh), hosts 1..N
#                               (default 3) as writers, `pwbadm cluster init
#                               --reader-role pwb_reader` on host 1
#   pwb_cluster_add_host N [writer|reader|single]
#                               (single: not in the cluster, Berkeley DB)
#   pwb_on_host N CMD...        runs CMD in host N's namespace
#   pwb_host_conf_set N K=V...  sets keys in host N's pwb.conf (restart pwbd)
#   pwb_host_pwbd_start N / pwb_host_pwbd_stop N / pwb_host_pwbd_kill N
#   pwb_host_scim N             pwb-scim (spawn-fcgi, scim-user) behind its
#                               own nginx: sets PWB_HOST_URL[N] (…/scim/v2)
#   pwb_host_login N SERVICE USER TOKEN
#                               pamtester on host N, the token as password
#   pwb_host_snapshot N         getent passwd + group, sorted (what NSS shows)
#   pwb_cluster_converge [CAP] [HOSTS...]
#                               waits (cap CAP s, default 60) until every
#                               host has applied the database's last
#                               sequence and shows the same snapshot;
#                               prints the seconds it took (never asserted)
# Hosts' pwbd logs: $PWB_TMP/hN/pwbd.log.

PWB_CLUSTER_HOSTS=()
declare -A PWB_HOST_URL=()

# The PostgreSQL backend object of the build tree (only pwbd loads it).
: "${PWB_STORE_PG_MODULE:=$(ls "$PWB_TEST_BUILDDIR"/lib/store/.libs/pwb_store_pg.so 2>/dev/null |
	head -1)}"
export PWB_STORE_PG_MODULE

pwb_host_dir() { echo "$PWB_TMP/h$1"; }

pwb_on_host() {
	local n=$1
	shift
	nsenter --mount="$PWB_TMP/h$n/mnt" -- "$@"
}

pwb_cluster_add_host() {
	local n=$1 role=${2:-writer} h f dsn=${PWB_PG_DSN_WRITER:-} pwfile=${PWB_PG_PW_WRITER:-}
	h=$(pwb_host_dir "$n")
	mkdir -p "$h/etc/pwb" "$h/etc/pam.d" "$h/home" "$h/db" "$h/run"
	chmod 0755 "$h" "$h/run" "$h/home"
	touch "$h/mnt" "$h/pwbd.log"
	cp -a /etc/passwd /etc/group /etc/shadow "$h/etc/"
	cp -a /etc/pam.d/. "$h/etc/pam.d/" 2>/dev/null
	for f in /etc/pwb/*; do
		[ "$f" = "$PWB_CONF" ] || cp -a "$f" "$h/etc/pwb/" 2>/dev/null
	done
	# TCP with scram-sha-256, the password in store-password-file (0600)
	if [ "$role" = reader ]; then dsn=$PWB_PG_DSN_READER pwfile=$PWB_PG_PW_READER; fi
	[ "$role" = single ] || install -m 0600 "$pwfile" "$h/etc/pwb/store-password"
	grep -Ev '^(db-dir|pwbd-socket|store-backend|store-dsn|store-password-file|cluster-role|cluster-host-name)=' \
		"$PWB_CONF" >"$h/etc/pwb/pwb.conf"
	printf 'db-dir=%s\npwbd-socket=%s\n' "$h/db" "$h/run/pwbd.sock" >>"$h/etc/pwb/pwb.conf"
	# single: a host of its own (Berkeley DB), the baseline of bench/cluster
	[ "$role" = single ] || cat >>"$h/etc/pwb/pwb.conf" <<-CONF
	store-backend=postgresql
	store-dsn=$dsn connect_timeout=2
	store-password-file=/etc/pwb/store-password
	cluster-host-name=h$n
	cluster-role=$role
	CONF
	# The namespace: the test's, with this host's files over /etc and the
	# homes. unshare keeps it alive through the bind of $h/mnt.
	unshare --mount="$h/mnt" --propagation private sh -ec '
		h=$1 home=$2
		for f in passwd group shadow; do mount --bind "$h/etc/$f" "/etc/$f"; done
		mount --bind "$h/etc/pam.d" /etc/pam.d
		mount --bind "$h/etc/pwb" /etc/pwb
		mount --bind "$h/home" "$home"' sh "$h" "$PWB_HOME_ROOT" ||
		{ echo "cannot make host $n's namespace" >&2; return 1; }
	pwb_on_cleanup "pwb_host_pwbd_stop $n >/dev/null 2>&1; umount -l '$h/mnt' 2>/dev/null"
	PWB_CLUSTER_HOSTS+=("$n")
	pwb_host_pwbd_start "$n"
}

pwb_host_conf_set() {
	local n=$1 kv conf
	conf=$(pwb_host_dir "$n")/etc/pwb/pwb.conf
	shift
	for kv in "$@"; do
		sed -i "/^${kv%%=*}=/d" "$conf"
		echo "$kv" >>"$conf"
	done
}

pwb_host_pwbd_pid() {
	local f
	f=$(pwb_host_dir "$1")/pwbd.pid
	[ -s "$f" ] && cat "$f"
}

# Starts host N's pwbd and waits until it answers ping (fails after 20 s).
pwb_host_pwbd_start() {
	local n=$1 h pid i
	h=$(pwb_host_dir "$n")
	pid=$(pwb_host_pwbd_pid "$n")
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then return 0; fi
	# shellcheck disable=SC2086 # the wrapper and args are word lists
	pwb_on_host "$n" ${PWB_PWBD_WRAPPER:-} "$PWB_BIN_PWBD" --socket "$h/run/pwbd.sock" \
		--foreground ${PWB_PWBD_ARGS:-} </dev/null >>"$h/pwbd.log" 2>&1 &
	pid=$!
	echo "$pid" >"$h/pwbd.pid"
	for i in $(seq 1 400); do
		if pwb_on_host "$n" "$PWB_PWBD_CALL" ping >/dev/null 2>&1; then return 0; fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "host $n: pwbd did not answer ping (attempt $i); its log:" >&2
	tail -20 "$h/pwbd.log" >&2
	return 1
}

# pwb_host_pwbd_signal N SIG: sends SIG to host N's pwbd and waits until it
# is gone.
pwb_host_pwbd_signal() {
	local h pid
	h=$(pwb_host_dir "$1")
	pid=$(pwb_host_pwbd_pid "$1")
	: >"$h/pwbd.pid"
	[ -n "$pid" ] || return 0
	kill "-$2" "$pid" 2>/dev/null || return 0
	wait "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	return 0
}
pwb_host_pwbd_stop() { pwb_host_pwbd_signal "$1" TERM; }
pwb_host_pwbd_kill() { pwb_host_pwbd_signal "$1" KILL; }

# pwb-scim for host N (spawn-fcgi in its namespace, as the scim-user,
# relaying to its pwbd) behind an nginx of its own (tests/lib/nginx.sh).
pwb_host_scim() {
	local n=$1 h i
	h=$(pwb_host_dir "$n")
	install -o pwb-scim -g pwb-scim -m 0600 /dev/null "$h/run/pwb-scim.log"
	pwb_on_host "$n" spawn-fcgi -s "$h/run/pwb-scim.sock" -M 0660 -u pwb-scim -g pwb-scim \
		-U www-data -G www-data -F "${PWB_SCIM_CHILDREN:-2}" -P "$h/run/pwb-scim.pid" -- \
		/bin/sh -c 'exec "$0" --log-stderr 2>>"$1"' "$PWB_BIN_SCIM" "$h/run/pwb-scim.log" \
		>"$h/run/spawn.log" 2>&1 || { cat "$h/run/spawn.log" >&2; return 1; }
	pwb_on_cleanup "kill \$(cat '$h/run/pwb-scim.pid' 2>/dev/null) 2>/dev/null"
	for i in $(seq 1 50); do
		[ -S "$h/run/pwb-scim.sock" ] && break
		sleep 0.1
	done
	PWB_SCIM_SOCK=$h/run/pwb-scim.sock PWB_TMP=$h pwb_nginx_start || return 1
	PWB_HOST_URL[$n]=$SCIM_URL
}

pwb_cluster_start() {
	local count=${1:-3} n
	pwb_pg_start || { echo "PostgreSQL did not start" >&2; return 1; }
	[ -e "${PWB_STORE_PG_MODULE:-}" ] || { echo "pwb_store_pg.so not built" >&2; return 1; }
	for n in $(seq 1 "$count"); do pwb_cluster_add_host "$n" writer || return 1; done
	pwb_on_host 1 "$PWB_BIN_PWBADM" cluster init --reader-role pwb_reader >"$PWB_TMP/init.out" 2>&1 ||
		{ cat "$PWB_TMP/init.out" >&2; return 1; }
}

pwb_host_login() {
	printf '%s\n' "$4" | pwb_on_host "$1" pamtester -v "$2" "$3" authenticate acct_mgmt setcred \
		open_session close_session 2>&1
}

pwb_host_snapshot() {
	pwb_on_host "$1" getent passwd | sort
	pwb_on_host "$1" getent group | sort
}

# The database's last sequence and what host N applied (pwbadm status on
# that host: its cluster section; see pwbadm(8)).
pwb_cluster_db_seq() {
	pwb_pg_psql "SELECT seq FROM pwb_counter" 2>/dev/null | tr -d ' \n'
}
pwb_host_applied() {
	pwb_on_host "$1" "$PWB_BIN_PWBADM" status --json 2>/dev/null | jq -r '.cluster.applied // empty'
}

pwb_cluster_converge() {
	local cap=${1:-60} start now seq n ok first cur
	shift || :
	local hosts=("${@:-${PWB_CLUSTER_HOSTS[@]}}")
	[ $# -gt 0 ] || hosts=("${PWB_CLUSTER_HOSTS[@]}")
	start=$(date +%s.%N)
	while :; do
		ok=1
		seq=$(pwb_cluster_db_seq)
		first=
		for n in "${hosts[@]}"; do
			if [ -n "$seq" ] && [ "$(pwb_host_applied "$n")" != "$seq" ]; then ok=0; break; fi
			cur=$(pwb_host_snapshot "$n" | cksum)
			[ -n "$first" ] || first=$cur
			[ "$cur" = "$first" ] || { ok=0; break; }
		done
		now=$(date +%s.%N)
		if [ "$ok" = 1 ]; then
			printf '%.2f\n' "$(echo "$now - $start" | bc)"
			return 0
		fi
		if [ "$(echo "$now - $start > $cap" | bc)" = 1 ]; then
			echo "not converged after ${cap}s"
			return 1
		fi
		sleep 0.2
	done
}
