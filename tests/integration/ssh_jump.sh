#!/usr/bin/env bash
# core/ssh.c through a jump host: two real sshds (jump on 127.0.0.1, target on 127.0.0.2),
# the target reached over a direct-tcpip channel of the jump session (relay thread).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../ssh/rig.sh"

W=$T_HOME/w
mkdir -p "$W"
rig_start A
rig_start B SSH_TEST_ADDR=127.0.0.2 SSH_TEST_CLIENT_KEY="$A_KEY"
J=(--jump-host 127.0.0.1 --jump-port "$A_PORT" --jump-user root --jump-key "$A_KEY" --jump-known-hosts "$A_KH")
O=(--host 127.0.0.2 --port "$B_PORT" --user root --key "$A_KEY" --known-hosts "$B_KH" "${J[@]}")
out=$T_HOME/out
err=$T_HOME/err

expect_rc 5 "exec through the jump host" "$SSHTOOL" exec "${O[@]}" 'echo via-jump; exit 5'
check "output came back" bash -c "[ \"\$(cat '$out')\" = via-jump ]"
check "the target's host key is reported" has "$err" "host key $(ssh-keygen -lf "$B_DIR/ssh_host_key.pub" | awk '{print $2}')"

# the TCP connection to the target belongs to the jump host's sshd, not to sshtool
"$SSHTOOL" exec "${O[@]}" 'echo started; sleep 30' >"$W/long.out" 2>"$W/long.err" &
bg=$!
check "a long command runs through the jump" rig_wait_for "$W/long.out" started
owner=$(ss -tnpH state established dst "127.0.0.2:$B_PORT" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
check "the target connection is owned by the jump's sshd (pid ${owner:-none})" bash -c "rig_sessions() { $(declare -f rig_sessions | tail -n +2); }; rig_sessions '$A_PID' | grep -qx '${owner:-x}'"
check "and not by sshtool" [ "${owner:-x}" != "$bg" ]
# the target drops the connection mid-command
rig_kill_sessions "$B_PID"
rc=0
wait "$bg" || rc=$?
check "a dropped target connection: CLOSED (exit $rc)" [ "$rc" = 109 ]
check "CLOSED names the target" has "$W/long.err" "ERROR SSH_ERR_CLOSED: 127.0.0.2:$B_PORT via 127.0.0.1:$A_PORT: connection to 127.0.0.2 lost"

head -c 5000000 /dev/urandom >"$W/big"
expect_rc 0 "5 MB through the jump" "$SSHTOOL" exec "${O[@]}" "cat '$W/big'"
check "intact" cmp -s "$out" "$W/big"
head -c 200000 /dev/urandom >"$W/in"
expect_rc 0 "stdin through the jump" "$SSHTOOL" exec "${O[@]}" --stdin "$W/in" 'sha256sum'
check "intact" bash -c "[ \"\$(cut -d' ' -f1 '$out')\" = \"\$(sha256sum <'$W/in' | cut -d' ' -f1)\" ]"

# host keys and auth of each hop
: >"$W/empty"
expect_rc 105 "the target's unknown key is refused" "$SSHTOOL" exec "${O[@]}" --known-hosts "$W/empty" true
check "with the target's fingerprint" has "$err" "FINGERPRINT ED25519 $(ssh-keygen -lf "$B_DIR/ssh_host_key.pub" | awk '{print $2}')"
expect_rc 0 "--accept-new for the target behind the jump" "$SSHTOOL" exec "${O[@]}" --known-hosts "$W/kh_b" --accept-new true
check "records [127.0.0.2]:port" bash -c "[ \"\$(cat '$W/kh_b')\" = \"\$(grep -v '^#' '$B_KH' | head -1)\" ]"
expect_rc 105 "the jump's unknown key is refused" "$SSHTOOL" exec "${O[@]}" --jump-known-hosts "$W/empty" true
check "the message names the jump host" has "$err" "ERROR SSH_ERR_HOSTKEY_UNKNOWN: jump host 127.0.0.1:$A_PORT: unknown host key"
check "with the jump's fingerprint" has "$err" "FINGERPRINT ED25519 $(ssh-keygen -lf "$A_DIR/ssh_host_key.pub" | awk '{print $2}')"
ssh-keygen -q -t ed25519 -N '' -f "$W/other" </dev/null
expect_rc 107 "a key the jump does not know" "$SSHTOOL" exec "${O[@]}" --jump-key "$W/other" true
check "AUTH names the jump host" has "$err" "ERROR SSH_ERR_AUTH: jump host 127.0.0.1:$A_PORT: no key was accepted"
port=$(rig_free_port)
expect_rc 102 "a target port nothing listens on" "$SSHTOOL" exec "${O[@]}" --port "$port" true
check "CONNECT: the jump could not reach it" has "$err" "ERROR SSH_ERR_CONNECT: 127.0.0.2:$port via 127.0.0.1:$A_PORT: the jump host could not open a connection to 127.0.0.2:$port"
kill -STOP "$B_PID"
expect_rc 103 "a paused target behind the jump times out" "$SSHTOOL" exec "${O[@]}" --connect-timeout 1000 true
kill -CONT "$B_PID"
check "TIMEOUT in the target's handshake" has "$err" "ERROR SSH_ERR_TIMEOUT: 127.0.0.2:$B_PORT via 127.0.0.1:$A_PORT: timed out during the SSH handshake"

expect_rc 0 "10 rounds through the jump leak no fd (relay thread joined)" "$SSHTOOL" loop 10 "${O[@]}" 'echo r'
check "fd count unchanged" grep -Eq '^fds before ([0-9]+) after \1$' "$out"
expect_rc 0 "4 jumped sessions on 4 threads" "$SSHTOOL" threads 4 "${O[@]}" 'echo t'
check "each got its own output" bash -c "for i in 0 1 2 3; do grep -qx \"\$i ok t \$i\" '$out' || exit 1; done"

# the printed OpenSSH command line: ProxyCommand for a jump with its own key/known_hosts
rcmd='echo "x  y"; hostname -I >/dev/null; exit 6'
expect_rc 0 "print-command with a jump host" "$SSHTOOL" print-command "${O[@]}" "$rcmd"
cmdline=$(cat "$out")
echo "# $cmdline"
check "uses a ProxyCommand with -W %h:%p" has "$out" "-o 'ProxyCommand=ssh -p $A_PORT -i $A_KEY -o IdentitiesOnly=yes -o UserKnownHostsFile=$A_KH -o StrictHostKeyChecking=yes -W %h:%p root@127.0.0.1'"
rc=0
eval "${cmdline/ssh /ssh -o BatchMode=yes }" >"$W/ssh.out" 2>"$W/ssh.err" || rc=$?
check "OpenSSH runs it through the jump (exit $rc)" [ "$rc" = 6 ]
check "same output" bash -c "[ \"\$(cat '$W/ssh.out')\" = 'x  y' ]"
expect_rc 0 "print-command, jump with default key and known_hosts" "$SSHTOOL" print-command \
	--host gpu1 --user me --jump-host login --jump-port 2200 --jump-user me
check "uses -J" bash -c "[ \"\$(cat '$out')\" = 'ssh -o StrictHostKeyChecking=yes -J me@login:2200 me@gpu1' ]"

t_done
