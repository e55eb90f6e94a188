#!/bin/bash
# Mouse: a click selects the row under it and the wheel scrolls, in Templates, Jobs and the
# log. tmux's send-keys -M needs a real client, so the raw SGR mouse sequences (the form the
# app asked for with its mouse mode) are typed into the pane. --no-mouse and `mouse: false`
# leave the mouse alone: the same bytes do not select anything.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
G=$GANTRY_BIN
# click Y X: a left press and release at 1-based row Y, column X.
click() { tui_type $'\e'"[<0;$2;$1M"$'\e'"[<0;$2;$1m"; }
# wheel up|down Y X
wheel() { tui_type $'\e'"[<$([ "$1" = up ] && echo 64 || echo 65);$3;$2M"; }

mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/count.yaml" <<'EOF'
name: count
kind: training
description: prints 100 numbered lines, then waits
resources:
  accelerators: none
  cpus: 1
run: |
  i=1
  while [ $i -le 100 ]; do echo "count line $i"; i=$((i + 1)); done
  sleep 600
EOF
"$G" launch hello --wait >/dev/null 2>&1 || tui_fail "launch hello failed"
"$G" launch count >/dev/null || tui_fail "launch count failed"

tui_start 120 40
tui_wait 'Templates \([0-9]+'
[ "$(tmx display-message -p -t "$TUI_SESSION" '#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}')" != 000 ] ||
	tui_fail "the app did not turn the terminal's mouse mode on"

tui_wait 'hello +training'
# Row 1 of the screen is the header, 2 the title, 3 the first template: click the third one.
t1=$(tui_screen | sed -n 3p | sed 's/^[^a-z]*//' | awk '{print $1}')
t3=$(tui_screen | sed -n 5p | awk '{print $1}')
tui_wait "▶ $t1 "
click 5 4
tui_wait "▶ $t3 "
# the wheel moves the selection down and back up
wheel down 10 4
tui_wait_gone "▶ $t3 "
wheel up 10 4
wheel up 10 4
tui_wait "▶ $t1 "

# The launch form: a click focuses a field; a click on [ Cancel ] closes the unedited form.
tui_keys Enter
tui_wait "Launch $t1"
click 5 20
tui_wait '▶ max_runtime'
brow=$(tui_screen | grep -n '\[ Cancel \]' | cut -d: -f1)
click "$brow" 32
tui_wait_gone "Launch $t1"
tui_wait 'Templates \('

# Jobs: the header row is 3, jobs from row 4; click the second row.
tui_keys J
tui_wait 'Jobs \(2\)'
tui_wait 'count-1 +training +RUNNING'
second=$(tui_screen | sed -n 5p | sed 's/^[^a-z]*//' | awk '{print $1}')
first=$(tui_screen | sed -n 4p | sed 's/^[^a-z]*//' | awk '{print $1}')
click 5 10
tui_wait "▶ $second "
click 4 10
tui_wait "▶ $first "

# The log scrolls with the wheel (3 lines a notch).
tui_keys Enter
tui_wait "Job $first"
tui_keys J
tui_wait 'Jobs \(2\)'
tui_keys l
tui_wait 'count line 100'
wheel up 20 10
tui_wait 'Log · line [0-9]+ of 100'
n1=$(tui_screen | grep -Eo 'line [0-9]+ of 100' | head -1 | awk '{print $2}')
wheel up 20 10
tui_wait "Log · line $((n1 - 3)) of 100"
tui_keys Escape
tui_quit

# --no-mouse and `mouse: false`: the app leaves the terminal's mouse mode off (the terminal
# then sends no mouse sequences: selecting text works as without gantry).
mouse_mode() { tmx display-message -p -t "$TUI_SESSION" '#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}'; }
tui_start 120 40 -- --no-mouse
tui_wait "▶ $t1 "
[ "$(mouse_mode)" = 000 ] || tui_fail "--no-mouse: the pane's mouse mode is $(mouse_mode)"
tui_quit
printf 'mouse: false\n' >"$GANTRY_HOME/config/config.yaml"
tui_start 120 40
tui_wait "▶ $t1 "
[ "$(mouse_mode)" = 000 ] || tui_fail "mouse: false: the pane's mouse mode is $(mouse_mode)"
tui_quit
echo "ok - mouse: click selects, wheel scrolls, --no-mouse"
