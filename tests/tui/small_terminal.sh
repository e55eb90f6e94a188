#!/bin/bash
# Every view at 80x24; below that "too small", and the screen comes back on resize.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
"$GANTRY_BIN" launch hello >/dev/null || tui_fail "gantry launch hello failed"
tui_start 80 24

tui_wait 'Templates \([0-9]+'
tui_wait 'Enter launch .*q quit'
tui_keys Enter
tui_wait 'Launch hello'
tui_wait 'who +world'
tui_wait '\[ Launch \]'
tui_wait 'Command +echo hello'
tui_keys Escape
tui_wait 'Templates \('
tui_keys 2
tui_wait 'Jobs \(1\)'
tui_wait 'hello-1 +training +SUCCEEDED'
tui_keys Enter
tui_wait 'Job hello-1'
tui_wait 'hello world'
tui_keys l
tui_wait 'Log .* following'
tui_keys Escape Escape
tui_wait 'Jobs \(1\)'

tui_resize 60 15
tui_wait 'terminal too small'
tui_resize 80 24
tui_wait 'Jobs \(1\)'
tui_wait 'hello-1 +training +SUCCEEDED'
tui_assert_no 'too small'
tui_quit
echo "ok - 80x24 and too small"
