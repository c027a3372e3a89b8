#!/bin/bash
# The vm suite (meson, protocol tap): boots Debian's kernel under qemu with a busybox initramfs
# holding ubcd and the tests (tests/vm/build-image.sh), runs them against a real cgroup v2
# /sys/fs/cgroup and turns the serial console into one TAP stream.
#
#   tests/vm/run.sh                     the whole suite, TAP on stdout
#   UBC_VM_TESTS="t-oom host/foo" ...   a subset, by name
#   UBC_VM_SHELL=1 tests/vm/run.sh      the same VM with a shell on the console (Ctrl-A x quits)
#
# Environment: UBC_SOURCE_ROOT, UBC_BUILD_ROOT, UBCD, UBCCTL (meson sets them);
# UBC_VM_CACHE (default $UBC_BUILD_ROOT/vm-cache: kernel, initramfs, disk, console.log);
# UBC_VM_TIMEOUT (seconds for the whole boot, default 900); UBC_VM_TEST_TIMEOUT (seconds per
# test inside, default 300); UBC_VM_ACCEL (kvm or tcg; default kvm if a probe boot works,
# else tcg); UBC_VM_VERBOSE=1 (copy the console to stderr as it comes); UBC_VM_APPEND (more
# kernel arguments, e.g. loglevel=7).

set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
export UBC_SOURCE_ROOT=${UBC_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
export UBC_BUILD_ROOT=${UBC_BUILD_ROOT:-$UBC_SOURCE_ROOT/build}
export UBC_VM_CACHE=${UBC_VM_CACHE:-$UBC_BUILD_ROOT/vm-cache}
cache=$UBC_VM_CACHE
vm_timeout=${UBC_VM_TIMEOUT:-900}
test_timeout=${UBC_VM_TEST_TIMEOUT:-300}
shell_mode=${UBC_VM_SHELL:-}
qemu=${UBC_VM_QEMU:-qemu-system-x86_64}

# meson's TAP reader takes a skip as "1..0 # SKIP" with exit 0 (tests/meson.build sets
# UBC_TAP_SKIP_EXIT=0); run by hand, 77 says the same.
skip() {
        echo "1..0 # SKIP $*"
        exit "${UBC_TAP_SKIP_EXIT:-77}"
}

command -v "$qemu" >/dev/null || skip "$qemu not found (apt-get install qemu-system-x86)"
command -v timeout >/dev/null || skip "timeout not found (coreutils)"
accels=$("$qemu" -accel help 2>/dev/null) || skip "$qemu does not run here: $("$qemu" -accel help 2>&1 | head -n 1)"

mkdir -p "$cache" || skip "cannot create the VM cache $cache"
# One run at a time per cache: the image, the disk and the log are shared.
if command -v flock >/dev/null; then
        exec 9>"$cache/lock"
        flock 9
fi

err=$(bash "$here/build-image.sh" 2>&1)
rc=$?
if [ $rc != 0 ]; then
        [ $rc = 77 ] && skip "$(echo "$err" | tail -n 1 | sed 's/^build-image: //')"
        echo "1..1"
        echo "not ok 1 - vm: building the image failed (exit status $rc)"
        echo "$err" | sed 's/^/# /'
        exit 1
fi
[ -n "${UBC_VM_VERBOSE:-}" ] && [ -n "$err" ] && echo "$err" >&2

kernel=$cache/vmlinuz
initrd=$cache/initrd.gz
disk=$cache/disk.img
[ -s "$disk" ] || truncate -s 64M "$disk" || dd if=/dev/zero of="$disk" bs=1M count=0 seek=64 2>/dev/null

qemu_args=(-m 1024 -smp 2 -nographic -no-reboot -nic none
        -kernel "$kernel" -initrd "$initrd"
        -drive "file=$disk,if=virtio,format=raw")
append="console=ttyS0 quiet panic=-1 ${UBC_VM_APPEND:-}"

# KVM only when it boots this very image quickly; the answer is kept per qemu, kernel and
# host kernel, so a machine where it hangs pays for the probe once.
choose_accel() {
        if [ -n "${UBC_VM_ACCEL:-}" ]; then
                echo "$UBC_VM_ACCEL"
                return
        fi
        if ! echo "$accels" | grep -qx kvm || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
                echo tcg
                return
        fi
        key="$("$qemu" -version | head -n 1) $(readlink "$kernel") $(uname -r)"
        if [ -f "$cache/accel-probe" ] && [ "$(head -n 1 "$cache/accel-probe")" = "$key" ]; then
                sed -n 2p "$cache/accel-probe"
                return
        fi
        a=tcg
        if timeout -k 5 20 "$qemu" -accel kvm "${qemu_args[@]}" -append "$append ubc.probe=1" \
                </dev/null 2>&1 | grep -q '@@UBC-VM PROBE-OK'; then
                a=kvm
        fi
        printf '%s\n%s\n' "$key" "$a" >"$cache/accel-probe"
        echo "$a"
}
accel=$(choose_accel)
if ! echo "$accels" | grep -qx "$accel"; then
        skip "$qemu offers no usable accelerator (wanted $accel; has: $(echo "$accels" | tail -n +2 | tr '\n' ' '))"
fi

# Can qemu start a machine here at all (memory, firmware)? If not this machine cannot run the
# suite: a skip with qemu's reason. Everything after this point failing is a failure.
if ! pre=$(echo quit | timeout 30 "$qemu" -accel "$accel" -m 1024 -smp 2 -display none -nodefaults \
        -monitor stdio -S 2>&1); then
        skip "$qemu cannot start a machine here: $(echo "$pre" | grep -v '^QEMU\|^(qemu)' | head -n 2 | tr '\n' ' ')"
fi

if [ -n "$shell_mode" ]; then
        echo "Booting the test VM with a shell on this console; 'exit' powers it off, Ctrl-A x kills it." >&2
        exec "$qemu" -accel "$accel" "${qemu_args[@]}" -append "$append ubc.shell=1"
fi

if [ -n "${UBC_VM_TESTS:-}" ]; then
        append="$append ubc.tests=$(echo "$UBC_VM_TESTS" | tr -s ' \t\n' ',' | sed 's/^,//; s/,$//')"
fi
append="$append ubc.test_timeout=$test_timeout"

log=$cache/console.log
start=$(date +%s)
if [ -n "${UBC_VM_VERBOSE:-}" ]; then
        timeout -k 10 "$vm_timeout" "$qemu" -accel "$accel" "${qemu_args[@]}" -append "$append" \
                </dev/null 2>&1 | tee "$log" >&2
        qemu_rc=${PIPESTATUS[0]}
else
        timeout -k 10 "$vm_timeout" "$qemu" -accel "$accel" "${qemu_args[@]}" -append "$append" \
                </dev/null >"$log" 2>&1
        qemu_rc=$?
fi
took=$(($(date +%s) - start))

awk -v qemu_rc="$qemu_rc" -v timeout="$vm_timeout" -v accel="$accel" \
        -f "$here/console-to-tap.awk" "$log"
rc=$?
echo "# vm: $took s in qemu ($accel), initramfs $(($(stat -c %s "$initrd") / 1024)) KiB, console log $log"
if ! grep -q '@@UBC-VM DONE' "$log" || [ "$qemu_rc" != 0 ]; then
        echo "# last 40 lines of the console:"
        tail -n 40 "$log" | tr -d '\r' | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/^/#   /'
fi
exit $rc
