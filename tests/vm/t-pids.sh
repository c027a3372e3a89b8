#!/bin/sh
# A guest's task limit stops its forks: fork fails with EAGAIN past tasks, the kernel counts
# every refusal in pids.events, and the guest never holds more than its limit.
. "${UBC_SOURCE_ROOT:-.}/tests/lib.sh"
need_root
is_v2 || skip_all "needs a cgroup v2 host (tests/vm/run.sh boots one)"
[ -x "$UBCD" ] && [ -x "$UBCCTL" ] || skip_all "ubcd or ubcctl not built"
HELPERS=${UBC_BUILD_ROOT:-build}/tests/helpers
make_test_dir

write_guest 103 "tasks = 20"
check "ubcd starts" start_ubcd -v || exit 1
check_eq "103 pids.max is 20" 20 "$(cg_read 103 pids pids.max)"

max_event() { awk '$1 == "max" { print $2 }' "$(cg_root_dir pids)/103/pids.events" 2>/dev/null; }
max0=$(max_event)

# forker reports once it has tried all 50, then waits for its children (30 s, longer than
# this test needs; the exit trap ends them).
ctl run 103 -- "$HELPERS/forker" 50 30 >"$TEST_DIR/forker.out" 2>&1 &
STARTED_PIDS="$STARTED_PIDS $!"
wait_for 60 grep -q '^forker:' "$TEST_DIR/forker.out"
report=$(grep '^forker:' "$TEST_DIR/forker.out")
diag "$report; pids.current $(cg_read 103 pids pids.current), pids.events max $(max_event)"

field() { echo "$report" | sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }
forked=$(field forked)
eagain=$(field eagain)
other=$(field other)

check "forker reported" test -n "$report"
check "forks past the limit failed with EAGAIN" [ "${eagain:-0}" -gt 0 ]
check_eq "no fork failed otherwise" 0 "$other"
check "at most 19 children beside forker" [ "${forked:-99}" -le 19 ]
check_eq "every fork either succeeded or met the limit" 50 "$((${forked:-0} + ${eagain:-0}))"
check "pids.current stays within 20" [ "$(cg_read 103 pids pids.current)" -le 20 ]
check "pids.events max rose" [ "$(max_event)" -gt "$max0" ]
check_eq "pids.events max counts every refused fork" "$((max0 + ${eagain:-0}))" "$(max_event)"
check "ubcd is still running" kill -0 "$UBCD_PID"

if [ "$tap_failed" != 0 ]; then
        diag "ubcd's log:"
        sed 's/^/#   /' "$TEST_DIR/ubcd.log"
fi
tap_done
