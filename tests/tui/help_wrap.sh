#!/bin/bash
# The ? help at 80x24 wraps a long key description instead of cutting it ("shown and copied
# to the cl…"), and scrolling to the end still reaches the last key.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
tui_start 80 24 -- --view jobs
tui_wait 'Jobs \('
tui_keys '?'
tui_wait 'Help . Jobs keys'
tui_wait '^  o  +the job.s URL with its token'
tui_wait '^ {20,}clipboard \(forwarded if remote\)'
tui_assert_no 'copied to the cl…'
tui_keys G
tui_wait '^  \^c +quit'
tui_wait '^ {20,}NAME, help, q'
tui_keys g
tui_wait '^  Enter +open the job'
tui_keys Escape
tui_wait 'Jobs \('
tui_quit
echo "ok - help wraps long descriptions at 80 columns"
