#!/usr/bin/env bash
# lambda_fake_selftest.sh: the Lambda Cloud API fake (tests/fakes/lambda_fake.py) checked with
# curl and OpenSSH against three real sshd workers (tests/lib/lambdafake.sh): auth refused
# without a key, documented error bodies for bad requests (two SSH key names, wrong types,
# unknown type/region/key, no capacity), launch -> booting -> active, the registered key lands
# in the worker's authorized_keys and `ssh -i KEY` logs in, terminate removes it, every fault
# of the control API, the rate limits, and the request log. No Gantry binary involved: this
# tests the fake that the lambda provider's tests rely on.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
. "$here/../lib/lambdafake.sh"

VPID=
cleanup() {
	if [ -n "$VPID" ]; then kill -TERM "$VPID" 2>/dev/null || :; fi
	lambda_fake_stop
	t_cleanup
}
trap cleanup EXIT

for tool in /usr/sbin/sshd ssh ssh-keygen curl python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL - $tool is missing (apt-get install openssh-server openssh-client curl python3)"
		exit 1
	fi
done

lambda_fake_start 3 --boot-delay 0.6 --terminate-delay 0.3 --terminated-linger 2
B=$T_HOME/body
H=$T_HOME/headers

# req METHOD PATH [JSON] [CURL ARGS...]: the API with the key; prints the HTTP status, the
# body goes to $B and the headers to $H.
req() {
	local m=$1 p=$2 j=${3:-}
	shift 3 2>/dev/null || shift $#
	curl -sS -o "$B" -D "$H" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $LAMBDA_FAKE_KEY" \
		${j:+-H 'Content-Type: application/json' --data-binary "$j"} "$@" "$LAMBDA_FAKE_URL/api/v1$p"
}
# jb EXPR: a Python expression over the last body (d), printed
jb() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(json.dumps(v) if isinstance(v,(dict,list,bool)) or v is None else v)' "$B" "$1"; }
# want_err STATUS CODE DESCRIPTION (after req): the documented error body
want_err() {
	local st=$1 code=$2 d=$3 got=$4 c
	c=$(jb 'd["error"]["code"]' 2>/dev/null) || c="(no error body: $(head -c 200 "$B"))"
	if [ "$got" = "$st" ] && [ "$c" = "$code" ] && [ -n "$(jb 'd["error"]["message"]')" ]; then
		ok "$d ($st $code)"
	else
		fail "$d: got $got $c, wanted $st $code"
	fi
}
istatus() { req GET "/instances/$1" >/dev/null && jb 'd["data"]["status"]'; }
status_is() { [ "$(istatus "$1")" = "$2" ]; }
listed() { req GET /instances >/dev/null && jb "any(i['id'] == '$1' for i in d['data'])" | grep -qx true; }
not_listed() { ! listed "$1"; }
workers_free() {
	lambda_fake_ctl GET /_fake/state |
		python3 -c 'import json,sys; sys.exit(any(w["holder"] for w in json.load(sys.stdin)["data"]["workers"]))'
}
W1_KEYS=$RIG_DIR/workers/w1/authorized_keys/$LAMBDA_FAKE_SSH_USER
W2_KEYS=$RIG_DIR/workers/w2/authorized_keys/$LAMBDA_FAKE_SSH_USER
# try_ssh KEY IP: logs in with exactly that key (host key checked against the rig's list)
try_ssh() {
	ssh -n -i "$1" -p "$LAMBDA_FAKE_SSH_PORT" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o UserKnownHostsFile="$RIG_KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null \
		-o StrictHostKeyChecking=yes -o ConnectTimeout=5 -o IdentityAgent=none \
		"$LAMBDA_FAKE_SSH_USER@$2" 'echo logged-in' 2>"$T_HOME/ssh.err"
}
no_ssh() { ! try_ssh "$@" >/dev/null; }

