#!/bin/bash
# An unknown `:` command lists every command the help lists, :job NAME and :help included
# (they were missing), and `:job NAME` then opens the job.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
"$GANTRY_BIN" launch hello --name hi --wait >/dev/null 2>&1 || tui_fail "launch failed"
tui_start 160 30
tui_wait 'Templates \([0-9]+'
tui_keys :
tui_type 'jbo hi'
tui_keys Enter
tui_wait "unknown command 'jbo' \(try :templates, :jobs, :job NAME, :cost, :cluster, :reload, :messages, :theme NAME, :help, :q\)"
tui_keys :
tui_type 'job hi'
tui_keys Enter
tui_wait 'Job hi .*SUCCEEDED'
tui_quit
echo "ok - an unknown : command lists them all"
