#!/bin/bash
# The launch form shows the policy's verdict before [Launch] is pressed (issue 12): a region
# the role does not allow blocks it with the rule ("cannot launch: refused by policy: FILE:L:C
# roles.ml.regions ..."); once the policy file is edited (the open TUI reloads it) the same
# plan says "needs approval: ..." above the role's approval threshold; a broken file is
# reported on the status line with its FILE:LINE:COL and blocks launching.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
me=$(id -un)
pol=$GANTRY_SYSTEM_DIR/policy.yaml
mkdir -p "$GANTRY_SYSTEM_DIR" "$GANTRY_HOME/config"
printf 'providers:\n  local: {region: us-east-1, rate_cpu_hour: 6}\n' >"$GANTRY_HOME/config/config.yaml"
policy() {
	cat >"$pol.new" <<EOF
roles:
  ml:
    users: [$me]
    regions: [$1]
    approval: {above_hourly_cost: 1}
EOF
	mv "$pol.new" "$pol"
}
policy '"eu-*"'

tui_start 160 40
tui_wait 'Templates \([0-9]+'
tui_wait 'hello +training'
tui_keys Enter
tui_wait 'Launch hello'
tui_wait "cannot launch: refused by policy: $pol:4:5 roles\.ml\.regions: region us-east-1 is"
tui_wait "not in \[eu-\*\]; allowed: eu-\*; allowed providers: none for this template"
# [Launch] is refused: nothing is created
tui_keys Tab Tab Tab Tab Enter
tui_wait "cannot launch: refused by policy"
[ "$("$GANTRY_BIN" ls -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 0 ] ||
	tui_fail "a job was created despite the refusal"

# the policy changes under the open TUI: reloaded, and the form says it needs approval
policy '"eu-*", "us-*"'
tui_wait 'policy reloaded from'
tui_wait 'needs approval: \$6\.00/h is above roles\.ml\.approval\.above_hourly_cost \$1\.00/h'
tui_assert_no 'cannot launch'

# a broken file: reported with FILE:LINE:COL, and launching is refused
printf 'roles:\n  ml: {users: [%s], max_gpus: 3}\n' "$me" >"$pol.new"
mv "$pol.new" "$pol"
tui_wait "policy not reloaded \(launches are refused until it is fixed\): $pol:2:$((19 + ${#me})): unknown role setting"
tui_wait 'cannot launch: refused by policy: the policy file is broken'
tui_keys Escape
tui_quit
echo "PASS: policy_form"
