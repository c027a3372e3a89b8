#!/bin/sh
# The container launcher on this host's real cgroups and liblxc: a busybox container runs in
# ROOT/ID/lxc, under the guest's limits, is found again, stops, and leaves nothing behind.
. "${UBC_SOURCE_ROOT:-.}/tests/lib.sh"
need_root
TEST_ROOT=ubc-test-lxc-$$
LXC_DRIVE=${LXC_DRIVE:-${UBC_BUILD_ROOT:-build}/tests/helpers/lxc-drive}
LXC_STARTER=${UBC_BUILD_ROOT:-build}/agent/ubc-lxc-starter
MK_TEMPLATE=${UBC_SOURCE_ROOT:-.}/tests/helpers/mk-busybox-template.sh

command -v lxc-start >/dev/null || skip_all "lxc is not installed"
[ -x "$LXC_DRIVE" ] || skip_all "no $LXC_DRIVE (built without liblxc?)"
command -v busybox >/dev/null || skip_all "busybox-static is not installed"
ldd "$(command -v busybox)" >/dev/null 2>&1 && skip_all "busybox is not static (install busybox-static)"

make_test_dir
# An unprivileged container resolves its rootfs path as its own root, mktemp's 0700 hides it.
chmod 755 "$TEST_DIR"

# With shadow's newuidmap installed liblxc insists on root's subordinate range (Proxmox VE
# ships it); the test adds it for its run when the host lacks it and takes exactly that out.
SUBID_LINE=root:100000:65536
added_subid=
if command -v newuidmap >/dev/null; then
        for f in /etc/subuid /etc/subgid; do
                if ! grep -qx "$SUBID_LINE" "$f" 2>/dev/null; then
                        echo "$SUBID_LINE" >>"$f"
                        added_subid="$added_subid $f"
                fi
        done
fi

IDS="101 102 103"
lxc_cleanup() {
        for id in $IDS; do
                "$LXC_DRIVE" -s "$STATE" -r "$RUN" -R "$TEST_ROOT" -i "$id" kill >/dev/null 2>&1
                "$LXC_DRIVE" -s "$STATE" -r "$RUN" -R "$TEST_ROOT" -i "$id" destroy >/dev/null 2>&1
        done
        for f in $added_subid; do
                # Only the line this test appended: the last one that matches.
                n=$(grep -nx "$SUBID_LINE" "$f" | tail -1 | cut -d: -f1)
                [ -n "$n" ] && sed -i "${n}d" "$f"
        done
        cleanup
        # liblxc also makes ROOT/ID in the hierarchies ubcd does not use.
        for m in $(cg_mounts); do cg_rmtree "$m/$TEST_ROOT"; done
}
trap lxc_cleanup EXIT

cg_mounts() { awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts; }

drive() {
        id=$1
        shift
        "$LXC_DRIVE" -s "$STATE" -r "$RUN" -R "$TEST_ROOT" -i "$id" -x "$LXC_STARTER" "$@"
}

# The guest's memory hierarchy directory.
mem_dir() { echo "$(cg_root_dir memory)/$1"; }

no_lxc_cgroups() {
        for m in $(cg_mounts); do
                for d in "$m/$TEST_ROOT/$1/lxc" "$m/$TEST_ROOT/$1/lxc.monitor" "$m/$TEST_ROOT/$1/lxc.pivot"; do
                        if [ -d "$d" ]; then
                                echo "left: $d" >&2
                                return 1
                        fi
                done
        done
}

no_mounts_below() {
        ! awk -v top="$1" '$5 == top || index($5, top "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo
}

nothing_in_state() {
        [ ! -e "$STATE/lxc/$1" ] && [ ! -e "$STATE/lxc/.$1.new" ]
}

stopped() { [ "$(drive "$1" find 2>/dev/null)" = stopped ]; }

# liblxc's monitor leaves its cgroup through ROOT/ID/lxc.pivot, not through lxc.pivot at the top
# of each hierarchy (its default), which is outside the owned root: none may appear there.
no_top_pivot=$(for m in $(cg_mounts); do [ -d "$m/lxc.pivot" ] || echo "$m"; done)
no_pivot_made() {
        for m in $no_top_pivot; do
                if [ -d "$m/lxc.pivot" ]; then
                        echo "made: $m/lxc.pivot" >&2
                        return 1
                fi
        done
}

"$MK_TEMPLATE" "$STATE" >/dev/null || skip_all "cannot make the busybox template"
TPL=$STATE/template/busybox.tar.gz

check "guest cgroup 101 made as ubcd makes it" drive 101 cg-create

