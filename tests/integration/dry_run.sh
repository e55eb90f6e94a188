#!/usr/bin/env bash
# dry_run.sh: `gantry launch --dry-run` prints the plan with price, expected cost and budget
# verdict, exits with the code the real launch gives, and creates nothing. Each refusal kind
# is tried both ways: dry run first (nothing may appear), then the real launch.
. "$(dirname "$0")/../lib/common.sh"

me=$(id -un)
mkdir -p "$T_HOME/config/templates"
cat >"$T_HOME/config/templates/capped.yaml" <<'YAML'
name: capped
kind: training
description: refuses offers above $1/h
run: "true"
limits: {max_hourly_cost: 1, max_runtime: 30m}
YAML
cat >"$T_HOME/config/templates/open-ended.yaml" <<'YAML'
name: open-ended
kind: training
description: no max_runtime
run: "true"
YAML

njobs() { g ls -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
nothing_created() {
	[ "$(njobs)" = 0 ] && [ -z "$(ls -A "$T_HOME/state/jobs")" ] &&
		[ -z "$(ls -A "$T_HOME/state/secrets")" ] && [ -z "$(ls -A "$T_HOME/state/locks")" ]
}
# same WANT NAME ARGS...: the dry run exits WANT and creates nothing; the launch exits WANT too
same() {
	local want=$1 name=$2
	shift 2
	expect_rc "$want" "$name: --dry-run" g launch "$@" --dry-run
	check "$name: --dry-run created nothing" nothing_created
	expect_rc "$want" "$name: the launch" g launch "$@" --detach
}

# --- refusals (nothing is priced yet)
same 3 "unknown template" no-such-template
same 2 "unknown parameter" hello --set nosuch=1
same 2 "invalid job name" hello --name 'Bad Name'
same 2 "unknown provider" hello --provider nope
same 2 "does not fit (8 H100 on this host)" llama-finetune-h100x8
expect_rc 2 "read-only: --dry-run" g --readonly launch hello --dry-run
check "read-only: the dry run says it would be refused" grep -q "would be refused: read-only" "$T_HOME/err"
expect_rc 2 "read-only: the launch" g --readonly launch hello
check "nothing created by any refusal" nothing_created

# --- prices: local at $36/h
printf 'providers:\n  local:\n    rate_cpu_hour: 36\n' >"$T_HOME/config/config.yaml"
expect_rc 0 "a priced plan: --dry-run" g launch hello --dry-run
check "it shows the price" grep -Eq '^price: +\$36\.00/h' "$T_HOME/out"
check "it shows the expected cost over max_runtime (5m x \$36/h = \$3.00)" \
	grep -Eq '^expected: +\$3\.00 at most \(max_runtime 5m\)' "$T_HOME/out"
check "it shows the budget verdict" grep -Eq '^budget: +no budget applies' "$T_HOME/out"
check "it says it would launch" grep -Eq '^verdict: +would launch' "$T_HOME/out"
expect_rc 0 "without max_runtime: --dry-run" g launch open-ended --dry-run
check "the expected cost is per hour" grep -Eq '^expected: +\$36\.00 per hour \(no max_runtime\)' "$T_HOME/out"
expect_rc 0 "-o json" g -o json launch hello --dry-run
check "json: price, expected cost, budget, admitted" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["price_per_hour"] == 36 and abs(d["expected_cost"] - 3) < 1e-9, d
assert d["expected_cost_per"] == "max_runtime" and d["budget"] == "ok" and d["admitted"] is True, d
' "$T_HOME/out"
check "no job from the priced dry runs" nothing_created
same 2 "over limits.max_hourly_cost" capped
check "the reason names the cap" grep -q "max_hourly_cost" "$T_HOME/err"

# --- budgets
cat >"$T_HOME/config/config.yaml" <<EOF
providers:
  local: {rate_cpu_hour: 36}
budgets:
  - {scope: user, name: $me, monthly: 1, action: refuse}
EOF
expect_rc 1 "over a hard budget: --dry-run" g launch hello --dry-run
check "the plan says over a hard limit" grep -Eq "^budget: +over a hard limit: user $me" "$T_HOME/out"
check "the plan says refused" grep -Eq "^verdict: +refused: over budget" "$T_HOME/out"
check "over a hard budget: --dry-run created nothing" nothing_created
expect_rc 1 "over a hard budget: the launch" g launch hello --detach
check "nothing created by the refused launch" nothing_created
# a short max_runtime is charged for what it asks, not for the template's limit
expect_rc 0 "--max-runtime 10s fits the \$1 budget: --dry-run" g launch hello --max-runtime 10s --dry-run
check "the expected cost is over 10 s (\$0.10)" grep -Eq '^expected: +\$0\.10 at most \(max_runtime 10s\)' "$T_HOME/out"
check "and it would launch" grep -Eq '^verdict: +would launch' "$T_HOME/out"
check "--max-runtime: the dry run created nothing" nothing_created
same 2 "--max-runtime over the template's limit" hello --max-runtime 1h
check "the reason names the limit" grep -q "over the template's limit" "$T_HOME/err"
expect_rc 2 "--max-runtime needs a duration" g launch hello --max-runtime soon
check "nothing created by the --max-runtime refusals" nothing_created
cat >"$T_HOME/config/config.yaml" <<EOF
providers:
  local: {rate_cpu_hour: 36}
budgets:
  - {scope: user, name: $me, monthly: 100, soft: 0.01}
EOF
expect_rc 0 "under a soft budget: --dry-run" g launch hello --dry-run
check "the plan shows the warning" grep -Eq "^budget: +warning: user $me" "$T_HOME/out"
check "and that it would launch" grep -Eq '^verdict: +would launch' "$T_HOME/out"
check "soft: --dry-run created nothing" nothing_created
expect_rc 0 "under a soft budget: the launch goes on" g launch hello --wait
check "with the warning" grep -q "budget warning" "$T_HOME/err"
t_done
