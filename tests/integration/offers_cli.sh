#!/usr/bin/env bash
# offers_cli.sh: `gantry offers` with the real binary over the local provider and an `ssh`
# provider on real OpenSSH workers (tests/lib/sshrig.sh): the ranking by price, every reason
# an offer is dropped (placement.providers, GPU type and count, limits.max_hourly_cost with
# priced and unpriced offers, spot, the hard budget left, an unreachable host), --provider,
# -o json, and the exit codes (0 when an offer fits, 2 when none does, 3 unknown template).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
trap 'rig_cleanup; t_cleanup' EXIT

rig_workers 2 2
cfg=$GANTRY_HOME/config/config.yaml
# gpu2 costs more than the fleet's rate; local prices CPUs at a site rate
sed -i 's/^      - name: gpu2$/&\n        rate_gpu_hour: 4/' "$cfg"
# a host nobody listens for, whose GPU type carries a bidi override and a C1 CSI: its row is
# dropped as unreachable, and the table shows it without those characters
closed=$(rig_free_port)
printf '      - {name: evil, address: 127.0.0.1, port: %s, gpus: 1, gpu_type: "H100\\u202e\\u009b31mX", dir: /nonexistent}\n' "$closed" >>"$cfg"
echo "  local: {rate_cpu_hour: 0.5}" >>"$cfg"
tpl=$T_HOME/config/templates
mkdir -p "$tpl"
mk() { # mk NAME RESOURCES_AND_MORE
	printf 'name: %s\nkind: training\nrun: echo hi\n%s\n' "$1" "$2" >"$tpl/$1.yaml"
}
mk one-h100 'resources: {accelerators: H100:1}
placement: {regions: [us-*]}'
mk two-capped 'resources: {accelerators: [A100:2, H100:2]}
limits: {max_hourly_cost: 6}'
mk cpu-local 'resources: {accelerators: none, cpus: 1}
placement: {providers: [local]}'
mk cpu-capped 'resources: {accelerators: none}
limits: {max_hourly_cost: 1}'
mk four-h100 'resources: {accelerators: H100:4}'
mk spot-only 'resources: {accelerators: none, spot: only}'
mk budgeted 'resources: {accelerators: H100:1}
limits: {max_runtime: 1h}'

# json FILE EXPR: evaluates a Python expression over the JSON answer j
json() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
order() { json "$1" '" ".join(o["provider"]+"/"+o["instance_type"] for o in j["ranked"])'; }
why() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print([o["reason"] for o in j["dropped"] if o["provider"]+"/"+o["instance_type"]==sys.argv[2]][0])' "$1" "$2"; }
host=$(hostname)

# 1. one H100: both fleet hosts fit, cheapest first; local has no GPU
expect_rc 0 "offers one-h100" g offers one-h100 -o json
cp "$T_HOME/out" "$T_HOME/one.json"
check "ranked cheapest first: gpu1 (\$2.50/h) then gpu2 (\$4.00/h), got '$(order "$T_HOME/one.json")'" \
	test "$(order "$T_HOME/one.json")" = "fleet/gpu1 fleet/gpu2"
check "prices and their source are the site rates" \
	test "$(json "$T_HOME/one.json" '[(o["usd_per_hour"], o["source"], o["gpus"], o["gpu_type"], o["availability"]) for o in j["ranked"]]')" = "[(2.5, 'site', 2, 'H100', 'yes'), (4.0, 'site', 2, 'H100', 'yes')]"
check "the fleet's hosts report CPUs and memory from their sweep" \
	test "$(json "$T_HOME/one.json" 'all(o["cpus"] > 0 and o["memory_mib"] > 0 for o in j["ranked"])')" = True
r=$(why "$T_HOME/one.json" "local/$host")
check "local is dropped for its missing GPU: '$r'" bash -c '[[ "$1" == "needs H100:1"* ]]' _ "$r"
expect_rc 0 "offers one-h100 as a table" g offers one-h100
sed "s/^/# /" "$T_HOME/out"
check "table: header, two ranked rows, the dropped section" bash -c "
	grep -q '^RANK  PROVIDER  REGION  TYPE' '$T_HOME/out' &&
	grep -Eq '^1 +fleet +- +gpu1 +2x H100 .*\\\$2\\.50/h +site +second +yes' '$T_HOME/out' &&
	grep -Eq '^2 +fleet +- +gpu2 +2x H100 .*\\\$4\\.00/h +site' '$T_HOME/out' &&
	grep -q '^dropped:' '$T_HOME/out' &&
	grep -q '^  local $host (-, unpriced): needs H100:1' '$T_HOME/out'"

check "the unreachable host is dropped with its reason" bash -c 'grep -Eq "^  fleet evil \(1x H100.*\): evil unreachable: 127\.0\.0\.1:[0-9]+: connection refused" "$1"' _ "$T_HOME/out"
check "the table has no bidi override nor C1 control from the config" \
	bash -c '! LC_ALL=C grep -q "$(printf "\xe2\x80\xae")\|$(printf "\xc2\x9b")" "$1"' _ "$T_HOME/out"
