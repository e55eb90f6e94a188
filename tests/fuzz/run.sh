#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/build.sh) and runs each on a copy of its seed
# corpus: tests/fuzz/corpus/TARGET/ (crashes found before are kept there as regression
# seeds) plus the repository's own examples (templates, test data, the catalog).
# usage: tests/fuzz/run.sh SRCDIR BUILDDIR [SECONDS]
#   SECONDS given: fuzz each target that long (`make fuzz`, FUZZ_SECONDS=60 by default);
#   else run each for FUZZ_RUNS inputs (2000) with a fixed seed (`make check`).
# A crash, leak, sanitiser report or a 10 s hang fails; the input is left as
# BUILDDIR/tests/fuzz/crash-TARGET-* and the log as BUILDDIR/tests/fuzz/fuzz_TARGET.log.
set -euo pipefail
top=$(cd "$1" && pwd) build=$(cd "$2" && pwd) secs=${3:-}
out=$build/tests/fuzz
"$top/tests/fuzz/build.sh" "$top" "$build" "$out/bin"
work=$(mktemp -d "${TMPDIR:-/tmp}/gantry-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -n "$secs" ]; then
	budget=(-max_total_time="$secs")
else
	budget=(-runs="${FUZZ_RUNS:-2000}" -seed=1)
fi
fails=0
for t in template sanitize config nvsmi catalog kernels lambda_api slurm_api k8s_api; do
	corpus=$work/$t
	mkdir -p "$corpus"
	for f in "$top/tests/fuzz/corpus/$t"/*; do
		[ -f "$f" ] && cp "$f" "$corpus/"
	done
	case $t in
	template) cp "$top"/templates/*.yaml "$top"/tests/data/templates/*/*.* "$corpus/" ;;
	config) cp "$top"/tests/data/templates/good/*.yaml "$corpus/" ;;
	slurm_api) cp "$top"/tests/data/slurm/*.json "$corpus/" ;;
	k8s_api) cp "$top"/tests/data/k8s/*.* "$top"/tests/data/k8s/kubeconfig/* "$corpus/" ;;
	esac
	rm -f "$out/crash-$t-"*
	if "$out/bin/fuzz_$t" "${budget[@]}" -timeout=10 -max_len=65536 -detect_leaks=1 \
		-artifact_prefix="$out/crash-$t-" "$corpus" >"$out/fuzz_$t.log" 2>&1; then
		echo "ok - fuzz_$t: $(grep -Eo '(Done [0-9]+ runs|#[0-9]+ +DONE).*' "$out/fuzz_$t.log" | tail -1)"
	else
		fails=$((fails + 1))
		echo "FAIL - fuzz_$t: see $out/fuzz_$t.log; input kept as $(ls "$out/crash-$t-"* 2>/dev/null | head -1)"
		grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ +in ' "$out/fuzz_$t.log" | head -20
	fi
done
[ "$fails" -eq 0 ]
