#!/bin/bash
# A Slurm job launched from the TUI (Templates, launch form), on a real Slurm 22.05
# (tests/lib/slurmrig.sh): while another job holds the node's GPUs, the Jobs view shows Gantry's job STARTING on provider hpc and its
# Job view gives the pending reason (Resources); once the GPUs are free it is RUNNING with
# its output; x (then y) stops it: STOPPED in the TUI and the CLI, CANCELLED in scontrol.
set -u
. "${GANTRY_SRCDIR:-.}/tests/lib/tmux.sh"
tui_setup
. "${GANTRY_SRCDIR:-.}/tests/lib/sshrig.sh"
. "${GANTRY_SRCDIR:-.}/tests/lib/slurmrig.sh"
trap 'slurm_rig_cleanup; tui_cleanup' EXIT
g() { "$GANTRY_BIN" "$@"; }
slurm_rig_start 2

blocker=$(sbatch --parsable -J blocker -p "$SLURM_PARTITION" --gres=gpu:2 -t 5 -o /dev/null --wrap 'sleep 300') ||
	tui_fail "sbatch failed"
for ((i = 0; i < 100; i++)); do
	[ "$(slurm_rig_job_field "$blocker" JobState)" = RUNNING ] && break
	sleep 0.2
done
[ "$(slurm_rig_job_field "$blocker" JobState)" = RUNNING ] || tui_fail "the blocker job does not run"
# launched from the TUI: Templates, filter, the launch form (name, provider, secs), Enter
tui_start 160 40
tui_wait 'Templates \([0-9]+'
tui_keys /
tui_type 'slurm-gpu'
tui_wait 'Templates \(1 of [0-9]+\)  filter: slurm-gpu'
tui_keys Enter
tui_keys Enter
tui_wait 'Launch slurm-gpu'
tui_wait 'Fits +yes'
# the form opens on the first parameter (secs); three Tabs go round to the job name
tui_keys C-u
tui_type '120'
tui_keys Tab Tab Tab C-u
tui_type 'tjob'
tui_wait 'job name +tjob'
tui_wait 'secs +120'
tui_keys Enter
tui_wait 'Job tjob' 30
tui_keys Escape
tui_wait 'Jobs \(1\)'
id=$(g ls -o json | python3 -c 'import json,sys; print([j["id"] for j in json.load(sys.stdin) if j["name"] == "tjob"][0])')
[ "$(g ls -o json | python3 -c 'import json,sys; print([j["provider"] for j in json.load(sys.stdin) if j["name"] == "tjob"][0])')" = hpc ] ||
	tui_fail "the form's (auto) provider did not follow the template's placement (hpc)"
tui_wait 'tjob +training +STARTING +hpc'
# STARTING: the launch (asynchronous in the TUI) has submitted the job
sid=$(slurm_rig_slurm_id "$id")
[ -n "$sid" ] || tui_fail "no Slurm job named gantry-$id"
# the Jobs view says why it waits (the UTIL column), and so does `gantry ls` (REASON)
tui_wait 'tjob +training +STARTING +hpc +\(pending: Re'
g ls | grep -Eq 'tjob .*STARTING .*pending: Resources' || tui_fail "gantry ls has no pending reason"
# nothing is billed while it waits: its cost is $0.00 however long it is queued
sleep 20
tui_wait 'tjob +training +STARTING +hpc +\(pending: Re.* \$0\.00 '
# the Job view of the selected job gives the pending reason
tui_keys Enter
tui_wait 'Job tjob'
tui_wait 'State +STARTING'
tui_wait 'Reason +.*Resources'
tui_keys Escape
tui_wait 'Jobs \(1\)'

scancel "$blocker"
tui_wait 'tjob +training +RUNNING +hpc' 30
tui_keys Enter
tui_wait 'State +RUNNING'
tui_wait "slurm-gpu start job=$id gpus=1 cuda=[01]" 30
tui_keys x
tui_wait 'Stop tjob \(j[0-9a-f]+, RUNNING'
tui_keys y
tui_wait 'State +STOPPED' 30
tui_keys Escape
tui_wait 'tjob +training +STOPPED +hpc'
[ "$(tui_json_state tjob)" = STOPPED ] || tui_fail "ls -o json does not say STOPPED"
for ((i = 0; i < 100; i++)); do
	[ "$(slurm_rig_job_field "$sid" JobState)" = CANCELLED ] && break
	sleep 0.2
done
[ "$(slurm_rig_job_field "$sid" JobState)" = CANCELLED ] ||
	tui_fail "scontrol says $(slurm_rig_job_field "$sid" JobState), wanted CANCELLED"
tui_quit
echo "ok - a slurm job in the Jobs view: STARTING (Resources), RUNNING, stopped with x: CANCELLED"
