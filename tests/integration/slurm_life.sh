#!/usr/bin/env bash
# slurm_life.sh: the life of a training job that Gantry launches on a real Slurm 22.05
# (tests/lib/slurmrig.sh: munged, slurmctld, slurmd with 2 fake GPUs, slurmrestd with JWT),
# checked with Slurm's own clients (squeue, scontrol; sacct needs slurmdbd, which the rig
# does not run):
# - the job shows up in Slurm named gantry-<id>, with its GRES (gpu:1), its time limit (the
#   template's limits.max_runtime, 10 min), the partition and Gantry's labels in the comment;
# - while the node's GPUs are held by another job it is PENDING (Resources) in Slurm and
#   STARTING with that reason in Gantry; then RUNNING, then COMPLETED/SUCCEEDED: Gantry's
#   state equals Slurm's at every poll of both (a Gantry answer is compared with Slurm's
#   state just before and just after it, so a change between the two polls is no mismatch);
# - `gantry logs` shows the job's output (its GPU too); `gantry logs -f` of a running job
#   follows it and ends when the job ends;
# - billing starts when Slurm starts the job, not at submission: `started` and the FOCUS
#   export's ChargePeriodStart are Slurm's StartTime, after the time the job waited;
# - `gantry stop` of a running job cancels it: CANCELLED in scontrol, STOPPED in Gantry;
# - reconcile: a Slurm job labelled with this store's installation id but unknown to the
#   store is an orphan (reported, then cancelled with --terminate-orphans); a job labelled
#   by another installation and a job without labels are never touched.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
. "$here/../lib/slurmrig.sh"
trap 'slurm_rig_cleanup; t_cleanup' EXIT

slurm_rig_start 2

# --- another user's job holds both GPUs, so Gantry's job has to wait
blocker=$(sbatch --parsable -J blocker -p "$SLURM_PARTITION" --gres=gpu:2 -t 5 -o /dev/null --wrap 'sleep 300')
blocker_running() { [ "$(slurm_rig_job_field "$blocker" JobState)" = RUNNING ]; }
check "a job of someone else holds both GPUs" wait_for 20 blocker_running

expect_rc 0 "gantry launch slurm-gpu --detach on the cluster" \
	g launch slurm-gpu --provider hpc --name life --set secs=6 --detach
cat "$T_HOME/out" "$T_HOME/err"
id=$(job_field life id 2>/dev/null) || id=none
sid=$(slurm_rig_slurm_id "$id")
if [[ $sid =~ ^[0-9]+$ ]]; then ok "squeue shows gantry-$id (Slurm job $sid)"; else
	fail "no Slurm job named gantry-$id; squeue: $(squeue -h -a -t all -o '%i %j %T' | tr '\n' ';')"
	t_done
	exit 1
fi
scontrol -o show job "$sid" >"$T_HOME/sjob"
sj() { tr ' ' '\n' <"$T_HOME/sjob" | sed -n "s/^$1=//p" | head -n 1; }
check "scontrol: JobName=gantry-$id" test "$(sj JobName)" = "gantry-$id"
check "scontrol: Partition=$SLURM_PARTITION" test "$(sj Partition)" = "$SLURM_PARTITION"
check "scontrol: TimeLimit=00:10:00 (limits.max_runtime 10m; got $(sj TimeLimit))" test "$(sj TimeLimit)" = 00:10:00
check "scontrol: one GPU asked for ($(grep -o 'TresPer[A-Za-z]*=[^ ]*' "$T_HOME/sjob" | tr '\n' ' '))" \
	grep -Eq 'TresPer(Node|Job|Task)=gres:gpu:1( |$)' "$T_HOME/sjob"
check "scontrol: the comment carries Gantry's labels (job=$id, inst=...)" \
	grep -Eq "Comment=gantry:1 job=$id attempt=[0-9]+ owner=[^ ]+ team=[^ ]+ inst=[^ ]+" "$T_HOME/sjob"
check "scontrol: the job runs as $SLURM_USER_NAME" grep -q "UserId=$SLURM_USER_NAME(" "$T_HOME/sjob"

# --- pending: Slurm says Resources, Gantry says STARTING with that reason
pend_reason() { [ "$(slurm_rig_job_field "$sid" Reason)" = Resources ]; }
check "Slurm: PENDING, Reason=Resources" wait_for 20 pend_reason
g_pending() { slurm_rig_gls "$id" >"$T_HOME/gls" && grep -q $'^STARTING\t.*Resources' "$T_HOME/gls"; }
if wait_for 20 g_pending; then ok "gantry ls: STARTING, reason $(cut -f2 "$T_HOME/gls")"; else
	fail "gantry ls does not show STARTING with the pending reason Resources: $(cat "$T_HOME/gls")"
