#!/usr/bin/env bash
# lambda_crash.sh: kill -9 Gantry at every step of a launch on lambda (GANTRY_TEST_CRASH at
# the engine's points and the provider's own: after the key's registration, after the launch
# request was answered, once the instance is active, after the job started over SSH), then
# restart and reconcile: no job is launched twice (the fake's request log: at most one
# accepted launch per job and attempt), and no instance is left behind: each one belongs to a
# job that is still running, and every other one ends up terminated.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
. "$here/../lib/lambdafake.sh"
. "$here/../lib/lambdatest.sh"
trap 'lambda_test_cleanup; lambda_fake_stop; t_cleanup' EXIT

lambda_fake_start 4 --boot-delay 0.5
lambda_test_config lam api_key_file "$LAMBDA_FAKE_KEY_FILE"
# a launch interrupted after it reached the provider waits this long for the cloud's list
echo "settle_grace_ms: 3000" >>"$GANTRY_HOME/config/config.yaml"
lambda_test_templates

# jobs_in STATE...: names of the store's jobs in those states
job_ids_in() {
	g ls -o json | python3 -c 'import json,sys; want=set(sys.argv[1:]); print(" ".join(j["id"] for j in json.load(sys.stdin) if j["state"] in want))' "$@"
}

# orphans: live instances (booting/active/unhealthy) whose job is not running in the store
orphans() {
	local live running
	running=" $(job_ids_in PENDING PROVISIONING STARTING RUNNING STOPPING UNKNOWN) "
	live=$(lambda_fake_q /_fake/state '" ".join((i.get("name") or "-").split("-")[1] for i in d["data"]["instances"] if not (i["_fake"]["gone"] or i["status"] in ("terminating", "terminated")))')
	for j in $live; do
		case $running in *" $j "*) ;; *) echo "$j" ;; esac
	done
}
export -f job_ids_in orphans

# at most one accepted launch per job and attempt, over the whole log
no_double_launch() {
	[ "$(lambda_fake_q /_fake/log 'max([0] + [c for c in __import__("collections").Counter((e["json"] or {}).get("name") for e in d["data"] if e["path"].endswith("/instance-operations/launch") and e["status"] == 200).values()])')" -le 1 ]
}

n=0
for point in after_intent lambda-key-registered lambda-launched lambda-active \
	lambda-ssh-launched after_provider; do
	n=$((n + 1))
	rc=0
	GANTRY_TEST_CRASH=$point "$GANTRY_BIN" launch ltrain --provider lam --name "c$n" --set secs=600 \
		>"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
	check "[$point] gantry was killed there (exit $rc)" test "$rc" -eq 137
	expect_rc 0 "[$point] reconcile after the crash" g reconcile
	# the job settles: running on its one instance, or failed with its instance released
	check "[$point] c$n settles (RUNNING or FAILED)" wait_for 90 bash -c \
		"s=\$('$GANTRY_BIN' show c$n -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"state\"])'); [ \"\$s\" = RUNNING ] || [ \"\$s\" = FAILED ]"
	g reconcile >/dev/null 2>&1 || :
	id=$(job_field "c$n" id)
	check "[$point] no launch twice for c$n" test "$(lambda_test_launches "$id")" -le 1
	check "[$point] no orphaned instance" wait_for 60 bash -c 'g reconcile >/dev/null 2>&1; [ -z "$(orphans)" ]'
done

check "no name was launched twice in the whole run" no_double_launch
# stop what runs; then nothing is left billing
for id in $(job_ids_in RUNNING STARTING); do g stop "$id" >/dev/null 2>&1 || :; done
check "every instance is terminated in the end" wait_for 90 bash -c 'g reconcile >/dev/null 2>&1; [ "$(lambda_test_live)" = 0 ]'

# a crash right after the launch POST while the cloud's list lags: reconcile keeps the launch
# pending instead of failing it (which would leak the instance that shows up later), then
# adopts the instance once it is listed, and releases paid capacity of a job that has ended
lambda_test_config lam api_key_file "$LAMBDA_FAKE_KEY_FILE"
echo "settle_grace_ms: 120000" >>"$GANTRY_HOME/config/config.yaml"
lambda_fake_ctl POST /_fake/faults '{"kind": "list_lag", "seconds": 8, "name_contains": "gantry-"}' >/dev/null
rc=0
GANTRY_TEST_CRASH=lambda-launched "$GANTRY_BIN" launch ltrain --provider lam --name lagged --set secs=600 \
	>"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
