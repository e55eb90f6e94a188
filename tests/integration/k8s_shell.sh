#!/usr/bin/env bash
# k8s_shell.sh: shells into pods through the API server's exec subresource
# (providers/k8s_ws.c: v4.channel.k8s.io over libwslay over a libcurl CONNECT_ONLY TLS
# connection), driven by tests/k8s/wstool against the Kubernetes fake
# (tests/fakes/k8s_fake.py, whose pods are local processes and whose exec runs the command on
# a real PTY): a command's output and exit status, stdin, 1 MiB both ways checksummed, the
# window size at the start and after SIGWINCH (stty size in the pod), the local terminal
# restored, client certificates, refusals (bad token, no such pod) with the API server's
# message and no token in it, and what the fake received (protocol, frames, exit code).
. "$(dirname "$0")/../lib/common.sh"

. "$(dirname "$0")/../lib/k8swstool.sh"
cleanup() {
	k8srig_stop
	t_cleanup
}
trap cleanup EXIT
k8srig_start "$T_HOME/k8s"
W=$T_HOME/w
mkdir -p "$W"

# a pod that idles (its process sleeps); exec runs next to it in the pod's directory
k8s_api POST /api/v1/namespaces/default/pods '{"apiVersion":"v1","kind":"Pod",
 "metadata":{"name":"shell-pod","namespace":"default"},
 "spec":{"restartPolicy":"Never","containers":[{"name":"main","image":"python:3.11-slim",
  "command":["/bin/sh","-c","sleep 600"]}]}}' >"$W/create.json"
pod_running() { [ "$(k8s_apiq /api/v1/namespaces/default/pods/shell-pod 'd["status"].get("phase")')" = Running ]; }
check "the pod runs" wait_for 20 pod_running

ws() { "$WSTOOL" --server "$K8S_URL" --ca "$K8S_CA" --token-file "$K8S_TOKEN_FILE" \
	--pod default/shell-pod "$@"; }

# 1. output and exit status
rc=0
ws shell 'echo out-$((6 * 7)); exit 7' </dev/null >"$W/o1" 2>"$W/e1" || rc=$?
check "a command's output comes back" grep -q 'out-42' "$W/o1"
check "its exit status comes back (7, got $rc)" test "$rc" = 7
rc=0
ws shell 'true' </dev/null >/dev/null 2>"$W/e1b" || rc=$?
check "exit status 0 from a Success status (got $rc)" test "$rc" = 0

# 2. stdin: a line typed into the pod's terminal
rc=0
printf 'hello pod\n' | ws shell 'read x; echo "got:$x"' >"$W/o2" 2>"$W/e2" || rc=$?
check "stdin reaches the command and its answer comes back" grep -q 'got:hello pod' "$W/o2"

# 3. 1 MiB from the pod, byte-exact (no output processing on the pod's terminal)
head -c 1048576 /dev/urandom >"$W/big"
ws shell 'head -c 1048576 /dev/urandom >down.bin && sha256sum down.bin' </dev/null \
	>"$W/sum-down" 2>/dev/null
want=$(grep -Eo '^[0-9a-f]{64}' "$W/sum-down" || :)
ws shell 'stty -opost; cat down.bin' </dev/null >"$W/down" 2>"$W/e3"
got=$(sha256sum <"$W/down" | cut -c1-64)
check "1 MiB from the pod arrives intact ($(stat -c %s "$W/down") bytes)" \
	test -n "$want" -a "$want" = "$got"

# 4. 1 MiB to the pod: the terminal goes raw there first (READY), then the bytes are sent
want=$(sha256sum <"$W/big" | cut -c1-64)
mkfifo "$W/in"
ws shell 'stty raw -echo; echo READY; head -c 1048576 >up.bin; stty sane; sha256sum up.bin' \
	<"$W/in" >"$W/o4" 2>"$W/e4" &
WSPID=$!
exec 7>"$W/in"
if wait_for 20 grep -q READY "$W/o4"; then
	cat "$W/big" >&7
fi
rc=0
wait_for 30 bash -c "! kill -0 $WSPID 2>/dev/null" || rc=1
exec 7>&-
wait "$WSPID" 2>/dev/null || :
check "1 MiB to the pod arrives intact" grep -q "$want" "$W/o4"

