#!/usr/bin/env bash
# k8s_fake_selftest.sh: the Kubernetes API fake (tests/fakes/k8s_fake.py) checked with curl,
# openssl certificates and a tiny Python WebSocket client (tests/fakes/k8s_wsclient.py), no
# Gantry binary involved: this tests the fake the kubernetes provider's tests rely on. It
# must refuse what a real API server refuses (no or a wrong token -> 401, a bad body -> 422
# with causes, an ill-typed field -> 400, a bad selector -> 400, an unknown parameter,
# group/version or namespace, a stale resourceVersion -> 410 in the watch, a bad WebSocket
# subprotocol or an unmasked frame) and serve what it must (list, watch events in order,
# bookmarks, log follow and previous, exec and port-forward round trips, the scheduler and
# the controllers, faults, DCGM text, a request log without secrets).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/k8srig.sh"

WBG=()
cleanup() {
	local p
	for p in "${WBG[@]}"; do kill "$p" 2>/dev/null || :; done
	k8srig_stop
	t_cleanup
}
trap cleanup EXIT

for tool in curl python3 openssl; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL - $tool is missing"
		exit 1
	fi
done

k8srig_start "$T_HOME/k8s" --bookmark-interval 0.5 --restart-backoff 0.3 --namespace team-a
WS=$here/../fakes/k8s_wsclient.py
B=$T_HOME/body
H=$T_HOME/headers
TOK=$(cat "$K8S_TOKEN_FILE")
NS=/api/v1/namespaces/default

# req METHOD PATH [JSON [CTYPE]]: the API with the token; prints the HTTP status
req() {
	local m=$1 p=$2 j=${3:-} ct=${4:-application/json}
	curl -sS -o "$B" -D "$H" -w '%{http_code}' --cacert "$K8S_CA" -X "$m" \
		-H "Authorization: Bearer $TOK" ${j:+-H "Content-Type: $ct" --data-binary "$j"} "$K8S_URL$p"
}
# jb EXPR: a Python expression over the last body (d)
jb() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(json.dumps(v) if isinstance(v,(dict,list,bool)) or v is None else v)' "$B" "$1"; }
# want_status CODE REASON DESCRIPTION GOT: a meta/v1 Status with that code and reason
want_status() {
	local code=$1 reason=$2 d=$3 got=$4 r
	r=$(jb '[d["kind"], d["status"], d["reason"], d["code"]]' 2>/dev/null) || r="(no Status: $(head -c 200 "$B"))"
	if [ "$got" = "$code" ] && [ "$r" = "[\"Status\", \"Failure\", \"$reason\", $code]" ]; then
		ok "$d ($code $reason)"
	else
		fail "$d: got $got $r"
	fi
}
podq() { req GET "$NS/pods/$1" >/dev/null && jb "$2"; }
pod_is() { [ "$(podq "$1" "$2")" = "$3" ]; }
gone() { [ "$(req GET "$1")" = 404 ]; }