# --- auth ----------------------------------------------------------------------------------
st=$(curl -sS -o "$B" -w '%{http_code}' "$LAMBDA_FAKE_URL/api/v1/instances")
want_err 401 global/invalid-api-key "no Authorization header is refused" "$st"
check "the 401 body carries the documented suggestion" test -n "$(jb 'd["error"]["suggestion"]')"
st=$(curl -sS -o "$B" -w '%{http_code}' -H "Authorization: Bearer wrong-$LAMBDA_FAKE_KEY" "$LAMBDA_FAKE_URL/api/v1/instances")
want_err 401 global/invalid-api-key "a wrong key is refused" "$st"
st=$(curl -sS -o "$B" -w '%{http_code}' -H "Authorization: Bearer $LAMBDA_FAKE_CTL" "$LAMBDA_FAKE_URL/api/v1/instances")
want_err 401 global/invalid-api-key "the control token is no API key" "$st"
st=$(curl -sS -o "$B" -w '%{http_code}' -H "Authorization: Token $LAMBDA_FAKE_KEY" "$LAMBDA_FAKE_URL/api/v1/instances")
want_err 401 global/invalid-api-key "an unknown auth scheme is refused" "$st"
st=$(curl -sS -o "$B" -w '%{http_code}' -u "$LAMBDA_FAKE_KEY:" "$LAMBDA_FAKE_URL/api/v1/instances")
check "HTTP Basic with the key as user is accepted (documented for curl -u KEY:)" test "$st" = 200
st=$(curl -sS -o "$B" -w '%{http_code}' -H "Authorization: Bearer $LAMBDA_FAKE_KEY" "$LAMBDA_FAKE_URL/_fake/state")
check "the API key does not open the control API" test "$st" = 401

# --- instance types --------------------------------------------------------------------------
st=$(req GET /instance-types)
check "GET /instance-types answers 200" test "$st" = 200
check "instance types carry price_cents_per_hour (integer) and specs" test "$(jb 'all(isinstance(v["instance_type"]["price_cents_per_hour"], int) and set(v["instance_type"]["specs"]) == {"vcpus","memory_gib","storage_gib","gpus"} and v["instance_type"]["name"] == k for k, v in d["data"].items())')" = true
check "regions_with_capacity_available lists {name, description}" test "$(jb '[r["name"] for r in d["data"]["gpu_1x_a10"]["regions_with_capacity_available"]] == ["us-east-1","us-west-1"] and all(r["description"] for r in d["data"]["gpu_1x_a10"]["regions_with_capacity_available"])')" = true

# --- ssh keys ----------------------------------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C selftest -f "$T_HOME/key" </dev/null
PUB=$(cat "$T_HOME/key.pub")
st=$(req POST /ssh-keys "{\"name\": \"gantry-test\", \"public_key\": \"$PUB\"}")
check "POST /ssh-keys registers a public key" test "$st" = 200 -a "$(jb 'd["data"]["public_key"]')" = "$PUB"
check "an uploaded key gets no private_key back" test "$(jb '"private_key" in d["data"]')" = false
st=$(req POST /ssh-keys "{\"name\": \"gantry-test\", \"public_key\": \"$PUB\"}")
want_err 400 global/invalid-parameters "a second key with the same name is refused" "$st"
st=$(req POST /ssh-keys '{"name": "bad", "public_key": "ssh-ed25519 notbase64!"}')
want_err 400 global/invalid-parameters "a malformed public key is refused" "$st"
st=$(req POST /ssh-keys '{"public_key": "x"}')
want_err 400 global/invalid-parameters "a key without a name is refused" "$st"
st=$(req POST /ssh-keys '{"name": "generated"}')
check "POST /ssh-keys without public_key generates a pair" test "$st" = 200
GEN_ID=$(jb 'd["data"]["id"]')
jb 'd["data"]["private_key"]' >"$T_HOME/gen_key"
chmod 600 "$T_HOME/gen_key"
check "the generated private key matches the returned public key" \
	test "$(ssh-keygen -y -f "$T_HOME/gen_key" | cut -d' ' -f1-2)" = "$(jb 'd["data"]["public_key"]' | cut -d' ' -f1-2)"
st=$(req GET /ssh-keys)
check "GET /ssh-keys lists both keys" test "$(jb 'sorted(k["name"] for k in d["data"])')" = '["gantry-test", "generated"]'