fi
check "billing has not started while it waits (started is null)" test -z "$(job_field life started)"
g show life >"$T_HOME/show"
check "the pending reason is an event of the job" grep -q 'Resources' "$T_HOME/show"

# --- the whole life, both polled: Gantry's state equals Slurm's
mism=0
seen=
compare_once() { # 0 when the job has ended in both
	local s1 s2 gs
	s1=$(slurm_rig_job_field "$sid" JobState)
	gs=$(slurm_rig_gls "$id" | cut -f1)
	s2=$(slurm_rig_job_field "$sid" JobState)
	case " $seen " in *" $gs "*) ;; *) seen="$seen $gs" ;; esac
	if [ "$gs" != "$(slurm_rig_expect "$s1")" ] && [ "$gs" != "$(slurm_rig_expect "$s2")" ]; then
		mism=$((mism + 1))
		echo "  mismatch: Slurm $s1..$s2, Gantry $gs"
	fi
	case $gs in SUCCEEDED | FAILED | STOPPED) [ "$s2" = COMPLETED ] || [ "$s2" = FAILED ] || [ "$s2" = CANCELLED ] ;; *) return 1 ;; esac
}
for _ in 1 2 3; do compare_once || :; done
t_release=$(date +%s)
scancel "$blocker"
end=$((SECONDS + 40))
until compare_once; do
	[ "$SECONDS" -lt "$end" ] || break
	sleep 0.3 # polling both sides at a steady pace, 40 s at most
done
check "Gantry's state equalled Slurm's at every poll ($mism mismatches)" test "$mism" = 0
check "Gantry went through STARTING, RUNNING and SUCCEEDED (seen:$seen)" \
	bash -c '[[ "$1" == *" STARTING"*" RUNNING"*" SUCCEEDED"* ]]' _ "$seen"
check "Slurm: COMPLETED" test "$(slurm_rig_job_field "$sid" JobState)" = COMPLETED
check "Gantry: SUCCEEDED" test "$(job_field life state)" = SUCCEEDED

# --- logs
g logs life >"$T_HOME/logs" 2>&1 || :
check "gantry logs shows the job's output (with its GPU)" \
	grep -Eq "^slurm-gpu start job=$id gpus=1 cuda=[01]$" "$T_HOME/logs"
check "gantry logs shows the end of the output" grep -qx "slurm-gpu done" "$T_HOME/logs"

# --- logs -f follows a running job until it ends
expect_rc 0 "launch slurm-hello (3 s)" g launch slurm-hello --provider hpc --name follow --set secs=3 --detach
check "Gantry: follow RUNNING" wait_state follow RUNNING 20
frc=0
timeout 30 "$GANTRY_BIN" logs -f follow >"$T_HOME/follow" 2>&1 || frc=$?
check "gantry logs -f ends by itself when the job ends (exit $frc)" test "$frc" = 0
check "and printed the whole output" bash -c 'grep -q "^slurm-hello start job=" "$1" && grep -qx "slurm-hello done" "$1"' _ "$T_HOME/follow"
check "the job SUCCEEDED" wait_state follow SUCCEEDED 20

# --- cost: billed from Slurm's start, not from the submission
start_s=$(slurm_rig_epoch "$(slurm_rig_job_field "$sid" StartTime)")
submit_s=$(slurm_rig_epoch "$(slurm_rig_job_field "$sid" SubmitTime)")
end_s=$(slurm_rig_epoch "$(slurm_rig_job_field "$sid" EndTime)")
started=$(job_field life started)
g_start=$([ -n "$started" ] && date -d "$started" +%s || echo 0)
check "Slurm started it after the GPUs were released (submit $submit_s, release $t_release, start $start_s)" \
	test "$start_s" -ge "$t_release" -a "$submit_s" -lt "$t_release"
check "Gantry's start is Slurm's StartTime ($started vs $start_s)" \
	test "$((g_start - start_s))" -ge -1 -a "$((g_start - start_s))" -le 1