# 5. the window size at the start and after a SIGWINCH; the terminal restored afterwards
# (the size goes on channel 4 before any input, as a real API server may start the command
# first: the pod reads a line before it looks)
python3 "$TOOLS/ptydrive.py" 33 101 'expect:READY' 'send:go\r' 'expect:SIZE1 \d+ \d+' \
	resize:41:120 'send:go\r' 'expect:SIZE2 \d+ \d+' -- "$WSTOOL" --server "$K8S_URL" \
	--ca "$K8S_CA" --token-file "$K8S_TOKEN_FILE" --pod default/shell-pod \
	shell 'echo READY; read x; echo SIZE1 $(stty size); read x; echo SIZE2 $(stty size); exit 3' \
	>"$W/o5" 2>&1 || :
check "the pod's terminal has the size of ours (33 101)" grep -q 'SIZE1 33 101' "$W/o5"
check "a window change reaches the pod (41 120)" grep -q 'SIZE2 41 120' "$W/o5"
check "the exit status through a terminal (3)" grep -q 'ptydrive: exit 3,' "$W/o5"
check "our terminal's modes are restored after the shell" grep -q 'terminal restored' "$W/o5"

# 6. client certificate instead of a token
rc=0
"$WSTOOL" --server "$K8S_URL" --ca "$K8S_CA" --cert "$K8S_CLIENT_CERT" --key "$K8S_CLIENT_KEY" \
	--pod default/shell-pod shell 'echo by-cert' </dev/null >"$W/o6" 2>"$W/e6" || rc=$?
check "a client certificate opens exec too (rc $rc)" grep -q by-cert "$W/o6"

# 7. refusals: a wrong token (401) and a pod that is not there (404), the server's words
printf 'not-the-token-%s\n' "$RANDOM$RANDOM" >"$W/badtoken"
rc=0
"$WSTOOL" --server "$K8S_URL" --ca "$K8S_CA" --token-file "$W/badtoken" --pod default/shell-pod \
	shell true </dev/null >/dev/null 2>"$W/e7" || rc=$?
check "a refused token ends with 255 and says 401 (rc $rc)" \
	bash -c "[ $rc = 255 ] && grep -q 'HTTP 401' '$W/e7'"
check "the refused token is not in the error" bash -c "! grep -qF '$(cat "$W/badtoken")' '$W/e7'"
rc=0
ws_none() { "$WSTOOL" --server "$K8S_URL" --ca "$K8S_CA" --token-file "$K8S_TOKEN_FILE" \
	--pod default/no-such-pod shell true </dev/null >/dev/null 2>"$W/e8"; }
ws_none || rc=$?
check "a missing pod: HTTP 404 with the API server's message (rc $rc)" \
	bash -c "[ $rc = 255 ] && grep -q 'HTTP 404' '$W/e8' && grep -q 'no-such-pod' '$W/e8'"
rc=0
"$WSTOOL" --server "$K8S_URL" --token-file "$K8S_TOKEN_FILE" --pod default/shell-pod \
	shell true </dev/null >/dev/null 2>"$W/e9" || rc=$?
check "TLS verification is on: the fake's CA is needed (rc $rc)" \
	bash -c "[ $rc = 255 ] && grep -qi 'certificate' '$W/e9'"

# 8. what the fake received: exec over v4.channel.k8s.io with a TTY, our frames, the codes
k8s_ctl GET /_fake/log >"$W/log.json"
python3 - "$W/log.json" >"$W/log.txt" <<-'EOF'
	import json, sys
	d = json.load(open(sys.argv[1]))
	for e in d.get("data", d if isinstance(d, list) else []):
	    if e.get("path", "").endswith("/exec"):
	        print(e.get("status"), e.get("protocol"), e.get("exit_code"), e.get("frames_in"),
	              e.get("auth"), json.dumps(e.get("query")))
EOF
check "the fake saw exec upgrades on v4.channel.k8s.io" grep -q '^101 v4.channel.k8s.io' "$W/log.txt"
check "the fake ran the command with exit code 7" grep -q '^101 v4.channel.k8s.io 7 ' "$W/log.txt"
check "exec asked for a TTY and stdin" grep -q '"tty": \["true"\]' "$W/log.txt"
check "the big upload came as many frames" \
	awk '$3 == 0 && $4 > 16 { f = 1 } END { exit !f }' "$W/log.txt"

t_done
