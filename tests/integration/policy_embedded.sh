#!/usr/bin/env bash
# policy_embedded.sh: the policy file in embedded mode (SYSTEM_DIR/policy.yaml, here under
# GANTRY_SYSTEM_DIR): a launch within policy runs; over max_gpus_per_job, over
# max_hourly_cost, a PII template to a region its classification does not allow and a user
# with no role are refused naming the rule (FILE:LINE:COL and roles.ml.X) and what would be
# allowed; a template falling back to a default provider the policy forbids is refused with
# the allowed providers; a broken file refuses every launch with its FILE:LINE:COL and
# `gantry policy check` reports it; `gantry policy explain` prints the verdict and each rule.
. "$(dirname "$0")/../lib/common.sh"

me=$(id -un)
pol=$GANTRY_SYSTEM_DIR/policy.yaml
mkdir -p "$GANTRY_SYSTEM_DIR" "$T_HOME/config/templates"
cat >"$T_HOME/config/templates/gpu4.yaml" <<'YAML'
name: gpu4
kind: training
description: wants 4 H100
run: "true"
resources: {accelerators: "H100:4"}
YAML
cat >"$T_HOME/config/templates/pii-train.yaml" <<'YAML'
name: pii-train
kind: training
description: trains on customer records
run: "true"
data: {classification: pii}
YAML
cat >"$T_HOME/config/templates/placed.yaml" <<'YAML'
name: placed
kind: training
description: wants a provider that is not configured, so falls back to the default
run: "true"
placement: {providers: [fleet-eu]}
YAML
write_policy() {
	cat >"$pol" <<EOF
roles:
  ml:
    users: [$me]
    providers: [${1:-local}]
    regions: ["eu-*", "us-*"]
    gpu_types: [H100]
    max_gpus_per_job: 2
    max_hourly_cost: 20
classifications:
  pii: {regions: ["eu-*"]}
EOF
}
njobs() { g ls -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# --- no policy file: as before
expect_rc 0 "no policy: policy check says so" g policy check
check "it names the path and that everything is allowed" grep -q "$pol: no policy file" "$T_HOME/out"

# --- within policy: runs (local in us-east-1, priced $6/h)
printf 'providers:\n  local: {region: us-east-1, rate_cpu_hour: 6}\n' >"$T_HOME/config/config.yaml"
write_policy
expect_rc 0 "policy check: valid" g policy check
expect_rc 0 "a launch within policy runs" g launch hello --set who=policy --wait
check "one job" test "$(njobs)" = 1

# --- over max_gpus_per_job (checked before the fit: this host has no GPU)
expect_rc 2 "4 GPUs with max_gpus_per_job 2: refused" g launch gpu4 --detach
check "names the rule and where it is written" \
	grep -q "refused by policy: $pol:7:5 roles.ml.max_gpus_per_job: the job's 4 GPUs exceed the limit of 2; allowed: at most 2 GPUs" "$T_HOME/err"

# --- over max_hourly_cost
printf 'providers:\n  local: {region: us-east-1, rate_cpu_hour: 36}\n' >"$T_HOME/config/config.yaml"
expect_rc 2 "\$36/h with max_hourly_cost 20: refused" g launch hello --detach
check "names roles.ml.max_hourly_cost" \
	grep -q "$pol:8:5 roles.ml.max_hourly_cost: the job's price \$36.00/h is above the limit \$20.00/h" "$T_HOME/err"

# --- PII outside the EU
printf 'providers:\n  local: {region: us-east-1}\n' >"$T_HOME/config/config.yaml"
expect_rc 2 "a PII template to us-east-1: refused" g launch pii-train --detach
check "names classifications.pii.regions and the allowed regions" \
	grep -q "$pol:10:9 classifications.pii.regions: region us-east-1 is not in \[eu-\*\]; allowed: eu-\*; allowed providers: none for this template" "$T_HOME/err"
expect_rc 0 "hello (public) to us-east-1 is allowed" g launch hello --dry-run
printf 'providers:\n  local: {region: eu-west-1}\n' >"$T_HOME/config/config.yaml"
expect_rc 0 "the same PII template in eu-west-1 would launch" g launch pii-train --dry-run
check "still one job (refusals created nothing)" test "$(njobs)" = 1

# --- falling back to a default provider the policy forbids
write_policy 'fleet-*'
expect_rc 2 "placement fleet-eu is not configured; the default local is forbidden" \
	g launch placed --detach
check "refused with roles.ml.providers and the allowed providers (none configured)" \
	grep -q "roles.ml.providers: provider local is not in \[fleet-\*\]; allowed: fleet-\*; allowed providers: none" "$T_HOME/err"
write_policy 'local'
expect_rc 0 "with local allowed it would launch" g launch placed --dry-run

# --- the optimizer drops what the policy forbids, with the rule's reason
printf 'providers:\n  local: {region: ap-south-1}\n' >"$T_HOME/config/config.yaml"
expect_rc 2 "offers: the only offer is in a region the role does not allow" g offers hello
check "dropped with the rule" \
	grep -q "local vm .*: policy: $pol:5:5 roles.ml.regions: region ap-south-1 is not in \[eu-\*, us-\*\]" "$T_HOME/out"
printf 'providers:\n  local: {region: eu-west-1}\n' >"$T_HOME/config/config.yaml"
expect_rc 0 "offers: in eu-west-1 it fits" g offers hello

# --- explain
expect_rc 0 "policy explain hello: allowed" g policy explain hello
check "verdict line" grep -Eq '^verdict: +allowed$' "$T_HOME/out"
check "role line" grep -Eq '^role: +ml$' "$T_HOME/out"
check "a rule line with where and what" \
	grep -Eq "^  allow +roles.ml.regions +$pol:5:5 +region eu-west-1 is in \[eu-\*, us-\*\]" "$T_HOME/out"
expect_rc 1 "policy explain gpu4: refused (exit 1)" g policy explain gpu4
check "the denying rule is listed" grep -Eq "^  DENY +roles.ml.max_gpus_per_job +$pol:7:5" "$T_HOME/out"
expect_rc 2 "-o json launch --dry-run of gpu4" g -o json launch gpu4 --dry-run
check "json: the policy_rule" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["admitted"] is False and d["policy_rule"] == "roles.ml.max_gpus_per_job", d
' "$T_HOME/out"
expect_rc 1 "-o json explain" g -o json policy explain gpu4
check "json: verdict, rule and hits" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["allowed"] is False and d["rule"] == "roles.ml.max_gpus_per_job", d
assert d["role"] == "ml"
assert any(h["rule"] == "roles.ml.gpu_types" and h["allow"] for h in d["hits"]), d["hits"]
' "$T_HOME/out"

# --- budgets from the policy apply with config.yaml's (a user's config can only be stricter)
cat >"$pol" <<EOF
roles:
  ml: {users: [$me]}
budgets:
  - {scope: user, name: $me, monthly: 2}
EOF
printf 'providers:\n  local: {rate_cpu_hour: 36}\nbudgets:\n  - {scope: user, name: %s, monthly: 500}\n' \
	"$me" >"$T_HOME/config/config.yaml"
expect_rc 1 "the policy's \$2 budget refuses a \$3 launch that config.yaml's \$500 allows" \
	g launch hello --detach
check "over budget: the policy's \$2.00" grep -q "over budget: user $me: .* of \$2.00" "$T_HOME/err"
expect_rc 0 "gantry cost lists both budgets" g -o json cost
check "json: the config's and the policy's budget" python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))["budgets"]
assert sorted(x["monthly"] for x in b) == [2.0, 500.0], b
' "$T_HOME/out"
write_policy
printf 'providers:\n  local: {region: eu-west-1}\n' >"$T_HOME/config/config.yaml"