# --- launch: refused requests -------------------------------------------------------------------
L='{"region_name": "us-east-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["gantry-test"], "name": "gantry-j1-a1"}'
st=$(curl -sS -o "$B" -w '%{http_code}' -H "Authorization: Bearer $LAMBDA_FAKE_KEY" --data-binary "$L" "$LAMBDA_FAKE_URL/api/v1/instance-operations/launch")
want_err 400 global/invalid-parameters "a launch without Content-Type: application/json is refused" "$st"
st=$(req POST /instance-operations/launch '{"region_name": "us-east-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["gantry-test", "generated"]}')
want_err 400 global/invalid-parameters "two ssh key names are refused" "$st"
st=$(req POST /instance-operations/launch '{"region_name": "us-east-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": []}')
want_err 400 global/invalid-parameters "no ssh key name is refused" "$st"
st=$(req POST /instance-operations/launch '{"region_name": "us-east-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": "gantry-test"}')
want_err 400 global/invalid-parameters "ssh_key_names as a string is refused" "$st"
st=$(req POST /instance-operations/launch '{"instance_type_name": "gpu_1x_a10", "ssh_key_names": ["gantry-test"]}')
want_err 400 global/invalid-parameters "a launch without region_name is refused" "$st"
st=$(req POST /instance-operations/launch '{"region_name": "us-east-1", "instance_type_name": 7, "ssh_key_names": ["gantry-test"]}')
want_err 400 global/invalid-parameters "instance_type_name as a number is refused" "$st"
st=$(req POST /instance-operations/launch '{"region_name": "us-east-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["gantry-test"], "idempotency_key": "x"}')
want_err 400 global/invalid-parameters "an unknown field is refused" "$st"
st=$(req POST /instance-operations/launch '{"region_name": "us-east-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["gantry-test"], "quantity": 2}')
want_err 400 global/invalid-parameters "quantity other than 1 is refused" "$st"
st=$(req POST /instance-operations/launch "{\"region_name\": \"us-east-1\", \"instance_type_name\": \"gpu_1x_a10\", \"ssh_key_names\": [\"gantry-test\"], \"name\": \"$(printf 'n%.0s' {1..65})\"}")
want_err 400 global/invalid-parameters "a name over 64 characters is refused" "$st"
st=$(req POST /instance-operations/launch '{"region_name": "mars-north-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["gantry-test"]}')
want_err 400 global/invalid-parameters "an unknown region code is refused" "$st"
st=$(req POST /instance-operations/launch '{"region_name": "us-east-1", "instance_type_name": "gpu_9x_nothing", "ssh_key_names": ["gantry-test"]}')
want_err 404 global/object-does-not-exist "an unknown instance type is refused" "$st"
check "  ... with the documented suggestion" test -n "$(jb 'd["error"]["suggestion"]')"
st=$(req POST /instance-operations/launch '{"region_name": "us-east-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["nobody"]}')
want_err 404 global/object-does-not-exist "an unknown ssh key name is refused" "$st"
st=$(req POST /instance-operations/launch '{"region_name": "us-east-1", "instance_type_name": "gpu_1x_a100_sxm4", "ssh_key_names": ["gantry-test"]}')
want_err 400 instance-operations/launch/insufficient-capacity "a type with no capacity anywhere is refused" "$st"
st=$(req POST /instance-operations/launch '{"region_name": "us-east-3", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["gantry-test"]}')
want_err 400 instance-operations/launch/insufficient-capacity "a region not listed for the type is refused" "$st"
st=$(req GET /instance-operations/launch)
want_err 405 global/invalid-parameters "GET on the launch endpoint is refused" "$st"
st=$(req GET /no-such-thing)
want_err 404 global/not-found "an unknown path is refused" "$st"
check "no refused request launched anything" test "$(lambda_fake_ctl GET /_fake/state | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["launches"])')" = 0

