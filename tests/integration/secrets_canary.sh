#!/usr/bin/env bash
# secrets_canary.sh: a canary credential (the Kubernetes fake's bearer token, random per run)
# given to Gantry in a kubeconfig (inline `token:`, then `tokenFile:`) never shows up on
# Gantry's side: the store (its sqlite dump, the file, its WAL), the state directory, the
# job logs, the audit log, errors and every output (-o json included), after launches, a
# refused launch, a stop, and a failed launch whose API error quotes the token. The fake
# legitimately receives it (its files live outside GANTRY_HOME and are not searched).
# Credential files others may read are refused with a message that names the file and the
# chmod, never the value: a 0644 token file, a 0644 kubeconfig holding a token, a 0644 ssh
# private key.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/k8srig.sh"
. "$here/../lib/k8stest.sh"
. "$here/../lib/sshrig.sh"
RIGD=$(mktemp -d "${TMPDIR:-/tmp}/gantry-canary-rig.XXXXXX")
trap 'k8srig_stop; rig_cleanup; rm -rf "$RIGD"; t_cleanup' EXIT
unset SSH_AUTH_SOCK # the key file alone decides

command -v sqlite3 >/dev/null || {
	echo "sqlite3 (the command) is needed: apt-get install sqlite3" >&2
	exit 1
}
k8srig_start "$RIGD/k8s" --namespace team-vision
CANARY=$(cat "$K8S_DIR/token")
check "the canary is a long random token" test "${#CANARY}" -ge 40
k8s_test_config kube
k8s_test_templates
cat >"$GANTRY_HOME/config/templates/kcapped.yaml" <<'EOT'
name: kcapped
kind: training
description: One H100, but never above a cent an hour.
image: python:3.11-slim
resources:
  accelerators: H100:1
limits:
  max_hourly_cost: 0.01
run: echo never
EOT
out=$T_HOME/all-output
: >"$out"
keep() { cat "$T_HOME/out" "$T_HOME/err" >>"$out"; }
also() { "$@" >>"$out" 2>&1 || :; }

# no_canary: the canary is nowhere under GANTRY_HOME (config, store and its WAL, state,
# logs, the store's dump) nor in what the commands printed
no_canary() {
	local hits
	sqlite3 "$T_HOME/state/gantry.db" .dump >"$T_HOME/dump.sql"
	hits=$(grep -rlaF -- "$CANARY" "$T_HOME" 2>/dev/null | grep -v '/all-output$' || :)
	if [ -n "$hits" ]; then
		echo "  canary found in: $hits" >&2
		return 1
	fi
	! grep -qaF -- "$CANARY" "$out"
}

run_variant() { # NAME: launches, a stop, errors, listings with the token as configured
	local v=$1
	expect_rc 0 "[$v] launch a training job" g launch ktrain --provider kube --name "t-$v" --detach
	keep
	check "[$v] it SUCCEEDED" wait_state "t-$v" SUCCEEDED 60
	also g logs "t-$v"
	check "[$v] its log is there" grep -q '^train-done' "$out"
	expect_rc 0 "[$v] launch a notebook" g launch knote --provider kube --name "n-$v" --detach
	keep
	check "[$v] it runs" wait_state "n-$v" RUNNING 60
	expect_rc 0 "[$v] stop it" g stop "n-$v"
	keep
	expect_rc 2 "[$v] a launch above its price cap is refused" g launch kcapped --provider kube
	keep
	# the API refuses a launch and quotes the token in its message
	k8s_ctl POST /_fake/faults "{\"status\": 403, \"method\": \"POST\", \"path\": \"/pods\$\", \"message\": \"token $CANARY may not create pods\"}" >/dev/null
	expect_rc 1 "[$v] a launch the API refuses fails" g launch knote --provider kube --name "f-$v"
	keep
	k8s_ctl DELETE /_fake/faults >/dev/null
	check "[$v] its error says forbidden, the token redacted" grep -q 'token \[redacted\] may not create pods (403 Forbidden) \[auth\]' "$T_HOME/err"
	also g ls -a -o json
	also g ls -a
	also g show "t-$v" -o json
	also g show "f-$v" -o json
	also g show "f-$v"
	also g offers ktrain -o json
	also g cost -o json
	also g doctor
	expect_rc 0 "[$v] gantry audit -o json" g audit -o json
	keep
	check "[$v] the launches, the refusal and the stop are audited" python3 - "$T_HOME/out" "$v" <<'PY'
import json, sys
es, v = json.load(open(sys.argv[1])), sys.argv[2]
names = {(e["action"], e["verdict"], (e.get("detail") or {}).get("name") or e["target"]) for e in es}
for want in [("launch", "allowed", "t-" + v), ("launch", "allowed", "n-" + v),
             ("stop", "ok", "n-" + v), ("launch", "refused", "kcapped")]:
    assert want in names, (want, names)
PY
	also g audit
	expect_rc 0 "[$v] the audit log is intact" g audit verify
	keep
	check "[$v] the canary is nowhere: store, WAL, state, logs, audit, errors, json" no_canary
}

run_variant token
K8S_TEST_KUBECONFIG=$K8S_DIR/kubeconfig-tokenfile k8s_test_config kube
run_variant tokenfile

# --- credential files others can read are refused, naming the file and the chmod
chmod 0644 "$K8S_DIR/token"
expect_rc 4 "a launch with a 0644 token file fails (the provider cannot open)" g launch ktrain --provider kube --name loose1
keep
check "naming the token file and the chmod" bash -c "grep -q '$K8S_DIR/token' '$T_HOME/err' && grep -q 'chmod 600' '$T_HOME/err'"
check "not the token" bash -c "! grep -qF '$CANARY' '$T_HOME/err'"
chmod 0600 "$K8S_DIR/token"

cp "$K8S_DIR/kubeconfig" "$K8S_DIR/kubeconfig-open"
chmod 0644 "$K8S_DIR/kubeconfig-open"
K8S_TEST_KUBECONFIG=$K8S_DIR/kubeconfig-open k8s_test_config kube
expect_rc 4 "a launch with a 0644 kubeconfig holding a token fails" g launch ktrain --provider kube --name loose2
keep
check "naming the kubeconfig and the chmod" grep -q "$K8S_DIR/kubeconfig-open holds a credential .* (mode 0644): run chmod 600 $K8S_DIR/kubeconfig-open" "$T_HOME/err"
also g doctor
chmod 0600 "$K8S_DIR/kubeconfig-open"
expect_rc 0 "made private, it is accepted" g launch ktrain --provider kube --name tight --detach
keep
check "the canary is nowhere after the refusals" no_canary

# --- an ssh provider's private key others can read is refused, as OpenSSH does
rig_workers 1
chmod 0644 "$RIG_KEY"
expect_rc 1 "a launch over ssh with a 0644 key fails" g launch hello --provider fleet --name sshloose
check "naming the key and the chmod" grep -q "$RIG_KEY (refused: mode 0644 lets others read it; run: chmod 600 $RIG_KEY)" "$T_HOME/err"
chmod 0600 "$RIG_KEY"
expect_rc 0 "made private, the launch runs" g launch hello --provider fleet --name sshtight

t_done
