#!/usr/bin/env bash
# A --set value that is not UTF-8 is refused, naming the parameter (jansson refuses such
# text, and the value used to vanish from the job record: `params: {}`); UTF-8 values and
# the other params are stored whole.
. "$(dirname "$0")/../lib/common.sh"

tdir=$GANTRY_HOME/config/templates
mkdir -p "$tdir"
printf 'name: two\nkind: training\nparams:\n  a: {type: string, default: x}\n  b: {type: string, default: y}\nrun: echo {{a}} {{b}}\n' >"$tdir/two.yaml"

expect_rc 2 "a value with a byte that is not UTF-8 is refused" g launch two --set "$(printf 'a=ab\377cd')" --set b=keep
check "naming the parameter and the byte" grep -q "parameter 'a' is not valid UTF-8 text (byte 0xFF at offset 2)" "$T_HOME/err"
check "no job was created" bash -c '[ -z "$("$GANTRY_BIN" ls -o json | python3 -c "import json,sys; print(\"\".join(j[\"name\"] for j in json.load(sys.stdin)))")" ]'
expect_rc 2 "a cut-short sequence too" g launch two --set "$(printf 'b=caf\303')"
check "naming b" grep -q "parameter 'b' is not valid UTF-8" "$T_HOME/err"
expect_rc 2 "an overlong '/' too" g launch two --set "$(printf 'a=\300\257')"

expect_rc 0 "UTF-8 values launch" g launch two --set "a=café 日本 😀" --set b=keep
id=$(g ls -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
check "both params are in the record, byte for byte" python3 -c '
import json, subprocess, sys
p = json.loads(subprocess.check_output([sys.argv[1], "show", sys.argv[2], "-o", "json"]))["params"]
sys.exit(0 if p == {"a": "café 日本 😀", "b": "keep"} else "params: %r" % p)' "$GANTRY_BIN" "$id"
t_done
