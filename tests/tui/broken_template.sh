#!/bin/bash
# A broken user template is listed, marked, with its FILE:LINE:COL error in the preview,
# and cannot be launched.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/aaa-broken.yaml" <<'YAML'
name: aaa-broken
kind: training
run: echo hi
resources:
  cpus: lots
YAML
tui_start 120 40

tui_wait 'Templates \([0-9]+, 1 broken\)'
tui_wait '(✗|!) aaa-broken +broken'
tui_wait 'broken template'
tui_wait 'aaa-broken\.yaml:5:[0-9]+:'
tui_keys Enter
tui_wait 'aaa-broken is broken'
tui_assert_no 'Launch aaa-broken'
# The other templates still work.
tui_keys j
tui_wait 'echo hello \{\{who\}\}'
tui_quit
echo "ok - broken templates are marked"
