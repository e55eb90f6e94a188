#!/bin/bash
# `/` filters every list (Templates, Help, Cost) and searches the log (n/N); the full-screen
# log scrolls sideways (Left/Right) and ignores keys that are not log keys (d, s, x, ^D);
# q/Esc clear a filter before they go back or quit; a long message cut off on the status line
# can be read in full in the message log (m).
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
G=$GANTRY_BIN
mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/talk.yaml" <<'EOF'
name: talk
kind: training
description: prints 200 long lines, then waits
resources:
  accelerators: none
  cpus: 1
run: |
  pad=$(printf '%0150d' 0)
  i=1
  while [ $i -le 200 ]; do
    case $i in 10) m=MARK-A ;; 150) m=MARK-B ;; *) m=plain ;; esac
    echo "line $i $m $pad END$i"
    i=$((i + 1))
  done
  sleep 600
EOF
"$G" launch talk >/dev/null || tui_fail "launch talk failed"

tui_start 120 40
tui_wait 'Templates \([0-9]+'
tui_wait 'hello +training'
# Templates: / filters as one types; q clears the filter instead of quitting.
tui_keys /
tui_type 'endpo'
tui_wait 'Templates \(1 of [0-9]+\)  filter: endpo'
tui_wait 'http-endpoint +endpoint'
tui_assert_no 'hello +training'
tui_keys Enter
tui_keys q
tui_wait 'filter cleared'
tui_wait 'hello +training'
[ "$(tmx display-message -p -t "$TUI_SESSION" '#{pane_dead}')" = 0 ] || tui_fail "q quit with a filter set"

# Help: / keeps the lines that hold the text; Esc clears, Esc closes.
tui_keys '?'
tui_wait 'Help .* Templates keys'
tui_keys /
tui_type 'reload'
tui_keys Enter
tui_wait 'Help .* filter: reload'
tui_wait 'refresh now \(templates: reload the files\)'
tui_assert_no 'open the launch form'
tui_keys Escape
tui_wait 'open the launch form'
tui_keys Escape
tui_wait 'Templates \([0-9]+'

# Cost: / filters the breakdown.
tui_keys '$'
tui_wait 'Cost \(USD\)'
tui_keys /
tui_type 'no-such-user'
tui_keys Enter
tui_wait "no row matches 'no-such-user'"
tui_keys Escape
tui_wait_gone "no row matches"

# Jobs: l opens the log full screen.
tui_keys J
tui_wait 'talk-1 +training +RUNNING'
tui_keys l
tui_wait 'Job talk-1 .*\(log\)'
tui_wait 'line 200 plain'
# Stray keys do nothing here: no stop dialog, no shell, the job runs on.
# (Keys are read in order: once the search that follows them shows, they were handled.)
tui_keys d s x C-d
# Search: from the screen down, wrapping: MARK-A (line 10), n: MARK-B (150), N: back.
tui_keys /
tui_type 'mark'
tui_keys Enter
tui_wait '/mark: line 10 \(n/N\)'
tui_assert_no 'Stop talk-1'
tui_wait 'Job talk-1 .*\(log\)'
[ "$(tui_json_state talk-1)" = RUNNING ] || tui_fail "a stray key stopped the job"
tui_wait 'line 10 MARK-A'
tui_keys n
tui_wait '/mark: line 150 \(n/N\)'
tui_wait 'line 150 MARK-B'
tui_keys N
tui_wait '/mark: line 10 \(n/N\)'
# Sideways: the ends of the long lines come into view.
tui_assert_no ' END10$'
for _ in $(seq 1 10); do tui_keys Right; done
tui_wait 'from column 81'
tui_wait '0 END10$'
tui_keys Left
tui_wait 'from column 73'
# Esc clears the search first, then leaves the full-screen log, then goes back to Jobs.
tui_keys Escape
tui_wait 'filter cleared'
tui_wait_gone '/mark'
tui_wait 'Job talk-1 .*\(log\)'
tui_keys Escape
tui_wait_gone '\(log\)'
tui_wait 'Job talk-1 .*RUNNING'
tui_keys q
tui_wait 'Jobs \(1\)'

# A message too long for the status line is marked, and m shows it in full.
long=$(printf 'z%.0s' $(seq 1 150))TAIL
tui_keys :
tui_type "job $long"
tui_keys Enter
tui_wait '\(all: m\)'
tui_keys m
tui_wait 'Messages \('
tui_wait 'TAIL'
tui_keys Escape
tui_wait 'Jobs \(1\)'
tui_keys C-c
tui_wait_gone 'Jobs \(1\)'
"$G" stop talk-1 >/dev/null 2>&1
echo "ok - filters, log search and sideways scroll, stray keys, q/Esc, message log"
