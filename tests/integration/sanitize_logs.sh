#!/usr/bin/env bash
# A job that prints escape sequences and binary garbage: raw into a pipe, sanitised on a tty.
. "$(dirname "$0")/../lib/common.sh"

mkdir -p "$GANTRY_HOME/config/templates"
cat > "$GANTRY_HOME/config/templates/noisy.yaml" <<'YAML'
name: noisy
kind: training
description: prints escape sequences and binary bytes
run: |
  printf 'start\n\033[31mred\033[0m \033]0;pwned-title\007 \033[2J\033P1;2q\033\\ \233?25l bin:\001\002\377\376 end\n'
YAML
expect_rc 0 "launch noisy" g launch noisy --wait
check "to a pipe, logs are raw (the bytes are there)" bash -c '"$GANTRY_BIN" logs noisy-1 | grep -aq $'"'"'\033\]0;pwned-title'"'"
script -qfec "$GANTRY_BIN logs noisy-1" /dev/null >"$T_HOME/tty.out" </dev/null
check "on a terminal the text survives" grep -aq "red" "$T_HOME/tty.out"
check "on a terminal no ESC byte reaches it" bash -c "! grep -aq \$'\\033' '$T_HOME/tty.out'"
check "on a terminal no C1 CSI reaches it" bash -c "! LC_ALL=C grep -aq \$'\\233' '$T_HOME/tty.out'"
check "on a terminal no BEL or other C0 control reaches it" bash -c "! LC_ALL=C grep -aqP '[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]' <(tr -d '\\r' < '$T_HOME/tty.out')"
t_done
