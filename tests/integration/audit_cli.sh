#!/usr/bin/env bash
# audit_cli.sh: the audit log in embedded mode. A launch, a command through gantry ssh, a
# launch refused by admission, a stop, a forward to an ssh worker (opened, and one that
# cannot bind) and a budget change (config.yaml reloaded by a running gantry) are each
# audited with the kernel's uid and name; `gantry audit` lists them (table, -o json, --since);
# `gantry audit verify` passes; an attacker with the store file who drops the append-only
# trigger and edits one entry makes verify fail naming that entry; put back, it passes
# again; deleting one entry makes it fail there.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
watch_pid=
fwd_pid=
trap 'for p in $watch_pid $fwd_pid; do kill "$p" 2>/dev/null || :; done; rig_cleanup; t_cleanup' EXIT

command -v sqlite3 >/dev/null || {
	echo "sqlite3 (the command) is needed: apt-get install sqlite3" >&2
	exit 1
}
me=$(id -un)
myuid=$(id -u)
db=$T_HOME/state/gantry.db
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
cat >"$T_HOME/config/templates/capped.yaml" <<'YAML'
name: capped
kind: training
description: Refuses to run above $1/h.
resources:
  accelerators: none
  cpus: 1
limits:
  max_hourly_cost: 1
run: echo never
YAML
rig_web_template "$T_HOME/config/templates/web.yaml"
rig_workers 1
# the fleet (ssh) and this host (local), at 36 $/CPU-hour
printf '  local:\n    rate_cpu_hour: 36\n' >>"$T_HOME/config/config.yaml"
cp "$T_HOME/config/config.yaml" "$T_HOME/base.yaml"

expect_rc 0 "the audit log starts empty" g audit
check "and says so" grep -q "The audit log is empty." "$T_HOME/out"
expect_rc 0 "launch spin" g launch spin --provider local --name a1 --detach
check "it runs" wait_state a1 RUNNING 20
a1=$(job_field a1 id)
expect_rc 0 "a command on a1's host (gantry ssh)" g ssh a1 -- echo inside-a1
check "it ran" grep -q '^inside-a1' "$T_HOME/out"
expect_rc 2 "a launch above limits.max_hourly_cost is refused" g launch capped --provider local
expect_rc 0 "a dry run is not a decision" g launch spin --provider local --dry-run
expect_rc 0 "stop a1" g stop a1

# a forward to the endpoint on the ssh worker, then one that cannot bind its address
expect_rc 0 "launch the web endpoint on the fleet" g launch web --name w1
w1=$(job_field w1 id)
"$GANTRY_BIN" forward w1 >"$T_HOME/fwd.out" 2>"$T_HOME/fwd.err" &
fwd_pid=$!
check "the forward opens" wait_for 20 grep -qs '^Open: ' "$T_HOME/fwd.out"
kill "$fwd_pid"
wait "$fwd_pid" 2>/dev/null || :
fwd_pid=
rc=0
g forward w1 --bind 192.0.2.1 >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
check "a forward that cannot bind 192.0.2.1 fails (exit $rc)" test "$rc" -ne 0

# a budget change: a running gantry reloads config.yaml
g watch >"$T_HOME/watch.out" 2>&1 &
watch_pid=$!
check "gantry watch runs" wait_for 10 grep -q . "$T_HOME/watch.out"
{
	cat "$T_HOME/base.yaml"
	printf 'budgets:\n  - {scope: team, name: ml, monthly: 500}\n'
} >"$T_HOME/config/config.yaml"
check "the reload is audited as a budget change" \
	wait_for 20 bash -c 'g audit -o json | grep -q "\"budget_change\""'
kill "$watch_pid"
wait "$watch_pid" 2>/dev/null || :
watch_pid=

expect_rc 0 "gantry audit -o json" g audit -o json
cp "$T_HOME/out" "$T_HOME/audit.json"
check "eight entries, in order, with the kernel's identity" python3 - "$T_HOME/audit.json" "$a1" "$me" "$myuid" "$w1" <<'PY'
import json, sys
es = json.load(open(sys.argv[1]))
a1, me, uid, w1 = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
got = [(e["action"], e["verdict"]) for e in es]
want = [("launch", "allowed"), ("ssh", "allowed"), ("launch", "refused"), ("stop", "ok"),
        ("launch", "allowed"), ("forward", "ok"), ("forward", "failed"), ("budget_change", "ok")]
