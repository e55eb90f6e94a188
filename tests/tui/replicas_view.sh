#!/bin/bash
# An endpoint's replicas in the TUI: the launch form says what the local provider does with
# service.replicas (one process); the Job view's State and replica gauge and the Jobs view's
# STATE go from STARTING 0/1 to RUNNING 1/1 when it becomes ready.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
flag=$GANTRY_HOME/go
mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/scaled.yaml" <<EOF
name: scaled
kind: endpoint
description: an endpoint that asks for 2 to 4 replicas
resources: {accelerators: none}
service:
  readiness: /
  readiness_timeout: 120
  replicas: {min: 2, max: 4}
run: |
  while [ ! -e '$flag' ]; do sleep 0.1; done
  exec python3 -m http.server "\$GANTRY_PORT" --bind 127.0.0.1
EOF

tui_start 120 40
tui_wait 'Templates \([0-9]+'
for _ in $(seq 1 20); do
	tui_screen | grep -Eq 'asks for 2 to 4 replicas' && break
	tui_keys j
	sleep 0.1
done
tui_wait 'scaled +endpoint'
tui_keys Enter
tui_wait 'Launch scaled'
tui_wait 'Fits +yes — local runs 1 replica; replicas\.min 2 applies on kubernetes'
tui_keys C-s

# The Job view: not ready yet, then ready.
tui_wait 'Job scaled-1'
tui_wait 'State +STARTING 0/1'
tui_wait 'Replicas .* 0/1 ready \(min 2, max 4\)'
touch "$flag"
tui_wait 'State +RUNNING 1/1'
tui_wait 'Replicas .* 1/1 ready \(min 2, max 4\)'

# The Jobs view's STATE column.
tui_keys Escape
tui_wait 'Jobs \(1\)'
tui_wait 'scaled-1 +endpoint +RUNNING 1/1 +local'
[ "$(tui_json_state scaled-1)" = RUNNING ] || tui_fail "ls -o json does not say RUNNING"
tui_quit
echo "ok - replicas in the launch form, the Job view and the Jobs view"
