#!/bin/sh
# Container guests through ubcctl, an unprivileged one (ubcctl create from a busybox template:
# progress, guest file) and a privileged one: start puts its init in the guest's cgroup
# subtree, a memory hog inside is stopped at the guest's limit, it survives a kill -9 of ubcd
# and is taken over, stop leaves no process, cgroup or mount, destroy refuses a running one and
# then leaves nothing; bad input is a clear error with no half-made guest.
. "${UBC_SOURCE_ROOT:-.}/tests/lib.sh"
need_root
[ -x "$UBCD" ] && [ -x "$UBCCTL" ] || skip_all "ubcd or ubcctl not built"
command -v lxc-start >/dev/null || skip_all "lxc is not installed"
command -v busybox >/dev/null || skip_all "busybox-static is not installed"
ldd "$(command -v busybox)" >/dev/null 2>&1 && skip_all "busybox is not static (install busybox-static)"
command -v jq >/dev/null || skip_all "jq not installed"
MK_TEMPLATE=${UBC_SOURCE_ROOT:-.}/tests/helpers/mk-busybox-template.sh

make_test_dir
chmod 755 "$TEST_DIR" # an unprivileged container's root must reach its rootfs
printf '[agent]\ninterval = 1s\nstate_dir = %s\nrun_dir = %s\nroot = %s\n' "$STATE" "$RUN" "$TEST_ROOT" \
        >"$CFG/ubcd.conf"
# One value, barrier = limit: on v2 a barrier below the limit is memory.high, which throttles a
# hog between the two (for minutes under an emulated CPU) instead of stopping it at the limit.
cat >"$CFG/policies.d/t.policy" <<'POLICY'
[class small]
memory = 64M
swap = 0
tasks = 64
POLICY
[ "$(awk '$1 == "SwapTotal:" { print $2 }' /proc/meminfo)" = 0 ] && sed -i '/^swap = 0$/d' "$CFG/policies.d/t.policy"

# As t-lxc: root's subordinate ids for an unprivileged container, added only for this run.
SUBID_LINE=root:100000:65536
added_subid=
if command -v newuidmap >/dev/null; then
        for f in /etc/subuid /etc/subgid; do
                grep -qx "$SUBID_LINE" "$f" 2>/dev/null && continue
                echo "$SUBID_LINE" >>"$f"
                added_subid="$added_subid $f"
        done
fi
ct_cleanup() {
        for id in 701 703 704 705 706; do
                [ -n "$UBCD_PID" ] && "$UBCCTL" -s "$SOCK" stop $id --kill >/dev/null 2>&1
                "$UBCCTL" -c "$CFG" destroy $id >/dev/null 2>&1
        done
        for f in $added_subid; do
                n=$(grep -nx "$SUBID_LINE" "$f" | tail -1 | cut -d: -f1)
                [ -n "$n" ] && sed -i "${n}d" "$f"
        done
        cleanup
        for m in $(awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts); do
                cg_rmtree "$m/$TEST_ROOT"
        done
}
trap ct_cleanup EXIT

sh "$MK_TEMPLATE" "$STATE" >/dev/null || skip_all "cannot make the busybox template"
check "ubcd starts" start_ubcd -v || exit 1
state() { ctl list 2>/dev/null | awk -v id="$1" '$1 == id { print $5 }'; }
list_pid() { ctl --json list 2>/dev/null | jq ".[] | select(.id == $1) | .pid // empty"; }
mem_dir() { echo "$(cg_root_dir memory)/$1"; }
# The limit and the count of its hits (the physpages failcnt) as this host's kernel keeps them.
if is_v2; then limit_file=memory.max; else limit_file=memory.limit_in_bytes; fi
mem_fails() {
        if is_v2; then
                awk '$1 == "max" { print $2 }' "$(mem_dir "$1")/memory.events"
        else
                cat "$(mem_dir "$1")/memory.failcnt"
        fi
}

# --- bad input first: nothing half-made ---
check "create without a template is refused" sh -c '! "$1" -c "$2" create 702 --template nope.tar.gz 2>"$3/err"' \
        _ "$UBCCTL" "$CFG" "$TEST_DIR"
