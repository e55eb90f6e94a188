#!/bin/bash
# The Approvals view (issue 12): root's role (admin and approver) needs approval above $20/h;
# two launches of a $30/h template wait. A (Approvals) lists them with the requester, the
# price and why; `a` approves the first after a reason (it runs), `d` with no reason is
# refused on the status line, `d` with one denies the second (STOPPED, the reason kept).
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
mkdir -p "$GANTRY_HOME/config/templates" "$GANTRY_SYSTEM_DIR"
cat >"$GANTRY_HOME/config/config.yaml" <<'YAML'
refresh_ms: 300
providers:
  local:
    rate_cpu_hour: 15
YAML
cat >"$GANTRY_HOME/config/templates/big.yaml" <<'YAML'
name: big
kind: training
description: two CPUs, sleeps until stopped
resources: {accelerators: none, cpus: 2}
run: sleep 300
YAML
cat >"$GANTRY_SYSTEM_DIR/policy.yaml" <<YAML
roles:
  admin:
    users: [$(id -un)]
    admin: true
    approver: true
    approval: {above_hourly_cost: 20}
YAML
for n in 1 2; do
	"$GANTRY_BIN" launch big >/dev/null 2>&1 || tui_fail "launch big failed"
	[ "$(tui_json_state big-$n)" = PENDING_APPROVAL ] || tui_fail "big-$n does not wait for approval"
done

tui_start 150 30
tui_wait 'Templates'
tui_keys A
tui_wait 'Approvals .* 2 launches waiting for your decision'
tui_wait 'big-2 +[a-z0-9_]+ +big +local +0 +\$30\.00 +.*above_hourly_cost'
tui_wait 'big-1 +[a-z0-9_]+ +big +local +0 +\$30\.00'
# the list is newest first: go to big-1
tui_keys j
tui_keys a
tui_wait 'approve, reason:'
tui_type "fine for the demo"
tui_keys Enter
tui_wait 'big-1 approved'
tui_wait 'Approvals .* 1 launch waiting'
for _ in $(seq 1 100); do
	[ "$(tui_json_state big-1)" = RUNNING ] && break
	sleep 0.2
done
[ "$(tui_json_state big-1)" = RUNNING ] || tui_fail "big-1 does not run after the approval"
"$GANTRY_BIN" show big-1 | grep -q '^approval:  approved by .*: fine for the demo$' ||
	tui_fail "show does not say who approved and why"

# a denial needs a reason: refused on the status line, the job still waits
tui_keys d
tui_wait 'deny, reason:'
tui_keys Enter
tui_wait 'big-2: a denial needs a reason'
[ "$(tui_json_state big-2)" = PENDING_APPROVAL ] || tui_fail "big-2 no longer waits"
tui_keys d
tui_wait 'deny, reason:'
tui_type "too big today"
tui_keys Enter
tui_wait 'big-2 denied'
tui_wait 'no launch is waiting for your approval'
[ "$(tui_json_state big-2)" = STOPPED ] || tui_fail "big-2 is not STOPPED"
"$GANTRY_BIN" show big-2 | grep -q '^reason: *denied by .*: too big today$' ||
	tui_fail "big-2's reason does not say who denied it and why"

# the requester's side: the Jobs view, and the Job view's Approval row
tui_keys J
tui_wait 'big-1 .*RUNNING'
tui_keys :
tui_type "job big-2"
tui_keys Enter
tui_wait 'Reason +denied by [a-z0-9_]+: too big today'
tui_wait 'Approval +denied by [a-z0-9_]+: too big today'
tui_keys Escape
tui_keys :
tui_type "job big-1"
tui_keys Enter
tui_wait 'Approval +approved by [a-z0-9_]+: fine for the demo'
tui_keys Escape
# a launch from the form that needs approval says so
tui_keys t
tui_wait 'Templates'
tui_keys /
tui_type big
tui_keys Enter
tui_wait 'big +training'
tui_keys Enter
tui_wait 'Launch big'
tui_keys C-s
tui_wait 'big-3 is waiting for approval: \$30\.00/h is above'
[ "$(tui_json_state big-3)" = PENDING_APPROVAL ] || tui_fail "big-3 does not wait for approval"
"$GANTRY_BIN" stop big-1 >/dev/null 2>&1
"$GANTRY_BIN" stop big-3 >/dev/null 2>&1
tui_quit
echo "ok - the Approvals view lists, approves and denies"
