#!/bin/bash
# The Cost view (`$` and `:cost`) shows the totals `gantry cost -o json` computes: burn,
# month to date and forecast formatted like cost_money, the budget with its verdict, the
# breakdowns (Tab), unpriced jobs named and never $0.00; the header shows burn and the budget
# gauge; Jobs has $/H and COST; the launch form shows price, expected cost and budget, and a
# hard budget disables [Launch]. Then a GPU job on the fake NVML library: the UTIL mini-bar in
# Jobs and, in the Job view, the GPU row with its sparkline once history comes in.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
G=$GANTRY_BIN
me=$(id -un)
fake=$(cd "$(dirname "$GANTRY_BIN")" && pwd)/tests/nvml/new/libnvidia-ml.so.1
[ -f "$fake" ] || tui_fail "the fake NVML library is not built: $fake"

mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/nap.yaml" <<'EOF'
name: nap
kind: training
description: sleeps a while, holding one CPU
params:
  secs: {type: int, default: 1, min: 0, max: 600}
resources:
  accelerators: none
  cpus: 1
limits:
  max_runtime: 5m
run: sleep {{secs}}
EOF

# An unpriced job (no rate yet), then two priced ones at 36 $/h, all ended before the TUI opens.
"$G" launch hello --wait >/dev/null 2>&1 || tui_fail "launch hello failed"
cat >"$GANTRY_HOME/config/config.yaml" <<EOF
providers:
  local: {rate_cpu_hour: 36}
budgets:
  - {scope: user, name: $me, monthly: 1, soft: 0.01, hard: 10}
EOF
for i in 1 2; do
	"$G" launch nap --set secs=1 --wait >/dev/null 2>&1 || tui_fail "launch nap $i failed"
done

