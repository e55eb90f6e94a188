#!/bin/bash
# The launch form's max_runtime hint at 80x24 is a whole sentence that says the template's
# limit (it read "stop after (30s, 10m, 2h); at most the template's" and was cut to "stop
# after (30s, 10m, 2h~" at 80 columns, the limit never visible).
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
tui_start 80 24
tui_wait 'Templates \([0-9]+'
# hello: limits.max_runtime 5m
tui_keys /
tui_type hello
tui_keys Enter
tui_wait 'Templates \(1 of'
tui_keys Enter
tui_wait 'Launch hello'
tui_wait '^..max_runtime +5m +at most 5m \(e\.g\.'
tui_keys Escape
tui_wait 'Templates \('
# jupyter-notebook: no limit
tui_keys q
tui_wait 'Templates \([0-9]+\)'
tui_keys /
tui_type jupyter-notebook
tui_keys Enter
tui_wait 'filter: jupyter-notebook'
tui_wait '^. jupyter-notebook +notebook'
tui_keys Enter
tui_wait 'Launch jupyter-notebook'
tui_wait '^..max_runtime +blank = no limit'
tui_keys Escape
tui_wait 'Templates \('
tui_quit
echo "ok - the max_runtime hint says the limit at 80 columns"
