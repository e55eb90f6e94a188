#!/usr/bin/env bash
# session_engine.sh: `gantry ssh` through the engine's session operation (core/engine_session.c):
# a local job's shell (job directory, job environment, exit status, --print-command, the
# session mark autostop counts while it runs, refused once the job ended), and a remote
# worker whose host key is unknown (refused with exit 255 and the fingerprint, then
# recorded with --accept-new-host-key).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
bg_pid=
TMX=
tmx() { tmux -L "$TMX" -f /dev/null "$@"; }
trap 'if [ -n "$bg_pid" ]; then kill "$bg_pid" 2>/dev/null || :; fi
[ -z "$TMX" ] || tmx kill-server 2>/dev/null || :; rig_cleanup; t_cleanup' EXIT

rig_workers 1 1
mkdir -p "$T_HOME/config/templates"
cat >"$T_HOME/config/templates/nap.yaml" <<'EOF'
name: nap
kind: training
description: sleeps here
resources:
  accelerators: none
placement:
  providers: [local]
run: sleep 600
EOF
cat >"$T_HOME/config/templates/rnap.yaml" <<'EOF'
name: rnap
kind: training
description: sleeps on the fleet
resources:
  accelerators: none
placement:
  providers: [fleet]
run: sleep 600
EOF

# --- local: the user's shell in the job's directory with the job's environment
expect_rc 0 "launch a local job" g launch nap --name here1
check "here1 reaches RUNNING" wait_state here1 RUNNING 30
id=$(job_field here1 id)
dir=$(job_field here1 provider_ref)
rc=0
out=$(g ssh here1 -- sh -c 'echo "id=$GANTRY_JOB_ID jobdir=$GANTRY_JOB_DIR"; pwd -P; exit 5' 2>"$T_HOME/err") || rc=$?
check "a local session returns the command's exit status (5, got $rc)" test "$rc" = 5
check "it runs in the job's work directory ($out)" \
	test "$(tail -n 1 <<<"$out")" = "$(cd "$dir/work" && pwd -P)"
check "it sees GANTRY_JOB_ID ($out)" grep -q "id=$id " <<<"$out"
check "it sees the job's environment (GANTRY_JOB_DIR)" grep -q "jobdir=$dir\$" <<<"$out"
pc=$(g ssh here1 --print-command -- echo hi)
check "--print-command of a local job is a cd into its directory ($pc)" \
	grep -qF "cd '$dir/work' && 'echo' 'hi'" <<<"$pc"

# the session counts as activity (a mark under state/sessions) only while it runs
"$GANTRY_BIN" ssh here1 -- sh -c "while [ ! -e '$T_HOME/go' ]; do sleep 0.1; done" \
	>/dev/null 2>&1 &
bg_pid=$!
check "a running session leaves a mark for autostop" wait_for 10 test -e "$T_HOME/state/sessions/$id.$bg_pid"
touch "$T_HOME/go"
rc=0
wait "$bg_pid" || rc=$?
bg_pid=
check "the session ended by itself (exit $rc)" test "$rc" = 0
check "a session that ended removed its mark" bash -c "! compgen -G '$T_HOME/state/sessions/$id.*'"

expect_rc 0 "stop the local job" g stop here1
check "here1 stops" wait_state here1 STOPPED 30
expect_rc 1 "gantry ssh refuses a job that has ended" g ssh here1 -- true
check "  saying so" grep -q "has ended" "$T_HOME/err"

# --- remote: an unknown host key is refused with its fingerprint, then recorded on request
expect_rc 0 "launch a job on the fleet" g launch rnap --name far1
check "far1 reaches RUNNING" wait_state far1 RUNNING 30
cp "$RIG_KNOWN_HOSTS" "$T_HOME/kh.saved"
: >"$RIG_KNOWN_HOSTS"
expect_rc 255 "gantry ssh to a worker with an unknown host key exits 255" g ssh far1 -- echo reached </dev/null
check "  naming the fingerprint and --accept-new-host-key" \
	grep -Eq "SHA256:[A-Za-z0-9+/]+ \(ED25519\).*--accept-new-host-key" "$T_HOME/err"
check "  and recording nothing" test ! -s "$RIG_KNOWN_HOSTS"
rc=0
out=$(g ssh far1 --accept-new-host-key -- echo reached </dev/null 2>"$T_HOME/err") || rc=$?
check "--accept-new-host-key connects (exit $rc: $(head -c 300 "$T_HOME/err"))" test "$rc" = 0
check "  and runs the command there ($out)" grep -q '^reached' <<<"$out"
check "  and records the key" test -s "$RIG_KNOWN_HOSTS"

# on a terminal, the engine asks the face (confirm_host_key): "no" refuses, "yes" records
if command -v tmux >/dev/null; then
	unset TMUX
	screen() { tmx capture-pane -p -J -t t; }
	# prompt_run NAME ANSWER: gantry ssh in a fresh tmux pane, answering the host key prompt
	prompt_run() {
		[ -z "$TMX" ] || tmx kill-server 2>/dev/null || :
		TMX=gantry-sess-$$-$1
		cat >"$T_HOME/$1.sh" <<SH
$(printf '%q ' "$GANTRY_BIN") ssh far1 -- echo prompted-ok
echo \$? >'$T_HOME/$1.rc.tmp'
mv '$T_HOME/$1.rc.tmp' '$T_HOME/$1.rc'
exec sleep 1000
SH
		tmx new-session -d -s t -x 120 -y 30 "bash --norc --noprofile '$T_HOME/$1.sh'"
		if wait_for 15 bash -c "$(declare -f tmx screen); TMX='$TMX'; screen | grep -q 'Accept it and record it in .*(yes/no)?'"; then
			ok "the face is asked about the unknown key ($1)"
		else
			fail "no host key prompt ($1): $(screen | tr '\n' '|' | head -c 600)"
		fi
		tmx send-keys -t t "$2" Enter
		wait_for 15 test -e "$T_HOME/$1.rc" || :
	}
	: >"$RIG_KNOWN_HOSTS"
	prompt_run no no
	check "answering no exits 255 ($(cat "$T_HOME/no.rc" 2>/dev/null))" test "$(cat "$T_HOME/no.rc" 2>/dev/null)" = 255
	check "  and records nothing" test ! -s "$RIG_KNOWN_HOSTS"
	check "  the prompt shows the fingerprint" bash -c "$(declare -f tmx screen); TMX='$TMX'; screen | grep -Eq 'ED25519 key fingerprint is SHA256:'"
	prompt_run yes yes
	check "answering yes connects ($(cat "$T_HOME/yes.rc" 2>/dev/null))" test "$(cat "$T_HOME/yes.rc" 2>/dev/null)" = 0
	check "  and runs the command" bash -c "$(declare -f tmx screen); TMX='$TMX'; screen | grep -q '^prompted-ok'"
	check "  and records the key" test -s "$RIG_KNOWN_HOSTS"
else
	fail "tmux is not installed (apt-get install tmux)"
fi
expect_rc 0 "stop far1" g stop far1
t_done
