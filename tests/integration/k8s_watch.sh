#!/usr/bin/env bash
# k8s_watch.sh: the kubernetes provider watches, it does not poll. A `gantry watch` engine
# keeps one list + watch per namespace and kind (not a request per job); a watch dropped
# by the server is resumed from the last resourceVersion (no re-list) and a state change
# made while it was down is seen once, neither missed nor duplicated in the job's events;
# a compacted history answers the resume with 410 Gone and the provider lists again, and
# still sees what changed; the requests per second stay bounded with several jobs.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/k8srig.sh"
. "$here/../lib/k8stest.sh"
wpid=
trap '[ -z "$wpid" ] || kill "$wpid" 2>/dev/null; k8srig_stop; t_cleanup' EXIT

k8srig_start "$T_HOME/k8s" --namespace team-vision --bookmark-interval 1
k8s_test_config kube
mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/kwait.yaml" <<'EOT'
name: kwait
kind: training
description: Runs until its go file exists.
image: python:3.11-slim
params:
  go:
    type: string
    default: /nonexistent
resources:
  accelerators: none
run: |
  echo "waiting for {{go}}"
  while [ ! -e '{{go}}' ]; do sleep 0.2; done
  echo "went"
EOT
export -f k8s_ctl k8s_q k8s_api k8s_apiq

"$GANTRY_BIN" watch >"$T_HOME/watch.out" 2>&1 &
wpid=$!
# requests of the fake's log since SEQ matching a Python condition on e
reqs() { k8s_q "/_fake/log?since=$1" "len([e for e in d['data'] if $2])"; }
lastseq() { k8s_q /_fake/log "max([0] + [e['seq'] for e in d['data']])"; }
export -f reqs lastseq
iswatch='e["query"].get("watch") == ["1"]'
islist='e["method"] == "GET" and "watch" not in e["query"] and e["path"].startswith(("/api/v1/namespaces/", "/apis/"))'

for n in 1 2 3; do
	expect_rc 0 "job w$n launches" g launch kwait --provider kube --name "w$n" --detach --set "go=$T_HOME/go$n"
done
for n in 1 2 3; do check "w$n RUNNING" wait_state "w$n" RUNNING 60; done
check "one watch per namespace and kind: 2 namespaces x 4 kinds" wait_for 20 bash -c \
	"[ \"\$(k8s_q /_fake/watches 'len([w for w in d[\"data\"] if \"/_fake\" not in w[\"path\"]])')\" = 8 ]"
check "... none of them for one job (a selector on the installation only)" test \
	"$(k8s_q /_fake/watches 'len([w for w in d["data"] if "gantry.dev%2Fjob" in w["path"] or "gantry.dev/job=" in w["path"]])')" = 0

# requests per second with three jobs running: the watch engine's own (no CLI meanwhile)
s0=$(lastseq)
sleep 5
s1=$(lastseq)
check "at most 8 requests in 5 s with 3 jobs (got $((s1 - s0)))" test $((s1 - s0)) -le 8

# a dropped watch: resumed from the last resourceVersion, w1's change seen once (no
# gantry command meanwhile: every request of this window is the watch engine's)
w1=$(job_field w1 id)
w2=$(job_field w2 id)
s0=$(lastseq)
k8s_ctl POST /_fake/watches/drop '{"mode": "close"}' >/dev/null
touch "$T_HOME/go1"
check "the watch engine sees w1 SUCCEEDED after the drop" wait_for 60 grep -q "job $w1: RUNNING -> SUCCEEDED" "$T_HOME/watch.out"
check "the watches were resumed with a resourceVersion" wait_for 20 bash -c \
	"[ \"\$(reqs $s0 '$iswatch and e[\"query\"].get(\"resourceVersion\", [\"\"])[0] not in (\"\", \"0\")')\" -ge 8 ]"
check "... without a list" test "$(reqs "$s0" "$islist")" = 0
check "w1 SUCCEEDED" wait_state w1 SUCCEEDED 30
check "w1's events: RUNNING -> SUCCEEDED once" test "$(g show w1 | grep -c 'RUNNING *-> SUCCEEDED')" = 1
check "... and STARTING -> RUNNING once" test "$(g show w1 | grep -c 'STARTING *-> RUNNING')" = 1

# a compacted history: the resume gets 410 Gone, the provider lists again
s0=$(lastseq)
# the resumes are held back (a delay fault) while w2 ends and the history is compacted
k8s_ctl POST /_fake/faults '{"ms": 4000, "query": "watch", "count": 8}' >/dev/null
k8s_ctl POST /_fake/watches/drop '{"mode": "end"}' >/dev/null
touch "$T_HOME/go2"
check "w2's Job completes in the cluster" wait_for 30 bash -c \
	"[ \"\$(k8s_apiq /apis/batch/v1/namespaces/default/jobs/gantry-$w2-1 'd[\"status\"].get(\"succeeded\", 0)')\" = 1 ]"
k8s_ctl POST /_fake/compact '{}' >/dev/null
check "the watch engine sees w2 SUCCEEDED after the compaction" wait_for 60 grep -q "job $w2: RUNNING -> SUCCEEDED" "$T_HOME/watch.out"
check "the resume was refused (410 Gone): the provider listed again" wait_for 20 bash -c "[ \"\$(reqs $s0 '$islist')\" -ge 1 ]"
check "w2's events: RUNNING -> SUCCEEDED once" test "$(g show w2 | grep -c 'RUNNING *-> SUCCEEDED')" = 1
check "the watches are back: 8" wait_for 20 bash -c \
	"[ \"\$(k8s_q /_fake/watches 'len(d[\"data\"])')\" = 8 ]"

touch "$T_HOME/go3"
check "w3 SUCCEEDED" wait_state w3 SUCCEEDED 60
check "the watch engine is still running" kill -0 "$wpid"
kill "$wpid"
wait "$wpid" 2>/dev/null
wpid=
check "closing it ended its watches" wait_for 20 bash -c "[ \"\$(k8s_q /_fake/watches 'len(d[\"data\"])')\" = 0 ]"
t_done
