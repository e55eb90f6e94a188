#!/bin/bash
# After a launch from the form the status line says the job was launched: a local launch
# reports before the form closes, and "launching hello-1 from hello…" used to replace that
# report and stay there after the job had ended.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
tui_start 100 30
tui_wait 'Templates \([0-9]+'
tui_keys /
tui_type hello
tui_keys Enter
tui_wait 'Templates \(1 of'
tui_keys Enter
tui_wait 'Launch hello'
tui_keys C-s
tui_wait 'Job hello-1'
tui_wait '^hello-1 launched'
tui_wait 'Job hello-1 .*SUCCEEDED'
tui_assert_no 'launching hello-1 from hello'
tui_quit
echo "ok - the form's launch report stays on the status line"
