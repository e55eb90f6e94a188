#!/usr/bin/env bash
# A job runs as the user and can write its own job directory: it points its `pid` file at
# another process group of the user's and its `supervisor.pid` at another process (each
# with the right start time, read from /proc), and kills its real supervisor. `gantry stop`
# of that job must signal neither: a pid file is believed only for a process of this job.
. "$(dirname "$0")/../lib/common.sh"

# alive PID: the process exists and is not a zombie (our children are reaped by bash later)
alive() {
	local s
	s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$s" ] && [ "$s" != Z ]
}
starttime() { sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f20; }
setsid sleep 1000 </dev/null >/dev/null 2>&1 &
grp=$!
sleep 1000 </dev/null >/dev/null 2>&1 &
other=$!
pid_cleanup() {
	kill -KILL "$grp" "$other" 2>/dev/null || :
	local f
	for f in "$T_HOME"/state/jobs/*/cgroup; do
		[ -s "$f" ] && [ -d "$(cat "$f")" ] || continue
		echo 1 >"$(cat "$f")/cgroup.kill" 2>/dev/null || :
	done
	t_cleanup
}
trap pid_cleanup EXIT

mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/sleeper.yaml" <<'YAML'
name: sleeper
kind: training
description: sleeps
run: exec sleep 1000
YAML

for ((i = 0; i < 100; i++)); do [ "$(ps -o pgid= -p "$grp" | tr -d ' ')" = "$grp" ] && break; sleep 0.1; done
check "the other process group leads itself" test "$(ps -o pgid= -p "$grp" | tr -d ' ')" = "$grp"
expect_rc 0 "launch the hijacker" g launch sleeper --name hijack
check "hijack RUNNING" wait_state hijack RUNNING 30
hdir=$T_HOME/state/jobs/$(job_field hijack id)
hsup=$(cut -d' ' -f1 "$hdir/supervisor.pid")
echo "$grp $(starttime "$grp")" >"$hdir/pid.tmp"
mv "$hdir/pid.tmp" "$hdir/pid"
echo "$other $(starttime "$other")" >"$hdir/supervisor.pid.tmp"
mv "$hdir/supervisor.pid.tmp" "$hdir/supervisor.pid"
kill -KILL "$hsup"
for ((i = 0; i < 100; i++)); do kill -0 "$hsup" 2>/dev/null || break; sleep 0.1; done
expect_rc 0 "stop the hijacker" g stop hijack
check "the process group named in pid is alive" alive "$grp"
check "the process named in supervisor.pid is alive" alive "$other"
t_done
