#!/usr/bin/env bash
# Builds and runs the libFuzzer targets for SECONDS each (default 60). Needs clang and
# Debian's libclang-rt-14-dev (libFuzzer). usage: tests/fuzz/run.sh [SECONDS]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${TMPDIR:-/tmp}/gantry-fuzz
mkdir -p "$out"
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -include $top/build/config.h -I$top"
libs="$(pkg-config --libs yaml-0.1 jansson)"
clang $cflags -o "$out/fuzz_template" "$top/tests/fuzz/fuzz_template.c" \
	"$top"/core/template*.c "$top/core/xmalloc.c" "$top/core/kvlist.c" $libs
clang $cflags -o "$out/fuzz_sanitize" "$top/tests/fuzz/fuzz_sanitize.c" \
	"$top/core/sanitize.c" "$top/core/xmalloc.c"
mkdir -p "$out/corpus-template" "$out/corpus-sanitize"
cp "$top"/templates/*.yaml "$top"/tests/data/templates/*/*.* "$out/corpus-template/" 2>/dev/null || :
"$out/fuzz_template" -max_total_time="${1:-60}" "$out/corpus-template"
"$out/fuzz_sanitize" -max_total_time="${1:-60}" "$out/corpus-sanitize"
