#!/bin/bash
# The launch form: Enter and ^S launch from any field; an invalid field is named, with why,
# and gets the focus; the focused button shows (marker, reverse) also past [Launch]; Esc or
# [Cancel] with edits asks "Discard changes?"; the max_runtime field is what the budget check
# charges (a 3-second job is not charged for the 1 hour counted without one).
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
me=$(id -un)
mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/quick.yaml" <<'EOF'
name: quick
kind: training
description: a short job
params:
  secs: {type: int, default: 1, min: 0, max: 60}
resources:
  accelerators: none
  cpus: 1
run: sleep {{secs}}
EOF
# 36 $/h: one hour is $36, over the $5 hard limit; 3 seconds are $0.03.
cat >"$GANTRY_HOME/config/config.yaml" <<EOF
providers:
  local: {rate_cpu_hour: 36}
budgets:
  - {scope: user, name: $me, monthly: 5, soft: 0.5, hard: 1}
EOF

tui_start 120 40
tui_wait 'Templates \([0-9]+'
for _ in $(seq 1 20); do
	tui_screen | grep -Eq 'a short job' && break
	tui_keys j
	sleep 0.1
done
tui_wait 'quick +training'
tui_keys Enter
tui_wait 'Launch quick'
tui_wait 'max_runtime'
tui_wait 'Budget +OVER BUDGET: .*adds up to \$36\.00'
tui_wait 'cannot launch: over budget'

# The focus starts on secs; Down, Down: [Cancel] has the marker right before it.
tui_keys Down Down
tui_wait '\[ Launch \]▶ \[ Cancel \]'
# No edits yet: Up back to secs, edit it, then Esc asks; n keeps the form and the edit.
tui_keys Up Up BSpace
tui_type 2
tui_wait 'secs +2$'
tui_keys Escape
tui_wait 'Discard changes\?'
tui_keys n
tui_wait_gone 'Discard changes\?'
tui_wait 'Launch quick'
tui_wait 'secs +2$'
# [Cancel] with Enter asks too.
tui_keys Down Down
tui_wait '▶ \[ Cancel \]'
tui_keys Enter
tui_wait 'Discard changes\?'
tui_keys n
tui_wait_gone 'Discard changes\?'
tui_wait 'secs +2$'

# An invalid max_runtime: Enter names the field and why, and moves the focus to it.
tui_keys Up Up Up
tui_type 'abc'
tui_wait 'expected a duration'
tui_keys Down
tui_keys Enter
tui_wait 'cannot launch: max_runtime: expected a duration'
tui_wait '▶ max_runtime'
# 3s: the budget check charges 3 seconds, the verdict is ok, Enter launches from the field.
tui_keys BSpace BSpace BSpace
tui_type '3s'
tui_wait 'Budget +ok: .*adds up to \$0\.03'
tui_wait_gone 'cannot launch'
tui_keys Enter
tui_wait 'Job quick-1'
tui_wait 'State +(SUCCEEDED|RUNNING|STARTING)'

# ^S launches as well (here from the secs field): sleep 30 with max_runtime 2s typed is
# stopped at 2 s by the provider (the field reaches the job, not only the estimate).
tui_keys Escape
tui_keys t
tui_wait 'Templates \('
tui_wait 'quick +training'
tui_keys Enter
tui_wait 'Launch quick'
tui_keys Up BSpace
tui_type '2s'
tui_keys Down BSpace
tui_type '30'
tui_wait 'secs +30$'
tui_wait 'Budget +ok:'
tui_keys C-s
tui_wait 'Job quick-2'
tui_wait 'ran past its max_runtime of 2 s' 25
# Esc on an unedited form closes it at once.
tui_keys Escape t
tui_wait 'Templates \('
tui_keys Enter
tui_wait 'Launch quick'
tui_keys Escape
tui_wait 'Templates \('
tui_assert_no 'Discard changes'
tui_quit

# Without colours and UTF-8 the focused button still shows: the ASCII marker, and reverse.
tui_start 120 40 LANG=C LC_ALL=C NO_COLOR=1
tui_wait 'Templates \('
tui_keys Enter
tui_wait 'Launch hello'
# hello has one param, where the focus starts: Down, Down is [Cancel].
tui_wait '> who'
tui_keys Down Down
tui_wait '\[ Launch \]> \[ Cancel \]'
tui_screen -e | grep -F '[ Cancel ]' | grep -Eq $'\e\\[[0-9;]*7[0-9;]*m\\[ Cancel' ||
	tui_fail "the focused [ Cancel ] is not reverse: $(tui_screen -e | grep -F '[ Cancel ]' | od -c | head)"
tui_keys Escape
tui_wait 'Templates \('
tui_quit
echo "ok - launch form: Enter/^S launch, focus, discard asks, max_runtime"