check "  naming what is missing" grep -q "nope.tar.gz" "$TEST_DIR/err"
check "  leaving no guest file" test ! -e "$CFG/guests.d/702.conf"
check "  and no container folder" test ! -e "$STATE/lxc/702"
head -c 3000 "$STATE/template/busybox.tar.gz" >"$STATE/template/cut.tar.gz"
check "a corrupt tarball is refused" sh -c '! "$1" -c "$2" create 702 --template cut.tar.gz 2>/dev/null' _ "$UBCCTL" "$CFG"
check "  leaving nothing" sh -c '[ ! -e "$1/guests.d/702.conf" ] && [ ! -e "$2/lxc/702" ]' _ "$CFG" "$STATE"
check "an unknown class is refused" sh -c '! "$1" -c "$2" create 702 --template busybox.tar.gz --class gold 2>/dev/null' \
        _ "$UBCCTL" "$CFG"

# --- create, start: 701 unprivileged (ubcctl create), 706 privileged ---
"$UBCCTL" -c "$CFG" create 701 --template busybox.tar.gz --class small >"$TEST_DIR/create.out" 2>&1
check "create unpacks with a progress line" grep -q "Unpacking busybox.tar.gz: 100%" "$TEST_DIR/create.out"
check "  and writes guests.d/701.conf" grep -qx "type = container" "$CFG/guests.d/701.conf"
check "ubcd makes 701's cgroup with the class's limit" wait_value 10 701 memory "$limit_file" 67108864
# ubcctl create makes unprivileged containers only: a privileged one as an operator makes it,
# the template unpacked with its own ids and privileged = yes.
mkdir -p "$STATE/lxc/706/rootfs"
tar --numeric-owner -xzf "$STATE/template/busybox.tar.gz" -C "$STATE/lxc/706/rootfs"
write_guest 706 "type = container" "class = small" "[container]" "template = busybox.tar.gz" "privileged = yes"
check "ubcd makes 706's cgroup with the class's limit" wait_value 10 706 memory "$limit_file" 67108864

pid_of() { cat "$TEST_DIR/$1.pid" 2>/dev/null; }
# started ID UID: start prints the init's PID, which runs in ROOT/ID/lxc as host uid UID.
started() {
        out=$(ctl start "$1" 2>&1)
        pid=$(echo "$out" | sed -n "s/^Guest $1 started, PID \([0-9]*\)$/\1/p")
        echo "$pid" >"$TEST_DIR/$1.pid"
        check "$1: start prints the init's PID" test -n "$pid"
        [ -n "$pid" ] || diag "$out"
        check "$1: its init is in its cgroup subtree (lxc/cgroup.procs)" grep -qx "$pid" "$(mem_dir "$1")/lxc/cgroup.procs"
        check_eq "$1: it runs as host uid $2" "$2" "$(awk '/^Uid:/ { print $2 }' /proc/"$pid"/status)"
        check_eq "$1: list shows it running with its PID" "running $pid" "$(state "$1") $(list_pid "$1")"
}
started 701 100000
check "a second start is refused" sh -c '! "$1" -s "$2" start 701 2>/dev/null' _ "$UBCCTL" "$SOCK"
started 706 0

# ubcd's starter (ubc-lxc-starter): its child, outside every guest's cgroup.
starter_of() { ps -o pid=,comm= --ppid "$1" | awk '$2 == "ubc-lxc-starter" { print $1 }'; }
starter=$(starter_of "$UBCD_PID")
check "the starter is a child of ubcd" test -n "$starter"
check "  outside the guests' cgroups" sh -c '! grep -q "$1" /proc/"$2"/cgroup' _ "$TEST_ROOT" "${starter:-0}"

