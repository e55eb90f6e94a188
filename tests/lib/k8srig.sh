# tests/lib/k8srig.sh: the Kubernetes API fake (tests/fakes/k8s_fake.py) for a test.
# Source it after common.sh (wait_for). The caller's EXIT trap must call k8srig_stop.
#
#   k8srig_start DIR [FAKE OPTIONS...]    e.g. k8srig_start "$T_HOME/k8s" --bookmark-interval 1
#
# makes DIR (0700) with a CA, a server certificate for 127.0.0.1/localhost and a client
# certificate (openssl, EC P-256), a bearer token (DIR/token, 0600), a second token that
# only the exec plugin hands out (DIR/exec-token), starts the fake over HTTPS on a free
# loopback port and writes three kubeconfig files (context "fake", namespace "default"):
#   DIR/kubeconfig        token auth (users[].user.token), CA by path (certificate-authority)
#   DIR/kubeconfig-cert   client certificate and key, all three PEMs inline (*-data)
#   DIR/kubeconfig-exec   an exec plugin (client.authentication.k8s.io/v1, DIR/exec-plugin)
#                         that prints an ExecCredential with DIR/exec-token; each run
#                         appends a line to DIR/exec-calls and saves KUBERNETES_EXEC_INFO in
#                         DIR/exec-info; DIR/exec-expiry (if present) becomes
#                         status.expirationTimestamp. Rewrite DIR/exec-token (and
#                         DIR/exec-tokens, the fake's list) to rotate the token.
# and exports:
#   K8S_URL          https://127.0.0.1:PORT (the API server)
#   K8S_CTL          the same base URL; the control API is under /_fake/ with its own token
#   K8S_CTL_TOKEN    the control token (never an API token)
#   K8S_DCGM_URL     http://127.0.0.1:PORT2/metrics (the DCGM exporter, plain HTTP)
#   K8S_FAKE_PID, K8S_DIR, K8S_CA (DIR/ca.crt), K8S_TOKEN_FILE (DIR/token),
#   K8S_CLIENT_CERT, K8S_CLIENT_KEY
#
#   k8s_ctl METHOD PATH [JSON]          the control API (PATH starts with /_fake/)
#   k8s_api METHOD PATH [JSON [CTYPE]]  the API with the token (CTYPE: application/json)
# Both print the response body and fail on a transport error, not on an HTTP status.
#   k8s_q PATH EXPR     GET a control PATH and print a Python expression over its JSON (d)
#   k8s_apiq PATH EXPR  the same over an API GET

K8S_FAKE_PID=
K8S_DIR=
K8S_FAKE_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")/../fakes" && pwd)/k8s_fake.py

k8srig_certs() {
	local d=$1 cnf
	cnf=$d/ext.cnf
	cat >"$cnf" <<-'EOF'
		[server]
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature
		extendedKeyUsage = serverAuth
		subjectAltName = IP:127.0.0.1, DNS:localhost
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid:always
		[client]
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature
		extendedKeyUsage = clientAuth
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid:always
	EOF
	(
		umask 077
		openssl ecparam -name prime256v1 -genkey -noout -out "$d/ca.key" &&
			openssl req -x509 -new -key "$d/ca.key" -subj /CN=gantry-fake-ca -days 3 \
				-addext "basicConstraints=critical,CA:TRUE" \
				-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$d/ca.crt" || exit 1
		for who in server client; do
			local cn=127.0.0.1
			[ "$who" = client ] && cn=gantry-test
			openssl ecparam -name prime256v1 -genkey -noout -out "$d/$who.key" &&
				openssl req -new -key "$d/$who.key" -subj "/O=system:masters/CN=$cn" \
					-out "$d/$who.csr" &&
				openssl x509 -req -in "$d/$who.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
					-CAcreateserial -days 3 -extfile "$cnf" -extensions "$who" \
					-out "$d/$who.crt" 2>/dev/null || exit 1
		done
	) || return 1
	[ -s "$d/ca.crt" ] && [ -s "$d/server.crt" ] && [ -s "$d/client.crt" ]
}

