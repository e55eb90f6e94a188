#!/bin/bash
# `s` and `f` in the TUI on a notebook that runs in a pod of the Kubernetes fake: the shell
# goes through the API server's exec WebSocket (v4.channel.k8s.io), takes the terminal, runs
# a command in the pod whose output and exit status come back, and the TUI is intact
# afterwards; `f` forwards the pod's port through portforward.k8s.io and shows a URL that
# curl can fetch. The fake's request log shows both channels were WebSockets to the pod.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
T_HOME=$GANTRY_HOME
wait_for() { # SECS CMD...: polls CMD until it succeeds (as tests/lib/common.sh's)
	local end=$((SECONDS + $1))
	shift
	while ((SECONDS < end)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	"$@" >/dev/null 2>&1
}
. "${GANTRY_SRCDIR:-.}/tests/lib/k8srig.sh"
. "${GANTRY_SRCDIR:-.}/tests/lib/k8stest.sh"
trap 'k8srig_stop; tui_cleanup' EXIT
k8srig_start "$T_HOME/k8s" --bookmark-interval 1
k8s_test_config kube
k8s_test_templates
"$GANTRY_BIN" launch knote --provider kube --name nb >/dev/null 2>&1 || tui_fail "launch on kube failed"

tui_start 140 40 -- --view jobs
tui_wait 'nb +notebook +RUNNING +kube' 60

# s: a shell in the pod; the TUI gives up the screen under gantry's banner
tui_keys s
tui_wait "^\[gantry: a shell on nb's worker" 30
tui_wait '[#$] *$' 30
tui_type 'echo "pod-$((6*7))-$HOSTNAME"'
tui_keys Enter
tui_wait 'pod-42-gantry-j[0-9a-f]+-1'
tui_type 'exit 4'
tui_keys Enter
tui_wait 'shell on nb ended \(exit 4\)' 30
tui_wait 'nb +notebook +RUNNING +kube'
tui_assert_no 'pod-42'

# f: forward the notebook's port and fetch its page
tui_keys f
tui_wait 'forward up: open http://127\.0\.0\.1:[0-9]+/' 30
url=$(tui_screen | grep -o 'http://127\.0\.0\.1:[0-9]*/' | head -1)
[ -n "$url" ] || tui_fail "no URL on the screen"
curl -fsS "$url" | grep -q 'Directory listing' || tui_fail "curl through the TUI's forward failed ($url)"
tui_wait '1 forward'

# what the fake saw: an exec and a portforward upgrade on the notebook's pod
log=$(k8s_ctl GET /_fake/log)
for sub in exec portforward; do
	printf '%s' "$log" | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if any(e["path"].endswith("/" + sys.argv[1]) and "/pods/gantry-j" in e["path"]
                  for e in d["data"]) else 1)' "$sub" || tui_fail "the fake saw no $sub on the pod"
done
tui_quit
echo "ok - shell and forward from the TUI on a kubernetes pod"
