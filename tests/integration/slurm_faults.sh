#!/usr/bin/env bash
# slurm_faults.sh: the slurm provider when its REST API fails, on a real Slurm 22.05
# (tests/lib/slurmrig.sh):
# - slurmrestd killed mid-run (SIGKILL, by its pid): a running `gantry watch` reports the
#   provider unhealthy with the time of its last success, `gantry ls` shows its jobs
#   UNKNOWN (never FAILED) with that reason; one of them ends in Slurm meanwhile;
#   slurmrestd restarted on the same port: the watch says it answers again, and the jobs
#   come back to their true state (the running one RUNNING, the one that ended SUCCEEDED);
# - a bad token: an authentication error naming the provider, the token never shown, and
#   no retry storm (requests counted in slurmrestd's log: a launch, a refresh and 6 s of
#   `gantry watch` at poll_interval 1s stay under a small bound); the jobs are not FAILED;
#   a good token again: RUNNING;
# - a requeued job (`scontrol requeue`, what Slurm does after a preemption or a node
#   failure): RECOVERING with the reason, never FAILED, then RUNNING again when Slurm
#   starts it anew (its begin time moved to now instead of Slurm's requeue delay).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
. "$here/../lib/slurmrig.sh"
watch_pid=
trap '[ -z "$watch_pid" ] || kill "$watch_pid" 2>/dev/null; slurm_rig_cleanup; t_cleanup' EXIT

slurm_rig_start 2

expect_rc 0 "launch slurm-long" g launch slurm-long --provider hpc --name victim --detach
expect_rc 0 "launch slurm-hello (8 s)" g launch slurm-hello --provider hpc --name short --set secs=8 --detach
vid=$(job_field victim id 2>/dev/null) || vid=none
hid=$(job_field short id 2>/dev/null) || hid=none
vsid=$(slurm_rig_slurm_id "$vid")
hsid=$(slurm_rig_slurm_id "$hid")
check "both are Slurm jobs (${vsid:-none}, ${hsid:-none})" test -n "$vsid" -a -n "$hsid"
check "Gantry: victim RUNNING" wait_state victim RUNNING 20
check "Gantry: short RUNNING" wait_state short RUNNING 20
"$GANTRY_BIN" watch >"$T_HOME/watch1" 2>&1 & # gantry itself, so that $! is its pid
watch_pid=$!
check "gantry watch is running" wait_for 10 grep -q 'watching' "$T_HOME/watch1"

# --- slurmrestd killed mid-run
rpid=$(slurm_rig_restd_pid)
check "slurmrestd (pid $rpid) killed" slurm_rig_restd_stop
check "gantry watch: provider hpc unhealthy, with the time of its last success" \
	wait_for 20 grep -Eq 'provider hpc: .*(last success [0-9]{2}:[0-9]{2}:[0-9]{2})' "$T_HOME/watch1"
grep -E 'provider hpc: ' "$T_HOME/watch1" | head -n 1
both_unknown() {
	slurm_rig_gls "$vid" >"$T_HOME/v" && slurm_rig_gls "$hid" >"$T_HOME/h" || return 1
	if grep -q '^FAILED' "$T_HOME/v" "$T_HOME/h"; then echo FAILED >"$T_HOME/failed_seen"; fi
	grep -q '^UNKNOWN' "$T_HOME/v" && grep -q '^UNKNOWN' "$T_HOME/h"
}
check "gantry ls: both jobs UNKNOWN" wait_for 20 both_unknown
check "never FAILED" test ! -e "$T_HOME/failed_seen"
check "the reason says slurmrestd does not answer, and since when ('$(cut -f2 "$T_HOME/v")')" \
	grep -Eqi "slurmrestd .*no answer.*last success" "$T_HOME/v"
# meanwhile, Slurm goes on: short ends
hdone() { [ "$(slurm_rig_job_field "$hsid" JobState)" = COMPLETED ]; }
check "Slurm: short COMPLETED while the API is down" wait_for 30 hdone
check "Gantry still says UNKNOWN for short, not FAILED" bash -c 'slurm_rig_gls "$1" | grep -q ^UNKNOWN' _ "$hid"

# --- slurmrestd back on the same port: the true states
check "slurmrestd restarted" slurm_rig_restd_start
t0=$SECONDS
check "gantry watch: provider hpc answers again" wait_for 45 grep -Eq 'provider hpc: .*answers again' "$T_HOME/watch1"
echo "# the watch saw slurmrestd back after $((SECONDS - t0)) s"
check "Gantry: victim RUNNING again" wait_state victim RUNNING 30
check "Gantry: short SUCCEEDED (its true state)" wait_state short SUCCEEDED 30
kill "$watch_pid" 2>/dev/null || :
wait "$watch_pid" 2>/dev/null || :
watch_pid=
check "the watch never saw a job FAILED" bash -c '! grep -q -- "-> FAILED" "$1"' _ "$T_HOME/watch1"
g show victim >"$T_HOME/show"
check "victim never went FAILED" bash -c '! grep -q -- "-> FAILED" "$1"' _ "$T_HOME/show"

