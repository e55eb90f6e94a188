#!/usr/bin/env bash
# broker_forward.sh (issue 12): port forwards brokered by gantryd. As root, with test users
# (tests/lib/gantryd.sh), gantryd as the service account g12svc with an ssh provider over real
# sshd workers (tests/lib/sshrig.sh) whose key only the service can read:
# - g12alice's `gantry ssh` reaches the worker over SSH through the daemon
# - g12alice forwards her job's port through the daemon: the daemon listens on 127.0.0.1 and
#   her curl gets the worker's page
# - g12bob's curl (and root's) on the same port is cut off at once, and alice is told
#   "connection from uid N refused"; bob cannot open a forward on alice's job
# - --bind to another address is refused through gantryd
# - the forward closes with alice's `gantry forward` (the connection that opened it), and
#   alice's `gantry forward` ends (exit 1, "the job ended") when her job is stopped
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/gantryd.sh"
source "$(dirname "$0")/../lib/sshrig.sh"

gd_users
for tool in curl python3 /usr/sbin/sshd; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL - $tool is missing (apt-get install curl python3 openssh-server)"
		exit 1
	fi
done
GD_DIR=$(mktemp -d /tmp/gantryd-test.XXXXXX)
chmod 0755 "$GD_DIR"
fwd_pid=
# alice's gantry forward runs under runuser in a background subshell: end the whole chain
kill_fwd() {
	local p
	for p in $(pgrep -u g12alice -f -- "$GANTRY_BIN forward aw" || :); do kill -KILL "$p" 2>/dev/null || :; done
	kill "$fwd_pid" 2>/dev/null || :
}
trap 'if [ -n "$fwd_pid" ]; then kill_fwd; fi; gd_stop; rig_cleanup; rm -rf "$GD_DIR"; t_cleanup' EXIT

rig_workers 1 0
mkdir -p "$GD_DIR/run/system/templates"
cat >"$GD_DIR/run/system/templates/gd-web.yaml" <<'YAML'
name: gd-web
kind: endpoint
description: A static HTTP server on the worker.
resources: {accelerators: none}
placement: {providers: [fleet]}
service: {readiness: /, readiness_timeout: 30}
limits: {max_runtime: 10m}
run: |
  mkdir -p www && echo hello-from-worker > www/index.html
  exec python3 -m http.server --bind 127.0.0.1 --directory www "$GANTRY_PORT"
YAML
chmod 0644 "$GD_DIR/run/system/templates/gd-web.yaml"
cat >"$GD_DIR/policy.yaml" <<'YAML'
roles:
  ml: {groups: [g12-ml], providers: [local, fleet], templates: [gd-*], see: team}
  vision: {groups: [g12-vision], providers: [local, fleet], templates: [gd-*], see: team}
teams: {ml: [g12-ml], vision: [g12-vision]}
YAML
gd_start "$GD_DIR/run" "$GD_DIR/policy.yaml"
# the service's provider config: the workers' key and known_hosts copied into its own home
install -d -o g12svc -g g12svc -m 0700 "$GD_HOME/config"
install -o g12svc -g g12svc -m 0600 "$RIG_KEY" "$GD_HOME/config/worker_key"
install -o g12svc -g g12svc -m 0600 "$RIG_KNOWN_HOSTS" "$GD_HOME/config/known_hosts"
sed -e "s|^\(    key: \).*|\1$GD_HOME/config/worker_key|" \
	-e "s|^\(    known_hosts: \).*|\1$GD_HOME/config/known_hosts|" \
	"$GANTRY_HOME/config/config.yaml" >"$GD_HOME/config/config.yaml"
chown g12svc:g12svc "$GD_HOME/config/config.yaml"
chmod 0600 "$GD_HOME/config/config.yaml"
gd_stop
gd_start "$GD_DIR/run" "$GD_DIR/policy.yaml" # with the fleet configured

jstate() { as "$1" "$GANTRY_BIN" show "$2" -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("state",""))'; }
running() { [ "$(jstate "$1" "$2")" = RUNNING ]; }

expect_rc 0 "alice launches gd-web on the fleet through gantryd" as g12alice "$GANTRY_BIN" launch gd-web --name aw
check "alice's endpoint reaches RUNNING" wait_for 60 running g12alice aw

# a shell on the ssh worker, through the daemon, with a key alice cannot read
as g12alice "$GANTRY_BIN" ssh aw -- find . -name index.html -exec cat {} + </dev/null >"$T_HOME/sh.out" 2>"$T_HOME/sh.err" || :
page=$(tr -d '\r' <"$T_HOME/sh.out")
check "alice's brokered shell on the ssh worker reads the job's file (got '$page'; $(head -c 200 "$T_HOME/sh.err"))" \
	[ "$page" = hello-from-worker ]

