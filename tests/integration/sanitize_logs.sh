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

# An unterminated OSC/DCS (ESC and C1 forms, one past the length cap) must not swallow the lines
# after it; bidi controls and zero-width characters are dropped, other UTF-8 text stays.
cat > "$GANTRY_HOME/config/templates/unterm.yaml" <<'YAML'
name: unterm
kind: training
description: prints unterminated control strings, bidi and zero-width characters
run: |
  printf 'before\n\033]0;open title\nafter-osc\n\302\235c1 osc open\nafter-c1\n\033Pdcs open\nafter-dcs\n'
  printf '\033]52;c;'; head -c 5000 /dev/zero | tr '\0' x; printf '|after-cap\n'
  printf 'bidi:\342\200\256drowssap\342\200\254 zw:a\342\200\213b\342\200\215c\357\273\277d\342\201\240e end\n'
  printf 'text: caf\303\251 \346\227\245\346\234\254 \360\237\230\200 ok\n'
YAML
expect_rc 0 "launch unterm" g launch unterm --wait
script -qfec "$GANTRY_BIN logs unterm-1" /dev/null </dev/null | tr -d '\r' >"$T_HOME/unterm.out"
for l in after-osc after-c1 after-dcs; do
	check "the line after an unterminated string shows ($l)" grep -qx "$l" "$T_HOME/unterm.out"
done
check "a string longer than the cap ends there" grep -q '^x*|after-cap$' "$T_HOME/unterm.out"
check "the string payloads are gone" bash -c "! grep -aq 'open' '$T_HOME/unterm.out'"
check "bidi and zero-width characters are dropped, their text stays" \
	grep -qx 'bidi:drowssap zw:abcde end' "$T_HOME/unterm.out"
check "accents, CJK and emoji stay" grep -qx $'text: caf\303\251 \346\227\245\346\234\254 \360\237\230\200 ok' "$T_HOME/unterm.out"
check "no ESC reaches the terminal" bash -c "! grep -aq \$'\\033' '$T_HOME/unterm.out'"

# The follow path: the OSC opens in one chunk and its line ends in a later one.
cat > "$GANTRY_HOME/config/templates/follow.yaml" <<YAML
name: follow
kind: training
description: an OSC left open across two writes
run: |
  printf 'first\n\033]0;open'
  i=0; while [ ! -e '$T_HOME/go' ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
  printf ' rest-of-open\nafter-follow\n'
YAML
expect_rc 0 "launch follow" g launch follow
check "follow is running" wait_state follow-1 RUNNING 30
script -qfec "$GANTRY_BIN logs -f follow-1" /dev/null </dev/null >"$T_HOME/follow.out" &
follow_pid=$!
for ((i = 0; i < 300; i++)); do
	grep -q first "$T_HOME/follow.out" && break
	sleep 0.1
done
check "logs -f shows the first line" grep -q first "$T_HOME/follow.out"
touch "$T_HOME/go"
check "logs -f ends with the job" timeout 30 tail --pid="$follow_pid" -f /dev/null
tr -d '\r' <"$T_HOME/follow.out" >"$T_HOME/follow.txt"
check "logs -f: the line after an OSC left open across chunks shows" grep -qx after-follow "$T_HOME/follow.txt"
check "logs -f: the OSC payload is gone" bash -c "! grep -aq open '$T_HOME/follow.txt'"
t_done
