#!/bin/bash
# Benchmark: start-to-running latency, RUNS times each (default 5), median, in the same run:
#   a) a busybox container: `ubcctl start` (ubcd: validation, liblxc start in the guest's
#      cgroup, pidfd watch, state record) vs `lxc-start -d` on the same container config;
#      both return once liblxc reports it RUNNING;
#   b) a tiny VM (Debian's kernel, a busybox initramfs, TCG): `ubcctl start` until its serial
#      console says it is up vs qemu started by hand with the same arguments, to the same line;
#   c) a) again once ubcd also holds GUESTS other guests (default 1000; their sampler files
#      open, as on a full host), vs lxc-start in the same rounds.
# The two container starts take turns, each first in every other round, each after the last
# stop has settled; added_ms is the median of the rounds' differences.
# Prints numbers, never pass/fail. Needs root, lxc, qemu; exits 77 where they are missing.
# Makes only ubc-bench-launch-<pid> cgroups and removes them; kills only what it started.
#
#   bench-launch.sh [-r RUNS] [-g GUESTS] [-s SECONDS] [-c]
#   -s: the pause before each container start (default 0.3; 0: back to back)
#   -c: containers only, no VM rounds
set -u
export LC_ALL=C
RUNS=5
GUESTS=1000
SETTLE=0.3
VM=yes
while [ $# -gt 0 ]; do
        case $1 in
        -r) RUNS=$2; shift 2 ;;
        -g) GUESTS=$2; shift 2 ;;
        -s) SETTLE=$2; shift 2 ;;
        -c) VM=; shift ;;
        *) echo "usage: bench-launch.sh [-r RUNS] [-g GUESTS] [-s SECONDS] [-c]" >&2; exit 2 ;;
        esac
