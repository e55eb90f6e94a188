#!/usr/bin/env bash
# slurm_rig_selftest.sh: the Slurm test rig itself (tests/lib/slurmrig.sh, tests/slurm/),
# before any Gantry provider is involved: the REST API answers a ping with the rig's token
# and refuses a bad one; a batch job submitted with sbatch runs on the node as the job
# user, gets a fake GPU and writes into the provider's directory on the login node; the
# login node's sshd takes the rig's key; the request counter sees requests; slurmrestd can
# be killed and restarted on its port while a job keeps running; and the rig's cleanup
# leaves no process of its own behind and frees the ports.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
. "$here/../lib/slurmrig.sh"
trap 'slurm_rig_cleanup; t_cleanup' EXIT

slurm_rig_start 2
ok "rig started: $SLURM_REST_URL, SLURM_CONF=$SLURM_CONF"

# --- REST with the rig's token
out=$(slurm_rig_rest GET /ping)
check "ping with the token answers UP" grep -q '"ping": "UP"' <<<"$out"
check "ping is HTTP 200" grep -qx 'HTTP 200' <<<"$out"
check "the token file is 0600" test "$(stat -c %a "$SLURM_RIG_TOKEN_FILE")" = 600
out=$(slurm_rig_rest GET /nodes)
check "the node advertises gpu:2" grep -q '"gres": "gpu:2"' <<<"$out"

# --- a bad token and no token are refused
bad=$(curl -sS --max-time 10 -H "X-SLURM-USER-NAME: $SLURM_USER_NAME" \
	-H "X-SLURM-USER-TOKEN: eyJhbGciOiJIUzI1NiJ9.e30.bad" -w '\nHTTP %{http_code}\n' \
	"$SLURM_REST_URL/slurm/v0.0.38/ping")
if grep -q '"ping": "UP"' <<<"$bad" || grep -qx 'HTTP 200' <<<"$bad"; then
	fail "a bad token was accepted: $(tail -c 300 <<<"$bad")"
else
	ok "a bad token is refused ($(tail -n 1 <<<"$bad"))"
fi
none=$(curl -sS --max-time 10 -w '\nHTTP %{http_code}\n' "$SLURM_REST_URL/slurm/v0.0.38/ping")
check "no token: HTTP 401" grep -qx 'HTTP 401' <<<"$none"

# --- sbatch: a GPU job runs as the job user, sees its GPU, writes on the "login node" dir
cat >"$SLURM_RIG_LOGIN_DIR/probe.sh" <<'EOS'
#!/bin/bash
echo "user=$(id -un) cuda=$CUDA_VISIBLE_DEVICES node=$SLURMD_NODENAME"
echo written >"$1/probe.written"
EOS
jid=$(sbatch --parsable -J rig-probe -p "$SLURM_PARTITION" --gres=gpu:1 -t 2 \
	-D "$SLURM_RIG_LOGIN_DIR" -o "$SLURM_RIG_LOGIN_DIR/probe.out" \
	"$SLURM_RIG_LOGIN_DIR/probe.sh" "$SLURM_RIG_LOGIN_DIR" 2>&1) || :
if [[ $jid =~ ^[0-9]+$ ]]; then ok "sbatch accepted job $jid"; else fail "sbatch: $jid"; fi
done_state() { [ "$(slurm_rig_job_field "$jid" JobState)" = COMPLETED ]; }
check "the job COMPLETED (scontrol)" wait_for 30 done_state
check "the job ran as $SLURM_USER_NAME with GPU 0 on $SLURM_NODE_NAME" \
	grep -qx "user=$SLURM_USER_NAME cuda=0 node=$SLURM_NODE_NAME" "$SLURM_RIG_LOGIN_DIR/probe.out"
check "the job wrote into the login dir" test -s "$SLURM_RIG_LOGIN_DIR/probe.written"
check "squeue of this cluster knows the job" grep -q rig-probe <<<"$(squeue -h -a -t all -o '%j')"

