#!/usr/bin/env bash
# lambda_secrets.sh: a canary API key, given as api_key_file and as api_key_env, never shows
# up where Gantry writes or prints: the store (sqlite dump), Gantry's state and logs, the
# job's log and environment on the instance, errors, `-o json`. The fake checks that it was
# sent (every request authenticated with it). A refused key gives one clear line, without
# the key or the API's text about it.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
. "$here/../lib/lambdafake.sh"
. "$here/../lib/lambdatest.sh"
trap 'lambda_test_cleanup; lambda_fake_stop; t_cleanup' EXIT

CANARY=canary$(python3 -c 'import secrets; print(secrets.token_hex(12))')
LAMBDA_FAKE_KEY=$CANARY
lambda_fake_start 2 --boot-delay 0.3
lambda_test_templates
cat >"$GANTRY_HOME/config/templates/lenv.yaml" <<'EOF'
name: lenv
kind: training
description: Prints its whole environment.
resources:
  accelerators: none
run: |
  env
  echo env-done
EOF
out=$T_HOME/all-output
: >"$out"

# no_canary WHAT: the canary is nowhere in Gantry's home (store, state, logs, config), the
# workers' job directories, or what the commands printed
no_canary() {
	local hits
	sqlite3 "$T_HOME/state/gantry.db" .dump >"$T_HOME/dump.sql"
	hits=$(grep -rlaF -- "$CANARY" "$T_HOME" "$RIG_DIR/lremote" 2>/dev/null | grep -v '/all-output$' || :)
	if [ -n "$hits" ]; then
		echo "  canary found in: $hits" >&2
		return 1
	fi
	! grep -qaF -- "$CANARY" "$out"
}

run_variant() { # NAME: launch, log, json, errors with the key as configured
	local v=$1 j
	expect_rc 0 "[$v] launch a job that prints its environment" g launch lenv --provider lam --name "env-$v"
	cat "$T_HOME/out" "$T_HOME/err" >>"$out"
	check "[$v] it SUCCEEDED" wait_state "env-$v" SUCCEEDED 90
	g logs "env-$v" >>"$out" 2>&1 || :
	check "[$v] its log is there (over SSH)" grep -q '^env-done' "$out"
	j=$(job_field "env-$v" id)
	check "[$v] the fake saw the key: every request authenticated" \
		test "$(lambda_fake_q /_fake/log 'sum(1 for e in d["data"] if e["auth"] != "bearer" and not e.get("fault"))')" = 0
	check "[$v] a launch was accepted for the job" test "$(lambda_test_launches "$j")" = 1
	g ls -o json >>"$out" 2>&1 || :
	g show "env-$v" -o json >>"$out" 2>&1 || :
	g offers ltrain --provider lam -o json >>"$out" 2>&1 || :
	g reconcile -o json >>"$out" 2>&1 || :
	# an error path: a launch the fake refuses (a 500 on the launch)
	lambda_fake_ctl POST /_fake/faults '{"kind": "status", "status": 400, "code": "global/invalid-parameters", "path": "/api/v1/instance-operations/launch"}' >/dev/null
	expect_rc 1 "[$v] a refused launch fails" g launch ltrain --provider lam --name "bad-$v"
	cat "$T_HOME/out" "$T_HOME/err" >>"$out"
	check "[$v] its error is one line with its class" grep -q 'global/invalid-parameters.*\[invalid\]' "$T_HOME/err"
	check "[$v] the canary is nowhere (store, logs, job env, errors, json)" no_canary
}

# --- the key in a file (0600)
lambda_test_config lam api_key_file "$LAMBDA_FAKE_KEY_FILE"
run_variant file

# --- the key in Gantry's environment
lambda_test_config lam api_key_env GANTRY_TEST_LAMBDA_KEY
export GANTRY_TEST_LAMBDA_KEY=$CANARY
run_variant env
unset GANTRY_TEST_LAMBDA_KEY

# --- a refused key: one line, the class, not the key nor the API's words about it
WRONG=wrong$(python3 -c 'import secrets; print(secrets.token_hex(12))')
printf '%s\n' "$WRONG" >"$T_HOME/badkey"
chmod 600 "$T_HOME/badkey"
lambda_test_config lam api_key_file "$T_HOME/badkey"
rc=0
g launch ltrain --provider lam --name refused >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
check "a launch with a refused key fails (exit $rc)" test "$rc" -ne 0
cat "$T_HOME/out" "$T_HOME/err" >>"$out"
check "it says so clearly: lam: ... API key refused (global/invalid-api-key)" \
	grep -q 'lam: .*API key refused (global/invalid-api-key)' "$T_HOME/err"
check "the refused key is not echoed" bash -c "! grep -qF '$WRONG' '$T_HOME/err'"
g doctor >>"$out" 2>&1 || :
check "the canary is nowhere after the refusals" no_canary
# a key file others can read is refused before any request
chmod 644 "$T_HOME/badkey"
rc=0
g launch ltrain --provider lam --name loose >"$T_HOME/out" 2>"$T_HOME/err" || rc=$?
check "a key file readable by others is refused (exit $rc)" test "$rc" -ne 0
check "naming the setting and the chmod, not the value" bash -c "grep -q 'api_key_file: .*chmod 600' '$T_HOME/err' && ! grep -qF '$WRONG' '$T_HOME/err'"

t_done
