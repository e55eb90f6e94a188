#!/usr/bin/env bash
# Approvals in embedded mode (issue 12), real processes: root's role (admin and approver)
# needs approval above $20/h. A launch below runs at once; one above waits in
# PENDING_APPROVAL with no process, no provider handle and no launch intent; approving it
# launches it; denying another ends it STOPPED with the reason; a user whose role is no
# approver (runuser, his own GANTRY_HOME) is refused with a clear message.
. "$(dirname "$0")/../lib/common.sh"

[ "$(id -u)" = 0 ] || {
	[ "${CI:-}" = true ] && { echo "FAIL - needs root (CI runs tests as root)"; exit 1; }
	echo "SKIP: needs root (runuser)"
	exit 77
}

mkdir -p "$GANTRY_HOME/config/templates" "$GANTRY_SYSTEM_DIR"
# local jobs cost $15 per CPU-hour: small (1 CPU) $15/h, big (2 CPUs) $30/h
cat >"$GANTRY_HOME/config/config.yaml" <<'EOF'
refresh_ms: 300
providers:
  local:
    rate_cpu_hour: 15
EOF
for t in small:1 big:2; do
	cat >"$GANTRY_HOME/config/templates/${t%:*}.yaml" <<EOF
name: ${t%:*}
kind: training
description: sleeps until stopped
resources: {accelerators: none, cpus: ${t#*:}}
run: sleep 300
EOF
done
cat >"$GANTRY_SYSTEM_DIR/policy.yaml" <<'EOF'
roles:
  admin:
    users: [root]
    admin: true
    approver: true
    approval: {above_hourly_cost: 20}
  ml:
    users: [g12apuser]
    approval: {above_hourly_cost: 20}
EOF

# intents of a job in the store (python's sqlite3: no sqlite3 CLI needed)
intents() {
	python3 -c 'import sqlite3,sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("select count(*) from intents where job_id = ?", (sys.argv[2],)).fetchone()[0])' \
		"$1/state/gantry.db" "$2"
}
export -f intents

# below the threshold: runs at once
expect_rc 0 "a launch below the threshold" g launch small --detach
check "small-1 runs" wait_state small-1 RUNNING 20
check "small-1 needed no approval" bash -c '[ -z "$(job_field small-1 approval)" ]'

# above: waits, holds nothing
expect_rc 0 "a launch above the threshold is accepted" g launch big
check "it says it waits for approval" grep -q "big-1 is waiting for approval" "$T_HOME/err"
check "big-1 is PENDING_APPROVAL" bash -c '[ "$(job_field big-1 state)" = PENDING_APPROVAL ]'
check "approval pending" bash -c '[ "$(job_field big-1 approval)" = pending ]'
check "the reason says why" bash -c 'job_field big-1 reason | grep -q "^waiting for approval: .*above_hourly_cost"'
id=$(job_field big-1 id)
check "no provider handle" bash -c '[ -z "$(job_field big-1 provider_ref)" ]'
check "no job directory, no process" test ! -e "$GANTRY_HOME/state/jobs/$id"
check "no launch intent" bash -c '[ "$(intents "$GANTRY_HOME" '"$id"')" = 0 ]'
check "its request is kept" bash -c 'python3 -c "import sqlite3,sys,json
r = sqlite3.connect(sys.argv[1]).execute(\"select request_json from jobs where id = ?\", (sys.argv[2],)).fetchone()[0]
q = json.loads(r); assert q[\"template\"] == \"big\" and q[\"provider\"] == \"local\", q" "$GANTRY_HOME/state/gantry.db" '"$id"
check "it bills nothing: the burn is small-1's \$15/h alone" bash -c 'g cost -o json | python3 -c "import json,sys; c=json.load(sys.stdin); assert c[\"burn_usd_per_hour\"] == 15 and c[\"jobs\"][\"holding\"] == 1, c"'
check "a refresh leaves it waiting" bash -c 'g ls >/dev/null && [ "$(job_field big-1 state)" = PENDING_APPROVAL ]'
expect_rc 0 "a reconcile" g reconcile
check "the reconcile leaves it waiting (no intent to settle, nothing to adopt)" bash -c '[ "$(job_field big-1 state)" = PENDING_APPROVAL ] && [ "$(intents "$GANTRY_HOME" '"$id"')" = 0 ]'
expect_rc 0 "gantry approvals" g approvals
check "it lists big-1 with its price" grep -Eq "big-1 +root +big +local +0 +30.00 +.*above_hourly_cost" "$T_HOME/out"
check "approvals -o json" bash -c 'g approvals -o json | python3 -c "import json,sys; a=json.load(sys.stdin); assert [j[\"name\"] for j in a] == [\"big-1\"], a"'

# approve: it launches, the requester sees who and why
expect_rc 0 "approve big-1" g approve big-1 --reason "ok for the demo"
check "big-1 runs" wait_state big-1 RUNNING 20
check "approved by root with the reason" bash -c '[ "$(job_field big-1 approval)" = approved ] && [ "$(job_field big-1 decided_by)" = root ] && [ "$(job_field big-1 decision_reason)" = "ok for the demo" ]'
check "show says so" bash -c 'g show big-1 | grep -q "^approval:  approved by root: ok for the demo$"'
check "the events say so" bash -c 'g show big-1 | grep -Eq "PENDING_APPROVAL -> PENDING +approved by root: ok for the demo"'
check "its launch intent is stored now" bash -c '[ "$(intents "$GANTRY_HOME" '"$id"')" = 1 ]'
check "its job directory exists" test -d "$GANTRY_HOME/state/jobs/$id"
check "the approvals are empty" bash -c 'g approvals | grep -q "no launch is waiting"'
expect_rc 1 "approving it again fails" g approve big-1
check "it is not waiting" grep -q "not waiting for approval" "$T_HOME/err"

# deny: STOPPED with the reason (a reason is required)
expect_rc 0 "another launch above the threshold" g launch big
check "big-2 waits" bash -c '[ "$(job_field big-2 state)" = PENDING_APPROVAL ]'
expect_rc 2 "deny without a reason" g deny big-2
check "it asks for --reason" grep -q "needs --reason" "$T_HOME/err"
check "big-2 still waits" bash -c '[ "$(job_field big-2 state)" = PENDING_APPROVAL ]'
expect_rc 0 "deny big-2" g deny big-2 --reason "too big for today"
check "big-2 STOPPED" bash -c '[ "$(job_field big-2 state)" = STOPPED ]'
check "the reason names the approver" bash -c '[ "$(job_field big-2 reason)" = "denied by root: too big for today" ]'
check "show: denied by root" bash -c 'g show big-2 | grep -q "^approval:  denied by root: too big for today$"'
check "nothing ran for big-2" test ! -e "$GANTRY_HOME/state/jobs/$(job_field big-2 id)"
expect_rc 3 "approving an unknown job" g approve nosuchjob

# the approval admits the launch again: a policy that forbids it now keeps it waiting
expect_rc 0 "a third launch above the threshold" g launch big
cp "$GANTRY_SYSTEM_DIR/policy.yaml" "$T_HOME/policy.keep"
sed -i 's/    approver: true/    approver: true\n    templates: [small]/' "$GANTRY_SYSTEM_DIR/policy.yaml"
expect_rc 1 "approving it under a policy that forbids it now" g approve big-3 --reason "ok"
check "the cause: still waiting, and the rule" grep -q "still waiting for approval: .*roles.admin.templates" "$T_HOME/err"
check "big-3 still waits, undecided" bash -c '[ "$(job_field big-3 state)" = PENDING_APPROVAL ] && [ "$(job_field big-3 approval)" = pending ] && [ -z "$(job_field big-3 decided_by)" ]'
check "no launch intent for big-3" bash -c '[ "$(intents "$GANTRY_HOME" "$(job_field big-3 id)")" = 0 ]'
cp "$T_HOME/policy.keep" "$GANTRY_SYSTEM_DIR/policy.yaml"
expect_rc 0 "deny big-3" g deny big-3 --reason "policy changed"

# a user whose role is no approver (his own store): his launch waits, he cannot decide it
getent passwd g12apuser >/dev/null || useradd -M -s /bin/sh g12apuser || {
	fail "cannot create user g12apuser"
	exit 1
}
uhome=$(mktemp -d /tmp/gantry-apuser.XXXXXX)
chmod 0755 "$uhome"
mkdir -p "$uhome/h/config/templates"
cp "$GANTRY_HOME/config/config.yaml" "$uhome/h/config/"
cp "$GANTRY_HOME/config/templates/big.yaml" "$uhome/h/config/templates/"
chown -R g12apuser "$uhome/h"
chmod 0700 "$uhome/h"
sys=$(mktemp -d /tmp/gantry-apsys.XXXXXX)
chmod 0755 "$sys"
cp "$GANTRY_SYSTEM_DIR/policy.yaml" "$sys/"
chmod 0644 "$sys/policy.yaml"
trap 't_cleanup; rm -rf "$uhome" "$sys"' EXIT
asuser() {
	runuser -u g12apuser -- env -i PATH=/usr/bin:/bin HOME="$uhome" GANTRY_HOME="$uhome/h" \
		GANTRY_SYSTEM_DIR="$sys" GANTRY_DATADIR="$GANTRY_DATADIR" NO_COLOR=1 "$GANTRY_BIN" "$@"
}
export -f asuser
export uhome sys
expect_rc 0 "the user's launch above the threshold" asuser launch big
check "it waits for approval" grep -q "big-1 is waiting for approval" "$T_HOME/err"
expect_rc 1 "the user cannot approve it" asuser approve big-1
check "refused: his role is no approver" grep -q "g12apuser may not decide approvals: role ml is not an approver" "$T_HOME/err"
expect_rc 1 "nor deny it" asuser deny big-1 --reason "mine"
check "his approvals list is empty" bash -c 'asuser approvals | grep -q "no launch is waiting"'
check "his job still waits" bash -c 'asuser show big-1 -o json | grep -q "\"state\": *\"PENDING_APPROVAL\""'
expect_rc 0 "he may stop his own waiting launch" asuser stop big-1
check "stopped" bash -c 'asuser show big-1 | grep -q "^state: *STOPPED"'

g stop small-1 >/dev/null
g stop big-1 >/dev/null
echo "# $T_CHECKS checks, $T_FAILS failed"
[ "$T_FAILS" = 0 ]
