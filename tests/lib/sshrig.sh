# tests/lib/sshrig.sh: real OpenSSH "worker hosts" for a test (sourced after common.sh or
# tmux.sh has set GANTRY_HOME; the caller's EXIT trap must call rig_cleanup).
# rig_workers N [GPUS]: starts N loopback workers (127.0.0.2.., one sshd each, fake
# nvidia-smi with GPUS GPUs on their PATH) on a free port and writes a config.yaml giving
# Gantry an `ssh` provider named "fleet" over them, each host with its own remote dir.
# RIG_SETENV="K=V ..." adds to the workers' environment (FAKE_GPU_BUSY=none: idle GPUs).
# Everything is stopped by pid at exit (sshd servers, then the jobs' process groups).
RIG_DIR=
RIG_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../sshd" && pwd)

rig_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

rig_cleanup() {
	local f pid i
	[ -n "$RIG_DIR" ] || return 0
	bash "$RIG_HERE/stop-workers.sh" "$RIG_DIR/workers" >/dev/null 2>&1 || :
	# jobs run detached on the "workers" (this machine): end their process groups
	for f in "$RIG_DIR"/remote*/jobs/*/pid; do
		[ -f "$f" ] || continue
		pid=$(awk '{print $1; exit}' "$f")
		case $pid in '' | *[!0-9]*) continue ;; esac
		kill -KILL -- "-$pid" 2>/dev/null || :
	done
	# a killed job may still be writing its log for a moment: retry for up to 10 s
	# (sourced after tmux.sh too, without common.sh's wait_for)
	for ((i = 0; i < 100; i++)); do
		rm -rf "$RIG_DIR" 2>/dev/null && break
		sleep 0.1
	done
}

# rig_web_template FILE [PAGE]: the `web` endpoint template on the fleet: a static HTTP
# server on the worker whose index.html says PAGE (hello-from-worker)
rig_web_template() {
	local page=${2:-hello-from-worker}
	cat >"$1" <<EOT
name: web
kind: endpoint
description: A static HTTP server on the worker.
resources:
  accelerators: none
placement:
  providers: [fleet]
service:
  readiness: /
  readiness_timeout: 30
run: |
  mkdir -p www && echo $page > www/index.html
  exec python3 -m http.server --bind 127.0.0.1 --directory www "\$GANTRY_PORT"
EOT
}

rig_workers() {
	local n=$1 gpus=${2:-2} i
	RIG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/gantry-rig.XXXXXX")
	chmod 0711 "$RIG_DIR"
	RIG_PORT=$(rig_free_port)
	SSH_WORKERS_MODE=loopback SSH_TEST_SETENV="FAKE_GPU_COUNT=$gpus FAKE_GPU_PROFILE=h100${RIG_SETENV:+ $RIG_SETENV}" \
		bash "$RIG_HERE/start-workers.sh" "$n" "$RIG_DIR/workers" "$RIG_PORT" >"$RIG_DIR/env" 2>"$RIG_DIR/start.log" || {
		echo "FAIL - could not start $n sshd workers:"
		cat "$RIG_DIR/start.log"
		exit 1
	}
	# shellcheck disable=SC1091
	. "$RIG_DIR/env"
	RIG_KEY=$SSH_TEST_KEY
	RIG_KNOWN_HOSTS=$SSH_TEST_KNOWN_HOSTS
	mkdir -p "$GANTRY_HOME/config"
	{
		echo "refresh_ms: 300"
		echo "providers:"
		echo "  fleet:"
		echo "    type: ssh"
		echo "    user: root"
		echo "    key: $RIG_KEY"
		echo "    known_hosts: $RIG_KNOWN_HOSTS"
		echo "    connect_timeout_ms: 3000"
		echo "    poll_ms: 300"
		echo "    rate_gpu_hour: 2.5"
		echo "    hosts:"
		for ((i = 1; i <= n; i++)); do
			mkdir -p "$RIG_DIR/remote$i"
			echo "      - name: gpu$i"
			echo "        address: 127.0.0.$((i + 1))"
			echo "        port: $RIG_PORT"
			echo "        gpus: $gpus"
			echo "        gpu_type: H100"
			echo "        dir: $RIG_DIR/remote$i"
		done
	} >"$GANTRY_HOME/config/config.yaml"
}

# rig_ctl CMD I: fault injection on worker I (stop, start, pause, resume, rekey).
rig_ctl() { bash "$RIG_HERE/worker-ctl.sh" "$1" "$2" "$RIG_DIR/workers" >/dev/null 2>&1; }
