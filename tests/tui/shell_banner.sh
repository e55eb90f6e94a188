#!/bin/bash
# `s` on a local job: the shell starts under a line that says it belongs to gantry and how to
# come back (it was a bare prompt on a cleared screen); exit brings the TUI back.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/sleeper.yaml" <<'EOF'
name: sleeper
kind: training
description: sleeps
resources:
  accelerators: none
run: sleep 120
EOF
"$GANTRY_BIN" launch sleeper --name nap >/dev/null 2>&1 || tui_fail "launch failed"
tui_start 100 30 -- --view jobs
tui_wait 'nap +training +RUNNING'
tui_keys s
tui_wait "^\[gantry: a shell on nap's worker, this host; exit or Ctrl-D comes back to gantry\]"
tui_wait '[#$] *$'
tui_type 'exit'
tui_keys Enter
tui_wait 'shell on nap ended \(exit 0\)'
"$GANTRY_BIN" stop nap >/dev/null 2>&1 || tui_fail "stop failed"
tui_wait 'nap +training +STOPPED'
tui_quit
echo "ok - the TUI's shell says whose it is and how to come back"
