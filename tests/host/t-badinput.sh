#!/bin/sh
# Bad input gets an error naming file:line and key, and an exit status a script can test.
. "${UBC_SOURCE_ROOT:-.}/tests/lib.sh"
need_root
make_test_dir

# expect_error "description" 'grep pattern' guest-file lines...: ubcctl check fails and says it.
expect_error() {
        desc=$1
        pattern=$2
        shift 2
        rm -f "$CFG"/guests.d/* "$CFG"/policies.d/*
        write_guest 101 "$@"
        out=$("$UBCCTL" check "$CFG" 2>&1)
        rc=$?
        if [ "$rc" = 1 ] && echo "$out" | grep -q -- "$pattern"; then
                ok "$desc"
        else
                not_ok "$desc"
                diag "exit $rc, output:"
                echo "$out" | sed 's/^/#   /'
        fi
}

expect_error "cpu.units below range" '101.conf:2: cpu.units.*8' "cpu.units = 7"
expect_error "cpu.units above range" '101.conf:2: cpu.units.*500000' "cpu.units = 500001"
expect_error "malformed size" '101.conf:2: memory' "memory = 12Q"
expect_error "barrier above limit" '101.conf:2: memory' "memory = 2G:1G"
expect_error "unknown key suggests the nearest" "did you mean 'cpu.units'" "cpu.unit = 2048"
expect_error "a class that does not exist" '101.conf:2.*platinum' "class = platinum"
expect_error "cpu.set outside this host's CPUs" '101.conf:2: cpu.set.*not on this host' "cpu.set = $(nproc)"
expect_error "io.limit for a device that does not exist" '101.conf:2: io.limit.*not found' \
        "io.limit = /dev/ubc-no-such-disk rbps=1M"
expect_error "tasks not a number" '101.conf:3: tasks' "name = x" "tasks = lots"

# io.weight where the host has no proportional weight (no BFQ, as on many hosts).
rm -f "$CFG"/guests.d/*
write_guest 101 "io.weight = 100"
out=$("$UBCCTL" check "$CFG" 2>&1)
rc=$?
if echo "$out" | grep -q 'io.weight.*not supported on this host'; then
        check_eq "io.weight unsupported: check fails" 1 "$rc"
else
        check_eq "io.weight supported here: check passes" 0 "$rc"
fi

# Two files for one ID.
rm -f "$CFG"/guests.d/*
write_guest 101 "tasks = 10"
write_guest 0101 "tasks = 11"
out=$("$UBCCTL" check "$CFG" 2>&1)
rc=$?
dup() { [ "$rc" = 1 ] && echo "$out" | grep -q '0101.conf' && echo "$out" | grep -q '101.conf'; }
check "duplicate guest ID names both files" dup

# IDs outside 100..999999999.
rm -f "$CFG"/guests.d/*
write_guest 99 "tasks = 10"
out=$("$UBCCTL" check "$CFG" 2>&1)
check_eq "ID 99 is refused" 1 "$?"

# A guest file that is a symlink out of the folder.
rm -f "$CFG"/guests.d/*
printf '[guest]\ntasks = 10\n' >"$TEST_DIR/outside.conf"
ln -s "$TEST_DIR/outside.conf" "$CFG/guests.d/105.conf"
out=$("$UBCCTL" check "$CFG" 2>&1)
rc=$?
sym() { [ "$rc" = 1 ] && echo "$out" | grep -q '105.conf'; }
check "a symlink pointing out of guests.d is refused" sym
rm -f "$CFG/guests.d/105.conf"

# A missing configuration folder.
out=$("$UBCCTL" check "$TEST_DIR/no-such-dir" 2>&1)
rc=$?
missing() { [ "$rc" = 1 ] && echo "$out" | grep -q 'no-such-dir'; }
check "check on a missing folder fails and names it" missing
"$UBCD" -f -c "$TEST_DIR/no-such-dir" --run-dir "$RUN" --state-dir "$STATE" --root "$TEST_ROOT" \
        >"$TEST_DIR/start.log" 2>&1
rc=$?
refuses() { [ "$rc" = 1 ] && grep -q 'no-such-dir' "$TEST_DIR/start.log"; }
check "ubcd refuses to start on a missing folder" refuses

# No daemon: the client says so with its own exit status.
"$UBCCTL" -s "$TEST_DIR/nothing.sock" list >"$TEST_DIR/out" 2>&1
check_eq "ubcctl without ubcd exits 3" 3 "$?"

# A good configuration passes.
rm -f "$CFG"/guests.d/*
write_guest 101 "tasks = 10" "cpu.units = 2048" "memory = 64M:128M"
check "a good configuration passes check" "$UBCCTL" check "$CFG"
tap_done
