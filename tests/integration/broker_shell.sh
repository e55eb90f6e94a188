#!/usr/bin/env bash
# broker_shell.sh (issue 12): shells brokered by gantryd. As root, with test users
# (tests/lib/gantryd.sh) and gantryd in the foreground as the service account g12svc:
# - g12alice's `gantry ssh JOB -- CMD` on her job runs CMD through the daemon (a PTY relayed
#   over the socket) and exits with its status; an interactive shell reads her input; a
#   terminal's size goes through at start and on SIGWINCH
# - the shell runs as the service account: alice never holds its keys (she cannot read the
#   service's home, where its provider keys live)
# - g12bob cannot open a shell on alice's job ("no job matches"), g12mallory (not in the
#   socket's group) cannot reach the daemon at all
# - `gantry ssh --print-command` refuses in remote mode (there is no key to give)
# - a client killed mid-session, or one sending malformed frames: the shell is hung up,
#   gantryd serves on
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/gantryd.sh"

gd_users
GD_DIR=$(mktemp -d /tmp/gantryd-test.XXXXXX)
chmod 0755 "$GD_DIR"
trap 'gd_stop; rm -rf "$GD_DIR"; t_cleanup' EXIT

mkdir -p "$GD_DIR/run/system/templates"
cat >"$GD_DIR/run/system/templates/gd-sleep.yaml" <<'YAML'
name: gd-sleep
kind: training
resources: {accelerators: none, cpus: 1}
limits: {max_runtime: 10m}
run: sleep 300
YAML
chmod 0644 "$GD_DIR/run/system/templates/gd-sleep.yaml"
gd_start "$GD_DIR/run"
# a provider key of the service's own (the kind of file users must never read)
install -d -o g12svc -g g12svc -m 0700 "$GD_HOME/config"
install -o g12svc -g g12svc -m 0600 /dev/null "$GD_HOME/config/worker_key"
echo "CANARY-KEY-$$" >"$GD_HOME/config/worker_key"

jstate() { as "$1" "$GANTRY_BIN" show "$2" -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("state",""))'; }
running() { [ "$(jstate "$1" "$2")" = RUNNING ]; }

expect_rc 0 "alice launches gd-sleep through gantryd" as g12alice "$GANTRY_BIN" launch gd-sleep --name ash
check "alice's job reaches RUNNING" wait_for 30 running g12alice ash

# a command: its output and its exit status, through the daemon's PTY
out=$(as g12alice "$GANTRY_BIN" ssh ash -- echo hi </dev/null 2>"$T_HOME/ssh.err" | tr -d '\r') && rc=0 || rc=$?
check "alice: gantry ssh ash -- echo hi prints hi (got '$out', exit $rc, $(head -c 300 "$T_HOME/ssh.err"))" \
	[ "$out" = hi ]
check "... and exits 0 (got $rc)" [ "$rc" = 0 ]
rc=0
as g12alice "$GANTRY_BIN" ssh ash -- sh -c 'exit 7' </dev/null >/dev/null 2>&1 || rc=$?
check "the command's exit status comes back (exit 7, got $rc)" [ "$rc" = 7 ]
who=$(as g12alice "$GANTRY_BIN" ssh ash -- id -un </dev/null 2>/dev/null | tr -d '\r')
check "the shell runs as the service account, not as alice (got '$who')" [ "$who" = g12svc ]

# on a terminal: its size at start and after a change (SIGWINCH) reach the worker's PTY
home=$(getent passwd g12alice | cut -d: -f6)
python3 "$GD_LIB/session_tty.py" runuser -u g12alice -- env -i PATH=/usr/bin:/bin HOME="$home" \
	GANTRY_DAEMON="$GD_SOCK" GANTRY_DATADIR="$GANTRY_DATADIR" TERM=xterm LANG=C.UTF-8 \
	"$GANTRY_BIN" ssh ash -- sh -c 'stty size; read x; stty size' >"$T_HOME/tty.out" 2>&1 || :
