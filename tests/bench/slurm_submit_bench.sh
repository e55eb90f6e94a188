#!/usr/bin/env bash
# tests/bench/slurm_submit_bench.sh: N jobs submitted through Gantry vs N `sbatch` calls, on
# the same real Slurm 22.05 (tests/lib/slurmrig.sh) in the same run:
#   - sbatch: one by one, and P at once (P processes side by side);
#   - the slurm provider itself (tests/bench/slurm_bench, one process, no engine, no store,
#     as tests/bench/launch_bench does for lambda): N launches at once, and one by one; a
#     launch is done when the provider answers it (job directory made on the login node over
#     SSH, job submitted through slurmrestd, answer "queued");
#   - the CLI, what a user runs: `gantry launch --detach` of a tiny training template, one
#     by one, and P at once (the CLI launches one job a process: a process start, the store,
#     the provider's offers, SSH login and submit each time).
# usage: tests/bench/slurm_submit_bench.sh PATH/TO/gantry [N] [P]   (make bench: N=200, P=8)
# Jobs must stay queued, so that what is timed is the submission and not 2 CPUs running
# hundreds of jobs: an exclusive job of someone else holds the node (a busy cluster; every
# later job waits, reason Resources or Priority). Checked, or the bench fails: each phase adds exactly N jobs to Slurm's
# queue (N distinct gantry-<id> names for Gantry's), and Gantry's store holds N jobs of the
# phase, none FAILED (the CLI phases). Order: sbatch 1 by 1, sbatch at once, provider at
# once, provider 1 by 1, CLI 1 by 1, CLI at once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GANTRY_BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
export GANTRY_DATADIR=${GANTRY_DATADIR:-$(cd "$here/../.." && pwd)}
n=${2:-200}
par=${3:-8}
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
. "$here/../lib/slurmrig.sh"
trap 'slurm_rig_cleanup; t_cleanup' EXIT
die() { echo "slurm_submit_bench: FAIL: $*" >&2; exit 1; }

slurm_rig_start 2 >&2
# a job of someone else holds the whole node for the bench: every job queued after it waits
blocker=$(sbatch --parsable -J blocker --exclusive --gres=gpu:2 -t 60 -o /dev/null --wrap 'sleep 3600')
for ((i = 0; i < 100; i++)); do
	[ "$(slurm_rig_job_field "$blocker" JobState)" = RUNNING ] && break
	sleep 0.2 # until the blocker runs, 20 s at most
done
[ "$(slurm_rig_job_field "$blocker" JobState)" = RUNNING ] || die "the blocker job does not run"
queued() { squeue -h -a -t all -o '%i' | grep -c . || :; }
gantry_names() { squeue -h -a -t all -o '%j' | grep -c '^gantry-' || :; }
now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }

# warm-up, not timed: the first launch writes Gantry's store, the first sbatch loads plugins
g launch slurm-hello --provider hpc --name warm --detach >/dev/null 2>"$T_HOME/warm.err" ||
	die "gantry launch failed: $(cat "$T_HOME/warm.err")"
sbatch --parsable -J warm -t 5 -o /dev/null --wrap true >/dev/null

sb_one() { sbatch --parsable -J "sb-$1" -t 5 -o /dev/null --wrap true >/dev/null; }
g_one() { "$GANTRY_BIN" launch slurm-hello --provider hpc --name "$1" --detach >/dev/null 2>>"$T_HOME/launch.err"; }
export -f sb_one g_one
export T_HOME

check_phase() { # NAME BEFORE_QUEUED BEFORE_GANTRY PREFIX
	local name=$1 q0=$2 g0=$3 prefix=$4 q g st
	q=$(queued)
	[ "$((q - q0))" = "$n" ] || die "$name: $((q - q0)) jobs added to Slurm's queue, wanted $n"
	if [ -n "$prefix" ]; then
		g=$(gantry_names)
		[ "$((g - g0))" = "$n" ] || die "$name: $((g - g0)) gantry-* jobs in Slurm, wanted $n; $(tail -3 "$T_HOME/launch.err")"
		st=$(g ls --no-refresh -o json | python3 -c 'import collections, json, sys
c = collections.Counter(j["state"] for j in json.load(sys.stdin) if j["name"].startswith(sys.argv[1]))
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))' "$prefix")
		case " $st " in *FAILED*) die "$name: Gantry's jobs: $st" ;; esac
		[ "$(awk '{ s = 0; for (i = 1; i <= NF; i++) { split($i, a, "="); s += a[2] } print s }' <<<"$st")" = "$n" ] ||
			die "$name: Gantry's store has $st, wanted $n jobs"
		echo "  Gantry's $n jobs: $st; Slurm: $n distinct gantry-<id> jobs queued"
	fi
}

