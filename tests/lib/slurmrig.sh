# tests/lib/slurmrig.sh: a real single-node Slurm cluster for a test (sourced after
# common.sh or tmux.sh, and sshrig.sh; the caller's EXIT trap must call slurm_rig_cleanup).
#
# slurm_rig_start [GPUS]: starts munged, slurmctld, slurmd and slurmrestd (JWT, loopback,
#   tests/slurm/start-cluster.sh) on free ports in their own directory, with GPUS fake GPUs
#   (default 2) on the node, and a login node: one loopback sshd (tests/lib/sshrig.sh,
#   rig_workers 1: 127.0.0.2:$RIG_PORT), which is also the node's NodeAddr, so the compute
#   node answers SSH at its address as on a real cluster. Writes the token file (0600), and
#   GANTRY_HOME/config/config.yaml with a slurm provider "hpc" (the agreed shape, see
#   HELPERS10/docs/providers.md) and a second one "hpcbad" whose partition does not exist,
#   plus the templates below. Fails loudly with the daemons' logs when it cannot.
#   SLURM_RIG_SHORT=1: also a partition "short" (MaxTime=1 minute) with EnforcePartLimits=ALL
#   (a job over a partition's limit is rejected at submission) and a provider "hpcshort" on it.
#   Not root: SKIP (exit 77) outside CI, FAIL under CI=true (the rig needs root).
# slurm_rig_cleanup: stops the cluster (jobs cancelled first) and the sshd, by pid.
# slurm_rig_token: prints a fresh JWT; slurm_rig_rest METHOD PATH [CURL ARGS]: one REST call.
# slurm_rig_restd_stop / slurm_rig_restd_start: kill slurmrestd (SIGKILL, by its pid) and
#   start it again on the same port (tests/slurm/restd.sh).
# slurm_rig_requests [PATTERN]: how many requests slurmrestd has logged so far (matching
#   the extended regexp PATTERN, e.g. 'GET /slurm/v0.0.38/jobs').
# slurm_rig_job_field SLURMID FIELD: FIELD=value from `scontrol show job` (oneliner).
# slurm_rig_slurm_id GANTRYID: the Slurm job id of the job named gantry-GANTRYID ('' if none).
#
# Exported for the tests: SLURM_CONF (so squeue, scontrol, sbatch, scancel, sacct talk to
# this cluster, as root over munge), SLURM_CI_DIR, SLURM_REST_URL, SLURM_REST_API_VERSION,
# SLURM_USER_NAME, SLURM_PARTITION, SLURM_NODE_NAME; and SLURM_RIG_TOKEN_FILE,
# SLURM_RIG_LOGIN_DIR (the provider's `dir` on the login node), SLURM_RIG_GPUS.
#
# Templates (GANTRY_HOME/config/templates, placement: hpc):
#   slurm-hello   no GPU; prints its GPU env and a line, sleeps {{secs}} (default 1)
#   slurm-gpu     1 GPU; prints CUDA_VISIBLE_DEVICES, sleeps {{secs}} (default 2)
#   slurm-full    2 GPUs (the whole node), sleeps {{secs}} (default 300)
#   slurm-long    no GPU, sleeps {{secs}} (default 300), max_runtime 7m
#   slurm-three   3 GPUs: more than the node has (rejected at submission)
#   slurm-multi   2 nodes, 1 GPU each (needs a second node: rejected on this rig)
SLURM_RIG_DIR=
SLURM_RIG_PROVIDERS="hpc hpcbad"
SLURM_RIG_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../slurm" && pwd)
SLURM_RIG_API=v0.0.38

slurm_rig_cleanup() {
	if [ -n "$SLURM_RIG_DIR" ] && [ -d "$SLURM_RIG_DIR" ]; then
		SLURM_CI_PURGE=0 bash "$SLURM_RIG_HERE/stop-cluster.sh" "$SLURM_RIG_DIR" \
			>>"$SLURM_RIG_DIR/stop.log" 2>&1 || echo "# slurm_rig_cleanup: stop-cluster.sh failed: $(tail -3 "$SLURM_RIG_DIR/stop.log")" >&2
	fi
	rig_cleanup
}