check "the JSON keeps the GPU type as configured" \
	test "$(json "$T_HOME/one.json" '[o["gpu_type"] for o in j["dropped"] if o["instance_type"]=="evil"][0] == "H100\u202e\u009b31mX"')" = True

# 2. the price cap, with GPU alternatives (A100:2 or H100:2): 2 x 2.5 fits, 2 x 4 is over
expect_rc 0 "offers two-capped" g offers two-capped -o json
cp "$T_HOME/out" "$T_HOME/capped.json"
check "only gpu1 fits under the cap" test "$(order "$T_HOME/capped.json")" = "fleet/gpu1"
check "gpu2 is over the cap: '$(why "$T_HOME/capped.json" fleet/gpu2)'" \
	test "$(why "$T_HOME/capped.json" fleet/gpu2)" = "\$8.00/h is over limits.max_hourly_cost \$6.00/h"

# 3. placement.providers
expect_rc 0 "offers cpu-local" g offers cpu-local -o json
cp "$T_HOME/out" "$T_HOME/place.json"
check "only local ranks" test "$(order "$T_HOME/place.json")" = "local/$host"
check "local priced at its CPU rate (\$0.50/h)" test "$(json "$T_HOME/place.json" 'j["ranked"][0]["usd_per_hour"]')" = 0.5
check "the fleet is outside placement.providers" \
	test "$(why "$T_HOME/place.json" fleet/gpu1)/$(why "$T_HOME/place.json" fleet/gpu2)" = \
	"provider not in placement.providers/provider not in placement.providers"

# 4. a cap with unpriced offers: the fleet has no CPU rate
expect_rc 0 "offers cpu-capped" g offers cpu-capped -o json
cp "$T_HOME/out" "$T_HOME/unpriced.json"
check "local (priced) ranks" test "$(order "$T_HOME/unpriced.json")" = "local/$host"
check "an unpriced offer is dropped while a cap is set" \
	test "$(why "$T_HOME/unpriced.json" fleet/gpu1)" = "unpriced while limits.max_hourly_cost is set"

# 5. too few GPUs anywhere: nothing fits, exit 2 as a refused launch
expect_rc 2 "offers four-h100 (none fits)" g offers four-h100 -o json
check "the reason names the count" test "$(why "$T_HOME/out" fleet/gpu1)" = "2 H100 GPUs, needs 4"
check "no offer fits: stderr says so" grep -q "no offer fits template four-h100" "$T_HOME/err"

# 6. spot only: nobody here sells spot
expect_rc 2 "offers spot-only" g offers spot-only -o json
check "on-demand offers are dropped for spot only" test "$(why "$T_HOME/out" fleet/gpu2)" = "spot only"

# 7. --provider
expect_rc 0 "offers one-h100 --provider fleet" g offers one-h100 --provider fleet -o json
check "--provider asks only that provider" \
	test "$(json "$T_HOME/out" 'sorted(set(o["provider"] for o in j["ranked"]+j["dropped"]))')" = "['fleet']"
expect_rc 2 "an unknown provider is a usage error" g offers one-h100 --provider nope
expect_rc 3 "an unknown template exits 3" g offers no-such-template
expect_rc 2 "a bad --set is refused as launch refuses it" g offers one-h100 --set nope=1

# 8. the hard budget left: $3 a month, nothing spent; 1 h at $4 is over, 1 h at $2.50 is not
printf 'budgets:\n  - {scope: user, name: %s, monthly: 3}\n' "$(id -un)" >>"$cfg"
expect_rc 0 "offers budgeted" g offers budgeted -o json
cp "$T_HOME/out" "$T_HOME/budget.json"
check "gpu1 fits the budget" test "$(order "$T_HOME/budget.json")" = "fleet/gpu1"
check "gpu2 is over the budget left: '$(why "$T_HOME/budget.json" fleet/gpu2)'" \
	test "$(why "$T_HOME/budget.json" fleet/gpu2)" = "expected \$4.00 is over the \$3.00 budget left"
check "the answer says what budget was left and the runtime counted" \
	test "$(json "$T_HOME/budget.json" '(j["budget_left_usd"], j["runtime_s"])')" = "(3.0, 3600)"

mk budget-long 'resources: {accelerators: H100:1}
limits: {max_runtime: 10h}'
expect_rc 1 "offers budget-long: the budget refuses every offer that fits otherwise (exit 1, as launch)" \
	g offers budget-long -o json
check "10 h at \$2.50 is over the budget left" \
	test "$(why "$T_HOME/out" fleet/gpu1)" = "expected \$25.00 is over the \$3.00 budget left"
expect_rc 1 "launch --dry-run of budget-long is refused with the same code" g launch budget-long --dry-run --provider fleet

# 9. an unreachable host is dropped with its reason; the other one still ranks
rig_ctl stop 2
expect_rc 0 "offers one-h100 with gpu2 down" g offers one-h100 -o json
check "gpu1 still ranks" test "$(order "$T_HOME/out")" = "fleet/gpu1"
r=$(why "$T_HOME/out" fleet/gpu2)
check "gpu2 is dropped as unreachable: '$r'" bash -c 'printf "%s" "$1" | grep -qi "unreach\|refused\|connect"' _ "$r"

t_done
