#!/usr/bin/env bash
# `logs: {max_size: N}` caps a local job's log: past half of N, job.log moves to job.log.1 and
# starts again, so the two stay within about N; `gantry logs` still prints the newest output.
. "$(dirname "$0")/../lib/common.sh"

mkdir -p "$GANTRY_HOME/config/templates"
cat >"$GANTRY_HOME/config/config.yaml" <<'YAML'
logs: {max_size: lots}
YAML
expect_rc 4 "a malformed logs.max_size is refused" g ls
check "naming the file, line and column" grep -q "config.yaml:1:.*logs.max_size.*lots" "$T_HOME/err"

cat >"$GANTRY_HOME/config/config.yaml" <<'YAML'
logs: {max_size: 64K}
YAML
# about 50 KB/s for 4 s: 200 KB in all, 1 KB lines
cat >"$GANTRY_HOME/config/templates/chatty.yaml" <<'YAML'
name: chatty
kind: training
description: writes 200 KB of log
run: |
  i=1
  while [ $i -le 200 ]; do
    printf 'line %04d %01000d\n' $i 0
    [ $((i % 10)) = 0 ] && sleep 0.2
    i=$((i + 1))
  done
  echo all done
YAML
expect_rc 0 "launch chatty --wait" g launch chatty --wait --timeout 60
dir=$T_HOME/state/jobs/$(job_field chatty-1 id)
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
total=$(($(size "$dir/job.log") + $(size "$dir/job.log.1")))
check "job.log was rotated" test -s "$dir/job.log.1"
check "job.log and job.log.1 hold about the cap, not all 200 KB ($total bytes)" test "$total" -lt 131072
check "job.log starts with a note that names job.log.1" bash -c "head -n1 '$dir/job.log' | grep -q 'job.log.1'"
check "the newest output is in job.log" bash -c "tail -n1 '$dir/job.log' | grep -qx 'all done'"
check "gantry logs prints it" bash -c 'timeout 20 "$GANTRY_BIN" logs chatty-1 | tail -n1 | grep -qx "all done"'
check "job.log.1 holds whole lines of the job (and gantry's notes)" bash -c "! grep -v '^line [0-9]\{4\} 0\{1000\}\$' '$dir/job.log.1' | grep -v '^\[gantry: ' | grep -q ."
check "chatty-1 SUCCEEDED" bash -c '[ "$(job_field chatty-1 state)" = SUCCEEDED ]'

# gantry logs of a finished multi-MB log prints exactly the file
cat >"$GANTRY_HOME/config/config.yaml" <<'YAML'
logs: {max_size: 0}
YAML
cat >"$GANTRY_HOME/config/templates/big.yaml" <<'YAML'
name: big
kind: training
description: writes 8 MB at once
run: head -c 6000000 /dev/zero | od -v -An -tx1 | head -c 8000000
YAML
expect_rc 0 "launch big --wait" g launch big --wait --timeout 60
dir=$T_HOME/state/jobs/$(job_field big-1 id)
check "no cap with max_size 0: nothing rotated" test ! -e "$dir/job.log.1"
check "gantry logs prints the whole 8 MB log" bash -c "timeout 20 \"\$GANTRY_BIN\" logs big-1 | cmp -s - '$dir/job.log'"
t_done
