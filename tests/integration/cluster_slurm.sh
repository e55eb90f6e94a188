#!/usr/bin/env bash
# cluster_slurm.sh: `gantry cluster` on a real Slurm (tests/lib/slurmrig.sh: one node with 2
# GPUs behind slurmrestd), checked against Slurm's own clients: the partition and the node
# with GPUs 0/2; a job holding both GPUs shows 2/2 allocated and the node busy, a second one
# waits: 1 running and 1 pending, as squeue counts them; a drained node's reason (with an
# escape sequence) is sanitised in the table; with slurmrestd killed the error
# line names it and the exit is 1 when nothing is known.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
. "$here/../lib/slurmrig.sh"
trap 'slurm_rig_cleanup; t_cleanup' EXIT

slurm_rig_start 2
# the nodes and partitions cache every second (the default is 30 s)
slurm_rig_config "offers_refresh: 1s"

cluster_json() {
	g cluster hpc -o json | python3 -c '
import json, sys
c = json.load(sys.stdin)
n = {x["name"]: x for x in c["nodes"]}
p = {x["name"]: x for x in c["partitions"]}
'"$1"
}
export -f cluster_json
export SLURM_PARTITION SLURM_NODE_NAME

expect_rc 0 "gantry cluster hpc on an idle cluster" g cluster hpc
out=$(cat "$T_HOME/out")
printf '%s\n' "$out" | sed 's/^/# /'
check "the partition: default, up, 1 node, GPUs 0/2" \
	bash -c "printf '%s\n' \"\$1\" | grep -Eq '^$SLURM_PARTITION\* +up +1 +0/2 '" _ "$out"
check "the node: idle, in the partition, GPUs 0/2" \
	bash -c "printf '%s\n' \"\$1\" | grep -Eq '^$SLURM_NODE_NAME +idle +$SLURM_PARTITION +0/2 '" _ "$out"
check "-o json agrees with sinfo (CPUs, state)" cluster_json '
import os, subprocess
node = os.environ["SLURM_NODE_NAME"]
cpus = int(subprocess.check_output(["sinfo", "-h", "-N", "-n", node, "-o", "%c"]).split()[0])
assert n[node]["cpus_total"] == cpus and n[node]["state"] == "idle", (n, cpus)
assert n[node]["gpus_total"] == 2 and n[node]["gpus_alloc"] == 0, n
assert c["error"] is None and c["as_of_ms"] > 0, c
'

expect_rc 0 "launch a job on both GPUs" g launch slurm-full --detach --name full1 --set secs=600
check "full1 reaches RUNNING" wait_state full1 RUNNING 60
expect_rc 0 "launch a second one (it must wait)" g launch slurm-full --detach --name full2 --set secs=600
check "squeue: 1 running, 1 pending" wait_for 30 bash -c \
	'[ "$(squeue -h -t R | wc -l)" = 1 ] && [ "$(squeue -h -t PD | wc -l)" = 1 ]'
check "-o json: GPUs 2/2 on the node and the partition, 1 running and 1 pending" wait_for 30 cluster_json '
import os
node, part = os.environ["SLURM_NODE_NAME"], os.environ["SLURM_PARTITION"]
assert n[node]["gpus_alloc"] == 2 and n[node]["state"] in ("mixed", "allocated"), n
assert p[part]["gpus_alloc"] == 2 and p[part]["gpus_total"] == 2, p
assert c["jobs_running"] == 1 and c["jobs_pending"] == 1, c
assert p[part]["jobs_running"] == 1 and p[part]["jobs_pending"] == 1, p
'
out=$(g cluster hpc)
printf '%s\n' "$out" | sed 's/^/# /'
check "the table: 1 running, 1 pending; GPUs 2/2" \
	bash -c "printf '%s\n' \"\$1\" | grep -Eq '^Cluster hpc: 1 running, 1 pending \(as of [0-9]+s ago\)' &&
		printf '%s\n' \"\$1\" | grep -Eq '^$SLURM_PARTITION\* +up +1 +2/2 .* 1 +1 '" _ "$out"

# a drained node: its reason is remote text (with an escape sequence): sanitised in the
# table, raw (escaped) in -o json
scontrol update NodeName="$SLURM_NODE_NAME" State=DRAIN Reason=$'maint \e[31mred\e[0m done'
check "the node shows drained with its reason, without the escape" wait_for 30 bash -c '
	out=$(g cluster hpc)
	printf "%s\n" "$out" | grep -Eq "^$SLURM_NODE_NAME +[a-z+]*drain.* maint red done" &&
		! printf "%s" "$out" | grep -q $'"'"'\e'"'"''
check "-o json keeps the reason as Slurm has it" cluster_json '
import os
r = n[os.environ["SLURM_NODE_NAME"]]["reason"]
assert r == "maint \x1b[31mred\x1b[0m done", r
'
scontrol update NodeName="$SLURM_NODE_NAME" State=RESUME

# slurmrestd down: nothing known, the error names it, exit 1
slurm_rig_restd_stop
expect_rc 1 "gantry cluster hpc with slurmrestd down" g cluster hpc
out=$(cat "$T_HOME/out")
printf '%s\n' "$out" | sed 's/^/# /'
check "the error line names slurmrestd" bash -c "printf '%s\n' \"\$1\" | grep -Eq '^error: .*slurmrestd'" _ "$out"
check "-o json: the error, no snapshot time" bash -c 'g cluster hpc -o json | python3 -c "
import json, sys
c = json.load(sys.stdin)
assert c[\"error\"] and c[\"as_of_ms\"] == 0, c
"'
g stop full2 >/dev/null 2>&1 || :
t_done
