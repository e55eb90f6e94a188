#!/usr/bin/env bash
# slurm_provider_smoke.sh: the `slurm` provider end to end, quickly: a real single-node Slurm
# (munged, slurmctld, slurmd with 2 fake GPUs, slurmrestd with JWT, on free loopback ports, in
# this test's own directory) and a real sshd as the login node (tests/lib/sshrig.sh), driven
# through the gantry CLI: a GPU training template goes RUNNING then SUCCEEDED with its output
# in `gantry logs`; Slurm's own `scontrol show job` shows the name gantry-ID, the GPU GRES, the
# time limit and the partition; `gantry stop` gives CANCELLED in scontrol and STOPPED here.
# Needs root (slurmd, munged): SKIP (77) otherwise.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
SRC=${GANTRY_SRCDIR:-$(cd "$here/../.." && pwd)}
# the project's copy of the cluster scripts, else the shared recipe they come from
SLURM_SH=$SRC/tests/slurm
[ -f "$SLURM_SH/start-cluster.sh" ] || SLURM_SH=${SLURM_SH_FALLBACK:-/work/shared/slurm}
SDIR=

cleanup() {
	if [ -n "$SDIR" ] && [ -d "$SDIR" ]; then
		bash "$SLURM_SH/stop-cluster.sh" "$SDIR" >/dev/null 2>&1 || :
	fi
	rig_cleanup
	t_cleanup
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then
	if [ "${CI:-}" = true ]; then
		echo "FAIL - a Slurm cluster needs root (slurmd, munged) and CI runs as root" >&2
		exit 1
	fi
	echo "SKIP - a Slurm cluster needs root (slurmd, munged)"
	exit 77
fi
for b in munged slurmctld slurmd slurmrestd scontrol /usr/sbin/sshd; do
	command -v "$b" >/dev/null || {
		echo "FAIL - $b is missing (apt-get install munge slurmctld slurmd slurm-client slurmrestd slurm-wlm-jwt-plugin openssh-server)"
		exit 1
	}
done
[ -f "$SLURM_SH/start-cluster.sh" ] || {
	echo "FAIL - no start-cluster.sh (tests/slurm or $SLURM_SH)"
	exit 1
}

# the login node: one loopback sshd (127.0.0.2); its config.yaml is replaced below
rig_workers 1 0
read -r P1 P2 P3 < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
chmod 0711 "$T_HOME" # slurmrestd (its own user) reads slurm.conf below it
SDIR=$T_HOME/slurm
env_lines=$(SLURMRESTD_PORT=$P1 SLURMCTLD_PORT=$P2 SLURMD_PORT=$P3 SLURM_CI_GPUS=2 \
	SLURM_CI_SKIP_INSTALL=1 bash "$SLURM_SH/start-cluster.sh" "$SDIR" 2>"$T_HOME/slurm-start.log") || {
	echo "FAIL - the Slurm cluster did not start:"
	tail -n 30 "$T_HOME/slurm-start.log"
	exit 1
}
eval "$env_lines"
(umask 077 && printf '%s\n' "$SLURM_JWT" >"$T_HOME/jwt")
unset SLURM_JWT # scontrol below: munge, as root
mkdir -p "$RIG_DIR/login" "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/config.yaml" <<EOF2
refresh_ms: 300
providers:
  hpc:
    type: slurm
    url: $SLURM_REST_URL
    user: root
    token_file: $T_HOME/jwt
    partition: $SLURM_PARTITION
    login: 127.0.0.2
    ssh_user: root
    ssh_port: $RIG_PORT
    ssh_key: $RIG_KEY
    known_hosts: $RIG_KNOWN_HOSTS
    dir: $RIG_DIR/login
    rate_gpu_hour: 2.0
    poll_interval: 1s
EOF2
cat >"$GANTRY_HOME/config/templates/smoke-train.yaml" <<'EOF2'
name: smoke-train
kind: training
description: one GPU, prints where it runs, a few seconds
params:
  secs:
    type: int
    default: 4
resources:
  accelerators: any:1
  cpus: 1
  memory: 1
limits:
  max_runtime: 5m
run: |
  echo "smoke-marker job=$GANTRY_JOB_ID gpus=$CUDA_VISIBLE_DEVICES n=$GANTRY_GPUS"
  sleep {{secs}}
  echo "smoke-done"
EOF2

# ---- launch, RUNNING, SUCCEEDED, logs
expect_rc 0 "launch a GPU training template on the cluster" g launch smoke-train --provider hpc
check "the launch reports RUNNING once Slurm runs it" grep -q RUNNING "$T_HOME/out"
id=$(job_field smoke-train-1 id)
sid=$(g show smoke-train-1 -o json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("provider_ref") or "")')
check "the job's ref is its Slurm job id ($sid)" test -n "$sid"
check "gantry ls shows it RUNNING" bash -c "g ls | grep -q 'smoke-train-1 .*RUNNING'"
check "it ends SUCCEEDED" wait_state smoke-train-1 SUCCEEDED 60
g logs smoke-train-1 >"$T_HOME/log" 2>&1 || :
check "gantry logs has its output (the batch job's job.log on the login node)" \
	grep -q "smoke-marker job=$id gpus=0 n=1" "$T_HOME/log"
check "... to the end" grep -q smoke-done "$T_HOME/log"

# ---- Slurm's own view of it
scontrol show job "$sid" >"$T_HOME/sj" 2>&1 || :
check "scontrol: name gantry-$id" grep -q "JobName=gantry-$id" "$T_HOME/sj"
check "scontrol: one GPU per node" grep -q "TresPerNode=gres:gpu:1" "$T_HOME/sj"
check "scontrol: time limit from limits.max_runtime (5 min)" grep -q "TimeLimit=00:05:00" "$T_HOME/sj"
check "scontrol: partition $SLURM_PARTITION" grep -q "Partition=$SLURM_PARTITION" "$T_HOME/sj"
check "scontrol: COMPLETED" grep -q "JobState=COMPLETED" "$T_HOME/sj"
check "scontrol: Gantry's labels in the comment" grep -q "Comment=gantry:1 job=$id attempt=1" "$T_HOME/sj"
check "the job's env file on the login node is 0600" \
	test "$(stat -c %a "$RIG_DIR/login/jobs/$id/env")" = 600

# ---- a service: the port it picked on its node reaches the status once it runs
cat >"$GANTRY_HOME/config/templates/smoke-svc.yaml" <<'EOF2'
name: smoke-svc
kind: endpoint
description: an HTTP server on the port Gantry picks
resources:
  accelerators: none
  cpus: 1
  memory: 1
ports: [8080]
limits:
  max_runtime: 5m
run: |
  echo "serving on $GANTRY_PORT"
  exec python3 -m http.server --bind 127.0.0.1 "$GANTRY_PORT"
EOF2
expect_rc 0 "launch a service" g launch smoke-svc --provider hpc
jid3=$(job_field smoke-svc-1 id)
port_known() { [ -s "$RIG_DIR/login/jobs/$jid3/port" ] && [ "$(job_field smoke-svc-1 port)" = "$(cat "$RIG_DIR/login/jobs/$jid3/port")" ]; }
g ls >/dev/null 2>&1 || :
check "its port (picked on the node, DIR/jobs/ID/port) is the job's port" wait_for 20 port_known
expect_rc 0 "stop it" g stop smoke-svc-1

# ---- stop: CANCELLED in Slurm, STOPPED here
expect_rc 0 "launch a long one" g launch smoke-train --provider hpc --set secs=300
sid2=$(g show smoke-train-2 -o json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("provider_ref") or "")')
expect_rc 0 "gantry stop" g stop smoke-train-2
check "it is STOPPED" wait_state smoke-train-2 STOPPED 30
check "scontrol: CANCELLED" bash -c "scontrol show job $sid2 | grep -q JobState=CANCELLED"

# ---- a job that waits: its pending reason, and a stop while it waits
sed -e 's/any:1/any:2/' -e 's/^name: smoke-train$/name: smoke-full/' \
	"$GANTRY_HOME/config/templates/smoke-train.yaml" >"$GANTRY_HOME/config/templates/smoke-full.yaml"
expect_rc 0 "launch a job holding both GPUs" g launch smoke-full --provider hpc --set secs=300
expect_rc 0 "launch a second one (it queues)" g launch smoke-full --provider hpc --set secs=5 --detach
pending_res() { [ "$(job_field smoke-full-2 state)" = STARTING ] && [ "$(job_field smoke-full-2 reason)" = "pending: Resources" ]; }
check "the queued one is STARTING with Slurm's reason 'pending: Resources'" wait_for 20 pending_res
sid4=$(g show smoke-full-2 -o json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("provider_ref") or "")')
expect_rc 0 "stop the queued one (a pending job takes no signal: cancelled at once)" g stop smoke-full-2
check "it is STOPPED" wait_state smoke-full-2 STOPPED 10
check "scontrol: the queued one CANCELLED" bash -c "scontrol show job $sid4 | grep -q JobState=CANCELLED"
expect_rc 0 "stop the one holding the GPUs" g stop smoke-full-1

# ---- killed after the submit, before the store heard of it: reconcile adopts the labelled
# job (never a second submit), and so does a launch of the same job and attempt
rc=0
GANTRY_TEST_CRASH=after_provider g launch smoke-train --provider hpc --name crashed --set secs=1 \
	>"$T_HOME/out" 2>&1 || rc=$?
check "the launch was killed after the provider answered (rc $rc)" test "$rc" = 137
cid=$(job_field crashed id)
# it ends before the reconcile: adopted all the same, with its true end
crash_done() { squeue -h -a -t all -o '%j %T' | grep -q "^gantry-$cid COMPLETED"; }
check "Slurm: it ran and COMPLETED meanwhile" wait_for 30 crash_done
n_sub() { squeue -h -a -t all -o '%j' | grep -c "^gantry-$cid\$" || :; }
check "Slurm has its job (gantry-$cid)" test "$(n_sub)" = 1
expect_rc 0 "gantry reconcile" g reconcile
check "reconcile adopted it: the store knows its Slurm job" bash -c '[ -n "$(g show crashed -o json | python3 -c "import json,sys; print(json.load(sys.stdin).get(\"provider_ref\") or \"\")")" ]'
check "it ends SUCCEEDED" wait_state crashed SUCCEEDED 60
check "one Slurm job for it, never two" test "$(n_sub)" = 1

# ---- the cluster's nodes in gantry hosts (from the partitions/nodes cache)
g hosts -o json >"$T_HOME/hosts" 2>&1 || :
check "gantry hosts lists the node $SLURM_NODE_NAME with its 2 GPUs" python3 -c '
import json, sys
h = [x for x in json.load(open(sys.argv[1])) if x["name"] == sys.argv[2]]
sys.exit(0 if h and h[0]["gpus_total"] == 2 and h[0]["reachable"] else 1)' "$T_HOME/hosts" "$SLURM_NODE_NAME"
expect_rc 0 "gantry reconcile with the slurm provider" g reconcile

# ---- reconcile: a labelled job of this installation the store never heard of is an orphan;
# another installation's job is never touched
inst=$(sed -n 's/.*Comment=gantry:1 .* inst=\([0-9a-f]*\).*/\1/p' "$T_HOME/sj")
check "the installation id is in the comment ($inst)" test -n "$inst"
orph=$(sbatch --parsable -J gantry-jdeadbeef00000001 -o /dev/null -p "$SLURM_PARTITION" \
	--comment "gantry:1 job=jdeadbeef00000001 attempt=1 owner=root team=- inst=$inst" --wrap 'sleep 300')
other=$(sbatch --parsable -J gantry-jdeadbeef00000002 -o /dev/null -p "$SLURM_PARTITION" \
	--comment "gantry:1 job=jdeadbeef00000002 attempt=1 owner=root team=- inst=0123456789abcdef" --wrap 'sleep 300')
g reconcile >"$T_HOME/rec" 2>&1 || :
check "reconcile reports the orphan (Slurm job $orph)" grep -q "orphan kept: hpc $orph" "$T_HOME/rec"
check "... and not the other installation's job" bash -c "! grep -q 'hpc $other\$' '$T_HOME/rec'"
g reconcile --terminate-orphans >"$T_HOME/rec" 2>&1 || :
check "reconcile --terminate-orphans removes it" grep -q "removed 1 orphan" "$T_HOME/rec"
orph_cancelled() { scontrol show job "$orph" | grep -q JobState=CANCELLED; }
check "scontrol: the orphan CANCELLED ($(scontrol show job "$orph" | grep -o 'JobState=[A-Z]*'))" \
	wait_for 10 orph_cancelled
check "scontrol: the other installation's job untouched" bash -c "scontrol show job $other | grep -Eq 'JobState=(RUNNING|PENDING)'"
scancel "$other" 2>/dev/null || :

# ---- settings are checked with their position
sed -i 's/^    poll_interval: 1s$/    poll_intervall: 1s/' "$GANTRY_HOME/config/config.yaml"
expect_rc 4 "a misspelt slurm setting fails the config" g ls
check "... with FILE:LINE:COL and the setting" grep -q 'config.yaml:[0-9]*:[0-9]*: poll_intervall: unknown setting' "$T_HOME/err"

t_done
