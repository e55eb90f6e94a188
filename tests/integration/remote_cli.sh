#!/usr/bin/env bash
# Remote mode (issue 12): the gantry CLI talking to gantryd. As root: test users
# (tests/lib/gantryd.sh), gantryd in the foreground as g12svc, gantry run as the users.
# - g12alice launches, lists, shows, reads the log of and stops a job through the daemon:
#   the job is hers (owner, owner_uid) and its process runs as the service account
# - launch and stop follow the job's states from the daemon's events; so does a `gantry
#   watch` running in another process
# - the client finds the daemon through GANTRY_DAEMON, config.yaml's `daemon:` and
#   SYSTEM_DIR/client.yaml; --embedded and `daemon: none` keep the engine in the process
# - a socket where no daemon listens: one line "gantryd at PATH is not running", exit 4
# - g12mallory (not in the socket's group): "permission denied (only members of group gantry
#   may use it)"
# - the daemon going away mid-session: a one-line error, no crash
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/gantryd.sh"

gd_users
GD_DIR=$(mktemp -d /tmp/gantry-remote.XXXXXX)
chmod 0755 "$GD_DIR"
trap 'gd_stop; rm -rf "$GD_DIR"; t_cleanup' EXIT

mkdir -p "$GD_DIR/run/system/templates"
cat >"$GD_DIR/run/system/templates/gd-sleep.yaml" <<'YAML'
name: gd-sleep
kind: training
resources: {accelerators: none, cpus: 1}
limits: {max_runtime: 10m}
run: echo "remote says hello"; sleep 300
YAML
gd_start "$GD_DIR/run"
chmod 0644 "$GD_SYSTEM/templates/gd-sleep.yaml"

# gantry as a user, with the system dir gantryd uses (where the client finds the templates
# gantryd has)
A() { as g12alice env GANTRY_SYSTEM_DIR="$GD_SYSTEM" "$GANTRY_BIN" "$@"; }
alice_uid=$(id -u g12alice)
svc_uid=$(id -u g12svc)

# --- launch, ls, show, logs, stop; a `gantry watch` of alice's prints the daemon's events
# (its first line is its pid: runuser does not pass our SIGTERM on)
as g12alice sh -c 'echo "$$"; exec env GANTRY_SYSTEM_DIR="$1" "$2" watch' sh "$GD_SYSTEM" \
	"$GANTRY_BIN" >"$T_HOME/watch" 2>&1 &
watching() { grep -q "watching gantryd's events" "$T_HOME/watch"; }
check "gantry watch through gantryd" wait_for 20 watching
out=$(A launch gd-sleep 2>&1) || fail "launch through gantryd: $out"
case $out in
*"launched gd-sleep-1"*RUNNING*) ok "launch through gantryd follows the job to RUNNING" ;;
*) fail "launch output: $out" ;;
esac
A ls >"$T_HOME/ls" 2>&1 || fail "ls: $(cat "$T_HOME/ls")"
if grep -Eq '^gd-sleep-1 +j[0-9a-f]+ +training +RUNNING +local .* g12alice' "$T_HOME/ls"; then
	ok "ls through gantryd shows the job RUNNING, owned by g12alice"
else
	fail "ls: $(cat "$T_HOME/ls")"
fi
json=$(A show gd-sleep-1 -o json)
check "show -o json: owner g12alice, owner_uid $alice_uid" python3 -c '
import json, sys
j = json.loads(sys.argv[1])
sys.exit(0 if j["owner"] == "g12alice" and j.get("owner_uid", int(sys.argv[2])) == int(sys.argv[2]) else 1)' "$json" "$alice_uid"
A show gd-sleep-1 >"$T_HOME/show" 2>&1
if grep -q '^owner: *g12alice' "$T_HOME/show" && grep -q 'RUNNING' "$T_HOME/show"; then
	ok "show through gantryd"
else
	fail "show: $(cat "$T_HOME/show")"
fi

# the job's process runs as the service account, not as alice
jobdir=$(find "$GD_HOME" -path '*/state/jobs/*' -name pid | head -n 1)
if [ -n "$jobdir" ]; then
	pid=$(cut -d' ' -f1 "$jobdir")
	puid=$(ps -o uid= -p "$pid" | tr -d ' ')
	if [ "$puid" = "$svc_uid" ]; then ok "the job runs as the service account (uid $puid)"; else
		fail "the job's process $pid runs as uid '$puid', wanted $svc_uid"
	fi
else
	fail "no job pid file under $GD_HOME"
fi

watch_saw_running() { grep -Eq 'job j[0-9a-f]+: STARTING -> RUNNING' "$T_HOME/watch"; }
check "another process's gantry watch saw the job start (gantryd's events)" wait_for 20 watch_saw_running

logs_have_line() { A logs gd-sleep-1 2>/dev/null | grep -q 'remote says hello'; }
check "logs through gantryd (a stream of its own)" wait_for 20 logs_have_line

# bob does not see alice's job (the daemon filters what it sends)
as g12bob env GANTRY_SYSTEM_DIR="$GD_SYSTEM" "$GANTRY_BIN" ls >"$T_HOME/bob" 2>&1 || :
if grep -q gd-sleep-1 "$T_HOME/bob"; then fail "bob sees alice's job: $(cat "$T_HOME/bob")"; else
	ok "another team's user does not see the job"
fi

out=$(A stop gd-sleep-1 2>&1) || fail "stop through gantryd: $out"
case $out in
*STOPPED*) ok "stop through gantryd follows the job to STOPPED" ;;
*) fail "stop output: $out" ;;
esac
if [ -n "${pid:-}" ]; then
	check "the job's process is gone after the stop" wait_for 20 pgroup_gone "$pid"
