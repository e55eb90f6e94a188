#!/usr/bin/env bash
# job_env.sh: a local job gets a minimal environment, not Gantry's: credentials in the
# environment of whoever runs gantry (cloud keys, tokens) and Gantry's own GANTRY_* settings
# never reach a job or its log; HOME, USER, LOGNAME, PATH, SHELL, LANG/LC_*, TZ, TERM, the
# template's env, the GANTRY_* variables Gantry sets and what config.yaml's `job_env: pass:`
# names do. Also: `job_env:` errors name FILE:LINE:COL.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"

mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/templates/printenv.yaml" <<'EOF'
name: printenv
kind: training
description: prints its environment
env: {FROM_TEMPLATE: "tpl value"}
run: env | sort
EOF
cat >"$GANTRY_HOME/config/config.yaml" <<'EOF'
job_env:
  pass: [HF_HOME, "NCCL_*"]
EOF

SECRET=AKIAsecretvalue-$$-$RANDOM
TOKEN=tok-$$-$RANDOM-value
# Gantry runs with a small, known environment (no USER, LOGNAME or SHELL: those come from
# the password database) plus credentials and settings that must stay with Gantry.
genv() {
	env -i HOME="$HOME" PATH="$PATH" LANG=C.UTF-8 LC_NUMERIC=C TZ=Europe/Paris TERM=xterm-256color \
		GANTRY_HOME="$GANTRY_HOME" GANTRY_DATADIR="$GANTRY_DATADIR" \
		GANTRY_SYSTEM_DIR="$GANTRY_SYSTEM_DIR" NO_COLOR=1 \
		AWS_SECRET_ACCESS_KEY="$SECRET" SOME_TOKEN="$TOKEN" GANTRY_TEST_KNOB=knob-$$ \
		HF_HOME=/scratch/hf NCCL_DEBUG=INFO NCCL_IB_DISABLE=1 NCCLX=no \
		"$GANTRY_BIN" "$@"
}

expect_rc 0 "launch a job that prints its environment" genv launch printenv --name pe --wait
g logs pe >"$T_HOME/env.out"
me=$(id -un)
has() { grep -qx -- "$1" "$T_HOME/env.out"; }
hasname() { grep -q -- "^$1=" "$T_HOME/env.out"; }
check "AWS_SECRET_ACCESS_KEY is not in the job's environment" bash -c '! grep -q "^AWS_SECRET_ACCESS_KEY=" "$1"' _ "$T_HOME/env.out"
check "SOME_TOKEN is not in the job's environment" bash -c '! grep -q "^SOME_TOKEN=" "$1"' _ "$T_HOME/env.out"
check "Gantry's own GANTRY_* settings are not passed (GANTRY_TEST_KNOB, GANTRY_HOME)" \
	bash -c '! grep -q -e "^GANTRY_TEST_KNOB=" -e "^GANTRY_HOME=" -e "^GANTRY_DATADIR=" -e "^GANTRY_SUPERVISE_" "$1"' _ "$T_HOME/env.out"
check "a variable only named like a pass-through prefix is not passed (NCCLX)" bash -c '! grep -q "^NCCLX=" "$1"' _ "$T_HOME/env.out"
check "no secret value anywhere in the job's files" bash -c '! grep -rqF -e "$1" -e "$2" "$3"' _ "$SECRET" "$TOKEN" "$T_HOME/state/jobs"
check "HOME passed" has "HOME=$HOME"
check "PATH passed" has "PATH=$PATH"
check "LANG passed" has "LANG=C.UTF-8"
check "LC_* passed" has "LC_NUMERIC=C"
check "TZ passed" has "TZ=Europe/Paris"
check "TERM passed" has "TERM=xterm-256color"
check "USER filled in from the password database" has "USER=$me"
check "LOGNAME filled in from the password database" has "LOGNAME=$me"
check "SHELL filled in from the password database" hasname SHELL
check "the template's env is set" has "FROM_TEMPLATE=tpl value"
check "GANTRY_JOB_ID is set" hasname GANTRY_JOB_ID
check "GANTRY_GPUS is set" has "GANTRY_GPUS=0"
check "job_env.pass: HF_HOME passed" has "HF_HOME=/scratch/hf"
check "job_env.pass: NCCL_* passed" bash -c 'grep -qx "NCCL_DEBUG=INFO" "$1" && grep -qx "NCCL_IB_DISABLE=1" "$1"' _ "$T_HOME/env.out"
check "nothing else: every variable is accounted for" bash -c '! grep -Ev "^(HOME|USER|LOGNAME|PATH|SHELL|LANG|LC_[A-Z]+|TZ|TERM|FROM_TEMPLATE|GANTRY_JOB_ID|GANTRY_GPUS|HF_HOME|NCCL_[A-Z_]+|PWD|SHLVL|_|OLDPWD)=" "$1"' _ "$T_HOME/env.out"

# without job_env, HF_HOME stays with Gantry
rm "$GANTRY_HOME/config/config.yaml"
expect_rc 0 "launch again without job_env" genv launch printenv --name pe2 --wait
check "without job_env.pass, HF_HOME is not passed" bash -c '! g logs pe2 | grep -q "^HF_HOME="'
check "without job_env.pass, the minimal set still is" bash -c 'g logs pe2 | grep -qx "TZ=Europe/Paris"'

# config errors name the place
cfg=$GANTRY_HOME/config/config.yaml
printf 'job_env:\n  pass: [HF_HOME, "bad-name"]\n' >"$cfg"
expect_rc 4 "a bad name in job_env.pass is refused" g ls
check "... with FILE:LINE:COL" grep -q "config.yaml:2:19: 'job_env.pass' expects a variable name" "$T_HOME/err"
printf 'job_env:\n  pass: HF_HOME\n' >"$cfg"
expect_rc 4 "job_env.pass that is not a list is refused" g ls
check "... with FILE:LINE:COL" grep -q "config.yaml:2:9: 'job_env.pass' expects a list" "$T_HOME/err"
printf 'job_env:\n  keep: [HF_HOME]\n' >"$cfg"
expect_rc 4 "an unknown job_env setting is refused" g ls
check "... with FILE:LINE:COL" grep -q "config.yaml:2:3: unknown job_env setting 'keep'" "$T_HOME/err"
printf 'job_env: [HF_HOME]\n' >"$cfg"
expect_rc 4 "job_env that is not a mapping is refused" g ls
check "... with FILE:LINE:COL" grep -q "config.yaml:1:10: 'job_env' expects a mapping" "$T_HOME/err"
t_done
