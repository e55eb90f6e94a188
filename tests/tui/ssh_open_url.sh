#!/bin/bash
# `o` in the TUI on a notebook that runs on a real OpenSSH worker: its Jupyter listens on the
# worker's loopback, so `o` forwards the port to 127.0.0.1 here first, then shows and copies
# (through tmux) the forward's URL with the job's token; a second `o` reuses the forward.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
. "${GANTRY_SRCDIR:-.}/tests/lib/sshrig.sh"
trap 'rig_cleanup; tui_cleanup' EXIT
here=$(cd "$(dirname "$0")" && pwd)
rig_workers 1 0
mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/nb.yaml" <<EOF
name: nb
kind: notebook
description: a stand-in for Jupyter's API on the worker
placement: {providers: [fleet]}
service: {readiness: /api, readiness_timeout: 30}
run: exec python3 '$here/../lib/jupyter_standin.py' idle 0
EOF
"$GANTRY_BIN" launch nb --name rnb >/dev/null 2>&1 || tui_fail "launch on the fleet failed"
tok=$(cat "$GANTRY_HOME"/state/secrets/*.token)
[ -n "$tok" ] || tui_fail "no token"

tui_start 160 40 -- --view jobs
tui_wait 'rnb +notebook +RUNNING +fleet'
tmx delete-buffer 2>/dev/null
tui_keys o
tui_wait "copied: http://127\\.0\\.0\\.1:[0-9]+/\\?token=$tok"
url=$(tui_screen | grep -o "http://127\\.0\\.0\\.1:[0-9]*/?token=$tok" | head -1)
for ((i = 0; i < 100; i++)); do
	[ "$(tmx show-buffer 2>/dev/null)" = "$url" ] && break
	sleep 0.1
done
[ "$(tmx show-buffer 2>/dev/null)" = "$url" ] || tui_fail "tmux's buffer is '$(tmx show-buffer 2>&1)', wanted $url"
curl -fsS "${url%%\?*}api" | grep -q version || tui_fail "the forward does not reach the notebook ($url)"
tui_wait '1 forward'
# the second o copies the same forward's URL again, no second forward
tmx delete-buffer 2>/dev/null
tui_keys o
for ((i = 0; i < 100; i++)); do
	[ "$(tmx show-buffer 2>/dev/null)" = "$url" ] && break
	sleep 0.1
done
[ "$(tmx show-buffer 2>/dev/null)" = "$url" ] || tui_fail "second o: buffer '$(tmx show-buffer 2>&1)'"
tui_wait '1 forward'
tui_quit
echo "ok - o forwards a remote notebook and copies its URL with the token"
