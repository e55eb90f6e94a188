#!/usr/bin/env bash
# k8s_errors.sh: what the kubernetes provider says when the cluster says no, against the
# Kubernetes fake: an Unschedulable pod is STARTING with the scheduler's message in
# `gantry ls` and `gantry show`; an image that never pulls is FAILED ImagePullBackOff; a
# node lost under a running job fails it "node lost"; a 403 and a 422 fail the launch in one
# line with their class; 5xx answers are retried and the launch succeeds; a client
# certificate and an exec credential plugin authenticate (the plugin run again when its
# token is refused); an API server out of reach makes a job UNKNOWN, never FAILED.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/k8srig.sh"
. "$here/../lib/k8stest.sh"
trap 'k8srig_stop; t_cleanup' EXIT

k8srig_start "$T_HOME/k8s" --namespace team-vision --bookmark-interval 1 --pull-backoff 1
k8s_test_config kube
k8s_test_templates
sed 's/^name: knote/name: kbadimg/; s|^image: .*|image: gantry.test/pull-error:1|' \
	"$GANTRY_HOME/config/templates/knote.yaml" >"$GANTRY_HOME/config/templates/kbadimg.yaml"
export -f k8s_ctl k8s_q
reason() { g show "$1" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("reason") or "")'; }
export -f reason

# ---- Unschedulable: STARTING with the scheduler's message ----
k8s_ctl POST /_fake/config '{"unschedulable": true}' >/dev/null
expect_rc 0 "a notebook launches on a full cluster" g launch knote --provider kube --name us --detach
check "us is STARTING with the scheduler's reason" wait_for 30 bash -c "reason us | grep -q 'Unschedulable'"
check "gantry ls shows it" bash -c "g ls | grep -E 'us .*STARTING .*Unschedulable'"
check "gantry show names the scheduler's message" bash -c "g show us | grep -Eq 'reason: .*(nodes are available|Insufficient|unschedulable)'"
k8s_ctl POST /_fake/config '{"unschedulable": false}' >/dev/null
check "us RUNNING once it fits" wait_state us RUNNING 60
expect_rc 0 "stop us" g stop us

# ---- an image that never pulls ----
expect_rc 0 "a notebook with an image that never pulls" g launch kbadimg --provider kube --name bi --detach
check "bi FAILED" wait_state bi FAILED 60
check "... with ImagePullBackOff" bash -c "reason bi | grep -q ImagePullBackOff"

# ---- 403 and 422: one line, with the class ----
k8s_ctl POST /_fake/faults '{"status": 403, "method": "POST", "path": "/pods$", "message": "pods is forbidden: User \"gantry\" cannot create resource \"pods\""}' >/dev/null
expect_rc 1 "a forbidden launch fails" g launch knote --provider kube --name fb
check "... in one line saying forbidden, class auth" grep -q 'forbidden.*\[auth\]' "$T_HOME/err"
k8s_ctl POST /_fake/faults '{"status": 422, "method": "POST", "path": "/pods$", "message": "Pod \"x\" is invalid: spec.containers[0].image: Required value"}' >/dev/null
expect_rc 1 "an invalid launch fails" g launch knote --provider kube --name iv
check "... in one line saying invalid" grep -q 'is invalid.*\[invalid\]' "$T_HOME/err"

# ---- 5xx: retried ----
k8s_ctl DELETE /_fake/faults >/dev/null
k8s_ctl POST /_fake/faults '{"status": 503, "count": 2, "method": "POST", "path": "/pods$"}' >/dev/null
expect_rc 0 "a launch through two 503s" g launch knote --provider kube --name rt
check "rt RUNNING" wait_state rt RUNNING 60
check "the POST was answered 503 twice, then created" test "$(k8s_q /_fake/log '" ".join(str(e["status"]) for e in d["data"] if e["method"] == "POST" and e["path"].endswith("/pods"))' | grep -o '503 503 201')" = "503 503 201"
expect_rc 0 "stop rt" g stop rt

# ---- client certificate ----
K8S_TEST_KUBECONFIG=$K8S_DIR/kubeconfig-cert k8s_test_config kube
expect_rc 0 "a launch with a client certificate" g launch knote --provider kube --name cc
check "cc RUNNING" wait_state cc RUNNING 60
check "the fake saw the certificate, no token" test "$(k8s_q /_fake/log '[e["auth"] for e in d["data"] if e["method"] == "POST"][-1].split(":")[0]')" = cert
expect_rc 0 "stop cc" g stop cc

# ---- exec credential plugin ----
K8S_TEST_KUBECONFIG=$K8S_DIR/kubeconfig-exec k8s_test_config kube
: >"$K8S_DIR/exec-calls"
expect_rc 0 "a launch with an exec plugin" g launch knote --provider kube --name ex
check "ex RUNNING" wait_state ex RUNNING 60
check "the plugin ran" test -s "$K8S_DIR/exec-calls"
check "... with KUBERNETES_EXEC_INFO" grep -q '"kind":"ExecCredential"\|"kind": "ExecCredential"' "$K8S_DIR/exec-info"
check "the token is in no log or file of Gantry's" bash -c "! grep -rqF --exclude-dir=k8s '$(cat "$K8S_DIR/exec-token")' '$GANTRY_HOME'"
# the token rotates: the old one is refused (401), the plugin runs again
python3 -c 'import secrets; print("gantry-k8s-exec-" + secrets.token_hex(16))' >"$K8S_DIR/exec-token"
cp "$K8S_DIR/exec-token" "$K8S_DIR/exec-tokens"
calls=$(wc -l <"$K8S_DIR/exec-calls")
expect_rc 0 "stop ex with a rotated token" g stop ex
check "ex STOPPED" wait_state ex STOPPED 60
check "the plugin ran again" test "$(wc -l <"$K8S_DIR/exec-calls")" -gt "$calls"

# ---- a node lost under a running job ----
expect_rc 0 "a training job" g launch ktrain --provider kube --name nl --set secs=600
check "nl RUNNING" wait_state nl RUNNING 60
k8s_ctl POST /_fake/nodes/node-h100 '{"lost": true}' >/dev/null
check "nl FAILED" wait_state nl FAILED 90
check "... node lost" bash -c "reason nl | grep -qi 'node lost\|NodeLost'"

k8s_ctl POST /_fake/nodes '{"name": "node-cpu", "cpu": "16"}' >/dev/null

# ---- the API server out of reach: UNKNOWN, never FAILED ----
k8s_test_config kube
expect_rc 0 "a long training job" g launch knote --provider kube --name ur
check "ur RUNNING (on the new node)" wait_state ur RUNNING 60
k8srig_stop
check "ur UNKNOWN while the API server is away" wait_state ur UNKNOWN 60
check "... with the reason" bash -c "reason ur | grep -q 'unreachable'"
check "... never FAILED" bash -c "! g show ur | grep -q FAILED"
t_done
