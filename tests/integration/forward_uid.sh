#!/usr/bin/env bash
# forward_uid.sh (issue 12): a forward's listener on 127.0.0.1 serves its owner only. Root
# forwards a web job of the ssh fleet (real sshd workers); root's curl gets the page through
# the forward, while the same curl run as user nobody is cut off at once (no byte of the
# page), `gantry forward` says "connection from uid N refused", and the forward keeps
# serving its owner afterwards. Needs root (another user to connect as).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/sshrig.sh"
fwd_pid=
trap 'if [ -n "$fwd_pid" ]; then kill "$fwd_pid" 2>/dev/null || :; fi; rig_cleanup; t_cleanup' EXIT

if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then
	if [ "${CI:-}" = true ]; then
		echo "FAIL - CI=true: this test must run as root with a user nobody"
		exit 1
	fi
	echo "SKIP: needs root and a user nobody"
	exit 77
fi
for tool in curl python3 runuser /usr/sbin/sshd; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL - $tool is missing (apt-get install curl python3 util-linux openssh-server)"
		exit 1
	fi
done
nobody_uid=$(id -u nobody)

rig_workers 1 0
mkdir -p "$T_HOME/config/templates"
rig_web_template "$T_HOME/config/templates/web.yaml"

expect_rc 0 "launch the web endpoint on the fleet" g launch web --name w1
check "web reaches RUNNING" wait_state w1 RUNNING 60
"$GANTRY_BIN" forward w1 >"$T_HOME/fwd.out" 2>"$T_HOME/fwd.err" &
fwd_pid=$!
check "gantry forward prints its URL" wait_for 20 grep -q '^Open: ' "$T_HOME/fwd.out"
url=$(sed -n 's/^Open: //p' "$T_HOME/fwd.out")
echo "# forward: $url"

check "the owner's curl gets the worker's page" bash -c "curl -fsS --max-time 20 '$url' | grep -qx hello-from-worker"

# nobody on the same port: accepted by the kernel, closed by the forward before any byte
rc=0
# (the files are written by this root shell: curl as nobody writes to its stdout)
runuser -u nobody -- curl -sS --max-time 20 "$url" >"$T_HOME/nobody.out" 2>"$T_HOME/nobody.err" || rc=$?
# 52: empty reply, 56: reset (the forward closed the connection before reading it)
check "nobody's curl is cut off (exit $rc: $(head -c 200 "$T_HOME/nobody.err"))" \
	bash -c "[ '$rc' = 52 ] || [ '$rc' = 56 ]"

check "nobody got no byte of the page" bash -c "! grep -q hello-from-worker '$T_HOME/nobody.out'"
check "gantry forward says the connection from uid $nobody_uid was refused" \
	wait_for 10 grep -q "connection from uid $nobody_uid refused" "$T_HOME/fwd.err"

check "the owner's curl still works after the refusal" bash -c "curl -fsS --max-time 20 '$url' | grep -qx hello-from-worker"
check "the forward is still running" kill -0 "$fwd_pid"

kill -INT "$fwd_pid"
wait "$fwd_pid" 2>/dev/null || :
fwd_pid=
expect_rc 0 "stop the web endpoint" g stop w1
t_done
