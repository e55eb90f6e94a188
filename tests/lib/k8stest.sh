# tests/lib/k8stest.sh: shared pieces of the kubernetes provider's integration tests
# (tests/integration/k8s_*.sh, tests/tui/k8s_jobs.sh), sourced after common.sh and
# k8srig.sh (k8srig_start must have run before k8s_test_config).
#
#   k8s_test_config NAME [EXTRA YAML LINES...]
#       writes config.yaml with one kubernetes provider NAME on the fake: its kubeconfig
#       (K8S_TEST_KUBECONFIG, default $K8S_DIR/kubeconfig), namespace default, team
#       "vision" in namespace team-vision, spot nodes, site rates, the DCGM exporter; an extra
#       line "KEY: VALUE" replaces the default of KEY
#   k8s_test_templates     user templates knote (notebook), ktrain (training, 1 H100),
#                          kmulti (training, 2 nodes), kserve (endpoint, HPA 1..4)

k8s_test_config() {
	local name=$1 l d
	shift
	mkdir -p "$GANTRY_HOME/config"
	{
		echo "refresh_ms: 300"
		echo "providers:"
		echo "  $name:"
		echo "    type: kubernetes"
		for d in "kubeconfig: ${K8S_TEST_KUBECONFIG:-$K8S_DIR/kubeconfig}" \
			"namespace: default" "namespaces: {vision: team-vision}" \
			"spot_label: gantry.dev/spot" "rate_gpu_hour: 2.0" "rate_cpu_hour: 0.05" \
			"dcgm_url: $K8S_DCGM_URL" "poll_interval: 1s" "request_timeout: 10s"; do
			for l in "$@"; do [ "${l%%:*}" != "${d%%:*}" ] || continue 2; done
			echo "    $d"
		done
		for l in "$@"; do echo "    $l"; done
	} >"$GANTRY_HOME/config/config.yaml"
}

k8s_test_templates() {
	mkdir -p "$GANTRY_HOME/config/templates"
	cat >"$GANTRY_HOME/config/templates/knote.yaml" <<'EOT'
name: knote
kind: notebook
description: A stand-in notebook server (python3 http.server) in a pod.
image: python:3.11-slim
resources:
  accelerators: none
  cpus: 1
service:
  readiness: /
  readiness_timeout: 30
run: |
  echo "note-start job=$GANTRY_JOB_ID port=$GANTRY_PORT tok=$(printf %s "${GANTRY_TOKEN:-}" | sha256sum | cut -c1-16)"
  exec python3 -m http.server "$GANTRY_PORT" --bind 127.0.0.1
EOT
	cat >"$GANTRY_HOME/config/templates/ktrain.yaml" <<'EOT'
name: ktrain
kind: training
description: A short training run on one H100.
image: python:3.11-slim
params:
  secs:
    type: int
    default: 1
resources:
  accelerators: H100:1
limits:
  max_runtime: 10m
run: |
  echo "train-start job=$GANTRY_JOB_ID gpus=$GANTRY_GPUS"
  sleep {{secs}}
  echo "train-done"
EOT
	cat >"$GANTRY_HOME/config/templates/kmulti.yaml" <<'EOT'
name: kmulti
kind: training
description: Two workers of an indexed Job, each saying its rank.
image: python:3.11-slim
params:
  secs:
    type: int
    default: 1
resources:
  accelerators: none
  nodes: 2
run: |
  echo "rank=$RANK world=$WORLD_SIZE master=$MASTER_ADDR"
  sleep {{secs}}
EOT
	cat >"$GANTRY_HOME/config/templates/kserve.yaml" <<'EOT'
name: kserve
kind: endpoint
description: An autoscaled stand-in endpoint.
image: python:3.11-slim
resources:
  accelerators: none
  cpus: 1
service:
  readiness: /
  readiness_timeout: 30
  replicas:
    min: 1
    max: 4
  target_qps_per_replica: 25
run: |
  echo "serve-start job=$GANTRY_JOB_ID"
  exec python3 -m http.server "$GANTRY_PORT" --bind 127.0.0.1
EOT
}