# --- launch -> booting -> active, the key on the worker, ssh -------------------------------------
check "before any launch, the test key does not log in to worker 1" no_ssh "$T_HOME/key" 127.0.0.2
# a long boot for the first instance, so that a loaded machine still sees it booting
lambda_fake_ctl POST /_fake/config '{"boot_delay": 3}' >/dev/null
st=$(req POST /instance-operations/launch "$L")
lambda_fake_ctl POST /_fake/config '{"boot_delay": 0.6}' >/dev/null
check "a valid launch answers 200 with one instance id" test "$st" = 200 -a "$(jb 'len(d["data"]["instance_ids"])')" = 1
I1=$(jb 'd["data"]["instance_ids"][0]')
req GET "/instances/$I1" >/dev/null
check "the new instance is booting, without an address yet" test "$(jb 'd["data"]["status"]')" = booting -a "$(jb '"ip" in d["data"]')" = false
check "the instance carries its name, key, region and type" test "$(jb '[d["data"]["name"], d["data"]["ssh_key_names"], d["data"]["region"]["name"], d["data"]["instance_type"]["name"], d["data"]["instance_type"]["price_cents_per_hour"]]')" = '["gantry-j1-a1", ["gantry-test"], "us-east-1", "gpu_1x_a10", 75]'
check "the launched instance is in GET /instances" listed "$I1"
check "the instance turns active after the boot delay" wait_for 10 status_is "$I1" active
req GET "/instances/$I1" >/dev/null
IP1=$(jb 'd["data"]["ip"]')
check "the active instance's ip is worker 1 (127.0.0.2)" test "$IP1" = 127.0.0.2
check "the registered public key is in worker 1's authorized_keys" grep -qxF "$PUB" "$W1_KEYS"
out=$(try_ssh "$T_HOME/key" "$IP1") || :
check "ssh -i KEY to the instance's ip logs in (real sshd)" test "$out" = logged-in

st=$(req POST /instance-operations/launch '{"region_name": "us-west-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["generated"], "name": "gantry-j2-a1"}')
I2=$(jb 'd["data"]["instance_ids"][0]')
check "a second instance turns active" wait_for 10 status_is "$I2" active
req GET "/instances/$I2" >/dev/null
IP2=$(jb 'd["data"]["ip"]')
check "the second instance gets the next free worker (127.0.0.3)" test "$IP2" = 127.0.0.3
out=$(try_ssh "$T_HOME/gen_key" "$IP2") || :
check "the server-generated private key logs in to the second instance" test "$out" = logged-in

# --- terminate --------------------------------------------------------------------------------
st=$(req POST /instance-operations/terminate '{"instance_ids": ["0123456789abcdef0123456789abcdef"]}')
want_err 404 global/object-does-not-exist "terminating an unknown id is refused" "$st"
check "  ... and terminates nothing" status_is "$I1" active
st=$(req POST /instance-operations/terminate '{"instance_ids": "x"}')
want_err 400 global/invalid-parameters "instance_ids as a string is refused" "$st"
st=$(req POST /instance-operations/terminate "{\"instance_ids\": [\"$I1\"]}")
check "terminate answers 200 with the instance terminating" test "$st" = 200 -a "$(jb '[i["status"] for i in d["data"]["terminated_instances"]]')" = '["terminating"]'
check "terminate removed the key from worker 1's authorized_keys" bash -c "! grep -qxF '$PUB' '$W1_KEYS'"
check "  ... and left the rig's own key there" grep -qxF "$(cat "$RIG_KEY.pub")" "$W1_KEYS"
out=$(try_ssh "$T_HOME/key" "$IP1") || :
check "ssh -i KEY to the terminated instance is refused" test "$out" != logged-in
check "the instance turns terminated" wait_for 10 status_is "$I1" terminated
check "a terminated instance leaves the list after a while" wait_for 10 not_listed "$I1"
st=$(req GET "/instances/$I1")
want_err 404 global/object-does-not-exist "GET of a gone instance" "$st"

st=$(req DELETE /ssh-keys/0123456789abcdef0123456789abcdef)
want_err 400 global/invalid-parameters "deleting an unknown ssh key id is refused" "$st"
st=$(req DELETE "/ssh-keys/$GEN_ID")
check "DELETE /ssh-keys/ID answers 200 with empty data" test "$st" = 200 -a "$(jb 'd["data"]')" = '{}'
req GET /ssh-keys >/dev/null
check "  ... and the key is gone from the list" test "$(jb '[k["name"] for k in d["data"]]')" = '["gantry-test"]'

