#!/usr/bin/env bash
# Layering: the faces (tui/) reach SSH, providers and the local supervisor only through
# core/engine.h. Fails naming FILE:LINE for every libssh2 or core/ssh* include, every
# providers/ include and every call of an ssh_*, provider_* or local_* function in
# tui/*.c and tui/*.h.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
shopt -s nullglob
files=(tui/*.c tui/*.h)
if [ ${#files[@]} -eq 0 ]; then
	echo "FAIL - no tui/*.c or tui/*.h under $top"
	exit 1
fi
bad=0
report() { # PATTERN WHY
	local hits
	# comments are not code: drop // and /* */ one-line comments before matching
	hits=$(grep -nE -- "$1" "${files[@]}" | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)' || :)
	if [ -n "$hits" ]; then
		while IFS= read -r h; do
			printf 'FAIL - %s: %s\n' "$(cut -d: -f1,2 <<<"$h")" "$2"
		done <<<"$hits"
		bad=$((bad + 1))
	fi
}
report '#[[:space:]]*include[[:space:]]*<libssh2' "includes libssh2 (use core/engine.h)"
report '#[[:space:]]*include[[:space:]]*"core/ssh' "includes core/ssh* (use core/engine.h)"
report '#[[:space:]]*include[[:space:]]*"providers/' "includes providers/ (use core/engine.h)"
report '(^|[^A-Za-z0-9_.>])(ssh|provider|local)_[A-Za-z0-9_]*[[:space:]]*\(' \
	"calls an ssh_/provider_/local_ function (use an engine_ operation)"
if [ "$bad" -ne 0 ]; then
	echo "FAIL - tui/ bypasses the engine (see above)"
	exit 1
fi
echo "ok - tui/ (${#files[@]} files) reaches SSH, providers and the supervisor only through the engine"
