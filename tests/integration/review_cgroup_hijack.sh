#!/usr/bin/env bash
# A job runs as the user and can write its own job directory: it points its `cgroup` file at
# another job's cgroup and kills its supervisor. `gantry stop` of that job
# must not signal the other job's cgroup (only a cgroup named for the job itself is used).
. "$(dirname "$0")/../lib/common.sh"

cg_cleanup() {
	local f
	for f in "$T_HOME"/state/jobs/*/cgroup; do
		[ -s "$f" ] && [ -d "$(cat "$f")" ] || continue
		echo 1 >"$(cat "$f")/cgroup.kill" 2>/dev/null || :
	done
	t_cleanup
}
trap cg_cleanup EXIT

mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/sleeper.yaml" <<'YAML'
name: sleeper
kind: training
description: sleeps
run: exec sleep 1000
YAML

expect_rc 0 "launch the victim" g launch sleeper --name victim
expect_rc 0 "launch the hijacker" g launch sleeper --name hijack
check "victim RUNNING" wait_state victim RUNNING 30
check "hijack RUNNING" wait_state hijack RUNNING 30
vdir=$T_HOME/state/jobs/$(job_field victim id)
hdir=$T_HOME/state/jobs/$(job_field hijack id)
if [ ! -s "$vdir/cgroup" ] || [ ! -s "$hdir/cgroup" ]; then
	echo "# SKIP: no cgroup2 job cgroups here"
	exit 77
fi
vcg=$(cat "$vdir/cgroup")
vpg=$(cut -d' ' -f1 "$vdir/pid")
# what the hijacking job does from inside: its cgroup file names the victim's, and its
# supervisor (which holds the true cgroup in memory) is killed
printf '%s\n' "$vcg" >"$hdir/cgroup.tmp"
mv "$hdir/cgroup.tmp" "$hdir/cgroup"
hsup=$(cut -d' ' -f1 "$hdir/supervisor.pid")
kill -KILL "$hsup"
for ((i = 0; i < 100; i++)); do kill -0 "$hsup" 2>/dev/null || break; sleep 0.1; done
expect_rc 0 "stop the hijacker" g stop hijack
check "the victim's process group is alive" kill -0 -- "-$vpg"
check "the victim's cgroup still holds it" grep -qx "populated 1" "$vcg/cgroup.events"
check "the victim is still RUNNING" bash -c '[ "$(job_field victim state)" = RUNNING ]'
t_done
