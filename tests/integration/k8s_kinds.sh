#!/usr/bin/env bash
# k8s_kinds.sh: each job kind on the kubernetes provider against the Kubernetes fake
# (tests/fakes/k8s_fake.py), launched from the CLI: it reaches RUNNING, logs, stops; the
# objects the fake received carry Gantry's labels and what the template asked for (GPU
# limits and the GPU type's nodeSelector, activeDeadlineSeconds, backoffLimit, an Indexed
# Job with rank env and its headless Service, an HPA with the template's min/max/target);
# an HPA's desired replicas change shows as ready/desired in `gantry ls -o json`; a team's
# job lands in the team's namespace; `gantry stop` deletes every object of the job.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/k8srig.sh"
. "$here/../lib/k8stest.sh"
trap 'k8srig_stop; t_cleanup' EXIT

k8srig_start "$T_HOME/k8s" --namespace team-vision --bookmark-interval 1
k8s_test_config kube
k8s_test_templates
inst() { sqlite3 "$T_HOME/state/gantry.db" "SELECT value FROM meta WHERE key='installation_id'"; }
# obj KIND-PATH NAME EXPR: a Python expression over the object `o` read through the API
obj() { k8s_apiq "$1/$2" "$3"; }
gone() { [ "$(k8s_api GET "$1/$2" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("code", 200))')" = 404 ]; }
export -f obj gone k8s_api k8s_apiq k8s_ctl k8s_q
NSP=/api/v1/namespaces/default
NSB=/apis/batch/v1/namespaces/default
NSA=/apis/apps/v1/namespaces/default
NSH=/apis/autoscaling/v2/namespaces/default

# ---- notebook: Pod + Service ----
expect_rc 0 "a notebook launches" g launch knote --provider kube --name nb
check "nb RUNNING" wait_state nb RUNNING 60
id=$(job_field nb id)
name=gantry-$id-1
check "its ref names the pod" test "$(g show nb -o json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("provider_ref") or "")')" = "default/pod/$name"
check "the pod is labelled with the job" test "$(obj $NSP/pods "$name" 'd["metadata"]["labels"]["gantry.dev/job"]')" = "$id"
check "... the attempt" test "$(obj $NSP/pods "$name" 'd["metadata"]["labels"]["gantry.dev/attempt"]')" = 1
check "... the installation" test "$(obj $NSP/pods "$name" 'd["metadata"]["labels"]["gantry.dev/installation"]')" = "$(inst)"
check "... managed-by gantry and kind notebook" test "$(obj $NSP/pods "$name" 'd["metadata"]["labels"]["app.kubernetes.io/managed-by"] + "/" + d["metadata"]["labels"]["gantry.dev/kind"]')" = gantry/notebook
check "... its image is the template's" test "$(obj $NSP/pods "$name" 'd["spec"]["containers"][0]["image"]')" = python:3.11-slim
check "... GANTRY_PORT is the container port" test "$(obj $NSP/pods "$name" '[e["value"] for e in d["spec"]["containers"][0]["env"] if e["name"] == "GANTRY_PORT"][0]')" = 8080
check "... and no other variable but the job's own" test "$(obj $NSP/pods "$name" '" ".join(sorted(e["name"] for e in d["spec"]["containers"][0]["env"]))')" = "GANTRY_JOB_ID GANTRY_PORT"
check "... the notebook token comes from the job's Secret (envFrom), not the spec" test "$(obj $NSP/pods "$name" 'd["spec"]["containers"][0]["envFrom"][0]["secretRef"]["name"]')" = "$name"
check "the Secret is labelled with the job" test "$(obj $NSP/secrets "$name" 'd["metadata"]["labels"]["gantry.dev/job"] + " " + d["type"]')" = "$id Opaque"
tok=$(obj $NSP/secrets "$name" '__import__("base64").b64decode(d["data"]["GANTRY_TOKEN"]).decode()')
check "... and holds a token" test "${#tok}" -ge 16
check "the token is nowhere in the pod's spec" bash -c "! k8s_api GET $NSP/pods/$name | grep -qF -- '$tok'"
check "a Service of the same name serves the port" test "$(obj $NSP/services "$name" 'str(d["spec"]["ports"][0]["port"]) + " " + d["spec"]["selector"]["gantry.dev/job"]')" = "8080 $id"
check "the notebook's log" wait_for 20 bash -c "g logs nb | grep -q 'note-start job=$id port=[0-9]'"
check "... where the process saw the Secret's token" bash -c "g logs nb | grep -q 'tok=$(printf %s "$tok" | sha256sum | cut -c1-16)'"
expect_rc 0 "stop nb" g stop nb
check "nb STOPPED" wait_state nb STOPPED 30
check "its pod is deleted" wait_for 30 gone $NSP/pods "$name"
check "its Service is deleted" wait_for 30 gone $NSP/services "$name"
check "its Secret is deleted" wait_for 30 gone $NSP/secrets "$name"

