#!/usr/bin/env bash
# --accept-new never writes known_hosts through a link another user planted, nor into a file
# of another user's; a link of your own (dotfiles) is followed. Run as root with `nobody` as
# the attacker, in a directory others can write (as a careless shared folder would be).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../ssh/rig.sh"

if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then
	echo "SKIP: needs root and a user nobody"
	exit 77
fi
W=$T_HOME/w
mkdir -p "$W/shared"
chmod 0711 "$T_HOME"
chmod 0777 "$W" "$W/shared"
rig_start A
O=(--host "$A_HOST" --port "$A_PORT" --user root --key "$A_KEY" --accept-new)

echo "# precious" >"$W/victim" # parses as known_hosts: the old code appended to it
runuser -u nobody -- ln -s "$W/victim" "$W/shared/known_hosts"
rc=0
"$SSHTOOL" exec "${O[@]}" --known-hosts "$W/shared/known_hosts" true >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
check "a known_hosts link planted by nobody is not written through (exit $rc)" \
	test "$(cat "$W/victim")" = "# precious"
check "... and the reason is given" grep -q "symbolic link owned by another user" "$T_HOME/err"

runuser -u nobody -- sh -c "printf '' >'$W/shared/kh2'"
rc=0
"$SSHTOOL" exec "${O[@]}" --known-hosts "$W/shared/kh2" true >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
check "a known_hosts file of nobody's is not written (exit $rc)" test ! -s "$W/shared/kh2"

mkdir -p "$T_HOME/dot"
: >"$T_HOME/dot/known_hosts"
ln -s "$T_HOME/dot/known_hosts" "$T_HOME/kh_link"
expect_rc 0 "a known_hosts link of your own is followed" \
	"$SSHTOOL" exec "${O[@]}" --known-hosts "$T_HOME/kh_link" true
check "... the key recorded in its target" grep -q "^\[127.0.0.1\]:$A_PORT ssh-ed25519 " "$T_HOME/dot/known_hosts"
t_done
