#!/usr/bin/env bash
# tests/bench/slurm_refresh_bench.sh: one refresh cycle of the slurm provider with 1,000
# jobs in the queue, on a real Slurm 22.05 (tests/lib/slurmrig.sh): its time and its HTTP
# requests, counted in slurmrestd's log (one "operations_router: ... METHOD PATH" line per
# request), next to `squeue` and one raw `curl GET /jobs` of the same queue.
# usage: tests/bench/slurm_refresh_bench.sh PATH/TO/gantry [TOTAL] [CLI_JOBS] [PROVIDER_JOBS] [RUNS]
#   (make bench: 1000 jobs queued; 100 launched with the CLI, 200 by the provider directly;
#   5 runs of each measure)
# The queue: an exclusive job of someone else holds the node (so every other job waits),
# CLI_JOBS launched with `gantry launch --detach` (in Gantry's store), PROVIDER_JOBS launched
# by tests/bench/slurm_bench (the provider alone), and the rest `sbatch --hold` (other
# users' jobs, as on a shared cluster). Two refresh cycles are measured:
#   - the provider's: one refresh of each of Gantry's CLI_JOBS + PROVIDER_JOBS jobs, all at
#     once (tests/bench/slurm_bench refresh: one process, open, refresh, close), as the
#     engine asks on each tick of the TUI or `gantry watch`;
#   - the CLI's: `gantry ls` (process start, store, a refresh of the CLI_JOBS active jobs,
#     the listing), next to `gantry ls --no-refresh` (the same without asking the provider).
# Checked, or the bench fails: TOTAL jobs queued, every refresh answered, and every Gantry
# job STARTING with its pending reason.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GANTRY_BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
export GANTRY_DATADIR=${GANTRY_DATADIR:-$(cd "$here/../.." && pwd)}
total=${2:-1000}
ng=${3:-100}
np=${4:-200}
runs=${5:-5}
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
. "$here/../lib/slurmrig.sh"
trap 'slurm_rig_cleanup; t_cleanup' EXIT
die() { echo "slurm_refresh_bench: FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

slurm_rig_start 2 >&2
# a job of someone else holds the whole node for the bench: every job queued after it waits
blocker=$(sbatch --parsable -J blocker --exclusive --gres=gpu:2 -t 60 -o /dev/null --wrap 'sleep 3600')
for ((i = 0; i < 100; i++)); do
	[ "$(slurm_rig_job_field "$blocker" JobState)" = RUNNING ] && break
	sleep 0.2 # until the blocker runs, 20 s at most
done
[ "$(slurm_rig_job_field "$blocker" JobState)" = RUNNING ] || die "the blocker job does not run"
g_one() { "$GANTRY_BIN" launch slurm-hello --provider hpc --name "$1" --detach >/dev/null 2>>"$T_HOME/launch.err"; }
h_one() { sbatch --parsable -J "other-$1" -t 5 -o /dev/null --hold --wrap true >/dev/null; }
export -f g_one h_one
export T_HOME
seq 1 "$ng" | sed 's/^/r-/' | xargs -P 8 -I{} bash -c 'g_one {}' ||
	die "Gantry launches failed: $(tail -3 "$T_HOME/launch.err")"
mapfile -t SETTINGS < <(slurm_rig_settings hpc)
BENCH=$(dirname "$GANTRY_BIN")/tests/bench/slurm_bench
[ -x "$BENCH" ] || die "$BENCH is not built (make bench builds it)"
"$BENCH" launch "$np" once p "$T_HOME/bench-state" "$T_HOME/refs.p" "${SETTINGS[@]}" >"$T_HOME/bench.out" ||
	die "provider launches: $(cat "$T_HOME/bench.out")"
seq 1 "$((total - ng - np - 1))" | xargs -P 4 -I{} bash -c 'h_one {}' || die "sbatch --hold failed"
sqlite3 "$T_HOME/state/gantry.db" "SELECT id || ' ' || provider_ref FROM jobs WHERE provider = 'hpc'" >"$T_HOME/refs.cli"
cat "$T_HOME/refs.p" "$T_HOME/refs.cli" >"$T_HOME/refs.all"
[ "$(grep -c . "$T_HOME/refs.all")" = "$((ng + np))" ] || die "$(grep -c . "$T_HOME/refs.all") refs of Gantry jobs, wanted $((ng + np))"
q=$(squeue -h -a -o '%i' | grep -c .)
[ "$q" = "$total" ] || die "$q jobs queued, wanted $total"
tok=$(cat "$SLURM_RIG_TOKEN_FILE")
bytes=$(curl -sS -o "$T_HOME/jobs.json" -w '%{size_download}' -H "X-SLURM-USER-NAME: $SLURM_USER_NAME" \
	-H "X-SLURM-USER-TOKEN: $tok" "$SLURM_REST_URL/slurm/$SLURM_RIG_API/jobs")
echo "slurm refresh bench: $total jobs queued ($ng launched with the CLI, $np by the provider, $((total - ng - np - 1)) held sbatch jobs, 1 running); GET /jobs answers $((bytes / 1024)) KiB"

t_ls=() t_nr=() t_sq=() t_curl=() reqs=() t_pr=() preqs=()
g ls >/dev/null # warm-up, not timed (the first refresh also persists the pending reasons)
for ((r = 1; r <= runs; r++)); do
	r0=$(slurm_rig_requests)
	t0=$(now)
	"$BENCH" refresh "$T_HOME/bench-state" "$T_HOME/refs.all" "${SETTINGS[@]}" >"$T_HOME/bench.out" ||
		die "provider refresh: $(cat "$T_HOME/bench.out")"
	t1=$(now)
	r1=$(slurm_rig_requests)
	t_pr+=("$(sed -n 's/.* wall_ms=\([0-9]*\).*/\1/p' "$T_HOME/bench.out")")
	preqs+=("$((r1 - r0))")
	grep -q "jobs=$((ng + np)) answered=$((ng + np)) .*STARTING=$((ng + np))\$" "$T_HOME/bench.out" ||
		die "provider refresh: $(cat "$T_HOME/bench.out") (wanted all $((ng + np)) STARTING)"
	grep -E 'operations_router: ' "$SLURM_RIG_DIR/log/slurmrestd.out" | tail -n "$((r1 - r0))" |
		sed -E 's/.*operations_router: \[[^]]*\]:[0-9]+\] //; s#/job/[0-9]+#/job/{id}#' | sort | uniq -c |
		awk '{ printf "%s%s %s x%d", (NR > 1 ? ", " : ""), $2, $3, $1 }' >"$T_HOME/pby.$r"
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
c = collections.Counter("%s/%s" % (j["state"], "pending" if (j.get("reason") or "").startswith("pending: ") else (j.get("reason") or "-")) for j in json.load(sys.stdin) if j["name"].startswith("r-"))
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))')
case "$st" in "STARTING/pending=$ng") ;; *) die "Gantry's jobs after the refresh: $st (wanted all $ng STARTING with their pending reason)" ;; esac

echo "slurm refresh bench: provider refresh of $((ng + np)) jobs at once ($total queued): median $(echo "${t_pr[*]}" | median) ms (${t_pr[*]} ms)"
echo "slurm refresh bench:   HTTP requests per refresh (open included): ${preqs[*]}; the last: $(cat "$T_HOME/pby.$runs")"
echo "slurm refresh bench: gantry ls (one refresh of $ng active jobs, $total queued): median $(echo "${t_ls[*]}" | median) ms (${t_ls[*]} ms)"
echo "slurm refresh bench:   HTTP requests per refresh: ${reqs[*]}; the last: $(cat "$T_HOME/by.$runs")"
echo "slurm refresh bench: gantry ls --no-refresh (the store only): median $(echo "${t_nr[*]}" | median) ms (${t_nr[*]} ms)"
echo "slurm refresh bench: squeue -a ($total jobs): median $(echo "${t_sq[*]}" | median) ms (${t_sq[*]} ms)"
echo "slurm refresh bench: curl GET /jobs ($((bytes / 1024)) KiB): median $(echo "${t_curl[*]}" | median) ms (${t_curl[*]} ms)"
echo "slurm refresh bench: Gantry's $ng jobs after the refreshes: $st"
