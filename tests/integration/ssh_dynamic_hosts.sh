#!/usr/bin/env bash
# ssh_dynamic_hosts.sh: the ssh provider's dynamic host set (providers/ssh.h), driven by
# tests/ssh/fleettool in one provider instance against a real sshd worker (tests/lib/sshrig.sh):
# opened with no hosts (dynamic_hosts: true), a host added at run time with a known_hosts
# file of its own and trust on first use (its key is recorded), a job launched on it, listed,
# the host removed (the job is no longer listed), added again strictly (the recorded key is
# trusted); a host whose recorded key differs is refused even with trust on first use, and
# an unknown key is refused without it.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
FT=${FLEETTOOL:-$(dirname "$GANTRY_BIN")/tests/ssh/fleettool}
trap 'rig_cleanup; t_cleanup' EXIT

if [ ! -x "$FT" ]; then
	echo "FAIL - $FT is not built (make check builds it)"
	exit 1
fi
rig_workers 1 2

CFG=(--set dynamic_hosts=true --set user=root --set "key=$RIG_KEY"
	--set connect_timeout_ms=3000 --set io_timeout_ms=15000 --set poll_ms=300)
ft() { "$FT" "${CFG[@]}" "$@"; }

expect_rc 1 "without dynamic_hosts no hosts still fails open" "$FT" --set user=root hosts
check "... saying so" grep -q "no hosts configured" "$T_HOME/out"
expect_rc 0 "with dynamic_hosts it opens with none" ft list

KH=$T_HOME/dyn1.known_hosts # its own, not there yet
KT=$(awk '{print $2; exit}' "$RIG_KNOWN_HOSTS") # the worker's host key type
ssh-keygen -q -t "${KT#ssh-}" -N '' -f "$T_HOME/other" >/dev/null 2>&1 ||
	ssh-keygen -q -t ed25519 -N '' -f "$T_HOME/other" >/dev/null
echo "[127.0.0.2]:$RIG_PORT $(cut -d' ' -f1,2 "$T_HOME/other.pub")" >"$T_HOME/bad.known_hosts"
: >"$T_HOME/empty.known_hosts"
R1=$RIG_DIR/remote1
JOB='echo${IFS}dyn-ok;sleep${IFS}300'

cat >"$T_HOME/session.in" <<IN
launch --id jdyn0 --gpus 1 $JOB
hostadd dyn1 127.0.0.2 $RIG_PORT $KH --tofu --gpus 2 --type H100 --dir $R1
hostadd dyn1 127.0.0.2 $RIG_PORT $KH --tofu
launch --id jdyn1 --gpus 1 --attempt 3 $JOB
wait jdyn1@dyn1 RUNNING 30
list
hostrm dyn1
list
refresh jdyn1@dyn1
hostadd dyn1 127.0.0.2 $RIG_PORT $KH --gpus 2 --type H100 --dir $R1
list
stop jdyn1@dyn1 2000
wait jdyn1@dyn1 STOPPED,FAILED 30
hostrm dyn1
hostadd bad 127.0.0.2 $RIG_PORT $T_HOME/bad.known_hosts --tofu --gpus 2 --type H100 --dir $R1
launch --id jdyn2 --gpus 1 $JOB
hostrm bad
hostadd strict 127.0.0.2 $RIG_PORT $T_HOME/empty.known_hosts --gpus 2 --type H100 --dir $R1
launch --id jdyn3 --gpus 1 $JOB
IN
ft session <"$T_HOME/session.in" >"$T_HOME/session.out" 2>&1 || :
S=$T_HOME/session.out
sed "s/^/# /" "$S" # in the log, for whoever reads a failure
# after_line PATTERN N: the N-th line after the first line matching PATTERN
after() { grep -A"$2" -e "$1" "$S" | tail -1; }

check "a launch with no host fails" bash -c "grep -A1 '^> launch' '$S' | head -2 | grep -q 'launch failed'"
check "the host is added" grep -q "^added dyn1" "$S"
check "a second host with the same name is refused" grep -q "hostadd failed: .*dyn1 is already there" "$S"
check "the job launches on the added host" grep -q "^ref=jdyn1@dyn1 " "$S"
check "it runs" grep -q "^state=RUNNING" "$S"
check "trust on first use recorded the key in the host's own file" bash -c "[ -s '$KH' ] && grep -q '127.0.0.2' '$KH'"
check "the job ran there" bash -c "grep -q dyn-ok '$R1'/jobs/jdyn1/job.log"
check "list names it, with the attempt from its labels" grep -q "^jdyn1@dyn1 jdyn1 attempt=3$" "$S"
check "the host is removed" grep -q "^removed dyn1" "$S"
check "after removal nothing is listed, then the job again once re-added" bash -c \
	"[ \$(grep -c '^jdyn1@dyn1 jdyn1 attempt=3$' '$S') = 2 ] && awk '/^> hostrm/{r=1} /^> hostadd/{r=0} r && /^jdyn1@dyn1 /{bad=1} END{exit bad}' '$S'"
check "a refresh of a job on a removed host is refused" grep -q "^refresh failed: .*dyn1" "$S"
check "the re-added host (strict) trusts the recorded key: the job stops" grep -Eq "^state=(STOPPED|FAILED)" "$S"
check "a changed key is refused even with trust on first use" \
	grep -q "^launch failed: .*bad: unreachable: HOST KEY CHANGED" "$S"
check "an unknown key is refused without it" \
	grep -q "^launch failed: .*strict: unreachable: .*unknown host key" "$S"
check "no job directory for the refused launches" bash -c "[ ! -e '$R1/jobs/jdyn2' ] && [ ! -e '$R1/jobs/jdyn3' ]"

# list_owned never blocks the loop: with the worker's sshd stopped (SIGSTOP: the TCP
# connect succeeds, the SSH handshake waits until connect_timeout_ms), the loop keeps
# turning (a 20 ms timer ticks) until the list answers that it failed
rig_ctl pause 1
printf 'hostadd dyn1 127.0.0.2 %s %s --gpus 2 --dir %s\nlist\n' "$RIG_PORT" "$KH" "$R1" |
	ft session >"$T_HOME/paused.out" 2>&1 || :
rig_ctl resume 1
sed "s/^/# /" "$T_HOME/paused.out"
check "the list over a hung host fails" grep -q "^list failed: " "$T_HOME/paused.out"
check "the loop turned while it waited" bash -c \
	"n=\$(sed -n 's/^list: \([0-9]*\) ticks$/\1/p' '$T_HOME/paused.out'); [ \"\${n:-0}\" -ge 20 ]"
t_done
