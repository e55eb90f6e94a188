#!/usr/bin/env bash
# make bench: Gantry's benchmarks, each next to a reference measured in the same run.
# usage: tests/bench/run.sh PATH/TO/gantry [SECONDS_FOR_CPU_RUN]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/bench.py" --gantry "$1" --datadir "$(cd "$here/../.." && pwd)" --seconds "${2:-60}"