# --- the guest's limit holds inside ---
held() {
        "$UBCCTL" -c "$CFG" exec "$1" -- dd if=/dev/zero of=/dev/null bs=100M count=1 >/dev/null 2>&1
        check_eq "$1: a 100M hog inside the 64M container is killed (SIGKILL)" 137 "$?"
        check "$1: its memory failcnt rose" [ "$(mem_fails "$1")" -gt 0 ]
        check "$1: its init survived the hog" kill -0 "$(pid_of "$1")"
}
held 701
check_eq "exec gives the command's exit status" 7 "$("$UBCCTL" -c "$CFG" exec 701 -- sh -c 'exit 7' >/dev/null 2>&1; echo $?)"
held 706

# --- its processes, in cgroups below the guest's, are the guest's in list and beancounters ---
bc_held() {
        awk -v id="$1:" -v r="$2" '$1 ~ /^[0-9]+:$/ { g = $1; $1 = ""; $0 = $0 } g == id && $1 == r { print $2 }' \
                "$RUN/user_beancounters" 2>/dev/null
}
for _ in $(seq 50); do
        [ "$(bc_held 701 numfile)" -gt 0 ] 2>/dev/null && [ "$(bc_held 701 privvmpages)" -gt 0 ] && break
        sleep 0.2
done
check "numfile of 701 counts the container's open files" test "$(bc_held 701 numfile)" -gt 0
check "privvmpages of 701 counts the container's memory" test "$(bc_held 701 privvmpages)" -gt 0
check "list counts the container's processes" \
        test "$(ctl --json list | jq '.[] | select(.id == 701) | .nproc')" -gt 0

# --- kill -9 of ubcd ---
kill -9 "$UBCD_PID"
wait "$UBCD_PID" 2>/dev/null
UBCD_PID=
for id in 701 706; do
        check "$id: the container outlives ubcd" kill -0 "$(pid_of $id)"
done
check "the starter ended with ubcd" sh -c '! kill -0 "$1" 2>/dev/null || grep -q "^State:.*Z" /proc/"$1"/status' _ "${starter:-0}"
check "ubcd comes back" start_ubcd -v
for id in 701 706; do
        check_eq "$id: list shows it running again, same PID" "running $(pid_of $id)" "$(state $id) $(list_pid $id)"
done
check "destroy of a running container is refused" sh -c '! "$1" -c "$2" -s "$3" destroy 701 2>"$4/err"' \
        _ "$UBCCTL" "$CFG" "$SOCK" "$TEST_DIR"
check "  saying so" grep -q "Guest 701 is running; stop it first, or destroy it with --force" "$TEST_DIR/err"

# --- a changed CPU set reaches the running container (v1: its cgroups below must follow) ---
cpus_allowed() { awk '/^Cpus_allowed_list:/ { print $2 }' /proc/"$(pid_of 701)"/status; }
if [ "$(nproc)" -ge 2 ]; then
        for cpus in 1 0 0-1 1; do
                check "set cpu.set=$cpus on the running container" ctl set 701 cpu.set=$cpus
                check_eq "  its init may run on CPUs $cpus" "$cpus" "$(cpus_allowed)"
        done
        # A restart drops the live change: back to all of the parent's CPUs. On v2 that is an
        # empty cpuset.cpus, which the kernel refuses for a cgroup with processes (ENOSPC), so
        # ubcd writes the parent's list there.
        kill "$UBCD_PID"
        wait "$UBCD_PID" 2>/dev/null
        UBCD_PID=
        check "ubcd comes back without the live cpu.set" start_ubcd -v
        check_eq "  701 runs, its limits applied" "running" "$(state 701)"
        check_eq "  its init may run on every CPU again" "0-$(($(nproc) - 1))" "$(cpus_allowed)"
        check "  and ubcctl apply --dry-run finds it up to date" \
                sh -c '"$1" apply --dry-run -c "$2" --root "$3" 701 | grep -q "^# guest 701.*: up to date"' _ \
                "$UBCCTL" "$CFG" "$TEST_ROOT"
else
        ok "cpu.set on the running container # SKIP needs two CPUs"
fi

