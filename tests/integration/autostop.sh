#!/usr/bin/env bash
# autostop.sh: a local job on a GPU (the fake NVML library from tests/nvml, loaded through
# GANTRY_NVML_LIB, scripted to report 1% utilisation) is watched by `gantry watch`: its idle
# time is recorded, and after autostop's idle_minutes it is stopped with an event that says
# why and how much it saved; the idle waste shows in `gantry cost`. A notebook on an idle GPU
# whose Jupyter kernel is busy (a stand-in answering /api/kernels) is not stopped.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
watch_pid=
trap 'if [ -n "$watch_pid" ]; then kill "$watch_pid" 2>/dev/null || :; fi; t_cleanup' EXIT

fake=$(cd "$(dirname "$GANTRY_BIN")" && pwd)/tests/nvml/new/libnvidia-ml.so.1
[ -f "$fake" ] || { echo "FAIL - fake NVML library not built: $fake"; exit 1; }
export GANTRY_NVML_LIB=$fake
export FAKE_NVML_SCRIPT=$T_HOME/nvml.script
cat >"$FAKE_NVML_SCRIPT" <<'EOF'
count 2
gpu 0 name NVIDIA H100 80GB HBM3
gpu 0 uuid GPU-11111111-1111-1111-1111-111111111111
gpu 0 util 1
gpu 0 mem 1073741824 85520809984
gpu 0 temp 31
gpu 0 power 71000
gpu 0 limit 700000
gpu 1 name NVIDIA H100 80GB HBM3
gpu 1 uuid GPU-22222222-2222-2222-2222-222222222222
gpu 1 util 2
gpu 1 mem 1073741824 85520809984
gpu 1 temp 32
gpu 1 power 72000
gpu 1 limit 700000
EOF
mkdir -p "$T_HOME/config/templates"
cat >"$T_HOME/config/config.yaml" <<'EOF'
refresh_ms: 500
providers:
  local:
    rate_cpu_hour: 0
    rate_gpu_hour: 3600
EOF
cat >"$T_HOME/config/templates/idle-gpu.yaml" <<'EOF'
name: idle-gpu
kind: training
description: Holds a GPU and does nothing.
resources:
  accelerators: H100:1
autostop:
  idle_minutes: 1
  gpu_util_below: 10
  action: stop
limits:
  max_runtime: 2h
run: sleep 3600
EOF
cat >"$T_HOME/config/templates/busy-notebook.yaml" <<EOF
name: busy-notebook
kind: notebook
description: An idle GPU, but a kernel that is busy (a stand-in for Jupyter's API).
resources:
  accelerators: H100:1
service:
  readiness: /api
  readiness_timeout: 30
autostop:
  idle_minutes: 1
  gpu_util_below: 10
  action: stop
run: exec python3 '$here/../lib/jupyter_standin.py' busy 0
EOF

check "a GPU template fits the host the fake NVML describes" g launch idle-gpu --dry-run
expect_rc 0 "launch the idle GPU job" g launch idle-gpu --name idle1
check "it runs" wait_state idle1 RUNNING 20
expect_rc 0 "launch a notebook whose kernel is busy" g launch busy-notebook --name nb1
check "the notebook runs" wait_state nb1 RUNNING 30
check "both are priced at the site rate (2 GPUs x 3600 \$/GPU-hour)" \
	bash -c 'g show idle1 -o json >/dev/null && g cost -o json | python3 -c "
import json,sys; d=json.load(sys.stdin); assert d[\"burn_usd_per_hour\"] == 7200, d"'

"$GANTRY_BIN" watch >"$T_HOME/watch.out" 2>&1 &
watch_pid=$!
check "autostop stops the idle job within 2 minutes" wait_state idle1 STOPPED 150
kill -TERM "$watch_pid" 2>/dev/null
wait "$watch_pid" 2>/dev/null || :
cat "$T_HOME/watch.out" | sed 's/^/# watch: /' | tail -5
check "the stop event says autostop and why" \
	bash -c "g show idle1 -o json | grep -q 'autostop: .*idle'"
check "and how much it saved (the rest of max_runtime at the job's rate)" \
	bash -c "g show idle1 -o json | grep -Eq 'saves about \\\$[0-9,]+\\.[0-9]{2}'"
check "gantry watch printed it" grep -q "autostop:" "$T_HOME/watch.out"
check "the notebook with a busy kernel is still running" bash -c '[ "$(job_field nb1 state)" = RUNNING ]'
check "autostop asked its kernels" bash -c 'g logs nb1 | grep -q "GET /api/kernels"'
expect_rc 0 "stop the notebook" g stop nb1
check "idle waste is recorded and shown in gantry cost" bash -c 'g cost -o json | python3 -c "
import json,sys; d=json.load(sys.stdin); assert d[\"idle_month_to_date\"] > 0, d"'

t_done