# input piped in, then its end: cat prints it and ends (over SSH: the helper's PTY is raw)
printf 'piped-in\n' | as g12alice "$GANTRY_BIN" ssh aw -- cat >"$T_HOME/cat.out" 2>&1 &
catpid=$!
cat_done() { ! kill -0 "$catpid" 2>/dev/null; }
check "cat through the daemon ends once alice's input ends" wait_for 30 cat_done
rc=0
wait "$catpid" 2>/dev/null || rc=$?
cat_ok() { [ "$rc" = 0 ] && grep -q piped-in "$T_HOME/cat.out" && ! grep -qF '^@' "$T_HOME/cat.out" && ! tr -d '\r\n' <"$T_HOME/cat.out" | grep -q '[[:cntrl:]]'; }
check "... exit 0 (got $rc), the input printed back, no stray byte ($(od -c "$T_HOME/cat.out" | head -3 | tr '\n' ' '))" cat_ok

as g12alice "$GANTRY_BIN" forward aw >"$T_HOME/fwd.out" 2>"$T_HOME/fwd.err" &
fwd_pid=$!
check "alice's gantry forward prints its URL ($(head -c 300 "$T_HOME/fwd.err"))" \
	wait_for 30 grep -q '^Open: ' "$T_HOME/fwd.out"
url=$(sed -n 's/^Open: //p' "$T_HOME/fwd.out")
echo "# forward: $url"
port=${url#http://127.0.0.1:}
port=${port%%/*}
check "the forward listens on 127.0.0.1 only" bash -c "ss -ltn | grep -q ' 127.0.0.1:$port ' && ! ss -ltn | grep -Eq ' (0\.0\.0\.0|\*|\[::\]):$port '"
page_as() { as "$1" curl -fsS --max-time 20 "$url" | grep -qx hello-from-worker; }
check "alice's curl gets the worker's page through the daemon's forward" page_as g12alice

rc=0
as g12bob curl -sS --max-time 20 "$url" >"$T_HOME/bob.out" 2>"$T_HOME/bob.err" || rc=$?
check "bob's curl on alice's forward is cut off (exit $rc: $(head -c 200 "$T_HOME/bob.err"))" \
	bash -c "[ '$rc' = 52 ] || [ '$rc' = 56 ]"
check "... and got no byte of the page" bash -c "! grep -q hello-from-worker '$T_HOME/bob.out'"
check "alice's forward says the connection from bob's uid was refused" \
	wait_for 10 grep -q "connection from uid $(id -u g12bob) refused" "$T_HOME/fwd.err"
rc=0
curl -sS --max-time 20 "$url" >"$T_HOME/root.out" 2>/dev/null || rc=$?
check "root's curl is refused too (exit $rc)" bash -c "[ '$rc' = 52 ] || [ '$rc' = 56 ]"
check "alice's curl still works" page_as g12alice

cannot() { ! as "$@" >/dev/null 2>&1; }
check "alice cannot read the workers' key" cannot g12alice cat "$GD_HOME/config/worker_key"
check "(while the service can: the check is real)" as g12svc test -r "$GD_HOME/config/worker_key"
rc=0
as g12alice "$GANTRY_BIN" forward aw --bind 0.0.0.0 >/dev/null 2>"$T_HOME/bind.err" || rc=$?
check "--bind 0.0.0.0 is refused through gantryd (exit $rc: $(head -c 200 "$T_HOME/bind.err"))" \
	bash -c "[ '$rc' != 0 ] && grep -q '127.0.0.1 only' '$T_HOME/bind.err'"
rc=0
as g12bob "$GANTRY_BIN" forward aw >/dev/null 2>"$T_HOME/bobf.err" || rc=$?
check "bob cannot forward alice's job (exit $rc: $(head -c 200 "$T_HOME/bobf.err"))" \
	bash -c "[ '$rc' != 0 ] && grep -q 'no job matches' '$T_HOME/bobf.err'"

# the forward lives as long as alice's gantry forward (that process, by its pid)
gpid=$(pgrep -u g12alice -f -- "$GANTRY_BIN forward aw\$" | head -1)
check "alice's gantry forward is running (pid $gpid)" test -n "$gpid"
[ -z "$gpid" ] || kill -TERM "$gpid"
wait "$fwd_pid" 2>/dev/null || :
fwd_pid=
closed() { ! curl -s --max-time 5 -o /dev/null "$url"; ! ss -ltn | grep -q " 127.0.0.1:$port "; }
check "the forward closed with alice's gantry forward" wait_for 10 closed
check "gantryd is still serving" gd_ready

# a forward ends with its job: alice's gantry forward exits 1 and says why
as g12alice "$GANTRY_BIN" forward aw >"$T_HOME/fwd2.out" 2>"$T_HOME/fwd2.err" &
fwd_pid=$!
check "a second forward comes up" wait_for 30 grep -q '^Open: ' "$T_HOME/fwd2.out"
expect_rc 0 "alice stops her endpoint" as g12alice "$GANTRY_BIN" stop aw
fwd_ended() { ! kill -0 "$fwd_pid" 2>/dev/null; }
check "her gantry forward ends with the job" wait_for 20 fwd_ended
rc=0
wait "$fwd_pid" 2>/dev/null || rc=$?
fwd_pid=
check "... with exit 1 (got $rc) saying the job ended ($(head -c 200 "$T_HOME/fwd2.err"))" \
	bash -c "[ '$rc' = 1 ] && grep -q 'job ended' '$T_HOME/fwd2.err'"
t_done