# ---- training on one H100: a batch/v1 Job ----
expect_rc 0 "a training job launches" g launch ktrain --provider kube --name tr --set secs=60
check "tr RUNNING" wait_state tr RUNNING 60
id=$(job_field tr id)
name=gantry-$id-1
check "a Job, labelled" test "$(obj $NSB/jobs "$name" 'd["metadata"]["labels"]["gantry.dev/job"] + " " + d["spec"]["template"]["metadata"]["labels"]["gantry.dev/job"]')" = "$id $id"
check "... backoffLimit 0 (the config's)" test "$(obj $NSB/jobs "$name" 'd["spec"]["backoffLimit"]')" = 0
check "... activeDeadlineSeconds from limits.max_runtime (10m)" test "$(obj $NSB/jobs "$name" 'd["spec"]["activeDeadlineSeconds"]')" = 600
check "... one nvidia.com/gpu in the limits" test "$(obj $NSB/jobs "$name" 'd["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"]')" = 1
check "... the H100 nodes' label in the nodeSelector" test "$(obj $NSB/jobs "$name" 'd["spec"]["template"]["spec"]["nodeSelector"]["nvidia.com/gpu.product"]')" = NVIDIA-H100-80GB-HBM3
check "its pod runs on the H100 node" test "$(k8s_q /_fake/pods '[p["node"] for p in d["data"] if p["name"].startswith("'"$name"'")][0]')" = node-h100
check "the training log" wait_for 20 bash -c "g logs tr | grep -q 'train-start job=$id gpus=1'"
expect_rc 0 "stop tr" g stop tr
check "tr STOPPED" wait_state tr STOPPED 30
check "its Job is deleted" wait_for 30 gone $NSB/jobs "$name"
check "... and its pods with it (propagation Background)" wait_for 30 bash -c "[ \"\$(k8s_q /_fake/pods 'len([p for p in d[\"data\"] if p[\"name\"].startswith(\"$name\")])')\" = 0 ]"
check "the DELETE asked for Background propagation" test "$(k8s_q /_fake/log '[(e.get("body") or {}).get("propagationPolicy") for e in d["data"] if e["method"] == "DELETE" and e["path"].endswith("/jobs/'"$name"'")][0]')" = Background

# ---- multi-node training: an Indexed Job with rank env + a headless Service ----
expect_rc 0 "a two-node training job launches" g launch kmulti --provider kube --name mn --set secs=2
id=$(job_field mn id)
name=gantry-$id-1
check "mn SUCCEEDED" wait_state mn SUCCEEDED 60
check "an Indexed Job of 2 completions" test "$(obj $NSB/jobs "$name" 'd["spec"]["completionMode"] + " " + str(d["spec"]["completions"]) + " " + str(d["spec"]["parallelism"])')" = "Indexed 2 2"
check "a headless Service for the workers" test "$(obj $NSP/services "$name" 'd["spec"]["clusterIP"]')" = None
check "rank 0's log says its rank and the world" bash -c "g logs mn | grep -q 'rank=0 world=2 master=$name-0.$name'"

# ---- endpoint: Deployment + Service + HPA ----
expect_rc 0 "an endpoint launches" g launch kserve --provider kube --name ep
check "ep RUNNING" wait_state ep RUNNING 60
id=$(job_field ep id)
name=gantry-$id-1
check "a Deployment, labelled" test "$(obj $NSA/deployments "$name" 'd["metadata"]["labels"]["gantry.dev/kind"] + " " + d["spec"]["template"]["metadata"]["labels"]["gantry.dev/job"]')" = "endpoint $id"
check "an HPA with the template's min and max" test "$(obj $NSH/horizontalpodautoscalers "$name" 'str(d["spec"]["minReplicas"]) + " " + str(d["spec"]["maxReplicas"]) + " " + d["spec"]["scaleTargetRef"]["name"]')" = "1 4 $name"
check "... and its per-pod QPS target" test "$(obj $NSH/horizontalpodautoscalers "$name" '[m["pods"]["metric"]["name"] + " " + str(m["pods"]["target"]["averageValue"]) for m in d["spec"]["metrics"]][0]')" = "http_requests_per_second 25"
check "a Service for the port" test "$(obj $NSP/services "$name" 'd["spec"]["ports"][0]["port"]')" = 8080
replicas() { g ls -o json | python3 -c 'import json,sys; j=[j for j in json.load(sys.stdin) if j["name"] == "ep"][0]; r=j.get("replicas") or {}; print("%s/%s" % (r.get("ready"), r.get("desired")))'; }
export -f replicas
check "ls -o json: 1/1 replicas" wait_for 30 bash -c '[ "$(replicas)" = 1/1 ]'
k8s_ctl POST "/_fake/hpa/default/$name" '{"desired": 3}' >/dev/null
check "the HPA scales it to 3: 3/3 ready" wait_for 60 bash -c 'g ls >/dev/null; [ "$(replicas)" = 3/3 ]'
check "gantry show says 3 ready of 3" bash -c "g show ep | grep -q 'replicas:  3 ready of 3 desired'"
check "the endpoint's log" wait_for 20 bash -c "g logs ep | grep -q 'serve-start job=$id'"
expect_rc 0 "stop ep" g stop ep
check "ep STOPPED" wait_state ep STOPPED 30
for k in "$NSA/deployments" "$NSP/services" "$NSH/horizontalpodautoscalers"; do
	check "${k##*/} of ep deleted" wait_for 30 gone "$k" "$name"
done

# ---- a team's job goes to the team's namespace ----
echo "team: vision" >>"$GANTRY_HOME/config/config.yaml"
expect_rc 0 "a notebook of team vision" g launch knote --provider kube --name tv
check "tv RUNNING" wait_state tv RUNNING 60
id=$(job_field tv id)
check "its pod is in team-vision, labelled with the team" test "$(k8s_apiq /api/v1/namespaces/team-vision/pods/gantry-$id-1 'd["metadata"]["labels"]["gantry.dev/team"]')" = vision
expect_rc 0 "stop tv" g stop tv
check "tv STOPPED" wait_state tv STOPPED 30

# nothing of this installation is left but the finished two-node Job's pods (a record)
mn=gantry-$(job_field mn id)-1
check "no other Gantry pod is left" wait_for 60 bash -c "[ \"\$(k8s_q /_fake/pods 'len([p for p in d[\"data\"] if not p[\"name\"].startswith(\"$mn\")])')\" = 0 ]"
t_done
