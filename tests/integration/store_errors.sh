#!/usr/bin/env bash
# A corrupt, foreign or newer store is refused with the file named, and never overwritten.
. "$(dirname "$0")/../lib/common.sh"

db=$T_HOME/state/gantry.db
mkdir -p "$T_HOME/state"

head -c 4096 /dev/urandom >"$db"
sum=$(sha256sum "$db")
expect_rc 4 "a corrupt store is refused" g ls
check "the error names the file" grep -q "$db" "$T_HOME/err"
check "the corrupt file is untouched" bash -c "[ \"\$(sha256sum '$db')\" = '$sum' ]"

rm -f "$db"
sqlite3 "$db" "CREATE TABLE invoices(id INTEGER PRIMARY KEY, amount REAL); INSERT INTO invoices VALUES (1, 9.5);"
sum=$(sha256sum "$db")
expect_rc 4 "a foreign sqlite file is refused" g ls
check "the error names the file" grep -q "$db" "$T_HOME/err"
check "the foreign file is untouched" bash -c "[ \"\$(sha256sum '$db')\" = '$sum' ]"

rm -f "$db"
expect_rc 0 "a fresh store is created" g ls
check "it is private (0600)" bash -c "[ \"\$(stat -c %a '$db')\" = 600 ]"
sqlite3 "$db" "PRAGMA user_version=99;"
expect_rc 4 "a store from a newer Gantry is refused" g ls
check "the error says it is newer" grep -qi "newer" "$T_HOME/err"
t_done
