#!/bin/bash
# NO_COLOR=1 and --no-color: no colour SGR sequences reach the terminal, yet the
# selection still shows (reverse video).
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
"$GANTRY_BIN" launch hello >/dev/null || tui_fail "gantry launch hello failed"

# check_no_color: capture-pane -e shows no 30-37/40-47/90-97/38;5/48;5 colour codes.
check_no_color() {
	if tui_screen -e | grep -Eq $'\e\\[([0-9;]*;)?(3[0-8]|4[0-8]|9[0-7]|10[0-7])(;[0-9;]*)?m'; then
		tui_screen -e | grep -En $'\e\\[([0-9;]*;)?(3[0-8]|4[0-8]|9[0-7]|10[0-7])' | head -3 | cat -v >&2
		tui_fail "colour sequences on the screen ($1)"
	fi
	tui_screen -e | grep -Eq $'\e\\[([0-9;]*;)?7[;m]' ||
		tui_fail "no reverse video for the selection ($1)"
}

tui_start 120 40 NO_COLOR=1
tui_wait 'Templates \('
check_no_color "NO_COLOR templates"
tui_keys 2
tui_wait 'hello-1 +training +SUCCEEDED'
check_no_color "NO_COLOR jobs"
tui_quit
tmx kill-server

tui_start 120 40 -- --no-color
tui_wait 'Templates \('
check_no_color "--no-color templates"
tui_keys : 
tui_type 'theme light'
tui_keys Enter
tui_wait 'theme light'
check_no_color "--no-color, theme light"
tui_quit

# And with colours on, the same check must fail (the check itself works).
tmx kill-server
tui_start 120 40 -- --theme default
tui_wait 'Templates \('
tui_screen -e | grep -Eq $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7])(;[0-9;]*)?m' ||
	tui_fail "with colours on, no colour sequence was seen"
tui_quit
echo "ok - no colours with NO_COLOR and --no-color"
