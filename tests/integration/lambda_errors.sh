#!/usr/bin/env bash
# lambda_errors.sh: the lambda provider against the fake's faults: no capacity anywhere (a
# one-line error of class capacity), a launch whose answer is lost after the instance was
# made (found by its name and adopted: one instance, no second launch), an instance that boots
# into unhealthy or never leaves booting (terminated, the launch fails with the reason),
# 429/5xx/truncated answers to idempotent requests (retried), a config error with its
# FILE:LINE:COL.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
. "$here/../lib/lambdafake.sh"
. "$here/../lib/lambdatest.sh"
trap 'lambda_test_cleanup; lambda_fake_stop; t_cleanup' EXIT

lambda_fake_start 3 --boot-delay 0.3
lambda_test_config lam api_key_file "$LAMBDA_FAKE_KEY_FILE"
lambda_test_templates
faults() { lambda_fake_ctl POST /_fake/faults "$1" >/dev/null; }
clear_faults() { lambda_fake_ctl DELETE /_fake/faults >/dev/null; }
launch_posts() { # launch requests naming the job, whatever their answer
	lambda_fake_q /_fake/log 'sum(1 for e in d["data"] if e["path"].endswith("/instance-operations/launch") and "gantry-'"$1"'" in ((e["json"] or {}).get("name") or ""))'
}
instances_of() {
	lambda_fake_q /_fake/state 'sum(1 for i in d["data"]["instances"] if (i.get("name") or "").startswith("gantry-'"$1"'-"))'
}

# --- Gantry's key name already taken by another public key: refused, nothing launched
g doctor >/dev/null 2>&1 || : # makes the store, and with it the installation id
inst=$(sqlite3 "$T_HOME/state/gantry.db" "SELECT value FROM meta WHERE key='installation_id'")
ssh-keygen -q -t ed25519 -N '' -C other -f "$T_HOME/otherkey" </dev/null
kid=$(lambda_fake_api POST /ssh-keys '{"name": "gantry-'"${inst:0:16}"'", "public_key": "'"$(cat "$T_HOME/otherkey.pub")"'"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
expect_rc 1 "a launch whose key name is taken by another key fails" g launch ltrain --provider lam --name taken
check "saying so, with the class" grep -q "registered with another public key.*\[invalid\]" "$T_HOME/err"
check "nothing was launched" test "$(lambda_test_launches '')" = 0
lambda_fake_api DELETE "/ssh-keys/$kid" >/dev/null

# --- the key's registration answered 500 after it was made: found in the list, used
mark=$(lambda_fake_q /_fake/log 'max([0] + [e["seq"] for e in d["data"]])')
faults '{"kind": "status", "status": 500, "after": true, "path": "/api/v1/ssh-keys", "method": "POST"}'
expect_rc 0 "a launch whose key registration answer was lost" g launch ltrain --provider lam --name keylost
check "keylost SUCCEEDED" wait_state keylost SUCCEEDED 90
check "the key was added once" test "$(lambda_fake_q /_fake/log 'sum(1 for e in d["data"] if e["seq"] > '"$mark"' and e["path"].endswith("/ssh-keys") and e["method"] == "POST")')" = 1
clear_faults

# --- no capacity anywhere: class capacity, in one line
for r in us-east-1 us-west-1 us-west-3 us-south-1 us-east-3; do # every region of the fake's types
	faults '{"kind": "capacity", "region": "'"$r"'"}'
done
check "the capacity faults are armed" test "$(lambda_fake_q /_fake/faults 'len(d["data"])')" = 5
expect_rc 1 "a launch without capacity anywhere fails" g launch ltrain --provider lam --name cap
check "the error is of class capacity" grep -q 'insufficient-capacity.*\[capacity\]' "$T_HOME/err"
check "in one line: message, code and class together" \
	grep -q '^gantry: launch: lam: launch of [a-z0-9_]* in [a-z0-9-]*: Not enough capacity.*(instance-operations/launch/insufficient-capacity).*\[capacity\]$' "$T_HOME/err"
check "no instance was made" test "$(lambda_test_live)" = 0
id=$(job_field cap id)
check "the engine tried the next offers, each refused for capacity" \
	test "$(lambda_fake_q /_fake/log 'sum(1 for e in d["data"] if e["path"].endswith("/launch") and "gantry-'"$id"'-" in ((e["json"] or {}).get("name") or "") and e["status"] == 400)')" -ge 2
clear_faults

# --- no capacity in the cheapest offer's region: the next region (attempt 2) takes it
faults '{"kind": "capacity", "region": "us-east-1"}'
expect_rc 0 "a launch whose first region is full" g launch ltrain --provider lam --name fallback
check "fallback SUCCEEDED" wait_state fallback SUCCEEDED 90
id=$(job_field fallback id)
check "attempt 1 in us-east-1 was refused for capacity, attempt 2 launched elsewhere" \
	test "$(lambda_fake_q /_fake/log '[((e["json"] or {}).get("name"), (e["json"] or {}).get("region_name"), e["status"]) for e in d["data"] if e["path"].endswith("/launch") and "gantry-'"$id"'-" in ((e["json"] or {}).get("name") or "")]')" = \
	"[[\"gantry-$id-a1\", \"us-east-1\", 400], [\"gantry-$id-a2\", \"us-west-1\", 200]]"
check "each attempt is an event of the job" bash -c "g show fallback | grep -qi 'capacity'"
check "one instance for it, terminated now" wait_for 20 lambda_test_inst_terminated "$id"
clear_faults

# --- the launch answer is lost after the instance was made: adopted by name
faults '{"kind": "status", "status": 500, "after": true, "path": "/api/v1/instance-operations/launch"}'
expect_rc 0 "a launch whose answer was lost still launches" g launch ltrain --provider lam --name lost
check "lost SUCCEEDED" wait_state lost SUCCEEDED 90
id=$(job_field lost id)
check "one launch request for it (never re-sent)" test "$(launch_posts "$id")" = 1
check "one instance for it" test "$(instances_of "$id")" = 1
check "and it is terminated now" wait_for 20 lambda_test_inst_terminated "$id"
clear_faults

# --- an instance that boots into unhealthy: terminated, the launch fails
faults '{"kind": "unhealthy", "name_contains": "gantry-"}'
expect_rc 1 "a launch whose instance turns unhealthy fails" g launch ltrain --provider lam --name sick
check "saying so" grep -q 'unhealthy' "$T_HOME/err"
id=$(job_field sick id)
check "its instance is terminated" wait_for 20 lambda_test_inst_terminated "$id"
clear_faults

# --- an instance that never leaves booting: terminated at boot_timeout
lambda_test_config lam api_key_file "$LAMBDA_FAKE_KEY_FILE" "boot_timeout: 10s"
faults '{"kind": "boot_hang", "name_contains": "gantry-"}'
expect_rc 1 "a launch whose instance hangs booting fails" g launch ltrain --provider lam --name hang
check "after the boot timeout" grep -q 'did not become active within 10s' "$T_HOME/err"
id=$(job_field hang id)
check "its instance is terminated" wait_for 20 lambda_test_inst_terminated "$id"
clear_faults
lambda_test_config lam api_key_file "$LAMBDA_FAKE_KEY_FILE"

# --- idempotent requests ride out 429, 503 and a truncated answer
faults '[{"kind": "status", "status": 429, "retry_after": 1, "path": "/api/v1/instance-types"},
         {"kind": "status", "status": 503, "path": "/api/v1/instances"},
         {"kind": "truncate", "path": "/api/v1/ssh-keys", "method": "GET"}]'
