#!/bin/bash
# The Job view's URL row carries the notebook's token; `o` (Jobs and Job views) shows the URL
# and copies it; inside tmux the copy goes through tmux itself (load-buffer -w: its paste
# buffer, and the outer terminal's clipboard with OSC 52 when one is attached), which works
# with tmux's default set-clipboard (external). `gantry open` in a tmux pane does the same;
# `f` on a job of this host shows the URL instead of failing.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
here=$(cd "$(dirname "$0")" && pwd)
tui_setup
# wait_buffer WANT: polls until tmux's paste buffer is WANT.
wait_buffer() {
	local i
	for ((i = 0; i < TUI_TIMEOUT * 10; i++)); do
		[ "$(tmx show-buffer 2>/dev/null)" = "$1" ] && return 0
		sleep 0.1
	done
	tui_fail "tmux's buffer is '$(tmx show-buffer 2>&1)', wanted '$1'"
}
mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/nb.yaml" <<YAML
name: nb
kind: notebook
description: a stand-in for Jupyter's API
service: {readiness: /api, readiness_timeout: 30}
run: exec python3 '$here/../lib/jupyter_standin.py' idle 0
YAML
"$GANTRY_BIN" launch nb --name nb1 >/dev/null 2>&1 || tui_fail "launch nb failed"
url=$("$GANTRY_BIN" open --print nb1) || tui_fail "gantry open --print failed"
[[ $url == http://127.0.0.1:*/?token=* ]] || tui_fail "open --print gave '$url'"
tok=${url#*token=}
[ ${#tok} -ge 32 ] || tui_fail "short token in '$url'"

tui_start 160 40 -- --view jobs
tui_wait 'nb1 +notebook +RUNNING'
tmx delete-buffer 2>/dev/null
tui_keys o
tui_wait "copied: http://127\\.0\\.0\\.1:[0-9]+/\\?token=$tok"
wait_buffer "$url"

tui_keys Enter
tui_wait 'Job nb1'
tui_wait "URL +http://127\\.0\\.0\\.1:[0-9]+/\\?token=$tok"
tmx delete-buffer 2>/dev/null
tui_keys o
tui_wait "copied: http://127\\.0\\.0\\.1:[0-9]+/\\?token=$tok"
wait_buffer "$url"
tui_keys f
tui_wait "no forward needed: open http://127\\.0\\.0\\.1:[0-9]+/\\?token=$tok"
tui_keys '?'
tui_wait 'o +the job.s URL with its token'
tui_keys q
tui_quit

# gantry open in a tmux pane: the URL printed and in tmux's buffer
tmx delete-buffer 2>/dev/null
tmx respawn-pane -k -t "$TUI_SESSION" "env GANTRY_HOME=$GANTRY_HOME GANTRY_SYSTEM_DIR=$GANTRY_SYSTEM_DIR ${GANTRY_DATADIR:+GANTRY_DATADIR=$GANTRY_DATADIR} $GANTRY_BIN open nb1"
tui_wait 'Copied to the clipboard \(through tmux\)'
wait_buffer "$url"
# with set-clipboard off it is not copied, and says so
tmx set-option -g set-clipboard off
tmx delete-buffer 2>/dev/null
tmx respawn-pane -k -t "$TUI_SESSION" "env GANTRY_HOME=$GANTRY_HOME GANTRY_SYSTEM_DIR=$GANTRY_SYSTEM_DIR ${GANTRY_DATADIR:+GANTRY_DATADIR=$GANTRY_DATADIR} $GANTRY_BIN open nb1"
tui_wait "Not copied to the clipboard: tmux's set-clipboard is off"
tmx show-buffer >/dev/null 2>&1 && tui_fail "copied although set-clipboard is off"
"$GANTRY_BIN" stop nb1 >/dev/null 2>&1 || tui_fail "stop nb1 failed"

# once the job has ended, its Job view shows no dead URL (with the old token) to click
tui_start 160 40 -- --view jobs
tui_wait 'nb1 +notebook +STOPPED'
tui_keys Enter
tui_wait 'Job nb1'
tui_wait 'URL +- \(the job has ended: nothing listens there now\)'
tui_assert_no "token=$tok"
tui_quit
echo "PASS"
