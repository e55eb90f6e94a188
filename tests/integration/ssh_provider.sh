#!/usr/bin/env bash
# ssh_provider.sh: the `ssh` provider driven directly (tests/ssh/fleettool, a real loop, no
# engine) against real OpenSSH workers on loopback (tests/sshd/start-workers.sh) with the
# fake nvidia-smi: GPU assignment under concurrent launches, capacity refusals, a job that
# outlives its worker's sshd (UNKNOWN, then back), stop with escalation, logs (follow, tail,
# skip-ahead), telemetry with [N/A], a host without nvidia-smi, multi-node env, unknown host
# keys, idempotent launch, list/destroy, offers and prices, config errors.
# All "workers" share this machine's filesystem, so each host gets its own remote dir.
# The workers log in as an unprivileged user (sshtest, created by the rig when missing;
# SSH_PROVIDER_TEST_USER overrides; as non-root, yourself): jobs on a real fleet run as
# users, and root's shell start-up on a developer machine may do slow work under a global
# lock (a pyenv rehash in ~/.bashrc) that a killed session can leave held.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
SRC=${GANTRY_SRCDIR:-$(cd "$here/../.." && pwd)}
FT=${FLEETTOOL:-$(dirname "$GANTRY_BIN")/tests/ssh/fleettool}
W=$T_HOME/workers # three workers with the fake nvidia-smi
B=$T_HOME/bare    # one worker without it

