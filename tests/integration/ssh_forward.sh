#!/usr/bin/env bash
# ssh_forward.sh: local port forwarding (core/ssh_forward.c) through real OpenSSH servers,
# driven by tests/ssh/fwdtool: byte-exact relays both ways, many connections at once, the
# listener's address, a port in use, channel open failures (nothing listening, forwarding
# forbidden by the server), a server killed mid-transfer, descriptor leaks, clean stops.
. "$(dirname "$0")/../lib/common.sh"

FWDTOOL=$(cd "$(dirname "$GANTRY_BIN")" && pwd)/tests/ssh/fwdtool
RIG=$(cd "$(dirname "$0")/../sshd" && pwd)
W=$T_HOME/fwd
mkdir -p "$W/www"
chmod 0711 "$T_HOME" "$W"
PIDS=()
SSHD_DIRS=()
declare -A FPID FPORT WRITER

cleanup() {
	local p d
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || :; done
	for d in "${SSHD_DIRS[@]}"; do bash "$RIG/stop-sshd.sh" --rm "$d" >/dev/null 2>&1 || :; done
	t_cleanup
}
trap cleanup EXIT

for tool in curl ss python3 sha256sum /usr/sbin/sshd; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL - $tool is missing (apt-get install curl iproute2 python3 openssh-server)"
		exit 1
	fi
done
if [ ! -x "$FWDTOOL" ]; then
	echo "FAIL - $FWDTOOL not built (make check builds it)"
	exit 1
fi

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_sshd NAME: one sshd on a free loopback port; sets SSHD_PORT, KEY, KH (same key for all).
start_sshd() {
	local dir=$W/sshd-$1
	SSHD_PORT=$(free_port)
	SSHD_DIRS+=("$dir")
	if ! bash "$RIG/start-sshd.sh" "$dir" "$SSHD_PORT" >"$W/$1.env" 2>"$W/$1.log"; then
		echo "FAIL - sshd $1 did not start:"
		cat "$W/$1.log"
		exit 1
	fi
	KEY=$(sed -n 's/^export SSH_TEST_KEY=//p' "$W/$1.env")
	KH=$(sed -n 's/^export SSH_TEST_KNOWN_HOSTS=//p' "$W/$1.env")
}

