# tests/lib/lambdafake.sh: the Lambda Cloud API fake (tests/fakes/lambda_fake.py) plus N real
# sshd workers for a test. Source it after common.sh (GANTRY_HOME, wait_for) and sshrig.sh;
# the caller's EXIT trap must call lambda_fake_stop (it also stops the workers).
#
#   lambda_fake_start N [FAKE ARGS...]   e.g. lambda_fake_start 2 --boot-delay 0.5
#
# starts N loopback workers (rig_workers: 127.0.0.2.., all on one port, fake nvidia-smi) and
# the fake with those workers, and exports:
#   LAMBDA_FAKE_URL        http://127.0.0.1:PORT (the API is under /api/v1 of it)
#   LAMBDA_FAKE_KEY        the API key the fake accepts (preset it to choose one, e.g. a canary)
#   LAMBDA_FAKE_KEY_FILE   the same key in a 0600 file (for api_key_file:)
#   LAMBDA_FAKE_CTL        the control token of /_fake/ (never the API key)
#   LAMBDA_FAKE_SSH_PORT   the port every worker's sshd listens on (the provider's ssh_port)
#   LAMBDA_FAKE_SSH_USER   the login user of the workers (root here)
#   LAMBDA_FAKE_PID, LAMBDA_FAKE_DIR (fake.log holds the fake's stderr)
# rig_workers writes an ssh "fleet" config.yaml; it is moved to $LAMBDA_FAKE_DIR/fleet.yaml
# and GANTRY_HOME/config/config.yaml is left as it was (write your own lambda config).
#
#   lambda_fake_ctl METHOD PATH [JSON]   the control API (e.g. POST /_fake/faults '{...}')
#   lambda_fake_api METHOD PATH [JSON]   the Lambda API with the key (PATH after /api/v1)
# Both print the response body; they fail on a transport error, not on an HTTP error status.
#   lambda_fake_q PATH EXPR              GET a control PATH and print a Python expression over
#                                        its JSON (d), e.g. the accepted launches of job j1:
#   lambda_fake_q /_fake/log 'sum(1 for e in d["data"] if e["path"].endswith("/launch")
#                               and e["status"] == 200 and "j1" in (e["json"] or {}).get("name", ""))'

LAMBDA_FAKE_PID=
LAMBDA_FAKE_DIR=
LAMBDA_FAKE_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")/../fakes" && pwd)/lambda_fake.py

lambda_fake_start() {
	local n=$1 i user cfg had_cfg=0 port
	shift
	cfg=$GANTRY_HOME/config/config.yaml
	if [ -e "$cfg" ]; then
		had_cfg=1
		cp -p "$cfg" "$cfg.lambdafake-saved"
	fi
	rig_workers "$n"
	LAMBDA_FAKE_DIR=$RIG_DIR/lambdafake
	mkdir -m 0700 "$LAMBDA_FAKE_DIR"
	mv "$cfg" "$LAMBDA_FAKE_DIR/fleet.yaml"
	if [ "$had_cfg" = 1 ]; then mv "$cfg.lambdafake-saved" "$cfg"; fi

	: "${LAMBDA_FAKE_KEY:=secret_gantry-test_$(python3 -c 'import secrets; print(secrets.token_hex(16))')}"
	LAMBDA_FAKE_CTL=ctl_$(python3 -c 'import secrets; print(secrets.token_hex(16))')
	LAMBDA_FAKE_KEY_FILE=$LAMBDA_FAKE_DIR/api_key
	(umask 077 && printf '%s\n' "$LAMBDA_FAKE_KEY" >"$LAMBDA_FAKE_KEY_FILE" &&
		printf '%s\n' "$LAMBDA_FAKE_CTL" >"$LAMBDA_FAKE_DIR/ctl_token")
	user=${SSH_TEST_USER:-root}
	local wargs=()
	for ((i = 1; i <= n; i++)); do
		wargs+=(--worker "127.0.0.$((i + 1)):$RIG_PORT:$RIG_DIR/workers/w$i/authorized_keys/$user")
	done
	python3 "$LAMBDA_FAKE_PY" --api-key-file "$LAMBDA_FAKE_KEY_FILE" \
		--ctl-token-file "$LAMBDA_FAKE_DIR/ctl_token" --pid-file "$LAMBDA_FAKE_DIR/pid" \
		"${wargs[@]}" "$@" >"$LAMBDA_FAKE_DIR/out" 2>"$LAMBDA_FAKE_DIR/fake.log" &
	LAMBDA_FAKE_PID=$!
	if ! wait_for 10 grep -q '^PORT ' "$LAMBDA_FAKE_DIR/out"; then
		echo "FAIL - the Lambda fake did not start:"
		cat "$LAMBDA_FAKE_DIR/fake.log"
		exit 1
	fi
	port=$(sed -n 's/^PORT //p' "$LAMBDA_FAKE_DIR/out")
	export LAMBDA_FAKE_URL=http://127.0.0.1:$port
	export LAMBDA_FAKE_KEY LAMBDA_FAKE_KEY_FILE LAMBDA_FAKE_CTL LAMBDA_FAKE_PID LAMBDA_FAKE_DIR
	export LAMBDA_FAKE_SSH_PORT=$RIG_PORT LAMBDA_FAKE_SSH_USER=$user
}

lambda_fake_stop() {
	local i
	if [ -n "$LAMBDA_FAKE_PID" ]; then
		kill -TERM "$LAMBDA_FAKE_PID" 2>/dev/null || :
		for ((i = 0; i < 50; i++)); do
			kill -0 "$LAMBDA_FAKE_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$LAMBDA_FAKE_PID" 2>/dev/null || :
		wait "$LAMBDA_FAKE_PID" 2>/dev/null || :
		LAMBDA_FAKE_PID=
	fi
	rig_cleanup
}

lambda_fake_ctl() {
	curl -sS -X "$1" -H "Authorization: Bearer $LAMBDA_FAKE_CTL" \
		${3:+-H 'Content-Type: application/json' --data-binary "$3"} "$LAMBDA_FAKE_URL$2"
}

lambda_fake_api() {
	curl -sS -X "$1" -H "Authorization: Bearer $LAMBDA_FAKE_KEY" \
		${3:+-H 'Content-Type: application/json' --data-binary "$3"} "$LAMBDA_FAKE_URL/api/v1$2"
}

lambda_fake_q() {
	lambda_fake_ctl GET "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); v=eval(sys.argv[1]); print(v if isinstance(v,str) else json.dumps(v))' "$2"
}
