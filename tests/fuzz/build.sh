#!/usr/bin/env bash
# Builds every libFuzzer target (tests/fuzz/fuzz_*.c) with clang -fsanitize=fuzzer,address,
# undefined. usage: tests/fuzz/build.sh SRCDIR BUILDDIR OUTDIR
# BUILDDIR is a configured build tree (its config.h is used). Needs clang and the libFuzzer
# runtime (Debian: clang and libclang-rt-14-dev); fails, saying so, without them.
set -euo pipefail
top=$1 build=$2 out=$3
cc=${FUZZ_CC:-clang}
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: '$cc' not found: install clang and libclang-rt-14-dev (./bootstrap test installs them)" >&2
	exit 1
fi
mkdir -p "$out"
probe=$out/.probe.c
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe"
if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$out/.probe" "$probe" 2>"$out/.probe.err"; then
	echo "fuzz: $cc cannot link libFuzzer (-fsanitize=fuzzer): install libclang-rt-14-dev" >&2
	cat "$out/.probe.err" >&2
	exit 1
fi
cflags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-Wall -Wextra -include "$build/config.h" -I"$top" -I"$build"
	-DGANTRY_PKGDATADIR='"/nonexistent/gantry-fuzz"' -DGANTRY_SYSCONFDIR='"/nonexistent/gantry-fuzz"')
libs=($(pkg-config --libs yaml-0.1 jansson) -lm)
c=$top/core
build_one() {
	local name=$1
	shift
	"$cc" "${cflags[@]}" -o "$out/$name" "$top/tests/fuzz/$name.c" "$@" "$c/xmalloc.c" "${libs[@]}"
}
# globs, so a new config_*.c or template_*.c part is linked in without a change here
build_one fuzz_template "$c"/template*.c "$c"/duration.c \
	"$c"/yaml_guard.c "$c"/kvlist.c
build_one fuzz_sanitize "$c"/sanitize.c
build_one fuzz_config "$c"/config*.c "$c"/yaml_guard.c "$c"/kvlist.c "$c"/safefile.c
build_one fuzz_nvsmi "$c"/nvsmi.c
build_one fuzz_catalog "$c"/catalog.c
build_one fuzz_kernels "$c"/tele_kernels.c
build_one fuzz_lambda_api "$top"/providers/lambda_api.c "$c"/sanitize.c
build_one fuzz_slurm_api "$top"/providers/slurm_api.c "$c"/sanitize.c "$c"/cluster.c "$c"/job.c \
	"$c"/kvlist.c
build_one fuzz_k8s_api "$top"/providers/k8s_api*.c "$top"/providers/k8s_kubeconfig.c \
	"$top"/providers/k8s_prom.c "$c"/sanitize.c "$c"/cluster.c "$c"/job.c "$c"/kvlist.c \
	"$c"/yaml_guard.c "$c"/http.c "$c"/loop.c "$c"/cred.c "$c"/safefile.c \
	-Wno-unused-parameter $(pkg-config --libs libcurl)
