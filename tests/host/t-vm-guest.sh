#!/bin/sh
# A VM guest: ubcd starts qemu (TCG) inside the guest's cgroup, list shows it running, a second
# start is refused, it survives a kill -9 of ubcd and is taken over (same PID, stop works,
# beancounters go on), stop leaves no process, socket or state behind, a VM that dies on its
# own is noticed, onboot starts one with ubcd, and bad [vm] settings are clear errors with
# nothing started. The kernel is Debian's, as the VM suite fetches it; the initramfs is a
# busybox that says it is up and sleeps.
. "${UBC_SOURCE_ROOT:-.}/tests/lib.sh"
need_root
[ -x "$UBCD" ] && [ -x "$UBCCTL" ] || skip_all "ubcd or ubcctl not built"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not installed"
busybox=$(command -v busybox) || skip_all "busybox not installed (apt-get install busybox-static)"
command -v cpio >/dev/null || skip_all "cpio not installed"
command -v jq >/dev/null || skip_all "jq not installed"
build=${UBC_BUILD_ROOT:-build}
cache=${UBC_VM_CACHE:-$build/vm-cache}
"${UBC_SOURCE_ROOT:-.}/tests/vm/build-image.sh" --kernel-only >/dev/null 2>&1
case $? in
0) ;;
77) skip_all "no kernel for a test VM (tests/vm/build-image.sh --kernel-only says why)" ;;
*) echo "not ok 1 - tests/vm/build-image.sh --kernel-only fetched the kernel"; exit 1 ;;
esac
kernel=$(readlink -f "$cache/vmlinuz")

make_test_dir
printf '[agent]\ninterval = 1s\nstate_dir = %s\nrun_dir = %s\n' "$STATE" "$RUN" >"$CFG/ubcd.conf"

# The VM: busybox as /init, one line on the serial console once it runs.
mkdir -p "$TEST_DIR/ir/bin"
cp "$busybox" "$TEST_DIR/ir/bin/busybox"
cat >"$TEST_DIR/ir/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /dev
/bin/busybox mount -t proc proc /proc
echo "ubc-test-vm: up"
while :; do /bin/busybox sleep 3600; done
INIT
chmod +x "$TEST_DIR/ir/init"
(cd "$TEST_DIR/ir" && find . | cpio -o -H newc 2>/dev/null | gzip) >"$TEST_DIR/initrd.gz"

