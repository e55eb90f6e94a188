#!/bin/bash
# A job whose parameter and output carry escape sequences: nothing raw reaches the
# terminal (no ESC in the pane, no colour from the job, the title unchanged).
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
"$GANTRY_BIN" launch hello --set who=$'\e[31mred\e]0;pwned\a' >/dev/null ||
	tui_fail "gantry launch hello failed"
tui_start 120 40 NO_COLOR=1
tmx select-pane -t "$TUI_SESSION" -T clean-title

tui_keys 2
tui_wait 'hello-1 +training +SUCCEEDED'
tui_keys Enter
tui_wait 'Job hello-1'
tui_wait 'hello .*red'
tui_screen | LC_ALL=C grep -q $'\e' && tui_fail "an ESC byte is on the screen"
# With NO_COLOR, any colour in the pane would come from the job's output.
if tui_screen -e | grep -Eq $'\e\\[([0-9;]*;)?31(;[0-9;]*)?m'; then
	tui_fail "the job's red escape sequence reached the terminal"
fi
title=$(tmx display-message -p -t "$TUI_SESSION" '#{pane_title}')
case $title in
*pwned*) tui_fail "the job changed the terminal title to '$title'" ;;
esac
tui_assert_no 'pwned'
tui_quit
echo "ok - escape sequences are removed"