# --- above the approval threshold (strictly): the dry run says it would wait for approval
printf 'providers:\n  local: {region: eu-west-1, rate_cpu_hour: 6}\n' >"$T_HOME/config/config.yaml"
cat >"$pol" <<EOF
roles:
  ml: {users: [$me], approval: {above_hourly_cost: 6}}
EOF
expect_rc 0 "\$6/h with approval above \$6/h: launches as is" g launch hello --dry-run
check "verdict: would launch" grep -Eq '^verdict: +would launch$' "$T_HOME/out"
sed -i 's/above_hourly_cost: 6/above_hourly_cost: 5.5/' "$pol"
expect_rc 0 "above \$5.50/h: --dry-run" g launch hello --dry-run
check "verdict: would wait for approval, with the rule" \
	grep -Eq '^verdict: +would wait for approval: \$6\.00/h is above roles\.ml\.approval\.above_hourly_cost \$5\.50/h' "$T_HOME/out"
expect_rc 0 "-o json --dry-run" g -o json launch hello --dry-run
check "json: needs_approval and its reason" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["admitted"] is True and d["needs_approval"] is True, d
assert "roles.ml.approval.above_hourly_cost" in d["approval_reason"], d
' "$T_HOME/out"
write_policy
printf 'providers:\n  local: {region: eu-west-1}\n' >"$T_HOME/config/config.yaml"

# --- a user with no role
sed -i "s/users: \[$me\]/users: [someone-else]/" "$pol"
expect_rc 2 "no role for this user: refused" g launch hello --detach
check "says so, with the groups" grep -q "no role in $pol for user $me (groups: " "$T_HOME/err"

# --- a broken file: every launch refused with FILE:LINE:COL; policy check reports it
write_policy
printf '    max_gpu: 3\n' >>"$pol"
sed -i 's/^classifications:.*//; s/^  pii:.*//' "$pol"
expect_rc 1 "policy check: broken (exit 1)" g policy check
check "FILE:LINE:COL: reason" grep -q "$pol:11:5: unknown role setting 'max_gpu'" "$T_HOME/err"
expect_rc 2 "a launch with a broken policy is refused" g launch hello --detach
check "naming the file's error" \
	grep -q "the policy file is broken.*$pol:11:5: unknown role setting 'max_gpu'" "$T_HOME/err"
expect_rc 1 "policy check FILE of another file" g policy check "$T_HOME/nonexistent.yaml"
check "a missing FILE given by name is an error" grep -q "no such file" "$T_HOME/err"
check "still one job" test "$(njobs)" = 1
t_done