# --- auth --------------------------------------------------------------------------------------
st=$(curl -sS -o "$B" -w '%{http_code}' --cacert "$K8S_CA" "$K8S_URL$NS/pods")
want_status 401 Unauthorized "no credentials are refused" "$st"
st=$(curl -sS -o "$B" -w '%{http_code}' --cacert "$K8S_CA" -H "Authorization: Bearer x$TOK" "$K8S_URL$NS/pods")
want_status 401 Unauthorized "a wrong bearer token is refused" "$st"
st=$(curl -sS -o "$B" -w '%{http_code}' --cacert "$K8S_CA" -H "Authorization: Bearer $K8S_CTL_TOKEN" "$K8S_URL$NS/pods")
want_status 401 Unauthorized "the control token is no API token" "$st"
st=$(curl -sS -o "$B" -w '%{http_code}' --cacert "$K8S_CA" -H "Authorization: Bearer $TOK" "$K8S_URL/_fake/state")
check "an API token does not open the control API" test "$st" = 401
st=$(curl -sS -o "$B" -w '%{http_code}' --cacert "$K8S_CA" --cert "$K8S_CLIENT_CERT" --key "$K8S_CLIENT_KEY" "$K8S_URL$NS/pods")
check "a client certificate signed by the CA authenticates" test "$st" = 200
openssl ecparam -name prime256v1 -genkey -noout -out "$T_HOME/rogue.key" 2>/dev/null
openssl req -x509 -new -key "$T_HOME/rogue.key" -subj /CN=rogue -days 1 -out "$T_HOME/rogue.crt" 2>/dev/null
st=$(curl -sS -o "$B" -w '%{http_code}' --cacert "$K8S_CA" --cert "$T_HOME/rogue.crt" --key "$T_HOME/rogue.key" "$K8S_URL$NS/pods" 2>/dev/null) || st=tls-refused
check "a client certificate from another CA is refused ($st)" test "$st" != 200
st=$(curl -sS -o /dev/null -w '%{http_code}' "$K8S_URL/version" 2>/dev/null) || st=unverified
check "the server certificate does not verify without the rig's CA" test "$st" = unverified
st=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:${K8S_URL##*:}/version" 2>/dev/null) || st=no-http
check "plain HTTP is not served" test "$st" != 200
ETOK=$("$K8S_DIR/exec-plugin" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["kind"] == "ExecCredential"; print(d["status"]["token"])')
st=$(curl -sS -o "$B" -w '%{http_code}' --cacert "$K8S_CA" -H "Authorization: Bearer $ETOK" "$K8S_URL$NS/pods")
check "the exec plugin's ExecCredential token authenticates" test "$st" = 200
(umask 077 && printf 'rotated-%s\n' "$ETOK" >"$K8S_DIR/exec-token" && cp "$K8S_DIR/exec-token" "$K8S_DIR/exec-tokens")
st=$(curl -sS -o "$B" -w '%{http_code}' --cacert "$K8S_CA" -H "Authorization: Bearer $ETOK" "$K8S_URL$NS/pods")
want_status 401 Unauthorized "after a rotation the old exec token is refused" "$st"
for f in kubeconfig kubeconfig-cert kubeconfig-exec; do
	check "$f names context fake, namespace default and the server" \
		grep -q "server: $K8S_URL" "$K8S_DIR/$f"
done
check "kubeconfig files are private (0600)" test "$(stat -c %a "$K8S_DIR/kubeconfig")" = 600

# --- API groups, versions, paths, parameters ------------------------------------------------
st=$(req GET /apis/batch/v2/namespaces/default/jobs)
want_status 404 NotFound "an unknown API version (batch/v2) is refused" "$st"
st=$(req GET /apis/example.com/v1/widgets)
want_status 404 NotFound "an unknown API group is refused" "$st"
st=$(req GET /api/v1/namespaces/default/widgets)
want_status 404 NotFound "an unknown resource is refused" "$st"
st=$(req GET /apis/apps/v1/namespaces/default/jobs)
want_status 404 NotFound "jobs are not in apps/v1" "$st"
st=$(req GET /api)
check "GET /api lists v1" test "$st $(jb 'd["versions"]')" = '200 ["v1"]'
st=$(req GET /apis)
check "GET /apis lists apps, autoscaling (v2) and batch" test "$(jb 'sorted(g["name"] for g in d["groups"])')" = '["apps", "autoscaling", "batch"]'
st=$(req GET "$NS/pods?bogus=1")
want_status 400 BadRequest "an unknown query parameter on a list is refused" "$st"
st=$(req GET "$NS/pods?labelSelector=app%20in%20(a,b")
want_status 400 BadRequest "a malformed label selector is refused" "$st"
st=$(req GET "$NS/pods?labelSelector=a%3D%3D%3Db")
want_status 400 BadRequest "a selector with === is refused" "$st"
st=$(req GET "$NS/pods?fieldSelector=spec.nope%3Dx")
want_status 400 BadRequest "an unsupported field selector is refused" "$st"
st=$(req GET "/api/v1/namespaces/nowhere/pods/x")
want_status 404 NotFound "a pod in an unknown namespace is not found" "$st"
st=$(req POST "/api/v1/namespaces/nowhere/pods" '{"metadata":{"name":"x"},"spec":{"containers":[{"name":"a","image":"i"}]}}')
want_status 404 NotFound "creating in an unknown namespace is refused" "$st"
check "  ... naming the namespace" test "$(jb 'd["message"]')" = 'namespaces "nowhere" not found'

# --- create: validation ------------------------------------------------------------------------
POD='{"apiVersion":"v1","kind":"Pod","metadata":{"name":"NAME","labels":{"app":"t"}},"spec":{"restartPolicy":"Never","containers":[{"name":"main","image":"img","command":["sh","-c","CMD"]}]}}'
mkpod() { local b=${POD/NAME/"$1"}; b=${b/CMD/"$2"}; printf '%s' "$b"; }
st=$(req POST "$NS/pods" "$(mkpod p1 'echo hi')" text/plain)
want_status 415 UnsupportedMediaType "a body with Content-Type text/plain is refused" "$st"
st=$(req POST "$NS/pods" '{"metadata":{"name":"Bad_Name"},"spec":{"containers":[{"name":"main"}]}}')
want_status 422 Invalid "a bad name and a container without image are refused" "$st"
check "  ... with one cause per field" test "$(jb '[(c["reason"], c["field"]) for c in d["details"]["causes"]]')" = '[["FieldValueInvalid", "metadata.name"], ["FieldValueRequired", "spec.containers[0].image"]]'
st=$(req POST "$NS/pods" '{"metadata":{"name":"p"},"spec":{"containers":[]}}')
want_status 422 Invalid "a pod without containers is refused" "$st"
st=$(req POST "$NS/pods" '{"metadata":{"name":"p","labels":{"bad key":"v"}},"spec":{"containers":[{"name":"a","image":"i"}]}}')
want_status 422 Invalid "a label key with a space is refused" "$st"
st=$(req POST "$NS/pods" '{"metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"i","resources":{"limits":{"nvidia.com/gpu":"x1"}}}]}}')
want_status 400 BadRequest "a malformed quantity is refused" "$st"
st=$(req POST "$NS/pods" '{"metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"i","resources":{"limits":{"nvidia.com/gpu":true}}}]}}')
want_status 400 BadRequest "a quantity of the wrong JSON type is refused" "$st"
st=$(req POST "$NS/pods" '{"metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":7}]}}')
want_status 400 BadRequest "an image given as a number is refused (decoding)" "$st"
st=$(req POST "$NS/pods" '{"metadata":{"name":"p"},"spec":{"restartPolicy":"Sometimes","containers":[{"name":"a","image":"i"}]}}')
want_status 422 Invalid "an unknown restartPolicy is refused" "$st"
st=$(req POST "$NS/pods?fieldValidation=Strict" '{"metadata":{"name":"p"},"spec":{"containerz":[],"containers":[{"name":"a","image":"gantry.test/idle"}]}}')
want_status 400 BadRequest "an unknown field with fieldValidation=Strict is refused" "$st"
st=$(req POST "$NS/pods" '{"metadata":{"name":"warn1"},"spec":{"containerz":[],"containers":[{"name":"a","image":"gantry.test/idle"}]}}')
check "an unknown field by default is a 299 Warning header" test "$st" = 201 -a -n "$(grep -i '^Warning: 299 - "unknown field \\"spec.containerz\\""' "$H")"
st=$(req POST /apis/batch/v1/namespaces/default/jobs '{"metadata":{"name":"j"},"spec":{"template":{"spec":{"restartPolicy":"Always","containers":[{"name":"a","image":"i"}]}}}}')
want_status 422 Invalid "a Job with restartPolicy Always is refused" "$st"
check "  ... FieldValueNotSupported on spec.template.spec.restartPolicy" test "$(jb '[(c["reason"], c["field"]) for c in d["details"]["causes"]]')" = '[["FieldValueNotSupported", "spec.template.spec.restartPolicy"]]'
st=$(req POST /apis/apps/v1/namespaces/default/deployments '{"metadata":{"name":"d"},"spec":{"replicas":"2","selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"a","image":"i"}]}}}}')
want_status 400 BadRequest "replicas as a string is refused" "$st"
st=$(req POST /apis/apps/v1/namespaces/default/deployments '{"metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"c"}},"spec":{"containers":[{"name":"a","image":"i"}]}}}}')
want_status 422 Invalid "a Deployment whose selector does not match its template is refused" "$st"
st=$(req POST /apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers '{"metadata":{"name":"h"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"d"},"minReplicas":0,"maxReplicas":3}}')
want_status 422 Invalid "an HPA with minReplicas 0 is refused" "$st"
st=$(req POST /apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers '{"metadata":{"name":"h"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"d"},"maxReplicas":3,"metrics":[{"type":"Pods","pods":{"metric":{"name":"qps"},"target":{"type":"AverageValue"}}}]}}')
want_status 422 Invalid "an HPA Pods metric without averageValue is refused" "$st"
st=$(req POST /autoscaling/v1/x '{}')
want_status 404 NotFound "a path outside /api and /apis is refused" "$st"

# --- list, watch, resourceVersions -----------------------------------------------------------
req GET "$NS/pods" >/dev/null
RV0=$(jb 'd["metadata"]["resourceVersion"]')
check "a list answers PodList with metadata.resourceVersion" test "$(jb 'd["kind"]')" = PodList -a -n "$RV0"
curl -sSN --cacert "$K8S_CA" -H "Authorization: Bearer $TOK" \
	"$K8S_URL$NS/pods?watch=true&resourceVersion=$RV0&allowWatchBookmarks=true&timeoutSeconds=6&labelSelector=app%3Dt" >"$T_HOME/w1" &
WBG+=($!)
W1=$!
st=$(req POST "$NS/pods" "$(mkpod p1 'echo one; echo two; sleep 0.3; echo three')")
check "POST creates the pod (201)" test "$st" = 201
st=$(req POST "$NS/pods" "$(mkpod p1 'true')")
want_status 409 AlreadyExists "a second pod with the same name is refused" "$st"
check "the pod runs and succeeds" wait_for 15 pod_is p1 'd["status"]["phase"]' Succeeded
check "containerStatuses: terminated, exitCode 0, reason Completed" test "$(podq p1 '[d["status"]["containerStatuses"][0]["state"]["terminated"][k] for k in ("exitCode","reason")]')" = '[0, "Completed"]'
wait "$W1" 2>/dev/null || :
check "the watch ended at its timeoutSeconds" test -s "$T_HOME/w1"
python3 - "$T_HOME/w1" "$RV0" >"$T_HOME/w1.check" <<-'EOF'
	import json, sys
	evs = [json.loads(l) for l in open(sys.argv[1])]
	data = [e for e in evs if e["type"] != "BOOKMARK"]
	rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in data]
	print("types", [e["type"] for e in data][:2], "increasing", all(a < b for a, b in zip(rvs, rvs[1:])) and rvs[0] > int(sys.argv[2]))
	print("phases", [e["object"].get("status", {}).get("phase") for e in data][-1])
	print("bookmarks", sum(1 for e in evs if e["type"] == "BOOKMARK" and e["object"]["metadata"]["resourceVersion"]))
	print("kinds", sorted({e["object"].get("kind") for e in data}))
EOF
check "watch: ADDED then MODIFIED, resourceVersions increasing from the list's" grep -qx "types \['ADDED', 'MODIFIED'\] increasing True" "$T_HOME/w1.check"
check "watch: the last event shows the pod Succeeded" grep -qx "phases Succeeded" "$T_HOME/w1.check"
check "watch: BOOKMARK events with a resourceVersion (allowWatchBookmarks)" grep -qx "bookmarks [1-9][0-9]*" "$T_HOME/w1.check"
check "watch: objects carry kind Pod" grep -qx "kinds \['Pod'\]" "$T_HOME/w1.check"
req GET "$NS/pods/p1/log" >/dev/null
check "GET log gives the container's output" test "$(cat "$B")" = "$(printf 'one\ntwo\nthree')"
req GET "$NS/pods/p1/log?tailLines=1" >/dev/null
check "tailLines=1 gives the last line" test "$(cat "$B")" = three
st=$(req GET "$NS/pods/p1/log?previous=true")
want_status 400 BadRequest "previous=true without a restart is refused" "$st"
st=$(req GET "$NS/pods/p1/log?container=nope")
want_status 400 BadRequest "a log of an unknown container is refused" "$st"

# log follow: streams until the container ends; a watch with a field selector on the phase
# sees the pod come in (ADDED) when it runs and go out (DELETED) when it succeeds
req GET "$NS/pods" >/dev/null
RV1=$(jb 'd["metadata"]["resourceVersion"]')
curl -sSN --cacert "$K8S_CA" -H "Authorization: Bearer $TOK" \
	"$K8S_URL$NS/pods?watch=true&resourceVersion=$RV1&timeoutSeconds=8&fieldSelector=status.phase%3DRunning" >"$T_HOME/wf" &
WF=$!
WBG+=($WF)
req POST "$NS/pods" "$(mkpod p2 'echo start; sleep 1; echo middle; sleep 0.5; echo end')" >/dev/null
check "p2 runs" wait_for 15 pod_is p2 'd["status"]["phase"]' Running
out=$(curl -sSN --cacert "$K8S_CA" -H "Authorization: Bearer $TOK" -m 20 "$K8S_URL$NS/pods/p2/log?follow=true")
check "log follow=true streams until the container ends" test "$out" = "$(printf 'start\nmiddle\nend')"
wait "$WF" 2>/dev/null || :
check "a watch on fieldSelector status.phase=Running: p2 ADDED, MODIFIED..., then DELETED when it ends" \
	test "$(python3 -c 'import json,sys; t=[e["type"] for e in map(json.loads, open(sys.argv[1])) if e["object"]["metadata"]["name"] == "p2"]; print(t[0], t[-1], len(t))' "$T_HOME/wf" | cut -d' ' -f1-2)" = "ADDED DELETED"

# stale resourceVersion: compact, then a watch from the old one gets 410 Expired
k8s_ctl POST /_fake/compact >/dev/null
curl -sSN --cacert "$K8S_CA" -H "Authorization: Bearer $TOK" -m 10 "$K8S_URL$NS/pods?watch=true&resourceVersion=$RV0" >"$T_HOME/w2"
check "a watch from a compacted resourceVersion gets an ERROR event with a 410 Expired Status" \
	test "$(python3 -c 'import json,sys; e=json.loads(open(sys.argv[1]).readline()); print(e["type"], e["object"]["code"], e["object"]["reason"])' "$T_HOME/w2")" = "ERROR 410 Expired"
st=$(req GET "$NS/pods?resourceVersion=$RV0&resourceVersionMatch=Exact")
want_status 410 Expired "a list at an old exact resourceVersion is refused" "$st"
st=$(req GET "$NS/pods?resourceVersion=999999999")
want_status 504 Timeout "a list at a future resourceVersion is refused" "$st"

# dropped watch
curl -sSN --cacert "$K8S_CA" -H "Authorization: Bearer $TOK" -m 20 \
	"$K8S_URL$NS/pods?watch=true&timeoutSeconds=15" >"$T_HOME/w3" 2>"$T_HOME/w3.err" &
W3=$!
WBG+=($W3)
watch_open() { [ "$(k8s_q /_fake/state 'd["data"]["watches"]')" -ge 1 ]; }
check "the control API sees the open watch" wait_for 10 watch_open
k8s_ctl POST /_fake/watches/drop '{"after": 0}' >/dev/null
rc=0
wait "$W3" || rc=$?
check "a dropped watch ends the stream without the last chunk (curl exit $rc)" test "$rc" = 18 -o "$rc" = 56

# pagination
for i in 1 2 3; do req POST "$NS/pods" "$(mkpod "pg$i" 'true')" >/dev/null; done
req GET "$NS/pods?limit=2" >/dev/null
CONT=$(jb 'd["metadata"]["continue"]')
check "limit=2 gives two items and a continue token" test "$(jb 'len(d["items"])')" = 2 -a -n "$CONT"
req GET "$NS/pods?limit=100&continue=$CONT" >/dev/null
check "continue gives the rest" test "$(jb 'len(d["items"]) >= 3')" = true

# --- a crash-looping container: restarts, lastState, previous log ---------------------------
st=$(req POST "$NS/pods" '{"metadata":{"name":"crash"},"spec":{"restartPolicy":"Always","containers":[{"name":"a","image":"i","command":["sh","-c","echo run-$RANDOM; exit 3"]},{"name":"b","image":"gantry.test/idle"}]}}')
restarted() { [ "$(podq crash 'd["status"]["containerStatuses"][0]["restartCount"] >= 1')" = true ]; }
check "a failing container restarts (restartCount)" wait_for 15 restarted
check "lastState.terminated has exitCode 3 and reason Error" test "$(podq crash '[d["status"]["containerStatuses"][0]["lastState"]["terminated"][k] for k in ("exitCode","reason")]')" = '[3, "Error"]'
st=$(req GET "$NS/pods/crash/log?container=a&previous=true")
check "previous=true gives the previous run's log" test "$st" = 200 -a -n "$(grep '^run-' "$B")"
st=$(req GET "$NS/pods/crash/log")
want_status 400 BadRequest "a multi-container log without container= is refused" "$st"
req DELETE "$NS/pods/crash" '{"gracePeriodSeconds":0}' >/dev/null
check "delete with grace 0 removes it" wait_for 10 gone "$NS/pods/crash"

# --- graceful delete: deletionTimestamp, SIGTERM, then gone -----------------------------------
req POST "$NS/pods" "$(mkpod term 'trap \"echo got-term; exit 0\" TERM; echo up; while :; do sleep 0.1; done')" >/dev/null
check "the pod runs" wait_for 15 pod_is term 'd["status"]["phase"]' Running
has_up() { req GET "$NS/pods/term/log" >/dev/null && grep -q up "$B"; }
wait_for 10 has_up
LOGF=$(k8s_q /_fake/pods '[p["dir"] for p in d["data"] if p["name"] == "term"][0]')/main.1.log
st=$(req DELETE "$NS/pods/term")
check "DELETE answers the pod with a deletionTimestamp" test "$st" = 200 -a -n "$(jb 'd["metadata"].get("deletionTimestamp") or ""')"
check "the pod goes after its process ended" wait_for 15 gone "$NS/pods/term"
check "the process got SIGTERM (its log says so)" grep -q got-term "$LOGF"

# --- the scheduler -----------------------------------------------------------------------------
req POST "$NS/pods" '{"metadata":{"name":"big"},"spec":{"containers":[{"name":"a","image":"gantry.test/idle","resources":{"limits":{"nvidia.com/gpu":"16"}}}]}}' >/dev/null
unsched() { [ "$(podq big '[c.get("reason") for c in d["status"].get("conditions",[]) if c["type"] == "PodScheduled"]')" = '["Unschedulable"]' ]; }
check "a pod that fits no node is Pending, PodScheduled False, Unschedulable" wait_for 10 unsched
check "  ... with the scheduler's message" test "$(podq big '[c["message"] for c in d["status"]["conditions"]][0]')" = "0/2 nodes are available: 2 Insufficient nvidia.com/gpu."
req POST "$NS/pods" '{"metadata":{"name":"sel"},"spec":{"nodeSelector":{"nvidia.com/gpu.product":"NVIDIA-A100-SXM4-80GB"},"containers":[{"name":"a","image":"gantry.test/idle","resources":{"limits":{"nvidia.com/gpu":"2"}}}]}}' >/dev/null
check "nodeSelector on the GPU product puts the pod on node-a100-spot" wait_for 10 pod_is sel 'd["spec"].get("nodeName")' node-a100-spot
check "  ... and it runs" wait_for 10 pod_is sel 'd["status"]["phase"]' Running
req POST "$NS/pods" '{"metadata":{"name":"sel2"},"spec":{"nodeSelector":{"nvidia.com/gpu.product":"NVIDIA-A100-SXM4-80GB"},"containers":[{"name":"a","image":"gantry.test/idle","resources":{"limits":{"nvidia.com/gpu":"3"}}}]}}' >/dev/null
unsched2() { [ "$(podq sel2 '[c.get("message") for c in d["status"].get("conditions",[]) if c["type"] == "PodScheduled"]')" = '["0/2 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) didn'"'"'t match Pod'"'"'s node affinity/selector."]' ]; }
check "a second pod needing 3 of the 2 A100s left is Unschedulable, reasons counted per node" wait_for 10 unsched2

# --- DCGM ----------------------------------------------------------------------------------------
k8s_ctl POST /_fake/dcgm/default/sel '{"util": 87, "fb_used": 1234, "temp": 61, "power": 250.5}' >/dev/null
curl -sS -m 5 "$K8S_DCGM_URL" >"$T_HOME/dcgm"
check "DCGM text has HELP and TYPE lines" grep -q '^# TYPE DCGM_FI_DEV_GPU_UTIL gauge' "$T_HOME/dcgm"
check "DCGM_FI_DEV_GPU_UTIL for each of the pod's two GPUs, labelled with pod and namespace" \
	test "$(grep -c '^DCGM_FI_DEV_GPU_UTIL{.*namespace="default",pod="sel"} 87$' "$T_HOME/dcgm")" = 2
for m in FB_USED FB_FREE GPU_TEMP POWER_USAGE; do
	check "DCGM_FI_DEV_$m is served" grep -q "^DCGM_FI_DEV_$m{gpu=\"[0-9]\",UUID=\"GPU-" "$T_HOME/dcgm"
done

# --- node lost -----------------------------------------------------------------------------------
k8s_ctl POST /_fake/nodes/node-a100-spot '{"lost": true}' >/dev/null
check "node lost: its pod is Failed with reason NodeLost" wait_for 10 pod_is sel 'd["status"].get("reason")' NodeLost
req GET /api/v1/nodes/node-a100-spot >/dev/null
check "  ... and the node's Ready condition is Unknown" test "$(jb '[c["status"] for c in d["status"]["conditions"] if c["type"] == "Ready"]')" = '["Unknown"]'

# --- images ------------------------------------------------------------------------------------
req POST "$NS/pods" '{"metadata":{"name":"pull"},"spec":{"containers":[{"name":"a","image":"gantry.test/pull-error:1"}]}}' >/dev/null
waiting() { [ "$(podq pull 'd["status"].get("containerStatuses",[{}])[0].get("state",{}).get("waiting",{}).get("reason")')" = "$1" ]; }
check "a pull-error image waits with ErrImagePull" wait_for 10 waiting ErrImagePull
check "  ... then ImagePullBackOff" wait_for 10 waiting ImagePullBackOff

# --- Job, Deployment, HPA, Service --------------------------------------------------------------
J=/apis/batch/v1/namespaces/default/jobs
req POST $J '{"metadata":{"name":"idx"},"spec":{"completionMode":"Indexed","completions":2,"parallelism":2,"backoffLimit":0,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"a","image":"i","command":["sh","-c","echo rank=$JOB_COMPLETION_INDEX"]}]}}}}' >/dev/null
complete() { req GET "$J/$1" >/dev/null && [ "$(jb '[c["type"] for c in d["status"].get("conditions",[]) if c["status"] == "True"]')" = "$2" ]; }
check "an Indexed Job completes" wait_for 15 complete idx '["SuccessCriteriaMet", "Complete"]'
check "  ... completedIndexes 0-1, succeeded 2" test "$(jb '[d["status"]["completedIndexes"], d["status"]["succeeded"]]')" = '["0-1", 2]'
req GET "$NS/pods?labelSelector=batch.kubernetes.io/job-name%3Didx" >/dev/null
check "its pods carry the completion index annotation" test "$(jb 'sorted(p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] for p in d["items"])')" = '["0", "1"]'
logs=""
for p in $(jb '" ".join(sorted(p["metadata"]["name"] for p in d["items"]))'); do
	req GET "$NS/pods/$p/log" >/dev/null
	logs="$logs$(cat "$B");"
done
check "JOB_COMPLETION_INDEX is set in each pod" test "$logs" = "rank=0;rank=1;"
req POST $J '{"metadata":{"name":"dl"},"spec":{"activeDeadlineSeconds":1,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"a","image":"i","command":["sleep","60"]}]}}}}' >/dev/null
check "activeDeadlineSeconds fails the Job (FailureTarget, Failed)" wait_for 15 complete dl '["FailureTarget", "Failed"]'
check "  ... with reason DeadlineExceeded" test "$(jb '[c["reason"] for c in d["status"]["conditions"] if c["type"] == "Failed"]')" = '["DeadlineExceeded"]'
req POST $J '{"metadata":{"name":"bo"},"spec":{"backoffLimit":1,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"a","image":"i","command":["sh","-c","exit 4"]}]}}}}' >/dev/null
check "backoffLimit 1: two failed pods fail the Job" wait_for 15 complete bo '["FailureTarget", "Failed"]'
check "  ... BackoffLimitExceeded, failed 2" test "$(jb '[[c["reason"] for c in d["status"]["conditions"] if c["type"] == "Failed"], d["status"]["failed"]]')" = '[["BackoffLimitExceeded"], 2]'

D=/apis/apps/v1/namespaces/default/deployments
HP=/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers
req POST $D '{"metadata":{"name":"web"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"a","image":"i","command":["python3","-u","-c","import http.server,os\nclass H(http.server.BaseHTTPRequestHandler):\n  def do_GET(s):\n    s.send_response(200); s.end_headers(); s.wfile.write(b\"pong \" + s.path.encode())\n  def log_message(s, *a): pass\nhttp.server.HTTPServer((\"127.0.0.1\", int(os.environ[\"PORT\"])), H).serve_forever()"],"env":[{"name":"PORT","value":"8080"}],"ports":[{"containerPort":8080}],"readinessProbe":{"httpGet":{"path":"/healthz","port":8080},"periodSeconds":1}}]}}}}' >/dev/null
dready() { req GET $D/web >/dev/null && [ "$(jb 'd["status"].get("readyReplicas", 0)')" = "$1" ]; }
check "a Deployment of 2 with an httpGet readinessProbe gets 2 ready replicas" wait_for 20 dready 2
st=$(req POST $HP '{"metadata":{"name":"web"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"minReplicas":1,"maxReplicas":3,"metrics":[{"type":"Pods","pods":{"metric":{"name":"http_requests_per_second"},"target":{"type":"AverageValue","averageValue":"10"}}}]}}')
check "an autoscaling/v2 HPA is created" test "$st" = 201
k8s_ctl POST /_fake/hpa/default/web '{"desired": 7}' >/dev/null
check "HPA desired 7 is held to maxReplicas 3: the Deployment gets 3 ready" wait_for 20 dready 3
hpa_st() { req GET $HP/web >/dev/null && [ "$(jb '[d["status"]["currentReplicas"], d["status"]["desiredReplicas"]]')" = "$1" ]; }
check "the HPA reports currentReplicas 3, desiredReplicas 3" wait_for 10 hpa_st '[3, 3]'
check "  ... ScalingLimited True TooManyReplicas" test "$(jb '[c["reason"] for c in d["status"]["conditions"] if c["type"] == "ScalingLimited"]')" = '["TooManyReplicas"]'
st=$(req PATCH $HP/web '{"spec":{"maxReplicas":5}}' application/merge-patch+json)
check "a merge patch changes the HPA's maxReplicas" test "$st $(jb 'd["spec"]["maxReplicas"]')" = "200 5"
check "the HPA scales on to 5" wait_for 20 dready 5
st=$(req PATCH $HP/web '{"spec":{"maxReplicas":5}}' application/json)
want_status 415 UnsupportedMediaType "a PATCH with application/json is refused" "$st"
req GET "$NS/pods?labelSelector=app%3Dweb" >/dev/null
WP=$(jb 'd["items"][0]["metadata"]["name"]')

# exec
EX="$NS/pods/$WP/exec?command=sh&command=-c&command=read%20x%3B%20echo%20out-%24x%3B%20echo%20err-%24x%20%3E%262%3B%20exit%205&stdin=true&stdout=true&stderr=true"
python3 "$WS" exec "$K8S_URL" "$EX" --stdin $'abc\n' >"$T_HOME/ex1"
exq() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(json.dumps(v) if not isinstance(v,str) else v)' "$@"; }
check "exec (v4.channel.k8s.io): stdin reaches the command, stdout on channel 1" test "$(exq "$T_HOME/ex1" 'd["channels"].get("1")')" = "out-abc"
check "  ... stderr on channel 2" test "$(exq "$T_HOME/ex1" 'd["channels"].get("2")')" = "err-abc"
check "  ... exit 5: channel 3 Status Failure NonZeroExitCode, cause ExitCode 5" test "$(exq "$T_HOME/ex1" '(lambda s: [s["status"], s["reason"], s["details"]["causes"][0]["reason"], s["details"]["causes"][0]["message"]])(json.loads(d["channels"]["3"]))')" = '["Failure", "NonZeroExitCode", "ExitCode", "5"]'
check "  ... then a close frame 1000" test "$(exq "$T_HOME/ex1" 'd["close_code"]')" = 1000
python3 "$WS" exec "$K8S_URL" "$NS/pods/$WP/exec?command=sh&command=-c&command=stty%20size%3B%20tty&stdin=true&stdout=true&tty=true" --resize 123x45 >"$T_HOME/ex2"
check "exec tty=true runs on a pty sized by the resize channel (4)" test "$(exq "$T_HOME/ex2" 'd["channels"].get("1","").split("\r\n")[0]')" = "45 123"
check "  ... and exit 0 gives Status Success" test "$(exq "$T_HOME/ex2" 'json.loads(d["channels"]["3"])["status"]')" = Success
python3 "$WS" exec "$K8S_URL" "$NS/pods/$WP/exec?command=true&stdout=true" --protocol v3.channel.k8s.io >"$T_HOME/ex3"
check "exec with only an unknown subprotocol is refused with 400" test "$(exq "$T_HOME/ex3" 'd["status"]')" = 400
python3 "$WS" raw "$K8S_URL" "$NS/pods/$WP/exec?command=sleep&command=5&stdout=true" --unmasked >"$T_HOME/ex4"
check "an unmasked client frame closes the connection with 1002" test "$(exq "$T_HOME/ex4" 'd["close_code"]')" = 1002
python3 "$WS" raw "$K8S_URL" "$NS/pods/$WP/exec?command=sleep&command=5&stdout=true" --ping >"$T_HOME/ex5"
check "a ping is answered with a pong carrying its payload, close echoed" test "$(exq "$T_HOME/ex5" '[d["pong"], d["close_code"]]')" = '["hello-ping", 1000]'
st=$(req GET "$NS/pods/$WP/exec?command=true&stdout=true")
want_status 400 BadRequest "exec without a WebSocket upgrade is refused" "$st"

# portforward
python3 "$WS" portforward "$K8S_URL" "$NS/pods/$WP/portforward?ports=8080" --send $'GET /ping HTTP/1.0\r\n\r\n' >"$T_HOME/pf1"
check "portforward: the first frame on channels 0 and 1 is the port, 2 bytes little-endian" test "$(exq "$T_HOME/pf1" 'd["first"]')" = '{"0": [144, 31], "1": [144, 31]}'
check "  ... bytes go both ways to the pod's server" grep -q 'pong /ping' <<<"$(exq "$T_HOME/pf1" 'd["channels"].get("0","")')"
check "  ... and the session closes cleanly (1000)" test "$(exq "$T_HOME/pf1" 'd["close_code"]')" = 1000
python3 "$WS" portforward "$K8S_URL" "$NS/pods/$WP/portforward?ports=1" --send x >"$T_HOME/pf2"
check "portforward to a closed port reports the failure on the error channel" grep -q 'error forwarding port 1' <<<"$(exq "$T_HOME/pf2" 'd["channels"].get("1","")')"

# Service
st=$(req POST "$NS/services" '{"metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"port":80,"targetPort":8080}]}}')
check "a Service gets a clusterIP" test "$st" = 201 -a -n "$(jb 'd["spec"]["clusterIP"]')"
st=$(req POST "$NS/services" '{"metadata":{"name":"nop"},"spec":{"selector":{"app":"web"}}}')
want_status 422 Invalid "a Service without ports is refused" "$st"

# delete the Deployment: Background propagation takes its pods
st=$(req DELETE $D/web '{"propagationPolicy":"Background"}')
check "DELETE of a Deployment answers a Success Status" test "$st $(jb 'd["status"]')" = "200 Success"
nopods() { req GET "$NS/pods?labelSelector=app%3Dweb" >/dev/null && [ "$(jb 'len(d["items"])')" = 0 ]; }
check "  ... and its pods go" wait_for 20 nopods

# --- faults --------------------------------------------------------------------------------------
k8s_ctl POST /_fake/faults '{"status": 503, "count": 2, "method": "GET", "path": "/pods$", "retry_after": 2}' >/dev/null
st=$(req GET "$NS/pods")
want_status 503 ServiceUnavailable "an injected 503" "$st"
check "  ... with Retry-After" grep -qi '^Retry-After: 2' "$H"
st=$(req GET "$NS/pods")
want_status 503 ServiceUnavailable "the second injected 503" "$st"
st=$(req GET "$NS/pods")
check "after count requests the fault is spent" test "$st" = 200
k8s_ctl POST /_fake/faults '{"status": 429, "path": "/jobs", "retry_after": 1}' >/dev/null
st=$(req GET "$J")
want_status 429 TooManyRequests "an injected 429" "$st"
check "  ... with details.retryAfterSeconds" test "$(jb 'd["details"]["retryAfterSeconds"]')" = 1
k8s_ctl POST /_fake/config '{"latency_ms": 300}' >/dev/null
t=$(curl -sS -o /dev/null -w '%{time_total}' --cacert "$K8S_CA" -H "Authorization: Bearer $TOK" "$K8S_URL$NS/pods")
k8s_ctl POST /_fake/config '{"latency_ms": 0}' >/dev/null
check "latency_ms delays each request (${t}s)" python3 -c "import sys; sys.exit(not float('$t') >= 0.3)"

# --- bulk pods -------------------------------------------------------------------------------
k8s_ctl POST /_fake/bulk '{"namespace": "team-a", "count": 300, "labels": {"bench": "b"}}' >/dev/null
req GET "/api/v1/namespaces/team-a/pods?labelSelector=bench%3Db" >/dev/null
check "bulk: 300 idle pods, all Running" test "$(jb '[len(d["items"]), all(p["status"]["phase"] == "Running" for p in d["items"])]')" = '[300, true]'
n=$(curl -sSN --cacert "$K8S_CA" -H "Authorization: Bearer $TOK" -m 20 "$K8S_URL/api/v1/namespaces/team-a/pods?watch=true&timeoutSeconds=1&labelSelector=bench%3Db" | grep -c '"type":"ADDED"')
check "a watch without resourceVersion starts with ADDED for each ($n)" test "$n" = 300

# --- the request log ---------------------------------------------------------------------------
k8s_ctl GET /_fake/log >"$T_HOME/log.json"
check "the request log has method, path, query and auth of each request" test "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["data"]; print(any(e["method"] == "POST" and e["path"].endswith("/pods") and e["auth"].startswith("token:") for e in d) and any(e["auth"] == "none" and e["status"] == 401 for e in d) and any(e["auth"].startswith("cert:") for e in d))' "$T_HOME/log.json")" = True
check "the request log never holds a token" bash -c "! grep -qF -e '$TOK' -e '$ETOK' -e '$K8S_CTL_TOKEN' '$T_HOME/log.json'"
check "the fake's stderr never holds a token" bash -c "! grep -qF -e '$TOK' -e '$K8S_CTL_TOKEN' '$K8S_DIR/fake.log'"

# --- SIGTERM ends the pods' processes ------------------------------------------------------
req POST "$NS/pods" "$(mkpod last 'sleep 300')" >/dev/null
check "a last pod runs" wait_for 15 pod_is last 'd["status"]["phase"]' Running
LPID=$(k8s_q /_fake/pods '[p["containers"]["main"]["pid"] for p in d["data"] if p["name"] == "last"][0]')
k8srig_stop
check "stopping the fake kills the pods' processes" wait_for 5 pgroup_gone "$LPID"

t_done
