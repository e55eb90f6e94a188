#!/usr/bin/env bash
# Every built-in template that can run here: launch, watch, logs, stop — real processes.
. "$(dirname "$0")/../lib/common.sh"

# hello: a short job that succeeds
expect_rc 0 "launch hello --wait" g launch hello --set who=tester --wait
check "hello SUCCEEDED" wait_state hello-1 SUCCEEDED 20
check "hello's log has its output" bash -c '"$GANTRY_BIN" logs hello-1 | grep -qx "hello tester"'
check "hello exit code recorded" bash -c '[ "$(job_field hello-1 exit_code)" = 0 ]'
expect_rc 1 "stopping an ended job fails" g stop hello-1
check "the reason says it ended" grep -q "already ended" "$T_HOME/err"
check "events recorded" bash -c '"$GANTRY_BIN" show hello-1 | grep -q "RUNNING *-> SUCCEEDED\|STARTING *-> SUCCEEDED"'

# train-mnist-tiny: a real training loop, checkpoint written
expect_rc 0 "launch train-mnist-tiny" g launch train-mnist-tiny --set epochs=2
check "training SUCCEEDED" wait_state train-mnist-tiny-1 SUCCEEDED 60
check "training log shows step/loss/throughput" bash -c '"$GANTRY_BIN" logs train-mnist-tiny-1 | grep -Eq "step=[0-9]+ .*loss=[0-9.]+ .*throughput="'
id=$(job_field train-mnist-tiny-1 id)
check "checkpoint written in the job's work dir" test -s "$T_HOME/state/jobs/$id/work/checkpoint.json"

# a failing job (a user template), and a value that tries to inject a command
mkdir -p "$GANTRY_HOME/config/templates"
cat > "$GANTRY_HOME/config/templates/fail.yaml" <<'YAML'
name: fail
kind: training
description: exits with the given status
params:
  code: {type: int, default: 3, min: 0, max: 255}
run: echo about to fail; exit {{code}}
YAML
expect_rc 1 "a job that exits 3 reports failure" g launch fail --wait
check "fail-1 FAILED" wait_state fail-1 FAILED 20
check "exit status 3 recorded" bash -c '[ "$(job_field fail-1 exit_code)" = 3 ]'
check "the reason names the status" bash -c 'job_field fail-1 reason | grep -q 3'
expect_rc 0 "an injection attempt stays a literal value" g launch hello --set 'who=x; exit 3' --wait
check "quoted value printed literally" bash -c '"$GANTRY_BIN" logs hello-2 | grep -qx "hello x; exit 3"'

# limits.max_runtime is enforced by the job's supervisor
cat > "$GANTRY_HOME/config/templates/slow.yaml" <<'YAML'
name: slow
kind: training
description: runs longer than it may
run: echo started; exec sleep 1000
limits: {max_runtime: 2s}
YAML
expect_rc 1 "a job past its max_runtime is stopped" g launch slow --wait --timeout 60
check "slow-1 FAILED with the max_runtime reason" bash -c '[ "$(job_field slow-1 state)" = FAILED ] && job_field slow-1 reason | grep -q max_runtime'
id=$(job_field slow-1 id)
check "no process left of slow-1" pgroup_gone "$(cut -d' ' -f1 "$T_HOME/state/jobs/$id/pid")"

# http-endpoint: readiness probe, then RUNNING; reachable; stop kills the group
expect_rc 0 "launch http-endpoint" g launch http-endpoint
check "endpoint RUNNING" wait_state http-endpoint-1 RUNNING 30
url=$(job_field http-endpoint-1 url)
check "endpoint url is loopback" bash -c "[[ '$url' == http://127.0.0.1:* ]]"
check "GET /health answers" bash -c "curl -fsS '${url%/}/health' | grep -q ok"
check "endpoint logs the request" bash -c 'for i in $(seq 50); do "$GANTRY_BIN" logs http-endpoint-1 | grep -q health && exit 0; sleep 0.2; done; exit 1'
id=$(job_field http-endpoint-1 id)
pgid=$(cut -d' ' -f1 "$T_HOME/state/jobs/$id/pid")
expect_rc 0 "stop endpoint" g stop http-endpoint-1
check "endpoint STOPPED" wait_state http-endpoint-1 STOPPED 20
check "no process left in its group" pgroup_gone "$pgid"
expect_rc 1 "stopping it again fails" g stop http-endpoint-1

# jupyter-notebook (Debian's jupyter-notebook, installed by ./bootstrap)
if ! command -v jupyter >/dev/null; then
	fail "jupyter is not installed (./bootstrap installs jupyter-notebook)"
else
	expect_rc 0 "launch jupyter-notebook" g launch jupyter-notebook --timeout 150
	check "notebook RUNNING" wait_state jupyter-notebook-1 RUNNING 150
	nurl=$(job_field jupyter-notebook-1 url)
	check "notebook url carries a token" bash -c "[[ '$nurl' == *'?token='* ]]"
	base=${nurl%%\?*}
	tok=${nurl##*token=}
	check "notebook /api answers with the token" bash -c "curl -fsS -H 'Authorization: token $tok' '${base%/}/api/status' | grep -q started"
	check "the token is not in the store" bash -c "! grep -aq '$tok' '$T_HOME/state/gantry.db' '$T_HOME/state/gantry.db-wal' 2>/dev/null"
	expect_rc 0 "stop notebook" g stop jupyter-notebook-1
	check "notebook STOPPED" wait_state jupyter-notebook-1 STOPPED 30
fi

check "ls -o json agrees" bash -c '"$GANTRY_BIN" ls -o json | python3 -c "import json,sys; s={j[\"name\"]:j[\"state\"] for j in json.load(sys.stdin)}; sys.exit(0 if s[\"hello-1\"]==\"SUCCEEDED\" and s[\"http-endpoint-1\"]==\"STOPPED\" else 1)"'
t_done