cleanup() {
	local f
	# every remote job process this test started: wrapper and job process groups
	for f in "$T_HOME"/remote*/jobs/*/wrapper "$T_HOME"/remote*/jobs/*/pid; do
		[ -s "$f" ] || continue
		kill -KILL -- "-$(cut -d' ' -f1 "$f")" 2>/dev/null || :
	done
	bash "$SRC/tests/sshd/stop-workers.sh" "$W" >/dev/null 2>&1 || :
	bash "$SRC/tests/sshd/stop-workers.sh" "$B" >/dev/null 2>&1 || :
	t_cleanup
}
trap cleanup EXIT

if [ ! -x "$FT" ]; then
	echo "FAIL - $FT is not built (make check builds it)"
	exit 1
fi
for tool in /usr/sbin/sshd ssh-keygen setsid flock curl; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL - $tool is missing (apt-get install openssh-server openssh-client util-linux curl)"
		exit 1
	fi
done

# A port free on 127.0.0.2-5.
free_port() {
	local p i a busy
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM + $$) % 20000))
		busy=0
		for a in 2 3 4 5; do
			if (exec 3<>"/dev/tcp/127.0.0.$a/$p") 2>/dev/null; then busy=1; fi
		done
		[ "$busy" = 0 ] && echo "$p" && return 0
	done
	return 1
}

if [ "$(id -u)" = 0 ]; then TUSER=${SSH_PROVIDER_TEST_USER:-sshtest}; else TUSER=$(id -un); fi
chmod 0711 "$T_HOME" # sshd reads authorized_keys below it as $TUSER

P1=$(free_port)
P2=$(free_port)
if ! env SSH_TEST_USER="$TUSER" SSH_WORKERS_MODE=loopback \
	SSH_TEST_SETENV="FAKE_GPU_COUNT=2 FAKE_GPU_NA=power.draw" \
	bash "$SRC/tests/sshd/start-workers.sh" 3 "$W" "$P1" >"$T_HOME/workers.env" 2>"$T_HOME/workers.log"; then
	echo "FAIL - the workers did not start: $(tail -5 "$T_HOME/workers.log")"
	exit 1
fi
if ! env SSH_TEST_USER="$TUSER" SSH_WORKERS_MODE=loopback SSH_WORKERS_FAKE_BIN=none \
	bash "$SRC/tests/sshd/start-workers.sh" 1 "$B" "$P2" >"$T_HOME/bare.env" 2>"$T_HOME/bare.log"; then
	echo "FAIL - the bare worker did not start: $(tail -5 "$T_HOME/bare.log")"
	exit 1
fi
cat "$W/known_hosts" "$B/known_hosts" >"$T_HOME/known_hosts"
for n in 1 2 3 4; do # the user exists now (the rig creates it)
	mkdir -p "$T_HOME/remote$n"
	if ! chown "$TUSER" "$T_HOME/remote$n"; then
		echo "FAIL - cannot hand $T_HOME/remote$n to $TUSER"
		exit 1
	fi
done

CFG=(--set "key=$W/client_key" --set "known_hosts=$T_HOME/known_hosts" --set "user=$TUSER"
	--set connect_timeout_ms=3000 --set io_timeout_ms=15000 --set poll_ms=300
	--set hosts.0.name=gpu1 --set hosts.0.address=127.0.0.2 --set "hosts.0.port=$P1"
	--set "hosts.0.dir=$T_HOME/remote1" --set hosts.0.gpus=2 --set hosts.0.gpu_type=H100
	--set hosts.1.name=gpu2 --set hosts.1.address=127.0.0.3 --set "hosts.1.port=$P1"
	--set "hosts.1.dir=$T_HOME/remote2" --set hosts.1.gpus=2 --set hosts.1.gpu_type=A100
	--set hosts.2.name=gpu3 --set hosts.2.address=127.0.0.4 --set "hosts.2.port=$P1"
	--set "hosts.2.dir=$T_HOME/remote3" --set hosts.2.gpus=1 --set hosts.2.gpu_type=A100
	--set hosts.3.name=cpu1 --set hosts.3.address=127.0.0.2 --set "hosts.3.port=$P2"
	--set "hosts.3.dir=$T_HOME/remote4" --set "hosts.3.key=$B/client_key")
ft() { "$FT" "${CFG[@]}" "$@"; }
# field NAME FILE: value of NAME= on the first line that has it
field() { grep -o "$1=[^ ]*" "$2" | head -1 | cut -d= -f2-; }
jobdir() { echo "$T_HOME/remote$1/jobs/$2"; }
pgid_of() { cut -d' ' -f1 "$(jobdir "$1" "$2")/pid"; }
# hostn HOST: the number of its remote dir
hostn() { case $1 in gpu*) echo "${1#gpu}" ;; cpu1) echo 4 ;; esac; }
# group_gone_soon PGID: the group is gone within 10 s (killed processes that init has not
# reaped yet still count as members for a while)
group_gone_soon() {
	for _ in $(seq 50); do
		pgroup_gone "$1" && return 0
		sleep 0.2
	done
	return 1
}

# --- config errors: open fails, names the key ---
expect_rc 1 "an unknown setting fails open" ft --set bogus=1 hosts
check "the error names the key" grep -q "bogus: unknown setting" "$T_HOME/out"
expect_rc 1 "a bad port fails open" "$FT" --set hosts.0.address=x --set hosts.0.port=99999 hosts
check "the error says what was expected" grep -q "hosts.0.port: expected a whole number 1-65535" "$T_HOME/out"
expect_rc 1 "no hosts fails open" "$FT" --set user=x hosts
check "the error says so" grep -q "no hosts configured" "$T_HOME/out"

# --- telemetry ---
expect_rc 0 "hosts answers" ft hosts
cp "$T_HOME/out" "$T_HOME/hosts"
check "four hosts listed" bash -c '[ "$(grep -c "^host " "$0")" = 4 ]' "$T_HOME/hosts"
check "gpu1 reachable with 2 GPUs from nvidia-smi" grep -q "^host gpu1 .*reachable=1 .*ngpus=2 " "$T_HOME/hosts"
check "every GPU line has power=n/a ([N/A] is invalid, not 0)" \
	bash -c '[ "$(grep -c "^gpu .* power=n/a " "$0")" = 6 ] && ! grep -q "power=0.00 " "$0"' "$T_HOME/hosts"
check "power.limit is still read" grep -q "^gpu gpu2 1 .*power_limit=700.00" "$T_HOME/hosts"
check "GPU utilisation and memory are numbers" grep -Eq "^gpu gpu3 0 name=NVIDIA H100 80GB HBM3 .*util=[0-9]+ mem_used=[0-9]+ mem_total=81559" "$T_HOME/hosts"
check "the host without nvidia-smi says so" grep -q "^host cpu1 .*reachable=1 .*ngpus=0 .*gpu_error=nvidia-smi not found" "$T_HOME/hosts"
check "... and still reports CPU and memory" grep -Eq "^host cpu1 .*cpus=[0-9]+ cpu=[0-9.]+ mem_used=[0-9]+ mem_total=[0-9]+" "$T_HOME/hosts"
check "configured GPU counts and types" grep -q "^host gpu3 .*gpus_total=1 gpus_free=1 type=A100" "$T_HOME/hosts"

# --- offers and prices (a session keeps the cache between commands) ---
printf 'hosts\noffer --gpus 1 --type H100\noffer --gpus 2 --type A100\noffer --gpus 4 --type A100\noffer --gpus 1 --type A100 --nodes 2\n' |
	ft --set rate_gpu_hour=2.5 --set hosts.0.rate_gpu_hour=4 session >"$T_HOME/offers" 2>&1
check "H100 offer priced at the host's own rate" grep -q "^fits=1 priced=1 price=4.00 gpus=1 gpu=H100 description=ssh fleet: 4 hosts, 1 with 1+ free H100" "$T_HOME/offers"
check "A100x2 offer at the site rate" grep -q "^fits=1 priced=1 price=5.00 gpus=2 gpu=A100" "$T_HOME/offers"
check "A100x4 does not fit, with a reason" grep -q "^fits=0 .*reason=needs 1 host with 4 free A100; 0 have them" "$T_HOME/offers"
check "two A100 nodes fit (gpu2 + gpu3)" grep -q "^fits=1 priced=1 price=5.00 gpus=1 gpu=A100 description=ssh fleet: 4 hosts, 2 with 1+ free A100" "$T_HOME/offers"
printf 'hosts\noffer --gpus 1 --type H100\n' | ft session >"$T_HOME/offers2" 2>&1
check "no rate: unpriced" grep -q "^fits=1 priced=0 " "$T_HOME/offers2"

# --- two concurrent 1-GPU launches on the 2-GPU H100 host ---
JOB='echo "cvd=$CUDA_VISIBLE_DEVICES gpus=$GANTRY_GPUS id=$GANTRY_JOB_ID"; sleep 300'
ft launch --id jc1 --gpus 1 --type H100 "$JOB" >"$T_HOME/l1" 2>&1 &
l1=$!
ft launch --id jc2 --gpus 1 --type h100 "$JOB" >"$T_HOME/l2" 2>&1 &
l2=$!
wait $l1 && wait $l2 && ok "both launches answered" || fail "concurrent launches: $(cat "$T_HOME/l1" "$T_HOME/l2")"
check "both on gpu1" bash -c 'grep -q "^ref=jc1@gpu1 " "$0" && grep -q "^ref=jc2@gpu1 " "$1"' "$T_HOME/l1" "$T_HOME/l2"
expect_rc 0 "jc1 running" ft wait jc1@gpu1 RUNNING 30
expect_rc 0 "jc2 running" ft wait jc2@gpu1 RUNNING 30
for _ in $(seq 50); do
	[ -s "$(jobdir 1 jc1)/job.log" ] && [ -s "$(jobdir 1 jc2)/job.log" ] && break
	sleep 0.2
done
c1=$(ft logs jc1@gpu1 | sed -n 's/^cvd=\([^ ]*\) .*/\1/p')
c2=$(ft logs jc2@gpu1 | sed -n 's/^cvd=\([^ ]*\) .*/\1/p')
check "different CUDA_VISIBLE_DEVICES ($c1, $c2)" bash -c '[ -n "$0" ] && [ -n "$1" ] && [ "$0" != "$1" ] && [ "$(printf "%s\n%s\n" "$0" "$1" | sort | tr "\n" " ")" = "0 1 " ]' "$c1" "$c2"
ft logs jc1@gpu1 >"$T_HOME/jc1.log"
check "GANTRY_GPUS and GANTRY_JOB_ID exported" grep -qx "cvd=[01] gpus=1 id=jc1" "$T_HOME/jc1.log"
expect_rc 1 "a third H100 job is refused" ft launch --id jc3 --gpus 1 --type H100 "$JOB"
check "the refusal names the host and its free count" grep -q "launch failed: no host has 1 free H100 (gpu1: 0 free)" "$T_HOME/out"
check "no directory for the refused job" test ! -e "$(jobdir 1 jc3)"
expect_rc 0 "an A100x2 job goes where two are free" ft launch --id ja2 --gpus 2 --type A100 "$JOB"
check "... on gpu2" grep -q "^ref=ja2@gpu2 " "$T_HOME/out"
expect_rc 0 "a CPU job prefers the host without GPUs" ft launch --id jcpu 'echo cpu; sleep 300'
check "... cpu1" grep -q "^ref=jcpu@cpu1 " "$T_HOME/out"
expect_rc 0 "hosts of a job: only its host and GPUs" ft hosts jc1@gpu1
check "one host, one GPU" bash -c 'grep -c "^host " "$0" | grep -qx 1 && grep -q "^host gpu1 .*gpus_free=0 .*ngpus=1 " "$0"' "$T_HOME/out"
check "... the job's GPU" grep -q "^gpu gpu1 $c1 " "$T_HOME/out"

# --- idempotent launch: the same key finds the same job ---
pid_before=$(pgid_of 1 jc1)
expect_rc 0 "a retry with the same idempotency key" ft launch --id jc1 --gpus 1 --type H100 "$JOB"
check "returns the existing job" grep -q "^ref=jc1@gpu1 " "$T_HOME/out"
check "nothing was started again" bash -c '[ "$(cut -d" " -f1 "$0")" = "$1" ]' "$(jobdir 1 jc1)/pid" "$pid_before"
expect_rc 1 "the same id with another key is refused" ft launch --id jc1 --idem other "$JOB"
check "... saying so" grep -q "already exists on gpu1 for another launch" "$T_HOME/out"

# --- stop: TERM, and KILL after the grace for a job that ignores TERM ---
expect_rc 0 "launch a job that ignores TERM and has a child" ft launch --id jst --gpus 1 --type A100 'trap "" TERM; sleep 300 & sleep 300; wait'
dir=$(field ref "$T_HOME/out")
n=$(hostn "${dir#*@}")
expect_rc 0 "it runs" ft wait "$dir" RUNNING 30
pg=$(pgid_of "$n" jst)
check "its process group is alive" kill -0 -- "-$pg"
expect_rc 0 "stop with a 1 s grace" ft stop "$dir" 1000
expect_rc 0 "STOPPED" ft wait "$dir" STOPPED 30
check "the reason says stopped" grep -q "reason=stopped" "$T_HOME/out"
check "the whole process group is gone" pgroup_gone "$pg"
check "its leader is gone from /proc" test ! -e "/proc/$pg"
expect_rc 1 "stopping it again fails" ft stop "$dir" 1000
check "... it has ended" grep -q "already ended" "$T_HOME/out"
pg=$(pgid_of 1 jc2)
expect_rc 0 "stop jc2 (plain TERM)" ft stop jc2@gpu1 5000
expect_rc 0 "jc2 STOPPED" ft wait jc2@gpu1 STOPPED 30
check "jc2's group is gone" pgroup_gone "$pg"

# --- a job survives its worker's sshd going away ---
expect_rc 0 "launch a job on gpu1 that runs 20 s" ft launch --id jsv --gpus 1 --type H100 'echo start; sleep 20; echo finished'
pg=$(pgid_of 1 jsv)
cat >"$T_HOME/session.in" <<EOF
wait jsv@gpu1 RUNNING 30
sh bash '$SRC/tests/sshd/worker-ctl.sh' stop 1 '$W' >'$T_HOME/stop.log' 2>&1
wait jsv@gpu1 UNKNOWN 30
sh SSH_TEST_USER='$TUSER' SSH_TEST_SETENV='FAKE_GPU_COUNT=2 FAKE_GPU_NA=power.draw' bash '$SRC/tests/sshd/worker-ctl.sh' start 1 '$W' >'$T_HOME/restart.log' 2>&1
wait jsv@gpu1 RUNNING 60
wait jsv@gpu1 SUCCEEDED 60
EOF
ft session <"$T_HOME/session.in" >"$T_HOME/session.out" 2>&1 || :
check "the worker's sshd was stopped and started again" bash -c '[ "$(grep -c "^sh rc=0$" "$0")" = 2 ]' "$T_HOME/session.out"
check "RUNNING before the drop" bash -c 'sed -n 2p "$0" | grep -q "^state=RUNNING"' "$T_HOME/session.out"
check "UNKNOWN (not FAILED) while the host is down, with the reason" grep -q "^state=UNKNOWN exit=- reason=gpu1 unreachable: .*connection refused" "$T_HOME/session.out"
check "the host going down was notified" grep -q "^notify fleet healthy=0 gpu1 unreachable" "$T_HOME/session.out"
check "the same process ran through (started once, finished)" bash -c '[ "$(grep -c "^start$" "$0")" = 1 ] && grep -qx finished "$0" && [ "$(cut -d" " -f1 "$1")" = "$2" ]' "$(jobdir 1 jsv)/job.log" "$(jobdir 1 jsv)/pid" "$pg"
check "RUNNING again once the host is back" bash -c 'awk "/^state=UNKNOWN/{u=1} u && /^state=RUNNING/{r=1} END{exit !r}" "$0"' "$T_HOME/session.out"
check "the host coming back was notified" grep -q "^notify fleet healthy=1 gpu1 is back" "$T_HOME/session.out"
check "then SUCCEEDED with exit 0" grep -q "^state=SUCCEEDED exit=0 " "$T_HOME/session.out"

# --- a job whose process vanished without an exit status (host rebooted) ---
expect_rc 0 "launch a job to lose" ft launch --id jlost 'sleep 300'
dir=$(field ref "$T_HOME/out")
n=$(hostn "${dir#*@}")
expect_rc 0 "it runs" ft wait "$dir" RUNNING 30
kill -KILL -- "-$(cut -d' ' -f1 "$(jobdir "$n" jlost)/wrapper")" "-$(pgid_of "$n" jlost)" || :
expect_rc 0 "FAILED once wrapper and job are gone without an exit file" ft wait "$dir" FAILED 30
check "reason: process gone without an exit status" grep -q "reason=process gone without an exit status" "$T_HOME/out"

# --- logs ---
expect_rc 0 "launch a job that prints over 2 s" ft launch --id jlog 'for i in 1 2 3 4 5 6 7 8; do echo "line $i"; sleep 0.25; done; echo last'
dir=$(field ref "$T_HOME/out")
rc=0
timeout 120 "$FT" "${CFG[@]}" logs -f "$dir" >"$T_HOME/follow" 2>&1 || rc=$?
check "logs -f ends when the job ends" test "$rc" = 0
check "logs -f delivered every line in order" bash -c '[ "$(cat "$0")" = "$(printf "line %s\n" 1 2 3 4 5 6 7 8; echo last)" ]' "$T_HOME/follow"
expect_rc 0 "logs of the ended job" ft logs "$dir"
check "the whole log" bash -c '[ "$(cat "$0")" = "$(cat "$1")" ]' "$T_HOME/out" "$T_HOME/follow"
expect_rc 0 "logs --tail 5" ft logs --tail 5 "$dir"
check "only the last 5 bytes" bash -c '[ "$(cat "$0")" = "last" ] && [ "$(wc -c <"$0")" = 5 ]' "$T_HOME/out"
expect_rc 0 "launch a job that floods its log" ft launch --id jflood 'end=$(($(date +%s) + 4)); while [ "$(date +%s)" -lt "$end" ]; do seq 1 2000; done; echo the-end'
dir=$(field ref "$T_HOME/out")
rc=0
timeout 120 "$FT" "${CFG[@]}" logs -f --tail 4096 "$dir" >"$T_HOME/flood" 2>&1 || rc=$?
check "a followed tail ends too" test "$rc" = 0
check "it skipped ahead with a notice" grep -aq "^\[gantry: skipped [0-9]* bytes to keep up\]" "$T_HOME/flood"
check "and still got the last line" bash -c '[ "$(tail -n 1 "$0")" = the-end ]' "$T_HOME/flood"
check "it read far less than the log holds" bash -c '[ $(wc -c <"$0") -lt $(wc -c <"$1") ]' "$T_HOME/flood" "$(jobdir "$(hostn "${dir#*@}")" jflood)/job.log"

# --- ports and readiness ---
# (the endpoint's `sleep 1` is the point: it listens late, the probe must wait for it)
expect_rc 0 "launch an endpoint with a readiness probe" ft launch --id jready --port --ready / --ready-timeout 60 'sleep 1; exec python3 -m http.server --bind 127.0.0.1 "$GANTRY_PORT"'
dir=$(field ref "$T_HOME/out")
port=$(field port "$T_HOME/out")
check "a port was picked" bash -c '[ "$0" -gt 0 ]' "$port"
expect_rc 0 "RUNNING once the probe answers" ft wait "$dir" RUNNING 60
check "it answers on its port" curl -fsS -o /dev/null "http://127.0.0.1:$port/"
expect_rc 0 "a probe that never answers 2xx" ft launch --id jnready --port --ready /health --ready-timeout 2 'exec python3 -m http.server --bind 127.0.0.1 "$GANTRY_PORT"'
dir=$(field ref "$T_HOME/out")
expect_rc 0 "... FAILED" ft wait "$dir" FAILED 60
check "... naming the probe" grep -q "reason=readiness probe GET http://127.0.0.1:[0-9]*/health did not answer 2xx within 2 s (last: HTTP 404)" "$T_HOME/out"

# --- multi-node ---
expect_rc 0 "stop the A100 jobs" ft stop ja2@gpu2 1000
ft wait ja2@gpu2 STOPPED 30 >/dev/null
expect_rc 0 "launch 2 nodes x 1 A100" ft launch --id jmn --nodes 2 --gpus 1 --type A100 --env 'QUOTED=a b;$(x)' 'echo "rank=$RANK world=$WORLD_SIZE master=$MASTER_ADDR:$MASTER_PORT cvd=$CUDA_VISIBLE_DEVICES q=$QUOTED"'
dir=$(field ref "$T_HOME/out")
check "the ref names two hosts" bash -c '[[ $0 =~ ^jmn@gpu[23],gpu[23]$ ]] && [ "${0#*,}" != "${0#*@}" ]' "$dir"
expect_rc 0 "it succeeds" ft wait "$dir" SUCCEEDED 60
h0=${dir#*@}
h0=${h0%,*}
h1=${dir#*,}
a0=$(grep "^host $h0 " "$T_HOME/hosts" | grep -o "address=[^:]*" | cut -d= -f2)
check "rank 0 env" grep -Eq "^rank=0 world=2 master=$a0:[0-9]+ cvd=0 q=a b;\\\$\(x\)$" "$(jobdir "${h0#gpu}" jmn)/job.log"
check "rank 1 env, same master" bash -c 'grep -Eq "^rank=1 world=2 master=$(sed -n "s/^rank=0 world=2 master=\([^ ]*\) .*/\1/p" "$0") cvd=0 " "$1"' "$(jobdir "${h0#gpu}" jmn)/job.log" "$(jobdir "${h1#gpu}" jmn)/job.log"
expect_rc 0 "shell target of worker 1" ft shell "$dir" 1
check "... is the second host" grep -q "^host=$h1 .*dir=$T_HOME/remote${h1#gpu}/jobs/jmn workers=2" "$T_HOME/out"
expect_rc 1 "there is no worker 2" ft shell "$dir" 2

# --- list and destroy ---
expect_rc 0 "list what the fleet holds" ft list
check "every job is listed once, multi-node as one ref" bash -c 'grep -qx "jc1@gpu1 jc1" "$0" && grep -qx "'"$dir"' jmn" "$0" && [ "$(grep -c " jmn$" "$0")" = 1 ]' "$T_HOME/out"
pg=$(pgid_of 1 jc1)
expect_rc 0 "destroy a running job" ft destroy jc1@gpu1
check "its group is gone" group_gone_soon "$pg"
check "its directory is gone" test ! -e "$(jobdir 1 jc1)"
expect_rc 0 "refresh after destroy" ft refresh jc1@gpu1
check "FAILED: vanished" grep -q "state=FAILED .*vanished on gpu1" "$T_HOME/out"
expect_rc 1 "a ref naming an unknown host" ft refresh jc1@nosuch
check "... says which" grep -q "host 'nosuch'" "$T_HOME/out"

# --- unknown host key: refused, with the fingerprint ---
: >"$T_HOME/empty_known_hosts"
fp=$(ssh-keygen -lf "$W/w1/known_hosts" | awk '{print $2}' | head -1)
expect_rc 1 "a launch on hosts with unknown keys fails" ft --set "known_hosts=$T_HOME/empty_known_hosts" launch --id jkey --gpus 1 --type H100 'true'
check "the reason names the fingerprint ($fp)" grep -q "gpu1: unreachable: .*unknown host key (ED25519 $fp)" "$T_HOME/out"
check "nothing was created" test ! -e "$(jobdir 1 jkey)"

t_done
