#!/bin/sh
# When the kernel refuses a value, that guest's earlier writes of the same step are put back,
# the error names file:line, key, value and errno, and other guests are still applied.
. "${UBC_SOURCE_ROOT:-.}/tests/lib.sh"
need_root
# The refusal used here is v1's hierarchical CFS check (a parent's quota below a child's).
is_v2 && skip_all "v2 has no hierarchical quota check; rollback on v2 is covered by the unit tests"
make_test_dir
fast_interval

write_guest 401 "cpu.units = 1024"
write_guest 402 "tasks = 30"
check "ubcd starts" start_ubcd

# A child cgroup (made by this test) holding a 0.5 CPU quota makes a smaller quota on 401 invalid.
probe=$(cg_root_dir cpu)/401/probe
mkdir "$probe"
echo 50000 >"$probe/cpu.cfs_quota_us"

out=$(ctl set 401 cpu.units=2048 cpu.limit=0.2 2>&1)
rc=$?
check_eq "ubcctl set exits 1 on a kernel refusal" 1 "$rc"
says_refused() { echo "$out" | grep -q 'cpu.limit.*cpu.cfs_quota_us.*20000'; }
check "the error names key, file and value" says_refused
check_eq "cpu.shares written earlier in the step is restored" 1024 "$(cg_read 401 cpu cpu.shares)"
check_eq "cpu.cfs_quota_us unchanged" -1 "$(cg_read 401 cpu cpu.cfs_quota_us)"
shown=$(ctl show 401 | grep '^cpu.units')
not_runtime() { ! echo "$shown" | grep -q runtime; }
check "the refused live change is not kept" not_runtime

# The same through the policy file: 401 keeps its values, 402 is applied in the same reload.
write_guest 401 "cpu.units = 4096" "cpu.limit = 0.2"
write_guest 402 "tasks = 31"
check "402 is applied" wait_value 10 402 pids pids.max 31
check_eq "401 keeps cpu.shares 1024" 1024 "$(cg_read 401 cpu cpu.shares)"
logged() { grep -q "401.*kernel refused cpu.limit (.*401.conf:3) as cpu.cfs_quota_us = '20000'" "$TEST_DIR/ubcd.log"; }
check "the log names 401.conf:3, key, file, value" logged
state_error() { ctl list | awk '$1 == 401 {print $5}' | grep -qx error; }
check "list shows 401 in error" state_error

# Once the obstacle is gone (the kernel frees a removed cgroup a little later), the next
# housekeeping pass applies the file.
rmdir "$probe"
ctl reload >/dev/null 2>&1
check "401 gets its values once the kernel accepts them" wait_value 10 401 cpu cpu.cfs_quota_us 20000
check_eq "401 cpu.shares 4096" 4096 "$(cg_read 401 cpu cpu.shares)"
tap_done
