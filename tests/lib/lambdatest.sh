# tests/lib/lambdatest.sh: shared pieces of the lambda provider's integration tests
# (tests/integration/lambda_*.sh), sourced after common.sh, sshrig.sh and lambdafake.sh
# (lambda_fake_start must have run before lambda_test_config).
#
#   lambda_test_config NAME KEYSETTING VALUE [EXTRA YAML LINES...]
#       writes config.yaml with one lambda provider NAME on the fake: its api_url, the key
#       setting (api_key_file PATH or api_key_env VAR), the workers' ssh user and port, job
#       directories under $RIG_DIR/lremote, fast polls, no rate limits (the fake's are off);
#       an extra line "KEY: VALUE" replaces the default of KEY
#   lambda_test_templates        user templates ltrain (training) and lnote (notebook)
#   lambda_test_launches JOBID   accepted launches (HTTP 200) naming the job ('' = all)
#   lambda_test_inst_status JOBID  status of the job's latest instance in the fake
#   lambda_test_inst_terminated JOBID  every instance of the job is terminating/terminated/gone
#   lambda_test_live             instances neither terminating, terminated nor gone
#   lambda_test_cleanup          kills the jobs' process groups on the workers (before
#                                lambda_fake_stop removes their directories)

lambda_test_config() {
	local name=$1 ks=$2 kv=$3 l d
	shift 3
	mkdir -p "$GANTRY_HOME/config" "$RIG_DIR/lremote"
	{
		echo "refresh_ms: 300"
		echo "providers:"
		echo "  $name:"
		echo "    type: lambda"
		echo "    api_url: $LAMBDA_FAKE_URL/api/v1"
		echo "    $ks: $kv"
		for d in "ssh_user: $LAMBDA_FAKE_SSH_USER" "ssh_port: $LAMBDA_FAKE_SSH_PORT" \
			"dir: $RIG_DIR/lremote" "boot_timeout: 60s" "poll_interval: 1s" \
			"rate_limit: 0" "launch_interval: 0"; do
			for l in "$@"; do [ "${l%%:*}" != "${d%%:*}" ] || continue 2; done
			echo "    $d"
		done
		for l in "$@"; do echo "    $l"; done
	} >"$GANTRY_HOME/config/config.yaml"
}

lambda_test_templates() {
	mkdir -p "$GANTRY_HOME/config/templates"
	cat >"$GANTRY_HOME/config/templates/ltrain.yaml" <<'EOT'
name: ltrain
kind: training
description: A short training run that says where it ran.
params:
  secs:
    type: int
    default: 1
resources:
  accelerators: none
run: |
  echo "train-start job=$GANTRY_JOB_ID"
  sleep {{secs}}
  echo "train-done on $(hostname)"
EOT
	cat >"$GANTRY_HOME/config/templates/lnote.yaml" <<'EOT'
name: lnote
kind: notebook
description: A stand-in notebook server (python3 http.server) on the instance.
resources:
  accelerators: none
service:
  readiness: /
  readiness_timeout: 30
run: |
  mkdir -p nb && echo notebook > nb/index.html
  echo notebook-up
  exec python3 -m http.server --bind 127.0.0.1 --directory nb "$GANTRY_PORT"
EOT
}

lambda_test_launches() {
	lambda_fake_q /_fake/log 'sum(1 for e in d["data"] if e["path"].endswith("/instance-operations/launch") and e["status"] == 200 and ("gantry-'"$1"'" in ((e["json"] or {}).get("name") or "")))'
}

lambda_test_inst_status() {
	lambda_fake_q /_fake/state '([i["status"] for i in d["data"]["instances"] if (i.get("name") or "").startswith("gantry-'"$1"'-")] or ["none"])[-1]'
}

lambda_test_inst_terminated() {
	[ "$(lambda_fake_q /_fake/state 'sum(1 for i in d["data"]["instances"] if (i.get("name") or "").startswith("gantry-'"$1"'-") and not (i["_fake"]["gone"] or i["status"] in ("terminating", "terminated")))')" = 0 ] &&
		[ "$(lambda_fake_q /_fake/state 'sum(1 for i in d["data"]["instances"] if (i.get("name") or "").startswith("gantry-'"$1"'-"))')" -ge 1 ]
}

lambda_test_live() {
	lambda_fake_q /_fake/state 'sum(1 for i in d["data"]["instances"] if not (i["_fake"]["gone"] or i["status"] in ("terminating", "terminated")))'
}

lambda_test_cleanup() {
	local f
	[ -n "${RIG_DIR:-}" ] || return 0
	for f in "$RIG_DIR"/lremote/*/jobs/*/wrapper "$RIG_DIR"/lremote/*/jobs/*/pid; do
		[ -s "$f" ] || continue
		kill -KILL -- "-$(cut -d' ' -f1 "$f")" 2>/dev/null || :
	done
}

export -f lambda_test_launches lambda_test_inst_status lambda_test_inst_terminated \
	lambda_test_live lambda_fake_q lambda_fake_ctl
