#!/usr/bin/env bash
# ssh_fleet.sh: the real gantry binary on an `ssh` provider over real OpenSSH workers:
# GPU assignment across concurrent jobs, logs, `gantry ssh` (and its --print-command
# against OpenSSH's own ssh), `gantry forward` fetched with curl, `gantry hosts` with the
# fake nvidia-smi, a worker whose sshd dies mid-job (UNKNOWN, then back), stop, host keys.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
fwd_pid=
trap 'if [ -n "$fwd_pid" ]; then kill "$fwd_pid" 2>/dev/null || :; fi; rig_cleanup; t_cleanup' EXIT

rig_workers 2 2
mkdir -p "$T_HOME/config/templates"
cat >"$T_HOME/config/templates/gpu-sleep.yaml" <<'EOF'
name: gpu-sleep
kind: training
description: Prints its GPUs, then sleeps.
params:
  secs:
    type: int
    default: 60
resources:
  accelerators: H100:1
placement:
  providers: [fleet]
run: |
  echo "gpus=$CUDA_VISIBLE_DEVICES job=$GANTRY_JOB_ID"
  sleep {{secs}}
  echo done
EOF
cat >"$T_HOME/config/templates/web.yaml" <<'EOF'
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
  mkdir -p www && head -c 3000000 /dev/urandom > www/blob && echo hello-from-worker > www/index.html
  echo "blobsha=$(sha256sum < www/blob | cut -d' ' -f1)"
  exec python3 -m http.server --bind 127.0.0.1 --directory www "$GANTRY_PORT"
EOF

check "config with an ssh provider loads (doctor)" g doctor
expect_rc 0 "launch job 1 on the fleet" g launch gpu-sleep --name a1 --set secs=1000
expect_rc 0 "launch job 2 on the fleet" g launch gpu-sleep --name a2 --set secs=1000
check "a1 reaches RUNNING" wait_state a1 RUNNING 30
check "a2 reaches RUNNING" wait_state a2 RUNNING 30

gpus_of() {
	local i
	for ((i = 0; i < 50; i++)); do
		g logs "$1" 2>/dev/null | sed -n 's/^gpus=\([^ ]*\) .*/\1/p' | grep . && return 0
		sleep 0.2
	done
	return 1
}
host_of() { job_field "$1" provider_ref | sed 's/.*@//'; }
g1=$(gpus_of a1) || g1=none
g2=$(gpus_of a2) || g2=none
h1=$(host_of a1)
h2=$(host_of a2)
echo "# a1 on $h1 GPU $g1; a2 on $h2 GPU $g2"
check "each job got one GPU" bash -c "[[ '$g1' =~ ^[01]$ && '$g2' =~ ^[01]$ ]]"
check "two jobs never share a GPU on one host" bash -c "[ '$h1' != '$h2' ] || [ '$g1' != '$g2' ]"

# ssh: a command on the worker, its output and exit status
rc=0
out=$(g ssh a1 -- sh -c 'echo "on-worker $PWD"; exit 7' 2>"$T_HOME/err") || rc=$?
check "gantry ssh -- CMD returns the remote exit status (7, got $rc)" test "$rc" = 7
check "gantry ssh runs in the job's directory on the worker" \
	bash -c "printf '%s' '$out' | grep -q 'on-worker $RIG_DIR/remote[12]/jobs/'"
pc=$(g ssh a1 --print-command -- echo via-openssh)
echo "# print-command: $pc"
check "--print-command uses strict host key checking" bash -c "printf '%s' \"\$1\" | grep -q StrictHostKeyChecking=yes" _ "$pc"
check "OpenSSH's ssh with --print-command reaches the same worker" \
	bash -c "eval \"\$1\" </dev/null 2>/dev/null | grep -qx via-openssh" _ "${pc/ssh /ssh -o BatchMode=yes }"

