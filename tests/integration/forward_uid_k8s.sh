#!/usr/bin/env bash
# forward_uid_k8s.sh (issue 12): the owner check on a provider channel's forward too: root
# forwards a notebook pod of the kubernetes provider (port-forward over WebSocket, against
# the Kubernetes fake); root's curl gets the page, the same curl as user nobody is cut off at
# once and gantry forward says so, and root's curl still works afterwards. Needs root.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/k8srig.sh"
. "$here/../lib/k8stest.sh"
FWD_PID=
trap '[ -z "$FWD_PID" ] || kill -KILL "$FWD_PID" 2>/dev/null || :; k8srig_stop; t_cleanup' EXIT

if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then
	if [ "${CI:-}" = true ]; then
		echo "FAIL - CI=true: this test must run as root with a user nobody"
		exit 1
	fi
	echo "SKIP: needs root and a user nobody"
	exit 77
fi
nobody_uid=$(id -u nobody)

k8srig_start "$T_HOME/k8s"
k8s_test_config kube
k8s_test_templates
W=$T_HOME/w
mkdir -p "$W"

expect_rc 0 "a notebook launches on kubernetes" g launch knote --provider kube --name nb
check "nb RUNNING" wait_state nb RUNNING 60
"$GANTRY_BIN" forward nb >"$W/fwd.out" 2>"$W/fwd.err" &
FWD_PID=$!
fwd_up() { grep -q '^Forwarding 127.0.0.1:[0-9]' "$W/fwd.out"; }
check "gantry forward listens ($(head -c 300 "$W/fwd.err"))" wait_for 20 fwd_up
lport=$(sed -n 's/^Forwarding 127.0.0.1:\([0-9]*\) .*/\1/p' "$W/fwd.out")
page() { curl -s --max-time 5 "http://127.0.0.1:$lport/" | grep -q 'Directory listing'; }
check "the owner's curl gets the notebook's page through the channel's forward" wait_for 20 page

rc=0
runuser -u nobody -- curl -sS --max-time 20 "http://127.0.0.1:$lport/" >"$W/nobody.out" 2>"$W/nobody.err" || rc=$?
check "nobody's curl is cut off (exit $rc: $(head -c 200 "$W/nobody.err"))" \
	bash -c "[ '$rc' = 52 ] || [ '$rc' = 56 ]"
check "... with no byte of the page" bash -c "! grep -q 'Directory listing' '$W/nobody.out'"
check "gantry forward says the connection from uid $nobody_uid was refused" \
	wait_for 10 grep -q "connection from uid $nobody_uid refused" "$W/fwd.err"
check "the owner's curl still works" page

kill -INT "$FWD_PID"
wait "$FWD_PID" 2>/dev/null || :
FWD_PID=
expect_rc 0 "the notebook stops" g stop nb
t_done