check "on a 33x111 terminal the shell sees 33 111 ($(tr '\n' ' ' <"$T_HOME/tty.out"))" grep -qx 'size1 33 111' "$T_HOME/tty.out"
check "after the terminal became 40x120, 40 120" grep -qx 'size2 40 120' "$T_HOME/tty.out"
check "and the session ends with exit 0" grep -qx 'exit 0' "$T_HOME/tty.out"

# an interactive shell: alice's input goes in, the shell's exit status comes out
rc=0
printf 'echo from-$((6*7))\nexit 5\n' | as g12alice "$GANTRY_BIN" ssh ash >"$T_HOME/inter.out" 2>&1 || rc=$?
check "the interactive shell ran alice's input ($(tr -d '\r' <"$T_HOME/inter.out" | head -c 300))" \
	grep -q 'from-42' "$T_HOME/inter.out"
check "... and its exit status came back (5, got $rc)" [ "$rc" = 5 ]

# input piped in, then its end: cat prints it and ends (a shell on this host: canonical PTY)
printf 'piped-in\n' | as g12alice "$GANTRY_BIN" ssh ash -- cat >"$T_HOME/cat.out" 2>&1 &
catpid=$!
cat_done() { ! kill -0 "$catpid" 2>/dev/null; }
check "cat through the daemon ends once alice's input ends" wait_for 30 cat_done
rc=0
wait "$catpid" 2>/dev/null || rc=$?
cat_ok() { [ "$rc" = 0 ] && grep -q piped-in "$T_HOME/cat.out" && ! grep -qF '^@' "$T_HOME/cat.out" && ! tr -d '\r\n' <"$T_HOME/cat.out" | grep -q '[[:cntrl:]]'; }
check "... exit 0 (got $rc), the input printed back, no stray byte ($(od -c "$T_HOME/cat.out" | head -3 | tr '\n' ' '))" cat_ok

# much input while much output flows back (the relay never waits on one side): every line
# comes back, in order
seq -f 'line %06g of the big paste, padded to be long enough' 1 20000 >"$T_HOME/big.in"
as g12alice "$GANTRY_BIN" ssh ash -- sh -c 'stty -echo; cat' <"$T_HOME/big.in" >"$T_HOME/big.out" 2>&1 &
bigpid=$!
big_done() { ! kill -0 "$bigpid" 2>/dev/null; }
check "20000 lines in and out through the daemon end" wait_for 120 big_done
if ! big_done; then # stuck: end alice's client (by its pid) so that the test goes on
	for p in $(pgrep -u g12alice -f -- "$GANTRY_BIN ssh ash -- sh -c stty -echo; cat" || :); do
		kill -KILL "$p" 2>/dev/null || :
	done
fi
rc=0
wait "$bigpid" 2>/dev/null || rc=$?
# (lines typed before stty -echo ran are echoed first: cat's copy is the end of the output)
big_ok() { [ "$rc" = 0 ] && tr -d '\r' <"$T_HOME/big.out" | tail -c "$(stat -c %s "$T_HOME/big.in")" | cmp -s - "$T_HOME/big.in"; }
check "... exit 0 (got $rc), every line back in order ($(tr -d '\r' <"$T_HOME/big.out" | wc -l) lines)" big_ok

# alice never gets the service's keys
cannot() { ! as "$@" >/dev/null 2>&1; }
check "alice cannot read the service's key file" cannot g12alice cat "$GD_HOME/config/worker_key"
check "nor list the service's home" cannot g12alice ls "$GD_HOME"
check "(while the service can: the check is real)" as g12svc test -r "$GD_HOME/config/worker_key"
rc=0
as g12alice "$GANTRY_BIN" ssh ash --print-command >"$T_HOME/print.out" 2>"$T_HOME/print.err" || rc=$?
check "--print-command refuses through gantryd (exit $rc: $(head -c 200 "$T_HOME/print.err"))" \
	bash -c "[ '$rc' != 0 ] && grep -q 'go through gantryd' '$T_HOME/print.err'"
