#!/usr/bin/env bash
# lambda_kinds.sh: the real gantry binary on a `lambda` provider against the Lambda Cloud API
# fake (tests/fakes/lambda_fake.py) whose instances are real OpenSSH workers on loopback:
# a training run, a notebook and an endpoint launch, log and stop; the key Gantry made is
# 0600 and registered once; a finished training run's instance is terminated (the fake's
# state); a stopped notebook's and endpoint's too; one launch per job in the fake's log;
# each instance's host key recorded in a known_hosts file of its own.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
. "$here/../lib/lambdafake.sh"
. "$here/../lib/lambdatest.sh"
fwd_pid=
trap 'if [ -n "$fwd_pid" ]; then kill "$fwd_pid" 2>/dev/null || :; fi; lambda_test_cleanup; lambda_fake_stop; t_cleanup' EXIT

lambda_fake_start 3 --boot-delay 0.5
lambda_test_config lam api_key_file "$LAMBDA_FAKE_KEY_FILE"
lambda_test_templates

check "config with a lambda provider loads (doctor)" g doctor

# --- offers: the fake's instance types, live prices, by the minute, cheapest first
expect_rc 0 "gantry offers on lambda" g offers ltrain --provider lam -o json
check "ranked: live prices billed by the minute, the cheapest with capacity first" python3 -c '
import json,sys
d = json.load(open(sys.argv[1]))
r = d["ranked"]
assert r and all(o["provider"] == "lam" and o["source"] == "live" and o["billing"] == "minute" and o["market"] == "on-demand" for o in r), r
assert r[0]["instance_type"] == "gpu_1x_a10" and abs(r[0]["usd_per_hour"] - 0.75) < 1e-9 and r[0]["gpu_type"] == "A10", r[0]
assert [o["usd_per_hour"] for o in r] == sorted(o["usd_per_hour"] for o in r)
assert any(o["instance_type"] == "gpu_1x_a100_sxm4" and o["availability"] == "no" for o in d["dropped"]), d["dropped"]
' "$T_HOME/out"

# --- a training run: launched, logged, ended, its instance terminated
expect_rc 0 "launch a training run on lambda" g launch ltrain --provider lam --name t1
check "t1 SUCCEEDED" wait_state t1 SUCCEEDED 90
check "t1's log came over SSH" bash -c 'g logs t1 | grep -q "^train-done on "'
t1=$(job_field t1 id)
check "t1 ran on a Lambda instance (its ref names one)" bash -c "job_field t1 provider_ref | grep -Eq '^[0-9a-f]{32}/127\.0\.0\.[0-9]+/$t1\$'"
check "t1's instance is terminated (the fake's state)" wait_for 20 lambda_test_inst_terminated "$t1"
check "exactly one launch for t1" test "$(lambda_test_launches "$t1")" = 1
check "t1 is billed by the minute, as its offer says" \
	test "$(sqlite3 "$T_HOME/state/gantry.db" "SELECT billing_s FROM jobs WHERE id='$t1'")" = 60
check "t1 held its instance over one interval, closed when it ended" \
	test "$(sqlite3 "$T_HOME/state/gantry.db" "SELECT count(*) FROM holds WHERE job_id='$t1' AND end_ms > start_ms")" = 1
key=$T_HOME/state/providers/lam/id_ed25519
check "Gantry's key exists, 0600" bash -c "[ \"\$(stat -c %a '$key')\" = 600 ]"
inst_id=$(sqlite3 "$T_HOME/state/gantry.db" "SELECT value FROM meta WHERE key='installation_id'")
check "the key is registered once, as gantry-<installation id prefix>" \
	test "$(lambda_fake_q /_fake/state '[k["name"] for k in d["data"]["ssh_keys"]]')" = "[\"gantry-${inst_id:0:16}\"]"
check "t1's instance was launched with that key and its name" \
	test "$(lambda_fake_q /_fake/state '[(i["name"], i["ssh_key_names"]) for i in d["data"]["instances"] if (i.get("name") or "").startswith("gantry-'"$t1"'-")]')" = "[[\"gantry-$t1-a1\", [\"gantry-${inst_id:0:16}\"]]]"

# --- a training run that fails: its instance is terminated too
cat >"$T_HOME/config/templates/lfail.yaml" <<'EOF2'
name: lfail
kind: training
description: Fails at once.
resources:
  accelerators: none
run: |
  echo about-to-fail
  exit 3
