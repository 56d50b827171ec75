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
#   ns.pid             the process holding its mount namespace (nsenter -t):
#                      a copy of the test's namespace with the files above
#                      bound over /etc/pwb, /etc/pam.d, /etc/passwd, ... and
#                      home over $PWB_HOME_ROOT. NSS, PAM, pwbadm, pwbd and
#                      pwb-scim run in it see only that host.
# /dev (tests/lib/syslog.sh's capture) and the nscd socket's tmpfs are
# inherited: capture syslog before pwb_cluster_add_host to see every host.
#
#   pwb_cluster_start [N]       PostgreSQL (tests/lib/pg.sh), host 1, `pwbadm
#                               cluster init --reader-role pwb_reader` there,
#                               then hosts 2..N (default 3), all writers
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
#                               host (default: all but single ones) has
#                               applied the highest sequence any of them
#                               saw and shows the same getent; prints the
#                               seconds it took (never asserted)
#   pwb_cluster_requests FILE PAR OUT
#                               SCIM requests spread over the hosts, PAR at
#                               a time, retried on 503 as an IdP does
# Hosts' pwbd logs: $PWB_TMP/hN/pwbd.log.

PWB_CLUSTER_HOSTS=()
declare -A PWB_HOST_URL=()

# The PostgreSQL backend object of the build tree (only pwbd loads it).
export PWB_STORE_PG_MODULE=${PWB_STORE_PG_MODULE:-$PWB_TEST_BUILDDIR/lib/.libs/pwb_store_pg.so}

pwb_host_dir() { echo "$PWB_TMP/h$1"; }

pwb_on_host() {
	local n=$1
	shift
	nsenter -t "$(cat "$PWB_TMP/h$n/ns.pid")" -m -- "$@"
}

pwb_cluster_add_host() {
	local n=$1 role=${2:-writer} h f i dsn=${PWB_PG_DSN_WRITER:-} pwfile=${PWB_PG_PW_WRITER:-}
	h=$(pwb_host_dir "$n")
	mkdir -p "$h/etc/pwb" "$h/etc/pam.d" "$h/home" "$h/db" "$h/run"
	chmod 0755 "$h" "$h/run" "$h/home"
	touch "$h/pwbd.log"
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
	# homes, held by a process that only sleeps (nsenter -t joins it).
	: >"$h/ready"
	unshare -m --propagation private sh -c '
		h=$1 home=$2
		for f in passwd group shadow; do mount --bind "$h/etc/$f" "/etc/$f"; done &&
			mount --bind "$h/etc/pam.d" /etc/pam.d && mount --bind "$h/etc/pwb" /etc/pwb &&
			mount --bind "$h/home" "$home" && echo "$$" >"$h/ready" || exit 1
		exec sleep infinity' sh "$h" "$PWB_HOME_ROOT" </dev/null >/dev/null 2>&1 &
	pwb_on_cleanup "pwb_host_pwbd_stop $n >/dev/null 2>&1; kill $! 2>/dev/null"
	for i in $(seq 1 100); do
		[ -s "$h/ready" ] && break
		kill -0 $! 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$h/ready" ] || { echo "cannot make host $n's namespace" >&2; return 1; }
	mv "$h/ready" "$h/ns.pid"
	[ "$role" = single ] || PWB_CLUSTER_HOSTS+=("$n")
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
	# (nsenter itself, not pwb_on_host: $! must be pwbd's pid, not a subshell's)
	# shellcheck disable=SC2086 # the wrapper and args are word lists
	nsenter -t "$(cat "$h/ns.pid")" -m -- ${PWB_PWBD_WRAPPER:-} "$PWB_BIN_PWBD" \
		--socket "$h/run/pwbd.sock" --foreground ${PWB_PWBD_ARGS:-} </dev/null >>"$h/pwbd.log" 2>&1 &
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
	[ -e "$PWB_STORE_PG_MODULE" ] || { echo "$PWB_STORE_PG_MODULE not built" >&2; return 1; }
	# the schema first (on h1), then the other hosts join: a full copy each
	pwb_cluster_add_host 1 writer || return 1
	pwb_on_host 1 "$PWB_BIN_PWBADM" cluster init --reader-role pwb_reader >"$PWB_TMP/init.out" 2>&1 ||
		{ cat "$PWB_TMP/init.out" >&2; return 1; }
	for n in $(seq 2 "$count"); do pwb_cluster_add_host "$n" writer || return 1; done
}

pwb_host_login() {
	printf '%s\n' "$4" | pwb_on_host "$1" pamtester -v "$2" "$3" authenticate acct_mgmt setcred \
		open_session close_session 2>&1
}

pwb_host_snapshot() {
	pwb_on_host "$1" getent passwd | sort
	pwb_on_host "$1" getent group | sort
}

