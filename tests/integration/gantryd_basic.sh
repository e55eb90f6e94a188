#!/usr/bin/env bash
# gantryd (issue 12): the daemon as a service account, users through its socket. As root:
# test users and groups (tests/lib/gantryd.sh), gantryd in the foreground as g12svc.
# - a user's launch runs as the service account and is recorded as the user's
# - users do not see, show or stop each other's jobs; $USER/$LOGNAME change nothing
# - a user outside the socket's group is refused (file mode, and the daemon's own check)
# - malformed, oversized and half-sent requests hurt only their own connection
# - SIGTERM: clean exit, socket removed; a broken policy at start: refused with FILE:LINE:COL
# - with the policy engine merged: over-limit and PII launches refused with their rule,
#   team visibility, admins see all, a broken policy edit keeps the last good one
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/gantryd.sh"

gd_users
GD_DIR=$(mktemp -d /tmp/gantryd-test.XXXXXX)
chmod 0755 "$GD_DIR"
trap 'gd_stop; rm -rf "$GD_DIR"; t_cleanup' EXIT

# a long job for the stop and "running jobs unaffected" checks
gd_templates() {
	cat >"$1/gd-sleep.yaml" <<'YAML'
name: gd-sleep
kind: training
resources: {accelerators: none, cpus: 1}
limits: {max_runtime: 10m}
run: sleep 300
YAML
	cat >"$1/gd-pii.yaml" <<'YAML'
name: gd-pii
kind: training
data: {classification: pii}
resources: {accelerators: none, cpus: 1}
limits: {max_runtime: 10m}
run: echo pii
YAML
	chmod 0644 "$1"/*.yaml
}

export GANTRYD_TEST_OUT_MAX=262144 # a client that does not read: dropped at 256 KiB
mkdir -p "$GD_DIR/run/system/templates"
gd_templates "$GD_DIR/run/system/templates"
gd_start "$GD_DIR/run"
field() { python3 -c 'import json,sys; m=json.loads(sys.stdin.readline()); r=m.get("result") or {}
for k in sys.argv[1].split("."): r = r.get(k) if isinstance(r, dict) else None
print("" if r is None else r)' "$1"; }
job_state_of() { gd_call "$1" job "{\"ref\": \"$2\"}" | field state; }
wait_job() { [ "$(job_state_of "$1" "$2")" = "$3" ]; }

# event listeners: alice's and bob's connections (job events only for jobs one may see)
for u in g12alice g12bob; do
	install -o "$u" -m 0600 /dev/null "$GD_DIR/$u.ev"
	as "$u" "$GD_PY" "$GD_LIB/gdfault.py" "$GD_SOCK" listen "$GD_DIR/$u.ev" \
		"$GD_DIR/stop-listen" &
	eval "L_$u=\$!"
done
listening() { grep -q ready "$GD_DIR/g12alice.ev" && grep -q ready "$GD_DIR/g12bob.ev"; }
check "event listeners connected" wait_for 10 listening

# --- the socket and the service's own paths
mode=$(stat -c '%a %U %G' "$GD_SOCK")
check "socket is 0660 g12svc:gantry ($mode)" [ "$mode" = "660 g12svc gantry" ]
check "the service home is --home, not the GANTRY_HOME it was started with" \
	test -f "$GD_HOME/state/gantry.db"
hello=$(gd_call g12alice hello)
check "hello: the kernel's identity (uid of g12alice)" \
	[ "$(echo "$hello" | field uid)" = "$(id -u g12alice)" ]

# --- a launch runs as the service account, recorded as the user's
out=$(gd_call g12alice launch '{"template": "hello", "sets": ["who=alice"]}')
hid=$(echo "$out" | field job_id)
check "alice launches hello ($out)" [ -n "$hid" ]
check "hello succeeds" wait_for 30 wait_job g12alice "$hid" SUCCEEDED
j=$(gd_call g12alice job "{\"ref\": \"$hid\"}")
check "the job is alice's (owner, owner_uid)" [ "$(echo "$j" | field owner)" = g12alice -a \
	"$(echo "$j" | field owner_uid)" = "$(id -u g12alice)" ]
ref=$(echo "$j" | field provider_ref)
check "its files belong to the service account ($ref)" [ "$(stat -c %U "$ref")" = g12svc ]
check "its output is there" grep -q "hello alice" "$ref"/*.log

out=$(gd_call g12alice launch '{"template": "gd-sleep"}')
sid=$(echo "$out" | field job_id)
check "alice launches gd-sleep ($out)" [ -n "$sid" ]
check "gd-sleep runs" wait_for 30 wait_job g12alice "$sid" RUNNING
pid=$(cut -d' ' -f1 "$GD_HOME/state/jobs/$sid/pid")
check "the job's process runs as g12svc" [ "$(ps -o user= -p "$pid")" = g12svc ]

# --- events: alice's connection heard about her job, bob's did not
touch "$GD_DIR/stop-listen"
wait "$L_g12alice" || fail "alice's listener"
wait "$L_g12bob" || fail "bob's listener"
ev_a=$GD_DIR/g12alice.ev
ev_b=$GD_DIR/g12bob.ev
check "alice's connection got her job's state events" \
	grep -q "\"job_state\".*$hid.*SUCCEEDED\|$hid.*\"to\":\"SUCCEEDED\"" "$ev_a"
check "bob's connection got none about it" bash -c "! grep -q '$hid' '$ev_b'"

# --- bob sees nothing of alice's, and cannot stop it
check "bob's list has no job of alice's" \
	bash -c "! gd_call g12bob jobs '{}' | grep -q '$sid'"
out=$(gd_call g12bob job "{\"ref\": \"$sid\"}" || :)
check "bob: alice's job does not exist ($out)" grep -q "no job matches" <<<"$out"
out=$(gd_call g12bob job "{\"ref\": \"${sid:0:6}\"}" || :)
check "bob: not by prefix either ($out)" grep -q "no job matches" <<<"$out"
out=$(gd_call g12bob job_events "{\"job_id\": \"$sid\"}" || :)
check "bob: no events of it ($out)" grep -q "no job matches" <<<"$out"
out=$(gd_call g12bob stop "{\"ref\": \"$sid\"}" || :)
check "bob cannot stop it ($out)" grep -q "no job matches" <<<"$out"
out=$(gd_call g12bob jobs_count '{}')
check "bob counts no job ($out)" [ "$(echo "$out" | field count)" = 0 ]
# the same through the real gantry (remote mode)
B() { as g12bob env GANTRY_SYSTEM_DIR="$GD_SYSTEM" "$@" "$GANTRY_BIN" "${GARGS[@]}"; }
out=$(as g12alice "$GANTRY_BIN" ls -a 2>&1) || fail "gantry ls as alice: $out"
check "gantry ls through gantryd: alice sees her job" grep -q "${sid:0:9}" <<<"$out"
GARGS=(ls -a)
out=$(B 2>&1) || fail "gantry ls as bob: $out"
check "gantry ls: bob does not see alice's job" bash -c "! grep -q '${sid:0:9}' <<<'$out'"
GARGS=(show "$sid")
out=$(B 2>&1) && fail "gantry show of alice's job as bob succeeded: $out"
check "gantry show: no such job for bob ($out)" grep -q "no job matches" <<<"$out"
GARGS=(stop "$sid")
out=$(B 2>&1) && fail "gantry stop of alice's job as bob succeeded: $out"
check "gantry stop: no such job for bob ($out)" grep -q "no job matches" <<<"$out"
GARGS=(ls -a)
out=$(B env USER=g12carol LOGNAME=g12carol 2>&1) || fail "gantry ls as bob with USER=g12carol: $out"
check "USER=g12carol LOGNAME=g12carol gantry ls: still bob's view" \
	bash -c "! grep -q '${sid:0:9}' <<<'$out'"
GARGS=(show "$sid")
out=$(B env USER=g12carol LOGNAME=g12carol 2>&1) && fail "show as 'carol' by env succeeded"
check "USER=g12carol gantry show: no such job ($out)" grep -q "no job matches" <<<"$out"
# what the environment says changes nothing
out=$(as g12bob env USER=g12alice LOGNAME=g12alice "$GD_PY" "$GD_LIB/gdclient.py" "$GD_SOCK" jobs '{}')
check "USER=g12alice LOGNAME=g12alice: bob still sees none of alice's jobs" \
	bash -c "! grep -q '$sid' <<<'$out'"
out=$(as g12bob env USER=g12alice LOGNAME=g12alice "$GD_PY" "$GD_LIB/gdclient.py" "$GD_SOCK" hello)
check "... and is still bob" [ "$(echo "$out" | field name)" = g12bob ]
check "alice's job still runs" wait_job g12alice "$sid" RUNNING

# --- outside the group
out=$(gd_call g12mallory hello 2>&1 || :)
check "mallory cannot connect (socket mode): $out" grep -qi "permission denied" <<<"$out"
chmod 0666 "$GD_SOCK" # the daemon checks the peer itself too
out=$(gd_call g12mallory hello 2>&1 || :)
chmod 0660 "$GD_SOCK"
check "mallory is refused by the daemon too: $out" \
	grep -q "permission denied: g12mallory.*not in group gantry" <<<"$out"

# --- faults hurt only their own connection
check "malformed messages: error answers, the connection stays" \
	as g12bob "$GD_PY" "$GD_LIB/gdfault.py" "$GD_SOCK" malformed
check "an oversized message: an error, then that client is dropped" \
	as g12bob "$GD_PY" "$GD_LIB/gdfault.py" "$GD_SOCK" oversized
check "a client that leaves mid-request" \
	as g12bob "$GD_PY" "$GD_LIB/gdfault.py" "$GD_SOCK" disconnect
check "a client that does not read its answers is dropped" \
	as g12bob "$GD_PY" "$GD_LIB/gdfault.py" "$GD_SOCK" noread
check "the daemon still answers" gd_call g12alice jobs_count '{}'
check "alice's job still runs after all that" wait_job g12alice "$sid" RUNNING
check "gantryd is alive" kill -0 "$GD_PID"

# --- alice stops her own job
out=$(gd_call g12alice stop "{\"ref\": \"$sid\"}")
check "alice stops her job ($out)" [ "$(echo "$out" | field job_id)" = "$sid" ]
check "it ends STOPPED" wait_for 30 wait_job g12alice "$sid" STOPPED

# --- the policy's rules (core/policy.c and core/engine_policy.c of the policy engineer)
role=$(gd_call g12alice hello | field role)
check "alice's role comes from the policy: ml ($role)" [ "$role" = ml ]
out=$(gd_call g12alice launch '{"template": "train-mnist-tiny"}' || :)
check "over limits: refused with the rule ($out)" grep -q "roles.ml.templates" <<<"$out"
out=$(gd_call g12alice launch '{"template": "gd-pii"}' || :)
check "PII outside eu-*: refused ($out)" grep -q "pii" <<<"$out"
out=$(gd_call g12carol jobs '{}')
check "carol (admin) sees alice's jobs" grep -q "$sid" <<<"$out"
out=$(gd_call g12alice launch '{"template": "gd-sleep"}')
tid=$(echo "$out" | field job_id)
check "alice launches gd-sleep again ($out)" [ -n "$tid" ]
out=$(gd_call g12dan jobs '{}')
check "dan (team ml, see: team) sees alice's job" grep -q "$tid" <<<"$out"
out=$(gd_call g12bob job "{\"ref\": \"$tid\"}" || :)
check "bob (team vision) does not ($out)" grep -q "no job matches" <<<"$out"
out=$(gd_call g12dan stop "{\"ref\": \"$tid\"}")
check "dan may stop his team's job ($out)" [ "$(echo "$out" | field job_id)" = "$tid" ]
check "it ends STOPPED" wait_for 30 wait_job g12alice "$tid" STOPPED
cp "$GD_SYSTEM/policy.yaml" "$GD_DIR/good.yaml"
printf 'roles:\n  ml: {groups: [g12-ml], see: [\n' >"$GD_SYSTEM/policy.yaml"
kill -HUP "$GD_PID"
perr() { gd_call g12alice hello | field policy_error | grep -q 'policy.yaml:[0-9]*:[0-9]*'; }
check "a broken policy edit is reported with FILE:LINE:COL" wait_for 10 perr
check "... and the last good policy stays" [ "$(gd_call g12alice hello | field role)" = ml ]
cp "$GD_DIR/good.yaml" "$GD_SYSTEM/policy.yaml"

# --- a second gantryd on the same socket is refused; the first keeps it
rc=0
install -d -o g12svc -g g12svc -m 0700 "$GD_DIR/home2"
timeout 20 runuser -u g12svc -- env -i PATH=/usr/bin:/bin GANTRY_DATADIR="$GANTRY_DATADIR" \
	"$GANTRYD_BIN" --foreground --socket "$GD_SOCK" --home "$GD_DIR/home2" \
	--system-dir "$GD_SYSTEM" >"$GD_DIR/second.out" 2>&1 || rc=$?
check "a second gantryd on the socket: refused (exit $rc): $(head -c 200 "$GD_DIR/second.out")" \
	grep -q "another gantryd is running there" "$GD_DIR/second.out"
check "the first one still answers" gd_call g12alice jobs_count '{}'
out=$("$GANTRYD_BIN" --help)
check "gantryd --help names its options" grep -q -- "--foreground.*" <<<"$out"

# --- SIGTERM: a clean exit, the socket removed
pid=$GD_PID
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
GD_PID=
check "SIGTERM: exit 0 (got $rc)" [ "$rc" = 0 ]
check "the socket is removed" [ ! -e "$GD_SOCK" ]

# --- a socket left by a gantryd that was killed is ours and stale: the next one starts
gd_start "$GD_DIR/run"
kill -KILL "$GD_PID"
wait "$GD_PID" 2>/dev/null || :
GD_PID=
check "SIGKILL leaves the socket" [ -S "$GD_SOCK" ]
gd_start "$GD_DIR/run"
check "the next gantryd replaces the stale socket and answers" gd_call g12alice jobs_count '{}'
gd_stop
# ... but never a file that is not a socket
echo keep >"$GD_DIR/run/not-a-socket"
chown g12svc: "$GD_DIR/run/not-a-socket"
rc=0
timeout 20 runuser -u g12svc -- env -i PATH=/usr/bin:/bin GANTRY_DATADIR="$GANTRY_DATADIR" \
	"$GANTRYD_BIN" --foreground --socket "$GD_DIR/run/not-a-socket" --home "$GD_HOME" \
	--system-dir "$GD_SYSTEM" >"$GD_DIR/nas.out" 2>&1 || rc=$?
check "a regular file at --socket: refused, kept ($(head -c 200 "$GD_DIR/nas.out"))" \
	[ "$rc" != 0 -a "$(cat "$GD_DIR/run/not-a-socket")" = keep ]

# --- a broken policy at start: refused, with FILE:LINE:COL
printf 'roles:\n  ml: {groups: [g12-ml], see: [\n' >"$GD_DIR/broken.yaml"
rc=0
timeout 20 runuser -u g12svc -- env -i PATH=/usr/bin:/bin GANTRY_DATADIR="$GANTRY_DATADIR" "$GANTRYD_BIN" \
	--foreground --socket "$GD_DIR/run/b.sock" --home "$GD_HOME" --system-dir "$GD_SYSTEM" \
	--policy "$GD_DIR/broken.yaml" >"$GD_DIR/b.out" 2>&1 || rc=$?
check "a broken policy at start: refused (exit $rc): $(head -c 200 "$GD_DIR/b.out")" \
	[ "$rc" != 0 -a "$rc" != 124 ]
check "... naming FILE:LINE:COL" grep -q "broken.yaml:[0-9]*:[0-9]*" "$GD_DIR/b.out"
check "no socket left by the refused start" [ ! -e "$GD_DIR/run/b.sock" ]
t_done
