#!/bin/bash
# Benchmark: create and configure N guests (default 1000, IDs 1000..) with every limit key set,
# from a cold start, three ways in the same run:
#   a) ubcd: from exec until its socket answers with every guest loaded (it creates and
#      configures all cgroups during its first load, before it serves the socket); its
#      start-up with 0 guests, measured the same way, is subtracted for the net figure.
#   b) cgroup-tools: per guest one cgcreate, then one cgset -r per value.
#   c) bench-floor: a C loop doing only the mkdirs and the open/write/close of each value.
# Each runs RUNS times (default 3) under its own new root; the median is reported. Prints
# numbers, never pass/fail; exits non-zero only when something could not be measured.
#
# --steady SECONDS measures ubcd at rest instead: one ubcd with the N guests and interval =
# 10s, from its second sweep on, RUNS windows of SECONDS each (utime + stime from
# /proc/PID/stat, so waiting for a CPU does not count); prints each window's share of one
# core, the median, and ubcd's RSS. --settle S waits S seconds more before the windows: the
# first write of each new history file reads more of it from disk than later writes, a
# start-up cost the windows otherwise count (rrd_batch = 5 spreads first writes over 5 steps).
#
#   bench-create.sh [-n GUESTS] [-r RUNS] [--floor PATH] [--no-cgtools] [--no-strace]
#   bench-create.sh --steady SECONDS [--settle SECONDS] [-n GUESTS] [-r RUNS]
#
# Needs root and a writable cgroup hierarchy. Creates only ubc-bench-<pid>-* cgroups and
# removes them (also on failure or interrupt), kills only the processes it started.
set -u
export LC_ALL=C

N=1000
RUNS=3
FIRST_ID=1000
FLOOR=${BENCH_FLOOR:-${UBC_BUILD_ROOT:-build}/tests/bench/bench-floor}
UBCD=${UBCD:-${UBC_BUILD_ROOT:-build}/agent/ubcd}
UBCCTL=${UBCCTL:-${UBC_BUILD_ROOT:-build}/agent/ubcctl}
DO_CGTOOLS=1
DO_STRACE=1
STEADY=0
SETTLE=0

while [ $# -gt 0 ]; do
        case $1 in
        -n) N=$2; shift 2 ;;
        -r) RUNS=$2; shift 2 ;;
        --floor) FLOOR=$2; shift 2 ;;
        --no-cgtools) DO_CGTOOLS=0; shift ;;
        --no-strace) DO_STRACE=0; shift ;;
        --steady) STEADY=$2; shift 2 ;;
        --settle) SETTLE=$2; shift 2 ;;
        -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-create: unknown argument '$1'" >&2; exit 2 ;;
        esac
done
case $N$RUNS$STEADY$SETTLE in *[!0-9]*) echo "bench-create: -n, -r, --steady and --settle take numbers" >&2; exit 2 ;; esac
[ "$N" -ge 1 ] && [ "$RUNS" -ge 1 ] || { echo "bench-create: -n and -r must be >= 1" >&2; exit 2; }
LAST_ID=$((FIRST_ID + N - 1))

skip() {
        echo "# SKIP: $*"
        exit 77
}
die() {
        echo "bench-create: $*" >&2
        exit 1
}

[ "$(id -u)" = 0 ] || skip "needs root (it creates cgroups)"
for p in "$UBCD" "$UBCCTL" "$FLOOR"; do
        [ -x "$p" ] || skip "'$p' is not built"
done

# ---------------------------------------------------------------------------------------------
# The cgroup layout, found at run time from the mount table: v1 hierarchies side by side
# (MOUNT/cpu, MOUNT/memory, ...; hybrid hosts too), else the cgroup2 mount.