# --- a bad token
bad=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjQxMDI0NDQ4MDAsInN1biI6InJvb3QifQ.c2lnbmF0dXJlLWJhZA
(umask 077 && echo "$bad" >"$T_HOME/bad.token")
slurm_rig_config "token_file: $T_HOME/bad.token"
n0=$(slurm_rig_requests)
rc=0
g launch slurm-hello --provider hpc --name badtok --detach >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
check "a launch with a bad token fails (exit $rc)" test "$rc" != 0
check "with an authentication error naming the provider: $(head -c 300 "$T_HOME/err")" \
	bash -c 'grep -q hpc "$1" && grep -Eqi "auth|token" "$1"' _ "$T_HOME/err"
check "the token is not in the error" bash -c '! grep -qF "$1" "$2"' _ "$bad" "$T_HOME/err"
n1=$(slurm_rig_requests)
check "the launch made few requests ($((n1 - n0)) <= 4)" test "$((n1 - n0))" -le 4
check "no Slurm job for it" test -z "$(slurm_rig_slurm_id "$(job_field badtok id 2>/dev/null || echo x)")"
g ls >"$T_HOME/ls" 2>&1 || :
st=$(slurm_rig_gls "$vid" --no-refresh | cut -f1)
check "victim is not FAILED under a bad token ($st)" test "$st" != FAILED
n2=$(slurm_rig_requests)
"$GANTRY_BIN" watch >"$T_HOME/watch.out" 2>&1 &
watch_pid=$!
t0=$SECONDS
sleep 6 # the point: how many requests a watching Gantry makes in 6 s against a refused token
kill "$watch_pid" 2>/dev/null || :
wait "$watch_pid" 2>/dev/null || :
watch_pid=
n3=$(slurm_rig_requests)
secs=$((SECONDS - t0))
check "no retry storm: $((n3 - n2)) requests in ${secs}s of gantry watch at poll_interval 1s (<= $((secs + 4)))" \
	test "$((n3 - n2))" -le "$((secs + 4))"
check "gantry watch says the token is refused, for provider hpc" grep -Eq 'provider hpc: .*token refused' "$T_HOME/watch.out"
check "the token is in no output" bash -c '! grep -rqF "$1" "$2"/out "$2"/err "$2"/ls "$2"/watch.out' _ "$bad" "$T_HOME"
echo "# requests while the token was bad: launch $((n1 - n0)), ls $((n2 - n1)), watch $((n3 - n2)) in ${secs}s"

# --- the good token again
slurm_rig_config
check "Gantry: victim RUNNING with the good token" wait_state victim RUNNING 20

# --- requeued by Slurm (as after a preemption): RECOVERING, then RUNNING again
check "scontrol requeue victim" scontrol requeue "$vsid"
recovering() { slurm_rig_gls "$vid" >"$T_HOME/v" && grep -q $'^RECOVERING\t.*requeued' "$T_HOME/v"; }
if wait_for 30 recovering; then ok "Gantry: victim RECOVERING ($(cut -f2 "$T_HOME/v"))"; else
	fail "Gantry: victim is not RECOVERING after the requeue: '$(cat "$T_HOME/v")'; Slurm: $(slurm_rig_job_field "$vsid" JobState)/$(slurm_rig_job_field "$vsid" Reason)"
	echo "# GET /jobs with the rig's token now: $(slurm_rig_rest GET /jobs | grep -E '"error"|"description"|^HTTP' | tr -s ' ' | tr '\n' ' ')"
	echo "# slurmrestd's log (errors):"
	grep -v -e operations_router -e 'attempting user_name' "$SLURM_RIG_DIR/log/slurmrestd.out" | tail -n 15
fi
check "Slurm: PENDING again, restarted once" bash -c '[ "$(slurm_rig_job_field "$1" JobState)" = PENDING ] && [ "$(slurm_rig_job_field "$1" Restarts)" = 1 ]' _ "$vsid"
check "Slurm starts it now" scontrol update JobId="$vsid" StartTime=now
check "Gantry: victim RUNNING again after the requeue" wait_state victim RUNNING 30
g show victim >"$T_HOME/show"
check "its events: -> RECOVERING -> RUNNING, never FAILED: $(grep -- '->' "$T_HOME/show" | tail -n 5 | tr -s ' ' | tr '\n' ';')" \
	bash -c 'grep -q -- "-> RECOVERING" "$1" && ! grep -q -- "-> FAILED" "$1"' _ "$T_HOME/show"

expect_rc 0 "stop victim" g stop victim
check "scontrol: victim CANCELLED" wait_for 20 bash -c '[ "$(slurm_rig_job_field "$1" JobState)" = CANCELLED ]' _ "$vsid"

t_done
