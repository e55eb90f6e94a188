# tests/ssh/rig.sh: helpers for tests/integration/ssh_*.sh (sourced after tests/lib/common.sh).
# Starts throw-away sshds from tests/sshd/start-sshd.sh on free loopback ports and stops them
# (and any ssh-agent the test started) by pid at exit.

RIG_SRC=${GANTRY_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SSHTOOL=${SSHTOOL:-$(dirname "$GANTRY_BIN")/tests/ssh/sshtool}
RIG_DIRS=()
RIG_PIDS=()
RIG_TMUX=""
RIG_TMUX_ALL=()

rig_cleanup() {
	local rc=$? d p
	set +e
	for p in "${RIG_TMUX_ALL[@]}"; do
		tmux -L "$p" kill-server 2>/dev/null
	done
	for p in "${RIG_PIDS[@]}"; do
		kill -CONT "$p" 2>/dev/null
		kill "$p" 2>/dev/null
	done
	for d in "${RIG_DIRS[@]}"; do
		bash "$RIG_SRC/tests/sshd/stop-sshd.sh" --rm "$d" >/dev/null 2>&1
	done
	t_cleanup
	exit "$rc"
}
trap rig_cleanup EXIT

if [ ! -x "$SSHTOOL" ]; then
	echo "FAIL - $SSHTOOL is not built (make check builds it)"
	exit 1
fi
for tool in /usr/sbin/sshd ssh ssh-keygen ssh-agent ssh-add; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL - $tool is missing (apt-get install openssh-server openssh-client)"
		exit 1
	fi
done

# A TCP port nothing listens on, on 127.0.0.1 and 127.0.0.2.
rig_free_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM + $$) % 10000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null &&
			! (exec 3<>"/dev/tcp/127.0.0.2/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# rig_start NAME [VAR=VALUE...]: starts an sshd (the variables are start-sshd.sh knobs) in
# $T_HOME/sshd-NAME and sets NAME_HOST NAME_PORT NAME_KEY NAME_KH NAME_KHH NAME_DIR NAME_PID.
rig_start() {
	local name=$1 dir="$T_HOME/sshd-$1" port out i
	shift
	for ((i = 0; i < 5; i++)); do
		port=$(rig_free_port) || break
		if out=$(env -u SSH_TEST_USER "$@" bash "$RIG_SRC/tests/sshd/start-sshd.sh" "$dir" \
			"$port" 2>"$T_HOME/start-$name.log"); then
			RIG_DIRS+=("$dir")
			rig_load "$name" "$out"
			return 0
		fi
		bash "$RIG_SRC/tests/sshd/stop-sshd.sh" --rm "$dir" >/dev/null 2>&1
	done
	echo "FAIL - cannot start sshd $name:" >&2
	cat "$T_HOME/start-$name.log" >&2
	exit 1
}

# rig_load NAME EXPORTS: sets the NAME_* variables from start-sshd.sh's export lines.
rig_load() {
	local name=$1 out=$2
	eval "$(
		SSH_TEST_HOST= SSH_TEST_PORT= SSH_TEST_KEY= SSH_TEST_KNOWN_HOSTS=
		SSH_TEST_KNOWN_HOSTS_HASHED= SSH_TEST_DIR= SSH_TEST_SSHD_PID=
		eval "${out//export /}"
		printf '%s_HOST=%q %s_PORT=%q %s_KEY=%q %s_KH=%q %s_KHH=%q %s_DIR=%q %s_PID=%q\n' \
			"$name" "$SSH_TEST_HOST" "$name" "$SSH_TEST_PORT" "$name" "$SSH_TEST_KEY" \
			"$name" "$SSH_TEST_KNOWN_HOSTS" "$name" "$SSH_TEST_KNOWN_HOSTS_HASHED" \
			"$name" "$SSH_TEST_DIR" "$name" "$SSH_TEST_SSHD_PID"
	)"
}

# rig_sessions PID: the descendants of the sshd with that pid (its connections' processes).
rig_sessions() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END {
			n = split(kids[root], q, " ")
			for (i = 1; i <= n; i++) {
				print q[i]
				m = split(kids[q[i]], more, " ")
				for (k = 1; k <= m; k++) q[++n] = more[k]
			}
		}'
}

# rig_kill_sessions PID: kills (SIGKILL) those processes: their connections drop.
rig_kill_sessions() {
	local p
	for p in $(rig_sessions "$1"); do
		kill -9 "$p" 2>/dev/null || :
	done
}

# rig_wait_for FILE PATTERN [SECONDS]: polls until FILE holds PATTERN (grep -E).
rig_wait_for() {
	local i
	for ((i = 0; i < ${3:-20} * 10; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# has FILE TEXT: FILE contains TEXT (fixed string); prints the file when not.
has() {
	if grep -qF -- "$2" "$1"; then return 0; fi
	echo "  --- $1 lacks: $2" >&2
	head -c 2000 "$1" >&2
	return 1
}
