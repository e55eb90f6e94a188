#!/usr/bin/env bash
# A job can put a FIFO where Gantry reads a file of its job directory (`exit`, `job.log`):
# opening a FIFO for reading blocks until a writer comes, so every `gantry ls` (and the TUI's
# refresh) hung on it. Gantry opens them without blocking and reads regular files only.
. "$(dirname "$0")/../lib/common.sh"

fifo_cleanup() {
	local f
	for f in "$T_HOME"/state/jobs/*/cgroup; do
		[ -s "$f" ] && [ -d "$(cat "$f")" ] || continue
		echo 1 >"$(cat "$f")/cgroup.kill" 2>/dev/null || :
	done
	t_cleanup
}
trap fifo_cleanup EXIT

mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/fifo.yaml" <<'YAML'
name: fifo
kind: training
description: puts a FIFO in place of its job.log, then of its exit file
run: |
  echo started
  mkfifo ../log.fifo && mv ../log.fifo ../job.log
  : >ready.flag
  while [ ! -e go.flag ]; do sleep 0.05; done
  mkfifo ../exit.fifo && mv ../exit.fifo ../exit
  : >done.flag
  exec sleep 1000
YAML

expect_rc 0 "launch" timeout -s KILL 20 "$GANTRY_BIN" launch fifo --name ff
dir=$T_HOME/state/jobs/$(timeout -s KILL 20 "$GANTRY_BIN" show ff -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for ((i = 0; i < 200; i++)); do [ -e "$dir/work/ready.flag" ] && break; sleep 0.05; done
check "job.log is a FIFO" test -p "$dir/job.log"
expect_rc 0 "logs does not hang on it" timeout -s KILL 20 "$GANTRY_BIN" logs ff
: >"$dir/work/go.flag"
for ((i = 0; i < 200; i++)); do [ -e "$dir/work/done.flag" ] && break; sleep 0.05; done
check "exit is a FIFO" test -p "$dir/exit"
rc=0
timeout -s KILL 20 "$GANTRY_BIN" ls >"$T_HOME/out" 2>&1 || rc=$?
check "ls does not hang on it (exit $rc)" test "$rc" -ne 137
check "ls lists the job" grep -q ff "$T_HOME/out"
t_done
