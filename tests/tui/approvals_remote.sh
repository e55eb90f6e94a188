#!/bin/bash
# The Approvals view through gantryd (issue 12): g12alice (role ml: approval above $20/h)
# launches a $30/h template; g12carol's TUI (runuser, under tmux) talks to gantryd: A lists
# alice's launch with its price and why, `a` approves it with a reason, and alice's
# `gantry show` says "approved by g12carol: REASON"; alice's second launch is denied from the
# view with `d`.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/common.sh"
set +e # the tmux helpers check each step themselves
. "${GANTRY_SRCDIR:-.}/tests/lib/gantryd.sh"
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"

gd_users
REAL_GANTRY=$GANTRY_BIN
GD_DIR=$(mktemp -d /tmp/gantry-approvals-remote.XXXXXX)
chmod 0755 "$GD_DIR"
mkdir -p "$GD_DIR/run/home/config" "$GD_DIR/run/system/templates"
cat >"$GD_DIR/run/home/config/config.yaml" <<'YAML'
refresh_ms: 300
providers:
  local:
    rate_cpu_hour: 15
YAML
chown -R g12svc: "$GD_DIR/run/home"
cat >"$GD_DIR/run/system/templates/gd-big.yaml" <<'YAML'
name: gd-big
kind: training
description: two CPUs, sleeps until stopped
resources: {accelerators: none, cpus: 2}
run: sleep 300
YAML
chmod -R a+rX "$GD_DIR/run/system"
cat >"$GD_DIR/policy.yaml" <<'YAML'
roles:
  admins: {groups: [g12-admins], admin: true, approver: true, see: all}
  ml:
    groups: [g12-ml]
    templates: [gd-*]
    see: own
    approval: {above_hourly_cost: 20}
YAML
gd_start "$GD_DIR/run" "$GD_DIR/policy.yaml" || exit 1

# gantry as USER: nothing of root's environment but the terminal
for u in g12alice g12carol; do
	cat >"$GD_DIR/gantry-$u" <<EOF
#!/bin/sh
exec runuser -u $u -- env -i PATH=/usr/bin:/bin HOME=$(getent passwd "$u" | cut -d: -f6) \
	TERM="\$TERM" LANG=C.UTF-8 LC_ALL=C.UTF-8 NO_COLOR=1 GANTRY_DAEMON="$GD_SOCK" \
	GANTRY_DATADIR="$GANTRY_DATADIR" "$REAL_GANTRY" "\$@"
EOF
	chmod 0755 "$GD_DIR/gantry-$u"
done
ALICE=$GD_DIR/gantry-g12alice
alice_field() {
	"$ALICE" show "$1" -o json | python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$2"
}
"$ALICE" launch gd-big >/dev/null 2>&1 || { echo "FAIL: alice's launch failed"; exit 1; }
[ "$(alice_field gd-big-1 state)" = PENDING_APPROVAL ] || { echo "FAIL: gd-big-1 does not wait"; exit 1; }
GANTRY_BIN=$GD_DIR/gantry-g12carol

tui_setup
trap 'for f in "$GD_HOME"/state/jobs/*/pid; do [ -f "$f" ] && kill -KILL -- "-$(cut -d" " -f1 "$f")" 2>/dev/null; done; tui_cleanup; gd_stop; rm -rf "$GD_DIR"; t_cleanup' EXIT
tui_start 150 30
tui_wait 'gantryd: g12carol \('
tui_keys A
tui_wait 'Approvals .* 1 launch waiting for your decision'
tui_wait 'gd-big-1 +g12alice +gd-big +local +0 +\$30\.00 +\$30\.00/h is above roles\.ml\.approval\.above_hourly_cost'
tui_keys a
tui_wait 'approve, reason:'
tui_type "fits the plan"
tui_keys Enter
tui_wait 'gd-big-1 approved'
tui_wait 'no launch is waiting for your approval'
for _ in $(seq 1 100); do
	[ "$(alice_field gd-big-1 state)" = RUNNING ] && break
	sleep 0.2
done
[ "$(alice_field gd-big-1 state)" = RUNNING ] || tui_fail "gd-big-1 does not run after the approval"
"$ALICE" show gd-big-1 | grep -q '^approval:  approved by g12carol: fits the plan$' ||
	tui_fail "alice's show does not say that g12carol approved it and why"

# the next one is denied from the view (it appears without leaving the view)
"$ALICE" launch gd-big >/dev/null 2>&1 || tui_fail "alice's second launch failed"
tui_wait 'gd-big-2 +g12alice'
tui_keys d
tui_wait 'deny, reason:'
tui_type "one is enough"
tui_keys Enter
tui_wait 'gd-big-2 denied'
[ "$(alice_field gd-big-2 state)" = STOPPED ] || tui_fail "gd-big-2 is not STOPPED"
[ "$(alice_field gd-big-2 reason)" = "denied by g12carol: one is enough" ] ||
	tui_fail "alice does not see who denied gd-big-2 and why"
"$ALICE" stop gd-big-1 >/dev/null 2>&1
tui_keys Escape
tui_quit
echo "ok - g12carol approves and denies g12alice's launches from the Approvals view through gantryd"
