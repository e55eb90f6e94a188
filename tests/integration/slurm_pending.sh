#!/usr/bin/env bash
# slurm_pending.sh: jobs that cannot start, on a real Slurm 22.05 (tests/lib/slurmrig.sh):
# - node full: a first Gantry job takes both fake GPUs, a second one waits; Slurm says
#   PENDING (Resources) and Gantry shows the second STARTING with that reason in `gantry ls`;
#   the reason is persisted (in the store and `ls --no-refresh`, one event however often it
#   is refreshed); when the first is cancelled from Gantry the second starts and ends;
# - requests that cannot run: a partition the cluster does not have (provider hpcbad) and
#   more GPUs than the node has (3) are refused in one line, by the cluster's errors[] or
#   before submission by the provider's offers (from the cluster's partitions and nodes);
#   a time limit over the partition's MaxTime (limits.max_runtime 7m on partition "short",
#   MaxTime 1 min, EnforcePartLimits=ALL), which the offers do not check, goes to the
#   cluster, and its rejection comes back from errors[] in one line: the job FAILED with
#   that reason. Slurm holds no job for any of them.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
. "$here/../lib/slurmrig.sh"
trap 'slurm_rig_cleanup; t_cleanup' EXIT

SLURM_RIG_SHORT=1 slurm_rig_start 2
db=$T_HOME/state/gantry.db

# --- the first job takes the whole node
expect_rc 0 "launch slurm-full (both GPUs)" g launch slurm-full --provider hpc --name first --detach
fid=$(job_field first id 2>/dev/null) || fid=none
fsid=$(slurm_rig_slurm_id "$fid")
check "Slurm has it (job ${fsid:-none})" test -n "$fsid"
frun() { [ -n "$fsid" ] && [ "$(slurm_rig_job_field "$fsid" JobState)" = RUNNING ]; }
check "Slurm: first RUNNING" wait_for 20 frun
check "scontrol: first asked for gpu:2" bash -c 'scontrol -o show job "$1" | grep -Eq "TresPer(Node|Job)=gres:gpu:2( |$)"' _ "$fsid"
check "Gantry: first RUNNING" wait_state first RUNNING 20

# --- the second has to wait
expect_rc 0 "launch slurm-gpu while the node is full" g launch slurm-gpu --provider hpc --name second --set secs=2 --detach
sid2=$(job_field second id 2>/dev/null) || sid2=none
ssid=$(slurm_rig_slurm_id "$sid2")
check "Slurm has it (job ${ssid:-none})" test -n "$ssid"
resources() { [ -n "$ssid" ] && [ "$(slurm_rig_job_field "$ssid" JobState)" = PENDING ] &&
	[ "$(slurm_rig_job_field "$ssid" Reason)" = Resources ]; }
check "Slurm: second PENDING, Reason=Resources" wait_for 20 resources
g_pending() { slurm_rig_gls "$sid2" >"$T_HOME/gls" && grep -q $'^STARTING\t.*Resources' "$T_HOME/gls"; }
if wait_for 20 g_pending; then ok "gantry ls -o json: second STARTING, reason '$(cut -f2 "$T_HOME/gls")'"; else
	fail "gantry ls -o json does not show second STARTING with reason Resources: '$(cat "$T_HOME/gls")'"
fi
g ls >"$T_HOME/ls.txt"
check "gantry ls: second is STARTING" grep -Eq '^second +[^ ]+ +training +STARTING ' "$T_HOME/ls.txt"
# persisted: what the store holds, without asking the provider again
slurm_rig_gls "$sid2" --no-refresh >"$T_HOME/gls.stored"
check "the reason is persisted (ls --no-refresh: '$(cut -f2 "$T_HOME/gls.stored")')" \
	grep -q $'^STARTING\t.*Resources' "$T_HOME/gls.stored"
check "the store holds it" bash -c 'sqlite3 "$1" "SELECT reason FROM jobs WHERE id='"'"'$2'"'"'" | grep -q Resources' _ "$db" "$sid2"
g ls >/dev/null
g ls >/dev/null
g show second >"$T_HOME/show"
n=$(grep -c 'STARTING *-> STARTING.*Resources' "$T_HOME/show" || :)
check "the reason change is one event of the job, not one per refresh ($n)" test "$n" = 1
check "not billed while pending (started is null)" test -z "$(job_field second started)"

