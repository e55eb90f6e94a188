#!/usr/bin/env bash
# make check: every libFuzzer target, 2000 inputs each from the seed corpus (a fixed seed).
# Without clang and libFuzzer (libclang-rt-14-dev) this FAILS, saying what to install: the
# parsers of untrusted input must not go unfuzzed because a package is missing.
set -euo pipefail
top=${GANTRY_SRCDIR:?GANTRY_SRCDIR must name the source tree (make check sets it)}
build=$(cd "$(dirname "${GANTRY_BIN:?GANTRY_BIN must name the gantry binary}")" && pwd)
exec bash "$top/tests/fuzz/run.sh" "$top" "$build"
