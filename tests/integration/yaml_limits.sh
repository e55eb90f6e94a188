#!/usr/bin/env bash
# Hostile or sloppy YAML: 100,000 levels of nesting in a template or in config.yaml are
# refused at depth 65 while parsing (they took minutes before), with FILE:LINE:COL; and
# config.yaml refuses numbers that overflow, duplicate keys and budgets, and an unknown
# default_provider or theme, naming the known ones.
. "$(dirname "$0")/../lib/common.sh"

tdir=$GANTRY_HOME/config/templates
cfg=$GANTRY_HOME/config/config.yaml
mkdir -p "$tdir"
python3 -c 'import sys; open(sys.argv[1], "w").write("[" * 100000 + "\n")' "$tdir/deepseq.yaml"
python3 -c 'import sys; open(sys.argv[1], "w").write("{a: " * 100000 + "\n")' "$tdir/deepmap.yaml"
expect_rc 0 "templates lists the others despite two 100,000-level templates" timeout 20 "$GANTRY_BIN" templates
check "the built-ins still load" grep -q '^hello ' "$T_HOME/out"
check "the '[' one stops at depth 65 with file:line:col" \
	grep -q "BROKEN: $tdir/deepseq.yaml:1:65: nesting deeper than 64 levels" "$T_HOME/out"
check "the '{a: ' one too" \
	grep -q "BROKEN: $tdir/deepmap.yaml:1:257: nesting deeper than 64 levels" "$T_HOME/out"
expect_rc 0 "ls is not held up by them" timeout 20 "$GANTRY_BIN" ls
expect_rc 2 "launching one fails" timeout 20 "$GANTRY_BIN" launch deepseq
check "with the reason" grep -q "deepseq.yaml:1:65: nesting deeper than 64 levels" "$T_HOME/err"
rm -f "$tdir"/deep*.yaml

# 64 levels are still fine: the limit is on the 65th
python3 -c 'import sys; open(sys.argv[1], "w").write("name: ok64\nkind: training\nrun: echo hi\nenv: {X: \"1\"}\nports: [8080]\nplacement: {providers: [local]}\n")' "$tdir/ok64.yaml"
expect_rc 0 "an ordinary template loads" g templates ok64

python3 -c 'import sys; open(sys.argv[1], "w").write("providers:\n  deep: " + "[" * 100000 + "\n")' "$cfg"
expect_rc 4 "a config.yaml nested 100,000 deep is refused at once" timeout 20 "$GANTRY_BIN" ls
check "with file:line:col and the limit" grep -q "config.yaml:2:71: nesting deeper than 64 levels" "$T_HOME/err"
python3 -c 'import sys; open(sys.argv[1], "w").write("{a: " * 100000 + "\n")' "$cfg"
expect_rc 4 "and the '{a: ' one" timeout 20 "$GANTRY_BIN" templates
check "with file:line:col and the limit" grep -q "config.yaml:1:257: nesting deeper than 64 levels" "$T_HOME/err"