# --- the first is cancelled from Gantry: the second starts
expect_rc 0 "gantry stop first" g stop first
fcancel() { [ "$(slurm_rig_job_field "$fsid" JobState)" = CANCELLED ]; }
check "scontrol: first CANCELLED" wait_for 20 fcancel
check "Gantry: first STOPPED" wait_state first STOPPED 20
srun_() { case $(slurm_rig_job_field "$ssid" JobState) in RUNNING | COMPLETING | COMPLETED) return 0 ;; esac; return 1; }
check "Slurm: the second starts" wait_for 20 srun_
check "Gantry: the second SUCCEEDED" wait_state second SUCCEEDED 30
g show second >"$T_HOME/show"
check "its events go from STARTING (Resources) to RUNNING" grep -q 'STARTING *-> RUNNING' "$T_HOME/show"
check "billed from its start now (started is set)" test -n "$(job_field second started)"

# --- requests the cluster rejects: one line, the reason from Slurm's errors[]
one_line_err() { # ERRFILE: the error is one line ("gantry: ..."; the launch's progress
	# line "launched NAME (ID) on P" may precede it), and nothing else follows
	[ "$(grep -c '^gantry: ' "$1")" = 1 ] && [ "$(grep -vc -e '^gantry: ' -e '^launched ' "$1")" = 0 ]
}
rc=0
g launch slurm-long --provider hpcbad --name badpart --detach >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
check "a launch to a partition the cluster lacks fails (exit $rc)" test "$rc" != 0
bad_by=none
if grep -qi 'Invalid partition name specified' "$T_HOME/err"; then
	bad_by=cluster
	ok "refused by the cluster, with its reason: $(head -c 300 "$T_HOME/err")"
elif grep -q 'nosuchpart' "$T_HOME/err"; then
	bad_by=offers
	ok "refused before submission, naming the partition: $(head -c 300 "$T_HOME/err")"
else
	fail "the bad partition's refusal does not say why: $(head -c 300 "$T_HOME/err")"
fi
check "in one line" one_line_err "$T_HOME/err"
check "naming the provider" grep -q 'hpcbad' "$T_HOME/err"

rc=0
g launch slurm-long --provider hpcshort --name toolong --detach >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
check "a launch over the partition's time limit fails (exit $rc)" test "$rc" = 1
check "with the cluster's reason from errors[]: $(head -c 300 "$T_HOME/err")" \
	grep -q 'Requested time limit is invalid' "$T_HOME/err"
check "in one line" one_line_err "$T_HOME/err"
check "naming the provider" grep -q 'hpcshort' "$T_HOME/err"
st=$(job_field toolong state 2>/dev/null || echo none)
check "Gantry: toolong FAILED ($st)" test "$st" = FAILED
check "its reason is the cluster's: $(job_field toolong reason 2>/dev/null | head -c 200)" \
	bash -c 'job_field toolong reason | grep -q "Requested time limit is invalid"'

rc=0
g launch slurm-three --provider hpc --name three --detach >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
check "a launch asking for 3 GPUs (the node has 2) fails (exit $rc)" test "$rc" != 0
three_by=none
if grep -qi 'Requested node configuration is not available' "$T_HOME/err"; then
	three_by=cluster
	ok "refused by the cluster, with its reason: $(head -c 300 "$T_HOME/err")"
elif grep -Eqi '(needs|wants|asks for) 3|3 GPUs' "$T_HOME/err"; then
	three_by=offers
	ok "refused before submission by the offers (the node has 2 GPUs): $(head -c 300 "$T_HOME/err")"
else
	fail "the 3-GPU refusal does not say why: $(head -c 300 "$T_HOME/err")"
fi
check "in one line" one_line_err "$T_HOME/err"
bp=$(job_field badpart id 2>/dev/null) || bp=x
th=$(job_field three id 2>/dev/null) || th=x
tl=$(job_field toolong id 2>/dev/null) || tl=x
left=$(squeue -h -a -t all -o '%j' | grep -Ec "^gantry-($bp|$th|$tl)$" || :)
check "Slurm holds no job for the rejected requests ($left)" test "$left" = 0
st=$(job_field badpart state 2>/dev/null || echo none)
if [ "$bad_by" = offers ]; then
	check "Gantry: badpart was never launched ($st)" test "$st" = none -o "$st" = FAILED
else
	check "Gantry: badpart FAILED ($st)" test "$st" = FAILED
fi
st=$(job_field three state 2>/dev/null || echo none)
if [ "$three_by" = offers ]; then
	check "Gantry: three was never launched ($st)" test "$st" = none -o "$st" = FAILED
else
	check "Gantry: three FAILED ($st)" test "$st" = FAILED
fi

t_done