# --- a 3-GPU request is refused at submission (the node has 2)
if sbatch --parsable -p "$SLURM_PARTITION" --gres=gpu:3 -t 1 --wrap true >/dev/null 2>"$T_HOME/err3"; then
	fail "a 3-GPU job was accepted"
else
	ok "a 3-GPU job is refused: $(head -c 120 "$T_HOME/err3")"
fi

# --- the login node's sshd takes the rig's key (the provider's login and node address)
check "ssh to the login node (127.0.0.2:$RIG_PORT) with the rig's key" \
	ssh -p "$RIG_PORT" -i "$RIG_KEY" -o BatchMode=yes -o UserKnownHostsFile="$RIG_KNOWN_HOSTS" \
	-o StrictHostKeyChecking=yes "$SSH_TEST_USER@127.0.0.2" test -d "$SLURM_RIG_LOGIN_DIR"
addr=$(scontrol -o show node "$SLURM_NODE_NAME" | tr ' ' '\n' | sed -n 's/^NodeAddr=//p')
check "the node's NodeAddr is the login sshd's address (127.0.0.2)" test "$addr" = 127.0.0.2

# --- the request counter
n0=$(slurm_rig_requests 'GET /slurm/v0.0.38/ping')
slurm_rig_rest GET /ping >/dev/null
slurm_rig_rest GET /ping >/dev/null
n1=$(slurm_rig_requests 'GET /slurm/v0.0.38/ping')
check "the request counter counts 2 pings ($n0 -> $n1)" test "$((n1 - n0))" = 2

# --- slurmrestd killed and restarted on the same port; a running job is not touched
long=$(sbatch --parsable -J rig-long -p "$SLURM_PARTITION" -t 5 -o /dev/null --wrap 'sleep 120')
running() { [ "$(slurm_rig_job_field "$long" JobState)" = RUNNING ]; }
check "a long job runs" wait_for 30 running
rpid=$(slurm_rig_restd_pid)
check "slurmrestd is killed by its pid ($rpid)" slurm_rig_restd_stop
check "the killed slurmrestd is gone" bash -c "! kill -0 $rpid 2>/dev/null || grep -q '^State:.*Z' /proc/$rpid/status"
if curl -s --max-time 3 "$SLURM_REST_URL/slurm/v0.0.38/ping" >/dev/null; then
	fail "the API still answers after slurmrestd was killed"
else
	ok "the API is down"
fi
check "slurmrestd restarts on the same port" slurm_rig_restd_start
check "the new slurmrestd has a new pid" test "$(slurm_rig_restd_pid)" != "$rpid"
check "ping after the restart" grep -q '"ping": "UP"' <<<"$(slurm_rig_rest GET /ping)"
check "the long job kept running" running

# --- cleanup leaves nothing of the rig behind
pids=()
for f in "$SLURM_RIG_DIR"/run/*.pid "$RIG_DIR"/workers/w*/sshd.pid; do
	[ -f "$f" ] && pids+=("$(awk '{print $1; exit}' "$f")")
done
ports="$SLURM_RIG_REST_PORT $SLURM_RIG_CTLD_PORT $SLURM_RIG_SLURMD_PORT"
check "pids recorded (${#pids[@]}: 4 daemons + sshd)" test "${#pids[@]}" -ge 5
conf=$SLURM_CONF
slurm_rig_cleanup
alive=()
for p in "${pids[@]}"; do
	if kill -0 "$p" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null; then alive+=("$p"); fi
done
check "no rig process left after cleanup (${alive[*]:-none})" test "${#alive[@]}" = 0
stepd=0
for p in /proc/[0-9]*; do
	[ "$(cat "$p/comm" 2>/dev/null)" = slurmstepd ] || continue
	if tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qxF "SLURM_CONF=$conf"; then stepd=$((stepd + 1)); fi
done
check "no slurmstepd of this cluster left" test "$stepd" = 0
busy=
for p in $ports; do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && busy="$busy $p"; done
check "the cluster's ports are free again (${busy:-all free})" test -z "$busy"
check "the rig directory is gone" test ! -e "$RIG_DIR"

t_done
