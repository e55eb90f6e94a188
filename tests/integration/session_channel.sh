#!/usr/bin/env bash
# session_channel.sh: the engine's sessions and forwards through a provider's own channel
# (provider_ops.channel_open). No provider implements it yet: tests/sessions/chantool gives
# the local provider a protocol fake of it and checks what the engine asks and does (a SHELL
# channel run to its end with the status back, a failed open, URLs forwarded, FORWARD channels
# listed, closed exactly once, dropped when they end).
. "$(dirname "$0")/../lib/common.sh"
CT=${CHANTOOL:-$(dirname "$GANTRY_BIN")/tests/sessions/chantool}
mkdir -p "$T_HOME/config/templates"
cat >"$T_HOME/config/templates/nap.yaml" <<'EOF'
name: nap
kind: training
description: sleeps here
resources:
  accelerators: none
placement:
  providers: [local]
run: sleep 600
EOF
expect_rc 0 "launch a local job" g launch nap --name c1
check "c1 reaches RUNNING" wait_state c1 RUNNING 30
rc=0
"$CT" c1 || rc=$?
check "chantool's checks pass (exit $rc)" test "$rc" = 0
expect_rc 0 "stop c1" g stop c1
t_done
