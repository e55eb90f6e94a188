#!/usr/bin/env bash
# A launch lock that is a symlink is not followed: reconcile does not take a lock held on
# the symlink's target (or open a device it names) for a live launch; the interrupted
# launch is settled and the symlink removed, its target left alone.
. "$(dirname "$0")/../lib/common.sh"

rc=0
GANTRY_TEST_CRASH=after_intent "$GANTRY_BIN" launch http-endpoint --name lnk >/dev/null 2>&1 || rc=$?
check "gantry was killed after the intent (exit $rc)" test "$rc" -eq 137
id=$(sqlite3 "$T_HOME/state/gantry.db" "SELECT id FROM jobs WHERE name='lnk'")
lock=$T_HOME/state/locks/$id.lock
check "the interrupted launch left its lock" test -f "$lock"
# the lock replaced by a symlink to a file that another process holds locked
target=$T_HOME/held
: >"$target"
flock "$target" sleep 300 &
holder=$!
trap 'kill $holder 2>/dev/null; t_cleanup' EXIT
for ((i = 0; i < 100; i++)); do ! flock -n "$target" true && break; sleep 0.1; done
check "the target is held" bash -c "! flock -n '$target' true"
rm -f "$lock"
ln -s "$target" "$lock"
expect_rc 0 "reconcile" g reconcile
check "the launch behind a symlinked lock is settled: FAILED" bash -c '[ "$(job_field lnk state)" = FAILED ]'
check "the symlink is gone" test ! -L "$lock"
check "its target is left alone" test -f "$target"
t_done
