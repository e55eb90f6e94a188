#!/usr/bin/env bash
# tests/bench/k8s_watch_bench.sh: an open TUI over N pods of the Kubernetes fake, the
# kubernetes provider watching (list + watch, the default) vs polling (`watch: false`: a list
# of every kind each poll_interval, the reference), in the same run, against the same pods.
# usage: tests/bench/k8s_watch_bench.sh BUILD_DIR [N [SECONDS [WARMUP]]]   (make bench runs it)
#
# One fake (tests/lib/k8srig.sh) holds N idle pods (image gantry.test/idle: no process)
# labelled as the jobs of one store; the store (written by tests/bench/k8s_bench seed with
# the store API) holds N RUNNING notebook jobs with those pods as refs. For each mode the
# same store (a copy) is opened by `gantry -d 1000 --view jobs` in tmux (120x40); after
# WARMUP seconds (the first list and the first screens) the gantry process's CPU time
# (utime + stime from /proc) and the fake's are taken, then again SECONDS later; the
# gantry process's peak RSS (VmHWM) at the end. Checked, or the bench fails: the Jobs view
# shows N jobs, gantry still runs at the end, every job still RUNNING in the store
# (`gantry ls --no-refresh`), and the fake saw the requests of the mode (watch: at least one
# watch request per kind and no more lists than kinds x namespaces x 2; polling: lists, no
# watch).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
n=${2:-5000}
secs=${3:-60}
warm=${4:-15}
gantry=$build/gantry
bench=$build/tests/bench/k8s_bench
fail() { echo "k8s_watch_bench: FAIL: $*" >&2; exit 1; }
skip() { echo "k8s_watch_bench: SKIP: $*"; exit 77; }
[ -f "$src/tests/lib/k8srig.sh" ] || skip "tests/lib/k8srig.sh (the Kubernetes fake) is not here"
[ -x "$bench" ] || skip "$bench is not built (make -C $1 tests/bench/k8s_bench)"
command -v tmux >/dev/null || skip "tmux is not installed"
"$gantry" --help 2>&1 | grep -q kubernetes || skip "this gantry has no kubernetes provider"

dir=$(mktemp -d "${TMPDIR:-/tmp}/k8s-watch-bench.XXXXXX")
sock=k8s-watch-bench-$$
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || :
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
k8srig_start "$dir/rig" >"$dir/rig.log" 2>&1 || fail "the fake did not start: $(tail -5 "$dir/rig.log")"

# The store and its N jobs; then N pods labelled as theirs.
mkdir -p "$dir/seed/state"
"$bench" seed "$dir/seed/state/gantry.db" "$n" 0b0b kube default >"$dir/seed.out" ||
	fail "seeding the store"
install=$(head -1 "$dir/seed.out")
tail -n +2 "$dir/seed.out" >"$dir/ids"
[ "$(wc -l <"$dir/ids")" = "$n" ] || fail "the store got $(wc -l <"$dir/ids") jobs, wanted $n"
t0=$SECONDS
python3 "$here/k8s_pods.py" create "$dir/ids" "$install" || fail "creating $n pods in the fake"
echo "k8s_watch_bench: $n pods created in $((SECONDS - t0)) s"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# run_mode NAME WATCH: gantry in tmux over a copy of the seeded store
run_mode() {
	local name=$1 watch=$2 home pid c0 c1 f0 f1 hwm rss
	home=$dir/$name
	mkdir -p "$home/config"
	cp -a "$dir/seed/state" "$home/state"
	cat >"$home/config/config.yaml" <<EOF
default_provider: kube
providers:
  kube:
    type: kubernetes
    kubeconfig: $dir/rig/kubeconfig
    watch: $watch
    poll_interval: 2s
EOF
	python3 "$here/k8s_pods.py" requests >"$dir/$name.req0"
	tmux -L "$sock" new-session -d -s "$name" -x 120 -y 40 \
		"exec env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 GANTRY_HOME=$home \
GANTRY_SYSTEM_DIR=$home/system GANTRY_DATADIR=$src $gantry -d 1000 --view jobs 2>$home/stderr"
	pid=$(tmux -L "$sock" list-panes -t "$name" -F '#{pane_pid}')
	sleep "$warm" # the warm-up: the first list and the first screens are not timed
	kill -0 "$pid" 2>/dev/null || fail "$name: gantry exited: $(cat "$home/stderr")"
	tmux -L "$sock" capture-pane -p -t "$name" | grep -Eq "Jobs \\($n\\)" ||
		fail "$name: the Jobs view does not show $n jobs: $(tmux -L "$sock" capture-pane -p -t "$name" | head -3)"
	c0=$(cpu_ticks "$pid")
	f0=$(cpu_ticks "$K8S_FAKE_PID")
	python3 "$here/k8s_pods.py" requests >"$dir/$name.req1"
	sleep "$secs" # the measured window
	kill -0 "$pid" 2>/dev/null || fail "$name: gantry exited: $(cat "$home/stderr")"
	c1=$(cpu_ticks "$pid")
	f1=$(cpu_ticks "$K8S_FAKE_PID")
	python3 "$here/k8s_pods.py" requests >"$dir/$name.req2"
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
	tmux -L "$sock" kill-session -t "$name"
	GANTRY_HOME=$home GANTRY_SYSTEM_DIR=$home/system "$gantry" ls --no-refresh -o json |
		python3 -c 'import json, sys
v = json.load(sys.stdin); n = int(sys.argv[1])
bad = [j["name"] for j in v if j["state"] != "RUNNING"]
if len(v) != n or bad:
    sys.exit("%d jobs, %d not RUNNING (e.g. %s)" % (len(v), len(bad), bad[:3]))' "$n" ||
		fail "$name: the store after the run"
	python3 - "$name" "$watch" "$dir/$name.req0" "$dir/$name.req1" "$dir/$name.req2" \
		"$((c1 - c0))" "$((f1 - f0))" "$hz" "$secs" "$hwm" "$rss" "$n" <<'PY'
import json, sys
name, watch, r0, r1, r2 = sys.argv[1:6]
cpu, fcpu, hz, secs, hwm, rss, n = (int(x) for x in sys.argv[6:13])
def load(p):
    return json.load(open(p))
a, b, c = load(r0), load(r1), load(r2)
def diff(x, y):
    return {k: y.get(k, 0) - x.get(k, 0) for k in y}
warm, win = diff(a, b), diff(b, c)
def fmt(d):
    return ", ".join("%s %d" % kv for kv in sorted(d.items()) if kv[1])
print("phase %s watch=%s pods=%d window_s=%d gantry_cpu_s=%.2f (%.1f%% of a core) "
      "fake_cpu_s=%.2f max_rss_mib=%.1f rss_mib=%.1f" %
      (name, watch, n, secs, cpu / hz, 100.0 * cpu / hz / secs, fcpu / hz, hwm / 1024,
       rss / 1024))
print("  requests in the warm-up: %s" % fmt(warm))
print("  requests in the window:  %s" % fmt(win))
lists = sum(v for k, v in win.items() if k.startswith("list "))
watches = sum(v for k, v in diff(a, c).items() if k.startswith("watch "))
if watch == "true" and (watches == 0 or lists > 8):
    sys.exit("k8s_watch_bench: FAIL: %s: %d watch requests, %d lists in the window" % (name, watches, lists))
if watch == "false" and (watches != 0 or lists == 0):
    sys.exit("k8s_watch_bench: FAIL: %s: %d watch requests, %d lists in the window" % (name, watches, lists))
PY
}
run_mode watch true
run_mode poll false