# Validation names the file and line of each bad setting.
out=$(drive 101 -o bogus=1 -o network=wifi -o template=missing.tar.gz -o privileged=maybe -o hostname=-x validate 2>&1)
case $out in *"guests.d/101.conf:2: bogus: unknown key"*) ok "validate: unknown key with file:line" ;;
*) not_ok "validate: unknown key with file:line" && diag "$out" ;; esac
case $out in *"guests.d/101.conf:3: network: 'wifi' is not a network"*) ok "validate: bad network" ;;
*) not_ok "validate: bad network" && diag "$out" ;; esac
case $out in *"guests.d/101.conf:4: template: template 'missing.tar.gz' not found"*) ok "validate: missing template" ;;
*) not_ok "validate: missing template" && diag "$out" ;; esac
case $out in *":5: privileged: 'maybe' is not a boolean"*) ok "validate: bad boolean" ;;
*) not_ok "validate: bad boolean" && diag "$out" ;; esac
case $out in *":6: hostname: '-x' is not a host name"*) ok "validate: bad hostname" ;;
*) not_ok "validate: bad hostname" && diag "$out" ;; esac
check "validate: good settings pass" drive 101 -o template=busybox.tar.gz -o network=none -o hostname=web1 validate

# A missing template and a corrupt tarball are clear errors that leave nothing.
out=$(drive 101 create missing.tar.gz 2>&1)
case $out in *"ENOENT: template 'missing.tar.gz' not found in $STATE/template"*) ok "create: missing template is ENOENT" ;;
*) not_ok "create: missing template is ENOENT" && diag "$out" ;; esac
check "create: a missing template leaves nothing" nothing_in_state 101
head -c 300000 "$TPL" >"$STATE/template/broken.tar.gz"
out=$(drive 101 create broken.tar.gz 2>&1)
case $out in *"template '$STATE/template/broken.tar.gz' is not a valid tarball"*) ok "create: a cut tarball is refused" ;;
*) not_ok "create: a cut tarball is refused" && diag "$out" ;; esac
check "create: a cut tarball leaves nothing" nothing_in_state 101
head -c 100000 /dev/urandom >"$STATE/template/noise.tar.xz"
out=$(drive 101 create noise.tar.xz 2>&1)
case $out in *"not a valid tarball"*) ok "create: random bytes are refused" ;;
*) not_ok "create: random bytes are refused" && diag "$out" ;; esac
check "create: random bytes leave nothing" nothing_in_state 101

# Create, unprivileged by default: progress over the compressed file, ids shifted.
size=$(stat -c %s "$TPL")
out=$(drive 101 -o template=busybox.tar.gz create)
check_eq "create: progress ends at the file's size" "progress $size/$size" "$(echo "$out" | tail -1)"
n=$(echo "$out" | grep -c '^progress ')
check "create: progress shown along the way ($n lines)" [ "$n" -ge 3 ]
check_eq "create: rootfs owned by 100000" "100000:100000" "$(stat -c %u:%g "$STATE/lxc/101/rootfs/bin/busybox")"
check_eq "create: init keeps its mode" "755" "$(stat -c %a "$STATE/lxc/101/rootfs/sbin/init")"
out=$(drive 101 -o template=busybox.tar.gz create 2>&1)
case $out in *EEXIST*) ok "create: a second create is EEXIST" ;; *) not_ok "create: a second create is EEXIST" && diag "$out" ;; esac

# Start: the init runs in ROOT/101/lxc, inside the guest's limits.
pid=$(drive 101 start 2>&1)
case $pid in '' | *[!0-9]*) not_ok "start returns the init's PID" && diag "$pid" && pid=0 ;; *) ok "start returns the init's PID" ;; esac
check "start: init $pid is in ROOT/101/lxc/cgroup.procs" grep -qx "$pid" "$(mem_dir 101)/lxc/cgroup.procs"
check "start: ps shows init $pid" ps -p "$pid"
check_eq "start: unprivileged init runs as host uid 100000" 100000 \
        "$(awk '/^Uid:/ { print $2 }' /proc/"$pid"/status 2>/dev/null)"
out=$(drive 101 start 2>&1)
case $out in *EALREADY*) ok "start: a second start is EALREADY" ;; *) not_ok "start: a second start is EALREADY" && diag "$out" ;; esac
out=$(drive 101 destroy 2>&1)
case $out in *EBUSY*) ok "destroy of a running container is EBUSY" ;; *) not_ok "destroy of a running container is EBUSY" && diag "$out" ;; esac
check_eq "find (a new driver process) finds the same init" "$pid" "$(drive 101 find)"

drive 101 attach -- sh -c 'exit 7'
check_eq "attach returns the command's exit status" 7 "$?"
check_eq "attach runs in the container's UTS namespace" ct101 "$(drive 101 attach -- hostname)"

