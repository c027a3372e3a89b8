# Shared helpers for the shell suites (tests/host, tests/vm). POSIX sh: these scripts also
# run under the test VM's dash, on a cgroup v2 kernel.
#
# A test sources this file, calls ok/not_ok/check and ends with tap_done; it owns a unique cgroup root
# (ubc-test-<pid>) that the exit trap removes, with every process it started.

UBCD=${UBCD:-${UBC_BUILD_ROOT:-build}/agent/ubcd}
UBCCTL=${UBCCTL:-${UBC_BUILD_ROOT:-build}/agent/ubcctl}
CG_MOUNT=${CG_MOUNT:-/sys/fs/cgroup}
TEST_ROOT=ubc-test-$$
TEST_DIR=
UBCD_PID=
STARTED_PIDS=
tap_n=0
tap_failed=0

tap_planned=
# Optional: without it, tap_done prints the plan at the end.
tap_plan() {
        tap_planned=1
        echo "1..$1"
}

ok() {
        tap_n=$((tap_n + 1))
        echo "ok $tap_n - $*"
}

not_ok() {
        tap_n=$((tap_n + 1))
        tap_failed=$((tap_failed + 1))
        echo "not ok $tap_n - $*"
}

diag() { echo "# $*"; }

# check "description" command...: ok when the command succeeds.
check() {
        desc=$1
        shift
        # The command's own output goes to stderr: stdout is the TAP stream.
        if "$@" >&2; then ok "$desc"; else not_ok "$desc"; fi
}

# check_eq "description" expected actual
check_eq() {
        if [ "$2" = "$3" ]; then
                ok "$1"
        else
                not_ok "$1"
                diag "expected '$2', got '$3'"
        fi
}

# Skips the whole test: 77 for plain runs, 0 under meson, whose TAP reader takes the plan.
skip_all() {
        echo "1..0 # SKIP $*"
        exit "${UBC_TAP_SKIP_EXIT:-77}"
}

need_root() {
        [ "$(id -u)" = 0 ] || skip_all "needs root"
}

# unified, hybrid or legacy, as ubcd decides it.
cg_mode() {
        if [ -f "$CG_MOUNT/cgroup.controllers" ]; then
                echo unified
        elif [ -f "$CG_MOUNT/unified/cgroup.controllers" ]; then
                echo hybrid
        else
                echo legacy
        fi
}

# Directory of the test root in a controller's hierarchy (cpu, cpuset, memory, io, pids).
cg_root_dir() {
        if [ "$(cg_mode)" = unified ]; then
                echo "$CG_MOUNT/$TEST_ROOT"
        else
                c=$1
                [ "$c" = io ] && c=blkio
                echo "$CG_MOUNT/$c/$TEST_ROOT"
        fi
}

# cg_read ID CONTROLLER FILE: the kernel's value of a guest's control file.
cg_read() {
        cat "$(cg_root_dir "$2")/$1/$3" 2>/dev/null
}

# wait_for SECONDS command...: polls until the command succeeds; a bound, not a timing test.
wait_for() {
        limit=$(($1 * 10))
        shift
        i=0
        while [ $i -lt $limit ]; do
                "$@" && return 0
                sleep 0.1
                i=$((i + 1))
        done
        return 1
}

# Makes a private config/state/run tree; sets CFG, STATE, RUN.
make_test_dir() {
        TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ubc-test.XXXXXX")
        CFG=$TEST_DIR/etc
        STATE=$TEST_DIR/state
        RUN=$TEST_DIR/run
        mkdir -p "$CFG/policies.d" "$CFG/guests.d" "$STATE" "$RUN"
        SOCK=$RUN/ubcd.sock
}

ubcd_answers() { "$UBCCTL" -s "$SOCK" status >/dev/null 2>&1; }

