#!/usr/bin/env bash
# A local job that leaves a setsid'd, double-forked child behind: `stop` and max_runtime end
# that child too. Run with the job's own cgroup (where this user can make one) and with
# GANTRY_NO_CGROUP=1 (the subreaper path), as root and again as nobody.
. "$(dirname "$0")/../lib/common.sh"

# at exit, also what escaped (when the code under test failed to end it)
escape_cleanup() {
	local f
	for f in "$T_HOME"/state/jobs/*/work/escaped.pid; do
		[ -s "$f" ] || continue
		kill -KILL "$(cat "$f")" 2>/dev/null || :
	done
	for f in "$T_HOME"/state/jobs/*/cgroup; do
		[ -s "$f" ] && [ -d "$(cat "$f")" ] || continue
		echo 1 >"$(cat "$f")/cgroup.kill" 2>/dev/null || :
	done
	t_cleanup
}
trap escape_cleanup EXIT

mkdir -p "$GANTRY_HOME/config/templates"
# ( ... & ) is a double fork; setsid puts the sleep in a session of its own. It writes its
# pid (the sleep's, after exec) to escaped.pid in the job's work directory.
cat >"$GANTRY_HOME/config/templates/escape.yaml" <<'YAML'
name: escape
kind: training
description: leaves an escaped child behind
params:
  killsup: {type: int, default: 0, min: 0, max: 1}
run: |
  ( setsid sh -c 'echo $$ > escaped.tmp && mv escaped.tmp escaped.pid && exec sleep 1000' & )
  while [ ! -s escaped.pid ]; do sleep 0.05; done
  if [ {{killsup}} = 1 ]; then kill -KILL "$(cut -d' ' -f1 ../supervisor.pid)"; fi
  echo escaped
  exec sleep 1000
YAML
cat >"$GANTRY_HOME/config/templates/escape-limited.yaml" <<'YAML'
name: escape-limited
kind: training
description: leaves an escaped child behind and runs past its max_runtime
run: |
  ( setsid sh -c 'echo $$ > escaped.tmp && mv escaped.tmp escaped.pid && exec sleep 1000' & )
  echo escaped
  exec sleep 1000
limits: {max_runtime: 2s}
YAML

cat >"$GANTRY_HOME/config/templates/escape-kill-limited.yaml" <<'YAML'
name: escape-kill-limited
kind: training
description: leaves an escaped child behind, kills its supervisor, runs past its max_runtime
run: |
  ( setsid sh -c 'echo $$ > escaped.tmp && mv escaped.tmp escaped.pid && exec sleep 1000' & )
  while [ ! -s escaped.pid ]; do sleep 0.05; done
  kill -KILL "$(cut -d' ' -f1 ../supervisor.pid)"
  exec sleep 1000
limits: {max_runtime: 2s}
YAML

jobdir() { echo "$T_HOME/state/jobs/$(job_field "$1" id)"; }
# escaped_pid JOB: waits for the escaped child's pid file and prints the pid
escaped_pid() {
	local f
	f="$(jobdir "$1")/work/escaped.pid"
	for ((i = 0; i < 100; i++)); do
		[ -s "$f" ] && {
			cat "$f"
			return 0
		}
		sleep 0.1
	done
	return 1
}
# gone PID: the process has ended (waits up to 10 s: a KILL is asynchronous)
gone() {
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}
export -f gone

# the escaped child's session is not the job's (it really escaped its process group)
escaped_session() { [ "$(ps -o sid= -p "$1" | tr -d ' ')" = "$1" ]; }

