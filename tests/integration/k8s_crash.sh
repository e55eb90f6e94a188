#!/usr/bin/env bash
# k8s_crash.sh: kill -9 Gantry at every step of a launch on kubernetes (GANTRY_TEST_CRASH
# at the engine's points and before/after each object the provider creates: an endpoint's
# Deployment, Service and HPA, a notebook's Pod and Service), then reconcile: each job
# settles (RUNNING on its objects, or FAILED with none left), no object is created twice
# (the fake's request log: at most one accepted POST per object), and no object is left
# that belongs to no live job.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/k8srig.sh"
. "$here/../lib/k8stest.sh"
trap 'k8srig_stop; t_cleanup' EXIT

k8srig_start "$T_HOME/k8s" --namespace team-vision --bookmark-interval 1
k8s_test_config kube
k8s_test_templates
echo "settle_grace_ms: 3000" >>"$GANTRY_HOME/config/config.yaml"
export -f k8s_ctl k8s_q k8s_api k8s_apiq

# live job ids of the store
job_ids_in() {
	g ls -o json | python3 -c 'import json,sys; want=set(sys.argv[1:]); print(" ".join(j["id"] for j in json.load(sys.stdin) if j["state"] in want))' "$@"
}
# objects (KIND/NAME JOB) of Gantry in the default namespace
objects() {
	local p
	for p in /api/v1/namespaces/default/pods /api/v1/namespaces/default/services \
		/api/v1/namespaces/default/secrets \
		/apis/apps/v1/namespaces/default/deployments \
		/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers \
		/apis/batch/v1/namespaces/default/jobs; do
		k8s_apiq "$p?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dgantry" \
			'"\n".join("%s/%s %s" % (d["kind"], i["metadata"]["name"], i["metadata"]["labels"].get("gantry.dev/job")) for i in d["items"] if not i["metadata"].get("deletionTimestamp"))'
	done | sed '/^$/d'
}
# objects whose job is not live in the store
orphans() {
	local live
	live=" $(job_ids_in PENDING PROVISIONING STARTING RUNNING STOPPING UNKNOWN) "
	objects | while read -r o j; do
		case $live in *" $j "*) ;; *) echo "$o" ;; esac
	done
}
# accepted creates (201) of one object name, over the whole log
creates() { k8s_q /_fake/log "max([0] + list(__import__('collections').Counter(e['path'] + '/' + ((e.get('body') or {}).get('metadata') or {}).get('name', '') for e in d['data'] if e['method'] == 'POST' and e['status'] == 201).values()))"; }
settled() { local s; s=$(job_field "$1" state); [ "$s" = RUNNING ] || [ "$s" = FAILED ]; }
export -f job_ids_in objects orphans creates settled

n=0
crash() { # TEMPLATE POINT
	n=$((n + 1))
	local rc=0
	GANTRY_TEST_CRASH=$2 "$GANTRY_BIN" launch "$1" --provider kube --name "c$n" \
		>"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
	check "[$1 $2] gantry was killed there (exit $rc)" test "$rc" -eq 137
	expect_rc 0 "[$1 $2] reconcile after the crash" g reconcile
	check "[$1 $2] c$n settles (RUNNING or FAILED)" wait_for 90 bash -c "g reconcile >/dev/null 2>&1; settled c$n"
	check "[$1 $2] no object created twice" test "$(creates)" -le 1
	check "[$1 $2] no orphaned object" wait_for 60 bash -c 'g reconcile >/dev/null 2>&1; [ -z "$(orphans)" ]'
}
for point in after_intent k8s-before-deployments k8s-after-deployments k8s-before-services \
	k8s-after-services k8s-before-horizontalpodautoscalers \
	k8s-after-horizontalpodautoscalers after_provider; do
	crash kserve "$point"
done
for point in k8s-before-pods k8s-after-pods k8s-before-secrets k8s-after-secrets \
	k8s-after-services; do
	crash knote "$point"
done
# killed between the pod and its Secret (c10, c11): the token died with that process, so
# the pod would wait for its Secret forever holding its node: FAILED with why, not STARTING
for c in c10 c11; do
	check "[$c] a notebook whose Secret never came is FAILED" test "$(job_field $c state)" = FAILED
	check "[$c] ... and says why" bash -c "g show $c | grep -q 'Secret was never created'"
done

# stop what runs: nothing of Gantry's is left
for id in $(job_ids_in RUNNING STARTING UNKNOWN); do g stop "$id" >/dev/null 2>&1 || :; done
check "every object is deleted in the end" wait_for 90 bash -c '[ -z "$(objects)" ]'

t_done
