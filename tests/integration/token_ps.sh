#!/usr/bin/env bash
# token_ps.sh: a notebook's access token never shows on a command line. The built-in
# jupyter-notebook template is launched with the local provider and on a real sshd worker
# (tests/lib/sshrig.sh); another local user (nobody) reads every process's arguments with
# ps and /proc and must not find the token; the notebook itself must refuse requests without
# the token (403, or a redirect to its login page) and accept them with it.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
trap 'rig_cleanup; t_cleanup' EXIT

if ! command -v jupyter >/dev/null || ! jupyter notebook --version >/dev/null 2>&1; then
	echo "FAIL - jupyter notebook is missing (apt-get install jupyter-notebook)"
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "FAIL - this test runs ps as another user (runuser -u nobody) and needs root"
	exit 1
fi

# http_code URL [CURL ARGS...]: the status of a GET (000 when nothing answered).
http_code() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$url" || :
}

# no_token_visible WHAT TOKEN PID: as nobody, no process's arguments hold TOKEN, while
# ps does see the notebook (PID); its environment is unreadable to nobody.
no_token_visible() {
	local what=$1 tok=$2 pid=$3 args
	args=$(runuser -u nobody -- ps -eo args)
	check "$what: nobody's ps lists the notebook's process" \
		bash -c 'grep -q "jupyter.*notebook" <<<"$1"' _ "$args"
	check "$what: the token is in no process's arguments (ps -eo args as nobody)" \
		bash -c '! grep -qF -- "$1" <<<"$2"' _ "$tok" "$args"
	# (the token must not be an argument of the reader either: it is grepped here)
	args=$(runuser -u nobody -- sh -c 'for f in /proc/[0-9]*/cmdline; do tr "\0" " " <"$f"; echo; done 2>/dev/null')
	check "$what: nobody reads the notebook's /proc/PID/cmdline" \
		bash -c 'grep -q "jupyter.*notebook" <<<"$1"' _ "$args"
	check "$what: the token is in no /proc/PID/cmdline nobody can read" \
		bash -c '! grep -qF -- "$1" <<<"$2"' _ "$tok" "$args"
	check "$what: nobody cannot read the notebook's environment" \
		bash -c '! runuser -u nobody -- cat "/proc/$1/environ" >/dev/null 2>&1' _ "$pid"
}

# token_enforced WHAT PORT TOKEN: the notebook wants the token, and takes it.
token_enforced() {
	local what=$1 port=$2 tok=$3 base="http://127.0.0.1:$2"
	check "$what: /api/contents without the token is refused (403)" \
		bash -c '[ "$1" = 403 ]' _ "$(http_code "$base/api/contents")"
	check "$what: /tree without the token redirects to the login page" \
		bash -c '[ "$1" = 302 ] && grep -qi "^location:.*/login" <<<"$2"' _ \
		"$(http_code "$base/tree")" "$(curl -s -D - -o /dev/null --max-time 10 "$base/tree")"
	check "$what: a wrong token is refused (403)" \
		bash -c '[ "$1" = 403 ]' _ "$(http_code "$base/api/contents" -H "Authorization: token x$tok")"
	check "$what: /api/contents with the token answers 200" \
		bash -c '[ "$1" = 200 ]' _ "$(http_code "$base/api/contents" -H "Authorization: token $tok")"
	check "$what: /tree?token= answers 200" \
		bash -c '[ "$1" = 200 ]' _ "$(http_code "$base/tree?token=$tok")"
}

# --- local provider ---
expect_rc 0 "launch the jupyter-notebook template locally" g launch jupyter-notebook --name nb
check "the local notebook is RUNNING" wait_state nb RUNNING 120
id=$(job_field nb id)
tok=$(cat "$T_HOME/state/secrets/$id.token")
url=$(job_field nb url)
port=${url##*:}
port=${port%%/*}
check "a token was generated" test "${#tok}" -ge 32
pgid=$(cut -d' ' -f1 "$T_HOME/state/jobs/$id/pid")
no_token_visible local "$tok" "$pgid"
token_enforced local "$port" "$tok"
expect_rc 0 "stop the local notebook" g stop nb

# --- ssh provider: the remote command line on the worker (this machine) ---
rig_workers 1 0
expect_rc 0 "launch the jupyter-notebook template on the ssh worker" \
	g launch jupyter-notebook --provider fleet --name rnb
check "the remote notebook is RUNNING" wait_state rnb RUNNING 120
rid=$(job_field rnb id)
rtok=$(cat "$T_HOME/state/secrets/$rid.token")
rurl=$(job_field rnb url)
rport=${rurl##*:}
rport=${rport%%/*}
rpid=$(cut -d' ' -f1 "$RIG_DIR/remote1/jobs/$rid/pid")
no_token_visible ssh "$rtok" "$rpid"
token_enforced ssh "$rport" "$rtok"
expect_rc 0 "stop the remote notebook" g stop rnb
t_done
