#!/bin/sh
# History through rrdcached (`rrdcached =` in ubcd.conf): the updates reach the daemon, not the
# file directly, and hold what the guest used; `ubcctl report` has ubcd write what it holds back
# and the daemon write the file; when the daemon goes away ubcd says so once, keeps running,
# and resumes when it is back. The test runs its own rrdcached on a socket in
# its folder and ends it by its PID.
. "${UBC_SOURCE_ROOT:-.}/tests/lib.sh"
need_root
[ -x "$UBCD" ] && [ -x "$UBCCTL" ] || skip_all "ubcd or ubcctl not built"
command -v rrdtool >/dev/null || skip_all "rrdtool not installed (apt-get install rrdtool)"
RRDCACHED=$(command -v rrdcached || echo /usr/bin/rrdcached)
[ -x "$RRDCACHED" ] || skip_all "rrdcached not installed (apt-get install rrdcached)"
HELPERS=${UBC_BUILD_ROOT:-${UBCD%/agent/ubcd}}/tests/helpers
[ -x "$HELPERS/cpuhog" ] || skip_all "helpers not built in $HELPERS"
make_test_dir
STEP=2
RRD=$STATE/rrd
DSOCK=$TEST_DIR/rrdcached.sock
DPID=$TEST_DIR/rrdcached.pid
DAEMON=unix:$DSOCK
BATCH=5 # rrd_batch: steps of rows ubcd holds back per file
# state_dir also in the file: `ubcctl report` finds the history through it.
printf '[agent]\ninterval = 1s\nrrd_step = %ss\nrrdcached = %s\nstate_dir = %s\n' "$STEP" "$DAEMON" "$STATE" \
        >"$CFG/ubcd.conf"

RRDCACHED_PID=
# Writes to disk only when flushed (-w: an hour), so what the file holds says where updates went.
start_rrdcached() {
        rm -f "$DPID"
        "$RRDCACHED" -l "$DAEMON" -b "$STATE" -B -p "$DPID" -F -w 3600 -f 7200 >>"$TEST_DIR/rrdcached.log" 2>&1 ||
                return 1
        wait_for 10 test -s "$DPID" || return 1
        RRDCACHED_PID=$(cat "$DPID")
        STARTED_PIDS="$STARTED_PIDS $RRDCACHED_PID"
        wait_for 10 test -S "$DSOCK"
}
stop_rrdcached() {
        [ -n "$RRDCACHED_PID" ] || return 0
        kill "$RRDCACHED_PID" 2>/dev/null
        wait_for 10 sh -c "! kill -0 $RRDCACHED_PID 2>/dev/null"
        # Its PID may be someone else's later: the exit trap must not kill it then.
        STARTED_PIDS=$(echo " $STARTED_PIDS " | sed "s/ $RRDCACHED_PID / /")
        RRDCACHED_PID=
}
end_all() {
        stop_rrdcached
        cleanup
}
trap end_all EXIT

ds_mean() { # FILE DS SECONDS [rrdtool options]: mean of the AVERAGE rows before the last update
        f=$1 ds=$2 secs=$3
        shift 3
        last=$(rrdtool last "$@" "$f" 2>/dev/null) || return 1
        rrdtool fetch "$@" "$f" AVERAGE -s $((last - secs)) -e "$last" 2>/dev/null | awk -v ds="$ds" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == ds) col = i + 1; next }
        col && NF > 1 && $col !~ /nan/ { s += $col; n++ }
        END { if (n) printf "%.6f\n", s / n }'
}
near() {
        awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN {
                if (a == "" || b + 0 <= 0) exit 1
                d = a - b; if (d < 0) d = -d
                exit !(d <= b * p / 100) }'
}
daemon_last() { rrdtool last --daemon "$DAEMON" "$1" 2>/dev/null; }
disk_last() { rrdtool last "$1" 2>/dev/null; }
daemon_past() { [ "$(daemon_last "$1")" -gt "$2" ] 2>/dev/null; }
cpu_seconds() {
        if is_v2; then
                awk '$1 == "usage_usec" { printf "%.6f\n", $2 / 1e6 }' "$(cg_root_dir cpu)/$1/cpu.stat"
        else
                awk '{ printf "%.6f\n", $1 / 1e9 }' "$CG_MOUNT/cpuacct/$TEST_ROOT/$1/cpuacct.usage"
        fi
}