g cost --focus - >"$T_HOME/focus.csv" 2>"$T_HOME/focus.err" || :
rc=0
python3 - "$T_HOME/focus.csv" "$id" "$start_s" "$end_s" "$submit_s" >"$T_HOME/focus.check" 2>&1 <<'EOF' || rc=$?
import csv, datetime, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if sys.argv[2] in (r.get("ResourceId") or "")]
start, end, submit = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
assert rows, "no FOCUS row for the job"
r = rows[0]
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
cs = t(r["ChargePeriodStart"])
hours = float(r["PricingQuantity"])
print("ChargePeriodStart %s (Slurm start %d, submit %d), %s %s at %s, billed %s" % (
    r["ChargePeriodStart"], start, submit, hours, r["PricingUnit"], r["ListUnitPrice"], r["BilledCost"]))
assert abs(cs - start) <= 1, "the charge starts at %s, Slurm started the job at %d" % (cs, start)
assert hours * 3600 <= (end - start) + 2, "billed %.1f s, Slurm ran it %d s" % (hours * 3600, end - start)
assert float(r["ListUnitPrice"]) >= 2.0, "the price is not the site rate (rate_gpu_hour 2.0 for one GPU)"
assert float(r["BilledCost"]) > 0
EOF
if [ $rc = 0 ]; then ok "FOCUS export: $(cat "$T_HOME/focus.check")"; else
	fail "FOCUS export: $(tail -n 3 "$T_HOME/focus.check") $(head -c 300 "$T_HOME/focus.err")"
fi

# --- stop from Gantry: CANCELLED in Slurm, STOPPED in Gantry
expect_rc 0 "launch slurm-long" g launch slurm-long --provider hpc --name longrun --detach
lid=$(job_field longrun id 2>/dev/null) || lid=none
lsid=$(slurm_rig_slurm_id "$lid")
lrun() { [ "$(slurm_rig_job_field "$lsid" JobState)" = RUNNING ]; }
check "Slurm: longrun RUNNING" wait_for 20 lrun
check "Gantry: longrun RUNNING" wait_state longrun RUNNING 20
check "scontrol: TimeLimit=00:07:00 (slurm-long's max_runtime)" test "$(slurm_rig_job_field "$lsid" TimeLimit)" = 00:07:00
expect_rc 0 "gantry stop longrun" g stop longrun
lcancel() { [ "$(slurm_rig_job_field "$lsid" JobState)" = CANCELLED ]; }
check "scontrol: CANCELLED" wait_for 20 lcancel
check "Gantry: STOPPED" wait_state longrun STOPPED 20
check "squeue no longer lists it as active" test -z "$(squeue -h -j "$lsid" -t PENDING,RUNNING -o %i 2>/dev/null)"

# --- reconcile: only this installation's jobs
inst=$(sqlite3 "$T_HOME/state/gantry.db" "SELECT value FROM meta WHERE key='installation_id'")
ours=$(sbatch --parsable -J gantry-jorphan00000001 -t 5 -o /dev/null \
	--comment "gantry:1 job=jorphan00000001 attempt=1 owner=$(id -un) team=- inst=$inst" --wrap 'sleep 300')
theirs=$(sbatch --parsable -J gantry-jother000000001 -t 5 -o /dev/null \
	--comment "gantry:1 job=jother000000001 attempt=1 owner=$(id -un) team=- inst=0123456789abcdef0123456789abcdef" --wrap 'sleep 300')
plain=$(sbatch --parsable -J plain -t 5 -o /dev/null --wrap 'sleep 300')
expect_rc 0 "gantry reconcile" g reconcile -o json
kept=$(python3 -c 'import json,sys; print(" ".join(x.replace(" ", ":") for x in json.load(open(sys.argv[1])).get("orphans_kept", [])))' "$T_HOME/out")
check "our labelled job unknown to the store is an orphan (kept: $kept)" bash -c '[[ " $1 " == *" hpc:$2 "* ]]' _ "$kept" "$ours"
check "the other installation's job and the unlabelled one are not" \
	bash -c '[[ " $1 " != *":$2 "* && " $1 " != *":$3 "* ]]' _ "$kept" "$theirs" "$plain"
expect_rc 0 "gantry reconcile --terminate-orphans" g reconcile --terminate-orphans
ocancel() { [ "$(slurm_rig_job_field "$ours" JobState)" = CANCELLED ]; }
check "scontrol: the orphan CANCELLED" wait_for 20 ocancel
for j in "$theirs" "$plain"; do
	st=$(slurm_rig_job_field "$j" JobState)
	check "scontrol: job $j untouched ($st)" bash -c '[ "$1" = RUNNING ] || [ "$1" = PENDING ]' _ "$st"
done

t_done
