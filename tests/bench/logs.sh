#!/usr/bin/env bash
# gantry logs of a finished 100 MB job.log, next to cat of the same file (the reference);
# through a pseudo-terminal too, where every byte goes through the sanitiser.
# usage: tests/bench/logs.sh PATH/TO/gantry DATADIR [MB]
set -euo pipefail
gantry=$1
export GANTRY_DATADIR=$2
mb=${3:-100}
home=$(mktemp -d "${TMPDIR:-/tmp}/gantry-bench-logs.XXXXXX")
trap 'rm -rf "$home"' EXIT
export GANTRY_HOME=$home NO_COLOR=1
mkdir -p "$home/config/templates"
cat >"$home/config/templates/big.yaml" <<YAML
name: big
kind: training
description: writes a big log
run: head -c $((mb * 750000)) /dev/urandom | base64
YAML
"$gantry" launch big --wait --timeout 300 >/dev/null 2>&1
log=$(echo "$home"/state/jobs/*/job.log)
secs() { local t0=$EPOCHREALTIME; "$@" >/dev/null; python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$t0" "$EPOCHREALTIME"; }
printf 'logs bench (%s MB): cat %.3f s; gantry logs %.3f s; gantry logs on a pty (sanitised) %.3f s\n' \
	"$(($(stat -c %s "$log") / 1000000))" "$(secs cat "$log")" "$(secs "$gantry" logs big-1)" \
	"$(secs script -qc "$gantry logs big-1" /dev/null)"
