#!/bin/bash
# --readonly: launching and stopping are refused with a message; browsing works.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
out=$("$GANTRY_BIN" launch http-endpoint) || tui_fail "gantry launch failed: $out"
tui_start 120 40 -- --readonly

tui_wait 'read-only'
tui_wait 'Templates \('
tui_keys Enter
tui_wait 'Launch hello'
tui_wait 'cannot launch: read-only mode'
tui_keys Tab
tui_keys Enter
tui_wait 'read-only mode \(--readonly\): launching jobs is disabled'
tui_keys Escape
tui_keys 2
tui_wait 'http-endpoint-1 +endpoint +(STARTING|RUNNING)'
tui_assert_no '\^d stop'
tui_keys C-d
tui_wait 'read-only mode \(--readonly\): stopping jobs is disabled'
tui_assert_no '\[y\] yes'
tui_keys Enter
tui_wait 'Job http-endpoint-1'
tui_keys x
tui_wait 'stopping jobs is disabled'
tui_assert_no '\[y\] yes'
tui_quit
state=$(tui_json_state http-endpoint-1)
case $state in
STARTING | RUNNING) ;;
*) tui_fail "the job is $state after a read-only session" ;;
esac
echo "ok - read-only refuses launch and stop"
