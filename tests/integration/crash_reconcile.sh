#!/usr/bin/env bash
# kill -9 in the middle of a launch, restart, reconcile: no orphan process, no duplicate.
. "$(dirname "$0")/../lib/common.sh"

list_procs() { # processes whose environment names job id $1: "pid args" lines
	local p
	for p in /proc/[0-9]*; do
		if { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qx "GANTRY_JOB_ID=$1"; then
			echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)"
		fi
	done
}
count_procs() { list_procs "$1" | wc -l; }
export -f list_procs
export -f count_procs

# 1. killed after the intent was committed, before the provider was called
rc=0
GANTRY_TEST_CRASH=after_intent "$GANTRY_BIN" launch http-endpoint --name crash-a >/dev/null 2>&1 || rc=$?
check "gantry was killed (exit $rc)" test "$rc" -eq 137
check "the interrupted launch left no job directory" test ! -e "$T_HOME/state/jobs/$(sqlite3 "$T_HOME/state/gantry.db" "SELECT id FROM jobs WHERE name='crash-a'")"
# the next gantry to start settles it: FAILED with the reason, nothing launched
check "on restart crash-a is FAILED with a reason" bash -c '[ "$(job_field crash-a state)" = FAILED ] && job_field crash-a reason | grep -q interrupted'
id=$(job_field crash-a id)
check "no process was started for crash-a" bash -c "[ \$(count_procs $id) -eq 0 ]"
expect_rc 0 "reconcile" g reconcile
check "nothing was left for reconcile to settle" grep -q "adopted 0 .*failed 0" "$T_HOME/out"

# 2. killed after the provider started the job, before Gantry recorded it
rc=0
GANTRY_TEST_CRASH=after_provider "$GANTRY_BIN" launch http-endpoint --name crash-b >/dev/null 2>&1 || rc=$?
check "gantry was killed again (exit $rc)" test "$rc" -eq 137
id=$(sqlite3 "$T_HOME/state/gantry.db" "SELECT id FROM jobs WHERE name='crash-b'")
check "the store had not recorded the provider's ref" bash -c "[ -z \"\$(sqlite3 '$T_HOME/state/gantry.db' \"SELECT provider_ref FROM jobs WHERE id='$id'\")\" ]"
check "the job directory exists (the provider did start it)" test -d "$T_HOME/state/jobs/$id"
expect_rc 0 "reconcile after the second crash" g reconcile
check "reconcile adopted the running job" grep -q "adopted 1" "$T_HOME/out"
check "crash-b RUNNING after adoption" wait_state crash-b RUNNING 30
# Processes come and go inside a job (a shell's here-document writer, say), so "no
# duplicate" is checked on what a duplicate launch would add: a second supervisor, or a
# second process group.
supervisors() { pgrep -fc -- "__supervise $GANTRY_HOME/state/jobs/$1\$" || :; }
export -f supervisors
check "exactly one supervisor for crash-b" bash -c "[ \$(supervisors $id) -eq 1 ]"
pg1=$(cat "$T_HOME/state/jobs/$id/pid")
check "its process group is alive" bash -c "kill -0 -- -${pg1%% *}"
expect_rc 0 "a second reconcile changes nothing" g reconcile
check "second reconcile adopted nothing" grep -q "adopted 0" "$T_HOME/out"
check "still exactly one supervisor" bash -c "[ \$(supervisors $id) -eq 1 ]"
check "the same process group as before" bash -c "[ \"\$(cat '$T_HOME/state/jobs/$id/pid')\" = '$pg1' ] && kill -0 -- -${pg1%% *}"
check "only two jobs in the store" bash -c '[ "$("$GANTRY_BIN" ls -o json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")" = 2 ]'

# 3. a job that died while Gantry was down gets its real outcome
pgid=$(cut -d' ' -f1 "$T_HOME/state/jobs/$id/pid")
kill -KILL -- "-$pgid"
check "the job's process group is gone" wait_for 20 pgroup_gone "$pgid"
expect_rc 0 "reconcile after the job was killed behind Gantry's back" g reconcile
# (its supervisor records the exit a moment after the kill: poll rather than race it)
check "crash-b FAILED" wait_state crash-b FAILED 20
check "with its real outcome (killed by signal 9)" bash -c 'job_field crash-b reason | grep -q "signal 9"'

# 4. resources with no job in the store: an unlabelled one (an older Gantry's, or another
# store's) is never touched; an orphan labelled with this store's installation id is
# reported and kept, and destroyed only with --terminate-orphans
inst=$(sqlite3 "$T_HOME/state/gantry.db" "SELECT value FROM meta WHERE key='installation_id'")
orphan_job() { # DIR_NAME LABEL: a job directory whose process is a fresh `sleep`; prints its pid
	mkdir -p "$T_HOME/state/jobs/$1/work"
	printf 'job_id=%s\nowner=someone\n%s' "$1" "$2" >"$T_HOME/state/jobs/$1/meta"
	# as a job's leader, it has the job's id in its environment (Gantry checks that)
	GANTRY_JOB_ID=$1 setsid sleep 1000 </dev/null >/dev/null 2>&1 &
	echo "$! $(cut -d' ' -f22 /proc/$!/stat)" >"$T_HOME/state/jobs/$1/pid"
}
orphan_job jdeadbeef ''
unlabelled=$(cut -d' ' -f1 "$T_HOME/state/jobs/jdeadbeef/pid")
orphan_job j0123456789abcdef "installation_id=$inst
"
orphan=$(cut -d' ' -f1 "$T_HOME/state/jobs/j0123456789abcdef/pid")
expect_rc 0 "reconcile with an orphan" g reconcile
check "reconcile removed no orphan by default" grep -q "removed 0 orphans" "$T_HOME/out"
check "it reports ours" grep -q "orphan kept: local $T_HOME/state/jobs/j0123456789abcdef" "$T_HOME/out"
check "and only ours" bash -c "[ \$(grep -c 'orphan kept' '$T_HOME/out') = 1 ]"
check "the orphan process still runs" kill -0 "$orphan"
expect_rc 0 "reconcile --terminate-orphans" g reconcile --terminate-orphans
check "reconcile removed one orphan" grep -q "removed 1 orphan$" "$T_HOME/out"
orphan_gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status"; }
export -f orphan_gone
check "the orphan process is gone" bash -c "for i in \$(seq 50); do orphan_gone $orphan && exit 0; sleep 0.1; done; exit 1"
check "the unlabelled process still runs" kill -0 "$unlabelled"
check "and its directory is still there" test -d "$T_HOME/state/jobs/jdeadbeef"
kill -KILL "$unlabelled"
t_done
