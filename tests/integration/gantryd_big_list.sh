#!/usr/bin/env bash
# gantryd (issue 12): an admin's job list on a big store comes through whole. A user's answer
# may be far larger than a request may be (GANTRY_WIRE_MAX, 1 MiB): 4,000 jobs are about
# 3 MiB of JSON. The admin (see: all) lists them all with `gantry ls` through the daemon;
# alice, who owns none of them, lists none. As root, with the test users of
# tests/lib/gantryd.sh.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/gantryd.sh"

gd_users
GD_DIR=$(mktemp -d /tmp/gantryd-big.XXXXXX)
chmod 0755 "$GD_DIR"
trap 'gd_stop; rm -rf "$GD_DIR"; t_cleanup' EXIT
N=4000

gd_start "$GD_DIR/run"
gd_stop # the store exists now, with its schema
python3 - "$GD_HOME/state/gantry.db" "$N" <<'PY'
import json, sqlite3, sys
db, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
rows = []
for i in range(n):
    t = 1790000000000 + i * 60000
    rows.append(("j%016x" % (0xc0000000 + i), "big-%d" % i, "training", "SUCCEEDED", "hello",
                 "local", "someone", "gantry-c%d" % i, json.dumps({"who": "world"}),
                 json.dumps({"script": "#!/bin/sh\necho hello world\n", "env": {}, "gpus": 0}),
                 None, "a row of the big list test", t, t + 1000, t + 500, t + 900000,
                 "elsewhere", 20999))
c.executemany("INSERT INTO jobs (id, name, kind, state, template_name, provider, owner, idem_key,"
              " params_json, spec_json, provider_ref, reason, created_ms, updated_ms, started_ms,"
              " ended_ms, team, owner_uid) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
c.commit()
PY
chown g12svc: "$GD_HOME/state/gantry.db"
gd_start "$GD_DIR/run"

rc=0
as g12carol "$GANTRY_BIN" ls -o json >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
check "the admin's gantry ls through gantryd: exit $rc ($(head -c 200 "$T_HOME/err"))" \
	test "$rc" = 0
bytes=$(wc -c <"$T_HOME/out")
check "... an answer over GANTRY_WIRE_MAX ($bytes bytes)" test "$bytes" -gt 1048576
n=$(python3 -c 'import json,sys; print(sum(1 for j in json.load(sys.stdin) if j["name"].startswith("big-")))' <"$T_HOME/out")
check "... with every one of the $N jobs ($n)" test "$n" = "$N"
rc=0
as g12alice "$GANTRY_BIN" ls -o json >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
n=$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <"$T_HOME/out" || echo error)
check "alice, who owns none of them, lists none (exit $rc, $n jobs)" test "$rc" = 0 -a "$n" = 0
t_done