done
src=${UBC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${UBC_BUILD_ROOT:-$src/build}
UBCD=${UBCD:-$build/agent/ubcd}
UBCCTL=${UBCCTL:-$build/agent/ubcctl}
[ "$(id -u)" = 0 ] || { echo "# SKIP: needs root"; exit 77; }
command -v lxc-start >/dev/null && command -v qemu-system-x86_64 >/dev/null || { echo "# SKIP: needs lxc and qemu"; exit 77; }
"$src/tests/vm/build-image.sh" --kernel-only >/dev/null 2>&1 || { echo "# SKIP: no kernel for the VM"; exit 77; }
kernel=$(readlink -f "${UBC_VM_CACHE:-$build/vm-cache}/vmlinuz")

root=ubc-bench-launch-$$
dir=$(mktemp -d /tmp/ubc-bench-launch.XXXXXX)
chmod 755 "$dir"
cfg=$dir/etc state=$dir/state run=$dir/run sock=$dir/run/ubcd.sock
mkdir -p "$cfg/guests.d" "$cfg/policies.d" "$state" "$run"
printf '[agent]\nstate_dir = %s\nrun_dir = %s\nroot = %s\n' "$state" "$run" "$root" >"$cfg/ubcd.conf"
ubcd_pid=
subid_added=
cleanup() {
        "$UBCCTL" -s "$sock" stop 801 --kill >/dev/null 2>&1
        "$UBCCTL" -s "$sock" stop 802 --kill >/dev/null 2>&1
        [ -n "$ubcd_pid" ] && kill "$ubcd_pid" 2>/dev/null && wait "$ubcd_pid" 2>/dev/null
        "$UBCCTL" -c "$cfg" destroy 801 >/dev/null 2>&1
        for f in $subid_added; do
                n=$(grep -nx root:100000:65536 "$f" | tail -1 | cut -d: -f1)
                [ -n "$n" ] && sed -i "${n}d" "$f"
        done
        for m in $(awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts); do
                [ -d "$m/$root" ] || continue
                find "$m/$root" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
        rm -rf "$dir"
}
trap cleanup EXIT
if command -v newuidmap >/dev/null; then
        for f in /etc/subuid /etc/subgid; do
                grep -qx root:100000:65536 "$f" 2>/dev/null || { echo root:100000:65536 >>"$f"; subid_added="$subid_added $f"; }
        done
fi

# The VM's initramfs: busybox saying it is up.
mkdir -p "$dir/ir/bin"
cp "$(command -v busybox)" "$dir/ir/bin/busybox"
printf '#!/bin/busybox sh\necho ubc-bench-vm: up\nwhile :; do /bin/busybox sleep 3600; done\n' >"$dir/ir/init"
chmod +x "$dir/ir/init"
(cd "$dir/ir" && find . | cpio -o -H newc 2>/dev/null | gzip) >"$dir/initrd.gz"
cat >"$cfg/guests.d/802.conf" <<VM
[guest]
type = vm
memory = 256M:512M
[vm]
kernel = $kernel
initrd = $dir/initrd.gz
append = console=ttyS0 quiet
memory = 128M
accel = tcg
VM

sh "$src/tests/helpers/mk-busybox-template.sh" "$state" >/dev/null
"$UBCD" -f -c "$cfg" >"$dir/ubcd.log" 2>&1 &
ubcd_pid=$!
for _ in $(seq 50); do "$UBCCTL" -s "$sock" status >/dev/null 2>&1 && break; sleep 0.1; done
"$UBCCTL" -c "$cfg" create 801 --template busybox.tar.gz >/dev/null 2>&1 || { echo "bench-launch: create failed" >&2; exit 1; }
for _ in $(seq 50); do [ -d "/sys/fs/cgroup/memory/$root/801" ] || [ -d "/sys/fs/cgroup/$root/801" ] && break; sleep 0.1; done

now() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ms() { echo "($2 - $1) * 1000" | bc; }

# Before each start, the same state for both: what the last stop set going (the container's end,
# the kernel freeing its namespaces and cgroups) is over. Back to back, that work of one start's
# predecessor slows it and not the other. (Starts after a pause take about twice as long here:
# the kernel waits longer on idle CPUs.)
settle() { sleep "$SETTLE"; }

# lxc-stop leaves the monitor's cgroups (lxc.monitor, lxc.pivot), which a next lxc-start trips
# over and ubcctl start removes first: gone before either is timed.
clear_lxc_leftovers() {
        for m in $(awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts); do
                for sub in lxc lxc.monitor lxc.pivot; do
                        [ -d "$m/$root/801/$sub" ] && find "$m/$root/801/$sub" -depth -type d -exec rmdir {} \; 2>/dev/null
                done
        done
}

ubc_once() {
        t0=$(now); "$UBCCTL" -s "$sock" start 801 >/dev/null || exit 1; t1=$(now)
        ct_ubc+=("$(ms "$t0" "$t1")")
        "$UBCCTL" -s "$sock" stop 801 --kill >/dev/null
        settle
}
# the same container, its config as ubcd wrote it, in the same cgroup subtree
lxc_once() {
        t0=$(now); lxc-start -n 801 -P "$state/lxc" -d || exit 1; t1=$(now)
        ct_lxc+=("$(ms "$t0" "$t1")")
        lxc-stop -n 801 -P "$state/lxc" -k
        clear_lxc_leftovers
        settle
}

# RUNS of each, the two in turns, each first in every other round; sets ct_ubc, ct_lxc.
container_rounds() {
        ct_ubc=() ct_lxc=()
        for i in $(seq "$RUNS"); do
                if [ $((i % 2)) = 1 ]; then ubc_once; lxc_once; else lxc_once; ubc_once; fi
        done
}
container_rounds

console_up() { for _ in $(seq 1200); do grep -q "ubc-bench-vm: up" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
vm_ubc=() vm_hand=() vm_runs=0
[ -n "$VM" ] && vm_runs=$RUNS
for _ in $(seq "$vm_runs"); do
        rm -f "$state/vm/802.console"
        t0=$(now); "$UBCCTL" -s "$sock" start 802 >/dev/null || exit 1; console_up "$state/vm/802.console"; t1=$(now)
        vm_ubc+=("$(ms "$t0" "$t1")")
        args=$(tr '\0' '\n' </proc/"$(cat "$state/launched/802" | sed -n 's/^pid=//p')"/cmdline | sed 1d)
        "$UBCCTL" -s "$sock" stop 802 --kill >/dev/null
        mapfile -t argv <<<"$args"
        # by hand: the same arguments, its own console file and socket
        for i in "${!argv[@]}"; do argv[$i]=${argv[$i]//$state\/vm\/802.console/$dir/hand.console}; argv[$i]=${argv[$i]//$run\/vm-802.qmp/$dir/hand.qmp}; done
        rm -f "$dir/hand.console"
        t0=$(now); qemu-system-x86_64 "${argv[@]}" >/dev/null 2>&1 & qpid=$!; console_up "$dir/hand.console"; t1=$(now)
        vm_hand+=("$(ms "$t0" "$t1")")
        kill "$qpid"; wait "$qpid" 2>/dev/null
done

a=$(printf '%s\n' "${ct_ubc[@]}" | median) b=$(printf '%s\n' "${ct_lxc[@]}" | median)
c=$(printf '%s\n' "${vm_ubc[@]}" | median) d=$(printf '%s\n' "${vm_hand[@]}" | median)
echo "# container runs (ms): ubcctl ${ct_ubc[*]}; lxc-start ${ct_lxc[*]}"
[ -n "$VM" ] && echo "# vm runs (ms): ubcctl ${vm_ubc[*]}; by hand ${vm_hand[*]}"
pct() { echo "($1 - $2) * 100 / $2" | bc -l | xargs printf '%.1f'; }
# What ubcctl adds, from the pairs of one round (less noisy than a difference of medians).
added() { for i in "${!ct_ubc[@]}"; do echo "${ct_ubc[$i]} - ${ct_lxc[$i]}" | bc; done | median | xargs printf '%.2f'; }
echo "RESULT container ubcctl_ms=$a lxc_start_ms=$b overhead_pct=$(pct "$a" "$b") added_ms=$(added)"
[ -n "$VM" ] && echo "RESULT vm ubcctl_ms=$c by_hand_ms=$d overhead_pct=$(pct "$c" "$d")"

[ "$GUESTS" -gt 0 ] || exit 0
for i in $(seq 10000 $((10000 + GUESTS - 1))); do
        printf '[guest]\nmemory = 64M:128M\ntasks = 100\n' >"$cfg/guests.d/$i.conf"
done
"$UBCCTL" -s "$sock" reload >/dev/null || { echo "bench-launch: reload with $GUESTS guests failed" >&2; exit 1; }
# the next sweep (interval 10 s) opens their files; the container starts with them held
for _ in $(seq 120); do
        [ "$(ls /proc/"$ubcd_pid"/fd | wc -l)" -gt "$GUESTS" ] && break
        sleep 0.5
done
sleep 1
echo "# ubcd holds $(ls /proc/"$ubcd_pid"/fd | wc -l) files with $GUESTS more guests"
container_rounds
a=$(printf '%s\n' "${ct_ubc[@]}" | median) b=$(printf '%s\n' "${ct_lxc[@]}" | median)
echo "# container runs with $GUESTS guests (ms): ubcctl ${ct_ubc[*]}; lxc-start ${ct_lxc[*]}"
echo "RESULT container_${GUESTS}_guests ubcctl_ms=$a lxc_start_ms=$b overhead_pct=$(pct "$a" "$b") added_ms=$(added)"
