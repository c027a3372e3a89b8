#!/bin/sh
# Policy edits reach the kernel live (inotify, SIGHUP, ubcctl reload); a broken or truncated
# file changes nothing, and the other guests go on being managed.
. "${UBC_SOURCE_ROOT:-.}/tests/lib.sh"
need_root
make_test_dir


cat >"$CFG/policies.d/classes.policy" <<EOT
[class silver]
cpu.units = 1024
tasks = 100
EOT
write_guest 201 "class = silver"
write_guest 202 "class = silver" "tasks = 50"

check "ubcd starts" start_ubcd
check_eq "201 starts with the class's cpu.units" "$(units 1024)" "$(cg_read 201 cpu $units_file)"

# inotify: editing the class file is enough.
sed -i 's/cpu.units = 1024/cpu.units = 3072/' "$CFG/policies.d/classes.policy"
check "class edit reaches guest 201 without a signal" wait_value 10 201 cpu $units_file "$(units 3072)"
check "class edit reaches guest 202 too" wait_value 10 202 cpu $units_file "$(units 3072)"

# A guest override wins over its class.
write_guest 201 "class = silver" "tasks = 77"
check "guest override of tasks applied" wait_value 10 201 pids pids.max 77

# Removing a key resets it to the class, then to the default.
write_guest 201 "class = silver"
check "removed override falls back to the class value" wait_value 10 201 pids pids.max 100

# A syntax error in the class file changes nothing, and says where.
cp "$CFG/policies.d/classes.policy" "$TEST_DIR/good.policy"
printf '[class silver]\ncpu.units = 4096\ntasks = lots\n' >"$CFG/policies.d/classes.policy"
out=$(ctl reload 2>&1)
rc=$?
check_eq "ubcctl reload exits 1 when the policy has errors" 1 "$rc"
has_line() { echo "$out" | grep -q 'classes.policy:3.*tasks'; }
check "the error names classes.policy:3 and the key" has_line
check_eq "201 keeps its cpu.units" "$(units 3072)" "$(cg_read 201 cpu $units_file)"
check_eq "202 keeps its tasks" 50 "$(cg_read 202 pids pids.max)"

# An out-of-range value in one guest file: nothing of that file is applied (tasks = 99 is not),
# its previous version stays in force and so still follows its class.
cp "$TEST_DIR/good.policy" "$CFG/policies.d/classes.policy"
write_guest 202 "class = silver" "tasks = 99" "cpu.units = 7"
sed -i 's/cpu.units = 3072/cpu.units = 2048/' "$CFG/policies.d/classes.policy"
check "201 follows its class while 202.conf is broken" wait_value 10 201 cpu $units_file "$(units 2048)"
check "202's previous file still follows the class" wait_value 10 202 cpu $units_file "$(units 2048)"
check_eq "nothing of the broken 202.conf is applied" 50 "$(cg_read 202 pids pids.max)"
errs=$(ctl reload 2>&1)
bad_range() { echo "$errs" | grep -q '202.conf:4.*cpu.units.*8'; }
check "the range error names 202.conf:4 and the valid range" bad_range

# A file cut mid-write: the broken part is refused, the old values stay.
write_guest 202 "class = silver" "tasks = 50" "cpu.units = 512"
check "202 fixed again" wait_value 10 202 cpu $units_file "$(units 512)"
printf '[guest]\nclass = silver\ntasks = 5\ncpu.un' >"$CFG/guests.d/202.conf"
ctl reload >/dev/null 2>&1
check_eq "a truncated file leaves tasks alone" 50 "$(cg_read 202 pids pids.max)"

# SIGHUP alone reloads too.
printf '[guest]\nclass = silver\ntasks = 60\n' >"$CFG/guests.d/202.conf"
kill -HUP "$UBCD_PID"
check "SIGHUP reload applies tasks = 60" wait_value 10 202 pids pids.max 60
check "ubcd is still running" kill -0 "$UBCD_PID"
tap_done
