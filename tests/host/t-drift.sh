#!/bin/sh
# A limit written outside ubcd is put back at once, and a guest's cgroup removed by hand is made
# again by the next sweep: neither waits for the read-back of every guest, which comes only
# every 60 intervals (10 minutes here).
. "${UBC_SOURCE_ROOT:-.}/tests/lib.sh"
need_root
make_test_dir

write_guest 401 "tasks = 40" "memory = 128M"
write_guest 402 "tasks = 41"
check "ubcd starts" start_ubcd

if is_v2; then memfile=memory.max; else memfile=memory.limit_in_bytes; fi
log=$TEST_DIR/ubcd.log
outside() { grep -c "Guest $1: .* was written outside ubcd" "$log"; }

echo 77 >"$(cg_root_dir pids)/401/pids.max"
check "401: pids.max written by hand is put back" wait_value 5 401 pids pids.max 40
echo 268435456 >"$(cg_root_dir memory)/401/$memfile"
check "401: $memfile written by hand is put back" wait_value 5 401 memory $memfile 134217728
logged() { grep -q "Guest 401: 'pids.max' was written outside ubcd" "$log"; }
check "the log names the guest and the file" wait_for 5 logged
check_eq "402 is untouched" 41 "$(cg_read 402 pids pids.max)"

# ubcd's own writes are no edit, and a task moved in holds no limit: neither is read back.
before=$(outside 401)
check "set 401 tasks=45" ctl set 401 tasks=45
spawn sleep 300
sleeper=$!
echo "$sleeper" >"$(cg_root_dir pids)/402/cgroup.procs"
sleep 1
check_eq "ubcd's own write is not taken for an edit" "$before" "$(outside 401)"
check_eq "a task moved into 402 is not taken for an edit" 0 "$(outside 402)"
kill "$sleeper"
wait "$sleeper" 2>/dev/null

# Removed by hand in every hierarchy (it is empty), 402 comes back with its limits.
for c in cpu cpuset memory io pids; do
        [ -d "$(cg_root_dir $c)/402" ] && rmdir "$(cg_root_dir $c)/402"
done
check "402's cgroup was removed" test ! -d "$(cg_root_dir pids)/402"
check "402's cgroup is made again by the next sweep" wait_value 15 402 pids pids.max 41
check "402's memory cgroup is back too" test -d "$(cg_root_dir memory)/402"
check_eq "401 kept its live value meanwhile" 45 "$(cg_read 401 pids pids.max)"
tap_done
