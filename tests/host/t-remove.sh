#!/bin/sh
# A guest whose file is deleted loses its cgroup, but only once no process is left in it.
. "${UBC_SOURCE_ROOT:-.}/tests/lib.sh"
need_root
make_test_dir
fast_interval

write_guest 301 "tasks = 40"
write_guest 302 "tasks = 41"
write_guest 303 "tasks = 42"
check "ubcd starts" start_ubcd
dir_of() { echo "$(cg_root_dir pids)/$1"; }
check "301 has its cgroup" test -d "$(dir_of 301)"

rm "$CFG/guests.d/301.conf"
gone() { ! test -d "$(dir_of "$1")"; }
check "deleting 301.conf removes its cgroup" wait_for 10 gone 301
check_eq "302 is untouched" 41 "$(cg_read 302 pids pids.max)"

# With a process inside, the cgroup stays until the process is gone.
"$UBCCTL" -s "$SOCK" run 302 -- sleep 300 &
runner=$!
STARTED_PIDS="$STARTED_PIDS $runner"
inside() { grep -qx "$runner" "$(dir_of 302)/cgroup.procs"; }
check "a process runs in 302" wait_for 10 inside
rm "$CFG/guests.d/302.conf"
ctl reload >/dev/null 2>&1
check "302's cgroup is kept while it has a process" test -d "$(dir_of 302)"
is_orphan() { ctl list | awk '$1 == 302 {print $5}' | grep -qx orphan; }
check "list shows 302 as orphan" is_orphan
logged() { grep -q "302.*still run" "$TEST_DIR/ubcd.log"; }
check "the log says why 302's cgroup stays" logged
kill "$runner"
wait "$runner" 2>/dev/null
check "302's cgroup goes once its process exited" wait_for 10 gone 302
check "303 is still there" test -d "$(dir_of 303)"
tap_done