# --- faults -----------------------------------------------------------------------------------
lambda_fake_ctl POST /_fake/faults '{"kind": "status", "status": 503, "path": "/api/v1/instances", "count": 1}' >/dev/null
st=$(req GET /instances)
want_err 503 provider/internal-unavailable "fault: a 503 on the next GET /instances" "$st"
st=$(req GET /instances)
check "  ... once only: the next one answers 200" test "$st" = 200
lambda_fake_ctl POST /_fake/faults '{"kind": "status", "status": 500, "count": 2}' >/dev/null
st=$(req GET /instance-types)
want_err 500 global/internal-error "fault: 500 on any path" "$st"
st=$(req GET /ssh-keys)
want_err 500 global/internal-error "  ... twice" "$st"
lambda_fake_ctl POST /_fake/faults '{"kind": "status", "status": 429, "retry_after": 3, "path": "/api/v1/instance-types"}' >/dev/null
st=$(req GET /instance-types)
want_err 429 global/rate-limited "fault: 429" "$st"
check "  ... with Retry-After: 3" grep -qi '^retry-after: 3' "$H"
lambda_fake_ctl POST /_fake/faults '{"kind": "status", "status": 400, "code": "global/quota-exceeded", "path": "/api/v1/instance-operations/launch"}' >/dev/null
st=$(req POST /instance-operations/launch "$L")
want_err 400 global/quota-exceeded "fault: a documented launch error by its code (quota)" "$st"
check "  ... with its documented suggestion" test "$(jb 'd["error"]["suggestion"]')" = "Contact Support to increase your quota."
lambda_fake_ctl POST /_fake/faults '{"kind": "status", "status": 403}' >/dev/null
st=$(req GET /instances)
want_err 403 global/account-inactive "fault: 403 gives the documented account-inactive body" "$st"
lambda_fake_ctl POST /_fake/faults '{"kind": "delay", "ms": 400, "path": "/api/v1/ssh-keys"}' >/dev/null
t=$(curl -sS -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $LAMBDA_FAKE_KEY" "$LAMBDA_FAKE_URL/api/v1/ssh-keys")
check "fault: a slow reply takes at least the delay (${t}s)" python3 -c "import sys; sys.exit(not float('$t') >= 0.4)"
lambda_fake_ctl POST /_fake/faults '{"kind": "truncate", "path": "/api/v1/instances"}' >/dev/null
rc=0
curl -sS -o /dev/null -H "Authorization: Bearer $LAMBDA_FAKE_KEY" "$LAMBDA_FAKE_URL/api/v1/instances" 2>/dev/null || rc=$?
check "fault: a truncated body (curl: partial file, exit 18)" test "$rc" = 18

lambda_fake_ctl POST /_fake/faults '{"kind": "capacity", "region": "us-east-1", "instance_type": "gpu_1x_a10"}' >/dev/null
st=$(req POST /instance-operations/launch "$L")
want_err 400 instance-operations/launch/insufficient-capacity "fault: no capacity in us-east-1" "$st"
req GET /instance-types >/dev/null
check "  ... while the region is still listed (the launch-time race)" test "$(jb '"us-east-1" in [r["name"] for r in d["data"]["gpu_1x_a10"]["regions_with_capacity_available"]]')" = true
st=$(req POST /instance-operations/launch '{"region_name": "us-west-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["gantry-test"], "name": "gantry-j3-a2"}')
check "  ... and the next region launches" test "$st" = 200
I3=$(jb 'd["data"]["instance_ids"][0]')
lambda_fake_ctl DELETE /_fake/faults >/dev/null
check "the capacity fault is gone after DELETE /_fake/faults" test "$(lambda_fake_ctl GET /_fake/faults)" = '{"data": []}'

check "instance 3 turns active" wait_for 10 status_is "$I3" active
lambda_fake_ctl POST /_fake/faults "{\"kind\": \"unhealthy\", \"instance_id\": \"$I3\"}" >/dev/null
check "fault: an active instance turns unhealthy" status_is "$I3" unhealthy
req POST /instance-operations/terminate "{\"instance_ids\": [\"$I2\", \"$I3\"]}" >/dev/null
check "two instances terminate in one call" test "$(jb 'sorted(i["status"] for i in d["data"]["terminated_instances"])')" = '["terminating", "terminating"]'
check "  ... and their workers come free" wait_for 10 workers_free

lambda_fake_ctl POST /_fake/faults '{"kind": "boot_hang", "name_contains": "hang"}' >/dev/null
lambda_fake_ctl POST /_fake/faults '{"kind": "unhealthy", "name_contains": "sick"}' >/dev/null
lambda_fake_ctl POST /_fake/faults '{"kind": "list_lag", "seconds": 5, "name_contains": "lag"}' >/dev/null
req POST /instance-operations/launch '{"region_name": "us-west-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["gantry-test"], "name": "gantry-hang"}' >/dev/null
IH=$(jb 'd["data"]["instance_ids"][0]')
req POST /instance-operations/launch '{"region_name": "us-west-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["gantry-test"], "name": "gantry-sick"}' >/dev/null
IS=$(jb 'd["data"]["instance_ids"][0]')
req POST /instance-operations/launch '{"region_name": "us-west-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["gantry-test"], "name": "gantry-lag"}' >/dev/null
IL=$(jb 'd["data"]["instance_ids"][0]')
check "fault list_lag: a fresh instance is missing from GET /instances" not_listed "$IL"
check "  ... while GET /instances/ID finds it" test "$(istatus "$IL")" = booting
check "fault unhealthy at boot: the instance comes up unhealthy" wait_for 10 status_is "$IS" unhealthy
check "  ... (the lagging instance boots meanwhile)" wait_for 10 status_is "$IL" active
check "fault boot_hang: a boot that never finishes stays booting after its peers are up" status_is "$IH" booting
check "  ... the lagging instance shows up in the list in the end" wait_for 10 listed "$IL"
req POST /instance-operations/terminate "{\"instance_ids\": [\"$IH\", \"$IS\", \"$IL\"]}" >/dev/null
check "the hung, sick and lagging instances terminate" test "$(jb 'len(d["data"]["terminated_instances"])')" = 3
check "  ... and free their workers" wait_for 10 workers_free

# a launch that happens but whose answer is lost: what Gantry must adopt by name
lambda_fake_ctl POST /_fake/faults '{"kind": "status", "status": 500, "path": "/api/v1/instance-operations/launch", "after": true}' >/dev/null
st=$(req POST /instance-operations/launch '{"region_name": "us-west-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["gantry-test"], "name": "gantry-j9-a1"}')
want_err 500 global/internal-error "fault after: the launch answers 500" "$st"
req GET /instances >/dev/null
check "  ... but the instance exists, findable by its name" test "$(jb '[i["status"] for i in d["data"] if i.get("name") == "gantry-j9-a1"]')" = '["booting"]'
I9=$(jb '[i["id"] for i in d["data"] if i.get("name") == "gantry-j9-a1"][0]')
req POST /instance-operations/terminate "{\"instance_ids\": [\"$I9\"]}" >/dev/null

# --- rate limits ------------------------------------------------------------------------------
check "the control API turns the rate limit on" test "$(lambda_fake_ctl POST /_fake/config '{"rate_limit": true, "rps": 0.1, "launch_interval": 30}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["rate_limit"])')" = True
req GET /ssh-keys >/dev/null
st=$(req GET /ssh-keys)
want_err 429 global/rate-limited "rate limit: a second request too soon (rate 0.1/s here)" "$st"
check "  ... with a Retry-After header" grep -qi '^retry-after: [0-9]' "$H"
lambda_fake_ctl POST /_fake/config '{"rps": 100, "burst": 100}' >/dev/null
st=$(req POST /instance-operations/launch '{"region_name": "us-west-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["gantry-test"], "name": "gantry-r1"}')
check "rate limit: a first launch passes" test "$st" = 200
IR=$(jb 'd["data"]["instance_ids"][0]')
st=$(req POST /instance-operations/launch '{"region_name": "us-west-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["gantry-test"], "name": "gantry-r2"}')
want_err 429 global/rate-limited "rate limit: a second launch within the launch interval" "$st"
check "  ... Retry-After tells the rest of the interval" grep -qiE '^retry-after: (2[0-9]|30)' "$H"
lambda_fake_ctl POST /_fake/config '{"rate_limit": false}' >/dev/null
req POST /instance-operations/terminate "{\"instance_ids\": [\"$IR\"]}" >/dev/null

# --- the request log ------------------------------------------------------------------------
lambda_fake_ctl GET /_fake/log >"$T_HOME/log.json"
lg() { python3 -c 'import json,sys; L=json.load(open(sys.argv[1]))["data"]; v=eval(sys.argv[2]); print(json.dumps(v) if not isinstance(v,str) else v)' "$T_HOME/log.json" "$1"; }
check "the log records the launch with its JSON body and name" test "$(lg 'sum(1 for e in L if e["path"] == "/api/v1/instance-operations/launch" and e["status"] == 200 and (e["json"] or {}).get("name") == "gantry-j1-a1")')" = 1
check "the log records method, status and auth scheme" test "$(lg '[(e["method"], e["status"], e["auth"]) for e in L][0]')" = '["GET", 401, "none"]'
check "the log masks the Authorization header" test "$(lg 'sorted({e["headers"].get("Authorization") for e in L if e["auth"] == "bearer"})')" = '["Bearer ***"]'
check "the API key appears nowhere in the log" bash -c "! grep -qF '$LAMBDA_FAKE_KEY' '$T_HOME/log.json'"
check "the log counts every launch accepted (7)" test "$(lg 'sum(1 for e in L if e["path"].endswith("/launch") and e["status"] in (200,) )')" = 7
check "lambda_fake_q evaluates over the log" test "$(lambda_fake_q /_fake/log 'sum(1 for e in d["data"] if e["path"].endswith("/launch") and e["status"] == 200 and "j1" in (e["json"] or {}).get("name", ""))')" = 1
check "GET /_fake/log?since=N returns only later entries" test "$(lambda_fake_ctl GET "/_fake/log?since=$(lg 'L[-2]["seq"]')" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]))')" = 1
check "the control API refuses a bad fault" test "$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $LAMBDA_FAKE_CTL" --data-binary '{"kind": "meteor"}' "$LAMBDA_FAKE_URL/_fake/faults")" = 400

