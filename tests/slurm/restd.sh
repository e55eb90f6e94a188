#!/usr/bin/env bash
# restd.sh DIR stop|start|pid
#
# Stop or restart slurmrestd alone in the cluster that start-cluster.sh started in DIR, the
# rest of the cluster (and its jobs) untouched: the fault tests kill the REST API mid-run
# and bring it back on the same port.
#   stop   SIGKILL to the recorded slurmrestd (DIR/run/slurmrestd.pid, checked against the
#          start time in /proc/PID/stat), then waits until it is gone and the port is free
#   start  reruns the command line start-cluster.sh recorded (DIR/run/slurmrestd.args) and
#          waits until the API answers a ping (fails with the log's tail if it does not)
#   pid    prints the pid of the running slurmrestd (exit 1 if none)
set -euo pipefail

log() { printf '[restd] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

DIR=${1:?usage: restd.sh DIR stop|start|pid}
CMD=${2:?usage: restd.sh DIR stop|start|pid}
DIR=$(cd "$DIR" && pwd -P)
RUN=$DIR/run
[ -s "$RUN/slurmrestd.args" ] || die "$RUN/slurmrestd.args missing (not started by this rig's start-cluster.sh?)"
PORT=$(cat "$RUN/slurmrestd.port")
unset SLURM_JWT
export SLURM_CONF=$DIR/slurm.conf

proc_starttime() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null; }
proc_running() {
	local line
	line=$(awk '{ sub(/^.*\) /, ""); print $1, $20 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$line" ] && [ "${line#* }" = "$2" ] && [ "${line%% *}" != Z ] && [ "${line%% *}" != X ]
}
recorded() {
	local pid st
	[ -r "$RUN/slurmrestd.pid" ] || return 1
	read -r pid st <"$RUN/slurmrestd.pid" || return 1
	[ -n "${pid:-}" ] && proc_running "$pid" "$st" || return 1
	echo "$pid $st"
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
user=$(sed -n 's/^export SLURM_USER_NAME=//p' "$DIR/env.sh")
ping_ok() {
	local tok
	tok=$(scontrol token "username=$user" lifespan=300 | sed -n 's/^SLURM_JWT=//p')
	curl -fsS --max-time 5 -H "X-SLURM-USER-NAME: $user" -H "X-SLURM-USER-TOKEN: $tok" \
		"http://127.0.0.1:$PORT/slurm/v0.0.38/ping" | grep -q '"ping": "UP"'
}

case $CMD in
pid)
	r=$(recorded) || exit 1
	echo "${r%% *}"
	;;
stop)
	if r=$(recorded); then
		kill -KILL "${r%% *}"
		for ((i = 0; i < 100; i++)); do
			proc_running ${r} || break
			sleep 0.1
		done
		proc_running ${r} && die "slurmrestd (pid ${r%% *}) still alive"
		log "killed slurmrestd (pid ${r%% *})"
	fi
	rm -f "$RUN/slurmrestd.pid"
	for ((i = 0; i < 100; i++)); do
		port_busy || exit 0
		sleep 0.1
	done
	die "port $PORT still busy after slurmrestd stopped"
	;;
start)
	recorded >/dev/null && die "slurmrestd is running already"
	port_busy && die "127.0.0.1:$PORT is in use"
	eval "args=($(cat "$RUN/slurmrestd.args"))"
	# shellcheck disable=SC2154
	(cd "$DIR/jobs" && exec setsid "${args[@]}" </dev/null >>"$DIR/log/slurmrestd.out" 2>&1) &
	pid=$!
	for ((i = 0; i < 20; i++)); do
		st=$(proc_starttime "$pid") && [ -n "$st" ] && break
		sleep 0.05
	done
	[ -n "${st:-}" ] || die "slurmrestd exited at once: $(tail -5 "$DIR/log/slurmrestd.out")"
	echo "$pid $st" >"$RUN/slurmrestd.pid"
	for ((i = 0; i < 200; i++)); do
		ping_ok 2>/dev/null && { log "slurmrestd restarted (pid $pid) on port $PORT"; exit 0; }
		proc_running "$pid" "$st" || break
		sleep 0.1
	done
	die "slurmrestd did not answer on port $PORT: $(tail -5 "$DIR/log/slurmrestd.out")"
	;;
*) die "unknown command $CMD" ;;
esac
