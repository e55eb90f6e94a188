#!/usr/bin/env bash
# job_ids.sh: 64-bit job ids ("j" + 16 hex digits), shown abbreviated by `gantry ls`, found
# by a unique prefix of at least 5 characters by every command that takes a JOB (like git);
# an ambiguous prefix lists its candidates; names that look like ids are refused; the
# 8-digit ids of an older store keep working.
. "$(dirname "$0")/../lib/common.sh"
db=$T_HOME/state/gantry.db

expect_rc 0 "launch a job" g launch hello --name first
check "first SUCCEEDED" wait_state first SUCCEEDED 30
id=$(job_field first id)
echo "# id of first: $id"
check "its id is j + 16 hex digits" bash -c "[[ '$id' =~ ^j[0-9a-f]{16}$ ]]"
check "gantry ls shows it abbreviated (j + 8 digits)" bash -c "g ls | grep -E '^first +${id:0:9} '"
check "and not in full" bash -c "! g ls | grep -q '$id'"
check "ls -o json has the full id" bash -c "g ls -o json | grep -q '\"$id\"'"

# every command that takes a JOB finds it by a unique prefix
expect_rc 0 "show by a 5-character prefix" g show "${id:0:5}"
check "shows the full id" grep -q "^id: *$id$" "$T_HOME/out"
expect_rc 0 "logs by a prefix" g logs "${id:0:7}"
check "prints the job's log" grep -q "hello" "$T_HOME/out"
expect_rc 1 "stop by a prefix finds the ended job (and refuses it)" g stop "${id:0:8}"
check "names it" grep -q "job first has already ended" "$T_HOME/err"

# an older store's 8-digit ids and rows that share a prefix (copies of first's row)
sqlite3 "$db" "INSERT INTO jobs (id, name, kind, state, template_name, provider, owner, created_ms, updated_ms)
	SELECT 'jdeadbeef', 'old', kind, state, template_name, provider, owner, created_ms, updated_ms FROM jobs WHERE id='$id';
	INSERT INTO jobs (id, name, kind, state, template_name, provider, owner, created_ms, updated_ms)
	SELECT 'j5eed00001111aaaa', 'twin-a', kind, state, template_name, provider, owner, created_ms, updated_ms FROM jobs WHERE id='$id';
	INSERT INTO jobs (id, name, kind, state, template_name, provider, owner, created_ms, updated_ms)
	SELECT 'j5eed00002222bbbb', 'twin-b', kind, state, template_name, provider, owner, created_ms, updated_ms FROM jobs WHERE id='$id';"
expect_rc 0 "an old 8-digit id by its full id" g show jdeadbeef
check "found old" grep -q "^name: *old$" "$T_HOME/out"
expect_rc 0 "an old id by a prefix" g show jdead
check "found old by prefix" grep -q "^name: *old$" "$T_HOME/out"
check "ls shows the old id whole" bash -c "g ls --no-refresh | grep -E '^old +jdeadbeef '"
expect_rc 3 "an ambiguous prefix fails" g show j5eed0000
check "naming both candidates" grep -q "'j5eed0000' matches several jobs: j5eed00001111aaaa, j5eed00002222bbbb" "$T_HOME/err"
expect_rc 3 "an ambiguous prefix fails for stop too" g stop j5eed
check "naming both candidates" grep -q "matches several jobs: j5eed00001111aaaa, j5eed00002222bbbb" "$T_HOME/err"
expect_rc 0 "one more digit makes it unique" g show j5eed00002
check "found twin-b" grep -q "^name: *twin-b$" "$T_HOME/out"
expect_rc 3 "an unknown prefix fails" g show j0f0f0f
check "saying so" grep -q "no job matches 'j0f0f0f'" "$T_HOME/err"
expect_rc 3 "a prefix shorter than 5 characters is not looked up" g show j5ee
check "saying how long a prefix must be" grep -q "an id prefix needs at least 5 characters" "$T_HOME/err"

# names that could be taken for an id are refused at launch
expect_rc 2 "a name like an id is refused" g launch hello --name j0123abcd
check "with a clear error" grep -q "invalid job name 'j0123abcd': it looks like a job id" "$T_HOME/err"
expect_rc 2 "another job's id as a name is refused" g launch hello --name "$id"
check "with a clear error" grep -q "invalid job name '$id'" "$T_HOME/err"
check "nothing was launched" bash -c "[ \$(sqlite3 '$db' 'SELECT count(*) FROM jobs') = 4 ]"
expect_rc 0 "a name that merely starts with j is fine" g launch hello --name jade
t_done