# py EXPR [ARGS]: a value of `gantry cost -o json ARGS` (the jobs have ended: it is stable).
py() { "$G" cost -o json --no-refresh "${@:2}" | python3 -c '
import json, sys
d = json.load(sys.stdin)
def money(x):
    return "$%.2f" % x
print(eval(sys.argv[1]))' "$1"; }
# re: escapes a money string for grep -E.
re() { printf '%s' "$1" | sed 's/[$.]/\\&/g'; }

mtd=$(py 'money(d["month_to_date"])')
fc=$(py 'money(d["forecast"])')
burn=$(py 'money(d["burn_usd_per_hour"])')
idle=$(py 'money(d["idle_month_to_date"])')
spent=$(py 'money(d["budgets"][0]["spent"])')
bfc=$(py 'money(d["budgets"][0]["forecast"])')
npriced=$(py 'd["jobs"]["priced"]')
nap=$(py '[money(r["cost"]) for r in d["rows"] if r["name"] == "nap"][0]' --by template)
[ "$mtd" != '$0.00' ] || tui_fail "the priced jobs cost nothing? ($mtd)"
[ "$nap" = "$mtd" ] || tui_fail "nap ($nap) should hold the whole month to date ($mtd)"

tui_start 120 40 -- --view jobs
tui_wait 'nap-2 +training +SUCCEEDED'
# Jobs: $/H and COST columns; the unpriced job says so.
tui_wait '\$/H +COST'
tui_wait 'nap-1 +training +SUCCEEDED +local +- +\$36\.00 +\$0\.[0-9]{2} '
tui_wait 'hello-1 +training +SUCCEEDED +local +- +unpriced +- '
# The header: burn and the budget gauge.
tui_wait "burn $(re "$burn")/h"
tui_wait "budget .* $(re "$spent") of \\\$1\\.00 "

# The Cost view from `$`.
tui_keys '$'
tui_wait 'Cost \(USD\)'
tui_wait "Month to date +$(re "$mtd") "
tui_wait "Burn rate +$(re "$burn")/h"
tui_wait "Forecast +$(re "$fc") "
tui_wait "Idle waste +$(re "$idle") "
tui_wait "Jobs +$npriced priced, 1 unpriced \\(not counted: hello-1\\)"
tui_wait "user $me .*[0-9]+% +$(re "$spent") of \\\$1\\.00 +soft limit"
# where the budget heads (nothing runs: the forecast is what is spent)
tui_wait "soft limit +forecast $(re "$bfc")( by month end)? *$"
tui_wait '\[user\]'
tui_wait "^ +$me +$(re "$mtd") +\\\$0\\.00/h +\\\$0\\.00 +3 +1 *$"
tui_assert_no 'hello-1.*\$0\.00'
# Tab: by team, then by template: nap holds the money, hello is unpriced.
tui_keys Tab Tab
tui_wait '\[template\]'
tui_wait "^ +nap +$(re "$nap") +\\\$0\\.00/h +\\\$0\\.00 +2 +0 *$"
tui_wait '^ +hello +unpriced +unpriced +- +1 +1 *$'
tui_keys BTab
tui_wait '\[team\]'
tui_wait 'Top idle wasters'
# Help lists the Cost view's keys.
tui_keys '?'
tui_wait 'Help .* Cost keys'
tui_wait 'breakdown: next grouping'
tui_keys q
tui_wait 'Cost \(USD\)'
# Through :cost from Templates, and at 80x24.
tui_keys t
tui_wait 'Templates \('
tui_keys :
tui_type cost
tui_keys Enter
tui_wait 'Cost \(USD\)'
tui_resize 80 24
tui_wait "Month to date +$(re "$mtd") "
tui_wait "user $me .*soft limit"
tui_resize 120 40

# The launch form: price, expected cost for max_runtime (5m at 36 $/h), the budget warning.
tui_keys t
tui_wait 'Templates \('
tui_keys g
# j until nap is selected; after each j, wait (5 s) until the selected row has moved, so
# a slow redraw does not make the loop press j past nap
selected() { tui_screen | grep -E -m1 '(▶|>) '; }
for i in $(seq 12); do
	tui_screen | grep -Eq '(▶|>) nap ' && break
	was=$(selected)
	tui_keys j
	for ((k = 0; k < 50; k++)); do
		[ "$(selected)" != "$was" ] && break
		sleep 0.1
	done
done
tui_wait '(▶|>) nap '
tui_keys Enter
tui_wait 'Launch nap'
tui_wait 'Price +\$36\.00/h .* up to \$3\.00 for max_runtime 5m'
tui_wait "Budget +warning: user $me: "
tui_assert_no 'cannot launch'
tui_keys Escape
tui_quit
tmx kill-server

# A hard budget: [Launch] is disabled and says why; the header gauge is over 100%.
cat >"$GANTRY_HOME/config/config.yaml" <<EOF
providers:
  local: {rate_cpu_hour: 36}
budgets:
  - {scope: user, name: $me, monthly: 0.01}
EOF
tui_start 120 40
tui_wait 'Templates \('
tui_wait 'budget .* \$[0-9]+\.[0-9]{2} of \$0\.01 '
tui_keys Enter
tui_wait 'Launch hello'
tui_wait "cannot launch: over budget: user $me"
tui_wait 'Budget +OVER BUDGET'
tui_keys Tab
tui_keys Enter
tui_wait "cannot launch: over budget"
[ "$("$G" ls -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ] ||
	tui_fail "a job was launched over a hard budget"
tui_keys Escape
tui_quit
tmx kill-server

# ASCII only under LANG=C in the Cost view.
tui_start 100 30 LANG=C LC_ALL=C -- --view jobs
tui_wait 'Jobs \('
tui_keys '$'
tui_wait "Month to date +$(re "$mtd") "
if tui_screen | LC_ALL=C grep -q '[^ -~]'; then
	tui_screen | LC_ALL=C grep -n '[^ -~]' | head -5 >&2
	tui_fail "non-ASCII bytes in the Cost view under LANG=C"
fi
tui_quit
tmx kill-server

# A GPU job on the fake NVML library: UTIL in Jobs, the GPU row with a sparkline in Job.
export GANTRY_NVML_LIB=$fake FAKE_NVML_SCRIPT=$GANTRY_HOME/nvml.script
cat >"$FAKE_NVML_SCRIPT" <<'EOF'
count 1
gpu 0 name NVIDIA H100 80GB HBM3
gpu 0 uuid GPU-11111111-1111-1111-1111-111111111111
gpu 0 util 37
gpu 0 mem 1073741824 85520809984
gpu 0 temp 41
gpu 0 power 171000
gpu 0 limit 700000
EOF
cat >"$GANTRY_HOME/config/config.yaml" <<'EOF'
refresh_ms: 500
providers:
  local: {rate_cpu_hour: 0, rate_gpu_hour: 2}
EOF
cat >"$GANTRY_HOME/config/templates/gpu.yaml" <<'EOF'
name: gpu
kind: training
description: holds a GPU
resources:
  accelerators: H100:1
run: sleep 600
EOF
"$G" launch gpu --name gpu1 >/dev/null 2>&1 || tui_fail "launch gpu failed"
tui_start 140 40 "GANTRY_NVML_LIB=$fake" "FAKE_NVML_SCRIPT=$FAKE_NVML_SCRIPT" -- --view jobs
tui_wait 'gpu1 +training +RUNNING +local +[^ ]+ +37% +\$2\.00 +\$0\.[0-9]{2} '
tui_wait 'hello-1 +training +SUCCEEDED +local +- +unpriced'
tui_keys g Enter
tui_wait 'Job gpu1'
tui_wait 'Price +\$2\.00/h'
tui_wait 'GPU0 H100 .* 37% .*41°C'
# The sparkline (braille: UTF-8 e2 a0..a3 xx) appears once the engine has a few samples.
for i in $(seq 150); do
	tui_screen | grep 'GPU0 H100' | LC_ALL=C grep -q $'\xe2[\xa0-\xa3]' && break
	sleep 0.2
done
tui_screen | grep 'GPU0 H100' | LC_ALL=C grep -q $'\xe2[\xa0-\xa3]' ||
	tui_fail "no sparkline in the GPU row after 30 s"
tui_keys Escape
tui_quit
"$G" stop gpu1 >/dev/null 2>&1
echo "ok - Cost view, header, Jobs columns, launch form and GPU rows"