k8srig_start() {
	local dir=$1 port dport i
	shift
	if ! command -v openssl >/dev/null || ! command -v python3 >/dev/null ||
		! command -v curl >/dev/null; then
		echo "FAIL - k8srig needs openssl, python3 and curl"
		exit 1
	fi
	mkdir -p -m 0700 "$dir"
	K8S_DIR=$(cd "$dir" && pwd)
	if ! k8srig_certs "$K8S_DIR"; then
		echo "FAIL - k8srig: openssl could not make the certificates"
		exit 1
	fi
	local tok etok ctl
	tok=gantry-k8s-$(python3 -c 'import secrets; print(secrets.token_hex(16))')
	etok=gantry-k8s-exec-$(python3 -c 'import secrets; print(secrets.token_hex(16))')
	ctl=ctl-$(python3 -c 'import secrets; print(secrets.token_hex(16))')
	(
		umask 077
		printf '%s\n' "$tok" >"$K8S_DIR/token"
		printf '%s\n' "$etok" >"$K8S_DIR/exec-token"
		printf '%s\n' "$etok" >"$K8S_DIR/exec-tokens"
		printf '%s\n' "$ctl" >"$K8S_DIR/ctl_token"
	)
	: >"$K8S_DIR/exec-calls"
	cat >"$K8S_DIR/exec-plugin" <<-EOF
		#!/bin/sh
		# an exec credential plugin for the fake: prints an ExecCredential
		d='$K8S_DIR'
		echo call >>"\$d/exec-calls"
		printf '%s' "\$KUBERNETES_EXEC_INFO" >"\$d/exec-info"
		exp=
		[ -s "\$d/exec-expiry" ] && exp=",\"expirationTimestamp\":\"\$(cat "\$d/exec-expiry")\""
		printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"%s}}\n' "\$(cat "\$d/exec-token")" "\$exp"
	EOF
	chmod 0700 "$K8S_DIR/exec-plugin"
	mkdir -p -m 0700 "$K8S_DIR/work"
	python3 "$K8S_FAKE_PY" --tls-cert "$K8S_DIR/server.crt" --tls-key "$K8S_DIR/server.key" \
		--client-ca "$K8S_DIR/ca.crt" --token-file "$K8S_DIR/token" \
		--token-file "$K8S_DIR/exec-tokens" --ctl-token-file "$K8S_DIR/ctl_token" \
		--dir "$K8S_DIR/work" --pid-file "$K8S_DIR/pid" "$@" \
		>"$K8S_DIR/out" 2>"$K8S_DIR/fake.log" &
	K8S_FAKE_PID=$!
	if ! wait_for 15 grep -q '^PORT ' "$K8S_DIR/out"; then
		echo "FAIL - the Kubernetes fake did not start:"
		cat "$K8S_DIR/fake.log"
		exit 1
	fi
	port=$(sed -n 's/^PORT //p' "$K8S_DIR/out")
	dport=$(sed -n 's/^DCGM_PORT //p' "$K8S_DIR/out")
	export K8S_URL=https://127.0.0.1:$port K8S_CTL=https://127.0.0.1:$port
	export K8S_CTL_TOKEN=$ctl K8S_DCGM_URL=http://127.0.0.1:$dport/metrics
	export K8S_FAKE_PID K8S_DIR K8S_CA=$K8S_DIR/ca.crt K8S_TOKEN_FILE=$K8S_DIR/token
	export K8S_CLIENT_CERT=$K8S_DIR/client.crt K8S_CLIENT_KEY=$K8S_DIR/client.key

	local b64ca b64crt b64key
	b64ca=$(base64 -w0 <"$K8S_DIR/ca.crt")
	b64crt=$(base64 -w0 <"$K8S_DIR/client.crt")
	b64key=$(base64 -w0 <"$K8S_DIR/client.key")
	(
		umask 077
		k8srig_kubeconfig "certificate-authority: $K8S_DIR/ca.crt" fake-token \
			"    token: $tok" >"$K8S_DIR/kubeconfig"
		k8srig_kubeconfig "certificate-authority-data: $b64ca" fake-cert \
			"    client-certificate-data: $b64crt
    client-key-data: $b64key" >"$K8S_DIR/kubeconfig-cert"
		k8srig_kubeconfig "certificate-authority: $K8S_DIR/ca.crt" fake-exec \
			"    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: $K8S_DIR/exec-plugin
      args: []
      interactiveMode: Never
      provideClusterInfo: false" >"$K8S_DIR/kubeconfig-exec"
	)
	# ready: the API answers with the token
	if ! wait_for 10 curl -sf --cacert "$K8S_CA" -H "Authorization: Bearer $tok" \
		-o /dev/null "$K8S_URL/version"; then
		echo "FAIL - the Kubernetes fake does not answer over TLS:"
		cat "$K8S_DIR/fake.log"
		exit 1
	fi
}

# k8srig_kubeconfig CA_LINE USER USER_LINES
k8srig_kubeconfig() {
	cat <<-EOF
		apiVersion: v1
		kind: Config
		clusters:
		- name: fake
		  cluster:
		    server: $K8S_URL
		    $1
		contexts:
		- name: fake
		  context:
		    cluster: fake
		    user: $2
		    namespace: default
		current-context: fake
		preferences: {}
		users:
		- name: $2
		  user:
	EOF
	printf '%s\n' "$3"
}

k8srig_stop() {
	local i
	if [ -n "$K8S_FAKE_PID" ]; then
		kill -TERM "$K8S_FAKE_PID" 2>/dev/null || :
		for ((i = 0; i < 50; i++)); do
			kill -0 "$K8S_FAKE_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$K8S_FAKE_PID" 2>/dev/null || :
		wait "$K8S_FAKE_PID" 2>/dev/null || :
		K8S_FAKE_PID=
	fi
}

k8s_ctl() {
	curl -sS --cacert "$K8S_CA" -X "$1" -H "Authorization: Bearer $K8S_CTL_TOKEN" \
		${3:+-H 'Content-Type: application/json' --data-binary "$3"} "$K8S_CTL$2"
}

k8s_api() {
	curl -sS --cacert "$K8S_CA" -X "$1" -H "Authorization: Bearer $(cat "$K8S_TOKEN_FILE")" \
		${3:+-H "Content-Type: ${4:-application/json}" --data-binary "$3"} "$K8S_URL$2"
}

k8s_q() {
	k8s_ctl GET "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); v=eval(sys.argv[1]); print(v if isinstance(v,str) else json.dumps(v))' "$2"
}

k8s_apiq() {
	k8s_api GET "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); v=eval(sys.argv[1]); print(v if isinstance(v,str) else json.dumps(v))' "$2"
}