EOF2
# (the launch may report the failure itself when the run ends before it returns)
g launch lfail --provider lam --name f1 >"$T_HOME/out" 2>"$T_HOME/err" || :
check "f1 was launched" grep -q "launched f1 " "$T_HOME/out" "$T_HOME/err"
check "f1 FAILED" wait_state f1 FAILED 90
f1=$(job_field f1 id)
check "with its exit status" bash -c 'job_field f1 reason | grep -q 3'
check "f1's instance is terminated" wait_for 20 lambda_test_inst_terminated "$f1"
check "f1's log is kept" bash -c 'g logs f1 | grep -q "^about-to-fail"'
inst=$(lambda_fake_q /_fake/state '[i["id"] for i in d["data"]["instances"] if i.get("name","").startswith("gantry-'"$t1"'-")][0]')
check "t1's instance's known_hosts file went with it" test ! -e "$T_HOME/state/providers/lam/known_hosts/$inst"

# --- a notebook: up until stopped, then its instance goes
expect_rc 0 "launch a notebook on lambda" g launch lnote --provider lam --name n1
check "n1 RUNNING" wait_state n1 RUNNING 90
n1=$(job_field n1 id)
check "n1's log came over SSH" wait_for 20 bash -c 'g logs n1 | grep -q "^notebook-up"'
check "n1's instance is active while it runs" test "$(lambda_test_inst_status "$n1")" = active
ni=$(lambda_fake_q /_fake/state '[i["id"] for i in d["data"]["instances"] if (i.get("name") or "").startswith("gantry-'"$n1"'-")][0]')
check "n1's instance has a known_hosts file of its own, its host key recorded" \
	grep -q "ssh-ed25519 " "$T_HOME/state/providers/lam/known_hosts/$ni"
# a shell command on the instance, in the job's directory
rc=0
out=$(g ssh n1 -- sh -c 'echo "on-instance $PWD"; exit 5' 2>"$T_HOME/err") || rc=$?
check "gantry ssh -- CMD runs on the instance (exit 5, got $rc)" test "$rc" = 5
check "in the job's directory there" bash -c "printf '%s' '$out' | grep -q 'on-instance $RIG_DIR/lremote/${ni:0:12}/jobs/$n1'"
# the instance's telemetry (the fake nvidia-smi of the worker)
check "gantry hosts lists the instance, reachable, with the worker's GPUs" bash -c "g hosts -o json | python3 -c '
import json,sys
h={x[\"name\"]:x for x in json.load(sys.stdin)}
assert h[\"i-$ni\"][\"reachable\"] and len(h[\"i-$ni\"][\"gpus\"]) == 2, h
'"
# a forward to the notebook on the instance
"$GANTRY_BIN" forward n1 >"$T_HOME/fwd.out" 2>"$T_HOME/fwd.err" &
fwd_pid=$!
check "gantry forward prints its URL" wait_for 20 grep -q '^Open: ' "$T_HOME/fwd.out"
url=$(sed -n 's/^Open: //p' "$T_HOME/fwd.out")
check "curl through the forward reaches the notebook on the instance" bash -c "curl -fsS '$url' | grep -qx notebook"
expect_rc 0 "stop n1" g stop n1
check "n1 STOPPED" wait_state n1 STOPPED 60
check "n1's instance is terminated" wait_for 20 lambda_test_inst_terminated "$n1"
check "the forward ended with its job" wait_for 20 bash -c "! kill -0 $fwd_pid 2>/dev/null"
fwd_pid=
check "n1's log is still there after its instance is gone" bash -c 'g logs n1 | grep -q "^notebook-up"'

# --- an endpoint: ready, served, stopped, its instance gone
expect_rc 0 "launch an endpoint on lambda" g launch http-endpoint --provider lam --name e1
check "e1 RUNNING (its readiness answered over SSH)" wait_state e1 RUNNING 90
e1=$(job_field e1 id)
check "e1's instance is active" test "$(lambda_test_inst_status "$e1")" = active
check "gantry ssh reaches e1's instance" g ssh e1 -- true
# the instance's host key changes (a reinstalled or impostor machine): refused from now on
wip=$(lambda_fake_q /_fake/state '[i["_fake"]["worker_ip"] for i in d["data"]["instances"] if (i.get("name") or "").startswith("gantry-'"$e1"'-")][0]')
rig_ctl rekey "$(( ${wip##*.} - 1 ))"
rc=0
g ssh e1 -- true 2>"$T_HOME/err" || rc=$?
check "a changed host key is refused (strict after the first connect; exit $rc)" test "$rc" -ne 0
check "saying so" grep -qi "host key" "$T_HOME/err"
expect_rc 0 "stop e1" g stop e1
check "e1 STOPPED" wait_state e1 STOPPED 60
check "e1's instance is terminated" wait_for 20 lambda_test_inst_terminated "$e1"

# --- nothing left billing, and every launch was one per job
check "no instance left running in the fake" test "$(lambda_test_live)" = 0
check "four launches in all" test "$(lambda_test_launches '')" = 4
check "every request carried the bearer key" \
	test "$(lambda_fake_q /_fake/log 'sum(1 for e in d["data"] if e["auth"] != "bearer")')" = 0

t_done
