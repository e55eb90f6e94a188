#!/usr/bin/env bash
# k8s_shell_cli.sh: `gantry ssh` and `gantry forward` on jobs of the kubernetes provider
# against the Kubernetes fake: the provider's channel_open (providers/k8s_channel.c) finds
# the job's pod from its watch cache and opens exec / portforward WebSockets through the
# API server. A command's output and exit status in the pod's directory, worker 1 of a
# two-pod indexed Job (its rank), the notebook's port forwarded (its page through the
# forward, the fake saw portforward upgrades), the forward stopped on SIGINT, and refusals
# once the job has ended.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/k8srig.sh"
. "$here/../lib/k8stest.sh"
FWD_PID=
trap '[ -z "$FWD_PID" ] || kill -KILL "$FWD_PID" 2>/dev/null || :; k8srig_stop; t_cleanup' EXIT

k8srig_start "$T_HOME/k8s"
k8s_test_config kube
k8s_test_templates
W=$T_HOME/w
mkdir -p "$W"

# ---- a notebook pod: gantry ssh JOB -- CMD ----
expect_rc 0 "a notebook launches on kubernetes" g launch knote --provider kube --name nb
check "nb RUNNING" wait_state nb RUNNING 60
rc=0
# (gantry ssh quotes each word after --, as a command line for the pod's shell)
g ssh nb -- sh -c 'echo "in-pod job=$GANTRY_JOB_ID"; exit 5' </dev/null >"$W/o1" 2>"$W/e1" || rc=$?
check "gantry ssh runs the command in the pod (job id in its env)" \
	grep -q "in-pod job=$(job_field nb id)" "$W/o1"
check "gantry ssh exits with the pod command's status (5, got $rc: $(head -c 300 "$W/e1"))" \
	test "$rc" = 5
rc=0
printf 'typed line\n' | g ssh nb -- sh -c 'read l; echo "echo:$l"' >"$W/o2" 2>"$W/e2" || rc=$?
check "stdin reaches the pod through gantry ssh (rc $rc)" grep -q 'echo:typed line' "$W/o2"
k8s_ctl GET /_fake/log >"$W/log1.json"
check "the fake saw exec on the job's pod" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ok = any(e.get("path", "").endswith("/pods/gantry-%s-1/exec" % sys.argv[2]) and e.get("status") == 101
         for e in d.get("data", []))
sys.exit(0 if ok else 1)' "$W/log1.json" "$(job_field nb id)"

# ---- gantry forward JOB: the notebook's port ----
"$GANTRY_BIN" forward nb >"$W/fwd.out" 2>"$W/fwd.err" &
FWD_PID=$!
fwd_up() { grep -q '^Forwarding 127.0.0.1:[0-9]' "$W/fwd.out"; }
wait_for 20 fwd_up || :
check "gantry forward prints where it listens ($(head -c 300 "$W/fwd.err"))" fwd_up
lport=$(sed -n 's/^Forwarding 127.0.0.1:\([0-9]*\) .*/\1/p' "$W/fwd.out")
page() { curl -s --max-time 5 "http://127.0.0.1:$lport/" | grep -q 'Directory listing'; }
check "the notebook's page through the forward (port $lport)" wait_for 20 page
check "the fake saw a portforward upgrade to port 8080" test "$(k8s_q /_fake/log 'sum(1 for e in d.get("data", []) if e.get("path","").endswith("/portforward") and e.get("status") == 101 and "8080" in json.dumps(e.get("query")))')" -ge 1
kill -INT "$FWD_PID"
rc=0
wait "$FWD_PID" || rc=$?
FWD_PID=
check "gantry forward stops on Ctrl-C (rc $rc)" test "$rc" = 0 -o "$rc" = 130
rc=0
curl -s --max-time 5 "http://127.0.0.1:$lport/" >/dev/null 2>&1 || rc=$?
check "its port is closed after (curl rc $rc)" test "$rc" = 7

# ---- worker 1 of an indexed Job ----
expect_rc 0 "a two-pod training launches" g launch kmulti --provider kube --name mj --set secs=120
check "mj RUNNING" wait_state mj RUNNING 60
w1() { g ssh mj -w 1 -- sh -c 'echo "rank=${RANK:-$JOB_COMPLETION_INDEX}"' </dev/null >"$W/o3" 2>"$W/e3" && grep -q 'rank=1' "$W/o3"; }
wait_for 20 w1 || :
check "gantry ssh -w 1 reaches the second pod (rank 1) ($(head -c 200 "$W/o3" "$W/e3" | tr '\r\n' '  '))" \
	grep -q 'rank=1' "$W/o3"

# ---- the job ended: nothing to connect to ----
expect_rc 0 "the notebook stops" g stop nb
check "nb STOPPED" wait_state nb STOPPED 60
rc=0
g ssh nb -- true </dev/null >/dev/null 2>"$W/e4" || rc=$?
check "gantry ssh on an ended job is refused (rc $rc)" test "$rc" != 0
check "... saying it ended" grep -qi 'ended' "$W/e4"

t_done
