#!/bin/bash
# While the TUI is open, the engine reconciles every `reconcile_ms`: an orphan labelled with
# this store's installation id (a job directory whose job is not in the store) is reported as
# a message, and kept: only `gantry reconcile --terminate-orphans` ends it.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
mkdir -p "$GANTRY_HOME/config"
printf 'reconcile_ms: 1000\n' >"$GANTRY_HOME/config/config.yaml"
"$GANTRY_BIN" ls >/dev/null || tui_fail "gantry ls failed"
db=$GANTRY_HOME/state/gantry.db
inst=$(sqlite3 "$db" "SELECT value FROM meta WHERE key='installation_id'")
[ -n "$inst" ] || tui_fail "no installation id in $db"
id=j00c0ffee00c0ffee
mkdir -p "$GANTRY_HOME/state/jobs/$id/work"
printf 'job_id=%s\nowner=%s\ninstallation_id=%s\n' "$id" "$(id -un)" "$inst" \
	>"$GANTRY_HOME/state/jobs/$id/meta"
GANTRY_JOB_ID=$id setsid sleep 1000 </dev/null >/dev/null 2>&1 &
orphan=$!
echo "$orphan $(cut -d' ' -f22 /proc/$orphan/stat)" >"$GANTRY_HOME/state/jobs/$id/pid"

tui_start 220 40
tui_wait 'Templates \([0-9]+'
tui_wait "reconcile: 1 resource of this installation belongs to no job" 30
kill -0 "$orphan" 2>/dev/null || tui_fail "the watching reconcile ended the orphan"
tui_quit
kill -0 "$orphan" 2>/dev/null || tui_fail "the orphan is gone after the TUI quit"
kill "$orphan"
echo "PASS: reconcile while watching reports an orphan and keeps it"
