#!/usr/bin/env bash
# cluster_cli.sh: `gantry cluster` over the ssh fleet with two real sshd workers (2 GPUs each):
# one partition named after the provider, both hosts as nodes with GPUs 0/2 (0/4 in all);
# a GPU job on one host shows 1 allocated there (and 1/4, one running job); -o json parses;
# a worker whose sshd is down is shown unreachable with the error line; an unknown provider,
# one without a cluster, and a config without any are clear errors with nonzero exits.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
trap 'rig_cleanup; t_cleanup' EXIT

rig_workers 2 2
mkdir -p "$T_HOME/config/templates"
cat >"$T_HOME/config/templates/gpu-sleep.yaml" <<'YAML'
name: gpu-sleep
kind: training
description: Holds one GPU while it sleeps.
resources:
  accelerators: H100:1
placement:
  providers: [fleet]
run: |
  sleep 1000
YAML

# cluster_json PYTHON: runs the check (python3, the snapshot as `c`) on `gantry cluster -o json`
cluster_json() {
	g cluster -o json | python3 -c '
import json, sys
c = json.load(sys.stdin)
n = {x["name"]: x for x in c["nodes"]}
p = {x["name"]: x for x in c["partitions"]}
'"$1"
}
export -f cluster_json

expect_rc 0 "gantry cluster on an idle fleet" g cluster
out=$(cat "$T_HOME/out")
printf '%s\n' "$out" | sed 's/^/# /'
check "the fleet is one partition, default, 2 nodes, GPUs 0/4" \
	bash -c "printf '%s\n' \"\$1\" | grep -Eq '^fleet\* +up +2 +0/4 '" _ "$out"
check "both hosts are nodes, idle, GPUs 0/2 H100" \
	bash -c "printf '%s\n' \"\$1\" | grep -Eq '^gpu1 +idle +fleet +0/2 +H100 ' &&
		printf '%s\n' \"\$1\" | grep -Eq '^gpu2 +idle +fleet +0/2 +H100 '" _ "$out"
check "the snapshot's age is shown" bash -c "printf '%s\n' \"\$1\" | grep -Eq '^Cluster fleet: 0 running, 0 pending \(as of [0-9]+s ago\)'" _ "$out"
check "-o json: provider, partition and nodes with GPUs 0 of 2 each, a snapshot time" cluster_json '
assert c["provider"] == "fleet" and c["error"] is None, c
assert c["as_of_ms"] > 0 and c["jobs_running"] == 0, c
assert p["fleet"]["gpus_total"] == 4 and p["fleet"]["gpus_alloc"] == 0 and p["fleet"]["nodes"] == 2, p
assert sorted(n) == ["gpu1", "gpu2"], n
for h in n.values():
    assert h["gpus_total"] == 2 and h["gpus_alloc"] == 0 and h["state"] == "idle", h
    assert h["gpu_type"] == "H100" and h["cpus_total"] > 0 and h["memory_mib"] > 0, h
'
expect_rc 0 "gantry cluster fleet names the provider" g cluster fleet

# a GPU job on one host
expect_rc 0 "launch a one-GPU job on the fleet" g launch gpu-sleep --name c1
check "c1 reaches RUNNING" wait_state c1 RUNNING 30
host=$(job_field c1 provider_ref | sed 's/.*@//')
other=gpu1
[ "$host" = gpu1 ] && other=gpu2
echo "# c1 runs on $host"
check "-o json: 1 of 4 GPUs allocated, on $host (mixed), none on $other, one job running" \
	wait_for 20 cluster_json "
assert p['fleet']['gpus_alloc'] == 1 and p['fleet']['gpus_total'] == 4, p
assert p['fleet']['jobs_running'] == 1 and c['jobs_running'] == 1, c
assert n['$host']['gpus_alloc'] == 1 and n['$host']['state'] == 'mixed', n
assert n['$other']['gpus_alloc'] == 0 and n['$other']['state'] == 'idle', n
"
out=$(g cluster)
printf '%s\n' "$out" | sed 's/^/# /'
check "the table shows 1/4 for the fleet and 1/2 on $host" \
	bash -c "printf '%s\n' \"\$1\" | grep -Eq '^fleet\* +up +2 +1/4 ' &&
		printf '%s\n' \"\$1\" | grep -Eq '^$host +mixed +fleet +1/2 ' &&
		printf '%s\n' \"\$1\" | grep -Eq '^$other +idle +fleet +0/2 '" _ "$out"
expect_rc 0 "stop c1" g stop c1
check "c1 ends" wait_state c1 STOPPED 30
check "its GPU is free again (0/4)" wait_for 20 cluster_json "
assert p['fleet']['gpus_alloc'] == 0 and c['jobs_running'] == 0, p
"

# a worker down: shown unreachable with why, the error line, exit 0 (the rest is known)
rig_ctl stop 2
expect_rc 0 "gantry cluster with gpu2's sshd down" g cluster
out=$(cat "$T_HOME/out")
printf '%s\n' "$out" | sed 's/^/# /'
check "gpu2 is unreachable, gpu1 idle" \
	bash -c "printf '%s\n' \"\$1\" | grep -Eq '^gpu2 +unreachable ' &&
		printf '%s\n' \"\$1\" | grep -Eq '^gpu1 +idle '" _ "$out"
check "the error line names the host" bash -c "printf '%s\n' \"\$1\" | grep -Eq '^error: gpu2 unreachable'" _ "$out"
check "-o json: the error and the node's reason" cluster_json '
assert c["error"] is not None and c["error"].startswith("gpu2 unreachable"), c
assert n["gpu2"]["state"] == "unreachable" and n["gpu2"]["reason"], n
assert n["gpu1"]["state"] == "idle", n
'

# shell completion: `gantry cluster <Tab>` offers the providers with a cluster view
check "__complete clusters lists fleet, not local" bash -c '[ "$(g __complete clusters)" = fleet ]'
check "__complete commands lists cluster" bash -c 'g __complete commands | grep -qx cluster'
check "bash: gantry cluster <Tab> completes fleet" bash -c '
	. "$1/completions/bash/gantry"
	COMP_WORDS=("$GANTRY_BIN" cluster ""); COMP_CWORD=2; _gantry
	[ "${COMPREPLY[*]}" = fleet ]' _ "${GANTRY_SRCDIR:-$here/../..}"

# errors: clear, nonzero
expect_rc 2 "an unknown provider is a usage error" g cluster nope
check "it says so and names the configured ones" grep -q "no provider named 'nope' (configured: local, fleet)" "$T_HOME/err"
expect_rc 2 "a provider without a cluster view is a usage error" g cluster local
check "it says so and names those with one" grep -q "provider 'local' (type local) has no cluster view; providers with one: fleet" "$T_HOME/err"
expect_rc 2 "two providers is a usage error" g cluster fleet local
mkdir -p "$T_HOME/localonly"
expect_rc 1 "a local-only config has no cluster" env GANTRY_HOME="$T_HOME/localonly" "$GANTRY_BIN" cluster
check "it says: no provider with a cluster view" grep -q "no provider with a cluster view" "$T_HOME/err"
expect_rc 1 "-o json too" env GANTRY_HOME="$T_HOME/localonly" "$GANTRY_BIN" cluster -o json
check "nothing on stdout then" test ! -s "$T_HOME/out"
t_done
