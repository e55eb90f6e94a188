#!/usr/bin/env bash
# lambda_rate.sh: the API's rate limits (the fake enforces them: about 1 request/s, 1 launch
# per 12 s, 429 with Retry-After beyond): one Gantry paces its own requests so that it gets no
# 429; a second Gantry launching right after the first is refused with a 429 at first, waits
# and launches once (a refused launch is not a launch: sent again, never twice).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
. "$here/../lib/sshrig.sh"
. "$here/../lib/lambdafake.sh"
. "$here/../lib/lambdatest.sh"
trap 'lambda_test_cleanup; lambda_fake_stop; t_cleanup' EXIT

lambda_fake_start 2 --boot-delay 0.3 --rate-limit
lambda_test_config lam api_key_file "$LAMBDA_FAKE_KEY_FILE" "rate_limit: 0.9" "launch_interval: 12s"
lambda_test_templates
n429() { lambda_fake_q /_fake/log 'sum(1 for e in d["data"] if e["status"] == 429)'; }

expect_rc 0 "a launch with the fake's rate limits on" g launch ltrain --provider lam --name r1
check "r1 SUCCEEDED" wait_state r1 SUCCEEDED 60
check "one Gantry pacing itself got no 429" test "$(n429)" = 0
r1=$(job_field r1 id)

expect_rc 0 "a second Gantry launches right after" g launch ltrain --provider lam --name r2
check "r2 SUCCEEDED" wait_state r2 SUCCEEDED 60
r2=$(job_field r2 id)
check "one accepted launch each" bash -c "[ \$(lambda_test_launches $r1) = 1 ] && [ \$(lambda_test_launches $r2) = 1 ]"
check "the accepted launches are at least 12 s apart" test "$(lambda_fake_q /_fake/log '(lambda t: int(t[1] - t[0] >= 12))([e["time"] for e in d["data"] if e["path"].endswith("/instance-operations/launch") and e["status"] == 200])')" = 1
echo "# 429 answers in all: $(n429)"

t_done
