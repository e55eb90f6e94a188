#!/bin/bash
# Config changes apply live: with the TUI open, a lower budget in config.yaml makes the launch
# form's verdict OVER BUDGET and refuses the launch without a restart; the header says the
# file was reloaded. An invalid file is named with FILE:LINE:COL in the header and the old
# settings stay; `:reload` reads it again on demand.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
me=$(id -un)
cfg=$GANTRY_HOME/config/config.yaml
mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/quick.yaml" <<'EOF'
name: quick
kind: training
description: a short job
params:
  secs: {type: int, default: 1, min: 0, max: 60}
resources:
  accelerators: none
  cpus: 1
run: sleep {{secs}}
EOF
# budget MONTHLY: writes config.yaml with that monthly budget (36 $/h, 1 h counted).
budget() {
	cat >"$cfg.new" <<EOF
providers:
  local: {rate_cpu_hour: 36}
budgets:
  - {scope: user, name: $me, monthly: $1, soft: 0.9, hard: 1}
EOF
	mv "$cfg.new" "$cfg"
}
budget 100

tui_start 160 40
tui_wait 'Templates \([0-9]+'
for _ in $(seq 1 20); do
	tui_screen | grep -Eq 'a short job' && break
	tui_keys j
	sleep 0.1
done
tui_keys Enter
tui_wait 'Launch quick'
tui_wait 'Budget +ok: .*of \$100\.00'

# Lower the budget: the open form's verdict follows, and Enter is refused.
budget 5
tui_wait '\[config reloaded [0-9:]+\]'
tui_wait 'Budget +OVER BUDGET: .*of \$5\.00'
tui_wait 'cannot launch: over budget'
tui_keys Enter
tui_wait 'cannot launch: over budget'
tui_wait 'Launch quick'
[ "$("$GANTRY_BIN" ls -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 0 ] ||
	tui_fail "a job was launched over the lowered budget"

# An invalid file: the header names it with FILE:LINE:COL; the old settings stay.
printf 'budgets:\n  - {scope: user, name: %s, monthly: 100\n' "$me" >"$cfg.new"
mv "$cfg.new" "$cfg"
tui_wait '\[config error: [^]]*config\.yaml:[0-9]+:[0-9]+'
tui_wait 'Budget +OVER BUDGET: .*of \$5\.00'

# :reload (from Templates; in the form `:` is typed into the field) says why it failed.
tui_keys Escape
tui_wait 'Templates \('
tui_type ':reload'
tui_keys Enter
tui_wait 'config\.yaml not reloaded .*config\.yaml:[0-9]+:[0-9]+'
# Fixed: the error goes, the higher budget applies again.
budget 100
tui_wait_gone '\[config error'
tui_wait '\[config reloaded'
tui_keys Enter
tui_wait 'Launch quick'
tui_wait 'Budget +ok: .*of \$100\.00'
tui_keys Escape
tui_wait 'Templates \('
tui_quit
echo "ok - config.yaml reloads live, errors named, :reload"
