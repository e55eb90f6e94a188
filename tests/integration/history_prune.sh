#!/usr/bin/env bash
# history_prune.sh: config.yaml's `history:` sets how long GPU history stays in the store.
# Bad values are refused with FILE:LINE:COL; a watching gantry prunes at its first tick (not
# only after an hour), by the configured spans: rows planted in the real store just past
# each span go, rows just inside stay.
. "$(dirname "$0")/../lib/common.sh"

cfg=$T_HOME/config/config.yaml
mkdir -p "$T_HOME/config"

# BAD=COLUMN: the setting on line 3, and the column the error must name
for bad in "minutes: 30m=12" "hours: 2h=10" "minutes: soon=12" "weeks: 2=3"; do
	printf 'team: ml\nhistory:\n  %s\n' "${bad%=*}" >"$cfg"
	expect_rc 4 "history with '${bad%=*}' is refused" g ls
	check "  at config.yaml:3:${bad##*=}: $(head -c 120 "$T_HOME/err")" \
		grep -Eq "config.yaml:3:${bad##*=}: .*(history|minutes|hours)" "$T_HOME/err"
done
printf 'history: 7d\n' >"$cfg"
expect_rc 4 "history that is not a mapping is refused" g ls
check "  and says what it expects" grep -q "config.yaml:1:10: 'history' expects a mapping" "$T_HOME/err"

printf 'history:\n  minutes: 2d\n  hours: 10d\n' >"$cfg"
expect_rc 0 "history {minutes: 2d, hours: 10d} is accepted" g ls

# watch_until COMMAND...: runs `gantry watch` (it creates the history tables, and its first
# tick prunes) until COMMAND succeeds, for at most 30 s; the checks after it tell.
watch_until() {
	"$GANTRY_BIN" watch >"$T_HOME/watch.out" 2>&1 &
	local pid=$!
	wait_for 30 "$@" || :
	kill -TERM "$pid"
	wait "$pid" || :
}
tables_exist() {
	python3 -c "
import sqlite3; db = sqlite3.connect('$T_HOME/state/gantry.db')
names = {r[0] for r in db.execute(\"select name from sqlite_master where type='table'\")}
assert {'metrics_1m_open', 'metrics_1h', 'metrics_gpus'} <= names, names" 2>/dev/null
}
watch_until tables_exist
check "the history tables exist" tables_exist

# Plant buckets for one GPU: 1-minute ones 3 days and 1 day old, hourly ones 11 and 9 days old.
python3 - "$T_HOME/state/gantry.db" <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = int(time.time())
m = lambda s: s - s % 60
h = lambda s: s - s % 3600
db.execute("insert or ignore into metrics_hosts (name) values ('planted')")
host = db.execute("select id from metrics_hosts where name = 'planted'").fetchone()[0]
db.execute("insert or ignore into metrics_gpus (host, gpu) values (?, 0)", (host,))
gpu = db.execute("select id from metrics_gpus where host = ? and gpu = 0", (host,)).fetchone()[0]
for age in (3 * 86400, 86400):
    db.execute("insert into metrics_1m_open (bucket_start, series, n, n_util, util_avg, util_max,"
               " mem_mib, temp_max, power_dw) values (?, ?, 60, 60, 50, 90, 1000, 60, 2000)",
               (m(now - age), gpu))
for age in (11 * 86400, 9 * 86400):
    db.execute("insert into metrics_1h (host, gpu, bucket_start, n, n_util, util_avg, util_max,"
               " mem_mib, temp_max, power_dw) values (?, 0, ?, 3600, 3600, 50, 90, 1000, 60, 2000)",
               (host, h(now - age)))
db.commit()
EOF
# ages of what is left, in whole days
left() {
	python3 -c "
import sqlite3, time; db = sqlite3.connect('$T_HOME/state/gantry.db'); now = time.time()
# 1m: the open minutes, and the hours the hour close packed (id = hour index * 2^32 + GPU):
# an hour that closes while the test runs (the top of the hour) moves the planted minutes there
q = {'1m': 'select bucket_start from metrics_1m_open union all'
           ' select (id >> 32) * 3600 from metrics_1m_packed',
     '1h': 'select bucket_start from metrics_1h'}
print(' '.join(str(int((now - r[0]) // 86400)) for r in db.execute(q['$1'])))"
}
pruned() { [ "$(left 1m)" = 1 ] && [ "$(left 1h)" = 9 ]; }
watch_until pruned
check "the 1-minute bucket 3 days old is gone, the 1-day-old one stays ($(left 1m))" [ "$(left 1m)" = 1 ]
check "the hourly bucket 11 days old is gone, the 9-day-old one stays ($(left 1h))" [ "$(left 1h)" = 9 ]

printf 'history:\n  minutes: 0\n  hours: 0\n' >"$cfg"
# Kept as a fixed run: this checks that nothing goes, and nothing outside marks the first
# tick (which prunes) having run; 2.5 s is well past it (a slow machine only weakens this
# check, it cannot make it fail falsely).
"$GANTRY_BIN" watch >"$T_HOME/watch.out" 2>&1 &
wpid=$!
sleep 2.5
kill -TERM "$wpid"
wait "$wpid" || :
check "0 keeps everything ($(left 1m) / $(left 1h))" [ "$(left 1m) / $(left 1h)" = "1 / 9" ]
t_done
