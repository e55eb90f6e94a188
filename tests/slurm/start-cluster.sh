#!/usr/bin/env bash
# start-cluster.sh [DIR]
#
# Start a real single-node Slurm 22.05 cluster (munged + slurmctld + slurmd +
# slurmrestd with JWT auth) on Debian 12, as root, without systemd and
# without cgroups.  All config, state, logs and pid files live under DIR
# (default: a fresh mktemp -d under /tmp).
#
# stdout: only shell `export` lines (eval-able), e.g.
#     env_lines=$(bash start-cluster.sh /tmp/slurm-ci) || exit 1
#     eval "$env_lines"
#     trap 'bash stop-cluster.sh "$SLURM_CI_DIR"' EXIT
# (a bare eval "$(...)" would hide a failed start: eval "" succeeds)
# stderr: progress / diagnostics.
# The same export lines are written to DIR/env.sh.
#
# Idempotent: if the daemons recorded under DIR are all alive and the REST
# API answers, nothing is restarted (a fresh token is printed).  Otherwise
# whatever is left of an earlier run in DIR is stopped (by pid file) and the
# cluster is started from a clean state.
#
# Knobs (environment variables, all optional):
#   SLURM_CI_USER=root          user the JWT is issued for / jobs run as
#                               (created as a system user if missing)
#   SLURM_CI_TOKEN_LIFESPAN=86400  JWT lifetime in seconds
#   SLURM_CI_GPUS=2             fake GPUs advertised as gres/gpu (0..5; 0 = none)
#   SLURM_CI_CPUS, SLURM_CI_MEMORY_MB  override the node's CPUs / RealMemory
#                               (default: what `slurmd -C` detects)
#   SLURM_CI_PARTITION=debug    partition name
#   SLURMRESTD_PORT=6820 SLURMCTLD_PORT=6817 SLURMD_PORT=6818
#   SLURM_CI_TIMEOUT=60         seconds to wait for each daemon
#   SLURM_CI_SKIP_INSTALL=1     never run apt-get (fail if packages missing)
#   SLURM_CI_KEEP_ON_FAILURE=1  do not stop the daemons if start-up fails
#   SLURM_CI_CONF_EXTRA=LINES   appended to slurm.conf (e.g. a second partition)
#   SLURM_CI_NODE_ADDR=127.0.0.1  the node's NodeAddr (a loopback address; Gantry's
#                               tests put the login node's sshd there, so that the
#                               compute node is reachable over SSH at its address)
#
# The project's copy of the recipe in /work/shared/slurm (see tests/slurm/README.md);
# changes: SLURM_CI_NODE_ADDR, SLURM_CI_CONF_EXTRA, and DIR/run/slurmrestd.args so that restd.sh can stop
# and restart slurmrestd alone (the fault tests).
set -euo pipefail

log() { printf '[start-cluster] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must be run as root"

# A stale token / foreign config in the caller's environment must not leak
# into the Slurm client commands this script runs (they would use auth/jwt).
unset SLURM_JWT SLURM_CONF

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
T0=$(date +%s.%N)

CI_USER=${SLURM_CI_USER:-root}
TOKEN_LIFESPAN=${SLURM_CI_TOKEN_LIFESPAN:-86400}
NGPUS=${SLURM_CI_GPUS:-2}
PARTITION=${SLURM_CI_PARTITION:-debug}
REST_PORT=${SLURMRESTD_PORT:-6820}
CTLD_PORT=${SLURMCTLD_PORT:-6817}
SLURMD_PORT=${SLURMD_PORT:-6818}
TIMEOUT=${SLURM_CI_TIMEOUT:-60}
REST_USER=slurmrestd          # unprivileged user slurmrestd drops to
NODE=localhost
NODE_ADDR=${SLURM_CI_NODE_ADDR:-127.0.0.1}
case $NODE_ADDR in 127.*) ;; *) echo "[start-cluster] ERROR: SLURM_CI_NODE_ADDR must be a loopback address" >&2; exit 1 ;; esac
API=v0.0.38
REST_URL="http://127.0.0.1:${REST_PORT}"

