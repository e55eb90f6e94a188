#!/usr/bin/env bash
# core/ssh.c against a real OpenSSH server (tests/sshd rig) through tests/ssh/sshtool:
# exec (output, status, stdin, 5 MB), host keys (unknown, accept-new, changed, hashed),
# auth (key file, agent, wrong key, RSA), errors (refused, resolve, timeout, dropped),
# keepalive, threads, fd leaks, labels and the printed OpenSSH command line.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../ssh/rig.sh"

W=$T_HOME/w
mkdir -p "$W"
rig_start A
O=(--host "$A_HOST" --port "$A_PORT" --user root --key "$A_KEY" --known-hosts "$A_KH")
out=$T_HOME/out
err=$T_HOME/err

# --- exec
expect_rc 0 "exec echo" "$SSHTOOL" exec "${O[@]}" 'echo hello world'
check "stdout is the command's" bash -c "[ \"\$(cat '$out')\" = 'hello world' ]"
check "the session reports the host key" has "$err" "host key SHA256:"
expect_rc 7 "a nonzero exit status comes back" "$SSHTOOL" exec "${O[@]}" 'echo to-err >&2; exit 7'
check "stderr is the command's" has "$err" "to-err"
check "status line says 7" has "$err" "exit status 7"
expect_rc 99 "a command killed by a signal has no status" "$SSHTOOL" exec "${O[@]}" 'kill -9 $$'
check "status -1" has "$err" "exit status -1"
head -c 300000 /dev/urandom >"$W/in"
expect_rc 0 "stdin is passed and closed" "$SSHTOOL" exec "${O[@]}" --stdin "$W/in" 'sha256sum'
check "stdin arrived intact" bash -c "[ \"\$(cut -d' ' -f1 '$out')\" = \"\$(sha256sum <'$W/in' | cut -d' ' -f1)\" ]"
head -c 5000000 /dev/urandom >"$W/big"
expect_rc 0 "5 MB of output" "$SSHTOOL" exec "${O[@]}" "cat '$W/big'; head -c 100000 '$W/big' >&2"
check "stdout intact (5 MB)" cmp -s "$out" "$W/big"
check "stderr intact beside it" bash -c "tail -n +2 '$err' | head -c 100000 | cmp -s - <(head -c 100000 '$W/big')"
expect_rc 99 "a reader that stops early abandons the command" \
	"$SSHTOOL" exec "${O[@]}" --stop-after 100000 'yes'
expect_rc 103 "a command past its timeout" "$SSHTOOL" exec "${O[@]}" --timeout 1000 'sleep 20'
check "TIMEOUT named" has "$err" "ERROR SSH_ERR_TIMEOUT"

# --- host keys
fp=$(ssh-keygen -lf "$A_DIR/ssh_host_key.pub" | awk '{print $2}')
: >"$W/empty_kh"
expect_rc 105 "an unknown host key is refused" "$SSHTOOL" exec "${O[@]}" --known-hosts "$W/empty_kh" true
check "HOSTKEY_UNKNOWN named" has "$err" "ERROR SSH_ERR_HOSTKEY_UNKNOWN"
check "its fingerprint is ssh-keygen -lf's ($fp)" has "$err" "FINGERPRINT ED25519 $fp"
check "the message carries the fingerprint" has "$err" "(ED25519 $fp)"
expect_rc 105 "a missing known_hosts file is an empty one" \
	"$SSHTOOL" exec "${O[@]}" --known-hosts "$W/none/known_hosts" true
kh=$W/new/dir/known_hosts
expect_rc 0 "--accept-new records an unknown key" "$SSHTOOL" exec "${O[@]}" --known-hosts "$kh" --accept-new 'echo in'
check "the file is created 0600" bash -c "[ \"\$(stat -c %a '$kh')\" = 600 ]"
check "its directory 0700" bash -c "[ \"\$(stat -c %a '$W/new/dir')\" = 700 ]"
check "the line is OpenSSH's [host]:port form" bash -c "[ \"\$(cat '$kh')\" = \"\$(grep -v '^#' '$A_KH' | head -1)\" ]"
expect_rc 0 "the recorded key is accepted later" "$SSHTOOL" exec "${O[@]}" --known-hosts "$kh" true
check "OpenSSH accepts the recorded file" ssh -p "$A_PORT" -i "$A_KEY" -o IdentitiesOnly=yes \
	-o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$kh" root@127.0.0.1 true
