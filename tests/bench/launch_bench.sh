#!/usr/bin/env bash
# tests/bench/launch_bench.sh: 100 launches of the lambda provider against the Lambda fake with
# 200 ms on every API call (rate limit off), all at once vs one by one, in the same run; each
# phase against a fresh fake (tests/fakes/lambda_fake.py, 100 virtual workers, boot delay 0).
# usage: tests/bench/launch_bench.sh BUILD_DIR [N]   (make bench runs it)
# The driver is tests/bench/launch_bench (see its header for where a launch ends). Checked
# here, from each fake's /_fake/log and /_fake/state: exactly N accepted launch POSTs, no
# launch POST refused, and every instance terminated at the end; any failure fails the bench.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1
n=${2:-100}
fake=$here/../fakes/lambda_fake.py
dir=$(mktemp -d "${TMPDIR:-/tmp}/launch-bench.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || :; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || :; done
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "launch_bench: FAIL: $*" >&2; exit 1; }

(umask 077 && python3 -c 'import secrets; print("bench_" + secrets.token_hex(16))' >"$dir/key" &&
	python3 -c 'import secrets; print("ctl_" + secrets.token_hex(16))' >"$dir/ctl")
ctl=$(cat "$dir/ctl")

# start_fake NAME: a fresh fake; sets URL_<NAME>
start_fake() {
	local name=$1 i
	python3 "$fake" --api-key-file "$dir/key" --ctl-token-file "$dir/ctl" \
		--virtual-workers "$n" --boot-delay 0 >"$dir/$name.out" 2>"$dir/$name.log" &
	pids+=($!)
	for ((i = 0; i < 100; i++)); do
		grep -q '^PORT ' "$dir/$name.out" 2>/dev/null && break
		kill -0 "${pids[-1]}" 2>/dev/null || fail "the fake $name exited: $(cat "$dir/$name.log")"
		sleep 0.1 # polling the fake's start line, 10 s at most
	done
	grep -q '^PORT ' "$dir/$name.out" || fail "the fake $name did not start"
	printf -v "URL_$name" 'http://127.0.0.1:%s' "$(awk '/^PORT /{print $2}' "$dir/$name.out")"
	local url_var=URL_$name
	# 200 ms on every API call (the control API is not delayed)
	curl -fsS -H "Authorization: Bearer $ctl" -H 'Content-Type: application/json' \
		-d '{"kind": "delay", "ms": 200, "count": -1}' "${!url_var}/_fake/faults" >/dev/null
}
start_fake A
start_fake B

"$build/tests/bench/launch_bench" "$n" "$URL_A" "$URL_B" "$dir/key" "$dir/state"

# check NAME PHASE: the fake's log and state after the phase
check() {
	local name=$1 phase=$2 url_var=URL_$1 deadline=$((SECONDS + 30)) st
	curl -fsS -H "Authorization: Bearer $ctl" "${!url_var}/_fake/log" >"$dir/$name.json"
	python3 - "$dir/$name.json" "$n" "$phase" <<'EOF'
import collections, json, sys
d = json.load(open(sys.argv[1]))["data"]
n, phase = int(sys.argv[2]), sys.argv[3]
launch = [e for e in d if e["method"] == "POST" and e["path"].endswith("/instance-operations/launch")]
ok = [e for e in launch if e["status"] == 200]
names = {(e["json"] or {}).get("name") for e in ok}
by = collections.Counter()
for e in d:
    p = e["path"].replace("/api/v1", "")
    if p.startswith("/instances/"):
        p = "/instances/{id}"
    by["%s %s" % (e["method"], p)] += 1
print("fake %s: %d requests (%s)" % (phase, len(d), ", ".join("%s %d" % kv for kv in sorted(by.items()))))
if ok:
    t = sorted(e["time"] for e in ok)
    print("fake %s: the %d launch POSTs arrived over %.0f ms" % (phase, len(ok), 1000 * (t[-1] - t[0])))
if len(ok) != n or len(launch) != n or len(names) != n:
    sys.exit("launch_bench: FAIL: %s: %d launch POSTs, %d accepted, %d names (want %d each)"
             % (phase, len(launch), len(ok), len(names), n))
bad = [e for e in d if e["status"] >= 300]
if bad:
    sys.exit("launch_bench: FAIL: %s: %d requests refused, e.g. %s %s %d"
             % (phase, len(bad), bad[0]["method"], bad[0]["path"], bad[0]["status"]))
EOF
	# every instance terminated (terminating -> terminated after the fake's 0.5 s)
	while :; do
		st=$(curl -fsS -H "Authorization: Bearer $ctl" "${!url_var}/_fake/state" |
			python3 -c 'import json, sys
d = json.load(sys.stdin)["data"]["instances"]
print(len(d), sum(1 for i in d if i["status"] == "terminated"))')
		[ "$st" = "$n $n" ] && break
		[ "$SECONDS" -lt "$deadline" ] || fail "$phase: instances, terminated: $st (want $n $n)"
		sleep 0.2 # polling the fake's state until the terminates complete, 30 s at most
	done
	echo "fake $phase: $n instances, all terminated"
}
check A concurrent
check B serial