# wait_line FILE REGEX [SECONDS]: polls until a line of FILE matches.
wait_line() {
	local i
	for ((i = 0; i < ${3:-20} * 10; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "  no line matching '$2' in $1:" >&2
	sed 's/^/    /' "$1" >&2
	return 1
}

# fwd_start NAME SSHD_PORT KEY KH ARGS...: fwdtool in the background; its stdin is a fifo
# held open by a `sleep` (killing that closes it). Waits for "up" (or an early end).
fwd_start() {
	local name=$1 port=$2 key=$3 kh=$4 i
	shift 4
	mkfifo "$W/$name.in"
	"$FWDTOOL" --host 127.0.0.1 --port "$port" --user root --key "$key" --known-hosts "$kh" \
		--connect-timeout 5000 --io-timeout 5000 "$@" <"$W/$name.in" >"$W/$name.out" \
		2>"$W/$name.err" &
	FPID[$name]=$!
	PIDS+=($!)
	sleep 100000 >"$W/$name.in" &
	WRITER[$name]=$!
	PIDS+=($!)
	disown
	for ((i = 0; i < 200; i++)); do
		grep -qx up "$W/$name.out" 2>/dev/null && break
		kill -0 "${FPID[$name]}" 2>/dev/null || break
		sleep 0.05
	done
	FPORT[$name]=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$W/$name.out")
}

# exits NAME [SECONDS]: waits for fwdtool NAME to end; sets RC to its exit status (999
# when it is still running).
exits() {
	local i
	RC=999
	for ((i = 0; i < ${2:-20} * 10; i++)); do
		kill -0 "${FPID[$1]}" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "${FPID[$1]}" 2>/dev/null && return 0
	RC=0
	wait "${FPID[$1]}" || RC=$?
}

# listening PORT: the local addresses of TCP listeners on PORT (ss), one a line.
listening() { ss -Hltn "sport = :$1" | awk '{print $4}'; }

fd_count() { ls "/proc/$1/fd" | wc -l; }

# sshd_tree PID: every descendant of PID (an sshd's session processes), by parent pid.
sshd_tree() {
	local p=$1 k
	for k in $(ps -o pid= --ppid "$p"); do
		echo "$k"
		sshd_tree "$k"
	done
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# --- the servers: sshd A, an HTTP server and an upload server behind it
start_sshd a
PA=$SSHD_PORT KA=$KEY KHA=$KH
head -c 50M /dev/urandom >"$W/www/big"
head -c 2M /dev/urandom >"$W/www/mid"
echo tiny >"$W/www/tiny"
HP=$(free_port)
python3 -m http.server --bind 127.0.0.1 "$HP" --directory "$W/www" >"$W/http.log" 2>&1 &
PIDS+=($!)
disown
# the upload server: reads to EOF, answers "BYTES SHA256" (an EOF that never comes hangs it)
UP=$(free_port)
python3 - "$UP" >"$W/upsrv.log" 2>&1 <<'PY' &
import hashlib, socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
def serve(c):
    h, n = hashlib.sha256(), 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    c.sendall(b"%d %s\n" % (n, h.hexdigest().encode()))
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
PIDS+=($!)
disown
for ((i = 0; i < 100; i++)); do
	curl -sf -o /dev/null "http://127.0.0.1:$HP/tiny" && break
	sleep 0.1
done
check "the HTTP server answers directly" curl -sf -o "$W/direct-big" "http://127.0.0.1:$HP/big"

# --- one forward to the HTTP server
fwd_start main "$PA" "$KA" "$KHA" --remote-port "$HP"
M=${FPORT[main]}
check "fwdtool prints its listener" grep -Eqx "listening 127\.0\.0\.1:[0-9]+" "$W/main.out"
check "fwdtool comes up" grep -qx up "$W/main.out"
check "the listener binds 127.0.0.1 only by default" \
	bash -c '[ "$(ss -Hltn "sport = :$1" | awk "{print \$4}")" = "127.0.0.1:$1" ]' _ "$M"

# 50 MB through the forward, compared with a direct fetch
curl -sf -o "$W/fwd-big" "http://127.0.0.1:$M/big"
check "50 MB through the forward: curl succeeded" test -s "$W/fwd-big"
check "50 MB through the forward: same sha256 as the direct fetch" \
	bash -c '[ "$(sha256sum <"$1")" = "$(sha256sum <"$2")" ] && [ "$(sha256sum <"$2")" = "$(sha256sum <"$3")" ]' \
	_ "$W/fwd-big" "$W/direct-big" "$W/www/big"

# the other way: 20 MB up, EOF through the channel, the server's answer back
fwd_start upl "$PA" "$KA" "$KHA" --remote-port "$UP"
head -c 20M /dev/urandom >"$W/upload"
want="$(stat -c %s "$W/upload") $(sha "$W/upload")"
python3 - "${FPORT[upl]}" "$W/upload" >"$W/upload.answer" 2>&1 <<'PY'
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
with open(sys.argv[2], "rb") as f:
    c.sendall(f.read())
c.shutdown(socket.SHUT_WR)
out = b""
while True:
    b = c.recv(4096)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())
PY
check "20 MB upload: the server saw every byte, then EOF" \
	bash -c '[ "$(cat "$1")" = "$2" ]' _ "$W/upload.answer" "$want"

# 8 uploads at once while the server stalls now and then (its session processes stopped):
# the socket fills and libssh2 is left with half-sent packets, which must be finished first
python3 - "${FPORT[upl]}" "$W/upload" >"$W/upload8.answer" 2>&1 <<'PY' &
import hashlib, socket, sys, threading
data = open(sys.argv[2], "rb").read()
res = {}
def one(i):
    d = data[: len(data) // (1 + i % 4)]
    c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
    c.sendall(d)
    c.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        b = c.recv(4096)
        if not b:
            break
        out += b
    res[i] = out.decode().strip() == "%d %s" % (len(d), hashlib.sha256(d).hexdigest())
ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
[t.start() for t in ts]
[t.join() for t in ts]
print(sum(1 for v in res.values() if v))
PY
upid=$!
# the point: three 0.5 s stalls of the server, 0.3 s apart, while the uploads run (fixed
# times on purpose; the check is that every upload arrives byte-exact whenever they fall)
for ((r = 0; r < 3; r++)); do
	sleep 0.3
	kids=$(sshd_tree "$(cat "$W/sshd-a/sshd.pid")")
	kill -STOP $kids 2>/dev/null
	sleep 0.5
	kill -CONT $kids 2>/dev/null
done
wait "$upid"
check "8 uploads at once through a stalling server: all byte-exact" grep -qx 8 "$W/upload8.answer"

# 20 fetches at once through one forward
want=$(sha "$W/www/mid")
cpids=()
for ((i = 0; i < 20; i++)); do
	curl -sf -o "$W/par-$i" "http://127.0.0.1:$M/mid" &
	cpids+=($!)
done
bad=0
for p in "${cpids[@]}"; do wait "$p" || bad=$((bad + 1)); done
for ((i = 0; i < 20; i++)); do [ "$(sha "$W/par-$i" 2>/dev/null)" = "$want" ] || bad=$((bad + 1)); done
check "20 concurrent fetches through one forward: all complete and correct ($bad bad)" test "$bad" = 0

# no descriptor leaks over 200 sequential connections
pid=${FPID[main]}
before=$(fd_count "$pid")
python3 - "$M" >"$W/seq.out" 2>&1 <<'PY'
import sys, urllib.request
ok = 0
for i in range(200):
    with urllib.request.urlopen("http://127.0.0.1:%s/tiny" % sys.argv[1], timeout=30) as r:
        ok += r.read() == b"tiny\n"
print(ok)
PY
check "200 sequential connections all answered" grep -qx 200 "$W/seq.out"
after=$(fd_count "$pid")
for ((i = 0; i < 50 && after != before; i++)); do
	sleep 0.1
	after=$(fd_count "$pid")
done
check "no descriptor leak in fwdtool after 200 connections ($before before, $after after)" \
	test "$before" = "$after"

# --- a port in use: one clean line, nonzero exit
expect_rc 1 "a local port in use fails at start" "$FWDTOOL" --host 127.0.0.1 --port "$PA" \
	--user root --key "$KA" --known-hosts "$KHA" --remote-port "$HP" --local-port "$HP"
check "the reason is one line naming the address" \
	bash -c '[ "$(wc -l <"$1")" = 1 ] && grep -qx "SSH_ERR_LOCAL: 127.0.0.1:$2 is already in use" "$1"' \
	_ "$T_HOME/err" "$HP"
check "nothing printed as listening" bash -c '! grep -q listening "$1"' _ "$T_HOME/out"

# --- a connect failure (unknown host key) ends the forward and frees its port
: >"$W/empty_known_hosts"
fwd_start unknown "$PA" "$KA" "$W/empty_known_hosts" --remote-port "$HP"
check "an unknown host key is reported" \
	wait_line "$W/unknown.out" "^SSH_ERR_HOSTKEY_UNKNOWN: .*SHA256:"
exits unknown
check "... and fwdtool exits 3 (exit $RC)" test "$RC" = 3
check "... and its port is free" test -z "$(listening "${FPORT[unknown]}")"
check "... and it never came up" bash -c '! grep -qx up "$1"' _ "$W/unknown.out"

# --- nothing listens on the remote port: the client is closed, the forward stays up
DEAD=$(free_port)
fwd_start nolisten "$PA" "$KA" "$KHA" --remote-port "$DEAD"
check "a forward to a closed remote port comes up" grep -qx up "$W/nolisten.out"
check "a client through it gets no data" \
	bash -c '! curl -s -m 20 -o /dev/null "http://127.0.0.1:$1/tiny"' _ "${FPORT[nolisten]}"
check "fwdtool reports why: connect failed" \
	wait_line "$W/nolisten.out" "^failed 1 SSH_ERR_CHANNEL: 127\.0\.0\.1:$DEAD via 127\.0\.0\.1: channel open failed: connect failed"
check "a second client is refused the same way" \
	bash -c '! curl -s -m 20 -o /dev/null "http://127.0.0.1:$1/tiny"' _ "${FPORT[nolisten]}"
check "... and counted" wait_line "$W/nolisten.out" "^failed 2 "
check "that forward stays up" kill -0 "${FPID[nolisten]}"
check "its listener stays open" test -n "$(listening "${FPORT[nolisten]}")"
fwd_start second "$PA" "$KA" "$KHA" --remote-port "$HP" --bind 127.0.0.2
check "a second forward bound to 127.0.0.2 listens there" \
	bash -c '[ "$(ss -Hltn "sport = :$1" | awk "{print \$4}")" = "127.0.0.2:$1" ]' _ "${FPORT[second]}"
check "a fetch through the second forward works" \
	bash -c '[ "$(curl -sf -m 20 "http://127.0.0.2:$1/tiny")" = tiny ]' _ "${FPORT[second]}"

# --- one HTTP GET over a session (core/ssh_http.c: how a remote Jupyter is asked)
SSHTOOL=$(dirname "$FWDTOOL")/sshtool
NOPORT=$(free_port)
rc=0
"$SSHTOOL" http --host 127.0.0.1 --port "$PA" --user root --key "$KA" --known-hosts "$KHA" \
	"$HP:/tiny" "$NOPORT:/x" "$HP:/no-such-file" "$HP:/tiny" >"$W/http.out" 2>"$T_HOME/http.err" || rc=$?
check "GET over the session: 200 and the body, twice" \
	bash -c '[ "$(grep -c -x "HTTP 200 5" "$1")" = 2 ] && [ "$(grep -c -x tiny "$1")" = 2 ]' _ "$W/http.out"
check "a missing file is a 404 answer, not an error" grep -qx "HTTP 404 .*" "$W/http.out"
check "a port nobody listens on: SSH_ERR_CONNECT (exit $rc), and the session goes on" \
	bash -c '[ "$1" = 102 ] && grep -Eq "ERROR SSH_ERR_CONNECT: .*cannot reach 127.0.0.1:$2 on the server" "$3"' \
	_ "$rc" "$NOPORT" "$T_HOME/http.err"
check "only that one failed" bash -c '[ "$(grep -c ERROR "$1")" = 1 ]' _ "$T_HOME/http.err"
expect_rc 102 "alone, the refused port is the exit status" "$SSHTOOL" http --host 127.0.0.1 \
	--port "$PA" --user root --key "$KA" --known-hosts "$KHA" "$NOPORT:/x"
# a service that takes the connection and never answers: a timeout, and the session goes on
HUNG=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); time.sleep(600)' "$HUNG" &
PIDS+=($!)
for ((i = 0; i < 50; i++)); do
	[ -n "$(listening "$HUNG")" ] && break
	sleep 0.1
done
rc=0
"$SSHTOOL" http --host 127.0.0.1 --port "$PA" --user root --key "$KA" --known-hosts "$KHA" \
	--timeout 1500 "$HUNG:/api/kernels" "$HP:/tiny" >"$W/http2.out" 2>"$T_HOME/http2.err" || rc=$?
check "a service that never answers: SSH_ERR_TIMEOUT (exit $rc)" \
	bash -c '[ "$1" = 103 ] && grep -q "ERROR SSH_ERR_TIMEOUT: .*did not answer within 1500 ms" "$2"' _ "$rc" "$T_HOME/http2.err"
check "... and the next request on that session is answered" grep -qx "HTTP 200 5" "$W/http2.out"

# --- forwarding forbidden by the server (AllowTcpForwarding no)
start_sshd b
PB=$SSHD_PORT KB=$KEY KHB=$KH
sed -i 's/^AllowTcpForwarding yes$/AllowTcpForwarding no/' "$W/sshd-b/sshd_config"
check "sshd b's config forbids forwarding" grep -qx "AllowTcpForwarding no" "$W/sshd-b/sshd_config"
# sshd re-executes itself on HUP with the new config; until it has, the old one still
# answers the banner, so wait for the re-executed one to log that it listens, then answer
relistened() { [ "$(grep -c 'Server listening on' "$W/sshd-b/sshd.log")" -gt "$1" ]; }
nlisten=$(grep -c 'Server listening on' "$W/sshd-b/sshd.log" || :)
kill -HUP "$(cat "$W/sshd-b/sshd.pid")"
check "sshd b has re-executed with the new config" wait_for 20 relistened "$nlisten"
for ((i = 0; i < 100; i++)); do
	timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && read -r -t 2 l <&3 && [[ $l == SSH-2.0-* ]]' \
		_ "$PB" 2>/dev/null && break
	sleep 0.1
done
fwd_start forbidden "$PB" "$KB" "$KHB" --remote-port "$HP"
check "a forward through a server that forbids forwarding comes up (the session is fine)" \
	grep -qx up "$W/forbidden.out"
check "its client gets no data" \
	bash -c '! curl -s -m 20 -o /dev/null "http://127.0.0.1:$1/tiny"' _ "${FPORT[forbidden]}"
check "fwdtool says forwarding is prohibited" \
	wait_line "$W/forbidden.out" "^failed 1 SSH_ERR_CHANNEL: .*administratively prohibited \(the server does not allow TCP forwarding\)"
check "that forward stays up too" kill -0 "${FPID[forbidden]}"
expect_rc 108 "an HTTP GET through it: SSH_ERR_CHANNEL" "$SSHTOOL" http --host 127.0.0.1 \
	--port "$PB" --user root --key "$KB" --known-hosts "$KHB" "$HP:/tiny"
check "... saying the server prohibits it" grep -q "administratively prohibited" "$T_HOME/err"

# --- a hung server (its processes stopped): keepalives go unanswered, the forward ends
fwd_start hang "$PB" "$KB" "$KHB" --remote-port "$HP" --keepalive 1 --io-timeout 2000
check "a forward with 1 s keepalives comes up" grep -qx up "$W/hang.out"
sleep 2.5 # a few keepalives answered: an idle forward stays up
check "an idle forward stays up while its keepalives are answered" kill -0 "${FPID[hang]}"
kids=$(sshd_tree "$(cat "$W/sshd-b/sshd.pid")")
kill -STOP $kids
check "a hung server is noticed: no answer" \
	wait_line "$W/hang.out" "^SSH_ERR_CLOSED: connection to 127\.0\.0\.1 lost \(no answer for 2 s\)"
kill -CONT $kids
exits hang
check "... and fwdtool exits 3 (exit $RC)" test "$RC" = 3
check "... and its port is free" test -z "$(listening "${FPORT[hang]}")"

# --- clean stops: SIGTERM, and stdin closing
kill -TERM "${FPID[main]}"
exits main
check "SIGTERM: fwdtool exits 0 (exit $RC)" test "$RC" = 0
check "SIGTERM: final stats printed ($(grep '^stats' "$W/main.out"))" \
	grep -Eq "^stats connections=2[0-9][0-9] active=0 failed=0 bytes_up=[0-9]+ bytes_down=[0-9]{8,}$" "$W/main.out"
check "SIGTERM: the port is free" test -z "$(listening "$M")"
kill "${WRITER[second]}"
exits second
check "stdin closed: fwdtool exits 0 (exit $RC)" test "$RC" = 0
check "stdin closed: the port is free" test -z "$(listening "${FPORT[second]}")"

# --- the server dies mid-transfer: the forward reports the lost connection and ends
fwd_start victim "$PA" "$KA" "$KHA" --remote-port "$HP"
V=${FPORT[victim]}
curl -s --limit-rate 2M -o "$W/victim-big" "http://127.0.0.1:$V/big" &
cpid=$!
PIDS+=($cpid)
for ((i = 0; i < 100; i++)); do
	[ -s "$W/victim-big" ] && break
	sleep 0.1
done
check "a slow transfer is under way" test -s "$W/victim-big"
bash "$RIG/stop-sshd.sh" "$W/sshd-a" >/dev/null 2>&1
check "fwdtool reports the lost connection" \
	wait_line "$W/victim.out" "^SSH_ERR_CLOSED: connection to 127\.0\.0\.1 lost"
exits victim
check "... and exits 3 (exit $RC)" test "$RC" = 3
check "its port is free" test -z "$(listening "$V")"
rc=0
wait "$cpid" || rc=$?
check "the interrupted client fails (curl exit $rc, $(stat -c %s "$W/victim-big") bytes)" test "$rc" != 0
check "the other forwards through sshd a ended the same way" \
	wait_line "$W/nolisten.out" "^SSH_ERR_CLOSED: connection to 127\.0\.0\.1 lost"
check "the forward through sshd b is still up" kill -0 "${FPID[forbidden]}"
kill -TERM "${FPID[forbidden]}" "${FPID[upl]}" 2>/dev/null
exits forbidden
exits upl
# sanitizer reports (ASan, UBSan, leaks at exit) would land here
check "no fwdtool wrote anything on stderr" \
	bash -c 'cat "$@" | { ! grep .; }' _ "$W"/*.err

t_done
