# tests/lib/gantryd.sh: gantryd test rig (sourced after tests/lib/common.sh; bash, as root).
#   gd_users            creates (idempotent) the groups gantry, g12-ml, g12-vision, g12-admins
#                       and the users g12svc (service account), g12alice (gantry, g12-ml),
#                       g12bob (gantry, g12-vision), g12carol (gantry, g12-admins: admin and
#                       approver in the default policy), g12mallory (not in gantry),
#                       g12dan (gantry, g12-ml: alice's team mate)
#   gd_start DIR [POLICY]  makes DIR (owned by g12svc, 0755: the service's runtime directory),
#                       the service home DIR/home (g12svc, 0700) and DIR/system (root, 0755)
#                       with POLICY (or the default policy below) as policy.yaml; starts
#                       `gantryd --foreground` as g12svc in the background, socket
#                       DIR/gantryd.sock; waits until it answers; exports GD_SOCK GD_PID GD_HOME
#                       GD_SYSTEM GD_LOG
#   gd_stop             SIGTERM by pid, waits for the exit (then SIGKILL)
#   as USER CMD...      runs CMD as USER with a clean environment (GANTRY_DAEMON=$GD_SOCK,
#                       HOME, PATH, GANTRY_DATADIR, NO_COLOR only)
#   gd_call USER OP [ARGS_JSON]  one request through tests/lib/gdclient.py as USER: prints the
#                       answer line
# Not root, or no useradd: the test SKIPs (exit 77) unless CI=true, where it fails.
GANTRYD_BIN=${GANTRYD_BIN:-$(dirname "$GANTRY_BIN")/gantryd}
export GANTRYD_BIN
GD_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GD_PY=/usr/bin/python3
GD_PID=

gd_need() {
	if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null || ! command -v runuser >/dev/null \
		|| [ ! -x "$GD_PY" ]; then
		echo "# gantryd tests need root, useradd, runuser and $GD_PY" >&2
		[ "${CI:-}" = true ] && exit 1
		exit 77
	fi
	[ -x "$GANTRYD_BIN" ] || { echo "# no gantryd at $GANTRYD_BIN" >&2; exit 1; }
}

gd_group() { getent group "$1" >/dev/null || groupadd "$1"; }

# gd_user NAME [GROUPS]: the user with its own primary group, a home, and these groups
gd_user() {
	local u=$1 groups=${2:-}
	id -u "$u" >/dev/null 2>&1 || useradd -m -U -s /bin/sh "$u"
	[ -z "$groups" ] || usermod -a -G "$groups" "$u"
}

gd_users() {
	gd_need
	local g
	for g in gantry g12-ml g12-vision g12-admins; do gd_group "$g"; done
	gd_user g12svc gantry
	gd_user g12alice gantry,g12-ml
	gd_user g12bob gantry,g12-vision
	gd_user g12carol gantry,g12-admins
	gd_user g12mallory
	gd_user g12dan gantry,g12-ml # alice's team mate
	# the test users run the build tree: say so when they cannot
	local u
	for u in g12svc g12alice g12mallory; do
		if ! runuser -u "$u" -- test -x "$GANTRYD_BIN" || ! runuser -u "$u" -- test -x "$GANTRY_BIN" ||
			! runuser -u "$u" -- test -r "$GANTRY_DATADIR/templates/hello.yaml"; then
			echo "# user $u cannot run $GANTRY_BIN / $GANTRYD_BIN or read $GANTRY_DATADIR:" \
				"make the build tree and its parents world-readable (a+rX)" >&2
			exit 1
		fi
	done
}

gd_default_policy() {
	cat <<'YAML'
roles:
  admin: {groups: [g12-admins], admin: true, approver: true, see: all}
  ml:
    groups: [g12-ml]
    providers: [local]
    templates: [hello, gd-*]
    see: team
  vision:
    groups: [g12-vision]
    providers: [local]
    templates: [hello, gd-*]
    see: team
teams: {ml: [g12-ml], vision: [g12-vision]}
classifications:
  pii: {regions: ["eu-*"]}
YAML
}

# as USER CMD...: CMD as USER, with nothing of our environment but what it needs
as() {
	local u=$1
	shift
	local home
	home=$(getent passwd "$u" | cut -d: -f6)
	runuser -u "$u" -- env -i PATH=/usr/bin:/bin HOME="$home" GANTRY_DAEMON="${GD_SOCK:-}" \
		GANTRY_DATADIR="$GANTRY_DATADIR" NO_COLOR=1 LANG=C.UTF-8 "$@"
}

gd_call() {
	local u=$1 op=$2 args=${3:-'{}'}
	as "$u" "$GD_PY" "$GD_LIB/gdclient.py" "$GD_SOCK" "$op" "$args"
}

gd_ready() { "$GD_PY" "$GD_LIB/gdclient.py" "$GD_SOCK" hello '{"version": 1}' >/dev/null 2>&1; }

gd_start() {
	local dir=$1 policy=${2:-}
	mkdir -p "$dir"
	chown g12svc: "$dir"
	chmod 0755 "$dir"
	GD_HOME=$dir/home
	GD_SYSTEM=$dir/system
	GD_SOCK=$dir/gantryd.sock
	GD_LOG=$dir/gantryd.log
	install -d -o g12svc -g g12svc -m 0700 "$GD_HOME"
	install -d -o root -g root -m 0755 "$GD_SYSTEM" "$GD_SYSTEM/templates"
	if [ -n "$policy" ]; then
		install -o root -g root -m 0644 "$policy" "$GD_SYSTEM/policy.yaml"
	else
		gd_default_policy >"$GD_SYSTEM/policy.yaml"
		chmod 0644 "$GD_SYSTEM/policy.yaml"
	fi
	: >"$GD_LOG"
	# GANTRY_HOME and GANTRY_SYSTEM_DIR from the environment must not matter: set wrong ones
	setpriv --reuid g12svc --regid g12svc --init-groups -- env -i PATH=/usr/bin:/bin HOME="$GD_HOME" \
		GANTRY_HOME=/nonexistent/wrong GANTRY_SYSTEM_DIR=/nonexistent/wrong \
		GANTRY_DATADIR="$GANTRY_DATADIR" \
		"$GANTRYD_BIN" --foreground --socket "$GD_SOCK" --group gantry --home "$GD_HOME" \
		--system-dir "$GD_SYSTEM" >>"$GD_LOG" 2>&1 &
	GD_PID=$!
	export GD_SOCK GD_PID GD_HOME GD_SYSTEM GD_LOG
	if ! wait_for 20 gd_ready; then
		echo "# gantryd did not answer on $GD_SOCK; its log:" >&2
		cat "$GD_LOG" >&2
		return 1
	fi
}

gd_stop() {
	[ -n "${GD_PID:-}" ] || return 0
	kill -TERM "$GD_PID" 2>/dev/null || :
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$GD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$GD_PID" 2>/dev/null || :
	wait "$GD_PID" 2>/dev/null || :
	GD_PID=
}
