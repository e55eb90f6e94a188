#!/bin/bash
# An autoscaled endpoint on the kubernetes provider against the fake: the HPA's desired
# replicas change (the fake's control API, as a metrics-driven HPA would) and the Jobs view
# follows: RUNNING 1/1, then RUNNING 1/3 while two new pods start, then RUNNING 3/3; the Job
# view's gauge, `gantry ls` and `ls -o json` agree.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
if [ ! -f "$GANTRY_SRCDIR/tests/lib/k8srig.sh" ]; then
	echo "SKIP: tests/lib/k8srig.sh (the Kubernetes fake) is not here"
	exit 77
fi
wait_for() { # as tests/lib/common.sh's, for the rig
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}
. "$GANTRY_SRCDIR/tests/lib/k8srig.sh"
k8srig_start "$GANTRY_HOME/rig" >"$GANTRY_HOME/rig.log" 2>&1 ||
	tui_fail "the fake did not start: $(tail -5 "$GANTRY_HOME/rig.log")"
trap 'k8srig_stop; tui_cleanup' EXIT

first=$GANTRY_HOME/first flag=$GANTRY_HOME/go
mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/config.yaml" <<EOF
providers:
  kube:
    type: kubernetes
    kubeconfig: $GANTRY_HOME/rig/kubeconfig
    poll_interval: 1s
EOF
# The first replica serves at once; the others wait for $flag (so 1/3 lasts until the test
# says).
cat >"$GANTRY_HOME/config/templates/web.yaml" <<EOF
name: web
kind: endpoint
description: an autoscaled endpoint
resources: {accelerators: none}
service:
  readiness: /
  readiness_timeout: 120
  replicas: {min: 1, max: 3}
  target_qps_per_replica: 10
run: |
  if ! mkdir '$first' 2>/dev/null; then
    while [ ! -e '$flag' ]; do sleep 0.1; done
  fi
  exec python3 -m http.server "\$GANTRY_PORT" --bind 127.0.0.1
EOF

"$GANTRY_BIN" launch web --provider kube --detach >"$GANTRY_HOME/launch.out" 2>&1 ||
	tui_fail "launch: $(cat "$GANTRY_HOME/launch.out")"
tui_start 120 40
tui_keys 2
tui_wait 'Jobs \(1\)'
tui_wait 'web-1 +endpoint +RUNNING 1/1 +kube'

# The HPA wants 3 (a load it measured): two more pods, not ready yet.
dep=$("$GANTRY_BIN" show web-1 -o json | python3 -c 'import json, sys
print(json.load(sys.stdin)["provider_ref"].split("/")[-1])')
out=$(k8s_ctl POST "/_fake/hpa/default/$dep" '{"desired": 3}') &&
	case $out in *'"desired": 3'*) : ;; *) false ;; esac ||
	tui_fail "the fake's control API refused the HPA change: $out"
tui_wait 'web-1 +endpoint +RUNNING 1/3 +kube'
touch "$flag"
tui_wait 'web-1 +endpoint +RUNNING 3/3 +kube'
replicas=$("$GANTRY_BIN" ls --no-refresh -o json | python3 -c 'import json, sys
r = [j for j in json.load(sys.stdin) if j["name"] == "web-1"][0]["replicas"]
print(r["ready"], r["desired"])')
[ "$replicas" = "3 3" ] || tui_fail "ls -o json: replicas $replicas, wanted 3 3"
tui_keys Enter
tui_wait 'Job web-1'
tui_wait 'State +RUNNING 3/3'
tui_wait 'Replicas .* 3/3 ready \(min 1, max 3\)'
tui_keys Escape
"$GANTRY_BIN" stop web-1 >/dev/null 2>&1 || tui_fail "gantry stop web-1"
tui_wait 'web-1 +endpoint +STOPPED +kube'
tui_quit
echo "ok - an HPA's desired replicas in the Jobs and Job views"