check "... and prints no key path" bash -c "! grep -q worker_key '$T_HOME/print.out' '$T_HOME/print.err'"

rc=0
as g12alice "$GANTRY_BIN" ssh ash --accept-new-host-key -- true </dev/null >/dev/null 2>"$T_HOME/acc.err" || rc=$?
check "only gantryd's admins may accept a new host key for the service (exit $rc: $(head -c 200 "$T_HOME/acc.err"))" \
	bash -c "[ '$rc' != 0 ] && grep -q 'only an administrator' '$T_HOME/acc.err'"

# bob (another team) cannot open a shell on alice's job; mallory cannot reach the daemon
rc=0
as g12bob "$GANTRY_BIN" ssh ash -- echo bob-was-here </dev/null >"$T_HOME/bob.out" 2>"$T_HOME/bob.err" || rc=$?
check "bob's gantry ssh on alice's job fails (exit $rc: $(head -c 200 "$T_HOME/bob.err"))" \
	bash -c "[ '$rc' != 0 ] && grep -q 'no job matches' '$T_HOME/bob.err'"
check "... and ran nothing" bash -c "! grep -q bob-was-here '$T_HOME/bob.out'"
jid=$(as g12alice "$GANTRY_BIN" show ash -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
rc=0
as g12bob "$GANTRY_BIN" ssh "$jid" -- echo bob-was-here </dev/null >"$T_HOME/bob.out" 2>"$T_HOME/bob.err" || rc=$?
check "... not even by its full id (exit $rc)" bash -c "[ '$rc' != 0 ] && ! grep -q bob-was-here '$T_HOME/bob.out'"
rc=0
as g12mallory "$GANTRY_BIN" ssh ash -- echo m </dev/null >/dev/null 2>"$T_HOME/m.err" || rc=$?
check "mallory (not in group gantry) is refused (exit $rc: $(head -c 200 "$T_HOME/m.err"))" \
	bash -c "[ '$rc' != 0 ] && grep -qi 'permission denied' '$T_HOME/m.err'"

# a client that vanishes mid-session: its shell is hung up, the daemon goes on
as g12alice "$GANTRY_BIN" ssh ash -- sleep 777 </dev/null >/dev/null 2>&1 &
bg=$!
shell_up() { pgrep -u g12svc -f -- "^sleep 777\$" >/dev/null; }
check "a brokered shell runs sleep 777 as the service account" wait_for 20 shell_up
cpid=$(pgrep -u g12alice -f -- "$GANTRY_BIN ssh ash -- sleep 777" | head -1)
check "alice's gantry ssh runs (pid $cpid)" test -n "$cpid"
[ -z "$cpid" ] || kill -KILL "$cpid"
wait "$bg" 2>/dev/null || :
shell_gone() { ! shell_up; }
check "once alice's client is gone, her shell is hung up" wait_for 10 shell_gone

# a client that breaks the frame protocol: its relay hangs up its shell, nothing else moves
got=$(as g12alice python3 "$GD_LIB/session_frames.py" "$GD_SOCK" ash 7a0000 2>&1)
check "an unknown frame type ends that session at once (got '$got')" [ "$got" = closed ]
shell888() { pgrep -u g12svc -f -- "^sleep 888\$" >/dev/null; }
gone888() { ! shell888; }
check "... and its shell is hung up" wait_for 10 gone888
got=$(as g12alice python3 "$GD_LIB/session_frames.py" "$GD_SOCK" ash 64ffff 2>&1)
check "so does a frame longer than the limit (got '$got')" [ "$got" = closed ]
check "... its shell hung up too" wait_for 10 gone888
check "alice's job is still running" running g12alice ash

check "gantryd is still serving" gd_ready
expect_rc 0 "alice stops her job" as g12alice "$GANTRY_BIN" stop ash
t_done