MOUNT=
V2=0
while read -r _ dir type opts _; do
        if [ "$type" = cgroup ]; then
                case ",$opts," in
                *,cpu,* | *,memory,*) MOUNT=${dir%/*}; break ;;
                esac
        fi
done </proc/self/mounts
if [ -z "$MOUNT" ]; then
        while read -r _ dir type _; do
                [ "$type" = cgroup2 ] && { MOUNT=$dir; V2=1; break; }
        done </proc/self/mounts
fi
[ -n "$MOUNT" ] || skip "no cgroup hierarchy is mounted"
if [ $V2 = 0 ]; then
        for c in cpu cpuset memory blkio pids; do
                [ -d "$MOUNT/$c" ] || skip "the v1 '$c' controller is not mounted at $MOUNT/$c"
        done
else
        for c in cpu cpuset memory io pids; do
                grep -qw "$c" "$MOUNT/cgroup.controllers" || skip "the cgroup2 mount lacks the '$c' controller"
        done
fi

# ---------------------------------------------------------------------------------------------
# Cleanup: every ubc-bench-<pid>-* root in any hierarchy, every process we started.

ROOT_PREFIX=ubc-bench-$$
WORK=
UBCD_PID=
TRACER_PID=

cg_rmtree() { # DIR: a cgroup and everything below it, deepest first (cgroups hold no files to remove)
        [ -d "$1" ] || return 0
        find "$1" -depth -type d -exec rmdir {} + 2>/dev/null
}

remove_root() {
        local d
        for d in "$MOUNT/$1" "$MOUNT"/*/"$1"; do
                [ -d "$d" ] && cg_rmtree "$d"
        done
        for d in "$MOUNT/$1" "$MOUNT"/*/"$1"; do
                [ -d "$d" ] && { echo "bench-create: could not remove $d" >&2; return 1; }
        done
        return 0
}

running() { # PID: alive and not a zombie waiting to be reaped
        local state
        { read -r _ _ state _ <"/proc/$1/stat"; } 2>/dev/null || return 1
        [ "$state" != Z ]
}

stop_pid() { # PID: TERM, then KILL after 5 s
        local pid=$1 i
        [ -n "$pid" ] || return 0
        kill "$pid" 2>/dev/null || return 0
        for ((i = 0; i < 500; i++)); do
                running "$pid" || break
                nap 0.01
        done
        running "$pid" && kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
}

# Stops the ubcd that strace started (strace's child), then waits for strace.
stop_traced() {
        local child
        [ -n "$TRACER_PID" ] || return 0
        for child in $(cat "/proc/$TRACER_PID/task/$TRACER_PID/children" 2>/dev/null); do
                stop_pid "$child"
        done
        stop_pid "$TRACER_PID"
        TRACER_PID=
}

cleanup() {
        local r
        stop_pid "$UBCD_PID"
        stop_traced
        for r in a z b c s; do remove_root "$ROOT_PREFIX-$r"; done
        [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ubc-bench.XXXXXX") || die "cannot make a work folder"
TICK=
nap() { # SECONDS: a sleep, without a fork once the fifo is open
        if [ -n "$TICK" ]; then read -r -t "$1" -u "$TICK" _; else sleep "$1"; fi
}
mkfifo "$WORK/tick"
exec {TICK}<>"$WORK/tick" # nobody writes: read -t on it just waits

now_us() { # sets NOW (us), without a fork
        NOW=${EPOCHREALTIME//[!0-9]/}
}

# ---------------------------------------------------------------------------------------------
# The host: CPUs, swap accounting, I/O weight, first real disk.

ctrl_dir() { # CONTROLLER -> its hierarchy's top directory
        if [ $V2 = 1 ]; then echo "$MOUNT"; else
                case $1 in io) echo "$MOUNT/blkio" ;; *) echo "$MOUNT/$1" ;; esac
        fi
}

# Whether a control file is offered: in the hierarchy's top or one of its children (some files
# are never shown in a root cgroup).
file_offered() {
        local top=$1 f=$2 d n=0
        [ -f "$top/$f" ] && return 0
        for d in "$top"/*/; do
                [ -f "$d$f" ] && return 0
                n=$((n + 1))
                [ $n -ge 64 ] && break
        done
        return 1
}

bfq_active() {
        grep -qs '\[bfq\]' /sys/block/*/queue/scheduler
}

first_disk() { # "NAME MAJ:MIN" of the first whole, non-virtual-memory disk
        local b n
        for b in /sys/block/*; do
                n=${b##*/}
                case $n in loop* | ram* | zram* | sr* | fd* | nbd* | dm-* | md*) continue ;; esac
                [ "$(cat "$b/size" 2>/dev/null || echo 0)" -gt 0 ] || continue
                echo "$n $(cat "$b/dev")"
                return 0
        done
        return 1
}

if [ $V2 = 1 ]; then
        HOST_CPUS=$(cat "$MOUNT/cpuset.cpus.effective" 2>/dev/null || cat /sys/devices/system/cpu/online)
else
        HOST_CPUS=$(cat "$MOUNT/cpuset/cpuset.cpus")
        HOST_MEMS=$(cat "$MOUNT/cpuset/cpuset.mems")
fi
GUEST_CPUS=${HOST_CPUS%%[-,]*} # the first CPU: a real subset wherever there is more than one

SWAP=0
if [ $V2 = 1 ]; then
        file_offered "$MOUNT" memory.swap.max && SWAP=1
