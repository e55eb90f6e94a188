#!/usr/bin/env bash
# audit_daemon.sh: the audit log under gantryd (issue 12). As root: test users
# (tests/lib/gantryd.sh), gantryd in the foreground as g12svc, gantry run as the users.
# - g12alice's launch, refused launch (over the template's price cap) and stop, and g12bob's
#   launch, are audited in the service's store with each one's uid and name as the kernel
#   gives them (SO_PEERCRED), never the service account's, never $USER
# - `gantry audit` shows alice her own entries only, bob his; an admin (root) sees all
# - `gantry audit verify` is for admins: alice is refused, root gets "intact"
# - an edit of one entry in the service's store (trigger dropped) makes verify fail there
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/gantryd.sh"

command -v sqlite3 >/dev/null || {
	echo "sqlite3 (the command) is needed: apt-get install sqlite3" >&2
	exit 1
}
gd_users
GD_DIR=$(mktemp -d /tmp/gantry-audit-gd.XXXXXX)
chmod 0755 "$GD_DIR"
trap 'gd_stop; rm -rf "$GD_DIR"; t_cleanup' EXIT

# the service's own config: this host at 36 $/CPU-hour
mkdir -p "$GD_DIR/run/home/config"
printf 'refresh_ms: 300\nproviders:\n  local:\n    rate_cpu_hour: 36\n' >"$GD_DIR/run/home/config/config.yaml"
chown -R g12svc: "$GD_DIR/run/home"
chmod 0700 "$GD_DIR/run/home" "$GD_DIR/run/home/config"
chmod 0600 "$GD_DIR/run/home/config/config.yaml"
mkdir -p "$GD_DIR/run/system/templates"
cat >"$GD_DIR/run/system/templates/gd-sleep.yaml" <<'YAML'
name: gd-sleep
kind: training
resources: {accelerators: none, cpus: 1}
limits: {max_runtime: 10m}
run: echo "audited"; sleep 300
YAML
cat >"$GD_DIR/run/system/templates/gd-capped.yaml" <<'YAML'
name: gd-capped
kind: training
resources: {accelerators: none, cpus: 1}
limits: {max_hourly_cost: 1}
run: echo never
YAML
gd_start "$GD_DIR/run"
chmod 0644 "$GD_SYSTEM/templates/"*.yaml
db=$GD_HOME/state/gantry.db

G() { # G USER ARGS...: gantry as USER through gantryd
	local u=$1
	shift
	as "$u" env GANTRY_SYSTEM_DIR="$GD_SYSTEM" "$GANTRY_BIN" "$@"
}
alice_uid=$(id -u g12alice)
bob_uid=$(id -u g12bob)

expect_rc 0 "alice launches through gantryd" G g12alice launch gd-sleep --name a1 --detach
expect_rc 0 "bob launches through gantryd" G g12bob launch gd-sleep --name b1 --detach
expect_rc 2 "alice's launch over the price cap is refused" G g12alice launch gd-capped
check "with the cap in the message" grep -q 'caps the price' "$T_HOME/err"
expect_rc 0 "alice stops hers" G g12alice stop a1

# audit_of USER FILE: USER's `gantry audit -o json` into FILE
expect_rc 0 "alice reads the audit log" G g12alice audit -o json
cp "$T_HOME/out" "$T_HOME/alice.json"
check "alice sees her launch, refusal and stop, all hers, none of bob's" python3 - "$T_HOME/alice.json" "$alice_uid" <<'PY'
import json, sys
es, uid = json.load(open(sys.argv[1])), int(sys.argv[2])
assert es and all(e["uid"] == uid and e["actor"] == "g12alice" for e in es), es
got = [(e["action"], e["verdict"], (e.get("detail") or {}).get("name") or e["target"]) for e in es]
for want in [("launch", "allowed", "a1"), ("launch", "refused", "gd-capped"), ("stop", "ok", "a1")]:
    assert want in got, (want, got)
refused = [e for e in es if e["verdict"] == "refused"][0]
assert "caps the price" in refused["reason"], refused
PY
expect_rc 0 "\$USER and \$LOGNAME do not make alice someone else" \
	as g12alice env USER=root LOGNAME=root GANTRY_SYSTEM_DIR="$GD_SYSTEM" "$GANTRY_BIN" audit -o json
check "she still sees only her own entries" python3 -c '
import json, sys
es = json.load(open(sys.argv[1]))
assert es and all(e["actor"] == "g12alice" for e in es), es' "$T_HOME/out"
expect_rc 0 "bob reads the audit log" G g12bob audit -o json
check "bob sees only his launch" python3 -c '
import json, sys
es, uid = json.load(open(sys.argv[1])), int(sys.argv[2])
assert [(e["action"], e["verdict"], e["uid"]) for e in es] == [("launch", "allowed", uid)], es' "$T_HOME/out" "$bob_uid"
expect_rc 0 "an admin (root) reads the audit log" G root audit -o json
check "the admin sees both users' entries, each with its own identity" python3 -c '
import json, sys
es = json.load(open(sys.argv[1]))
actors = {(e["actor"], e["uid"]) for e in es}
assert ("g12alice", int(sys.argv[2])) in actors and ("g12bob", int(sys.argv[3])) in actors, actors
assert all(e["actor"] != "g12svc" for e in es if e["action"] in ("launch", "stop")), es' \
	"$T_HOME/out" "$alice_uid" "$bob_uid"

rc=0
G g12alice audit verify >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
check "alice may not verify the chain (exit $rc)" test "$rc" -ne 0
check "she is told it is for admins" grep -q 'admin' "$T_HOME/err"
expect_rc 0 "the admin verifies the chain" G root audit verify
check "intact" grep -q '^audit log intact: [0-9]* entries' "$T_HOME/out"

# someone with the service's store drops the trigger and edits alice's refusal
seq=$(sqlite3 "$db" "SELECT seq FROM audit WHERE verdict = 'refused' LIMIT 1")
sqlite3 "$db" "DROP TRIGGER audit_no_update; UPDATE audit SET verdict = 'allowed' WHERE seq = $seq"
expect_rc 1 "verify fails after the edit" G root audit verify
check "naming that entry ($seq)" grep -q "^audit log broken at entry $seq: .*edited" "$T_HOME/out"

t_done
