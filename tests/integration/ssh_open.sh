#!/usr/bin/env bash
# ssh_open.sh: `gantry open` on a notebook of the ssh provider (the real Jupyter from Debian
# on a real sshd "worker"): its Jupyter listens on the worker's loopback, so `open` forwards
# it to 127.0.0.1 here, prints a URL with the token that opens the notebook, and keeps the
# forward open until Ctrl-C (then it exits 0 and the port closes).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/sshrig.sh"
trap 'if [ -n "${OPEN_PID:-}" ]; then kill -KILL "$OPEN_PID" 2>/dev/null; fi; rig_cleanup; t_cleanup' EXIT
for tool in jupyter curl python3 /usr/sbin/sshd; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL - $tool is missing (./bootstrap installs jupyter-notebook, curl, openssh-server)"
		exit 1
	fi
done
unset TMUX STY
rig_workers 1 0

expect_rc 0 "launch jupyter-notebook on the fleet" g launch jupyter-notebook --provider fleet --name rnb --timeout 150
check "the notebook runs" wait_state rnb RUNNING 150

# open --print in the background: the URL comes first, the forward stays until SIGINT
"$GANTRY_BIN" open --print rnb >"$T_HOME/open.out" 2>"$T_HOME/open.err" &
OPEN_PID=$!
for ((i = 0; i < 300; i++)); do
	[ -s "$T_HOME/open.out" ] && break
	kill -0 "$OPEN_PID" 2>/dev/null || break
	sleep 0.1
done
url=$(head -1 "$T_HOME/open.out")
check "open prints a URL on 127.0.0.1 with the token: $url" bash -c "[[ '$url' == http://127.0.0.1:*'?token='* ]]"
tok=$(cat "$T_HOME"/state/secrets/*.token)
check "the token is the job's" bash -c "[[ '$url' == *'token=$tok'* ]]"
got=$(curl -sS -L -o /dev/null -w '%{http_code} %{url_effective}' --max-time 20 "$url" || :)
check "the URL opens the notebook through the forward (200, not the login page): $got" \
	bash -c "[[ '$got' == '200 '* && '$got' != *'/login'* ]]"
check "open keeps running (the forward stays open)" kill -0 "$OPEN_PID"
kill -INT "$OPEN_PID"
rc=0
wait "$OPEN_PID" || rc=$?
OPEN_PID=
check "Ctrl-C ends open with exit 0 (got $rc)" [ "$rc" = 0 ]
check "the forward is closed" bash -c "! curl -s --max-time 5 -o /dev/null '$url'"

expect_rc 0 "stop the notebook" g stop rnb
t_done