else
        file_offered "$MOUNT/memory" memory.memsw.limit_in_bytes && SWAP=1
fi

IOW_FILE=
if [ $V2 = 1 ]; then
        if file_offered "$MOUNT" io.weight; then IOW_FILE=io.weight
        elif file_offered "$MOUNT" io.bfq.weight && bfq_active; then IOW_FILE=io.bfq.weight; fi
else
        if file_offered "$MOUNT/blkio" blkio.weight; then IOW_FILE=blkio.weight
        elif file_offered "$MOUNT/blkio" blkio.bfq.weight && bfq_active; then IOW_FILE=blkio.bfq.weight; fi
fi

DISK=$(first_disk) || DISK=
DISK_NAME=${DISK% *}
DISK_DEV=${DISK#* }

# ---------------------------------------------------------------------------------------------
# The guest file (every key) and what it means in cgroup files here: the floor writes exactly
# this list, cgroup-tools sets it, and ubcd's result is checked against it.

CPU_UNITS=2048
CPU_LIMIT=1.5 CPU_QUOTA=150000 CPU_PERIOD=100000
MEM_BARRIER=256M MEM_BARRIER_B=$((256 << 20))
MEM_LIMIT=512M MEM_LIMIT_B=$((512 << 20))
SWAP_SIZE=256M SWAP_B=$((256 << 20))
IO_WEIGHT=200
RBPS=50M RBPS_B=$((50 << 20))
WBPS=20M WBPS_B=$((20 << 20))
RIOPS=1000 WIOPS=500
TASKS=512

guest_file() {
        echo "[guest]"
        echo "name = bench-$1"
        echo "cpu.units = $CPU_UNITS"
        echo "cpu.limit = $CPU_LIMIT"
        echo "cpu.set = $GUEST_CPUS"
        echo "memory = $MEM_BARRIER:$MEM_LIMIT"
        [ $SWAP = 1 ] && echo "swap = $SWAP_SIZE"
        [ -n "$IOW_FILE" ] && echo "io.weight = $IO_WEIGHT"
        [ -n "$DISK" ] && echo "io.limit = $DISK_NAME rbps=$RBPS wbps=$WBPS riops=$RIOPS wiops=$WIOPS"
        echo "tasks = $TASKS"
}

# "CONTROLLER FILE VALUE" per write, in the order ubcd's plan has them (DESIGN.md key table).
writes_list() {
        if [ $V2 = 1 ]; then
                echo "cpu cpu.weight $(((CPU_UNITS * 100 + 512) / 1024))"
                echo "cpu cpu.max $CPU_QUOTA $CPU_PERIOD"
                echo "cpuset cpuset.cpus $GUEST_CPUS"
                echo "memory memory.high $MEM_BARRIER_B"
                echo "memory memory.max $MEM_LIMIT_B"
                [ $SWAP = 1 ] && echo "memory memory.swap.max $SWAP_B"
                case $IOW_FILE in
                io.weight) echo "io io.weight default $(((IO_WEIGHT * 100 + 250) / 500))" ;;
                io.bfq.weight) echo "io io.bfq.weight $IO_WEIGHT" ;;
                esac
                [ -n "$DISK" ] && echo "io io.max $DISK_DEV rbps=$RBPS_B wbps=$WBPS_B riops=$RIOPS wiops=$WIOPS"
                echo "pids pids.max $TASKS"
        else
                echo "cpu cpu.shares $CPU_UNITS"
                echo "cpu cpu.cfs_period_us $CPU_PERIOD"
                echo "cpu cpu.cfs_quota_us $CPU_QUOTA"
                # a v1 cpuset refuses tasks until it has mems (and cpus)
                echo "cpuset cpuset.mems $HOST_MEMS"
                echo "cpuset cpuset.cpus $GUEST_CPUS"
                echo "memory memory.soft_limit_in_bytes $MEM_BARRIER_B"
                # limit first: memsw (limit + swap) may never be below it
                echo "memory memory.limit_in_bytes $MEM_LIMIT_B"
                [ $SWAP = 1 ] && echo "memory memory.memsw.limit_in_bytes $((MEM_LIMIT_B + SWAP_B))"
                [ -n "$IOW_FILE" ] && echo "blkio $IOW_FILE $IO_WEIGHT"
                if [ -n "$DISK" ]; then
                        echo "blkio blkio.throttle.read_bps_device $DISK_DEV $RBPS_B"
                        echo "blkio blkio.throttle.write_bps_device $DISK_DEV $WBPS_B"
                        echo "blkio blkio.throttle.read_iops_device $DISK_DEV $RIOPS"
                        echo "blkio blkio.throttle.write_iops_device $DISK_DEV $WIOPS"
                fi
                echo "pids pids.max $TASKS"
        fi
}