fi
watch_saw_stopped() { grep -Eq 'job j[0-9a-f]+: STOPPING -> STOPPED' "$T_HOME/watch"; }
check "gantry watch saw the stop" wait_for 20 watch_saw_stopped
WATCH=$(head -n 1 "$T_HOME/watch")
kill -TERM "$WATCH" 2>/dev/null || :
watch_gone() { ! kill -0 "$WATCH" 2>/dev/null; }
check "gantry watch ends on SIGTERM" wait_for 20 watch_gone
ls_stopped() { A ls | grep -Eq '^gd-sleep-1 .* STOPPED'; }
check "ls agrees: STOPPED" ls_stopped

# --- where the client finds the daemon (GANTRY_DAEMON is empty in these runs)
ahome=$(mktemp -d /tmp/gantry-remote-home.XXXXXX)
chown g12alice: "$ahome"
raw() { # raw USER CMD...: no GANTRY_DAEMON at all, a home of alice's own
	local u=$1
	shift
	runuser -u "$u" -- env -i PATH=/usr/bin:/bin HOME="$ahome" GANTRY_HOME="$ahome/g" \
		GANTRY_DATADIR="$GANTRY_DATADIR" NO_COLOR=1 LANG=C.UTF-8 "$@"
}
# config.yaml's daemon:
runuser -u g12alice -- mkdir -p "$ahome/g/config"
printf 'daemon: %s\n' "$GD_SOCK" | runuser -u g12alice -- tee "$ahome/g/config/config.yaml" >/dev/null
out=$(raw g12alice env GANTRY_SYSTEM_DIR="$GD_SYSTEM" "$GANTRY_BIN" doctor 2>&1) || :
case $out in
*"mode"*"remote: gantryd at $GD_SOCK, as g12alice"*) ok "config.yaml's daemon: is used" ;;
*) fail "doctor with config.yaml's daemon: $out" ;;
esac
raw_lists_job() { raw g12alice env GANTRY_SYSTEM_DIR="$GD_SYSTEM" "$GANTRY_BIN" ls | grep -q '^gd-sleep-1 '; }
check "config.yaml's daemon: lists the job" raw_lists_job
# --embedded: the user's own store, where the job is not
out=$(raw g12alice env GANTRY_SYSTEM_DIR="$GD_SYSTEM" "$GANTRY_BIN" --embedded ls 2>&1) || :
case $out in
*"No jobs"*) ok "--embedded runs the engine in the process (own empty store)" ;;
*) fail "--embedded ls: $out" ;;
esac
# SYSTEM_DIR/client.yaml (config.yaml says nothing)
rm -f "$ahome/g/config/config.yaml"
csys=$(mktemp -d /tmp/gantry-remote-sys.XXXXXX)
chmod 0755 "$csys"
printf '# the site'"'"'s gantryd\ndaemon: "%s"\n' "$GD_SOCK" >"$csys/client.yaml"
chmod 0644 "$csys/client.yaml"
out=$(raw g12alice env GANTRY_SYSTEM_DIR="$csys" "$GANTRY_BIN" doctor 2>&1) || :
case $out in
*"remote: gantryd at $GD_SOCK"*) ok "SYSTEM_DIR/client.yaml's daemon: is used" ;;
*) fail "doctor with client.yaml: $out" ;;
esac
# config.yaml's `daemon: none` wins over client.yaml
printf 'daemon: none\n' | runuser -u g12alice -- tee "$ahome/g/config/config.yaml" >/dev/null
out=$(raw g12alice env GANTRY_SYSTEM_DIR="$csys" "$GANTRY_BIN" doctor 2>&1) || :
case $out in
*"mode"*"embedded"*) ok "daemon: none in config.yaml is embedded mode" ;;
*) fail "doctor with daemon: none: $out" ;;
esac
rm -rf "$ahome" "$csys"

# --- no daemon there: one line, exit 4
rc=0
as g12alice env GANTRY_DAEMON="$GD_DIR/missing.sock" "$GANTRY_BIN" ls >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
if [ "$rc" = 4 ] && [ "$(wc -l <"$T_HOME/err")" = 1 ] &&
	grep -q "gantryd at $GD_DIR/missing.sock is not running" "$T_HOME/err" && [ ! -s "$T_HOME/out" ]; then
	ok "a missing socket: one line 'not running', exit 4"
else
	fail "missing socket: exit $rc, stderr: $(cat "$T_HOME/err"), stdout: $(cat "$T_HOME/out")"
fi

# --- not in the socket's group: permission denied, naming the group
rc=0
as g12mallory "$GANTRY_BIN" ls >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
if [ "$rc" != 0 ] && [ "$(wc -l <"$T_HOME/err")" = 1 ] &&
	grep -q "gantryd at $GD_SOCK: permission denied (only members of group gantry may use it)" "$T_HOME/err"; then
	ok "g12mallory: permission denied, naming the group (exit $rc)"
else
	fail "mallory: exit $rc, stderr: $(cat "$T_HOME/err")"
fi

# --- the daemon goes away: a one-line error, exit 4, no crash
gd_stop
rc=0
A ls >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
if [ "$rc" = 4 ] && grep -q "is not running" "$T_HOME/err"; then
	ok "after gantryd stopped: 'not running', exit 4"
else
	fail "after gantryd stopped: exit $rc, stderr: $(cat "$T_HOME/err")"
fi

echo "# $T_CHECKS checks, $T_FAILS failed"
[ "$T_FAILS" = 0 ]