# A memory limit on the guest's cgroup holds what runs in the container.
if is_v2; then
        echo 64M >"$(mem_dir 101)/memory.max"
        before=$(awk '$1 == "max" { print $2 }' "$(mem_dir 101)/memory.events")
else
        echo 64M >"$(mem_dir 101)/memory.limit_in_bytes"
        before=$(cat "$(mem_dir 101)/memory.failcnt")
fi
drive 101 attach -- dd if=/dev/zero of=/dev/null bs=100M count=1 >/dev/null 2>&1
check_eq "a 100 MB buffer under a 64M limit is killed (SIGKILL)" 137 "$?"
if is_v2; then
        after=$(awk '$1 == "max" { print $2 }' "$(mem_dir 101)/memory.events")
else
        after=$(cat "$(mem_dir 101)/memory.failcnt")
fi
check "the guest's memory failcnt rose ($before -> $after)" [ "$after" -gt "$before" ]
check "init $pid survives the hog's OOM" kill -0 "$pid"

# Shutdown asks init to halt and returns at once; kill leaves nothing.
check "shutdown returns" drive 101 shutdown
check "init halts after shutdown" wait_for 20 stopped 101
check "kill after the halt" drive 101 kill
check "no process of init $pid" sh -c "! kill -0 $pid 2>/dev/null"
check "no lxc cgroup below ROOT/101" no_lxc_cgroups 101
check "no mount below the rootfs" no_mounts_below "$STATE/lxc/101/rootfs"

# Kill of a running container, without shutdown first, with a process in its cgroup outside
# its namespaces (which init's end does not take along): cgroup.kill on v2, one by one on v1.
pid=$(drive 101 start)
check "started again ($pid)" [ -n "$pid" ]
spawn sleep 600
stray=$!
echo "$stray" >"$(mem_dir 101)/lxc/cgroup.procs"
check "a stray process $stray is in ROOT/101/lxc" grep -qx "$stray" "$(mem_dir 101)/lxc/cgroup.procs"
check "kill of a running container" drive 101 kill
check "no process of init $pid after kill" sh -c "! kill -0 $pid 2>/dev/null"
check "the stray process was killed" sh -c "! kill -0 $stray 2>/dev/null || grep -q '^State:.*Z' /proc/$stray/status"
kill -9 "$stray" 2>/dev/null # reaped below without waiting 600 s, should the check have failed
wait "$stray" 2>/dev/null
check_eq "find says stopped" stopped "$(drive 101 find)"
check "no lxc cgroup below ROOT/101 after kill" no_lxc_cgroups 101
check "no mount below the rootfs after kill" no_mounts_below "$STATE/lxc/101/rootfs"
check "ROOT/101 itself stays (ubcd's)" [ -d "$(mem_dir 101)" ]
out=$(drive 101 attach -- true 2>&1)
case $out in *ESRCH*) ok "attach to a stopped container is ESRCH" ;; *) not_ok "attach to a stopped container is ESRCH" && diag "$out" ;; esac

check "destroy" drive 101 destroy
check "destroy leaves nothing" nothing_in_state 101
out=$(drive 101 start 2>&1)
case $out in *"ENOENT: container 101 has no rootfs"*) ok "start without a rootfs is ENOENT" ;;
*) not_ok "start without a rootfs is ENOENT" && diag "$out" ;; esac
check "a failed start leaves no lxc cgroup" no_lxc_cgroups 101
check "guest cgroup 101 removed" drive 101 cg-remove

# Privileged, only when the file says so: container root is host root.
check "guest cgroup 102 made" drive 102 cg-create
check "create privileged" drive 102 -o privileged=yes create busybox.tar.gz
check_eq "privileged rootfs keeps the tarball's ids" "0:0" "$(stat -c %u:%g "$STATE/lxc/102/rootfs/bin/busybox")"
out=$(drive 102 start 2>&1)
case $out in *"was created privileged"*) ok "start refuses a privileged rootfs without privileged = yes" ;;
*) not_ok "start refuses a privileged rootfs without privileged = yes" && diag "$out" ;; esac
pid=$(drive 102 -o privileged=yes start)
check_eq "privileged init runs as host uid 0" 0 "$(awk '/^Uid:/ { print $2 }' /proc/"$pid"/status 2>/dev/null)"
check "privileged init $pid is in ROOT/102/lxc" grep -qx "$pid" "$(mem_dir 102)/lxc/cgroup.procs"
check "kill privileged" drive 102 kill
check "no lxc cgroup below ROOT/102" no_lxc_cgroups 102
check "destroy privileged" drive 102 destroy
check "guest cgroup 102 removed" drive 102 cg-remove
check "no lxc.pivot made outside ROOT" no_pivot_made

tap_done