CFG=$WORK/cfg
CFG0=$WORK/cfg0
mkdir -p "$CFG/policies.d" "$CFG/guests.d" "$CFG0/policies.d" "$CFG0/guests.d"
for ((id = FIRST_ID; id <= LAST_ID; id++)); do
        guest_file $id >"$CFG/guests.d/$id.conf"
done
writes_list >"$WORK/writes"
N_WRITES=$(wc -l <"$WORK/writes")

# The list is what ubcd's plan holds for a new guest (ubcctl apply --dry-run), or this says how not.
PLAN_NOTE=
"$UBCCTL" -c "$CFG" apply --dry-run $FIRST_ID >"$WORK/plan" 2>&1 || PLAN_NOTE="ubcctl apply --dry-run failed"
if [ -z "$PLAN_NOTE" ]; then
        sed -n "/^# guest $FIRST_ID[: ]/,/^# guest /s|^echo '\(.*\)' > .*/\([^/]*\)\$|\2 \1|p" "$WORK/plan" >"$WORK/plan.writes"
        if cut -d' ' -f2- "$WORK/writes" | cmp -s - "$WORK/plan.writes"; then
                PLAN_NOTE="same files, values and order as ubcd's plan (ubcctl apply --dry-run)"
        else
                PLAN_NOTE="differs from ubcd's plan (ubcctl apply --dry-run):"$'\n'"$(cut -d' ' -f2- "$WORK/writes" | diff - "$WORK/plan.writes" | sed 's/^/#   /')"
        fi
fi

# Whether guest ID below ROOT holds every value of the list; prints what differs.
check_guest() {
        local root=$1 id=$2 ctrl file value actual bad=0 dev
        while read -r ctrl file value; do
                actual=$(cat "$(ctrl_dir "$ctrl")/$root/$id/$file" 2>/dev/null)
                case $file in
                blkio.throttle.* | io.max) # one line per device
                        dev=${value%% *}
                        actual=$(printf '%s\n' "$actual" | grep "^$dev ") ;;
                io.weight | io.bfq.weight) actual=$(printf '%s\n' "$actual" | head -n1) ;;
                esac
                if [ "$actual" != "$value" ]; then
                        echo "#   guest $id: $file is '$actual', expected '$value'"
                        bad=1
                fi
        done <"$WORK/writes"
        return $bad
}

CHECK_NOTES=
note_check() { # METHOD ROOT: checks the first and last guest once per method
        local out
        case " $CHECKED " in *" $1 "*) return ;; esac
        CHECKED="$CHECKED $1"
        if out=$(check_guest "$2" $FIRST_ID && check_guest "$2" $LAST_ID); then
                CHECK_NOTES="$CHECK_NOTES$(printf '%-14s guests %d and %d hold all %d values' "$1:" $FIRST_ID $LAST_ID "$N_WRITES")"$'\n'
        else
                CHECK_NOTES="$CHECK_NOTES$1: values differ from the list:"$'\n'"$out"$'\n'
        fi
}
CHECKED=

# ---------------------------------------------------------------------------------------------
# a) ubcd

# ubcctl status --json -> the number of guests loaded, or nothing.
status_guests() {
        "$UBCCTL" -s "$1" --json status 2>/dev/null | tr -d ' \n' | sed -n 's/.*"guests":\([0-9]*\).*/\1/p'
}
list_guests() {
        "$UBCCTL" -s "$1" --json list 2>/dev/null | grep -o '"id" *: *[0-9]*' | wc -l
}

