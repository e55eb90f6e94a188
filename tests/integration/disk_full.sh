#!/usr/bin/env bash
# A full disk under GANTRY_HOME: commands say so plainly, a job that ends meanwhile keeps its
# real outcome (its supervisor writes `exit` once space returns), and a --wait that times out
# never exits 0. Needs root (it mounts a small tmpfs).
. "$(dirname "$0")/../lib/common.sh"

if [ "$(id -u)" != 0 ]; then
	echo "# not root: cannot mount a tmpfs; skipped"
	exit 77
fi
FULL=$T_HOME/full
mkdir "$FULL"
mount -t tmpfs -o size=4m,mode=0700 tmpfs "$FULL"
full_cleanup() {
	local f
	for f in "$FULL"/state/jobs/*/pid "$FULL"/state/jobs/*/supervisor.pid; do
		[ -f "$f" ] || continue
		kill -KILL -- "-$(cut -d' ' -f1 "$f")" 2>/dev/null || :
		kill -KILL "$(cut -d' ' -f1 "$f")" 2>/dev/null || :
	done
	umount "$FULL" 2>/dev/null || umount -l "$FULL" || :
	t_cleanup
}
trap full_cleanup EXIT
export GANTRY_HOME=$FULL

mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/waiter.yaml" <<'YAML'
name: waiter
kind: training
description: ends (status 0) once a file exists
params:
  go: {type: string, default: /nonexistent}
run: while [ ! -e {{go}} ]; do sleep 0.1; done; exit 0
YAML

# --wait that gives up: exit 5, never 0
expect_rc 5 "launch --wait --timeout 2 of a job still running exits 5" g launch waiter --wait --timeout 2
check "it says it gave up" grep -q "still RUNNING after 2 s" "$T_HOME/err"
expect_rc 0 "stop it" g stop waiter-1

expect_rc 0 "launch waiter" g launch waiter --set "go=$T_HOME/go"
id=$(job_field waiter-2 id)
dir=$FULL/state/jobs/$id
sup=$(cut -d' ' -f1 "$dir/supervisor.pid")
job=$(cut -d' ' -f1 "$dir/pid")

# fill the disk
check "the disk fills up" bash -c "! head -c 64M /dev/zero >'$FULL/filler' 2>/dev/null"
check "no space is left" python3 -c "import os,sys; sys.exit(0 if os.statvfs(sys.argv[1]).f_bavail == 0 else 1)" "$FULL"
expect_rc 4 "gantry ls on a full disk fails" g ls
check "and says the disk is full, naming the path" grep -q "no space left on device: $FULL/state/gantry.db" "$T_HOME/err"

# the job ends (status 0) while nothing can be written
touch "$T_HOME/go"
check "the job's process ended" bash -c "for i in \$(seq 100); do pgroup_gone $job && exit 0; sleep 0.1; done; exit 1"
check "its supervisor stays to record the outcome (3 s)" bash -c "for i in \$(seq 30); do kill -0 $sup || exit 1; sleep 0.1; done"
check "no exit file could be written yet" test ! -e "$dir/exit"

# space returns: the real outcome is recorded
rm -f "$FULL/filler"
check "waiter-2 SUCCEEDED once space returned" wait_state waiter-2 SUCCEEDED 60
check "with exit code 0" bash -c '[ "$(job_field waiter-2 exit_code)" = 0 ]'
check "the supervisor says it waited for space" grep -q "wrote exit after waiting" "$dir/supervisor.log"
check "no FAILED on the way" bash -c "! g show waiter-2 | grep -q FAILED"
t_done