# Host N's cluster state (op cluster.status, as `pwbadm cluster status
# --json` prints it): "APPLIED DB_SEQ", DB_SEQ as of its last contact.
pwb_host_seqs() {
	pwb_on_host "$1" "$PWB_PWBD_CALL" cluster.status '{}' 2>/dev/null |
		jq -r '"\(.applied // "") \(.db_seq // "")"'
}
# pwb_wait_for CAP CMD...: runs CMD (quietly) every 0.1 s until it
# succeeds; fails after CAP seconds.
pwb_wait_for() {
	local cap=$1 i
	shift
	for ((i = 0; i < cap * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

pwb_cluster_converge() {
	local cap=${1:-60} start now n ok first cur top seqs
	shift || :
	local hosts=("$@")
	[ $# -gt 0 ] || hosts=("${PWB_CLUSTER_HOSTS[@]}")
	start=$(date +%s.%N)
	while :; do
		# every host applied the highest sequence any of them saw...
		ok=1 top=0 first=
		: >"$PWB_TMP/converge.seqs"
		for n in "${hosts[@]}"; do pwb_host_seqs "$n" >>"$PWB_TMP/converge.seqs"; done
		top=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$PWB_TMP/converge.seqs")
		seqs=$(awk -v t="$top" '$1 != t' "$PWB_TMP/converge.seqs")
		[ -z "$seqs" ] || ok=0
		# ... and NSS shows the same on every host
		for n in "${hosts[@]}"; do
			[ "$ok" = 1 ] || break
			cur=$(pwb_host_snapshot "$n" | cksum)
			[ -n "$first" ] || first=$cur
			[ "$cur" = "$first" ] || ok=0
		done
		now=$(date +%s.%N)
		if [ "$ok" = 1 ]; then
			printf '%.2f\n' "$(echo "$now - $start" | bc)"
			return 0
		fi
		if [ "$(echo "$now - $start > $cap" | bc)" = 1 ]; then
			echo "not converged after ${cap}s (applied, db_seq per host: $(tr '\n' ' ' <"$PWB_TMP/converge.seqs"))"
			return 1
		fi
		sleep 0.2
	done
}

# ---- load: SCIM requests spread over the hosts ----

# pwb_cluster_requests FILE PAR OUT: sends the requests of FILE, one a line
# "HOST<TAB>METHOD<TAB>PATH<TAB>BODY" (BODY may be empty), PAR at a time,
# with the bearer token $PWB_CLUSTER_TOKEN to host HOST's nginx. A 503
# (the database away: Retry-After) or no answer at all is retried, as an
# IdP's provisioning client does, until a final status (at most
# $PWB_CLUSTER_RETRY_CAP tries, default 300, 0.3 s apart). OUT gets one
# line per request: "LINE<TAB>STATUS<TAB>RETRIES<TAB>ID<TAB>USERNAME<TAB>UID<TAB>DETAIL"
# in no particular order; $OUT.503 counts 503s that carried Retry-After.
pwb_cluster_requests() {
	local file=$1 par=$2 out=$3 w pids=()
	for ((w = 0; w < par; w++)); do
		awk -v w="$w" -v p="$par" '(NR - 1) % p == w { print NR "\t" $0 }' "$file" |
			pwb_cluster_worker "$out.w$w" >"$out.o$w" &
		pids+=($!)
	done
	wait "${pids[@]}"
	cat "$out".o* >"$out"
	cat "$out".w*.ra 2>/dev/null | wc -l >"$out.503"
	rm -f "$out".o* "$out".w*
}

pwb_cluster_worker() {
	local tmp=$1 idx n method path body status tries args
	while IFS=$'\t' read -r idx n method path body; do
		tries=0
		while :; do
			args=(-s -X "$method" -o "$tmp.b" -D "$tmp.h" -w '%{http_code}' --max-time 60
				-H "Authorization: Bearer $PWB_CLUSTER_TOKEN")
			[ -z "$body" ] || args+=(-H 'Content-Type: application/scim+json' --data-binary "$body")
			status=$(curl "${args[@]}" "${PWB_HOST_URL[$n]}$path" 2>/dev/null) || status=000
			case $status in
			503 | 000)
				if [ "$status" = 503 ] && grep -qi '^retry-after:' "$tmp.h"; then echo >>"$tmp.ra"; fi
				tries=$((tries + 1))
				[ "$tries" -lt "${PWB_CLUSTER_RETRY_CAP:-300}" ] || break
				sleep 0.3
				continue
				;;
			esac
			break
		done
		printf '%s\t%s\t%s\t%s\n' "$idx" "$status" "$tries" "$(jq -r \
			'[.id // "", .userName // "", (."urn:pwb:params:scim:schemas:extension:posix:1.0:User".uidNumber // "" | tostring), .detail // ""] | @tsv' \
			"$tmp.b" 2>/dev/null)"
	done
}