printf '# comment\n[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIFqXw2r5qNUTUECZkBNtc57fpLcmrShudyMWkXoozd1' >"$W/nonl_kh"
expect_rc 0 "--accept-new appends to a file without a final newline" \
	"$SSHTOOL" exec "${O[@]}" --known-hosts "$W/nonl_kh" --accept-new true
check "three lines, the last the new key" bash -c "[ \$(wc -l <'$W/nonl_kh') = 3 ] && tail -1 '$W/nonl_kh' | grep -q '^\[127.0.0.1\]:$A_PORT ssh-ed25519 '"
expect_rc 0 "a hashed known_hosts works" "$SSHTOOL" exec "${O[@]}" --known-hosts "$A_KHH" true
ssh-keygen -q -t ed25519 -N '' -f "$W/other" </dev/null
echo "[127.0.0.1]:$A_PORT $(cut -d' ' -f1,2 "$W/other.pub")" >"$W/changed_kh"
cp "$W/changed_kh" "$W/changed_kh.orig"
expect_rc 106 "a changed host key is refused" "$SSHTOOL" exec "${O[@]}" --known-hosts "$W/changed_kh" true
check "HOSTKEY_CHANGED named" has "$err" "ERROR SSH_ERR_HOSTKEY_CHANGED"
check "the message is loud" has "$err" "HOST KEY CHANGED for [127.0.0.1]:$A_PORT:"
check "it says how to fix it" has "$err" "ssh-keygen -R '[127.0.0.1]:$A_PORT'"
check "with the new fingerprint" has "$err" "FINGERPRINT ED25519 $fp"
expect_rc 106 "a changed key is refused even with --accept-new" \
	"$SSHTOOL" exec "${O[@]}" --known-hosts "$W/changed_kh" --accept-new true
check "and the file is left alone" cmp -s "$W/changed_kh" "$W/changed_kh.orig"

# --- authentication
expect_rc 107 "a key the server does not know is refused" \
	"$SSHTOOL" exec "${O[@]}" --key "$W/other" true
check "AUTH named, with what was tried" has "$err" "no key was accepted for root; tried $W/other (refused)"
expect_rc 107 "a missing key file" "$SSHTOOL" exec "${O[@]}" --key "$W/nokey" true
check "named as missing" has "$err" "$W/nokey (No such file or directory)"
rsa_msg="is RSA: this build's libssh2 1.10 can only sign with ssh-rsa (SHA-1), which OpenSSH 8.8+ refuses; use an ed25519 key (ssh-keygen -t ed25519) or ECDSA"
ssh-keygen -q -t rsa -b 2048 -N '' -f "$W/rsa" </dev/null
ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -f "$W/rsapem" </dev/null
cat "$W/rsa.pub" "$W/rsapem.pub" >>"$A_DIR/authorized_keys/root"
check "OpenSSH itself logs in with the RSA key" ssh -p "$A_PORT" -i "$W/rsa" -o IdentitiesOnly=yes \
	-o BatchMode=yes -o UserKnownHostsFile="$A_KH" root@127.0.0.1 true
expect_rc 107 "an authorized RSA key (OpenSSH format) fails" "$SSHTOOL" exec "${O[@]}" --key "$W/rsa" true
check "with the RSA/SHA-1 reason" has "$err" "key $W/rsa $rsa_msg"
expect_rc 107 "an authorized RSA key (PEM) fails" "$SSHTOOL" exec "${O[@]}" --key "$W/rsapem" true
check "with the RSA/SHA-1 reason" has "$err" "key $W/rsapem $rsa_msg"
ssh-keygen -q -t ed25519 -N 'secret' -f "$W/locked" </dev/null
expect_rc 107 "a key with a passphrase" "$SSHTOOL" exec "${O[@]}" --key "$W/locked" true
check "the reason points to the agent" has "$err" "passphrase"

agent_out=$(ssh-agent -s)
eval "$agent_out" >/dev/null
RIG_PIDS+=("$SSH_AGENT_PID")
check "the key goes into a test agent" ssh-add -q "$A_KEY"
expect_rc 0 "agent auth (no key file)" "$SSHTOOL" exec --host 127.0.0.1 --port "$A_PORT" \
	--user root --known-hosts "$A_KH" 'echo agent-ok'
