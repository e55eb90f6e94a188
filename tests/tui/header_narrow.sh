#!/bin/bash
# At 80x24 with a budget (gauge and burn rate in the header) the header still says that
# config.yaml changed or is broken: the right side gives way, the flag is never cut to
# "[conf". The full error stays readable in the message log (m).
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
me=$(id -un)
cfg=$GANTRY_HOME/config/config.yaml
mkdir -p "$GANTRY_HOME/config"
chmod 700 "$GANTRY_HOME" "$GANTRY_HOME/config"
printf 'budgets:\n  - {scope: user, name: %s, monthly: 0.05}\n' "$me" >"$cfg"

tui_start 80 24 -- --view jobs
tui_wait 'Jobs \('
tui_wait 'burn \$'

# A broken file: the first row says so, whole words.
printf 'budgets:\n  - {scope: user, name: %s, monthly: 0.05\n' "$me" >"$cfg.new"
mv "$cfg.new" "$cfg"
tui_wait 'config.yaml has an error'
tui_screen | head -1 | grep -Eq '\[config error[]:]' ||
	tui_fail "the header does not show [config error] at 80 columns: $(tui_screen | head -1)"
tui_screen | head -1 | grep -Eq '[0-9]{2}:[0-9]{2}:[0-9]{2} *$' ||
	tui_fail "the clock went missing: $(tui_screen | head -1)"

# Mended: the header says reloaded, with its time.
printf 'budgets:\n  - {scope: user, name: %s, monthly: 0.10}\n' "$me" >"$cfg.new"
mv "$cfg.new" "$cfg"
tui_wait '^ gantry .*\[config reloaded [0-9]{2}:[0-9]{2}:[0-9]{2}\]'
tui_quit
echo "ok - the header's config flag survives 80 columns"