# --- stop: nothing left ---
stopped() {
        pid=$(pid_of "$1")
        check "$1: stop returns once it is down" ctl stop "$1"
        check "$1: no init left" sh -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status"
        for sub in lxc lxc.monitor lxc.pivot; do
                check "$1: no $sub cgroup below it" test ! -d "$(mem_dir "$1")/$sub"
        done
        check_eq "$1: its own cgroup stays, empty" "" "$(cat "$(mem_dir "$1")/cgroup.procs")"
        check_eq "$1: no mount below its rootfs" 0 "$(grep -c " $STATE/lxc/$1/rootfs" /proc/self/mountinfo)"
        check_eq "$1: list shows it stopped" stopped "$(state "$1")"
}
stopped 701
stopped 706
# A starter that died is replaced at the next start.
check "706: starts again" ctl start 706
starter=$(starter_of "$UBCD_PID")
check "  through a new starter" test -n "$starter"
check "706: stops again" ctl stop 706
kill -9 "${starter:-0}"
check "706: starts after its starter was killed" ctl start 706
check "  through another one" sh -c '[ -n "$1" ] && [ "$1" != "$2" ]' _ "$(starter_of "$UBCD_PID")" "$starter"
# Started by hand from the configuration ubcd wrote, it is refused; liblxc's own stop leaves
# cgroups (lxc.monitor, lxc.pivot) that the next start clears away.
stopped 706
check "701: lxc-start by hand" lxc-start -n 701 -P "$STATE/lxc" -d
check "  then ubcctl start is refused: it runs" \
        sh -c '! "$1" -s "$2" start 701 2>"$3/err" && grep -q "container 701 is running" "$3/err"' _ "$UBCCTL" "$SOCK" "$TEST_DIR"
check "701: lxc-stop by hand" lxc-stop -n 701 -P "$STATE/lxc" -k
# as a crashed run would leave it
mkdir -p "$(mem_dir 701)/lxc.monitor"
check "  then ubcctl start works, past a leftover lxc.monitor" ctl start 701
check "701: stops" ctl stop 701
check "a stop of a stopped container is refused" sh -c '! "$1" -s "$2" stop 701 2>/dev/null' _ "$UBCCTL" "$SOCK"
for id in 701 706; do
        check "$id: destroy" "$UBCCTL" -c "$CFG" -s "$SOCK" destroy $id
        check "$id:   leaves no rootfs" test ! -e "$STATE/lxc/$id"
        check "$id:   and no guest file" test ! -e "$CFG/guests.d/$id.conf"
done

# --- onboot: in ID order, onboot_parallel of them starting at once ---
stop_ubcd
for id in 703 704 705; do
        "$UBCCTL" -c "$CFG" create $id --template busybox.tar.gz >/dev/null 2>&1
        sed -i '/^\[guest\]$/a onboot = yes' "$CFG/guests.d/$id.conf"
done
echo "onboot_parallel = 2" >>"$CFG/ubcd.conf"
check "ubcd starts with three onboot containers" start_ubcd -v
for id in 703 704 705; do
        check_eq "  $id runs" running "$(state $id)"
done
# The log's order: 703 and 704 begin before either is waited for, 705 once they run.
line_of() { grep -n "$1" "$TEST_DIR/ubcd.log" | tail -n 1 | cut -d: -f1; }
check "  703 and 704 start together, 705 after them" sh -c '[ "$1" -lt "$3" ] && [ "$2" -lt "$3" ] && [ "$4" -gt "$3" ] && [ "$4" -gt "$5" ]' _ \
        "$(line_of 'Guest 703 (onboot) is starting')" "$(line_of 'Guest 704 (onboot) is starting')" \
        "$(line_of 'Guest 703 (container) started')" "$(line_of 'Guest 705 (onboot) is starting')" \
        "$(line_of 'Guest 704 (container) started')"
for id in 703 704 705; do
        ctl stop $id --kill >/dev/null
        "$UBCCTL" -c "$CFG" -s "$SOCK" destroy $id >/dev/null
done
check "ubcd is still running" kill -0 "$UBCD_PID"
if [ "$tap_failed" != 0 ]; then
        diag "ubcd's log:"
        grep -v ': debug: ' "$TEST_DIR/ubcd.log" | tail -n 30 | sed 's/^/#   /'
fi
tap_done