slurm_rig_fail() {
	local f
	echo "FAIL - slurm rig: $*"
	for f in "$SLURM_RIG_DIR"/start.log "$SLURM_RIG_DIR"/log/*; do
		[ -f "$f" ] || continue
		echo "----- $f (tail)"
		tail -n 20 "$f"
	done
	exit 1
}

slurm_rig_free_ports() { # three distinct free TCP ports, bound together so they differ
	python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))'
}

slurm_rig_start() {
	local gpus=${1:-2} env_lines b try
	if [ "$(id -u)" != 0 ]; then
		if [ "${CI:-}" = true ]; then
			echo "FAIL - the Slurm rig needs root (slurmd, munged), and CI runs as root"
			exit 1
		fi
		echo "SKIP - the Slurm rig needs root (slurmd, munged; run the suite as root)"
		exit 77
	fi
	for b in munged slurmctld slurmd slurmrestd scontrol squeue sbatch scancel sinfo curl setsid; do
		command -v "$b" >/dev/null || {
			echo "FAIL - $b is missing: ./bootstrap test installs the Slurm packages (munge slurmctld slurmd slurm-client slurmrestd slurm-wlm-jwt-plugin)"
			exit 1
		}
	done
	rig_workers 1 "$gpus" # the login node: sshd on 127.0.0.2:$RIG_PORT, user root
	export SLURM_RIG_DIR=$RIG_DIR/slurm
	mkdir -p "$SLURM_RIG_DIR"
	if [ "${SLURM_RIG_SHORT:-0}" = 1 ]; then
		SLURM_RIG_PROVIDERS="hpc hpcbad hpcshort"
		export SLURM_CI_CONF_EXTRA=$'EnforcePartLimits=ALL\nPartitionName=short Nodes=ALL MaxTime=1 State=UP'
	fi
	# free ports, chosen here; another test may take one between the choice and the bind
	# (start-cluster.sh then stops, saying so): up to 3 tries with new ports
	for try in 1 2 3; do
		read -r SLURM_RIG_REST_PORT SLURM_RIG_CTLD_PORT SLURM_RIG_SLURMD_PORT <<<"$(slurm_rig_free_ports)"
		if env_lines=$(SLURM_CI_SKIP_INSTALL=1 SLURM_CI_GPUS="$gpus" SLURM_CI_NODE_ADDR=127.0.0.2 \
			SLURM_CI_USER="${SLURM_CI_USER:-root}" SLURM_CI_TIMEOUT=30 \
			SLURMRESTD_PORT=$SLURM_RIG_REST_PORT SLURMCTLD_PORT=$SLURM_RIG_CTLD_PORT \
			SLURMD_PORT=$SLURM_RIG_SLURMD_PORT \
			bash "$SLURM_RIG_HERE/start-cluster.sh" "$SLURM_RIG_DIR" 2>"$SLURM_RIG_DIR/start.log"); then
			break
		fi
		grep -q 'is already in use' "$SLURM_RIG_DIR/start.log" && [ "$try" -lt 3 ] ||
			slurm_rig_fail "start-cluster.sh failed"
	done
	eval "$env_lines"
	# Slurm's clients in this shell use munge as root, not the JWT; tests read the token
	# from the file like Gantry does.
	(umask 077 && printf '%s\n' "$SLURM_JWT" >"$RIG_DIR/slurm.token")
	unset SLURM_JWT
	export SLURM_CI_DIR SLURM_CONF SLURM_REST_URL SLURM_REST_API_VERSION SLURM_USER_NAME \
		SLURM_PARTITION SLURM_NODE_NAME
	export SLURM_RIG_TOKEN_FILE=$RIG_DIR/slurm.token SLURM_RIG_GPUS=$gpus
	# Gantry's directory on the login node (shared with the node: same filesystem); the
	# jobs run as $SLURM_USER_NAME, who must be able to write there.
	export SLURM_RIG_LOGIN_DIR=$RIG_DIR/login/gantry
	mkdir -p "$SLURM_RIG_LOGIN_DIR"
	chown "$SLURM_USER_NAME" "$RIG_DIR/login" "$SLURM_RIG_LOGIN_DIR"
	chmod 0711 "$RIG_DIR/login"
	chmod 0700 "$SLURM_RIG_LOGIN_DIR"
	slurm_rig_config
	slurm_rig_templates
}

# slurm_rig_config [EXTRA YAML LINES for hpc...]: (re)writes config.yaml; an extra line
# "KEY: VALUE" replaces the default of KEY.
slurm_rig_config() {
	local l d
	{
		echo "refresh_ms: 300"
		echo "providers:"
		for p in $SLURM_RIG_PROVIDERS; do
			echo "  $p:"
			echo "    type: slurm"
			for d in "url: $SLURM_REST_URL" "api_version: $SLURM_RIG_API" \
				"user: $SLURM_USER_NAME" "token_file: $SLURM_RIG_TOKEN_FILE" \
				"partition: $(case $p in hpcbad) echo nosuchpart ;; hpcshort) echo short ;; *) echo "$SLURM_PARTITION" ;; esac)" \
				"login: 127.0.0.2" "ssh_user: $SSH_TEST_USER" "ssh_port: $RIG_PORT" \
				"ssh_key: $RIG_KEY" "known_hosts: $RIG_KNOWN_HOSTS" "node_ssh_port: $RIG_PORT" \
				"dir: $SLURM_RIG_LOGIN_DIR" "rate_gpu_hour: 2.0" "rate_cpu_hour: 0.05" \
				"poll_interval: 1s"; do
				if [ $p = hpc ]; then
					for l in "$@"; do [ "${l%%:*}" != "${d%%:*}" ] || continue 2; done
				fi
				echo "    $d"
			done
			if [ $p = hpc ]; then for l in "$@"; do echo "    $l"; done; fi
		done
	} >"$GANTRY_HOME/config/config.yaml"
}

slurm_rig_templates() {
	local t=$GANTRY_HOME/config/templates
	mkdir -p "$t"
	cat >"$t/slurm-hello.yaml" <<'EOT'
name: slurm-hello
kind: training
description: A short CPU-only training run on Slurm.
params:
  secs:
    type: int
    default: 1
resources:
  accelerators: none
  cpus: 1
limits:
  max_runtime: 5m
placement:
  providers: [hpc]
run: |
  echo "slurm-hello start job=$GANTRY_JOB_ID"
  sleep {{secs}}
  echo "slurm-hello done"
EOT
	cat >"$t/slurm-gpu.yaml" <<'EOT'
name: slurm-gpu
kind: training
description: A short one-GPU training run on Slurm.
params:
  secs:
    type: int
    default: 2
resources:
  accelerators: any:1
  cpus: 1
limits:
  max_runtime: 10m
placement:
  providers: [hpc]
run: |
  echo "slurm-gpu start job=$GANTRY_JOB_ID gpus=$GANTRY_GPUS cuda=$CUDA_VISIBLE_DEVICES"
  sleep {{secs}}
  echo "slurm-gpu done"
EOT
	cat >"$t/slurm-full.yaml" <<'EOT'
name: slurm-full
kind: training
description: Takes both GPUs of the test node for a while.
params:
  secs:
    type: int
    default: 300
resources:
  accelerators: any:2
  cpus: 1
limits:
  max_runtime: 15m
placement:
  providers: [hpc]
run: |
  echo "slurm-full start cuda=$CUDA_VISIBLE_DEVICES"
  sleep {{secs}}
EOT
	cat >"$t/slurm-long.yaml" <<'EOT'
name: slurm-long
kind: training
description: A long CPU-only run (to be stopped).
params:
  secs:
    type: int
    default: 300
resources:
  accelerators: none
  cpus: 1
limits:
  max_runtime: 7m
placement:
  providers: [hpc, hpcbad, hpcshort]
run: |
  echo "slurm-long start"
  sleep {{secs}}
EOT
	cat >"$t/slurm-three.yaml" <<'EOT'
name: slurm-three
kind: training
description: Asks for more GPUs than the test node has.
resources:
  accelerators: any:3
  cpus: 1
limits:
  max_runtime: 5m
placement:
  providers: [hpc]
run: echo never
EOT
	cat >"$t/slurm-multi.yaml" <<'EOT'
name: slurm-multi
kind: training
description: Two nodes with one GPU each (srun; RANK, WORLD_SIZE, MASTER_ADDR).
resources:
  accelerators: any:1
  cpus: 1
  nodes: 2
limits:
  max_runtime: 5m
placement:
  providers: [hpc]
run: echo "rank=$RANK world=$WORLD_SIZE master=$MASTER_ADDR:$MASTER_PORT"
EOT
}

slurm_rig_token() {
	scontrol token "username=$SLURM_USER_NAME" lifespan=3600 | sed -n 's/^SLURM_JWT=//p'
}

# slurm_rig_rest METHOD PATH [CURL ARGS...]: prints the body, then a last line "HTTP NNN".
slurm_rig_rest() {
	local m=$1 p=$2
	shift 2
	curl -sS --max-time 10 -X "$m" -H "X-SLURM-USER-NAME: $SLURM_USER_NAME" \
		-H "X-SLURM-USER-TOKEN: $(cat "$SLURM_RIG_TOKEN_FILE")" -H 'Content-Type: application/json' \
		-w '\nHTTP %{http_code}\n' "$@" "$SLURM_REST_URL/slurm/$SLURM_RIG_API$p"
}

slurm_rig_restd_stop() { bash "$SLURM_RIG_HERE/restd.sh" "$SLURM_RIG_DIR" stop; }
slurm_rig_restd_start() { bash "$SLURM_RIG_HERE/restd.sh" "$SLURM_RIG_DIR" start; }
slurm_rig_restd_pid() { bash "$SLURM_RIG_HERE/restd.sh" "$SLURM_RIG_DIR" pid; }

slurm_rig_requests() {
	grep -E "operations_router: .*(${1:-.})" "$SLURM_RIG_DIR/log/slurmrestd.out" | grep -c . || :
}

slurm_rig_job_field() {
	scontrol -o show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

slurm_rig_slurm_id() {
	squeue -h -a -t all -n "gantry-$1" -o '%A' 2>/dev/null | head -n 1
}

export -f slurm_rig_job_field slurm_rig_slurm_id slurm_rig_requests

# slurm_rig_expect SLURMSTATE: the Gantry state that Slurm's job state maps to
# (providers/slurm_api.h slurm_api_state; PENDING with a restart count is RECOVERING).
slurm_rig_expect() {
	case $1 in
	PENDING) echo STARTING ;;
	CONFIGURING | RUNNING | COMPLETING | SUSPENDED) echo RUNNING ;;
	COMPLETED) echo SUCCEEDED ;;
	FAILED | OUT_OF_MEMORY | NODE_FAIL | BOOT_FAIL | DEADLINE | TIMEOUT) echo FAILED ;;
	CANCELLED) echo STOPPED ;;
	PREEMPTED) echo PREEMPTED ;;
	REQUEUED | REQUEUE_HOLD | REQUEUE_FED | RESIZING) echo RECOVERING ;;
	*) echo UNKNOWN ;;
	esac
}

# slurm_rig_gls JOBID [LS ARGS]: "STATE<TAB>REASON" of the job in `gantry ls -o json` (a
# refresh from the providers, as a user would run it).
slurm_rig_gls() {
	local id=$1
	shift
	g ls "$@" -o json | python3 -c 'import json,sys
for j in json.load(sys.stdin):
    if j["id"] == sys.argv[1]:
        print("%s\t%s" % (j["state"], (j.get("reason") or "").replace("\n", " ")))' "$id"
}

# slurm_rig_epoch SCONTROL_TIME: epoch seconds of a time as scontrol prints it (local time).
slurm_rig_epoch() { date -d "$1" +%s 2>/dev/null || echo 0; }

export -f slurm_rig_expect slurm_rig_gls slurm_rig_epoch

# slurm_rig_settings [PROVIDER]: the provider's settings as KEY=VALUE words (what config.yaml
# gives it), for tools that open the provider directly (tests/bench/slurm_bench).
slurm_rig_settings() {
	sed -n "/^  ${1:-hpc}:\$/,/^  [^ ]/p" "$GANTRY_HOME/config/config.yaml" |
		sed -n 's/^    \([a-z_.A-Z0-9]*\): \(.*\)$/\1=\2/p' | grep -v '^type='
}