# --- a second fake: virtual workers (no sshd) and a delay on every call, for benchmarks ------------
python3 "$LAMBDA_FAKE_PY" --api-key-file "$LAMBDA_FAKE_KEY_FILE" --ctl-token-file "$LAMBDA_FAKE_DIR/ctl_token" \
	--virtual-workers 2 --boot-delay 0 >"$T_HOME/v.out" 2>"$T_HOME/v.err" &
VPID=$!
check "a fake with only virtual workers starts" wait_for 10 grep -q '^PORT ' "$T_HOME/v.out"
V=http://127.0.0.1:$(sed -n 's/^PORT //p' "$T_HOME/v.out")
vreq() { curl -sS -o "$B" -w '%{http_code}' -H "Authorization: Bearer $LAMBDA_FAKE_KEY" "$@"; }
vreq -H 'Content-Type: application/json' --data-binary "{\"name\": \"k\", \"public_key\": \"$PUB\"}" "$V/api/v1/ssh-keys" >/dev/null
curl -sS -o /dev/null -H "Authorization: Bearer $LAMBDA_FAKE_CTL" --data-binary '{"kind": "delay", "ms": 200, "count": -1}' "$V/_fake/faults"
VL='{"region_name": "us-east-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["k"]}'
st1=$(vreq -H 'Content-Type: application/json' --data-binary "$VL" "$V/api/v1/instance-operations/launch")
st2=$(vreq -H 'Content-Type: application/json' --data-binary "$VL" "$V/api/v1/instance-operations/launch")
check "two launches on two virtual workers pass" test "$st1 $st2" = "200 200"
st=$(vreq -H 'Content-Type: application/json' --data-binary "$VL" "$V/api/v1/instance-operations/launch")
want_err 400 instance-operations/launch/insufficient-capacity "a third launch finds no worker" "$st"
vreq "$V/api/v1/instances" >/dev/null
check "virtual workers hand out 127.0.1.x addresses" test "$(jb 'sorted(i.get("ip", "") for i in d["data"])')" = '["127.0.1.1", "127.0.1.2"]'
t=$(curl -sS -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $LAMBDA_FAKE_KEY" "$V/api/v1/instances")
check "a delay fault with count -1 stays armed (${t}s)" python3 -c "import sys; sys.exit(not float('$t') >= 0.2)"
kill -TERM "$VPID"
wait "$VPID" 2>/dev/null || :
VPID=

# --- stopping the fake leaves the workers as they were ------------------------------------------
req POST /instance-operations/launch "$L" >/dev/null
check "a last instance installs its key" wait_for 5 grep -qxF "$PUB" "$W1_KEYS"
kill -TERM "$LAMBDA_FAKE_PID"
wait "$LAMBDA_FAKE_PID" 2>/dev/null || :
LAMBDA_FAKE_PID=
check "SIGTERM: the fake removed the keys it installed" bash -c "! grep -qF '$PUB' '$W1_KEYS' '$W2_KEYS'"

t_done
