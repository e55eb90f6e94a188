#!/usr/bin/env bash
# ssh_job_perms.sh: what the ssh provider writes on a worker is private to the worker login
# (every remote script runs under umask 077): jobs/ID/env (which holds the notebook token),
# run.sh, job.log and the rest are 0600 in 0700 directories, and another user of the worker
# (nobody) can read none of them. The job itself gets the login's own umask back, and its
# environment is the worker login's, never the bastion's (credentials in the environment of
# whoever runs gantry stay on the bastion), filtered like a local job's: the minimal set
# plus config.yaml's `job_env: pass:`. Real sshd workers on loopback (tests/lib/sshrig.sh).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
trap 'rig_cleanup; t_cleanup' EXIT

if [ "$(id -u)" != 0 ]; then
	echo "FAIL - this test reads the worker's files as another user (runuser -u nobody) and needs root"
	exit 1
fi

# the worker login's environment (sshd SetEnv): one secret, two pass-through variables
RIG_SETENV="WORKER_SECRET=ws-$$ HF_HOME=/worker/hf NCCL_DEBUG=WARN"
rig_workers 1 0
printf 'job_env:\n  pass: [HF_HOME, "NCCL_*"]\n' >>"$GANTRY_HOME/config/config.yaml"
mkdir -p "$T_HOME/config/templates"
cat >"$T_HOME/config/templates/nb-sleep.yaml" <<'EOF'
name: nb-sleep
kind: notebook
description: a "notebook" that prints its environment and umask, writes a file, sleeps
placement:
  providers: [fleet]
run: |
  env | sort
  echo "umask=$(umask)"
  echo data >out.txt
  echo written
  exec sleep 300
EOF

SECRET=AKIAsecret-$$-$RANDOM
expect_rc 0 "launch a notebook-kind job on the ssh worker" \
	env AWS_SECRET_ACCESS_KEY="$SECRET" SOME_TOKEN="tok-$SECRET" HF_HOME=/bastion/hf \
	"$GANTRY_BIN" launch nb-sleep --name n1
check "n1 RUNNING" wait_state n1 RUNNING 60
id=$(job_field n1 id)
D=$RIG_DIR/remote1
J=$D/jobs/$id
check "the job has written its file" bash -c 'for i in $(seq 100); do g logs n1 | grep -qx written && exit 0; sleep 0.2; done; exit 1'
check "the env file holds the token (what must stay private)" grep -q "^export GANTRY_TOKEN=" "$J/env"

mode() { stat -c %a "$1"; }
check "jobs/ is 0700" bash -c '[ "$(stat -c %a "$1")" = 700 ]' _ "$D/jobs"
check "jobs/ID is 0700" bash -c '[ "$(stat -c %a "$1")" = 700 ]' _ "$J"
check "jobs/ID/work is 0700" bash -c '[ "$(stat -c %a "$1")" = 700 ]' _ "$J/work"
for f in env run.sh job.log meta gpus pid wrapper wrap.sh; do
	check "jobs/ID/$f is 0600" bash -c '[ "$(stat -c %a "$1")" = 600 ]' _ "$J/$f"
done
check "gpu.lock is 0600" bash -c '[ "$(stat -c %a "$1")" = 600 ]' _ "$D/gpu.lock"
check "nobody can reach the worker's dir (the test's own dirs let it)" \
	runuser -u nobody -- test -x "$D"
for f in env run.sh job.log meta; do
	check "nobody cannot read jobs/ID/$f" bash -c '! runuser -u nobody -- cat "$1" >/dev/null 2>&1' _ "$J/$f"
done
check "nobody cannot list jobs/" bash -c '! runuser -u nobody -- ls "$1" >/dev/null 2>&1' _ "$D/jobs"

# the job's own umask is the login's (what a plain ssh login to the worker gets)
login_umask=$(ssh -n -i "$RIG_KEY" -o UserKnownHostsFile="$RIG_KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
	-o BatchMode=yes -p "$RIG_PORT" root@127.0.0.2 umask)
check "the job runs with the login's umask ($login_umask)" bash -c 'g logs n1 | grep -qx "umask=$1"' _ "$login_umask"

# the remote job's environment: the worker login's, plus what Gantry sets
g logs n1 >"$T_HOME/env.out"
check "no credential of the bastion's environment reaches the remote job" \
	bash -c '! grep -q -e "^AWS_SECRET_ACCESS_KEY=" -e "^SOME_TOKEN=" "$1"' _ "$T_HOME/env.out"
check "nor its files on the worker" bash -c '! grep -rqF "$1" "$2"' _ "$SECRET" "$J"
check "the remote job has GANTRY_JOB_ID" grep -q "^GANTRY_JOB_ID=$id\$" "$T_HOME/env.out"
check "the remote job has HOME and PATH" bash -c 'grep -q "^HOME=" "$1" && grep -q "^PATH=" "$1"' _ "$T_HOME/env.out"
check "the remote job has its token" grep -q "^GANTRY_TOKEN=." "$T_HOME/env.out"
check "the worker login's other variables are dropped (WORKER_SECRET, SSH_CONNECTION)" \
	bash -c '! grep -q -e "^WORKER_SECRET=" -e "^SSH_CONNECTION=" -e "^SSH_CLIENT=" "$1"' _ "$T_HOME/env.out"
check "job_env.pass keeps the worker's HF_HOME (not the bastion's)" grep -qx "HF_HOME=/worker/hf" "$T_HOME/env.out"
check "job_env.pass keeps the worker's NCCL_*" grep -qx "NCCL_DEBUG=WARN" "$T_HOME/env.out"
expect_rc 0 "stop n1" g stop n1
t_done
