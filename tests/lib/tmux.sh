# tmux.sh: helpers for TUI tests that run gantry inside a private tmux server.
# Source it, call tui_setup, then tui_start COLS ROWS [ENV=VAL...] [-- GANTRY_ARGS...].
# Needs GANTRY_BIN (and GANTRY_DATADIR for the built-in templates and themes).
# Every wait fails the test (exit 1, with the screen printed) when its pattern does not
# show within TUI_TIMEOUT seconds.

TUI_TIMEOUT=${TUI_TIMEOUT:-20}
# Every tui_start gets a fresh server (socket gantry-test-PID-N): a server that was just
# killed may still be exiting, and a new-session on its socket then fails with "server
# exited unexpectedly".
TUI_N=0
TUI_SOCK="gantry-test-$$-0"
TUI_SESSION=t

tui_fail() {
	echo "FAIL: $*" >&2
	if tmux -L "$TUI_SOCK" has-session -t "$TUI_SESSION" 2>/dev/null; then
		echo "--- screen ---" >&2
		tmux -L "$TUI_SOCK" capture-pane -p -t "$TUI_SESSION" >&2
		echo "--------------" >&2
	fi
	exit 1
}

tmx() {
	tmux -L "$TUI_SOCK" -f /dev/null "$@"
}

# Kills the tmux server and every job process the test started (process groups from the
# local provider's pid files), then removes GANTRY_HOME.
tui_cleanup() {
	local f pid n
	for ((n = 0; n <= TUI_N; n++)); do
		tmux -L "gantry-test-$$-$n" kill-server 2>/dev/null
	done
	if [ -n "${GANTRY_HOME:-}" ] && [ -d "$GANTRY_HOME" ]; then
		for f in "$GANTRY_HOME"/state/jobs/*/pid "$GANTRY_HOME"/state/jobs/*/supervisor.pid; do
			[ -f "$f" ] || continue
			pid=$(cut -d' ' -f1 "$f")
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
		done
		rm -rf "$GANTRY_HOME"
	fi
}

tui_setup() {
	[ -n "${GANTRY_BIN:-}" ] || { echo "GANTRY_BIN is not set" >&2; exit 1; }
	if ! command -v tmux >/dev/null 2>&1; then
		echo "SKIP: tmux is not installed (apt-get install tmux)"
		exit 77
	fi
	GANTRY_HOME=$(mktemp -d "${TMPDIR:-/tmp}/gantry-tui.XXXXXX")
	export GANTRY_HOME GANTRY_SYSTEM_DIR="$GANTRY_HOME/system"
	if [ -n "${GANTRY_DATADIR:-}" ]; then
		export GANTRY_DATADIR
	fi
	unset TMUX
	trap tui_cleanup EXIT
}

# tui_start COLS ROWS [VAR=VALUE...] [-- ARGS...]: runs gantry in a fresh session. The pane
# stays after gantry exits, so a crash leaves its last words on the screen.
tui_start() {
	local cols=$1 rows=$2 cmd
	shift 2
	local envs=(TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 "GANTRY_HOME=$GANTRY_HOME"
		"GANTRY_SYSTEM_DIR=$GANTRY_SYSTEM_DIR")
	if [ -n "${GANTRY_DATADIR:-}" ]; then
		envs+=("GANTRY_DATADIR=$GANTRY_DATADIR")
	fi
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		envs+=("$1")
		shift
	done
	[ "${1:-}" = "--" ] && shift
	TUI_N=$((TUI_N + 1))
	TUI_SOCK="gantry-test-$$-$TUI_N"
	TUI_STATUS="$GANTRY_HOME/tui-exit-status"
	rm -f "$TUI_STATUS"
	cmd=$(printf '%q ' sh -c '"$@"; echo $? >"$0"' "$TUI_STATUS" \
		env -u NO_COLOR "${envs[@]}" "$GANTRY_BIN" "$@")
	tmx new-session -d -s "$TUI_SESSION" -x "$cols" -y "$rows" 'sleep 100000' ||
		tui_fail "cannot start tmux"
	tmx set-option -t "$TUI_SESSION" remain-on-exit on >/dev/null
	tmx respawn-pane -k -t "$TUI_SESSION" "$cmd" || tui_fail "cannot start gantry"
}

# The screen as text (extra tmux capture-pane options may be given, e.g. -e).
tui_screen() {
	tmx capture-pane -p -t "$TUI_SESSION" "$@"
}

tui_keys() {
	tmx send-keys -t "$TUI_SESSION" "$@"
}

# Sends text literally (no key names).
tui_type() {
	tmx send-keys -l -t "$TUI_SESSION" "$1"
}

# tui_wait REGEX [SECONDS]: waits until the screen matches (grep -E).
tui_wait() {
	local pat=$1 limit=${2:-$TUI_TIMEOUT} i=0
	while [ "$i" -lt $((limit * 10)) ]; do
		if tui_screen | grep -Eq -- "$pat"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	tui_fail "timed out after ${limit}s waiting for /$pat/"
}

# tui_wait_gone REGEX [SECONDS]: waits until the screen no longer matches.
tui_wait_gone() {
	local pat=$1 limit=${2:-$TUI_TIMEOUT} i=0
	while [ "$i" -lt $((limit * 10)) ]; do
		if ! tui_screen | grep -Eq -- "$pat"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	tui_fail "timed out after ${limit}s waiting for /$pat/ to go away"
}

# tui_assert_no REGEX: the screen must not match now.
tui_assert_no() {
	if tui_screen | grep -Eq -- "$1"; then
		tui_fail "screen shows /$1/"
	fi
}

# tui_resize COLS ROWS
tui_resize() {
	tmx resize-window -t "$TUI_SESSION" -x "$1" -y "$2" || tui_fail "cannot resize"
}

# tui_json_state NAME: the state of job NAME according to `gantry ls -o json`.
tui_json_state() {
	"$GANTRY_BIN" ls -o json | python3 -c '
import json, sys
print("".join(j["state"] for j in json.load(sys.stdin) if j["name"] == sys.argv[1]))' "$1"
}

# tui_quit: q (a sub-view goes back on q, the top view quits) until gantry has exited.
tui_quit() {
	local i=0
	while [ "$i" -lt 50 ]; do
		if [ $((i % 10)) = 0 ]; then
			tui_keys q
		fi
		sleep 0.1
		if [ "$(tmx display-message -p -t "$TUI_SESSION" '#{pane_dead}')" = 1 ]; then
			local st
			st=$(cat "$TUI_STATUS" 2>/dev/null)
			[ "$st" = 0 ] || tui_fail "gantry exited with status '$st'"
			return 0
		fi
		i=$((i + 1))
	done
	tui_fail "gantry did not quit on q"
}
