#!/usr/bin/env bash
# A reason that changes while the state stays (interface v2, engine_refresh_done): a local
# job keeps RUNNING when its supervisor is killed, and the provider then says why ("the job's
# supervisor died ..."). That reason is persisted: the job's reason and an event
# RUNNING -> RUNNING, shown by `gantry show`, recorded once however often it is refreshed.
. "$(dirname "$0")/../lib/common.sh"

mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/sleeper.yaml" <<'YAML'
name: sleeper
kind: training
description: sleeps
run: exec sleep 1000
YAML

expect_rc 0 "launch sleeper" g launch sleeper
check "sleeper RUNNING" wait_state sleeper-1 RUNNING 20
id=$(job_field sleeper-1 id)
dir=$T_HOME/state/jobs/$id
sup=$(cut -d' ' -f1 "$dir/supervisor.pid")
check "its reason is not about the supervisor yet" bash -c '! job_field sleeper-1 reason | grep -q supervisor'
kill -KILL "$sup"
check "the supervisor is gone" wait_for 10 bash -c "! kill -0 $sup 2>/dev/null"
# `ls` refreshes every active job from its provider
supervised() { g ls >/dev/null && job_field sleeper-1 reason | grep -q "supervisor died"; }
check "the new reason is the job's reason" wait_for 20 supervised
check "the state did not change" bash -c '[ "$(job_field sleeper-1 state)" = RUNNING ]'
g show sleeper-1 >"$T_HOME/show"
check "show lists the reason as an event" grep -Eq "RUNNING *-> RUNNING.*supervisor died" "$T_HOME/show"
g ls >/dev/null
g ls >/dev/null
g show sleeper-1 >"$T_HOME/show"
check "recorded once, not on every refresh" bash -c "[ \$(grep -c 'supervisor died' '$T_HOME/show') = 2 ]"
expect_rc 0 "stop it" g stop sleeper-1
check "sleeper STOPPED" wait_state sleeper-1 STOPPED 20
t_done