declare -A T
mapfile -t SETTINGS < <(slurm_rig_settings hpc)
BENCH=$(dirname "$GANTRY_BIN")/tests/bench/slurm_bench
[ -x "$BENCH" ] || die "$BENCH is not built (make bench builds it)"

run_phase() { # NAME MODE(serial|par) KIND(sb|g|prov) LABEL
	local name=$1 mode=$2 kind=$3 label=$4 q0 g0 t0 t1 prefix=
	q0=$(queued)
	g0=$(gantry_names)
	[ "$kind" = g ] && prefix="$name-"
	t0=$(now)
	case $kind/$mode in
	sb/serial) for ((i = 1; i <= n; i++)); do sb_one "$name-$i"; done ;;
	g/serial)
		for ((i = 1; i <= n; i++)); do
			g_one "$name-$i" || die "$name: launch $i failed: $(tail -2 "$T_HOME/launch.err")"
		done
		;;
	sb/par | g/par)
		seq 1 "$n" | sed "s/^/$name-/" | xargs -P "$par" -I{} bash -c "$([ "$kind" = sb ] && echo sb_one || echo g_one) {}" ||
			die "$name: some submissions failed: $(tail -2 "$T_HOME/launch.err")"
		;;
	prov/*)
		"$BENCH" launch "$n" "$([ "$mode" = serial ] && echo serial || echo once)" "$name" \
			"$T_HOME/bench-state" "$T_HOME/refs.$name" "${SETTINGS[@]}" >"$T_HOME/bench.out" ||
			die "$name: $(cat "$T_HOME/bench.out")"
		;;
	esac
	t1=$(now)
	T[$name]=$(ms "$t0" "$t1")
	printf '%-40s %7d ms  (%.1f ms a job; %d jobs in the queue before)\n' "$label" "${T[$name]}" \
		"$(awk -v t="${T[$name]}" -v n="$n" 'BEGIN { print t / n }')" "$q0"
	[ "$kind" != prov ] || echo "  $(cat "$T_HOME/bench.out")"
	check_phase "$name" "$q0" "$g0" "$prefix"
	if [ "$kind" = prov ]; then
		g=$(gantry_names)
		[ "$((g - g0))" = "$n" ] || die "$name: $((g - g0)) gantry-* jobs in Slurm, wanted $n"
	fi
}

echo "slurm submit bench: $n jobs, Slurm $(sinfo -V | awk '{print $2}'), slurmrestd $SLURM_REST_API_VERSION, $(nproc) CPUs"
run_phase sbs serial sb "$n sbatch, 1 by 1"
run_phase sbp par sb "$n sbatch, $par at once"
run_phase pa par prov "$n provider launches, at once"
run_phase ps serial prov "$n provider launches, 1 by 1"
run_phase gs serial g "$n gantry launch (CLI), 1 by 1"
run_phase gp par g "$n gantry launch (CLI), $par at once"
ratio() { awk -v a="${T[$1]}" -v b="${T[$2]}" 'BEGIN { printf "%.1fx", a / b }'; }
echo "slurm submit bench: Gantry/sbatch (target: Gantry no slower, <= 1.0x): provider at once / sbatch at once $(ratio pa sbp), provider 1 by 1 / sbatch 1 by 1 $(ratio ps sbs), CLI 1 by 1 / sbatch 1 by 1 $(ratio gs sbs), CLI at once / sbatch at once $(ratio gp sbp)"
echo "slurm submit bench: slurmrestd saw $(slurm_rig_requests 'job/submit') submit POSTs and $(slurm_rig_requests 'GET /slurm/') GETs in all ($((4 * n + 1)) Gantry launches)"