expect_rc 0 "a launch through 429, 503 and a truncated answer" g launch ltrain --provider lam --name bumpy
check "bumpy SUCCEEDED" wait_state bumpy SUCCEEDED 90
check "the 429 was retried after Retry-After" test "$(lambda_fake_q /_fake/log 'sum(1 for e in d["data"] if e["path"].endswith("/instance-types"))')" -ge 2
clear_faults

# --- every region of the cloud full: the next provider of placement.providers (an on-prem ssh
# fleet) takes the job, as the next attempt; the job's provider becomes the fleet's
lambda_test_config lam api_key_file "$LAMBDA_FAKE_KEY_FILE"
sed -n '/^  fleet:/,/^[^ ]/p' "$LAMBDA_FAKE_DIR/fleet.yaml" | sed '/^[^ ]/d' >>"$GANTRY_HOME/config/config.yaml"
cat >"$GANTRY_HOME/config/templates/lanywhere.yaml" <<'EOT'
name: lanywhere
kind: training
description: Runs on the cloud or on the fleet, whichever has room.
resources:
  accelerators: none
placement:
  providers: [lam, fleet]
run: echo "ran-anywhere on $(hostname)"
EOT
for r in us-east-1 us-west-1 us-west-3 us-south-1 us-east-3; do
	faults '{"kind": "capacity", "region": "'"$r"'"}'
done
expect_rc 0 "offers rank the cloud (priced) before the fleet (unpriced)" g offers lanywhere -o json
check "the first offer is the cloud's" test "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ranked"][0]["provider"])' "$T_HOME/out")" = lam
expect_rc 0 "a launch naming no provider, the cloud full" g launch lanywhere --name anywhere
check "anywhere SUCCEEDED" wait_state anywhere SUCCEEDED 90
id=$(job_field anywhere id)
check "it ran on the fleet" test "$(job_field anywhere provider)" = fleet
check "every cloud attempt was refused for capacity, none launched" \
	test "$(lambda_fake_q /_fake/log 'sorted(set(e["status"] for e in d["data"] if e["path"].endswith("/launch") and "gantry-'"$id"'-" in ((e["json"] or {}).get("name") or "")))')" = "[400]"
check "the attempts are in the store, the last one on the fleet" \
	test "$(sqlite3 "$T_HOME/state/gantry.db" "SELECT provider || ':' || COALESCE(error_class, 'ok') FROM intents WHERE job_id='$id' ORDER BY attempt DESC LIMIT 1")" = "fleet:ok"
check "each earlier attempt ended with class capacity" \
	test "$(sqlite3 "$T_HOME/state/gantry.db" "SELECT count(*) FROM intents WHERE job_id='$id' AND error_class='capacity'")" -ge 1
check "the move to the fleet is an event of the job" bash -c "g show anywhere | grep -q 'attempt [0-9]* on fleet'"
clear_faults
lambda_test_config lam api_key_file "$LAMBDA_FAKE_KEY_FILE"

# --- a bad setting names its place
lambda_test_config lam api_key_file "$LAMBDA_FAKE_KEY_FILE" "ssh_prot: 22"
expect_rc 4 "a misspelt setting fails (a config error)" g doctor
check "with FILE:LINE:COL and the known ones" grep -q 'config.yaml:[0-9]*:[0-9]*: ssh_prot: unknown setting' "$T_HOME/err"

t_done