# run_ubcd CFG ROOT GUESTS: starts ubcd cold, waits until it serves every guest; sets
# UBCD_US (exec until ready), CPU_US (its CPU time until then), LIST_US and STATUS_US (one
# ubcctl list, one ubcctl status after that), RSS_KB, HWM_KB, LOGGED.
run_ubcd() {
        local cfg=$1 root=$2 want=$3 dir t0 t1 t2 got
        dir=$(mktemp -d "$WORK/ubcd.XXXXXX")
        mkdir "$dir/state" "$dir/run"
        now_us
        t0=$NOW
        "$UBCD" -f -c "$cfg" --state-dir "$dir/state" --run-dir "$dir/run" --root "$root" \
                --driver cgroupfs 2>"$dir/log" &
        UBCD_PID=$!
        # The socket exists before the first load ends; a connection made then is answered
        # only after every guest is applied, so this loop ends within one call of ready.
        while :; do
                got=
                [ -S "$dir/run/ubcd.sock" ] && got=$(status_guests "$dir/run/ubcd.sock")
                [ "$got" = "$want" ] && break
                if ! kill -0 "$UBCD_PID" 2>/dev/null; then
                        sed 's/^/#   /' "$dir/log" | tail -n 20
                        die "ubcd exited before it served $want guests"
                fi
                now_us
                if [ $((NOW - t0)) -gt 600000000 ]; then
                        die "ubcd did not serve $want guests within 600 s (last answer: '${got}')"
                fi
                nap 0.002
        done
        now_us
        t1=$NOW
        CPU_US=$(awk '{ printf "%d", $1 / 1000 }' "/proc/$UBCD_PID/schedstat" 2>/dev/null)
        got=$(list_guests "$dir/run/ubcd.sock")
        now_us
        t2=$NOW
        [ "$got" = "$want" ] || die "ubcctl list shows $got guests, expected $want"
        status_guests "$dir/run/ubcd.sock" >/dev/null
        now_us
        STATUS_US=$((NOW - t2))
        UBCD_US=$((t1 - t0))
        LIST_US=$((t2 - t1))
        RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$UBCD_PID/status")
        HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$UBCD_PID/status")
        [ "$want" -gt 0 ] && note_check ubcd "$root"
        stop_pid "$UBCD_PID"
        UBCD_PID=
        LOGGED=$(sed -n 's/.*Guest [0-9]*: \([0-9]*\) cgroup values\{0,1\} applied.*/\1/p' "$dir/log" |
                awk '{ s += $1 } END { print s + 0 }')
        grep -q ': error: ' "$dir/log" && {
                echo "# ubcd logged errors:"
                grep ': error: ' "$dir/log" | head -n 5 | sed 's/^/#   /'
        }
        remove_root "$root" || die "cannot clean up $root"
        rm -rf "$dir"
}

# ---------------------------------------------------------------------------------------------
# b) cgroup-tools

CGTOOLS=$DO_CGTOOLS
if [ $CGTOOLS = 1 ] && ! command -v cgcreate >/dev/null; then
        echo "# cgcreate missing: installing cgroup-tools"
        apt-get install -y -q cgroup-tools >/dev/null 2>&1 || true
        command -v cgcreate >/dev/null || { echo "# cgroup-tools not available: baseline left out"; CGTOOLS=0; }
fi
if [ $V2 = 1 ]; then CG_CTRLS=cpu,cpuset,memory,io,pids; else CG_CTRLS=cpu,cpuset,memory,blkio,pids; fi

# CPU time of this shell's finished children (bash's times, run in this shell: a subshell
# would report its own), in us; sets CHILDREN_CPU_US.
children_cpu_us() {
        times >"$WORK/times"
        CHILDREN_CPU_US=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1e6 }' "$WORK/times")
}

run_cgtools() {
        local root=$1 t0 t1 c0 id ctrl file value
        local -a sets=()
        while read -r ctrl file value; do sets+=("$file=$value"); done <"$WORK/writes"
        children_cpu_us
        c0=$CHILDREN_CPU_US
        now_us
        t0=$NOW
        cgcreate -g "$CG_CTRLS:$root" || die "cgcreate $root failed"
        if [ $V2 = 0 ]; then
                cgset -r "cpuset.mems=$HOST_MEMS" "$root" && cgset -r "cpuset.cpus=$HOST_CPUS" "$root" ||
                        die "cgset of $root's cpuset failed"
        fi
        for ((id = FIRST_ID; id <= LAST_ID; id++)); do
                cgcreate -g "$CG_CTRLS:$root/$id" || die "cgcreate $root/$id failed"
                for value in "${sets[@]}"; do
                        cgset -r "$value" "$root/$id" || die "cgset -r '$value' $root/$id failed"
                done
        done
        now_us
        t1=$NOW
        children_cpu_us
        CGT_CPU_US=$((CHILDREN_CPU_US - c0))
        CGT_US=$((t1 - t0))
        note_check cgroup-tools "$root"
        remove_root "$root" || die "cannot clean up $root"
}

# ---------------------------------------------------------------------------------------------
# c) the floor