# Starts ubcd in the foreground on the test tree and waits until it answers, which is after
# its first load (a socket file alone may be a killed ubcd's leftover).
start_ubcd() {
        "$UBCD" -f -c "$CFG" --state-dir "$STATE" --run-dir "$RUN" --root "$TEST_ROOT" \
                --driver cgroupfs "$@" >>"$TEST_DIR/ubcd.log" 2>&1 &
        UBCD_PID=$!
        if ! wait_for 30 ubcd_answers; then
                diag "ubcd did not come up; its log:"
                sed 's/^/#   /' "$TEST_DIR/ubcd.log"
                return 1
        fi
}

stop_ubcd() {
        [ -n "$UBCD_PID" ] || return 0
        kill "$UBCD_PID" 2>/dev/null
        wait "$UBCD_PID" 2>/dev/null
        UBCD_PID=
}

ctl() {
        "$UBCCTL" -s "$SOCK" "$@"
}

# Runs a command in the background and remembers its PID for the exit trap.
spawn() {
        "$@" &
        STARTED_PIDS="$STARTED_PIDS $!"
}

# Removes a cgroup directory tree depth-first (children first; rmdir only, cgroups have no files).
cg_rmtree() {
        [ -d "$1" ] || return 0
        for d in "$1"/*/; do
                [ -d "$d" ] && cg_rmtree "${d%/}"
        done
        rmdir "$1" 2>/dev/null
}

cleanup() {
        for p in $STARTED_PIDS; do kill -9 "$p" 2>/dev/null; done
        if [ -n "$UBCD_PID" ]; then
                kill -9 "$UBCD_PID" 2>/dev/null
                wait "$UBCD_PID" 2>/dev/null
        fi
        for c in cpu cpuset memory io pids cpuacct; do
                d=$(cg_root_dir $c)
                # Processes still inside (a guest's) must go before the directories can.
                for f in $(find "$d" -name cgroup.procs 2>/dev/null); do
                        for p in $(cat "$f"); do kill -9 "$p" 2>/dev/null; done
                done
                wait_for 5 cg_rmtree "$d"
                cg_rmtree "$d"
        done
        [ -n "$TEST_DIR" ] && [ -n "${KEEP_TEST_DIR:-}" ] && echo "# kept $TEST_DIR"
        [ -n "$TEST_DIR" ] && [ -z "${KEEP_TEST_DIR:-}" ] && rm -rf "$TEST_DIR"
}

trap cleanup EXIT
trap 'exit 1' INT TERM

# Ends the test: prints the plan if none was given, exit 1 if anything failed.
tap_done() {
        [ -n "$tap_planned" ] || echo "1..$tap_n"
        [ "$tap_failed" = 0 ]
}

is_v2() { [ "$(cg_mode)" = unified ]; }

# The file cpu.units lands in, and what the kernel shows there for N units.
if is_v2; then units_file=cpu.weight; else units_file=cpu.shares; fi
units() { if is_v2; then echo $((($1 * 100 + 512) / 1024)); else echo "$1"; fi; }

# The first whole disk of this machine: "NAME MAJ:MIN", or nothing.
first_disk() {
        for b in /sys/block/*; do
                n=${b##*/}
                case $n in loop* | ram* | zram* | sr* | fd* | nbd* | dm-*) continue ;; esac
                [ "$(cat "$b/size" 2>/dev/null || echo 0)" -gt 0 ] || continue
                echo "$n $(cat "$b/dev")"
                return 0
        done
        return 1
}

# write_guest ID "key = value" ...: one guest file, [guest] first.
write_guest() {
        id=$1
        shift
        {
                echo "[guest]"
                for l in "$@"; do echo "$l"; done
        } >"$CFG/guests.d/$id.conf.new"
        mv "$CFG/guests.d/$id.conf.new" "$CFG/guests.d/$id.conf"
}

# Short sampling so housekeeping (orphans, drift) shows within a test.
fast_interval() {
        printf '[agent]\ninterval = 1s\n' >"$CFG/ubcd.conf"
}

# wait_value SECONDS ID CTRL FILE VALUE: until the kernel's value is VALUE.
value_is() { [ "$(cg_read "$1" "$2" "$3")" = "$4" ]; }
wait_value() {
        t=$1
        shift
        wait_for "$t" value_is "$@"
}
