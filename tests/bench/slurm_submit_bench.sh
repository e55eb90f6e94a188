#!/usr/bin/env bash
# tests/bench/slurm_submit_bench.sh: N jobs submitted through Gantry (`gantry launch
# --detach` of a tiny training template on the slurm provider) vs N `sbatch` calls, on the
# same real Slurm 22.05 (tests/lib/slurmrig.sh) in the same run: one by one, then P at once
# (as many CLI processes side by side; the CLI launches one job a process).
# usage: tests/bench/slurm_submit_bench.sh PATH/TO/gantry [N] [P]   (make bench: N=200, P=8)
# Jobs must stay queued, so that what is timed is the submission and not 2 CPUs running
# hundreds of jobs: the partition gets MaxNodes=0 (jobs are accepted and wait, reason
# PartitionConfig). Checked, or the bench fails: each phase adds exactly N jobs to Slurm's
# queue (N distinct gantry-<id> names for Gantry's), and Gantry's store holds N jobs of the
# phase, none FAILED. Order: sbatch 1-by-1, Gantry 1-by-1, sbatch at once, Gantry at once.
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
scontrol update PartitionName="$SLURM_PARTITION" MaxNodes=0
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
run_phase() { # NAME MODE(serial|par) KIND(sb|g)
	local name=$1 mode=$2 kind=$3 q0 g0 t0 t1 prefix=
	q0=$(queued)
	g0=$(gantry_names)
	[ "$kind" = g ] && prefix="$name-"
	t0=$(now)
	if [ "$mode" = serial ]; then
		for ((i = 1; i <= n; i++)); do
			if [ "$kind" = sb ]; then sb_one "$name-$i"; else g_one "$name-$i" || die "$name: launch $i failed: $(tail -2 "$T_HOME/launch.err")"; fi
		done
	else
		seq 1 "$n" | sed "s/^/$name-/" | xargs -P "$par" -I{} bash -c "$([ "$kind" = sb ] && echo sb_one || echo g_one) {}" ||
			die "$name: some submissions failed: $(tail -2 "$T_HOME/launch.err")"
	fi
	t1=$(now)
	T[$name]=$(ms "$t0" "$t1")
	printf '%-34s %7d ms  (%.1f ms a job)\n' "$name: $n $([ "$kind" = sb ] && echo 'sbatch' || echo 'gantry launch') $([ "$mode" = serial ] && echo '1 by 1' || echo "$par at once")" \
		"${T[$name]}" "$(awk -v t="${T[$name]}" -v n="$n" 'BEGIN { print t / n }')"
	check_phase "$name" "$q0" "$g0" "$prefix"
}

echo "slurm submit bench: $n jobs, Slurm $(sinfo -V | awk '{print $2}'), slurmrestd $SLURM_REST_API_VERSION, $(nproc) CPUs"
run_phase sbs serial sb
run_phase gs serial g
run_phase sbp par sb
run_phase gp par g
echo "slurm submit bench: Gantry/sbatch: 1 by 1 $(awk -v a="${T[gs]}" -v b="${T[sbs]}" 'BEGIN { printf "%.1fx", a / b }'), $par at once $(awk -v a="${T[gp]}" -v b="${T[sbp]}" 'BEGIN { printf "%.1fx", a / b }') (target: Gantry no slower, 1.0x)"
echo "slurm submit bench: slurmrestd saw $(slurm_rig_requests 'job/submit') submit POSTs and $(slurm_rig_requests 'GET /slurm/') GETs in all ($((2 * n + 1)) Gantry launches)"
