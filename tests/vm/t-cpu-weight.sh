#!/bin/sh
# cpu.units decide how two guests share a contended CPU: with 1024 and 4096 units and both
# pinned to CPU 0, the kernel gives them CPU time at 1:4 (within 15%).
. "${UBC_SOURCE_ROOT:-.}/tests/lib.sh"
need_root
is_v2 || skip_all "needs a cgroup v2 host (tests/vm/run.sh boots one)"
[ -x "$UBCD" ] && [ -x "$UBCCTL" ] || skip_all "ubcd or ubcctl not built"
HELPERS=${UBC_BUILD_ROOT:-build}/tests/helpers
make_test_dir

write_guest 104 "cpu.units = 1024" "cpu.set = 0"
write_guest 105 "cpu.units = 4096" "cpu.set = 0"
check "ubcd starts" start_ubcd -v || exit 1

check_eq "104 cpu.weight from 1024 units" 100 "$(cg_read 104 cpu cpu.weight)"
check_eq "105 cpu.weight from 4096 units" 400 "$(cg_read 105 cpu cpu.weight)"
check_eq "104 cpuset.cpus" 0 "$(cg_read 104 cpuset cpuset.cpus)"
check_eq "105 cpuset.cpus" 0 "$(cg_read 105 cpuset cpuset.cpus)"

usage() { awk '$1 == "usage_usec" { print $2 }' "$(cg_root_dir cpu)/$1/cpu.stat"; }
running() { [ "$(cg_read 104 pids pids.current)" = 1 ] && [ "$(cg_read 105 pids pids.current)" = 1 ]; }

spawn "$UBCCTL" -s "$SOCK" run 104 -- "$HELPERS/cpuhog" 60
spawn "$UBCCTL" -s "$SOCK" run 105 -- "$HELPERS/cpuhog" 60
check "both hogs run in their guests" wait_for 20 running

sleep 2
a4=$(usage 104)
a5=$(usage 105)
t0=$(cut -d' ' -f1 /proc/uptime)
sleep 10
b4=$(usage 104)
b5=$(usage 105)
t1=$(cut -d' ' -f1 /proc/uptime)

d4=$((b4 - a4))
d5=$((b5 - a5))
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000000 }')
diag "over ${wall} us: 104 used ${d4} us, 105 used ${d5} us"

check "104 got CPU time" [ "$d4" -gt 0 ]
# Pinned to one CPU, together they use at most that CPU.
check "together they used one CPU, not two" [ $((d4 + d5)) -le $((wall * 115 / 100)) ]
ratio=$((d5 * 1000 / (d4 > 0 ? d4 : 1)))
diag "ratio 105:104 = $((ratio / 1000)).$(printf '%03d' $((ratio % 1000)))"
check "105 got 4x the CPU of 104, within 15%" [ "$ratio" -ge 3400 -a "$ratio" -le 4600 ]

if [ "$tap_failed" != 0 ]; then
        diag "ubcd's log:"
        sed 's/^/#   /' "$TEST_DIR/ubcd.log"
fi
tap_done
