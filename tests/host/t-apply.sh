#!/bin/sh
# Every limit key of a class and a guest lands in the kernel's cgroup files, on v1 and v2.
. "${UBC_SOURCE_ROOT:-.}/tests/lib.sh"
need_root
make_test_dir

disk=$(first_disk) || skip_all "no block device for io.limit"
disk_name=${disk% *}
disk_dev=${disk#* }
ncpu=$(nproc)
last_cpu=$((ncpu - 1))

cat >"$CFG/policies.d/classes.policy" <<EOT
[class gold]
cpu.units = 2048
cpu.limit = 1.5
memory = 256M:512M
tasks = 300

[class bronze]
cpu.units = 256
memory = 128M
EOT
write_guest 101 "class = gold" "name = web" "cpu.set = 0-$last_cpu" "io.limit = /dev/$disk_name rbps=50M wiops=500"
write_guest 102 "class = bronze" "tasks = 64" "cpu.limit = 0.5"

check "ubcd starts" start_ubcd

if is_v2; then
        check_eq "101 cpu.weight from cpu.units 2048" 200 "$(cg_read 101 cpu cpu.weight)"
        check_eq "101 cpu.max from cpu.limit 1.5" "150000 100000" "$(cg_read 101 cpu cpu.max)"
        check_eq "101 memory.high from the barrier" 268435456 "$(cg_read 101 memory memory.high)"
        check_eq "101 memory.max from the limit" 536870912 "$(cg_read 101 memory memory.max)"
        check_eq "101 io.max for $disk_name" "$disk_dev rbps=52428800 wbps=max riops=max wiops=500" \
                "$(cg_read 101 io io.max)"
        check_eq "102 cpu.weight from cpu.units 256" 25 "$(cg_read 102 cpu cpu.weight)"
        check_eq "102 cpu.max from cpu.limit 0.5" "50000 100000" "$(cg_read 102 cpu cpu.max)"
        check_eq "102 memory.high = memory.max for a single value" 134217728 "$(cg_read 102 memory memory.high)"
        check_eq "102 memory.max" 134217728 "$(cg_read 102 memory memory.max)"
        check_eq "102 has no io.max line" "" "$(cg_read 102 io io.max)"
else
        check_eq "101 cpu.shares from cpu.units 2048" 2048 "$(cg_read 101 cpu cpu.shares)"
        check_eq "101 cpu.cfs_quota_us from cpu.limit 1.5" 150000 "$(cg_read 101 cpu cpu.cfs_quota_us)"
        check_eq "101 memory.soft_limit_in_bytes from the barrier" 268435456 \
                "$(cg_read 101 memory memory.soft_limit_in_bytes)"
        check_eq "101 memory.limit_in_bytes from the limit" 536870912 "$(cg_read 101 memory memory.limit_in_bytes)"
        check_eq "101 blkio read_bps for $disk_name" "$disk_dev 52428800" \
                "$(cg_read 101 io blkio.throttle.read_bps_device)"
        check_eq "101 blkio write_iops for $disk_name" "$disk_dev 500" \
                "$(cg_read 101 io blkio.throttle.write_iops_device)"
        check_eq "102 cpu.shares from cpu.units 256" 256 "$(cg_read 102 cpu cpu.shares)"
        check_eq "102 cpu.cfs_quota_us from cpu.limit 0.5" 50000 "$(cg_read 102 cpu cpu.cfs_quota_us)"
        check_eq "102 memory.limit_in_bytes" 134217728 "$(cg_read 102 memory memory.limit_in_bytes)"
        check_eq "102 cpu.cfs_period_us" 100000 "$(cg_read 102 cpu cpu.cfs_period_us)"
fi
check_eq "101 cpuset.cpus from cpu.set" "$( [ $last_cpu = 0 ] && echo 0 || echo 0-$last_cpu)" \
        "$(cg_read 101 cpuset cpuset.cpus)"
check_eq "101 pids.max from the class" 300 "$(cg_read 101 pids pids.max)"
check_eq "102 pids.max from the guest over its class" 64 "$(cg_read 102 pids pids.max)"

# swap and io.weight exist only where the host accounts swap and has a weight knob; a guest
# added live checks them wherever they do (the bad-input test covers the other hosts).
root_mem=$(cg_root_dir memory)
root_io=$(cg_root_dir io)
extra=
if [ -f "$root_mem/memory.swap.max" ] || [ -f "$root_mem/memory.memsw.limit_in_bytes" ]; then
        extra="swap"
fi
if [ -f "$root_io/io.weight" ] || [ -f "$root_io/blkio.weight" ]; then
        extra="$extra io.weight"
fi
if [ -n "$extra" ]; then
        write_guest 103 "memory = 64M:96M" "swap = 32M" "io.weight = 200"
        case " $extra " in *" io.weight "*) ;; *) sed -i '/io.weight/d' "$CFG/guests.d/103.conf" ;; esac
        case " $extra " in *" swap "*) ;; *) sed -i '/swap/d' "$CFG/guests.d/103.conf" ;; esac
        ctl reload >/dev/null 2>&1
        case " $extra " in *" swap "*)
                if is_v2; then
                        check_eq "103 memory.swap.max from swap" 33554432 "$(cg_read 103 memory memory.swap.max)"
                else
                        check_eq "103 memory.memsw.limit_in_bytes = limit + swap" 134217728 \
                                "$(cg_read 103 memory memory.memsw.limit_in_bytes)"
                fi ;;
        esac
        case " $extra " in *" io.weight "*)
                if is_v2; then
                        check_eq "103 io.weight from io.weight 200" "default 40" "$(cg_read 103 io io.weight | head -1)"
                else
                        check_eq "103 blkio.weight from io.weight 200" 200 "$(cg_read 103 io blkio.weight)"
                fi ;;
        esac
else
        diag "this host has neither swap accounting nor an I/O weight file"
fi

# What ubcctl reports is what the kernel holds, with where each value came from.
show_names_origin() {
        ctl show 101 | grep '^cpu\.units' | grep -q 'classes.policy:2' &&
                ctl show 101 | grep '^cpu\.units' | grep -q 2048
}
check "show 101: cpu.units 2048 from classes.policy:2" show_names_origin
list_has() { ctl list | awk '{print $1}' | grep -qx "$1"; }
check "list shows guest 101" list_has 101
check "list shows guest 102" list_has 102

# ubcctl run puts a command into every hierarchy of the guest.
"$UBCCTL" -s "$SOCK" run 102 -- sleep 60 &
runner=$!
STARTED_PIDS="$STARTED_PIDS $runner"
in_all() {
        for c in cpu cpuset memory pids; do
                grep -qx "$runner" "$(cg_root_dir $c)/102/cgroup.procs" || return 1
        done
}
check "ubcctl run 102 -- sleep: its PID is in every cgroup.procs of the guest" wait_for 10 in_all
check_eq "list: 102 is active while it has a process" active "$(ctl list | awk '$1 == 102 {print $5}')"

stop_ubcd
alive_and_kept() { kill -0 "$runner" && in_all; }
check "stopping ubcd leaves the guest's process and cgroup alone" alive_and_kept
tap_done