run_floor() {
        local out
        out=$("$FLOOR" -n "$N" -i "$FIRST_ID" -w "$WORK/writes" "$MOUNT" "$1") || die "bench-floor failed"
        FLOOR_US=$(printf '%s\n' "$out" | sed -n 's/^RESULT.* total_us=\([0-9]*\).*/\1/p')
        FLOOR_CPU_US=$(printf '%s\n' "$out" | sed -n 's/^RESULT.* cpu_us=\([0-9]*\).*/\1/p')
        FLOOR_CALLS=$(printf '%s\n' "$out" | sed -n 's/^RESULT.* writes=\([0-9]*\) mkdirs=\([0-9]*\).*/\1 \2/p')
        if [ -z "${CHECKED_FLOOR:-}" ]; then
                # once, untimed: keep the cgroups to check their values
                CHECKED_FLOOR=1
                "$FLOOR" -k -n "$N" -i "$FIRST_ID" -w "$WORK/writes" "$MOUNT" "$1" >/dev/null || die "bench-floor -k failed"
                note_check floor "$1"
        fi
        remove_root "$1" || die "cannot clean up $1"
}

# ---------------------------------------------------------------------------------------------

median() { # numbers as arguments
        printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

if [ "$STEADY" = 0 ]; then
        echo "# ubc benchmark: create and configure $N guests (IDs $FIRST_ID..$LAST_ID), cold start, median of $RUNS"
        echo "# host: $(uname -r), $(nproc) CPUs, cgroup $([ $V2 = 1 ] && echo v2 || echo v1) at $MOUNT"
        echo "# guest file ($N like it):"
        guest_file $FIRST_ID | sed 's/^/#   /'
        [ -z "$IOW_FILE" ] && echo "# io.weight: not supported on this host (no $([ $V2 = 1 ] && echo io.weight || echo blkio.weight) file and no active BFQ scheduler), left out"
        [ $SWAP = 0 ] && echo "# swap: no swap accounting on this host, left out"
        [ -z "$DISK" ] && echo "# io.limit: no real disk found, left out"
        echo "# writes per guest ($N_WRITES):"
        sed 's/^/#   /' "$WORK/writes"
        echo "# this list: $PLAN_NOTE"
fi

for path in "$MOUNT/$ROOT_PREFIX" "$MOUNT"/*/"$ROOT_PREFIX"-*; do
        [ -e "$path" ] && die "$path exists already"
done

# ---------------------------------------------------------------------------------------------
# --steady: ubcd at rest with N guests, sampling every 10 s.

cpu_ticks() { # PID -> utime + stime in clock ticks
        awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

if [ "$STEADY" -gt 0 ]; then
        HZ=$(getconf CLK_TCK)
        dir=$WORK/steady
        root=$ROOT_PREFIX-a
        mkdir -p "$dir/state" "$dir/run"
        printf '[agent]\ninterval = 10s\n' >"$CFG/ubcd.conf"
        echo "# ubc benchmark: ubcd at rest with $N guests, interval 10s, $RUNS windows of $STEADY s"
        echo "# host: $(uname -r), $(nproc) CPUs, cgroup $([ $V2 = 1 ] && echo v2 || echo v1) at $MOUNT"
        "$UBCD" -f -c "$CFG" --state-dir "$dir/state" --run-dir "$dir/run" --root "$root" \
                --driver cgroupfs 2>"$dir/log" &
        UBCD_PID=$!
        # Start-up (creating every cgroup) and the first sweep, which opens the sampler's
        # files, are not the steady state: the windows start after the second sweep.
        sweeps=0
        last=
        for ((i = 0; i < 60000 && sweeps < 2; i++)); do
                kill -0 "$UBCD_PID" 2>/dev/null || { tail -n 20 "$dir/log" | sed 's/^/#   /'; die "ubcd exited"; }
                m=$(stat -c %Y.%y "$dir/run/user_beancounters" 2>/dev/null)
                if [ -n "$m" ] && [ "$m" != "$last" ]; then
                        sweeps=$((sweeps + 1))
                        last=$m
                fi
                nap 0.05
        done
        [ $sweeps = 2 ] || die "ubcd wrote no beancounter table twice within 3000 s"
        rows=$(grep -c ':  *kmemsize' "$dir/run/user_beancounters")
        [ "$rows" = "$N" ] || die "the table holds $rows guests, expected $N"
        if [ "$SETTLE" -gt 0 ]; then
                echo "# settling ${SETTLE}s before the windows"
                nap "$SETTLE"
        fi
        declare -a PCT=()
        for ((run = 1; run <= RUNS; run++)); do
                c0=$(cpu_ticks "$UBCD_PID")
                now_us
                t0=$NOW
                nap "$STEADY"
                c1=$(cpu_ticks "$UBCD_PID")
                now_us
                pct=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v t=$((NOW - t0)) 'BEGIN { printf "%.3f", c / hz / (t / 1e6) * 100 }')
                PCT+=("$pct")
                echo "#   window $run/$RUNS: $((c1 - c0)) ticks of CPU in $(((NOW - t0) / 1000)) ms: $pct% of one core"
        done
        RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$UBCD_PID/status")
        FDS=$(ls "/proc/$UBCD_PID/fd" | wc -l)
        med=$(printf '%s\n' "${PCT[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
        echo "RESULT steady_core_pct=$med guests=$N interval_s=10 window_s=$STEADY windows=$RUNS settle_s=$SETTLE rss_kib=$RSS_KB fds=$FDS"
        echo "ubcd at rest, $N guests, a sweep every 10 s: $med% of one core (median of $RUNS windows of $STEADY s; goal < 0.5%), VmRSS $((RSS_KB / 1024)) MiB, $FDS descriptors open"
        grep -q ': error: ' "$dir/log" && { echo "# ubcd logged errors:"; grep ': error: ' "$dir/log" | head -n 5 | sed 's/^/#   /'; }
        stop_pid "$UBCD_PID"
        UBCD_PID=
        echo "rerun: $0 --steady $STEADY --settle $SETTLE -n $N -r $RUNS"
        exit 0
fi

declare -a A_US=() Z_US=() B_US=() C_US=() RSS=() HWM=() LIST=() A_CPU=() Z_CPU=() B_CPU=() C_CPU=()
for ((run = 1; run <= RUNS; run++)); do
        echo "# run $run/$RUNS ..."
        run_ubcd "$CFG0" "$ROOT_PREFIX-z" 0
        # With no guests ubcd is ready about when its socket appears, and the status call
        # that sees it adds its own run; with guests that call waits on the socket meanwhile.
        Z_US+=("$((UBCD_US - STATUS_US))") Z_CPU+=("$CPU_US")
        run_ubcd "$CFG" "$ROOT_PREFIX-a" "$N"
        A_US+=("$UBCD_US") A_CPU+=("$CPU_US") RSS+=("$RSS_KB") HWM+=("$HWM_KB") LIST+=("$LIST_US")
        UBCD_LOGGED=$LOGGED
        run_floor "$ROOT_PREFIX-c"
        C_US+=("$FLOOR_US") C_CPU+=("$FLOOR_CPU_US")
        if [ $CGTOOLS = 1 ]; then
                run_cgtools "$ROOT_PREFIX-b"
                B_US+=("$CGT_US") B_CPU+=("$CGT_CPU_US")
        fi
        echo "#   ubcd ${UBCD_US} us (0 guests: ${Z_US[-1]} us), floor ${FLOOR_US} us$([ $CGTOOLS = 1 ] && echo ", cgroup-tools ${CGT_US} us")"
done

A=$(median "${A_US[@]}")
Z=$(median "${Z_US[@]}")
C=$(median "${C_US[@]}")
NET=$((A - Z))
[ $CGTOOLS = 1 ] && B=$(median "${B_US[@]}")

minimum() { printf '%s\n' "$@" | sort -n | head -n1; }

C_CPU_MED=$(median "${C_CPU[@]}")
row() { # METHOD MEDIAN_US MIN_US CPU_US
        awk -v m="$1" -v t="$2" -v b="$3" -v c="$4" -v n="$N" -v f="$C" -v fc="$C_CPU_MED" \
                'BEGIN { printf "%-14s %10.1f %10.1f %9.2fx %10.1f %10.1f %9.2fx\n", m, t / 1000, t / n, t / f, b / 1000, c / 1000, (fc > 0 ? c / fc : 0) }'
}

echo
echo "create and configure $N guests (median of $RUNS, cold start each)"
printf '%-14s %10s %10s %10s %10s %10s %10s\n' method "total ms" "us/guest" "vs floor" "min ms" "cpu ms" "cpu/floor"
row "ubcd (raw)" "$A" "$(minimum "${A_US[@]}")" "$(median "${A_CPU[@]}")"
row "ubcd (net)" "$NET" "$(($(minimum "${A_US[@]}") - $(minimum "${Z_US[@]}")))" \
        "$(($(median "${A_CPU[@]}") - $(median "${Z_CPU[@]}")))"
[ $CGTOOLS = 1 ] && row "cgroup-tools" "$B" "$(minimum "${B_US[@]}")" "$(median "${B_CPU[@]}")"
row "floor" "$C" "$(minimum "${C_US[@]}")" "$C_CPU_MED"
echo "total: wall clock, median of $RUNS cold starts; min: the fastest of them; cpu: CPU time of the"
echo "process(es), median, which waiting for a CPU does not inflate (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
awk -v z="$Z" -v zc="$(median "${Z_CPU[@]}")" -v l="$(median "${LIST[@]}")" 'BEGIN {
        printf "ubcd start-up with 0 guests (subtracted for net): %.1f ms, %.1f ms CPU\n", z / 1000, zc / 1000
        printf "ready = `ubcctl status` answers with every guest; one `ubcctl list` of all guests after that: %.1f ms (not counted)\n", l / 1000 }'
NET_CPU=$(($(median "${A_CPU[@]}") - $(median "${Z_CPU[@]}")))
awk -v a="$NET" -v c="$C" -v b="${B:-0}" -v g="$CGTOOLS" -v ac="$NET_CPU" -v cc="$C_CPU_MED" \
        -v bc="$( [ $CGTOOLS = 1 ] && median "${B_CPU[@]}" || echo 0)" 'BEGIN {
        printf "ratios, wall clock: ubcd net / floor = %.2f (goal <= 1.5)", a / c
        if (g == 1) printf "; cgroup-tools / ubcd net = %.1f (goal >= 10)", b / a
        printf "\n"
        if (cc > 0 && ac > 0) {
                printf "ratios, CPU time:   ubcd net / floor = %.2f", ac / cc
                if (g == 1) printf "; cgroup-tools / ubcd net = %.1f", bc / ac
                printf "\n"
        } }'
awk -v r="$(median "${RSS[@]}")" -v h="$(median "${HWM[@]}")" -v n="$N" \
        'BEGIN { printf "ubcd memory with %d guests: VmRSS %.2f MiB, VmHWM %.2f MiB (goal: under 8 MiB)\n", n, r / 1024, h / 1024 }'
read -r FW FM <<<"$FLOOR_CALLS"
echo "cgroup writes: floor $FW + $FM mkdirs ($N_WRITES per guest); ubcd logged $UBCD_LOGGED changed values (plus the cpuset set-up of each new cgroup, not logged)"
printf '%s' "$CHECK_NOTES"

# ---------------------------------------------------------------------------------------------
# Untimed: what ubcd and the floor ask of the kernel, by syscall count per guest.

syscall_table() { # strace -c output file -> "name count" lines of interest
        awk '$NF ~ /^(openat|open|read|pread64|write|close|mkdir|mkdirat|newfstatat|fstat|statx|getdents64|lseek)$/ { print $NF, ($4 ~ /^[0-9]+$/ ? $4 : $3) }' "$1"
}

if [ $DO_STRACE = 1 ] && command -v strace >/dev/null; then
        sdir=$WORK/strace
        mkdir -p "$sdir/state" "$sdir/run"
        strace -f -c -o "$sdir/ubcd.txt" "$UBCD" -f -c "$CFG" --state-dir "$sdir/state" --run-dir "$sdir/run" \
                --root "$ROOT_PREFIX-s" --driver cgroupfs 2>/dev/null &
        TRACER_PID=$!
        for i in $(seq 6000); do
                [ "$(status_guests "$sdir/run/ubcd.sock")" = "$N" ] && break
                kill -0 $TRACER_PID 2>/dev/null || break
                nap 0.1
        done
        stop_traced # TERM reaches ubcd; strace then writes its summary and exits
        remove_root "$ROOT_PREFIX-s"
        strace -f -c -o "$sdir/floor.txt" "$FLOOR" -n "$N" -i "$FIRST_ID" -w "$WORK/writes" "$MOUNT" "$ROOT_PREFIX-s" >/dev/null
        remove_root "$ROOT_PREFIX-s"
        echo
        echo "syscalls per guest (strace -c, whole process life, untimed run)"
        printf '%-12s %10s %10s\n' syscall ubcd floor
        join -a1 -a2 -e0 -o 0,1.2,2.2 <(syscall_table "$sdir/ubcd.txt" | sort) <(syscall_table "$sdir/floor.txt" | sort) |
                awk -v n="$N" '$2 + $3 >= n / 10 { printf "%-12s %10.1f %10.1f\n", $1, $2 / n, $3 / n } { a += $2; b += $3 }
                        END { printf "%-12s %10.1f %10.1f\n", "(these)", a / n, b / n }'
        echo "(ubcd's writes include 2 log lines per guest; rows under 0.1 per guest left out)"
fi

echo
echo "rerun: meson test -C ${UBC_BUILD_ROOT:-build} --benchmark create-1000 -v   (or: $0 -n $N -r $RUNS)"
exit 0
