#!/usr/bin/env bash
# secrets_canary_daemon.sh: the canary of secrets_canary.sh under gantryd (issue 12). The
# Kubernetes fake's bearer token is in the service account's kubeconfig (0600, g12svc) and
# nowhere else; g12alice launches, fails a launch whose API error quotes the token, lists,
# shows, reads logs and the audit through the daemon: the token is in none of her outputs,
# none of her files, and nowhere in the service's home but that kubeconfig (store, WAL,
# state, logs, audit). The fake legitimately receives it (its files are not searched).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/k8srig.sh"
. "$here/../lib/k8stest.sh"
. "$here/../lib/gantryd.sh"

command -v sqlite3 >/dev/null || {
	echo "sqlite3 (the command) is needed: apt-get install sqlite3" >&2
	exit 1
}
gd_users
RIGD=$(mktemp -d "${TMPDIR:-/tmp}/gantry-canary-rig.XXXXXX")
GD_DIR=$(mktemp -d /tmp/gantry-canary-gd.XXXXXX)
chmod 0755 "$GD_DIR"
trap 'gd_stop; k8srig_stop; rm -rf "$RIGD" "$GD_DIR"; t_cleanup' EXIT

k8srig_start "$RIGD/k8s" --namespace team-vision
CANARY=$(cat "$K8S_DIR/token")
check "the canary is a long random token" test "${#CANARY}" -ge 40

# the service's config: one kubernetes provider; its kubeconfig (token inline, CA inline)
# in the service's home, readable by the service alone
svc=$GD_DIR/run/home
mkdir -p "$svc/config" "$GD_DIR/run/system/templates"
sed "s|certificate-authority: .*|certificate-authority-data: $(base64 -w0 <"$K8S_CA")|" \
	"$K8S_DIR/kubeconfig" >"$svc/config/kubeconfig"
K8S_TEST_KUBECONFIG=$svc/config/kubeconfig k8s_test_config kube
cp "$GANTRY_HOME/config/config.yaml" "$svc/config/config.yaml"
rm "$GANTRY_HOME/config/config.yaml"
k8s_test_templates
cp "$GANTRY_HOME/config/templates/"*.yaml "$GD_DIR/run/system/templates/"
rm -r "$GANTRY_HOME/config/templates"
chown -R g12svc: "$svc"
chmod 0700 "$svc" "$svc/config"
chmod 0600 "$svc/config/"*
# a policy that lets the test users launch the kubernetes templates (the default policy of
# tests/lib/gantryd.sh allows local only)
cat >"$T_HOME/policy.yaml" <<'YAML'
roles:
  admin: {groups: [g12-admins], admin: true, approver: true, see: all}
  ml: {groups: [g12-ml], providers: [kube], templates: ["*"]}
  vision: {groups: [g12-vision], providers: [kube], templates: ["*"]}
YAML
gd_start "$GD_DIR/run" "$T_HOME/policy.yaml"
chmod 0644 "$GD_SYSTEM/templates/"*.yaml

out=$T_HOME/all-output
: >"$out"
A() { as g12alice env GANTRY_SYSTEM_DIR="$GD_SYSTEM" "$GANTRY_BIN" "$@"; }
keep() { cat "$T_HOME/out" "$T_HOME/err" >>"$out"; }
also() { "$@" >>"$out" 2>&1 || :; }
alice_home=$(getent passwd g12alice | cut -d: -f6)

expect_rc 0 "alice launches a training job through gantryd" A launch ktrain --provider kube --name t1 --detach
keep
t1_done() { A show t1 -o json | grep -q '"state": *"SUCCEEDED"'; }
check "it SUCCEEDED" wait_for 60 t1_done
k8s_ctl POST /_fake/faults "{\"status\": 403, \"method\": \"POST\", \"path\": \"/pods\$\", \"message\": \"token $CANARY may not create pods\"}" >/dev/null
expect_rc 1 "a launch the API refuses fails" A launch knote --provider kube --name f1
keep
check "alice is told it was forbidden, the token redacted" grep -q "token \\[redacted\\] may not create pods (403 Forbidden) \\[auth\\]" "$T_HOME/err"
k8s_ctl DELETE /_fake/faults >/dev/null
also A ls -a -o json
also A show t1 -o json
also A show f1 -o json
also A show f1
also A logs t1
also A audit -o json
also A audit
also A doctor
also as root env GANTRY_SYSTEM_DIR="$GD_SYSTEM" "$GANTRY_BIN" audit -o json
check "alice's listing shows her job" grep -q '"name": *"t1"' "$out"

sqlite3 "$GD_HOME/state/gantry.db" .dump >"$T_HOME/dump.sql"
hits=$(grep -rlaF -- "$CANARY" "$GD_HOME" "$alice_home" "$T_HOME" 2>/dev/null |
	grep -v -x -F -e "$svc/config/kubeconfig" -e "$out" || :)
if [ -z "$hits" ]; then ok "the canary is only in the service's kubeconfig"; else
	fail "the canary is also in: $hits"
fi
check "nor in anything alice was shown" bash -c "! grep -qaF -- '$CANARY' '$out'"
check "nor in gantryd's own log" bash -c "! grep -qaF -- '$CANARY' '$GD_LOG'"

t_done
