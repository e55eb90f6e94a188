#!/bin/bash
# The main path at 120x40: templates, the launch form, the job running in Jobs, its log,
# stop through the confirmation dialog, and the CLI agreeing on the final state.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
tui_start 120 40

tui_wait 'Templates \([0-9]+'
tui_wait 'hello +training'
# The preview of the first template (hello) shows its run command and its param.
tui_wait 'echo hello \{\{who\}\}'
tui_wait 'who = world'

# Open the form of http-endpoint (second in the list) and launch it from [Launch].
tui_keys j
tui_wait 'http-endpoint +endpoint'
tui_keys Enter
tui_wait 'Launch http-endpoint'
tui_wait 'model_name +sentiment-tiny'
tui_wait 'Fits +yes'
# An invalid value shows an inline error and disables [Launch]; fixing it clears both.
tui_keys Tab BSpace BSpace BSpace
tui_type '7'
tui_wait 'cannot launch'
tui_wait 'threshold.*7'
tui_keys BSpace
tui_type '0.2'
tui_wait_gone 'cannot launch'
tui_keys Tab
tui_keys Enter

# The Job view of the new job, with its log lines.
tui_wait 'Job http-endpoint-1'
tui_wait 'State +RUNNING'
tui_wait 'serving sentiment-tiny on http://127\.0\.0\.1:[0-9]+'
tui_wait 'GET /health'

# Back to Jobs: the row is RUNNING.
tui_keys Escape
tui_wait 'Jobs \(1\)'
tui_wait 'http-endpoint-1 +endpoint +RUNNING 1/1 +local'
[ "$(tui_json_state http-endpoint-1)" = RUNNING ] || tui_fail "ls -o json does not say RUNNING"

# Open it again, stop it: the dialog asks; n cancels, y stops.
tui_keys Enter
tui_wait 'Job http-endpoint-1'
tui_keys x
tui_wait 'Stop http-endpoint-1 \(j[0-9a-f]+, RUNNING'
tui_keys n
tui_wait 'cancelled'
tui_wait_gone 'Stop http-endpoint-1 \('
[ "$(tui_json_state http-endpoint-1)" = RUNNING ] || tui_fail "n must not stop the job"
tui_keys C-d
tui_wait '\[y\] yes'
tui_keys y
tui_wait 'State +STOPPED'
tui_keys Escape
tui_wait 'http-endpoint-1 +endpoint +STOPPED'
[ "$(tui_json_state http-endpoint-1)" = STOPPED ] || tui_fail "ls -o json does not say STOPPED"

# Help comes from the keymap; q closes it, q again quits.
tui_keys '?'
tui_wait 'Help .* Jobs keys'
tui_wait 'stop the job \(asks first\)'
tui_keys q
tui_wait 'Jobs \(1\)'
tui_quit
echo "ok - templates, launch, log, stop"
