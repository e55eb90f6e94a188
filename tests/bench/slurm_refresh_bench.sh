#!/usr/bin/env bash
# tests/bench/slurm_refresh_bench.sh: one refresh cycle of the slurm provider with 1,000
# jobs in the queue, on a real Slurm 22.05 (tests/lib/slurmrig.sh): its time and its HTTP
# requests, counted in slurmrestd's log (one "operations_router: ... METHOD PATH" line per
# request), next to `squeue` and one raw `curl GET /jobs` of the same queue.
# usage: tests/bench/slurm_refresh_bench.sh PATH/TO/gantry [TOTAL] [GANTRY_JOBS] [RUNS]
#   (make bench: 1000 jobs in the queue, 100 of them Gantry's, 5 runs)
# The queue: GANTRY_JOBS launched through Gantry (kept queued: the partition has MaxNodes=0)
# and the rest `sbatch --hold` (other users' jobs, as on a shared cluster). A refresh
# cycle is a `gantry ls` (the CLI's refresh of every active job, then the listing), timed
# whole (process start to exit) and compared with `gantry ls --no-refresh` (the same
# without asking the provider). Checked, or the bench fails: TOTAL jobs queued, and every
# Gantry job STARTING with its pending reason after the refresh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GANTRY_BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
export GANTRY_DATADIR=${GANTRY_DATADIR:-$(cd "$here/../.." && pwd)}
total=${2:-1000}
ng=${3:-100}
runs=${4:-5}
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
. "$here/../lib/slurmrig.sh"
trap 'slurm_rig_cleanup; t_cleanup' EXIT
die() { echo "slurm_refresh_bench: FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

slurm_rig_start 2 >&2
scontrol update PartitionName="$SLURM_PARTITION" MaxNodes=0
g_one() { "$GANTRY_BIN" launch slurm-hello --provider hpc --name "$1" --detach >/dev/null 2>>"$T_HOME/launch.err"; }
h_one() { sbatch --parsable -J "other-$1" -t 5 -o /dev/null --hold --wrap true >/dev/null; }
export -f g_one h_one
export T_HOME
seq 1 "$ng" | sed 's/^/r-/' | xargs -P 8 -I{} bash -c 'g_one {}' ||
	die "Gantry launches failed: $(tail -3 "$T_HOME/launch.err")"
seq 1 "$((total - ng))" | xargs -P 4 -I{} bash -c 'h_one {}' || die "sbatch --hold failed"
q=$(squeue -h -a -o '%i' | grep -c .)
[ "$q" = "$total" ] || die "$q jobs queued, wanted $total"
tok=$(cat "$SLURM_RIG_TOKEN_FILE")
bytes=$(curl -sS -o "$T_HOME/jobs.json" -w '%{size_download}' -H "X-SLURM-USER-NAME: $SLURM_USER_NAME" \
	-H "X-SLURM-USER-TOKEN: $tok" "$SLURM_REST_URL/slurm/$SLURM_RIG_API/jobs")
echo "slurm refresh bench: $total jobs queued ($ng Gantry's, $((total - ng)) held sbatch jobs); GET /jobs answers $((bytes / 1024)) KiB"

t_ls=() t_nr=() t_sq=() t_curl=() reqs=()
g ls >/dev/null # warm-up, not timed (the first refresh also persists the pending reasons)
for ((r = 1; r <= runs; r++)); do
	r0=$(slurm_rig_requests)
	t0=$(now)
	g ls >"$T_HOME/ls.out"
	t1=$(now)
	r1=$(slurm_rig_requests)
	t_ls+=("$(ms "$t0" "$t1")")
	reqs+=("$((r1 - r0))")
	grep -E 'operations_router: ' "$SLURM_RIG_DIR/log/slurmrestd.out" | tail -n "$((r1 - r0))" |
		sed -E 's/.*operations_router: \[[^]]*\]:[0-9]+\] //; s#/job/[0-9]+#/job/{id}#' | sort | uniq -c |
		awk '{ printf "%s%s %s x%d", (NR > 1 ? ", " : ""), $2, $3, $1 }' >"$T_HOME/by.$r"
	t0=$(now)
	g ls --no-refresh >/dev/null
	t1=$(now)
	t_nr+=("$(ms "$t0" "$t1")")
	t0=$(now)
	squeue -h -a >/dev/null
	t1=$(now)
	t_sq+=("$(ms "$t0" "$t1")")
	t0=$(now)
	curl -sS -o /dev/null -H "X-SLURM-USER-NAME: $SLURM_USER_NAME" -H "X-SLURM-USER-TOKEN: $tok" \
		"$SLURM_REST_URL/slurm/$SLURM_RIG_API/jobs"
	t1=$(now)
	t_curl+=("$(ms "$t0" "$t1")")
done
st=$(g ls --no-refresh -o json | python3 -c 'import collections, json, sys
c = collections.Counter("%s/%s" % (j["state"], "PartitionConfig" if "PartitionConfig" in (j.get("reason") or "") else (j.get("reason") or "-")) for j in json.load(sys.stdin) if j["name"].startswith("r-"))
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))')
case "$st" in "STARTING/PartitionConfig=$ng") ;; *) die "Gantry's jobs after the refresh: $st (wanted all $ng STARTING with their pending reason)" ;; esac

echo "slurm refresh bench: gantry ls (one refresh of $ng active jobs, $total queued): median $(echo "${t_ls[*]}" | median) ms (${t_ls[*]} ms)"
echo "slurm refresh bench:   HTTP requests per refresh: ${reqs[*]}; the last: $(cat "$T_HOME/by.$runs")"
echo "slurm refresh bench: gantry ls --no-refresh (the store only): median $(echo "${t_nr[*]}" | median) ms (${t_nr[*]} ms)"
echo "slurm refresh bench: squeue -a ($total jobs): median $(echo "${t_sq[*]}" | median) ms (${t_sq[*]} ms)"
echo "slurm refresh bench: curl GET /jobs ($((bytes / 1024)) KiB): median $(echo "${t_curl[*]}" | median) ms (${t_curl[*]} ms)"
echo "slurm refresh bench: Gantry's $ng jobs after the refreshes: $st"
