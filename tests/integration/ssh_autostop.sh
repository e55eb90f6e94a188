#!/usr/bin/env bash
# ssh_autostop.sh: autostop for notebooks on the `ssh` provider. Their Jupyter listens on the
# worker's loopback, so `gantry watch` asks /api/kernels through the provider's SSH session
# to that worker. On idle GPUs (the fake nvidia-smi with FAKE_GPU_BUSY=none), a notebook
# whose kernel is idle since long ago is stopped with an autostop event; one whose kernel is
# busy keeps running; both stand-ins log that they were asked. A third, whose Jupyter takes
# the request and never answers, is not stopped on a guess and does not make its worker look
# unreachable.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
watch_pid=
trap 'if [ -n "$watch_pid" ]; then kill "$watch_pid" 2>/dev/null || :; fi; rig_cleanup; t_cleanup' EXIT

RIG_SETENV="FAKE_GPU_BUSY=none" rig_workers 1 3
mkdir -p "$T_HOME/config/templates"
# stand-in NAME STATE LAST_ACTIVITY_AGE_S: a notebook template running tests/lib/
# jupyter_standin.py on the worker (this machine): /api for readiness, /api/kernels with one
# kernel in STATE, last active that long ago ("hang": never answers).
stand_in() {
	cat >"$T_HOME/config/templates/$1.yaml" <<EOF
name: $1
kind: notebook
description: A stand-in for Jupyter's API on the worker (kernel $2).
resources:
  accelerators: H100:1
placement:
  providers: [fleet]
service:
  readiness: /api
  readiness_timeout: 30
autostop:
  idle_minutes: 1
  gpu_util_below: 10
  action: stop
run: exec python3 '$here/../lib/jupyter_standin.py' $2 $3
EOF
}
stand_in nb-idle idle 3600
stand_in nb-busy busy 0
stand_in nb-hang hang 3600

expect_rc 0 "launch a notebook with an idle kernel on the fleet" g launch nb-idle --name idle1
expect_rc 0 "launch a notebook with a busy kernel on the fleet" g launch nb-busy --name busy1
check "idle1 runs" wait_state idle1 RUNNING 40
check "busy1 runs" wait_state busy1 RUNNING 40
expect_rc 0 "launch a notebook whose Jupyter hangs on /api/kernels" g launch nb-hang --name hang1
check "hang1 runs" wait_state hang1 RUNNING 40
check "both run on the fleet" bash -c '[ "$(job_field idle1 provider)" = fleet ] && [ "$(job_field busy1 provider)" = fleet ]'

"$GANTRY_BIN" watch >"$T_HOME/watch.out" 2>&1 &
watch_pid=$!
check "autostop stops the notebook whose kernel is idle" wait_state idle1 STOPPED 150
check "the notebook whose kernel is busy still runs" bash -c '[ "$(job_field busy1 state)" = RUNNING ]'
check "the notebook whose Jupyter hangs still runs" bash -c '[ "$(job_field hang1 state)" = RUNNING ]'
check "hang1's Jupyter was asked" bash -c 'g logs hang1 | grep -q "GET /api/kernels (hanging)"'
# every 10 s it would be 6 or more times in the minute or more the watch ran; backing off
# (10, 20, 40 s ...) it is at most 4 times in 140 s
asked=$(g logs hang1 | grep -c "GET /api/kernels (hanging)" || :)
check "a Jupyter that does not answer is asked less and less often ($asked times)" \
	bash -c '[ "$1" -ge 2 ] && [ "$1" -le 4 ]' _ "$asked"
kill -TERM "$watch_pid" 2>/dev/null
wait "$watch_pid" 2>/dev/null || :
watch_pid=
sed 's/^/# watch: /' "$T_HOME/watch.out" | tail -5
check "its worker never looked unreachable to the watch (no job went UNKNOWN)" \
	bash -c '! grep -E "(unreachable|-> UNKNOWN)" "$1"' _ "$T_HOME/watch.out"
check "the stop event says autostop and idle" bash -c "g show idle1 -o json | grep -q 'autostop: .*idle'"
check "idle1's Jupyter was asked for its kernels over SSH" bash -c 'g logs idle1 | grep -q "GET /api/kernels"'
check "busy1's Jupyter was asked too" bash -c 'g logs busy1 | grep -q "GET /api/kernels"'
expect_rc 0 "stop busy1" g stop busy1
expect_rc 0 "stop hang1" g stop hang1
t_done
