#!/usr/bin/env bash
# tests/bench/k8s_launch_bench.sh: N launches of the kubernetes provider against the
# Kubernetes fake with 200 ms added to every API request, all at once vs one by one, in the
# same run; each phase against a fresh fake (tests/lib/k8srig.sh).
# usage: tests/bench/k8s_launch_bench.sh BUILD_DIR [N [KIND]]   (make bench runs it)
# The driver is tests/bench/k8s_bench launch (see its header for where a launch ends).
# Checked here, from each fake's request log (tests/bench/k8s_pods.py): exactly N objects of
# the kind's workload created (POST, 201), no request refused (but a 404, the adoption
# check's "not there yet"); any failure fails the bench.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
n=${2:-100}
kind=${3:-training}
bench=$build/tests/bench/k8s_bench
fail() { echo "k8s_launch_bench: FAIL: $*" >&2; exit 1; }
skip() { echo "k8s_launch_bench: SKIP: $*"; exit 77; }
[ -f "$src/tests/lib/k8srig.sh" ] || skip "tests/lib/k8srig.sh (the Kubernetes fake) is not here"
[ -x "$bench" ] || skip "$bench is not built (make -C $1 tests/bench/k8s_bench)"

dir=$(mktemp -d "${TMPDIR:-/tmp}/k8s-launch-bench.XXXXXX")
cleanup() {
	k8srig_stop 2>/dev/null || :
	rm -rf "$dir"
}
trap cleanup EXIT
# what tests/lib/common.sh gives the tests, for the rig
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}
# shellcheck source=../lib/k8srig.sh
. "$src/tests/lib/k8srig.sh"

# phase NAME MODE PREFIX: a fresh fake with 200 ms a request, N launches, the fake's log
phase() {
	local name=$1 mode=$2 prefix=$3
	k8srig_start "$dir/$name" >"$dir/$name.rig" 2>&1 ||
		fail "the fake did not start: $(tail -5 "$dir/$name.rig")"
	python3 "$here/k8s_pods.py" latency 200
	"$bench" launch "$n" "$mode" "$kind" "$prefix" "$dir/$name.state" \
		"kubeconfig=$dir/$name/kubeconfig" "namespace=default" ||
		fail "$name: the launches"
	python3 "$here/k8s_pods.py" check-launches "$name" "$n" "$kind"
	k8srig_stop
}
phase concurrent once 0c0c
phase serial serial 5e5e
