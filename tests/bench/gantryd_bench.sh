#!/usr/bin/env bash
# tests/bench/gantryd_bench.sh BUILDDIR [JOBS] [CLIENTS] [SECONDS]: gantryd serving CLIENTS (50)
# clients that each ask for their job list every second, with JOBS (10,000) jobs in the store
# spread over 50 owners (inserted with sqlite3 after the daemon made the store); the
# clients are g12alice (200 jobs of her own: the same filtering of the whole store as any
# user). Reference in the same run: the same with 1 client, and one embedded `gantry ls -a`
# over the whole store as the service account. Needs root (test users); exit 77 otherwise.
set -euo pipefail
build=$(cd "$1" && pwd)
jobs=${2:-10000}
nclients=${3:-50}
secs=${4:-20}
here=$(cd "$(dirname "$0")" && pwd)
export GANTRY_BIN=$build/gantry GANTRYD_BIN=$build/gantryd
export GANTRY_DATADIR=${GANTRY_DATADIR:-$(cd "$here/../.." && pwd)}
source "$here/../lib/common.sh"
source "$here/../lib/gantryd.sh"
gd_users
D=$(mktemp -d /tmp/gantryd-bench.XXXXXX)
chmod 0755 "$D"
trap 'gd_stop; rm -rf "$D"; t_cleanup' EXIT
gd_start "$D/run"
gd_stop # the store exists now, with its schema
alice=$(id -u g12alice)
python3 - "$GD_HOME/state/gantry.db" "$jobs" "$alice" <<'PY'
import json, sqlite3, sys, random
db, n, alice = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = sqlite3.connect(db)
random.seed(12)
rows = []
states = ["SUCCEEDED"] * 6 + ["FAILED", "STOPPED", "RUNNING", "PENDING"]
for i in range(n):
    owner = i % 50
    uid = alice if owner == 0 else 20000 + owner
    name = "g12alice" if owner == 0 else "bench%02d" % owner
    st = random.choice(states)
    t = 1790000000000 + i * 60000
    rows.append(("j%016x" % (0xb0000000 + i), "bench-%d" % i, "training", st, "hello", "nowhere",
                 name, "gantry-b%d" % i, json.dumps({"who": "world"}),
                 json.dumps({"script": "#!/bin/sh\necho hello world\n", "env": {}, "gpus": 0}),
                 None, "benchmark row", t, t + 1000, t + 500 if st != "PENDING" else 0,
                 t + 900000 if st in ("SUCCEEDED", "FAILED", "STOPPED") else 0, "team%d" % (owner % 5), uid))
c.executemany("INSERT INTO jobs (id, name, kind, state, template_name, provider, owner, idem_key,"
              " params_json, spec_json, provider_ref, reason, created_ms, updated_ms, started_ms,"
              " ended_ms, team, owner_uid) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
c.commit()
PY
chown g12svc: "$GD_HOME/state/gantry.db"
gd_start "$D/run"
echo "gantryd: $jobs jobs over 50 owners, clients as g12alice ($((jobs / 50)) jobs hers), $secs s each"
one=$(as g12alice "$GD_PY" "$here/gantryd_clients.py" "$GD_SOCK" 1 "$secs" "$GD_PID")
echo "  reference, 1 client:   $one"
many=$(as g12alice "$GD_PY" "$here/gantryd_clients.py" "$GD_SOCK" "$nclients" "$secs" "$GD_PID")
echo "  $nclients clients:            $many"
gd_stop
# one embedded `gantry ls -a` over the whole store (no filtering), as the service account
t0=$(date +%s%N)
setpriv --reuid g12svc --regid g12svc --init-groups -- env -i PATH=/usr/bin:/bin \
	GANTRY_HOME="$GD_HOME" GANTRY_SYSTEM_DIR="$GD_SYSTEM" GANTRY_DATADIR="$GANTRY_DATADIR" \
	"$GANTRY_BIN" --embedded ls -a >/dev/null
t1=$(date +%s%N)
echo "  reference, embedded gantry ls -a over all $jobs jobs (one process start): $(((t1 - t0) / 1000000)) ms"
