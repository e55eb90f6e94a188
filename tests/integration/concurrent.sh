#!/usr/bin/env bash
# Two gantry processes on the same state at once: no corruption, both see the same jobs.
. "$(dirname "$0")/../lib/common.sh"

launch_many() {
	for i in 1 2 3 4 5 6; do
		"$GANTRY_BIN" launch hello --detach --set "who=$1-$i" >/dev/null 2>>"$T_HOME/err.$1" || echo "launch $1-$i failed" >>"$T_HOME/err.$1"
	done
}
launch_many a &
pa=$!
launch_many b &
pb=$!
wait "$pa"
wait "$pb"
# what a failed launch said (shown in the log of a failing run)
grep -hv '^launched' "$T_HOME/err.a" "$T_HOME/err.b" | sed 's/^/# stderr: /' || :
check "no launch failed (a)" bash -c "! grep -q failed '$T_HOME/err.a'"
check "no launch failed (b)" bash -c "! grep -q failed '$T_HOME/err.b'"
check "12 jobs, 12 distinct names" bash -c '[ "$("$GANTRY_BIN" ls --no-refresh -o json | python3 -c "import json,sys; l=json.load(sys.stdin); print(len(l), len({j[\"name\"] for j in l}))")" = "12 12" ]'
check "store integrity" bash -c "[ \"\$(sqlite3 '$T_HOME/state/gantry.db' 'PRAGMA integrity_check')\" = ok ]"
all_succeeded() { "$GANTRY_BIN" ls -o json | python3 -c "import json,sys; sys.exit(0 if all(j['state']=='SUCCEEDED' for j in json.load(sys.stdin)) else 1)"; }
export -f all_succeeded
check "every job succeeded" bash -c 'for i in $(seq 100); do all_succeeded && exit 0; sleep 0.3; done; exit 1'
g ls -o json >"$T_HOME/ls1" &
g ls -o json >"$T_HOME/ls2" &
wait
check "both processes see the same jobs and states" bash -c "python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); f=lambda l: sorted((j[\"id\"], j[\"state\"]) for j in l); sys.exit(0 if f(a)==f(b) and len(a)==12 else 1)' '$T_HOME/ls1' '$T_HOME/ls2'"
t_done