# an alias bomb: 9 levels of 10 aliases each would flatten into 10^9 provider settings
python3 - "$cfg" <<'PY'
import sys
lines = ["providers:", "  fleet:", "    type: ssh", "    l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
for i in range(1, 9):
    lines.append("    l%d: &l%d [%s]" % (i, i, ", ".join(["*l%d" % (i - 1)] * 10)))
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
expect_rc 4 "a config.yaml alias bomb is refused at once" timeout 20 "$GANTRY_BIN" ls
check "with file:line:col" grep -Eq "config.yaml:[0-9]+:[0-9]+: provider 'fleet' has more than 10000 values" "$T_HOME/err"

# config_refused EXPECTED-ERROR-REGEX DESCRIPTION: config.yaml (already written) makes ls exit 4
config_refused() {
	expect_rc 4 "$2" g ls
	check "  says $1" grep -Eq "$1" "$T_HOME/err"
}
for bad in 1e999 -1e999 inf .inf nan .nan 0x10; do
	printf 'budgets:\n  - {scope: user, name: me, monthly: %s}\n' "$bad" >"$cfg"
	config_refused "config.yaml:2:[0-9]+: 'monthly' expects an amount in USD, got '$bad'" \
		"a budget of $bad is refused"
done
printf 'budgets:\n  - {scope: user, name: me, monthly: 10, soft: nan}\n' >"$cfg"
config_refused "config.yaml:2:[0-9]+: expects a fraction" "soft: nan is refused"
printf 'budgets:\n  - {scope: user, name: me, monthly: 10, grace: 1e999}\n' >"$cfg"
config_refused "config.yaml:2:[0-9]+: 'grace' expects a duration" "grace: 1e999 is refused"
printf 'history:\n  minutes: nan\n' >"$cfg"
config_refused "config.yaml:2:12: 'history.minutes' expects a duration" "history: nan is refused"
printf 'providers:\n  local: {rate_gpu_hour: 1e999}\n' >"$cfg"
config_refused "config.yaml:2:[0-9]+: 'rate_gpu_hour' expects a price" "a rate of 1e999 is refused"
printf 'refresh_ms: 1e999\n' >"$cfg"
config_refused "config.yaml:1:13: 'refresh_ms' expects milliseconds" "refresh_ms: 1e999 is refused"

printf 'theme: light\nrefresh_ms: 500\ntheme: monochrome\n' >"$cfg"
config_refused "config.yaml:3:1: duplicate key 'theme' \(first at line 1\)" "a key given twice is refused"
printf 'providers:\n  local:\n    rate_gpu_hour: 1\n    rate_gpu_hour: 2\n' >"$cfg"
config_refused "config.yaml:4:5: duplicate key 'rate_gpu_hour' \(first at line 3\)" \
	"a provider setting given twice is refused"
printf 'budgets:\n  - {scope: team, name: ml, monthly: 100}\n  - {scope: user, name: ml, monthly: 5}\n  - {scope: team, name: ml, monthly: 200}\n' >"$cfg"
config_refused "config.yaml:4:5: a second budget for team 'ml' \(the first is at [^ ]*config.yaml:2:5\)" \
	"a second budget for the same scope and name is refused"

printf 'default_provider: gpus\nproviders:\n  fleet: {type: ssh, hosts: [{address: 127.0.0.1}]}\n' >"$cfg"
config_refused "config.yaml:1:19: unknown default_provider 'gpus' \(known: local, fleet\)" \
	"an unknown default_provider is refused with the known ones"
# a misspelt key whose value is a list is named as unknown (it said "expected a scalar value")
printf 'budget:\n  - {scope: user, name: me, monthly: 5}\n' >"$cfg"
config_refused "config.yaml:1:1: unknown setting 'budget' \(known: .*mouse.*budgets" \
	"a misspelt list key is an unknown setting, with the known ones (mouse too)"
# doctor reports a broken file as a finding (stdout and -o json), still exit 4
expect_rc 4 "doctor with a broken config.yaml" g doctor
check "doctor says FAIL config with FILE:LINE:COL" \
	grep -Eq "^FAIL config +.*config\.yaml:1:1: unknown setting 'budget'" "$T_HOME/out"
check "doctor -o json lists the config check" bash -c '"$GANTRY_BIN" doctor -o json |
	python3 -c "import json,sys; d=json.load(sys.stdin); c=d[\"checks\"][0]; sys.exit(0 if c[\"check\"]==\"config\" and not c[\"ok\"] and d[\"problems\"]==1 else 1)"'
printf 'theme: [light]\n' >"$cfg"
config_refused "config.yaml:1:8: expected a scalar value for 'theme'" "a known key with a list"
printf 'theme: solarised\n' >"$cfg"
config_refused "config.yaml:1:8: unknown theme 'solarised' \(known: default, .*light.*\)" \
	"an unknown theme is refused with the known ones"
mkdir -p "$GANTRY_HOME/config/themes"
printf 'status.ok = green\n' >"$GANTRY_HOME/config/themes/solarised.theme"
expect_rc 0 "a theme of the user's own is known" g ls
printf 'theme: light\ndefault_provider: local\nbudgets:\n  - {scope: user, name: me, monthly: 1.5e2}\n' >"$cfg"
expect_rc 0 "a valid config.yaml still loads" g ls
t_done