check "rrdcached starts on $DSOCK" start_rrdcached || exit 1
write_guest 311 "cpu.limit = 0.5"
check "ubcd starts" start_ubcd -v || exit 1
check "ubcd says it writes through rrdcached" grep -q "through rrdcached at '*$DAEMON" "$TEST_DIR/ubcd.log"
check "STATE/rrd/311.rrd is made" wait_for 20 test -f "$RRD/311.rrd"
spawn "$UBCCTL" -s "$SOCK" run 311 -- "$HELPERS/cpuhog"
sleep 2
t0=$(date +%s)
c0=$(cpu_seconds 311)
sleep 12
c1=$(cpu_seconds 311)
t1=$(date +%s)

# --- the updates are in the daemon ---

dl=$(daemon_last "$RRD/311.rrd")
fl=$(disk_last "$RRD/311.rrd")
diag "311.rrd: last update $dl in rrdcached, $fl on disk"
check "rrdcached has 311's updates of the last $BATCH steps" test "${dl:-0}" -ge $((t1 - (BATCH + 2) * STEP))
check "they are not on disk yet (they went through the daemon)" test "${fl:-0}" -lt "${dl:-0}"
kernel_cpu=$(awk -v a="$c0" -v b="$c1" -v t=$((t1 - t0)) 'BEGIN { printf "%.4f\n", (b - a) / t }')
rrd_cpu=$(ds_mean "$RRD/311.rrd" cpu 10 --daemon "$DAEMON")
diag "311: cpu $rrd_cpu in the RRD (fetched through rrdcached), the kernel counted $kernel_cpu"
check "311 cpu through rrdcached is within 10% of what the kernel counted" near "$rrd_cpu" "$kernel_cpu" 10
if awk -v k="$kernel_cpu" 'BEGIN { exit !(k >= 0.45) }'; then
        check "311 cpu through rrdcached is 0.5 CPUs within 10%" near "$rrd_cpu" 0.5 10
else
        ok "# SKIP 311 got only $kernel_cpu CPUs here (a busy host), not its 0.5 cap"
fi
check "rrdtool flushcached writes them to the file" rrdtool flushcached --daemon "$DAEMON" "$RRD/311.rrd"
check "after the flush the file has them" test "$(disk_last "$RRD/311.rrd")" -ge "$dl"
check "host.rrd has updates through rrdcached too" daemon_past "$RRD/host.rrd" "$(disk_last "$RRD/host.rrd")"
sleep $((2 * STEP))
t2=$(date +%s)
write_held() { "$UBCCTL" -c "$CFG" -s "$SOCK" report --since 1m --guest 311 >/dev/null 2>&1; }
check "ubcctl report asks ubcd to write what it holds back" write_held
check "and rrdcached to write it: 311.rrd on disk has every whole step" test "$(disk_last "$RRD/311.rrd")" -ge $((t2 - 2 * STEP))

# --- rrdcached goes away and comes back ---

warnings() { grep -c 'warning:.*rrdcached' "$TEST_DIR/ubcd.log"; }
w0=$(warnings)
old=$RRDCACHED_PID
stop_rrdcached
check "rrdcached is gone" sh -c "! kill -0 $old 2>/dev/null"
sleep 5
check "ubcd goes on without it" ubcd_answers
w1=$(warnings)
diag "$(grep 'warning:.*rrdcached' "$TEST_DIR/ubcd.log" | tail -n 3)"
check_eq "ubcd warns once that rrdcached is gone, not every sweep" 1 $((w1 - w0))
gone_at=$(disk_last "$RRD/311.rrd") # -F: the daemon wrote what it held when it ended
check "rrdcached comes back" start_rrdcached
check "311's updates resume through it" wait_for 20 daemon_past "$RRD/311.rrd" "$gone_at"
check "ubcd says rrdcached answers again" wait_for 10 grep -q "rrdcached at .* answers again" "$TEST_DIR/ubcd.log"
check_eq "no further warnings" "$w1" "$(warnings)"
check "ubcd is still running" kill -0 "$UBCD_PID"

if [ "$tap_failed" != 0 ]; then
        diag "ubcd's log:"
        grep -v ': debug: ' "$TEST_DIR/ubcd.log" | tail -n 30 | sed 's/^/#   /'
        diag "rrdcached's log:"
        tail -n 10 "$TEST_DIR/rrdcached.log" | sed 's/^/#   /'
fi
tap_done
