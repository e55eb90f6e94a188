#!/usr/bin/env bash
# open_url.sh: `gantry open` and `gantry forward` give a notebook URL that opens, with its
# token, for a job on this host (the real Jupyter from Debian); the URL goes to the
# clipboard with OSC 52 only when stdout is a terminal and it is not turned off.
. "$(dirname "$0")/../lib/common.sh"

for tool in jupyter curl script python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL - $tool is missing (./bootstrap installs jupyter-notebook, curl, util-linux)"
		exit 1
	fi
done
unset TMUX STY

# lands URL: "CODE EFFECTIVE_URL" after following redirects
lands() { curl -sS -L -o /dev/null -w '%{http_code} %{url_effective}' --max-time 20 "$1"; }

expect_rc 0 "launch jupyter-notebook" g launch jupyter-notebook --name nb --timeout 150
check "the notebook runs" wait_state nb RUNNING 150

expect_rc 0 "gantry open --print on a local notebook" g open --print nb
url=$(cat "$T_HOME/out")
check "it prints exactly one line, the URL" bash -c "[ \$(wc -l <'$T_HOME/out') = 1 ] && [[ '$url' == http://127.0.0.1:*'?token='* ]]"
port=$(job_field nb port)
check "the URL is the job's own 127.0.0.1 port" bash -c "[[ '$url' == http://127.0.0.1:$port/* ]]"
got=$(lands "$url")
check "the URL opens the notebook (200, not the login page): $got" \
	bash -c "[[ '$got' == '200 '* && '$got' != *'/login'* ]]"
# the same check catches a URL without the token: it lands on the login page
got=$(lands "${url%%\?*}")
check "without the token it is the login page (the check above means something): $got" \
	bash -c "[[ '$got' == *'/login'* ]]"

expect_rc 0 "gantry forward on a local job exits 0" timeout 20 "$GANTRY_BIN" forward nb
check "forward prints the URL with its token" grep -qF "$url" "$T_HOME/out"
expect_rc 0 "gantry forward on a local job, another port" timeout 20 "$GANTRY_BIN" forward nb 9
check "forward prints that port on 127.0.0.1" grep -qF "http://127.0.0.1:9/" "$T_HOME/out"
check "show gives the same URL" bash -c "[ \"\$(job_field nb url)\" = '$url' ]"

# --- the clipboard: OSC 52 on a terminal (script gives the command a pty)
b64=$(printf '%s' "$url" | base64 -w0)
osc=$(printf '\033]52;c;%s\a' "$b64")
pty() { TERM=xterm script -qec "$*" /dev/null </dev/null; }
pty "$GANTRY_BIN" open nb >"$T_HOME/pty" 2>&1
check "on a terminal: the OSC 52 sequence with the URL, base64" grep -qaF "$osc" "$T_HOME/pty"
check "on a terminal: the URL is printed too" grep -qaF "$url" "$T_HOME/pty"
check "on a terminal: it says it copied" grep -qa "Copied to the clipboard" "$T_HOME/pty"
pty "$GANTRY_BIN" open --no-clipboard nb >"$T_HOME/pty" 2>&1
check "--no-clipboard: no OSC 52, the URL printed" bash -c "! grep -qa \$'\\033]52' '$T_HOME/pty' && grep -qaF '$url' '$T_HOME/pty'"
pty "$GANTRY_BIN" open --print nb >"$T_HOME/pty" 2>&1
check "--print: no OSC 52, only the URL" bash -c "! grep -qa \$'\\033]52' '$T_HOME/pty' && [ \"\$(tr -d '\\r' <'$T_HOME/pty')\" = '$url' ]"
GANTRY_NO_CLIPBOARD=1 pty "$GANTRY_BIN" open nb >"$T_HOME/pty" 2>&1
check "GANTRY_NO_CLIPBOARD=1: no OSC 52" bash -c "! grep -qa \$'\\033]52' '$T_HOME/pty'"
TERM=dumb script -qec "$GANTRY_BIN open nb" /dev/null </dev/null >"$T_HOME/pty" 2>&1
check "TERM=dumb: no OSC 52" bash -c "! grep -qa \$'\\033]52' '$T_HOME/pty'"
expect_rc 0 "stdout not a terminal: gantry open" g open nb
check "stdout not a terminal: no escape, just the URL" bash -c "[ \"\$(cat '$T_HOME/out')\" = '$url' ]"

# --- refusals
expect_rc 3 "open an unknown job" g open no-such-job
expect_rc 0 "launch hello (no URL)" g launch hello --wait
expect_rc 1 "open an ended job" g open hello-1
check "it says the job ended" grep -q "ended" "$T_HOME/err"
expect_rc 0 "stop the notebook" g stop nb
expect_rc 1 "open a stopped notebook" g open nb

t_done
