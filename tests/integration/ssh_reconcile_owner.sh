#!/usr/bin/env bash
# ssh_reconcile_owner.sh: two Gantry stores (two users or bastions) share one remote login
# on a real sshd worker. `gantry reconcile` in one never touches the other's jobs (every
# remote job is labelled with the installation id of the store that launched it), nor an
# unlabelled job of an older Gantry; an orphan of its own installation (its job row lost)
# is reported and kept, and destroyed only with --terminate-orphans.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
B_HOME=$(mktemp -d "${TMPDIR:-/tmp}/gantry-test-b.XXXXXX")
old_pid=
trap 'if [ -n "$old_pid" ]; then kill -KILL -- "-$old_pid" 2>/dev/null || :; fi; rig_cleanup; rm -rf "$B_HOME"; t_cleanup' EXIT

rig_workers 1 2
mkdir -p "$T_HOME/config/templates"
cat >"$T_HOME/config/templates/train.yaml" <<'EOF'
name: train
kind: training
description: A long training run.
resources:
  accelerators: none
placement:
  providers: [fleet]
run: |
  echo "training $GANTRY_JOB_ID"
  sleep 1000
EOF
# store B: the same worker, the same remote login (root) and the same remote dir
cp -r "$T_HOME/config" "$B_HOME/config"
gb() { GANTRY_HOME=$B_HOME GANTRY_SYSTEM_DIR=$B_HOME/system "$GANTRY_BIN" "$@"; }
export B_HOME
export -f gb
JOBS=$RIG_DIR/remote1/jobs

# the remote job of $2 (a job id): its process group is alive on the worker, seen by ps
remote_alive() {
	local pg
	[ -s "$JOBS/$1/pid" ] || return 1
	pg=$(cut -d' ' -f1 "$JOBS/$1/pid")
	ps -e -o pgid= | tr -d ' ' | grep -qx "$pg"
}
remote_gone() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ ! -e "$JOBS/$1" ] && ! ps -e -o pgid= | tr -d ' ' | grep -qx "$2" && return 0
		sleep 0.1
	done
	return 1
}
export JOBS
export -f remote_alive

expect_rc 0 "store A launches a1" g launch train --name a1
expect_rc 0 "store B launches b1 on the same login" gb launch train --name b1
check "a1 RUNNING" wait_state a1 RUNNING 30
check "b1 RUNNING (in store B)" bash -c 'GANTRY_HOME=$B_HOME GANTRY_SYSTEM_DIR=$B_HOME/system wait_state b1 RUNNING 30'
a1=$(job_field a1 id)
b1=$(GANTRY_HOME=$B_HOME GANTRY_SYSTEM_DIR=$B_HOME/system job_field b1 id)
ia=$(sqlite3 "$T_HOME/state/gantry.db" "SELECT value FROM meta WHERE key='installation_id'")
ib=$(sqlite3 "$B_HOME/state/gantry.db" "SELECT value FROM meta WHERE key='installation_id'")
echo "# a1=$a1 b1=$b1 installations A=$ia B=$ib"
check "each store has its own installation id" bash -c "[[ '$ia' =~ ^[0-9a-f]{32}$ && '$ib' =~ ^[0-9a-f]{32}$ && '$ia' != '$ib' ]]"
check "a1 is labelled on the worker with A's installation and its owner" \
	bash -c "grep -qx 'installation_id=$ia' '$JOBS/$a1/meta' && grep -qx 'owner=$(id -un)' '$JOBS/$a1/meta'"
check "b1 is labelled with B's installation" grep -qx "installation_id=$ib" "$JOBS/$b1/meta"
check "b1 runs on the worker" remote_alive "$b1"

# reconcile in A: B's job is not A's to destroy, with or without --terminate-orphans
expect_rc 0 "reconcile in store A" g reconcile
check "it found no orphan of its own" grep -q "removed 0 orphans" "$T_HOME/out"
check "and kept none (B's job is not an orphan of A)" bash -c "! grep -q 'orphan kept' '$T_HOME/out'"
check "b1 still runs on the worker after A's reconcile" remote_alive "$b1"
expect_rc 0 "reconcile --terminate-orphans in store A" g reconcile --terminate-orphans
check "it removed nothing" grep -q "removed 0 orphans" "$T_HOME/out"
check "b1 still runs on the worker" remote_alive "$b1"
check "a1 still runs on the worker" remote_alive "$a1"
check "store B still sees b1 RUNNING" bash -c 'gb ls | grep -E "^b1 .* RUNNING "'
check "store A still sees a1 RUNNING" bash -c 'g ls | grep -E "^a1 .* RUNNING "'
expect_rc 0 "reconcile in store B" gb reconcile --terminate-orphans
check "a1 still runs after B's reconcile" remote_alive "$a1"

# a job of an older Gantry (no installation label) on the same login: never ours
old=j0badc0de
mkdir -p "$JOBS/$old/work"
printf 'job_id=%s\nidem_key=gantry-%s\nname=old\nowner=someone\nkind=training\n' "$old" "$old" >"$JOBS/$old/meta"
setsid sleep 1000 </dev/null >/dev/null 2>&1 &
old_pid=$!
echo "$old_pid $(cat /proc/sys/kernel/random/boot_id)" >"$JOBS/$old/pid"
expect_rc 0 "reconcile --terminate-orphans with an unlabelled job on the worker" g reconcile --terminate-orphans
check "the unlabelled job was left alone" remote_alive "$old"

# an orphan of A's own installation: its job row is lost from A's store
expect_rc 0 "store A launches a2" g launch train --name a2
check "a2 RUNNING" wait_state a2 RUNNING 30
a2=$(job_field a2 id)
pg2=$(cut -d' ' -f1 "$JOBS/$a2/pid")
sqlite3 "$T_HOME/state/gantry.db" "PRAGMA foreign_keys=ON; DELETE FROM jobs WHERE id='$a2'"
expect_rc 0 "reconcile with an orphan of our own" g reconcile
check "the orphan is reported" grep -q "orphan kept: fleet $a2@gpu1" "$T_HOME/out"
check "with a hint about --terminate-orphans" grep -q -- "--terminate-orphans" "$T_HOME/out"
check "and kept: it still runs" remote_alive "$a2"
expect_rc 0 "reconcile -o json lists it" g reconcile -o json
check "json: orphans_kept names it, nothing removed" python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r['orphans'] == 0 and r['orphans_kept'] == ['fleet $a2@gpu1'] and r['installation_id'] == '$ia' else 1)" "$T_HOME/out"
check "any gantry start (ls) keeps it too" bash -c 'g ls >/dev/null && remote_alive '"$a2"
expect_rc 0 "reconcile --terminate-orphans" g reconcile --terminate-orphans
check "it removed one orphan" grep -q "removed 1 orphan$" "$T_HOME/out"
check "the orphan's processes and directory are gone" remote_gone "$a2" "$pg2"
check "b1 still runs" remote_alive "$b1"
check "a1 still runs" remote_alive "$a1"
check "the unlabelled job still runs" remote_alive "$old"
t_done
