#!/usr/bin/env bash
# k8s_forward.sh: port-forwards into pods through the API server's portforward subresource
# (providers/k8s_ws_fwd.c: portforward.k8s.io over WebSocket, one per TCP connection),
# driven by tests/k8s/wstool against the Kubernetes fake, to a pod running
# tests/k8s/podserver.py: an HTTP request, 1 MiB down and up checksummed, several
# connections at once, the pod side closing a connection, the error channel (nothing listening
# on the pod's port) with a log line and the forward still serving, a kept-alive connection
# closed when the forward closes, and the listener gone after.
. "$(dirname "$0")/../lib/common.sh"

. "$(dirname "$0")/../lib/k8swstool.sh"
FPIDS=()
cleanup() {
	local p
	for p in "${FPIDS[@]}"; do kill -KILL "$p" 2>/dev/null || :; done
	k8srig_stop
	t_cleanup
}
trap cleanup EXIT
k8srig_start "$T_HOME/k8s"
W=$T_HOME/w
mkdir -p "$W"

k8s_api POST /api/v1/namespaces/default/pods '{"apiVersion":"v1","kind":"Pod",
 "metadata":{"name":"web-pod","namespace":"default"},
 "spec":{"restartPolicy":"Never","containers":[{"name":"main","image":"python:3.11-slim",
  "command":["python3","'"$TOOLS"'/podserver.py"],
  "env":[{"name":"GANTRY_PORT","value":"8080"}],
  "ports":[{"containerPort":8080}]}]}}' >"$W/create.json"
pod_running() { [ "$(k8s_apiq /api/v1/namespaces/default/pods/web-pod 'd["status"].get("phase")')" = Running ]; }
check "the pod runs" wait_for 20 pod_running

# start_forward NAME PORT: wstool forward in the background; sets FPORT (the bound port)
start_forward() {
	"$WSTOOL" --server "$K8S_URL" --ca "$K8S_CA" --token-file "$K8S_TOKEN_FILE" \
		--pod default/web-pod forward "$2" >"$W/$1.out" 2>"$W/$1.err" &
	FPIDS+=($!)
	FPID=$!
	FPORT=
	if wait_for 10 grep -q '^listening on [0-9]' "$W/$1.out"; then
		FPORT=$(sed -n 's/^listening on //p' "$W/$1.out")
	fi
}

start_forward fwd 8080
check "the forward listens (port $FPORT)" test -n "$FPORT"
U=http://127.0.0.1:$FPORT

# 1. an HTTP request (the pod's server may still be starting: poll)
hello() { [ "$(curl -s --max-time 5 "$U/hello")" = "hello from the pod" ]; }
check "an HTTP request through the forward" wait_for 20 hello

# 2. 1 MiB down, checksummed by the pod
curl -s --max-time 30 -D "$W/h2" -o "$W/down" "$U/blob?n=1048576&s=7" || :
want=$(sed -n 's/^X-Sha256: *\([0-9a-f]*\).*/\1/Ip' "$W/h2" | tr -d '\r')
got=$(sha256sum <"$W/down" | cut -c1-64)
check "1 MiB from the pod arrives intact ($(stat -c %s "$W/down") bytes)" \
	test -n "$want" -a "$want" = "$got"

# 3. 1 MiB up, checksummed by the pod
head -c 1048576 /dev/urandom >"$W/up"
want="$(sha256sum <"$W/up" | cut -c1-64) 1048576"
got=$(curl -s --max-time 30 --data-binary @"$W/up" -H 'Content-Type: application/octet-stream' \
	"$U/upload" || :)
check "1 MiB to the pod arrives intact ($got)" test "$got" = "$want"

# 4. eight connections at once, each its own WebSocket
CPIDS=()
for i in 1 2 3 4 5 6 7 8; do
	curl -s --max-time 60 -D "$W/h4.$i" -o "$W/down4.$i" "$U/blob?n=524288&s=$i" &
	CPIDS+=($!)
done
for p in "${CPIDS[@]}"; do wait "$p" || :; done
for i in 1 2 3 4 5 6 7 8; do
	want=$(sed -n 's/^X-Sha256: *\([0-9a-f]*\).*/\1/Ip' "$W/h4.$i" | tr -d '\r')
	got=$(sha256sum <"$W/down4.$i" | cut -c1-64)
	[ -n "$want" ] && [ "$want" = "$got" ] || echo "  connection $i: got $got, wanted $want"
done >"$W/conc.txt"
check "8 concurrent connections each arrive intact" test ! -s "$W/conc.txt"
check "the fake opened a portforward WebSocket per connection (>= 11)" \
	test "$(k8s_q /_fake/log 'sum(1 for e in d.get("data", []) if e.get("path","").endswith("/portforward") and e.get("status") == 101)')" -ge 11

# 5. the pod side closes a connection: the client sees the end, the forward goes on
rc=0
curl -s --max-time 10 "$U/drop" >/dev/null 2>&1 || rc=$?
check "a connection the pod closes ends for the client (curl rc $rc: empty reply)" test "$rc" = 52
check "the forward serves after that" hello

# 6. the error channel: nothing listens on the pod's port 9
start_forward bad 9
check "a forward to an unused port listens too (port $FPORT)" test -n "$FPORT"
rc=0
curl -s --max-time 10 "http://127.0.0.1:$FPORT/" >/dev/null 2>&1 || rc=$?
check "the connection fails for the client (curl rc $rc)" test "$rc" != 0
check "a log line with the API server's error" wait_for 10 grep -q 'error forwarding port 9' "$W/bad.err"
check "the log line names the pod" grep -q 'default/web-pod port 9' "$W/bad.err"
kill -TERM "$FPID"
rc=0
wait "$FPID" || rc=$?
check "that forward closes cleanly (rc $rc)" test "$rc" = 0

# 7. close with a kept-alive connection open: the client sees the end; the port is free
FPORT_MAIN=$(sed -n 's/^listening on //p' "$W/fwd.out")
python3 - "$FPORT_MAIN" "$W/keep.txt" <<-'EOF' &
	import socket, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
	buf = b""
	while b"hello from the pod" not in buf:
	    d = s.recv(4096)
	    if not d:
	        break
	    buf += d
	open(sys.argv[2], "w").write("answered\n")
	s.settimeout(20)
	try:
	    d = s.recv(4096)
	    open(sys.argv[2], "a").write("eof\n" if d == b"" else "more\n")
	except OSError as e:
	    open(sys.argv[2], "a").write("error %s\n" % e)
EOF
KEEP=$!
check "a kept-alive connection is answered" wait_for 10 grep -qs answered "$W/keep.txt"
MAINPID=${FPIDS[0]}
kill -TERM "$MAINPID"
rc=0
wait "$MAINPID" || rc=$?
check "the forward closes cleanly on SIGTERM (rc $rc)" test "$rc" = 0
check "the open connection sees its end" wait_for 10 grep -qs eof "$W/keep.txt"
wait "$KEEP" 2>/dev/null || :
rc=0
curl -s --max-time 5 "http://127.0.0.1:$FPORT_MAIN/hello" >/dev/null 2>&1 || rc=$?
check "nothing listens on the forward's port after (curl rc $rc)" test "$rc" = 7
check "no error lines from the good forward" test ! -s "$W/fwd.err"

t_done
