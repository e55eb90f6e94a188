# tests/lib/k8swstool.sh: what the WebSocket tests (tests/integration/k8s_shell.sh,
# k8s_forward.sh) need, sourced after common.sh: the rig (tests/lib/k8srig.sh, or $K8S_RIG),
# TOOLS (tests/k8s: podserver.py, ptydrive.py) and WSTOOL (the built tests/k8s/wstool);
# fails when one of them or a command they use is missing.
RIG=${K8S_RIG:-$GANTRY_SRCDIR/tests/lib/k8srig.sh}
TOOLS=$(cd "$GANTRY_SRCDIR/tests/k8s" && pwd)
WSTOOL=$(cd "$(dirname "$GANTRY_BIN")" && pwd)/tests/k8s/wstool
if [ ! -x "$WSTOOL" ]; then
	echo "FAIL - $WSTOOL not built (make check builds it)"
	exit 1
fi
for tool in curl openssl python3 sha256sum; do
	command -v "$tool" >/dev/null || {
		echo "FAIL - $tool is missing"
		exit 1
	}
done
. "$RIG"
