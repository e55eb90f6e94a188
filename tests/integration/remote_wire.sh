#!/usr/bin/env bash
# Remote mode's client (core/engine_remote.c) against a fake gantryd that misbehaves
# (tests/lib/remote_fake.py): events, lines that are not JSON and answers to other requests
# arriving before the answer are set aside; a daemon that closes the connection mid-request,
# or sends a message over the size limit, is one line and a non-zero exit, never a crash or
# a hang; a launch whose "result" event fails says why; doctor names whom the daemon serves.
source "$(dirname "$0")/../lib/common.sh"

SOCK=$T_HOME/fake.sock
: >"$T_HOME/fake.out"
python3 "$(dirname "$0")/../lib/remote_fake.py" "$SOCK" >"$T_HOME/fake.out" 2>&1 &
FAKE=$!
trap 'kill "$FAKE" 2>/dev/null || :; wait "$FAKE" 2>/dev/null || :; t_cleanup' EXIT
fake_ready() { grep -q ready "$T_HOME/fake.out"; }
wait_for 20 fake_ready || { echo "the fake daemon did not start: $(cat "$T_HOME/fake.out")"; exit 1; }
export GANTRY_DAEMON=$SOCK

# a bounded run: a client that hangs fails the check instead of the suite
run() { timeout 20 "$GANTRY_BIN" "$@"; }

rc=0
run ls >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
if [ "$rc" = 0 ] && grep -Eq '^fake-1 +j01234567 +training +RUNNING +local .* fakeuser' "$T_HOME/out"; then
	ok "ls: the answer found among an event, a line that is not JSON and another id's answer"
else
	fail "ls: exit $rc: $(cat "$T_HOME/out" "$T_HOME/err")"
fi

rc=0
run show close-me >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$(wc -l <"$T_HOME/err")" = 1 ] &&
	grep -q "gantryd at $SOCK: closed the connection" "$T_HOME/err"; then
	ok "the daemon closing mid-request: one line, exit $rc"
else
	fail "show close-me: exit $rc: $(cat "$T_HOME/err")"
fi

rc=0
run show huge >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q "a message is too long" "$T_HOME/err"; then
	ok "a message over the limit: refused, exit $rc"
else
	fail "show huge: exit $rc: $(cat "$T_HOME/err")"
fi

rc=0
run launch hello >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
if [ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q "provider exploded" "$T_HOME/out" "$T_HOME/err"; then
	ok "a launch whose result event failed says why (exit $rc)"
else
	fail "launch: exit $rc: $(cat "$T_HOME/out" "$T_HOME/err")"
fi

rc=0
run doctor >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
if grep -q "mode .*remote: gantryd at $SOCK, as fakeuser (role tester)" "$T_HOME/out"; then
	ok "doctor: remote mode, the socket, whom the daemon serves"
else
	fail "doctor: exit $rc: $(cat "$T_HOME/out" "$T_HOME/err")"
fi

echo "# $T_CHECKS checks, $T_FAILS failed"
[ "$T_FAILS" = 0 ]
