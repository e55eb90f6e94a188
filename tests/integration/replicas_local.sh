#!/usr/bin/env bash
# service.replicas on the local provider: it runs one process, so an endpoint asking for more
# replicas gets a note in the plan and at launch (never silently ignored), and reports 0/1
# until it is ready, then 1/1, in gantry ls, ls -o json and show.
. "$(dirname "$0")/../lib/common.sh"

flag=$T_HOME/go
mkdir -p "$GANTRY_HOME/config/templates"
# serves only once the test creates $flag: STARTING (0/1) until then
cat > "$GANTRY_HOME/config/templates/scaled.yaml" <<YAML
name: scaled
kind: endpoint
description: an endpoint that asks for 2 to 4 replicas
resources: {accelerators: none}
service:
  readiness: /
  readiness_timeout: 120
  replicas: {min: 2, max: 4}
  target_qps_per_replica: 5
run: |
  while [ ! -e '$flag' ]; do sleep 0.1; done
  exec python3 -m http.server "\$GANTRY_PORT" --bind 127.0.0.1
YAML

note='local runs 1 replica; replicas.min 2 applies on kubernetes'
expect_rc 0 "dry run of an endpoint with replicas.min 2" g launch scaled --dry-run
check "the plan says local runs 1 replica" grep -qxF "note:      $note" "$T_HOME/out"
expect_rc 0 "dry run -o json" g launch scaled --dry-run -o json
check "the JSON plan has the note" python3 -c '
import json, sys
assert json.load(open(sys.argv[1]))["note"] == sys.argv[2]' "$T_HOME/out" "$note"
expect_rc 0 "dry run of http-endpoint (replicas 1..1)" g launch http-endpoint --dry-run
no_note() { ! grep -q '^note:' "$T_HOME/out"; }
check "no note where the template asks for 1 replica" no_note

expect_rc 0 "launch scaled --detach" g launch scaled --detach
check "launch says local runs 1 replica" grep -qxF "gantry: launch: note: $note" "$T_HOME/err"

ls_state() { g ls | awk '$1 == "scaled-1" { print $4, $5 }'; }
replicas() { g ls -o json | python3 -c '
import json, sys
for j in json.load(sys.stdin):
    if j["name"] == "scaled-1":
        r = j["replicas"]
        print("%s %d/%d" % (j["state"], r["ready"], r["desired"]))'; }
is_() { [ "$("$1")" = "$2" ]; }
check "gantry ls: STARTING 0/1 while not ready" wait_for 30 is_ ls_state "STARTING 0/1"
check "ls -o json: replicas ready 0 of desired 1" is_ replicas "STARTING 0/1"
touch "$flag"
check "gantry ls: RUNNING 1/1 once ready" wait_for 60 is_ ls_state "RUNNING 1/1"
check "ls -o json: replicas ready 1 of desired 1" is_ replicas "RUNNING 1/1"
check "show: state RUNNING 1/1" bash -c 'g show scaled-1 | grep -qx "state:     RUNNING 1/1"'
check "show: the replicas line" bash -c 'g show scaled-1 | grep -qx "replicas:  1 ready of 1 desired"'
check "a training job has no replicas in JSON" bash -c '
g launch hello --wait >/dev/null 2>&1 && [ -z "$(job_field hello-1 replicas)" ]'
expect_rc 0 "stop scaled-1" g stop scaled-1
check "an ended endpoint shows its state alone" wait_for 30 is_ ls_state "STOPPED local"
t_done
