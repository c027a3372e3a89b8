#!/bin/sh
# A guest that allocates past its memory limit is OOM-killed inside its own cgroup: the kernel
# counts it in the guest's memory.events, and ubcd and the other guests carry on.
. "${UBC_SOURCE_ROOT:-.}/tests/lib.sh"
need_root
is_v2 || skip_all "needs a cgroup v2 host (tests/vm/run.sh boots one)"
[ -x "$UBCD" ] && [ -x "$UBCCTL" ] || skip_all "ubcd or ubcctl not built"
HELPERS=${UBC_BUILD_ROOT:-build}/tests/helpers
make_test_dir

write_guest 101 "memory = 32M:48M"
write_guest 102 "memory = 64M"
check "ubcd starts" start_ubcd -v || exit 1

check_eq "101 memory.high is the 32M barrier" 33554432 "$(cg_read 101 memory memory.high)"
check_eq "101 memory.max is the 48M limit" 50331648 "$(cg_read 101 memory memory.max)"

# event ID NAME: a counter of the guest's memory.events
event() { awk -v k="$2" '$1 == k { print $2 }' "$(cg_root_dir memory)/$1/memory.events" 2>/dev/null; }
quiet() { "$@" >/dev/null 2>&1; }
oom_rose() { [ "$(event 101 oom_kill)" -gt "$oom0" ] 2>/dev/null; }
high0=$(event 101 high)
max0=$(event 101 max)
oom0=$(event 101 oom_kill)
diag "before: high $high0, max $max0, oom_kill $oom0"

ctl run 101 -- "$HELPERS/memhog" 100 >"$TEST_DIR/memhog.out" 2>&1 &
hog=$!
STARTED_PIDS="$STARTED_PIDS $hog"

# memory.high throttles the hog on its way from 32M to 48M (seconds); the bound is generous.
if wait_for 120 oom_rose; then
        wait "$hog"
        rc=$?
else
        kill -9 "$hog" 2>/dev/null
        wait "$hog"
        rc=timeout
fi
diag "after: high $(event 101 high), max $(event 101 max), oom_kill $(event 101 oom_kill), memhog: $(tail -n 1 "$TEST_DIR/memhog.out")"

check "memory.events oom_kill rose" oom_rose
check "memory.events high rose: the barrier throttled it first" [ "$(event 101 high)" -gt "$high0" ]
check "memory.events max rose" [ "$(event 101 max)" -gt "$max0" ]
check_eq "memhog was killed by SIGKILL" 137 "$rc"
check "memhog never held 100 MiB" sh -c "! grep -q 'holding' '$TEST_DIR/memhog.out'"
check "ubcd is still running" kill -0 "$UBCD_PID"
check "ubcd still answers" quiet ctl list
check "101 keeps its cgroup" test -d "$(cg_root_dir memory)/101"
check "102 keeps its cgroup" test -d "$(cg_root_dir memory)/102"
check_eq "102 keeps its memory.max" 67108864 "$(cg_read 102 memory memory.max)"
check_eq "102 saw no OOM kill" 0 "$(event 102 oom_kill)"

if [ "$tap_failed" != 0 ]; then
        diag "ubcd's log:"
        sed 's/^/#   /' "$TEST_DIR/ubcd.log"
fi
tap_done
