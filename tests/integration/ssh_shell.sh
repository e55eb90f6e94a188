#!/usr/bin/env bash
# core/ssh_shell.c: an interactive shell through sshtool inside tmux (a real terminal): PTY
# with TERM and size, window changes forwarded, raw local terminal restored, exit status,
# and a dropped connection.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../ssh/rig.sh"

if ! command -v tmux >/dev/null; then
	fail "tmux is not installed (apt-get install tmux)"
	t_done
	exit 1
fi
W=$T_HOME/w
mkdir -p "$W"
rig_start A
O=(--host 127.0.0.1 --port "$A_PORT" --user root --key "$A_KEY" --known-hosts "$A_KH")
out=$T_HOME/out
err=$T_HOME/err
RIG_N=0
unset TMUX
tmx() { tmux -L "$RIG_TMUX" -f /dev/null "$@"; }
screen() { tmx capture-pane -p -J -t t; }
# wait_screen REGEX: polls the pane until a line matches.
wait_screen() {
	local i
	for ((i = 0; i < 100; i++)); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	echo "  --- screen lacks /$1/:" >&2
	screen | sed 's/^/  | /' >&2
	return 1
}

# run_in_tmux NAME ARGS...: runs sshtool ARGS in a fresh tmux pane, recording the terminal
# settings before and after, the local TERM and the exit status in $W/NAME.* ($PRE, if set,
# runs first in the pane).
run_in_tmux() {
	local name=$1
	shift
	# a fresh server each time: one just killed may still be exiting, and reusing its
	# socket fails with "server exited unexpectedly"
	[ -n "$RIG_TMUX" ] && { tmx kill-server 2>/dev/null || :; }
	RIG_N=$((RIG_N + 1))
	RIG_TMUX=gantry-ssh-$$-$RIG_N
	RIG_TMUX_ALL+=("$RIG_TMUX")
	cat >"$W/$name.sh" <<SH
${PRE:-}
stty -a >'$W/$name.before'
echo "\$TERM" >'$W/$name.term'
$(printf '%q ' "$SSHTOOL" "$@") 2>'$W/$name.err'
echo \$? >'$W/$name.status.tmp'
stty -a >'$W/$name.after'
mv '$W/$name.status.tmp' '$W/$name.status'
exec sleep 1000
SH
	tmx new-session -d -s t -x 100 -y 30 "bash --norc --noprofile '$W/$name.sh'"
}

# --- an interactive login shell
run_in_tmux sh shell "${O[@]}"
tag=hi-$$
tmx send-keys -t t "echo $tag-\$((40+2))" Enter
check "the remote shell runs what is typed" wait_screen "^$tag-42\$"
tty=$(tmx display -p -t t '#{pane_tty}')
check "the local terminal is raw meanwhile" bash -c "stty -a -F '$tty' | grep -q -- '-icanon' && stty -a -F '$tty' | grep -q -- '-echo '"
tmx send-keys -t t 'echo "size=$(stty size) term=$TERM"' Enter
check "the PTY has the window's size and the local TERM" wait_screen "^size=30 100 term=$(cat "$W/sh.term")\$"
tmx resize-window -t t -x 120 -y 40
# resized: asks the remote PTY its size (attempt N prints resized-N=ROWS COLS), waits for
# that answer, passes when it is the new size; the window change travels on its own.
RN=0
resized() {
	RN=$((RN + 1))
	tmx send-keys -t t "echo \"resized-$RN=\$(stty size)\"" Enter
	wait_screen "^resized-$RN=" 2>/dev/null && screen | grep -Eq "^resized-$RN=40 120\$"
}
check "a window change reaches the remote PTY" wait_for 20 resized
# remote_sleeping: the typed `sleep 100` runs (a process under this test's sshd)
remote_sleeping() {
	local p
	for p in $(rig_sessions "$A_PID"); do
		[ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" = "sleep 100 " ] && return 0
	done
	return 1
}
tmx send-keys -t t 'sleep 100; echo after-sleep' Enter
check "the remote command runs" wait_for 20 remote_sleeping
tmx send-keys -t t C-c
check "Ctrl-C goes to the remote command, sshtool stays" wait_screen "\\^C"
tmx send-keys -t t "echo still-$tag" Enter
check "the shell is still there" wait_screen "^still-$tag\$"
tmx send-keys -t t 'exit 3' Enter
check "sshtool ends with the remote status" rig_wait_for "$W/sh.status" '^3$'
# (the first line of stty -a holds the window size, which the test changed)
check "the terminal settings are restored" cmp -s <(tail -n +2 "$W/sh.before") <(tail -n +2 "$W/sh.after")
check "canonical mode and echo are on again" bash -c "grep -q ' icanon' '$W/sh.after' && grep -Eq '(^| )echo ' '$W/sh.after'"

# --- the local terminal's modes reach the remote PTY (erase ^H, no XON/XOFF flow control)
PRE="stty erase '^H' -ixon" run_in_tmux modes shell "${O[@]}" 'stty -a; exit 0'
check "the remote PTY has the local erase character (^H)" wait_screen "erase = \\^H;"
check "and the local flow control setting (-ixon)" wait_screen "(^| )-ixon( |$)"
check "that shell ends with status 0" rig_wait_for "$W/modes.status" '^0$'
check "the local terminal got its own modes back" cmp -s "$W/modes.before" "$W/modes.after"

# --- a remote command with a PTY, and a connection that drops under it
run_in_tmux drop shell "${O[@]}" 'echo started-$PPID; sleep 60'
check "the command runs on a PTY" wait_screen "^started-"
for p in $(rig_sessions "$A_PID"); do
	[ -d "/proc/$p" ] && grep -q '^sshd' "/proc/$p/comm" && kill -9 "$p" 2>/dev/null || :
done
check "a dropped connection ends the shell" rig_wait_for "$W/drop.status" '^109$'
check "SSH_ERR_CLOSED: connection lost" has "$W/drop.err" "ERROR SSH_ERR_CLOSED: connection to 127.0.0.1 lost"
check "the terminal settings are restored after the drop" cmp -s "$W/drop.before" "$W/drop.after"
tmx kill-server 2>/dev/null || :

# --- no terminal: stdin from a pipe
rc=0
printf 'echo piped-$((1+1))\nexit 5\n' | "$SSHTOOL" shell "${O[@]}" >"$out" 2>"$err" || rc=$?
check "a shell fed from a pipe: exit 5 ($rc)" [ "$rc" = 5 ]
check "its output came back" grep -aq 'piped-2' <(tr -d '\r' <"$out" | grep -av 'echo piped')
expect_rc 6 "a remote command with a PTY" "$SSHTOOL" shell "${O[@]}" 'tty; exit 6' </dev/null
check "it ran on a pty" grep -q '^/dev/pts/' "$out"

t_done