check "ran through the agent" has "$out" agent-ok
expect_rc 0 "agent first, a bad key file after it is not needed" "$SSHTOOL" exec "${O[@]}" --key "$W/other" true
ssh-add -q -D 2>/dev/null
ssh-add -q "$W/rsa" 2>/dev/null
expect_rc 107 "an agent holding only an RSA key" "$SSHTOOL" exec --host 127.0.0.1 --port "$A_PORT" \
	--user root --known-hosts "$A_KH" true
check "says the agent's keys are RSA" has "$err" "the agent's keys are ${rsa_msg#is }"
ssh-add -q -D 2>/dev/null
ssh-add -q "$W/other" 2>/dev/null
expect_rc 107 "agent key refused, then the key file RSA" "$SSHTOOL" exec "${O[@]}" --key "$W/rsa" true
check "lists both" has "$err" "tried agent (1 key refused), $W/rsa (refused)"
kill "$SSH_AGENT_PID"
unset SSH_AUTH_SOCK SSH_AGENT_PID

# --- connection errors
port=$(rig_free_port)
expect_rc 102 "connection refused" "$SSHTOOL" exec "${O[@]}" --port "$port" true
check "CONNECT: connection refused" has "$err" "ERROR SSH_ERR_CONNECT: 127.0.0.1:$port: connection refused"
# Name resolution: the test runs in a fresh network namespace (unshare -n: loopback only, no
# route), so the resolver cannot send a query anywhere; .invalid never resolves (RFC 6761).
expect_rc 101 "a name that does not resolve (in an empty netns)" \
	unshare -n "$SSHTOOL" exec "${O[@]}" --host nohost.invalid true
check "RESOLVE: name does not resolve" has "$err" "ERROR SSH_ERR_RESOLVE: nohost.invalid:$A_PORT: name does not resolve"
# A resolver that takes queries and never answers (a UDP "DNS server" on the loopback of a
# fresh network namespace, named by a resolv.conf bind-mounted in a fresh mount namespace):
# the lookup is bounded by the connect timeout, not by the resolver's own 2 x 5 s.
# The listener writes dns.ready once bound; the lookup starts only then (exit 91: it never
# got ready within 30 s, however slowly Python starts).
printf 'nameserver 127.0.0.1\noptions timeout:5 attempts:2\n' >"$W/resolv.conf"
rm -f "$W/dns.ready"
expect_rc 103 "a resolver that never answers: TIMEOUT within the connect timeout" \
	unshare -n -m bash -c 'ip link set lo up && mount --bind "$1" /etc/resolv.conf || exit 90
