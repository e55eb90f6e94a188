#!/bin/bash
# LANG=C: ASCII glyphs only, on every view.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
"$GANTRY_BIN" launch hello >/dev/null || tui_fail "gantry launch hello failed"
tui_start 100 30 LANG=C LC_ALL=C

# check_ascii: the screen holds no byte outside printable ASCII.
check_ascii() {
	if tui_screen | LC_ALL=C grep -q '[^ -~]'; then
		tui_screen | LC_ALL=C grep -n '[^ -~]' | head -5 >&2
		tui_fail "non-ASCII bytes on the screen ($1)"
	fi
}

tui_wait 'Templates \('
tui_wait '> hello'
check_ascii templates
tui_keys Enter
tui_wait 'Launch hello'
check_ascii form
tui_keys Escape 2
tui_wait 'hello-1 +training +SUCCEEDED'
check_ascii jobs
tui_keys Enter
tui_wait 'hello world'
tui_wait 'Events -+'
check_ascii job
tui_keys '?'
tui_wait 'Help'
check_ascii help
tui_keys q Escape
tui_wait 'Jobs \('
tui_quit
echo "ok - ASCII only under LANG=C"