check "[lag] gantry was killed after the launch POST (exit $rc)" test "$rc" -eq 137
expect_rc 0 "[lag] reconcile while the instance is not listed yet" g reconcile
check "[lag] the launch is kept pending, not failed" grep -q "kept pending" "$T_HOME/out"
check "[lag] lagged is not FAILED" bash -c "[ \"\$(job_field lagged state)\" != FAILED ]"
check "[lag] its reason says what it waits for" bash -c "g show lagged | grep -q 'waiting up to 120 s for lam'"
check "[lag] adopted once listed" wait_for 90 bash -c \
	"g reconcile >/dev/null 2>&1; g show lagged | grep -q 'adopted by reconcile'"
id=$(job_field lagged id)
check "[lag] one launch for it" test "$(lambda_test_launches "$id")" = 1
# (its job never started on the instance: the provider ends it and terminates the instance)
check "[lag] no instance left running for it" wait_for 90 bash -c \
	"g reconcile >/dev/null 2>&1; lambda_test_inst_terminated $id"
lambda_fake_ctl DELETE /_fake/faults >/dev/null
# a job whose record ended while its instance still runs (the record says STOPPED):
# reconcile releases the paid capacity
expect_rc 0 "[release] a running job" g launch ltrain --provider lam --name held --set secs=600
check "[release] held RUNNING" wait_state held RUNNING 90
id=$(job_field held id)
sqlite3 "$T_HOME/state/gantry.db" "UPDATE jobs SET state = 'STOPPED', ended_ms = updated_ms WHERE id = '$id'"
expect_rc 0 "[release] reconcile with a running instance of an ended job" g reconcile
check "[release] it says it released it" grep -q "released 1 resource" "$T_HOME/out"
check "[release] the instance is terminated" wait_for 20 lambda_test_inst_terminated "$id"

# an instance of this installation that no job owns is reported and kept, and terminated only
# with --terminate-orphans; an instance that is not Gantry's (another key) is never touched
inst=$(sqlite3 "$T_HOME/state/gantry.db" "SELECT value FROM meta WHERE key='installation_id'")
ssh-keygen -q -t ed25519 -N '' -C someone -f "$T_HOME/someone" </dev/null
lambda_fake_api POST /ssh-keys '{"name": "someone-else", "public_key": "'"$(cat "$T_HOME/someone.pub")"'"}' >/dev/null
launch_raw() { # NAME KEY: an instance made behind Gantry's back; prints its id
	lambda_fake_api POST /instance-operations/launch '{"region_name": "us-east-1", "instance_type_name": "gpu_1x_a10", "ssh_key_names": ["'"$2"'"], "name": "'"$1"'"}' |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["instance_ids"][0])'
}
orphan=$(launch_raw gantry-j00000000deadbeef-a1 "gantry-${inst:0:16}")
foreign=$(launch_raw gantry-j00000000feedface-a1 someone-else)
status_of() { lambda_fake_q /_fake/state '[i["status"] for i in d["data"]["instances"] if i["id"] == "'"$1"'"][0]'; }
export -f status_of
check "both are up" wait_for 30 bash -c "[ \"\$(status_of $orphan)\" = active ] && [ \"\$(status_of $foreign)\" = active ]"
expect_rc 0 "reconcile with an orphaned instance" g reconcile
check "it reports the orphan" grep -q "j00000000deadbeef" "$T_HOME/out"
check "and keeps it (no --terminate-orphans)" test "$(status_of "$orphan")" = active
check "the foreign instance is not listed" bash -c "! grep -q j00000000feedface '$T_HOME/out'"
expect_rc 0 "reconcile --terminate-orphans" g reconcile --terminate-orphans
check "the orphan is terminated" wait_for 20 bash -c "s=\$(status_of $orphan); [ \"\$s\" = terminating ] || [ \"\$s\" = terminated ]"
check "the foreign instance is untouched" test "$(status_of "$foreign")" = active
lambda_fake_api POST /instance-operations/terminate '{"instance_ids": ["'"$foreign"'"]}' >/dev/null

t_done