# hosts: the fake nvidia-smi's GPUs and the assignment
check "gantry hosts lists both workers" bash -c 'g hosts | grep -q "^gpu1 " && g hosts | grep -q "^gpu2 "'
check "hosts -o json: GPUs from nvidia-smi, valid numbers" bash -c 'g hosts -o json | python3 -c "
import json,sys
h={x[\"name\"]:x for x in json.load(sys.stdin)}
assert h[\"gpu1\"][\"reachable\"] and len(h[\"gpu1\"][\"gpus\"])==2, h
g=h[\"gpu1\"][\"gpus\"][0]
assert g[\"name\"].startswith(\"NVIDIA H100\") and g[\"mem_total_mib\"]==81559, g
"'

# forward: the endpoint on the worker through the bastion
expect_rc 0 "launch the web endpoint" g launch web --name w1
check "web reaches RUNNING (readiness through the worker)" wait_state w1 RUNNING 40
"$GANTRY_BIN" forward w1 >"$T_HOME/fwd.out" 2>"$T_HOME/fwd.err" &
fwd_pid=$!
for ((i = 0; i < 100; i++)); do grep -q '^Open: ' "$T_HOME/fwd.out" && break; sleep 0.1; done
url=$(sed -n 's/^Open: //p' "$T_HOME/fwd.out")
echo "# forward: $url"
check "forward prints a 127.0.0.1 URL" bash -c "[[ '$url' == http://127.0.0.1:* ]]"
check "curl through the forward gets the worker's page" bash -c "curl -fsS '$url' | grep -qx hello-from-worker"
want=$(g logs w1 | sed -n 's/^blobsha=//p')
got=$(curl -fsS "${url%/}/blob" | sha256sum | cut -d' ' -f1)
check "a 3 MB file arrives intact through the forward" bash -c "[ -n '$want' ] && [ '$want' = '$got' ]"
lport=${url#http://127.0.0.1:}
lport=${lport%%/*}
check "the forward listens on 127.0.0.1 only" bash -c "ss -ltn | grep -q ' 127.0.0.1:$lport ' && ! ss -ltn | grep -Eq ' (0\.0\.0\.0|\*|\[::\]):$lport '"
expect_rc 0 "stop the web endpoint" g stop w1
for ((i = 0; i < 50; i++)); do kill -0 "$fwd_pid" 2>/dev/null || break; sleep 0.2; done
check "gantry forward ends when its job ends" bash -c "! kill -0 $fwd_pid 2>/dev/null"
fwd_rc=0
wait "$fwd_pid" 2>/dev/null || fwd_rc=$?
check "gantry forward exits 1 when its job ends (got $fwd_rc)" test "$fwd_rc" = 1
check "and says why" grep -q "job ended" "$T_HOME/fwd.err"

# a worker whose sshd dies mid-job: UNKNOWN (never FAILED), then back to RUNNING
n1=${h1#gpu}
rig_ctl stop "$n1"
check "a1 goes UNKNOWN while its worker is down" wait_state a1 UNKNOWN 30
check "the reason says the host is unreachable" bash -c "job_field a1 reason | grep -qi unreachable"
check "gantry hosts shows it unreachable" bash -c "g hosts | grep '^$h1 ' | grep -q UNREACHABLE"
rig_ctl start "$n1"
check "a1 is RUNNING again once its worker answers" wait_state a1 RUNNING 40

# stop: the whole process group on the worker goes
ref=$(job_field a1 provider_ref)
pidfile="$RIG_DIR/remote$n1/jobs/${ref%@*}/pid"
pg=$(awk '{print $1; exit}' "$pidfile" 2>/dev/null)
check "the job's pid file exists on the worker" test -n "$pg"
expect_rc 0 "stop a1" g stop a1
check "a1 is STOPPED" wait_state a1 STOPPED 20
check "its process group on the worker is gone" pgroup_gone "$pg"
expect_rc 0 "stop a2" g stop a2

# a job that ended while no gantry process watched is billed until it ended, not until noticed
expect_rc 0 "launch a 1 s job" g launch gpu-sleep --name short1 --set secs=1
ref=$(job_field short1 provider_ref)
check "it ends on its worker (exit file)" wait_for 30 compgen -G "$RIG_DIR/remote*/jobs/${ref%@*}/exit"
sleep 5 # the point: time passes between the end and anyone noticing it (ran < 4 below)
check "it succeeded" wait_state short1 SUCCEEDED 20
check "its end time is the worker's, not the time it was noticed" bash -c 'g show short1 -o json | python3 -c "
import json,sys,datetime
d=json.load(sys.stdin)
t=lambda s: datetime.datetime.fromisoformat(s.replace(\"Z\",\"+00:00\"))
ran=(t(d[\"ended\"])-t(d[\"started\"])).total_seconds()
assert 0 <= ran < 4, ran"'

# host keys: an unknown key is refused (with the fingerprint), a changed one always
cp "$RIG_KNOWN_HOSTS" "$T_HOME/kh.saved"
: >"$RIG_KNOWN_HOSTS"
expect_rc 1 "launch to hosts with unknown keys fails" g launch gpu-sleep --name b1 --set secs=5
check "the reason names the SHA256 fingerprint" grep -q "SHA256:" "$T_HOME/err"
cp "$T_HOME/kh.saved" "$RIG_KNOWN_HOSTS"

t_done