WHO=$(id -un)
for mode in cgroup nocgroup; do
	if [ $mode = nocgroup ]; then export GANTRY_NO_CGROUP=1; else unset GANTRY_NO_CGROUP; fi
	n=$([ $mode = cgroup ] && echo 1 || echo 2)
	# stop
	expect_rc 0 "[$WHO/$mode] launch escape" g launch escape
	check "[$WHO/$mode] escape RUNNING" wait_state "escape-$n" RUNNING 20
	pid=$(escaped_pid "escape-$n") || pid=
	check "[$WHO/$mode] the child wrote its pid" test -n "$pid"
	check "[$WHO/$mode] the child is alive in a session of its own" escaped_session "${pid:-0}"
	dir=$(jobdir "escape-$n")
	if [ $mode = cgroup ] && [ "$WHO" = root ]; then
		check "[$WHO/$mode] the job has a cgroup" test -s "$dir/cgroup"
	elif [ $mode = nocgroup ]; then
		check "[$WHO/$mode] no cgroup when turned off" test ! -e "$dir/cgroup"
	fi
	expect_rc 0 "[$WHO/$mode] stop escape" g stop "escape-$n"
	check "[$WHO/$mode] escape STOPPED" wait_state "escape-$n" STOPPED 20
	check "[$WHO/$mode] the escaped child is gone after stop" gone "${pid:-0}"
	if [ -s "$dir/cgroup" ]; then
		check "[$WHO/$mode] its cgroup is removed" bash -c "for i in \$(seq 50); do [ -d '$(cat "$dir/cgroup")' ] || exit 0; sleep 0.1; done; exit 1"
	fi

	# max_runtime
	expect_rc 1 "[$WHO/$mode] escape-limited runs past max_runtime" g launch escape-limited --wait --timeout 60
	check "[$WHO/$mode] escape-limited FAILED for max_runtime" bash -c "job_field escape-limited-$n reason | grep -q max_runtime"
	pid=$(cat "$(jobdir "escape-limited-$n")/work/escaped.pid" 2>/dev/null) || pid=
	check "[$WHO/$mode] escape-limited's child wrote its pid" test -n "$pid"
	check "[$WHO/$mode] the escaped child is gone after max_runtime" gone "${pid:-0}"
done
unset GANTRY_NO_CGROUP

# A job that kills its own supervisor: its cgroup still lets `stop` end everything.
if [ "$WHO" = root ]; then
	expect_rc 0 "[$WHO] launch escape, killing its supervisor" g launch escape --set killsup=1
	pid=$(escaped_pid escape-3) || pid=
	check "[$WHO] the child wrote its pid" test -n "$pid"
	dir=$(jobdir escape-3)
	check "[$WHO] the supervisor is dead" bash -c "for i in \$(seq 100); do kill -0 \$(cut -d' ' -f1 '$dir/supervisor.pid') 2>/dev/null || exit 0; sleep 0.1; done; exit 1"
	check "[$WHO] escape-3 still RUNNING" wait_state escape-3 RUNNING 20
	expect_rc 0 "[$WHO] stop escape-3" g stop escape-3
	check "[$WHO] escape-3 STOPPED" wait_state escape-3 STOPPED 20
	check "[$WHO] the escaped child is gone after stop without a supervisor" gone "${pid:-0}"
	check "[$WHO] the job's own process is gone too" pgroup_gone "$(cut -d' ' -f1 "$dir/pid")"
fi

# ... and its max_runtime is still enforced (by whichever gantry refreshes it next).
if [ "$WHO" = root ]; then
	expect_rc 0 "[$WHO] launch escape-kill-limited" g launch escape-kill-limited
	pid=$(escaped_pid escape-kill-limited-1) || pid=
	check "[$WHO] its child wrote its pid" test -n "$pid"
	check "[$WHO] escape-kill-limited FAILED after max_runtime" wait_state escape-kill-limited-1 FAILED 30
	check "[$WHO] the reason names max_runtime" bash -c "job_field escape-kill-limited-1 reason | grep -q max_runtime"
	check "[$WHO] the escaped child is gone after max_runtime without a supervisor" gone "${pid:-0}"
fi

# The same as an unprivileged user (no cgroup can be made there: the subreaper path).
if [ "$WHO" = root ] && [ -z "${ESCAPE_INNER:-}" ]; then
	if runuser -u nobody -- test -x "$GANTRY_BIN"; then
		chmod 0711 "$T_HOME"
		mkdir "$T_HOME/nobody"
		chown nobody "$T_HOME/nobody"
		rc=0
		runuser -u nobody -- env ESCAPE_INNER=1 TMPDIR="$T_HOME/nobody" GANTRY_BIN="$GANTRY_BIN" \
			GANTRY_DATADIR="$GANTRY_DATADIR" bash "$0" || rc=$?
		check "the same checks pass as nobody" test "$rc" = 0
	else
		echo "# $GANTRY_BIN is not reachable for nobody: the unprivileged run is skipped"
	fi
fi
t_done
