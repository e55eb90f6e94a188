#!/usr/bin/env bash
# budget_stop.sh: a budget with `action: stop` whose hard limit is passed while a job runs:
# a watching gantry warns, waits the grace period, then stops the scope's job with a reason
# that names the budget. A job of another team is left alone.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
watch_pid=
trap 'if [ -n "$watch_pid" ]; then kill "$watch_pid" 2>/dev/null || :; fi; t_cleanup' EXIT

me=$(id -un)
mkdir -p "$T_HOME/config/templates"
cat >"$T_HOME/config/templates/spin.yaml" <<'YAML'
name: spin
kind: training
description: Sleeps.
resources:
  accelerators: none
  cpus: 1
run: sleep 600
YAML
# 36,000 $/CPU-hour: $10 a second, so a $1 budget is passed within a second
printf 'refresh_ms: 300\nteam: ml\nproviders:\n  local:\n    rate_cpu_hour: 36000\n' \
	>"$T_HOME/config/config.yaml"
expect_rc 0 "launch before any budget exists" g launch spin --name spender --detach
check "it runs" wait_state spender RUNNING 20
# the other team's job: same user, other config (team: other)
sed 's/^team: ml$/team: other/' "$T_HOME/config/config.yaml" >"$T_HOME/other.yaml"
cp "$T_HOME/other.yaml" "$T_HOME/config/config.yaml"
expect_rc 0 "launch a job billed to another team" g launch spin --name bystander --detach
check "it runs too" wait_state bystander RUNNING 20
cat >"$T_HOME/config/config.yaml" <<YAML
refresh_ms: 300
team: ml
providers:
  local:
    rate_cpu_hour: 36000
budgets:
  - {scope: team, name: ml, monthly: 1, action: stop, grace: 2s}
YAML
"$GANTRY_BIN" watch >"$T_HOME/watch.out" 2>&1 &
watch_pid=$!
check "the team's job is stopped after the grace period" wait_state spender STOPPED 30
check "the watch warned first, naming the grace" grep -q "budget: .*its jobs stop in 2 s" "$T_HOME/watch.out"
check "the stop reason names the budget" bash -c "g show spender -o json | grep -q 'budget: team ml'"
check "the other team's job still runs" bash -c '[ "$(job_field bystander state)" = RUNNING ]'
expect_rc 0 "stop the bystander" g stop bystander

t_done
