#!/usr/bin/env bash
# Approvals through gantryd (issue 12), real users: g12alice (role ml: approval above $20/h)
# launches a $30/h template through the daemon: it waits in PENDING_APPROVAL, nothing runs;
# g12bob (not an approver) can neither approve nor deny it and does not see it in his list;
# g12alice cannot approve her own; g12carol (admins: approver) sees it and approves it: it
# runs, and g12alice's `gantry show` says "approved by g12carol: REASON". A second launch is
# denied by g12carol: STOPPED, and g12alice sees who and why.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/gantryd.sh"

gd_users
dir=$T_HOME/gd
mkdir -p "$dir/home/config" "$dir/system/templates"
# the service's local jobs cost $15 per CPU-hour: gd-big (2 CPUs) $30/h
cat >"$dir/home/config/config.yaml" <<'EOF'
refresh_ms: 300
providers:
  local:
    rate_cpu_hour: 15
EOF
chown -R g12svc: "$dir/home"
cat >"$dir/system/templates/gd-big.yaml" <<'EOF'
name: gd-big
kind: training
description: two CPUs, sleeps until stopped
resources: {accelerators: none, cpus: 2}
run: sleep 300
EOF
chmod -R a+rX "$dir/system"
cat >"$T_HOME/policy.yaml" <<'EOF'
roles:
  admins: {groups: [g12-admins], admin: true, approver: true, see: all}
  ml:
    groups: [g12-ml]
    providers: [local]
    templates: [hello, gd-*]
    see: own
    approval: {above_hourly_cost: 20}
  vision:
    groups: [g12-vision]
    providers: [local]
    templates: [hello, gd-*]
    see: own
EOF
chmod 0755 "$T_HOME"
gd_start "$dir" "$T_HOME/policy.yaml" || exit 1
gd_cleanup() { # the service's job processes, then the daemon, then ours
	local f pid
	for f in "$GD_HOME"/state/jobs/*/pid "$GD_HOME"/state/jobs/*/supervisor.pid; do
		[ -f "$f" ] || continue
		pid=$(cut -d' ' -f1 "$f")
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || :
	done
	gd_stop
	t_cleanup
}
trap gd_cleanup EXIT

# as USER CMD with the output in $T_HOME/out and err
asg() { as "$@" >"$T_HOME/out" 2>"$T_HOME/err"; }
field() { # USER JOB FIELD: a field of `gantry show -o json` as USER
	as "$1" "$GANTRY_BIN" show "$2" -o json | python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$3"
}
export -f as asg field

expect_rc 0 "alice's launch above the threshold is accepted" as g12alice "$GANTRY_BIN" launch gd-big
check "it says it waits for approval" grep -q "gd-big-1 is waiting for approval: \$30.00/h is above roles.ml.approval.above_hourly_cost" "$T_HOME/err"
check "gd-big-1 is PENDING_APPROVAL" bash -c '[ "$(field g12alice gd-big-1 state)" = PENDING_APPROVAL ]'
check "owned by alice" bash -c '[ "$(field g12alice gd-big-1 owner)" = g12alice ]'
check "nothing was handed to a provider" bash -c '[ -z "$(field g12alice gd-big-1 provider_ref)" ]'

# bob is no approver
expect_rc 0 "bob's approvals" as g12bob "$GANTRY_BIN" approvals
check "bob's list is empty" grep -q "no launch is waiting for your approval" "$T_HOME/out"
expect_rc 1 "bob cannot approve it" as g12bob "$GANTRY_BIN" approve gd-big-1 --reason "sure"
check "refused: role vision is not an approver" grep -q "g12bob may not decide approvals: role vision is not an approver" "$T_HOME/err"
expect_rc 1 "bob cannot deny it" as g12bob "$GANTRY_BIN" deny gd-big-1 --reason "no"
# nor can alice decide her own
expect_rc 1 "alice cannot approve her own launch" as g12alice "$GANTRY_BIN" approve gd-big-1
check "refused with a clear message" grep -q "g12alice may not decide approvals: role ml is not an approver" "$T_HOME/err"
check "it still waits" bash -c '[ "$(field g12alice gd-big-1 state)" = PENDING_APPROVAL ]'

# carol approves
expect_rc 0 "carol's approvals" as g12carol "$GANTRY_BIN" approvals -o json
check "carol sees gd-big-1 from g12alice" python3 -c 'import json,sys
a = json.load(open(sys.argv[1])); assert [(j["name"], j["owner"], j["state"]) for j in a] == [("gd-big-1", "g12alice", "PENDING_APPROVAL")], a' "$T_HOME/out"
expect_rc 0 "carol approves it" as g12carol "$GANTRY_BIN" approve gd-big-1 --reason "fits the plan"
check "gd-big-1 runs" wait_for 30 bash -c '[ "$(field g12alice gd-big-1 state)" = RUNNING ]'
check "alice's show: approved by g12carol with the reason" bash -c 'as g12alice "$GANTRY_BIN" show gd-big-1 | grep -q "^approval:  approved by g12carol: fits the plan$"'
check "alice's -o json: decided_by g12carol" bash -c '[ "$(field g12alice gd-big-1 decided_by)" = g12carol ] && [ "$(field g12alice gd-big-1 approval)" = approved ]'
check "still alice's job (not carol's)" bash -c '[ "$(field g12alice gd-big-1 owner)" = g12alice ]'

# carol denies the next one
expect_rc 0 "alice's second launch" as g12alice "$GANTRY_BIN" launch gd-big
expect_rc 2 "a denial without a reason" as g12carol "$GANTRY_BIN" deny gd-big-2
expect_rc 0 "carol denies it" as g12carol "$GANTRY_BIN" deny gd-big-2 --reason "one is enough"
check "gd-big-2 STOPPED" bash -c '[ "$(field g12alice gd-big-2 state)" = STOPPED ]'
check "alice sees who denied it and why" bash -c 'as g12alice "$GANTRY_BIN" show gd-big-2 | grep -q "^approval:  denied by g12carol: one is enough$"'
check "the reason too" bash -c '[ "$(field g12alice gd-big-2 reason)" = "denied by g12carol: one is enough" ]'
expect_rc 1 "approving a denied launch fails" as g12carol "$GANTRY_BIN" approve gd-big-2
check "it is not waiting" grep -q "not waiting for approval" "$T_HOME/err"

as g12alice "$GANTRY_BIN" stop gd-big-1 >/dev/null 2>&1
echo "# $T_CHECKS checks, $T_FAILS failed"
[ "$T_FAILS" = 0 ]
