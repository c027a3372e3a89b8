#!/bin/sh
# vm suite smoke check, run first: the VM is the cgroup v2 host the other tests assume
# (cgroup2 alone on /sys/fs/cgroup, every controller ubc drives, a virtio disk) and the
# programs the tests run work in it.

. "${UBC_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib.sh"

[ -n "${UBC_VM:-}" ] || skip_all "runs inside the test VM (tests/vm/run.sh)"
need_root
HELPERS=${UBC_BUILD_ROOT:-build}/tests/helpers

tap_plan 9

fstype=$(awk -v m="$CG_MOUNT" '$2 == m { t = $3 } END { print t }' /proc/mounts)
check_eq "cgroup2 is mounted on $CG_MOUNT" cgroup2 "$fstype"
check_eq "ubc sees a unified host" unified "$(cg_mode)"

have=$(cat "$CG_MOUNT/cgroup.controllers" 2>/dev/null)
diag "controllers: $have"
missing=
for c in cpu cpuset memory io pids; do
        case " $have " in *" $c "*) ;; *) missing="$missing $c" ;; esac
done
check_eq "root offers cpu, cpuset, memory, io and pids" "" "$missing"

check "root has PSI files" test -f "$CG_MOUNT/cpu.pressure" -a -f "$CG_MOUNT/memory.pressure"
check "virtio disk /dev/vda for io.max" test -b /dev/vda
diag "vda is $(cat /sys/class/block/vda/dev 2>/dev/null), scheduler $(cat /sys/class/block/vda/queue/scheduler 2>/dev/null)"

# The helpers and the daemon load in this image (their shared libraries came along).
out=$("$HELPERS/memhog" 4 0 2>&1 | tail -n 1)
check_eq "memhog runs" "memhog: holding 4 MiB" "$out"
out=$("$HELPERS/forker" 3 0 2>&1)
check_eq "forker runs" "forker: forked=3 eagain=0 other=0" "$out"
check "cpuhog runs for 1 s" "$HELPERS/cpuhog" 1

if [ -x "$UBCD" ]; then
        # Any exit status will do: a loader error (missing library) is 127 and prints why.
        "$UBCD" --help >"$TMPDIR/ubcd-help.$$" 2>&1
        rc=$?
        if [ $rc = 127 ] || grep -q 'error while loading shared libraries' "$TMPDIR/ubcd-help.$$"; then
                not_ok "ubcd loads its shared libraries"
                sed 's/^/#   /' "$TMPDIR/ubcd-help.$$"
        else
                ok "ubcd loads its shared libraries"
        fi
        rm -f "$TMPDIR/ubcd-help.$$"
else
        ok "ubcd loads its shared libraries # SKIP ubcd not in the image"
fi

tap_done
