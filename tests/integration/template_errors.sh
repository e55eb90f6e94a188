#!/usr/bin/env bash
# A broken user template is reported with FILE:LINE:COL; the others still load.
. "$(dirname "$0")/../lib/common.sh"

tdir=$GANTRY_HOME/config/templates
mkdir -p "$tdir"
printf 'name: broken\nkind: training\nrun: echo hi\ncolour: blue\n' >"$tdir/broken.yaml"
printf 'name: badyaml\nkind: [training\n' >"$tdir/badyaml.yaml"
expect_rc 0 "templates still lists" g templates
check "the built-ins still load" grep -q '^hello ' "$T_HOME/out"
check "the broken one is marked with file:line:col" grep -q "BROKEN: $tdir/broken.yaml:4:1" "$T_HOME/out"
check "the syntax error is reported with its position" grep -Eq "BROKEN: $tdir/badyaml.yaml:[0-9]+:[0-9]+" "$T_HOME/out"
check "the broken count goes to stderr" grep -q "failed to load" "$T_HOME/err"
expect_rc 2 "launching a broken template fails" g launch broken
check "with the reason" grep -q "broken.yaml:4:1" "$T_HOME/err"
printf 'name: hello\nkind: training\ndescription: my own hello\nrun: echo mine\n' >"$tdir/hello.yaml"
check "a user template replaces the built-in of the same name" bash -c '"$GANTRY_BIN" templates hello | grep -q "my own hello"'
printf 'theme: [x\n' >"$GANTRY_HOME/config/config.yaml"
expect_rc 4 "a malformed config.yaml is refused" g ls
check "with file:line:col" grep -Eq "config.yaml:[0-9]+:[0-9]+" "$T_HOME/err"
t_done
