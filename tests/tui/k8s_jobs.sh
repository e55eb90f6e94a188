#!/bin/bash
# A notebook launched on Kubernetes from the TUI (Templates, launch form) against the
# Kubernetes fake: while the cluster cannot schedule it, the Jobs view shows it STARTING on
# provider kube with the scheduler's reason (Unschedulable) and so does its Job view; once
# it fits it is RUNNING with its log; x (then y) stops it: STOPPED, its pod deleted.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
T_HOME=$GANTRY_HOME
wait_for() { # SECS CMD...: polls CMD until it succeeds
	local end=$((SECONDS + $1))
	shift
	while ((SECONDS < end)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	"$@" >/dev/null 2>&1
}
. "${GANTRY_SRCDIR:-.}/tests/lib/k8srig.sh"
. "${GANTRY_SRCDIR:-.}/tests/lib/k8stest.sh"
trap 'k8srig_stop; tui_cleanup' EXIT
g() { "$GANTRY_BIN" "$@"; }
k8srig_start "$T_HOME/k8s" --namespace team-vision --bookmark-interval 1
k8s_test_config kube
k8s_test_templates
# placed on kube, so the form's (auto) provider is kube
printf 'placement:\n  providers: [kube]\n' >>"$GANTRY_HOME/config/templates/knote.yaml"
k8s_ctl POST /_fake/config '{"unschedulable": true}' >/dev/null
export -f k8s_ctl k8s_q

tui_start 160 40
tui_wait 'Templates \([0-9]+'
tui_keys /
tui_type 'knote'
tui_wait 'Templates \(1 of [0-9]+\)  filter: knote'
tui_keys Enter
tui_keys Enter
tui_wait 'Launch knote'
tui_keys Enter
tui_wait 'Job knote' 30
tui_keys Escape
tui_wait 'Jobs \(1\)'
tui_wait 'knote-[0-9]+ +notebook +STARTING +kube' 30
# the Jobs view says why it waits, and so does its Job view
tui_wait 'knote-[0-9]+ +notebook +STARTING +kube +\(pending: Un' 30
tui_keys Enter
tui_wait 'State +STARTING'
tui_wait 'Reason +.*Unschedulable'
tui_keys Escape
tui_wait 'Jobs \(1\)'
k8s_ctl POST /_fake/config '{"unschedulable": false}' >/dev/null
tui_wait 'knote-[0-9]+ +notebook +RUNNING +kube' 60
tui_keys Enter
tui_wait 'State +RUNNING'
tui_wait 'note-start job=j[0-9a-f]+ port=[0-9]+' 30
tui_keys x
tui_wait 'Stop knote-[0-9]+ \(j[0-9a-f]+, RUNNING'
tui_keys y
tui_wait 'State +STOPPED' 60
tui_keys Escape
tui_wait 'knote-[0-9]+ +notebook +STOPPED +kube'
wait_for 30 bash -c '[ "$(k8s_q /_fake/pods "len(d[\"data\"])")" = 0 ]' ||
	tui_fail "the notebook's pod is still there"
tui_quit
echo "ok - a kubernetes notebook in the Jobs view: STARTING (Unschedulable), RUNNING, stopped with x"
