#!/usr/bin/env bash
# cost_cli.sh: `gantry cost` on real local jobs priced at a site rate of 36 $/h (one cent a
# second): burn and month to date agree with the rate and the time the jobs held resources
# (bounded, never exact wall-clock), an unpriced job is listed as unpriced and never counted as
# $0, --by groups, --since moves the window, --focus writes a FOCUS CSV whose row matches the
# JSON, a hard budget refuses a launch (exit 1, "over budget") and a soft one warns but launches.
. "$(dirname "$0")/../lib/common.sh"

me=$(id -un)
now_s() { python3 -c 'import time; print("%.3f" % time.time())'; }
# cj EXPR: evaluates a Python expression over d = `gantry cost -o json` (exit 1 when false).
cj() { g cost -o json "${@:2}" | python3 -c '
import json, sys
d = json.load(sys.stdin)
ok = eval(sys.argv[1])
if not ok:
    print("  false: %s\n  json: %s" % (sys.argv[1], json.dumps(d)[:1500]), file=sys.stderr)
sys.exit(0 if ok else 1)' "$1"; }
# cost_json [ARGS]: the JSON into $T_HOME/cost.json
cost_json() { g cost -o json "$@" >"$T_HOME/cost.json"; }
# jq_py EXPR: a value from $T_HOME/cost.json
jq_py() { python3 -c 'import json,sys; d=json.load(open(sys.argv[2])); print(eval(sys.argv[1]))' "$1" "$T_HOME/cost.json"; }
export -f cj

mkdir -p "$T_HOME/config/templates"
cat >"$T_HOME/config/templates/nap.yaml" <<'EOF'
name: nap
kind: training
description: sleeps a while, holding one CPU
params:
  secs: {type: int, default: 3, min: 0, max: 600}
resources:
  accelerators: none
  cpus: 1
run: sleep {{secs}}
EOF

# No rate configured: hello is unpriced.
expect_rc 0 "launch hello with no price known" g launch hello --wait
check "nothing is priced yet" cj 'd["jobs"]["unpriced"] == 1 and d["jobs"]["priced"] == 0 and d["month_to_date"] == 0 and d["burn_usd_per_hour"] == 0'
check "hello-1 is listed as unpriced, by name" cj '[u["name"] for u in d["unpriced"]] == ["hello-1"]'
check "the text output says unpriced" bash -c 'g cost | grep -Eq "unpriced +hello-1"'

# The site rate: 36 $/h per CPU.
cat >"$T_HOME/config/config.yaml" <<'EOF'
providers:
  local: {rate_cpu_hour: 36}
EOF
t0=$(now_s)
expect_rc 0 "launch a priced job that sleeps 4 s" g launch nap --name paid1 --set secs=4
check "paid1 runs" wait_state paid1 RUNNING 20
cost_json
t1=$(now_s)
check "burn is the rate while it runs" [ "$(jq_py 'd["burn_usd_per_hour"]')" = 36.0 ]
check "one job holds resources" [ "$(jq_py 'd["jobs"]["holding"]')" = 1 ]
# Upper bound: the rate times everything since before the launch, plus one billing second.
check "month to date is above 0 and at most rate x elapsed" python3 -c "
import json; d = json.load(open('$T_HOME/cost.json'))
m = d['month_to_date']; bound = 36 * ($t1 - $t0 + 1) / 3600
assert 0 < m <= bound + 1e-9, (m, bound)"
check "forecast is month to date plus burn until the month ends" python3 -c "
import json, datetime as dt; d = json.load(open('$T_HOME/cost.json'))
now = dt.datetime.fromisoformat(d['now'].replace('Z', '+00:00'))
end = dt.datetime.fromisoformat(d['month_end'].replace('Z', '+00:00'))
want = d['month_to_date'] + 36 * (end - now).total_seconds() / 3600
assert abs(d['forecast'] - want) <= 36 * 2 / 3600, (d['forecast'], want)"
check "paid1 SUCCEEDED" wait_state paid1 SUCCEEDED 30
t2=$(now_s)
cost_json
check "burn is 0 once it ended" [ "$(jq_py 'd["burn_usd_per_hour"]')" = 0.0 ]
check "month to date: at least the 4 s it slept, at most rate x elapsed" python3 -c "
import json; d = json.load(open('$T_HOME/cost.json'))
m = d['month_to_date']; bound = 36 * ($t2 - $t0 + 1) / 3600
assert 4 * 36 / 3600 - 1e-9 <= m <= bound + 1e-9, (m, bound)"
mtd=$(jq_py 'd["month_to_date"]')
check "an ended job's cost does not move" cj "abs(d['month_to_date'] - $mtd) < 1e-9 and d['to_date'] == d['month_to_date']"
check "the unpriced job is still apart, not counted" cj '[u["name"] for u in d["unpriced"]] == ["hello-1"] and d["jobs"]["priced"] == 1'
check "gantry ls agrees paid1 ended" bash -c '[ "$(job_field paid1 state)" = SUCCEEDED ]'

# --by template: nap holds the money, hello only the unpriced job.
check "--by template: nap costs the month to date" cj "[(r['name'], r['jobs'], r['unpriced']) for r in d['rows']][0] == ('nap', 1, []) and abs(d['rows'][0]['cost'] - $mtd) < 1e-9" --by template
check "--by template: hello is unpriced (cost null, never 0), job named" cj "[r for r in d['rows'] if r['name'] == 'hello'][0]['cost'] is None and [r for r in d['rows'] if r['name'] == 'hello'][0]['unpriced'] == ['hello-1']" --by template
g cost --by template >"$T_HOME/by.txt"
check "the table shows hello as unpriced" grep -Eq '^hello +unpriced +unpriced' "$T_HOME/by.txt"
check "and never as \$0.00" bash -c "! grep -E '^hello ' '$T_HOME/by.txt' | grep -q '\\\$0\\.00'"
check "--by user: one row, this user, both jobs" cj "len(d['rows']) == 1 and d['rows'][0]['name'] == '$me' and d['rows'][0]['jobs'] == 2" --by user
check "--by project groups jobs without a project as -" cj "[r['name'] for r in d['rows']] == ['-']" --by project
expect_rc 2 "--by with an unknown group is refused" g cost --by colour
check "the reason lists the groups" grep -q "user, team, template, provider or project" "$T_HOME/err"

# --since moves the window.
check "--since 2000-01-01: the window holds everything" cj "abs(d['window']['cost'] - d['to_date']) < 1e-9 and d['window']['from'] == '2000-01-01T00:00:00Z'" --since 2000-01-01
today=$(date -u +%Y-%m-%d)
check "--since today: the window holds today's jobs" cj "abs(d['window']['cost'] - $mtd) < 1e-9" --since "$today"
check "--since with --by: the breakdown of the window" cj "d['by'] == 'template' and d['window']['from'].startswith('2000-01-01')" --since 2000-01-01 --by template
expect_rc 2 "--since with a malformed date" g cost --since 2026-13-01
expect_rc 2 "--since in the future" g cost --since 2999-01-01

# --focus: a FOCUS CSV of the priced usage; unpriced jobs left out and counted.
expect_rc 0 "--focus writes a CSV" g cost --focus "$T_HOME/focus.csv"
check "it says how many rows and unpriced jobs" grep -Eq 'wrote 1 row .*1 unpriced job left out' "$T_HOME/out"
check "the CSV has the FOCUS columns and one row that matches the JSON" python3 -c "
import csv, json
rows = list(csv.DictReader(open('$T_HOME/focus.csv')))
need = ['BilledCost', 'EffectiveCost', 'ListCost', 'ChargePeriodStart', 'ChargePeriodEnd',
        'BillingCurrency', 'ResourceId', 'ResourceName', 'ServiceName', 'RegionId', 'Tags']
missing = [c for c in need if c not in rows[0]]
assert not missing, missing
assert len(rows) == 1 and rows[0]['ResourceName'] == 'paid1', rows
assert rows[0]['BillingCurrency'] == 'USD'
assert abs(float(rows[0]['BilledCost']) - $mtd) < 1e-6, (rows[0]['BilledCost'], $mtd)
assert json.loads(rows[0]['Tags'])['template'] == 'nap'"
check "no temporary file is left behind" bash -c "! ls '$T_HOME'/focus.csv.tmp.* 2>/dev/null"
check "--focus - writes the CSV to stdout" bash -c 'g cost --focus - 2>/dev/null | head -1 | grep -q "^BillingPeriodStart,.*BilledCost"'
expect_rc 1 "--focus into a missing directory fails" g cost --focus "$T_HOME/no/such/dir/f.csv"

# A soft budget already passed: the launch warns and goes on.
cat >"$T_HOME/config/config.yaml" <<EOF
providers:
  local: {rate_cpu_hour: 36}
budgets:
  - {scope: user, name: $me, monthly: 1, soft: 0.01, hard: 10}
EOF
check "the budget stands at soft" cj "d['budgets'][0]['verdict'] == 'soft' and d['budgets'][0]['name'] == '$me' and abs(d['budgets'][0]['spent'] - $mtd) < 1e-9"
check "the text output says so" bash -c 'g cost | grep -Eq "user '"$me"' +\\\$0\\.[0-9]{2} of \\\$1\\.00 .*soft"'
expect_rc 0 "a launch under a soft budget goes on" g launch hello --wait
check "with a budget warning on stderr" grep -q "budget warning: user $me" "$T_HOME/err"
check "hello-2 ran" wait_state hello-2 SUCCEEDED 20

# A hard budget already passed (a tiny monthly): the launch is refused, nothing is created.
cat >"$T_HOME/config/config.yaml" <<EOF
providers:
  local: {rate_cpu_hour: 36}
budgets:
  - {scope: user, name: $me, monthly: 0.01, action: refuse}
EOF
n_before=$(g ls -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
expect_rc 1 "a launch over a hard budget is refused" g launch hello
check "the reason says over budget" grep -q "over budget" "$T_HOME/err"
check "and names the budget" grep -q "user $me" "$T_HOME/err"
check "no job was created" bash -c '[ "$(g ls -o json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")" = '"$n_before"' ]'
check "gantry cost shows the budget as hard" cj "d['budgets'][0]['verdict'] == 'hard'"
check "the text output says HARD" bash -c 'g cost | grep -q "HARD: over budget"'
check "the outlook says it is over" cj "d['budgets'][0]['forecast_over'] is True and d['budgets'][0]['outlook'].endswith('; over the hard limit of \$0.01')"
# Where a budget heads: forecast = spent + burn x the hours left in the UTC month, and the
# time the hard limit is reached when that comes first.
cat >"$T_HOME/config/config.yaml" <<EOF
providers:
  local: {rate_cpu_hour: 36}
budgets:
  - {scope: user, name: $me, monthly: 50}
EOF
expect_rc 0 "launch a priced job for the forecast" g launch nap --name fc1 --set secs=60
check "fc1 runs" wait_state fc1 RUNNING 20
check "the budget's forecast is spent + 36 \$/h x the hours left in the month" cj "
(lambda b, dt: b['burn_usd_per_hour'] == 36 and abs(b['forecast'] - (b['spent'] + 36 * (
  (lambda n: dt.datetime(n.year + n.month // 12, n.month % 12 + 1, 1, tzinfo=dt.timezone.utc))(
    dt.datetime.now(dt.timezone.utc)) - dt.datetime.now(dt.timezone.utc)).total_seconds() / 3600)) < 0.5
  and b['forecast_over'] == (b['forecast'] >= 50)
  and (not b['forecast_over'] or ('reaches the hard limit of \$50.00 around ' in b['outlook'] and b['outlook'].endswith(' UTC')))
)(d['budgets'][0], __import__('datetime'))"
check "the text output gives the forecast" bash -c 'g cost | grep -Eq "user '"$me"' .*ok; forecast \\\$[0-9]+\\.[0-9]{2} by month end"'
expect_rc 0 "stop fc1" g stop fc1
# A team budget that does not apply to this user's team does not refuse.
cat >"$T_HOME/config/config.yaml" <<EOF
providers:
  local: {rate_cpu_hour: 36}
budgets:
  - {scope: team, name: nobody-s-team, monthly: 0.01}
EOF
expect_rc 0 "a budget of another team does not refuse" g launch hello --wait

# a malformed price catalog: rows skipped with FILE:LINE, the rest still loads
dd=$T_HOME/datadir
mkdir -p "$dd/catalog"
ln -s "$GANTRY_DATADIR/templates" "$dd/templates"
ln -s "$GANTRY_DATADIR/themes" "$dd/themes"
{
	head -3 "$GANTRY_DATADIR/catalog/gpu-prices.csv"
	echo "aws,us-east-1,p5.48xlarge,H100,8,192,2048,not-a-price,"
	echo "aws,us-east-1,p4d.24xlarge,A100,8,96"
} >"$dd/catalog/gpu-prices.csv"
rc=0
GANTRY_DATADIR=$dd "$GANTRY_BIN" doctor >"$T_HOME/doctor.out" 2>&1 || rc=$?
check "doctor fails on a malformed catalog (exit $rc)" test "$rc" != 0
check "it names the file and line of the first bad row" \
	grep -q "prices .*2 rows from $dd/catalog/gpu-prices.csv; skipped: $dd/catalog/gpu-prices.csv:4:" "$T_HOME/doctor.out"
check "and counts the other" grep -q "and 1 more skipped rows" "$T_HOME/doctor.out"

# limits.max_hourly_cost: an offer above the template's cap is refused before anything starts
printf 'providers:\n  local:\n    rate_cpu_hour: 36\n' >"$T_HOME/config/config.yaml"
mkdir -p "$T_HOME/config/templates"
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
expect_rc 2 "a launch above limits.max_hourly_cost is refused" g launch capped
check "the reason names the cap and the offer" grep -q 'caps the price at \$1.00/h (limits.max_hourly_cost); local offers \$36.00/h' "$T_HOME/err"
check "no job was created" bash -c '! g ls -a -o json | grep -q "\"capped"'

t_done