vm_guest() { # ID [more lines for [guest]] -- [more lines for [vm]]
        id=$1
        shift
        {
                echo "[guest]"
                echo "type = vm"
                echo "memory = ${GUEST_MEMORY:-256M:512M}"
                while [ $# -gt 0 ] && [ "$1" != -- ]; do echo "$1"; shift; done
                [ "${1:-}" = -- ] && shift
                echo "[vm]"
                echo "kernel = $kernel"
                echo "initrd = $TEST_DIR/initrd.gz"
                echo "append = console=ttyS0 quiet panic=-1"
                echo "memory = 128M"
                echo "accel = tcg"
                echo "stop_timeout = 2s"
                for l in "$@"; do echo "$l"; done
        } >"$CFG/guests.d/$id.conf"
}
vm_guest 601 "name = tiny"
vm_guest 602 "onboot = yes"
check "ubcd starts (and starts the onboot VM 602)" start_ubcd -v || exit 1

procs() { cat "$(cg_root_dir memory)/$1/cgroup.procs" 2>/dev/null; }
state() { ctl list 2>/dev/null | awk -v id="$1" '$1 == id { print $5 }'; }
list_pid() { ctl --json list 2>/dev/null | jq ".[] | select(.id == $1) | .pid // empty"; }
# Gone: no such process, or a zombie its new parent has not reaped (its cmdline is empty).
gone() { ! grep -q qemu "/proc/$1/cmdline" 2>/dev/null; }
console_up() { grep -q "ubc-test-vm: up" "$STATE/vm/$1.console" 2>/dev/null; }

check_eq "onboot: 602 runs once ubcd is up" running "$(state 602)"
check_eq "601 is stopped before its start" stopped "$(state 601)"

# --- start: qemu in the guest's cgroup from its first instruction ---
out=$(ctl start 601 2>&1)
pid=$(echo "$out" | sed -n 's/^Guest 601 started, PID \([0-9]*\)$/\1/p')
check "start prints the PID" test -n "$pid"
check_eq "its PID is the one process in 601's cgroup" "$pid" "$(procs 601)"
check "its command line is qemu's" grep -q qemu-system "/proc/$pid/cmdline"
check_eq "list shows it running" running "$(state 601)"
check_eq "list --json has its PID" "$pid" "$(list_pid 601)"
check "the VM boots (serial console in STATE/vm/601.console)" wait_for 90 console_up 601
check "a second start is refused" sh -c '! "$1" -s "$2" start 601 2>"$3/err"' _ "$UBCCTL" "$SOCK" "$TEST_DIR"
check "  saying it runs" grep -q "Guest 601 is already running (PID $pid)" "$TEST_DIR/err"

# --- kill -9 of ubcd: the VM stays, the next ubcd takes it over ---
kill -9 "$UBCD_PID"
wait "$UBCD_PID" 2>/dev/null
UBCD_PID=
check "the VM outlives ubcd's kill -9" kill -0 "$pid"
check "ubcd comes back" start_ubcd -v
check_eq "list shows 601 running again, same PID" "running $pid" "$(state 601) $(list_pid 601)"
check "the log says it was taken over" grep -q "Guest 601 (vm, PID $pid) is running: taken over" "$TEST_DIR/ubcd.log"
held() { ctl beancounters 601 2>/dev/null | awk '$1 == "physpages" || $2 == "physpages" { print ($1 == "physpages" ? $2 : $3) }'; }
has_memory() { [ "$(held)" -gt 1000 ] 2>/dev/null; }
check "beancounters go on: 601 holds its VM's memory" wait_for 10 has_memory

# --- stop: ACPI powerdown (the busybox VM ignores it), then quit ---
check "stop returns once it is down" ctl stop 601
check "no qemu left" gone "$pid"
check_eq "its cgroup is empty" "" "$(procs 601)"
check_eq "list shows it stopped" stopped "$(state 601)"
check "no QMP socket left" test ! -e "$RUN/vm-601.qmp"
check "nothing left in STATE/launched" test ! -e "$STATE/launched/601"
check "the log tells the steps" grep -q "Guest 601 did not power down in time; telling qemu to quit" "$TEST_DIR/ubcd.log"
check "a stop of a stopped guest is refused" sh -c '! "$1" -s "$2" stop 601 2>"$3/err"' _ "$UBCCTL" "$SOCK" "$TEST_DIR"
check "  saying it is not running" grep -q "Guest 601 is not running" "$TEST_DIR/err"

# --- a VM that dies on its own ---
pid602=$(list_pid 602)
kill -9 "$pid602"
check "a VM killed from outside is noticed" wait_for 10 sh -c "[ \"\$('$UBCCTL' -s '$SOCK' list | awk '\$1 == 602 { print \$5 }')\" = stopped ]"
# 602 was taken over, so its exit status went to the ubcd that started it; 601 is ubcd's own.
check "  and logged" grep -q "Guest 602 (vm, PID $pid602) ended on its own" "$TEST_DIR/ubcd.log"
ctl start 601 >/dev/null
pid601=$(list_pid 601)
kill -9 "$pid601"
check "a VM of this ubcd that dies is logged with how it ended" \
        wait_for 10 grep -q "Guest 601 (vm, PID $pid601) ended on its own: killed by Killed" "$TEST_DIR/ubcd.log"
check "stop --kill ends a running VM at once" sh -c '"$1" -s "$2" start 602 >/dev/null && "$1" -s "$2" stop 602 --kill' \
        _ "$UBCCTL" "$SOCK"
check_eq "  leaving its cgroup empty" "" "$(procs 602)"

# --- bad input: a clear error, nothing started ---
vm_guest 603 -- "qemu = /nonexistent/qemu-system-x86_64"
GUEST_MEMORY=128M:200M vm_guest 604
vm_guest 605
sed -i "s|^kernel = .*|kernel = $TEST_DIR/no-such-vmlinuz|" "$CFG/guests.d/605.conf"
ctl reload >/dev/null 2>&1
"$UBCCTL" check "$CFG" >"$TEST_DIR/check" 2>&1
check "check names a missing qemu with file:line" grep -q "guests.d/603.conf:[0-9]*: qemu: '/nonexistent/qemu-system-x86_64' not found" "$TEST_DIR/check"
check "check names a limit below the VM's RAM" grep -q "guests.d/604.conf:[0-9]*: memory: the guest's memory limit 200M is below the VM's 128M of RAM plus 128M" "$TEST_DIR/check"
check "check names a missing kernel" grep -q "guests.d/605.conf:[0-9]*: kernel: '$TEST_DIR/no-such-vmlinuz': No such file" "$TEST_DIR/check"
for id in 603 604 605; do
        check "start of $id fails" sh -c '! "$1" -s "$2" start "$3" 2>"$4/err.$3"' _ "$UBCCTL" "$SOCK" $id "$TEST_DIR"
        check_eq "  leaving $id stopped with an empty cgroup" "stopped:" "$(state $id):$(procs $id)"
done
check "a slice cannot be started" sh -c 'printf "[guest]\n" >"$3/guests.d/606.conf"; "$1" -s "$2" reload >/dev/null; ! "$1" -s "$2" start 606 2>&1 | grep -q "is a slice: it launches nothing" && exit 1; exit 0' _ "$UBCCTL" "$SOCK" "$CFG"

check "ubcd is still running" kill -0 "$UBCD_PID"
if [ "$tap_failed" != 0 ]; then
        diag "ubcd's log:"
        grep -v ': debug: ' "$TEST_DIR/ubcd.log" | tail -n 30 | sed 's/^/#   /'
fi
tap_done