# ---------------------------------------------------------------- 1. packages
PKGS=(munge slurmctld slurmd slurm-client slurmrestd slurm-wlm-jwt-plugin curl)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "${SLURM_CI_SKIP_INSTALL:-0}" = 1 ] && die "missing packages: ${missing[*]}"
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Keep the packages' init scripts from starting system daemons.
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    apt_rc=0
    {
        apt-get -o DPkg::Lock::Timeout=600 update -q &&
        apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
    } >&2 || apt_rc=$?
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    [ "$apt_rc" = 0 ] || die "apt-get failed (rc=$apt_rc)"
fi
for b in munged munge slurmctld slurmd slurmrestd scontrol sinfo curl setsid; do
    command -v "$b" >/dev/null || die "$b not found after install"
done

# ------------------------------------------------------------------- 2. dirs
DIR=${1:-}
[ -n "$DIR" ] || DIR=$(mktemp -d /tmp/slurm-ci.XXXXXX)
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)
chmod 755 "$DIR"            # munged insists on sane permissions along the path
CONF="$DIR/slurm.conf"
RUN="$DIR/run"

# Unix socket paths must fit in sun_path (108 bytes): munged's socket and the
# slurmstepd sockets in SlurmdSpoolDir (<spool>/localhost_<job>.<step>, up to
# ~32 chars of name).  For a long DIR, put both in a short directory instead.
if [ ${#DIR} -le 60 ]; then
    RT_DIR=""
    MUNGE_DIR="$DIR/munge"
    SPOOL_DIR="$DIR/state/d"
else
    RT_BASE=/run; [ -d /run ] && [ -w /run ] || RT_BASE=/tmp
    RT_DIR="$RT_BASE/slurm-ci-$(printf '%s' "$DIR" | md5sum | cut -c1-12)"
    MUNGE_DIR="$RT_DIR/munge"
    SPOOL_DIR="$RT_DIR/slurmd"
fi
MUNGE_SOCK="$MUNGE_DIR/munge.socket"

export SLURM_CONF="$CONF"

# ------------------------------------------------------- helpers: pid files
# Our pid files are DIR/run/<name>.pid = "PID STARTTIME" (starttime from
# /proc/PID/stat guards against pid reuse).  The daemons' own pid files are
# kept separately (they delete them on exit).
proc_starttime() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null; }
proc_running() {   # proc_running PID STARTTIME (zombies count as gone)
    local line
    line=$(awk '{ sub(/^.*\) /, ""); print $1, $20 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$line" ] && [ "${line#* }" = "$2" ] && [ "${line%% *}" != Z ] && [ "${line%% *}" != X ]
}
daemon_alive() {   # daemon_alive NAME -> 0 if the recorded process still runs
    local f="$RUN/$1.pid" pid st
    [ -r "$f" ] || return 1
    read -r pid st < "$f" || return 1
    [ -n "${pid:-}" ] && proc_running "$pid" "$st"
}
start_daemon() {   # start_daemon NAME CWD CMD... (runs CMD in the foreground mode of the daemon)
    local name=$1 cwd=$2; shift 2
    ( cd "$cwd" && exec setsid "$@" </dev/null >>"$DIR/log/$name.out" 2>&1 ) &
    local pid=$!
    sleep 0.1
    local st
    st=$(proc_starttime "$pid") || true
    if [ -z "$st" ] || ! proc_running "$pid" "$st"; then
        die "$name exited immediately"
    fi
    echo "$pid $st" > "$RUN/$name.pid"
    log "started $name (pid $pid)"
}
wait_for() {       # wait_for WHAT DAEMON CMD...  (gives up early if DAEMON died)
    local what=$1 daemon=$2; shift 2
    local end=$(( $(date +%s) + TIMEOUT ))
    until "$@" >/dev/null 2>&1; do
        daemon_alive "$daemon" || { log "$daemon died"; return 1; }
        [ "$(date +%s)" -lt "$end" ] || { log "timed out after ${TIMEOUT}s waiting for $what"; return 1; }
        sleep 0.25
    done
    log "$what ready"
}
show_logs() {
    local f
    for f in "$DIR"/log/*; do
        [ -f "$f" ] || continue
        printf '%s\n' "----- $f (tail)" >&2
        tail -n 25 "$f" >&2 || true
    done
}
on_error() {
    local rc=$?
    trap - ERR EXIT
    [ "$rc" = 0 ] && return 0
    log "start-up failed (rc=$rc); logs under $DIR/log"
    show_logs
    if [ "${SLURM_CI_KEEP_ON_FAILURE:-0}" != 1 ] && [ -f "$SCRIPT_DIR/stop-cluster.sh" ]; then
        bash "$SCRIPT_DIR/stop-cluster.sh" "$DIR" >&2 || true
    fi
    exit "$rc"
}

get_token() {
    scontrol token "username=$CI_USER" "lifespan=$TOKEN_LIFESPAN" | sed -n 's/^SLURM_JWT=//p'
}
rest_ping() {      # rest_ping TOKEN
    curl -fsS --max-time 5 -H "X-SLURM-USER-NAME: $CI_USER" -H "X-SLURM-USER-TOKEN: $1" \
        "$REST_URL/slurm/$API/ping" | grep -q '"ping": "UP"'
}
node_idle() {
    [ "$(sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null | sort -u)" = idle ]   # one line per partition
}
munge_ok() { munge -n -S "$MUNGE_SOCK" | unmunge -S "$MUNGE_SOCK"; }
ctld_up() { scontrol ping | grep -q 'is UP'; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

print_env() {      # print_env TOKEN
    local tok=$1
    {
        printf 'export SLURM_CI_DIR=%q\n' "$DIR"
        printf 'export SLURM_CONF=%q\n' "$CONF"
        printf 'export SLURM_REST_URL=%q\n' "$REST_URL"
        printf 'export SLURM_REST_API_VERSION=%q\n' "$API"
        printf 'export SLURM_USER_NAME=%q\n' "$CI_USER"
        printf 'export SLURM_JWT=%q\n' "$tok"
        printf 'export SLURM_PARTITION=%q\n' "$PARTITION"
        printf 'export SLURM_NODE_NAME=%q\n' "$NODE"
        printf 'export SLURM_JOB_DIR=%q\n' "$DIR/jobs"
    } > "$DIR/env.sh.tmp"
    mv "$DIR/env.sh.tmp" "$DIR/env.sh"
    cat "$DIR/env.sh"
}

# ------------------------------------------------ 3. already running? reuse
if daemon_alive munged && daemon_alive slurmctld && daemon_alive slurmd && daemon_alive slurmrestd \
   && [ -f "$CONF" ]; then
    tok=$(get_token || true)
    if [ -n "$tok" ] && rest_ping "$tok" && node_idle_or_busy=$(sinfo -h -N -n "$NODE" -o '%T'); then
        log "cluster in $DIR already running (node $node_idle_or_busy); reusing it"
        print_env "$tok"
        exit 0
    fi
fi
# Anything half-alive from an earlier run in this DIR: stop it (by pid file).
if compgen -G "$RUN/*.pid" >/dev/null; then
    log "stopping leftovers of an earlier run in $DIR"
    bash "$SCRIPT_DIR/stop-cluster.sh" "$DIR" >&2 || true
fi

trap on_error ERR EXIT

for p in "$REST_PORT" "$CTLD_PORT" "$SLURMD_PORT"; do
    port_busy "$p" && die "127.0.0.1:$p is already in use (another cluster running? stop it with stop-cluster.sh <its dir>, or set SLURMRESTD_PORT/SLURMCTLD_PORT/SLURMD_PORT)"
done

# ---------------------------------------------------------- 4. users, files
if ! getent group "$REST_USER" >/dev/null; then groupadd --system "$REST_USER"; fi
if ! id -u "$REST_USER" >/dev/null 2>&1; then
    useradd --system --gid "$REST_USER" --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$REST_USER"
fi
if ! id -u "$CI_USER" >/dev/null 2>&1; then
    log "creating system user $CI_USER"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /bin/bash "$CI_USER"
fi

rm -rf "$DIR/state" "$DIR/log" "$RUN" "$SPOOL_DIR"
mkdir -p "$DIR/state/ctld" "$SPOOL_DIR" "$DIR/log" "$RUN" "$DIR/jobs" "$MUNGE_DIR"
if [ -n "$RT_DIR" ]; then
    chmod 755 "$RT_DIR"
    echo "$RT_DIR" > "$DIR/rtdir"     # stop-cluster.sh removes it
else
    rm -f "$DIR/rtdir"
fi
chmod 1777 "$DIR/jobs"
chmod 755 "$MUNGE_DIR"
rm -f "$MUNGE_SOCK" "$MUNGE_SOCK.lock"

# munge key (per cluster dir, reused on restart)
if [ ! -s "$MUNGE_DIR/munge.key" ]; then
    dd if=/dev/urandom of="$MUNGE_DIR/munge.key" bs=1024 count=1 status=none
fi
chmod 400 "$MUNGE_DIR/munge.key"
# JWT HS256 key for AuthAltTypes=auth/jwt (>= 32 random bytes, SlurmUser-only)
if [ ! -s "$DIR/jwt_hs256.key" ]; then
    dd if=/dev/urandom of="$DIR/jwt_hs256.key" bs=32 count=1 status=none
fi
chmod 600 "$DIR/jwt_hs256.key"

# Node hardware: what slurmd detects, unless overridden.
hw=$(slurmd -C 2>/dev/null | head -n 1 || true)
hwval() { printf '%s\n' "$hw" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
CPUS=$(hwval CPUs); BOARDS=$(hwval Boards); SPB=$(hwval SocketsPerBoard)
CPS=$(hwval CoresPerSocket); TPC=$(hwval ThreadsPerCore); MEM=$(hwval RealMemory)
[ -n "$CPUS" ] || { CPUS=$(nproc); BOARDS=1; SPB=1; CPS=$CPUS; TPC=1; }
[ -n "$MEM" ] || MEM=$(( $(awk '/^MemTotal:/{print $2}' /proc/meminfo) / 1024 ))
if [ -n "${SLURM_CI_CPUS:-}" ]; then
    CPUS=$SLURM_CI_CPUS; BOARDS=1; SPB=1; CPS=$SLURM_CI_CPUS; TPC=1
fi
MEM=${SLURM_CI_MEMORY_MB:-$MEM}

# Fake GPUs: gres/gpu in 22.05 drops File-less (Count-only) GPUs ("Removing
# file-less GPU"), and File= must be a character/block device.  Existing
# harmless char devices work everywhere without mknod.
FAKE_DEVS=(/dev/null /dev/zero /dev/full /dev/urandom /dev/random)
[ "$NGPUS" -le ${#FAKE_DEVS[@]} ] || die "SLURM_CI_GPUS must be 0..${#FAKE_DEVS[@]}"
GRES_LINE=""; GRESTYPES_LINE=""
: > "$DIR/gres.conf"
if [ "$NGPUS" -gt 0 ]; then
    GRESTYPES_LINE="GresTypes=gpu"
    GRES_LINE="Gres=gpu:$NGPUS"
    for (( i = 0; i < NGPUS; i++ )); do
        echo "NodeName=$NODE Name=gpu File=${FAKE_DEVS[$i]}" >> "$DIR/gres.conf"
    done
fi
: > "$DIR/plugstack.conf"     # do not pick up /etc/slurm/plugstack.conf

cat > "$CONF.tmp" <<EOF
# Generated by start-cluster.sh -- single-node CI cluster, no systemd, no cgroups
ClusterName=ci
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCK
CredType=cred/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$DIR/jwt_hs256.key
StateSaveLocation=$DIR/state/ctld
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldPidFile=$RUN/slurmctld.daemon.pid
SlurmdPidFile=$RUN/slurmd.daemon.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$DIR/plugstack.conf
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
ReturnToService=2
MinJobAge=600
KillWait=5
SlurmdParameters=config_overrides
$GRESTYPES_LINE
NodeName=$NODE NodeAddr=$NODE_ADDR NodeHostname=$NODE CPUs=$CPUS Boards=$BOARDS SocketsPerBoard=$SPB CoresPerSocket=$CPS ThreadsPerCore=$TPC RealMemory=$MEM $GRES_LINE State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
[ -z "${SLURM_CI_CONF_EXTRA:-}" ] || printf '%s\n' "$SLURM_CI_CONF_EXTRA" >> "$CONF.tmp"
mv "$CONF.tmp" "$CONF"
chmod 644 "$CONF" "$DIR/gres.conf" "$DIR/plugstack.conf"

# --------------------------------------------------------------- 5. daemons
start_daemon munged "$DIR" munged -F --force --socket="$MUNGE_SOCK" \
    --key-file="$MUNGE_DIR/munge.key" --pid-file="$RUN/munged.daemon.pid" \
    --seed-file="$MUNGE_DIR/munged.seed" --log-file="$DIR/log/munged.log"
wait_for munged munged munge_ok || die "munged did not come up"

# -c: cold start (no saved jobs/nodes), so every start is clean.
start_daemon slurmctld "$DIR" slurmctld -D -c -f "$CONF"
wait_for slurmctld slurmctld ctld_up || die "slurmctld did not come up"

start_daemon slurmd "$DIR" slurmd -D -N "$NODE" -f "$CONF"
wait_for "slurmd (node $NODE idle)" slurmd node_idle || die "node $NODE did not become idle: $(scontrol show node "$NODE" 2>&1 | grep -E 'State|Reason' | tr -s ' ')"

# slurmrestd refuses to run as root/SlurmUser ("should not be run as the root
# user"): -u/-g make it drop to an unprivileged user after binding.
# SLURM_JWT=daemon makes it pass each client's JWT through to slurmctld
# (without it every request is rejected with "Rejecting thread config token").
# The dbv0.0.3x plugins need slurmdbd (fatal without it), so load only the
# slurmctld ones.  Its cwd ($DIR/jobs, world-writable) is the default job cwd.
RESTD_ARGS=(env SLURM_JWT=daemon SLURM_CONF="$CONF"
    slurmrestd -f "$CONF" -a rest_auth/jwt
    -s openapi/v0.0.36,openapi/v0.0.37,openapi/v0.0.38
    -u "$REST_USER" -g "$REST_USER" "127.0.0.1:$REST_PORT")
printf '%q ' "${RESTD_ARGS[@]}" > "$RUN/slurmrestd.args"   # restd.sh start reruns it
printf '%s\n' "$REST_PORT" > "$RUN/slurmrestd.port"
start_daemon slurmrestd "$DIR/jobs" "${RESTD_ARGS[@]}"

TOKEN=$(get_token)
[ -n "$TOKEN" ] || die "scontrol token returned nothing"
wait_for "slurmrestd ($REST_URL)" slurmrestd rest_ping "$TOKEN" || die "slurmrestd did not answer on $REST_URL"

trap - ERR EXIT
log "cluster up in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s; dir=$DIR"
print_env "$TOKEN"
