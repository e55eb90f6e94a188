#!/bin/bash
# `s` and `f` in the TUI on a job that runs on a real OpenSSH worker: the shell takes the
# terminal, runs a command whose output and exit status come back, and the TUI is intact
# afterwards; `f` forwards the job's port and shows a URL that curl can fetch.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
. "${GANTRY_SRCDIR:-.}/tests/lib/sshrig.sh"
trap 'rig_cleanup; tui_cleanup' EXIT
rig_workers 1 2
mkdir -p "$GANTRY_HOME/config/templates"
rig_web_template "$GANTRY_HOME/config/templates/web.yaml" hello-through-tui
"$GANTRY_BIN" launch web --name web1 >/dev/null 2>&1 || tui_fail "launch on the fleet failed"

tui_start 120 40 -- --view jobs
tui_wait 'web1 +endpoint +RUNNING 1/1 +fleet'

# s: the shell on the worker; the TUI gives up the screen under a banner naming the worker
# as the engine describes it (engine_job_shell_info)
tui_keys s
tui_wait "^\[gantry: a shell on web1's worker, gpu1 \(root@127\.0\.0\.2:[0-9]+\); exit or Ctrl-D"
tui_wait '[#$] *$'
tui_type 'echo "remote-$((6*7))-$(basename "$PWD")"'
tui_keys Enter
tui_wait 'remote-42-j[0-9a-f]+'
tui_type 'exit 4'
tui_keys Enter
# back in the TUI, intact, with the shell's exit status in the status line
tui_wait 'shell on web1 ended \(exit 4\)'
tui_wait 'web1 +endpoint +RUNNING 1/1 +fleet'
tui_wait 'Jobs \(1\)'
tui_assert_no 'remote-42'

# f: forward the job's port, show the URL, fetch it
tui_keys f
tui_wait 'forward up: open http://127\.0\.0\.1:[0-9]+/'
url=$(tui_screen | grep -o 'http://127\.0\.0\.1:[0-9]*/' | head -1)
[ -n "$url" ] || tui_fail "no URL on the screen"
curl -fsS "$url" | grep -qx hello-through-tui || tui_fail "curl through the TUI's forward failed ($url)"
tui_wait '1 forward'
# the Job view lists it
tui_keys Enter
tui_wait 'Forward 127\.0\.0\.1:[0-9]+ -> gpu1:[0-9]+ +up'
tui_wait 'Worker gpu1 \(127\.0\.0\.2:[0-9]+\): up'
tui_keys Escape

tui_quit
echo "ok - shell and forward from the TUI"
