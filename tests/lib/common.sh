# tests/lib/common.sh: helpers for the integration scripts (sourced, bash).
# Each test gets its own GANTRY_HOME and kills what it started by pid at exit.
set -euo pipefail

GANTRY_BIN=${GANTRY_BIN:?GANTRY_BIN must name the gantry binary (make check sets it)}
export GANTRY_DATADIR=${GANTRY_DATADIR:-$(cd "$(dirname "$GANTRY_BIN")" && pwd)}
T_HOME=$(mktemp -d "${TMPDIR:-/tmp}/gantry-test.XXXXXX")
export GANTRY_HOME=$T_HOME
export GANTRY_SYSTEM_DIR=$T_HOME/system
export NO_COLOR=1
T_FAILS=0
T_CHECKS=0

t_cleanup() {
	# stop every job process this test's Gantry started (process groups from pid files)
	local f pid
	for f in "$T_HOME"/state/jobs/*/pid "$T_HOME"/state/jobs/*/supervisor.pid; do
		[ -f "$f" ] || continue
		pid=$(cut -d' ' -f1 "$f")
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || :
	done
	rm -rf "$T_HOME"
}
trap t_cleanup EXIT

g() { "$GANTRY_BIN" "$@"; }

ok() { T_CHECKS=$((T_CHECKS + 1)); echo "ok - $*"; }
fail() {
	T_CHECKS=$((T_CHECKS + 1))
	T_FAILS=$((T_FAILS + 1))
	echo "FAIL - $*"
}

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}

# expect_rc WANT DESCRIPTION COMMAND...: passes when the command exits with WANT.
expect_rc() {
	local want=$1 d=$2 rc=0
	shift 2
	"$@" >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
	if [ "$rc" = "$want" ]; then ok "$d (exit $rc)"; else
		fail "$d: exit $rc, wanted $want; stderr: $(head -c 400 "$T_HOME/err")"
	fi
}

# Field of a job from `gantry show -o json`.
job_field() { g show "$1" -o json | python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$2"; }

# wait_state JOB STATE [SECONDS]: polls until the job reaches STATE.
wait_state() {
	local job=$1 want=$2 secs=${3:-30} s
	for ((i = 0; i < secs * 5; i++)); do
		s=$(job_field "$job" state)
		[ "$s" = "$want" ] && return 0
		sleep 0.2
	done
	echo "  $job is $s, wanted $want" >&2
	return 1
}

# pgroup_gone PGID: no process left in the group.
pgroup_gone() { ! kill -0 -- "-$1" 2>/dev/null; }

# wait_for SECONDS COMMAND...: polls COMMAND (every 0.1 s) until it succeeds, for at most
# SECONDS (whole seconds); returns 1 if it never did. The readiness wait of the suite: wait
# for the condition, never a fixed sleep. Exported, so `bash -c` snippets can use it too.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

export -f g job_field wait_state pgroup_gone wait_for

t_done() {
	echo "# $T_CHECKS checks, $T_FAILS failed"
	[ "$T_FAILS" -eq 0 ]
}
