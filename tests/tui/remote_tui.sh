#!/bin/bash
# Remote mode (issue 12) in the TUI: gantry run as g12alice (runuser) under tmux, talking to
# gantryd (tests/lib/gantryd.sh). The header says whom gantryd serves; a launch from the form
# runs through the daemon and its log streams in the Job view; a job another process launches
# appears through the daemon's events; x stops the job; the daemon going away is a message.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/common.sh"
set +e # the tmux helpers check each step themselves
. "${GANTRY_SRCDIR:-.}/tests/lib/gantryd.sh"
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"

gd_users
REAL_GANTRY=$GANTRY_BIN
GD_DIR=$(mktemp -d /tmp/gantry-remote-tui.XXXXXX)
chmod 0755 "$GD_DIR"
mkdir -p "$GD_DIR/run/system/templates"
cat >"$GD_DIR/run/system/templates/gd-sleep.yaml" <<'YAML'
name: gd-sleep
kind: training
description: Says hello, then sleeps until stopped.
resources: {accelerators: none, cpus: 1}
limits: {max_runtime: 10m}
run: echo "remote says hello"; sleep 300
YAML
gd_start "$GD_DIR/run" || exit 1
chmod 0644 "$GD_SYSTEM/templates/gd-sleep.yaml"

# gantry as g12alice: nothing of root's environment but the terminal
cat >"$GD_DIR/gantry-alice" <<EOF
#!/bin/sh
exec runuser -u g12alice -- env -i PATH=/usr/bin:/bin HOME=$(getent passwd g12alice | cut -d: -f6) \
	TERM="\$TERM" LANG=C.UTF-8 LC_ALL=C.UTF-8 GANTRY_DAEMON="$GD_SOCK" \
	GANTRY_SYSTEM_DIR="$GD_SYSTEM" GANTRY_DATADIR="$GANTRY_DATADIR" "$REAL_GANTRY" "\$@"
EOF
chmod 0755 "$GD_DIR/gantry-alice"
GANTRY_BIN=$GD_DIR/gantry-alice

tui_setup
trap 'tui_cleanup; gd_stop; rm -rf "$GD_DIR"; t_cleanup' EXIT
tui_start 120 40

# the header names the user gantryd sees (from the kernel), not user@host
tui_wait 'gantryd: g12alice \('
tui_assert_no 'g12alice@'
tui_wait 'gd-sleep +training'

# launch gd-sleep from its form
tui_keys Home
tui_wait '▶ gd-sleep'
tui_keys Enter
tui_wait 'Launch gd-sleep'
# the plan comes from gantryd: its verdict shows before the launch
tui_wait 'Fits +yes'
tui_wait 'Command +echo "remote says hello"'
tui_keys Enter
tui_wait 'Job gd-sleep-1'
tui_wait 'State +RUNNING'
tui_wait 'Owner +g12alice'
# the log through the daemon's logs stream
tui_wait 'remote says hello'
[ "$(tui_json_state gd-sleep-1)" = RUNNING ] || tui_fail "ls -o json does not say RUNNING"

# a job launched by another process shows up through gantryd's events
tui_keys Escape
tui_wait 'Jobs \(1\)'
"$GANTRY_BIN" launch gd-sleep --name other-1 >/dev/null 2>&1 || tui_fail "the CLI launch failed"
tui_wait 'other-1 +training +RUNNING'
"$GANTRY_BIN" stop other-1 >/dev/null 2>&1 || tui_fail "the CLI stop failed"
tui_wait 'other-1 +training +STOPPED'

# stop gd-sleep-1 from the TUI (x asks, y stops)
tui_wait '▶ other-1|▶ gd-sleep-1'
if ! tui_screen | grep -q '▶ gd-sleep-1'; then
	tui_keys j
	tui_wait '▶ gd-sleep-1'
fi
tui_keys Enter
tui_wait 'Job gd-sleep-1'
tui_keys x
tui_wait 'Stop gd-sleep-1 \(j[0-9a-f]+, RUNNING'
tui_keys y
tui_wait 'State +STOPPED'
[ "$(tui_json_state gd-sleep-1)" = STOPPED ] || tui_fail "ls -o json does not say STOPPED"
tui_keys Escape
tui_wait 'gd-sleep-1 +training +STOPPED'

# gantryd going away: the message line says so; the TUI keeps running and quits cleanly
gd_stop
tui_wait "gantryd at $GD_SOCK: closed the connection"
tui_quit
echo "ok - the TUI through gantryd: header, launch, log, events, stop, daemon gone"
