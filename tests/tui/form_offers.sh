#!/bin/bash
# The launch form's Offers panel (^O) over the local provider and an `ssh` provider on real
# OpenSSH workers: the ranked offers (price and source), the dropped ones with their reasons
# (the price cap, no GPU), scrolling on a short terminal, and Esc back to the form.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
. "${GANTRY_SRCDIR:-.}/tests/lib/sshrig.sh"
trap 'rig_cleanup; tui_cleanup' EXIT
rig_workers 2 2
cfg=$GANTRY_HOME/config/config.yaml
sed -i 's/^      - name: gpu2$/&\n        rate_gpu_hour: 4/' "$cfg"
# 20 more hosts nobody listens for: each comes back dropped (a list longer than the screen)
closed=$(rig_free_port)
for i in $(seq -w 1 20); do
	printf '      - {name: dead%s, address: 127.0.0.1, port: %s, dir: /nonexistent}\n' "$i" "$closed"
done >>"$cfg"
echo "  local: {rate_cpu_hour: 0.5}" >>"$cfg"
mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/offers-h100.yaml" <<'EOF'
name: offers-h100
kind: training
description: one H100 under a price cap
params:
  secs: {type: int, default: 1, min: 0, max: 60}
resources:
  accelerators: H100:1
limits:
  max_hourly_cost: 3
run: sleep {{secs}}
EOF

tui_start 160 40
tui_wait 'Templates \([0-9]+'
for _ in $(seq 1 20); do
	tui_screen | grep -Eq 'offers-h100 +training' && tui_screen | grep -q '▶ *offers-h100' && break
	tui_keys j
	sleep 0.1
done
tui_wait 'offers-h100 +training'
tui_keys Enter
tui_wait 'Launch offers-h100'
tui_wait '\^O: offers'
tui_keys C-o
tui_wait 'Offers for offers-h100: 1 fit, 22 dropped'
tui_wait 'RANK +PROVIDER +REGION +TYPE +GPUS +CPUS +MEMORY +MARKET +PRICE +SOURCE +BILLING +AVAILABLE'
tui_wait '1 +fleet +- +gpu1 +2x H100 +[0-9]+ +[0-9.]+ GiB +on-demand +\$2\.50/h +site +second +yes'
tui_wait 'dropped:'
tui_wait 'fleet gpu2 \(2x H100, \$4\.00/h\): \$4\.00/h is over limits\.max_hourly_cost \$3\.00/h'
tui_wait "local $(hostname) \\(-, unpriced\\): needs H100:1"
tui_assert_no 'What the job will get'

tui_wait 'fleet dead01 \(-, unpriced\): dead01 unreachable: 127\.0\.0\.1:[0-9]+: connection refused'
# on a 24-row terminal the list scrolls: Down a line, PageDown a page, and back up
tui_resize 160 24
tui_wait 'RANK +PROVIDER'
tui_assert_no 'fleet dead20'
tui_keys Down
tui_wait_gone 'RANK +PROVIDER'
tui_wait '^ *1 +fleet +- +gpu1'
tui_keys Up
tui_wait 'RANK +PROVIDER'
tui_keys PageDown PageDown
tui_wait 'fleet dead20'
tui_wait 'local .*needs H100:1'
tui_assert_no 'RANK +PROVIDER'
tui_keys PageUp PageUp
tui_wait 'RANK +PROVIDER'
tui_resize 160 40

# Esc goes back to the form, with the preview
tui_keys Escape
tui_wait 'What the job will get'
tui_assert_no 'Offers for offers-h100'
# ^O again asks again; ^O closes it
tui_keys C-o
tui_wait 'Offers for offers-h100: 1 fit'
tui_keys C-o
tui_wait 'What the job will get'
tui_keys Escape
tui_wait 'Templates \('
tui_quit
echo "ok - form offers panel: ranked, dropped with reasons, scroll, back"
