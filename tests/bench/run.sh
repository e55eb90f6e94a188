#!/usr/bin/env bash
# make bench: Gantry's benchmarks, each next to a reference measured in the same run.
# usage: tests/bench/run.sh PATH/TO/gantry [SECONDS_FOR_CPU_RUN]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/bench.py" --gantry "$1" --datadir "$(cd "$here/../.." && pwd)" --seconds "${2:-60}"
python3 "$here/sweep.py" --fleettool "$(dirname "$1")/tests/ssh/fleettool" --srcdir "$(cd "$here/../.." && pwd)" --user sshtest  # ssh fleet sweep (tests/ssh/fleettool from make check)
python3 "$here/forward.py" --gantry "$1"
"$(dirname "$1")/tests/bench/offers_bench"  # 10,000 offers from 3 providers ranked vs qsort by price (offers)
"$(dirname "$1")/tests/bench/policy_bench"  # one launch's policy verdict, 500 rules vs 1 role (policy, issue 12)
"$(dirname "$1")/tests/bench/cost_bench"  # Cost view recomputation vs sqlite3 (cost)
"$(dirname "$1")/tests/bench/ingest_bench"  # telemetry ingest, 1,000 workers x 8 GPUs, vs raw rows (gauges)
"$(dirname "$1")/tests/bench/hourclose_bench"  # the loop's longest stall during the hour close (gauges)
"$here/logs.sh" "$1" "$(cd "$here/../.." && pwd)"  # gantry logs of a 100 MB log vs cat (procs)
"$here/launch_bench.sh" "$(dirname "$1")"  # 100 lambda launches against the fake (200 ms a call), at once vs one by one (lbench)
# Slurm (issue 10): a real single-node Slurm started by the bench (needs root and the Slurm
# packages of ./bootstrap bench; exit 77 = skipped)
bash "$here/slurm_submit_bench.sh" "$1" 200 8 || [ $? = 77 ]  # 200 jobs through Gantry vs 200 sbatch (slurm)
bash "$here/slurm_refresh_bench.sh" "$1" 1000 100 5 || [ $? = 77 ]  # one refresh with 1,000 jobs queued (slurm)
# Kubernetes (issue 11): the kubernetes provider against tests/fakes/k8s_fake.py (tests/lib/
# k8srig.sh)
bash "$here/k8s_launch_bench.sh" "$(dirname "$1")" 100 training  # 100 launches, 200 ms a request, at once vs one by one (k8s)
bash "$here/k8s_watch_bench.sh" "$(dirname "$1")" 5000 60 15  # an open TUI over 5,000 pods, watch vs polling (k8s)
bash "$here/gantryd_bench.sh" "$(dirname "$1")" 10000 50 30 || [ $? = 77 ]  # gantryd: 50 clients listing their jobs every second, 10,000 jobs (daemon)
