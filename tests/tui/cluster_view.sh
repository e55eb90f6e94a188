#!/bin/bash
# The Cluster view (C from the Jobs view) on an ssh fleet of two real OpenSSH workers (2 GPUs
# each): the fleet's partition with its GPU allocation, both hosts as nodes, a GPU job shown
# as 1 of 4 allocated, the queue and the snapshot's age; it follows a stop made elsewhere
# (refresh on the engine's events and timer); Tab switches to a second ssh provider and back;
# ? lists its keys; Esc goes back to Jobs; :cluster opens it too. Then at 80x24 with LANG=C
# and NO_COLOR=1: every node and its GPUs, an ASCII bar, no colour. With only the local
# provider, C says there is no cluster.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
. "${GANTRY_SRCDIR:-.}/tests/lib/sshrig.sh"
trap 'rig_cleanup; tui_cleanup' EXIT
rig_workers 2 2
mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/gpu-sleep.yaml" <<'EOF2'
name: gpu-sleep
kind: training
description: Holds one GPU while it sleeps.
resources: {accelerators: "H100:1"}
placement: {providers: [fleet]}
run: sleep 1000
EOF2
# a second provider with a cluster view (one host, on the second worker): Tab switches
mkdir -p "$RIG_DIR/remote-e"
cat >>"$GANTRY_HOME/config/config.yaml" <<EOF2
  edge:
    type: ssh
    user: root
    key: $RIG_KEY
    known_hosts: $RIG_KNOWN_HOSTS
    poll_ms: 300
    hosts:
      - name: e1
        address: 127.0.0.3
        port: $RIG_PORT
        gpus: 1
        gpu_type: A100
        dir: $RIG_DIR/remote-e
EOF2
"$GANTRY_BIN" launch gpu-sleep --name c1 >/dev/null 2>&1 || tui_fail "launch on the fleet failed"

tui_start 120 30 -- --view jobs
tui_wait 'c1 +training +RUNNING +fleet'
# the Jobs view's help names the key
tui_keys '?'
tui_wait 'Help .* Jobs keys'
tui_wait '^  C +cluster: partitions, nodes, GPUs allocated/total'
tui_keys Escape
tui_wait 'c1 +training +RUNNING +fleet'
tui_keys C
tui_wait 'Cluster .* fleet +2 nodes .* as of [0-9]+s ago'
tui_wait 'Queue +1 running, 0 pending .* GPUs +1/4 allocated'
tui_wait 'Partitions \(1\)'
tui_wait 'fleet\* +up +2 +1/4 '
tui_wait 'Nodes \(2\)'
host=$("$GANTRY_BIN" show c1 -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["provider_ref"].split("@")[1])')
other=gpu1
[ "$host" = gpu1 ] && other=gpu2
tui_wait "$host +mixed +fleet +1/2 .*H100"
tui_wait "$other +idle +fleet +0/2 .*H100"
# a stop from another process: the view follows (0 of 4, nothing running)
"$GANTRY_BIN" stop c1 >/dev/null 2>&1 || tui_fail "gantry stop c1 failed"
tui_wait 'Queue +0 running, 0 pending .* GPUs +0/4 allocated' 30
tui_wait "$host +idle +fleet +0/2 "
# Tab: the other provider's cluster, and back
tui_wait 'Providers +\[fleet\] +edge'
tui_keys Tab
tui_wait 'Providers +fleet +\[edge\]'
tui_wait 'Cluster .* edge +1 node '
tui_wait 'e1 +idle +edge +0/1 .*A100'
tui_assert_no 'gpu1 +'
tui_keys Left
tui_wait 'Providers +\[fleet\] +edge'
tui_wait 'gpu1 +'
# help lists the view's keys
tui_keys '?'
tui_wait 'Help .* Cluster keys'
tui_wait 'next provider with a cluster'
tui_keys Escape
tui_wait 'Nodes \(2\)'
# Esc: back to the Jobs view
tui_keys Escape
tui_wait_gone 'Nodes \(2\)'
tui_wait 'c1 +training +STOPPED +fleet'
# :cluster opens it too
tui_keys :
tui_type cluster
tui_keys Enter
tui_wait 'Nodes \(2\)'
tui_quit
tmx kill-server

# narrow, ASCII, no colour
"$GANTRY_BIN" launch gpu-sleep --name c2 >/dev/null 2>&1 || tui_fail "second launch failed"
tui_start 80 24 LANG=C LC_ALL=C NO_COLOR=1 -- --view jobs
tui_wait 'c2 +training +RUNNING'
tui_keys C
tui_wait 'Nodes \(2\)'
tui_wait 'gpu1 +(idle|mixed) .*[01]/2'
tui_wait 'gpu2 +(idle|mixed) .*[01]/2'
tui_wait 'fleet\* +up +2 +1/4 +\[#'
if tui_screen -e | grep -Eq $'\e\\[([0-9;]*;)?(3[0-8]|4[0-8]|9[0-7]|10[0-7])(;[0-9;]*)?m'; then
	tui_fail "colour sequences on the screen with NO_COLOR=1"
fi
tui_screen | LC_ALL=C grep -q $'[\x80-\xff]' && tui_fail "non-ASCII bytes on the screen with LANG=C"
tui_keys Escape
tui_wait 'c2 +training +RUNNING'
tui_quit
tmx kill-server

# only the local provider: C says so and stays in Jobs
mkdir -p "$GANTRY_HOME/localonly"
tui_start 100 30 "GANTRY_HOME=$GANTRY_HOME/localonly" -- --view jobs
tui_wait 'No jobs|jobs'
tui_keys C
tui_wait 'no provider with a cluster view'
tui_quit
echo "ok - the Cluster view shows the fleet's nodes and GPUs, follows changes, goes back"
