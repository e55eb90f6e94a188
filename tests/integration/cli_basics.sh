#!/usr/bin/env bash
# The CLI's contract: help, version, JSON listings, exit codes and one-line reasons.
. "$(dirname "$0")/../lib/common.sh"

check "version prints the version" bash -c '"$GANTRY_BIN" version | grep -Eq "^gantry [0-9]+\.[0-9]+"'
check "--help lists the commands" bash -c '"$GANTRY_BIN" --help | grep -q "launch"'
for cmd in templates launch ls show logs stop reconcile doctor; do
	check "$cmd --help explains usage" bash -c "\"\$GANTRY_BIN\" $cmd --help | grep -q '^usage: gantry $cmd'"
done
expect_rc 2 "unknown command" g frobnicate
check "unknown command says so" grep -q "unknown command 'frobnicate'" "$T_HOME/err"
check "no suggestion for a word far from every command" bash -c "! grep -q 'Did you mean' '$T_HOME/err'"
expect_rc 2 "a typo'd command" g lss
check "a typo'd command suggests the right one" grep -q "Did you mean 'gantry ls'?" "$T_HOME/err"
expect_rc 2 "two swapped letters" g sotp
check "two swapped letters suggest stop" grep -q "Did you mean 'gantry stop'?" "$T_HOME/err"
# --view is checked before anything else: a typo must not open the templates view silently
expect_rc 2 "an unknown --view" g --view jbos
check "an unknown --view names the views" grep -q "unknown view 'jbos' (expected templates, jobs or cost)" "$T_HOME/err"
check "--help lists exit code 5 (launch --timeout)" bash -c '"$GANTRY_BIN" --help | grep -q "5 launch"'
expect_rc 0 "templates lists" g templates
check "templates shows hello" grep -q '^hello ' "$T_HOME/out"
check "templates -o json is JSON with the built-ins" bash -c \
	'"$GANTRY_BIN" templates -o json | python3 -c "import json,sys; n={t[\"name\"] for t in json.load(sys.stdin)}; sys.exit(0 if {\"hello\",\"http-endpoint\",\"jupyter-notebook\",\"train-mnist-tiny\"} <= n else 1)"'
expect_rc 0 "ls on an empty store" g ls
check "ls -o json on an empty store is []" bash -c '[ "$("$GANTRY_BIN" ls -o json | tr -d " \n")" = "[]" ]'
expect_rc 3 "show of an unknown job" g show nosuchjob
check "unknown job has a one-line reason" bash -c "[ \$(wc -l < '$T_HOME/err') -eq 1 ] && grep -q \"no job matches 'nosuchjob'\" '$T_HOME/err'"
expect_rc 3 "stop of an unknown job" g stop nosuchjob
expect_rc 3 "logs of an unknown job" g logs nosuchjob
expect_rc 3 "launch of an unknown template" g launch nosuchtemplate
expect_rc 2 "launch with an unknown param" g launch hello --set colour=red
check "unknown param is named" grep -q "colour" "$T_HOME/err"
expect_rc 2 "launch with a param out of range" g launch train-mnist-tiny --set epochs=0
expect_rc 2 "launch with a wrongly typed param" g launch train-mnist-tiny --set epochs=many
expect_rc 2 "launch with a malformed --set" g launch hello --set who
expect_rc 2 "unknown option" g ls --bogus
expect_rc 2 "a job name with a path in it is refused" g launch hello --name ../escape
check "the reason says what a name may hold" grep -q "invalid job name" "$T_HOME/err"
expect_rc 0 "dry run" g launch hello --dry-run --set "who=x'; touch $T_HOME/pwned #"
check "dry run shows the quoted value" grep -q "'x'\\\\''; touch" "$T_HOME/out"
check "dry run launched nothing" bash -c '[ "$("$GANTRY_BIN" ls -o json | tr -d " \n")" = "[]" ]'
expect_rc 2 "H100:8 template does not fit this host" g launch llama-finetune-h100x8
check "the reason names the GPUs" grep -qi "H100" "$T_HOME/err"
check "doctor -o json reports checks" bash -c '"$GANTRY_BIN" doctor -o json | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if len(d[\"checks\"])>=5 else 1)"'
t_done