python3 -c "import socket, sys; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((\"127.0.0.1\", 53))
open(sys.argv[1], \"w\").close()
while True: s.recv(2048)" "$2" & bh=$!
wait_for 30 test -e "$2" || { kill $bh; exit 91; }
shift 2; rc=0; "$@" || rc=$?; kill $bh; exit $rc' _ "$W/resolv.conf" "$W/dns.ready" \
	"$SSHTOOL" exec "${O[@]}" --host hangs.invalid --connect-timeout 1500 true
check "TIMEOUT: looking up the name" has "$err" "ERROR SSH_ERR_TIMEOUT: hangs.invalid:$A_PORT: looking up the name took longer than the connect timeout"
kill -STOP "$A_PID"
expect_rc 103 "a paused server: connect times out" "$SSHTOOL" exec "${O[@]}" --connect-timeout 1000 true
check "TIMEOUT during the handshake" has "$err" "ERROR SSH_ERR_TIMEOUT: 127.0.0.1:$A_PORT: timed out during the SSH handshake"
kill -CONT "$A_PID"
expect_rc 0 "resumed server answers" "$SSHTOOL" exec "${O[@]}" true

# a server that hangs after login: the command times out, close does not hang either
rm -f "$W/pause.go"
"$SSHTOOL" exec "${O[@]}" --io-timeout 1500 --wait-file "$W/pause.go" 'echo never' \
	>"$W/pause.out" 2>"$W/pause.err" &
bg=$!
check "connected before the pause" rig_wait_for "$W/pause.err" connected
paused=$(rig_sessions "$A_PID")
kill -STOP "$A_PID" $paused
touch "$W/pause.go"
rc=0
wait "$bg" || rc=$?
kill -CONT "$A_PID" $paused
check "a hung server: TIMEOUT (exit $rc)" [ "$rc" = 103 ]
check "TIMEOUT opening the channel" has "$W/pause.err" "ERROR SSH_ERR_TIMEOUT: 127.0.0.1:$A_PORT: timed out opening a channel"

# a connection dropped mid-command: the session's sshd processes are killed (by pid)
"$SSHTOOL" exec "${O[@]}" 'echo started; sleep 30' >"$W/drop.out" 2>"$W/drop.err" &
bg=$!
check "the command runs" rig_wait_for "$W/drop.out" started
rig_kill_sessions "$A_PID"
rc=0
wait "$bg" || rc=$?
check "a dropped connection mid-command: CLOSED (exit $rc)" [ "$rc" = 109 ]
check "CLOSED: connection lost" has "$W/drop.err" "ERROR SSH_ERR_CLOSED: 127.0.0.1:$A_PORT: connection to 127.0.0.1 lost"

# keepalive notices a dropped connection
rm -f "$W/ka.go"
"$SSHTOOL" keepalive "${O[@]}" --wait-file "$W/ka.go" 2>"$W/ka.err" &
bg=$!
check "keepalive session connected" rig_wait_for "$W/ka.err" connected
rig_kill_sessions "$A_PID"
touch "$W/ka.go"
rc=0
wait "$bg" || rc=$?
check "keepalive on a dropped connection: CLOSED (exit $rc)" [ "$rc" = 109 ]
expect_rc 0 "keepalive on a live connection" "$SSHTOOL" keepalive "${O[@]}"

# --- one process: many sessions, threads
expect_rc 0 "20 connect/exec/close rounds leak no fd" "$SSHTOOL" loop 20 "${O[@]}" 'echo r'
check "fd count unchanged" grep -Eq '^fds before ([0-9]+) after \1$' "$out"
expect_rc 0 "8 sessions on 8 threads at once" "$SSHTOOL" threads 8 "${O[@]}" 'echo t'
check "each got its own output" bash -c "for i in 0 1 2 3 4 5 6 7; do grep -qx \"\$i ok t \$i\" '$out' || exit 1; done"

# --- labels and the OpenSSH command line
expect_rc 0 "label" "$SSHTOOL" label "${O[@]}"
check "user@host:port" bash -c "[ \"\$(cat '$out')\" = 'root@127.0.0.1:$A_PORT' ]"
rcmd='echo "a  b" $((6*7)); echo '"'"'q'"'"' >&2; exit 4'
# key and known_hosts in folders whose names need quoting (shell quotes, ssh_config quotes,
# %-tokens): the printed command line must reach the same host with OpenSSH's ssh
for d in "odd dir" "pct%d%%p" 'q"uo\\te'; do
	mkdir -p "$W/$d"
	cp "$A_KEY" "$W/$d/it's key"
	cp "$A_KH" "$W/$d/known hosts"
	P=(--host 127.0.0.1 --port "$A_PORT" --user root --key "$W/$d/it's key" --known-hosts "$W/$d/known hosts")
	expect_rc 0 "print-command ($d)" "$SSHTOOL" print-command "${P[@]}" "$rcmd"
	cmdline=$(cat "$out")
	[ "$d" = "pct%d%%p" ] && cp "$out" "$W/print.pct"
	echo "# $cmdline"
	expect_rc 4 "sshtool exec of the same command" "$SSHTOOL" exec "${P[@]}" "$rcmd"
	cp "$out" "$W/exec.out"
	grep -av '^sshtool:' "$err" >"$W/exec.err"
	rc=0
	eval "${cmdline/ssh /ssh -o BatchMode=yes }" >"$W/ssh.out" 2>"$W/ssh.err" || rc=$?
	check "OpenSSH runs the printed command line (exit $rc)" [ "$rc" = 4 ]
	check "same stdout as sshtool exec" cmp -s "$W/ssh.out" "$W/exec.out"
	check "same stderr as sshtool exec" cmp -s "$W/ssh.err" "$W/exec.err"
done
check "-o IdentityFile, UserKnownHostsFile with %% and ssh_config quotes" has "$W/print.pct" "ssh -p $A_PORT -o 'IdentityFile=\"$W/pct%%d%%%%p/it'\\''s key\"' -o IdentitiesOnly=yes -o 'UserKnownHostsFile=\"$W/pct%%d%%%%p/known hosts\"' -o StrictHostKeyChecking=yes root@127.0.0.1 "
expect_rc 0 "print-command --tty, no command" "$SSHTOOL" print-command --host h --port 22 --tty
check "plain: ssh -o StrictHostKeyChecking=yes -t h" bash -c "[ \"\$(cat '$out')\" = 'ssh -o StrictHostKeyChecking=yes -t h' ]"

t_done