assert got == want, got
assert [e["seq"] for e in es] == list(range(1, 9)), [e["seq"] for e in es]
for e in es:
    assert e["actor"] == me and e["uid"] == uid, e
    assert len(e["hash"]) == 64 and len(e["prev_hash"]) == 64, e
launch, ssh, refused, stop, web, fwd, badfwd, budget = es
assert ssh["target"] == a1 and ssh["detail"]["worker"] == 0 and ssh["detail"]["name"] == "a1", ssh
assert web["target"] == w1 and web["detail"]["provider"] == "fleet", web
assert fwd["target"] == w1 and fwd["detail"]["remote_port"] > 0 and fwd["reason"] is None, fwd
assert badfwd["target"] == w1 and badfwd["detail"]["bind"] == "192.0.2.1" and badfwd["reason"], badfwd
assert launch["target"] == a1, launch
assert launch["detail"]["name"] == "a1" and launch["detail"]["template"] == "spin", launch
assert launch["detail"]["provider"] == "local" and launch["detail"]["price_per_hour"] == 36, launch
assert refused["target"] == "capped" and "caps the price" in refused["reason"], refused
assert stop["target"] == a1 and stop["reason"] == "stop requested by " + me, stop
assert budget["detail"]["before"] == [], budget
assert budget["detail"]["budgets"][0]["name"] == "ml", budget
assert budget["detail"]["budgets"][0]["monthly"] == 500, budget
assert es[1]["prev_hash"] == es[0]["hash"]
PY

expect_rc 0 "gantry audit (table)" g audit
check "a header" grep -q "^SEQ  *TIME  *ACTOR  *ACTION  *TARGET  *VERDICT  *REASON" "$T_HOME/out"
check "the refusal with its reason" grep -q "launch  *capped  *refused  *template capped caps the price" "$T_HOME/out"
expect_rc 0 "--since 1h" g audit --since 1h -o json
check "keeps the recent entries" python3 -c 'import json,sys; assert len(json.load(open(sys.argv[1]))) == 8' "$T_HOME/out"
expect_rc 0 "--since a date in the future" g audit --since 2099-01-01
check "shows none" grep -q "No audit entries since then." "$T_HOME/out"
expect_rc 2 "--since nonsense is a usage error" g audit --since yesterday-ish
check "that names what it expects" grep -q "duration (2h, 7d) or a UTC date" "$T_HOME/err"

expect_rc 0 "verify passes" g audit verify
check "and counts the entries" grep -qx "audit log intact: 8 entries" "$T_HOME/out"
expect_rc 0 "verify -o json" g audit verify -o json
check "says ok" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] is True and d["checked"] == 8 and d["bad_seq"] == 0, d' "$T_HOME/out"

# the append-only triggers refuse an edit through sqlite
check "the store refuses an UPDATE of the audit table" \
	bash -c "! sqlite3 '$db' \"UPDATE audit SET reason = 'x' WHERE seq = 2\" 2>'$T_HOME/sq.err'"
check "with the trigger's words" grep -q "append-only" "$T_HOME/sq.err"

# an attacker with the file drops the trigger and edits entry 3 (the refusal's reason)
orig=$(sqlite3 "$db" "SELECT reason FROM audit WHERE seq = 3")
sqlite3 "$db" "DROP TRIGGER audit_no_update; UPDATE audit SET reason = 'nothing happened' WHERE seq = 3"
expect_rc 1 "verify fails after an edit" g audit verify
check "naming the edited entry" grep -q "^audit log broken at entry 3: .*edited" "$T_HOME/out"
expect_rc 1 "verify -o json fails too" g audit verify -o json
check "with bad_seq 3" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] is False and d["bad_seq"] == 3 and d["checked"] == 2, d' "$T_HOME/out"
# put back exactly, the chain holds again: verify reads the contents, not a flag
sqlite3 "$db" "UPDATE audit SET reason = '$(printf '%s' "$orig" | sed "s/'/''/g")' WHERE seq = 3"
expect_rc 0 "verify passes once the entry is put back" g audit verify

# deleting one entry breaks the chain there
sqlite3 "$db" "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 4"
expect_rc 1 "verify fails after a delete" g audit verify
check "naming the missing entry" grep -q "^audit log broken at entry 4: entry 4 is missing" "$T_HOME/out"

t_done
