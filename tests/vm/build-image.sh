#!/bin/bash
# Builds the vm suite's boot files from Debian packages only: Debian's kernel (downloaded once
# into the cache) and a gzip'd cpio initramfs of busybox-static, ubcd/ubcctl with the shared
# libraries they load, the test helpers, the test scripts and what the container tests need
# of this machine's lxc.
#
# Environment: UBC_SOURCE_ROOT, UBC_BUILD_ROOT, UBCD, UBCCTL (as meson's test_env sets them),
# UBC_VM_CACHE (default $UBC_BUILD_ROOT/vm-cache), UBC_VM_KERNEL_PKG (default: the package
# linux-image-amd64 depends on). Writes $UBC_VM_CACHE/vmlinuz and $UBC_VM_CACHE/initrd.gz.
# Exit 0 when they are ready, 77 when this machine cannot have them (reason on stderr),
# 1 on any other error. With --kernel-only, stops once $UBC_VM_CACHE/vmlinuz is there (for
# tests that boot an initramfs of their own).

set -eu -o pipefail
umask 022

here=$(cd "$(dirname "$0")" && pwd)
src=${UBC_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
build=${UBC_BUILD_ROOT:-$src/build}
cache=${UBC_VM_CACHE:-$build/vm-cache}
ubcd=${UBCD:-$build/agent/ubcd}
ubcctl=${UBCCTL:-$build/agent/ubcctl}

# Tools the tests call where busybox's applet lacks what they use (setpriv --reuid): taken
# from this machine's Debian packages when present, with their libraries. /bin/sh is dash when
# there is one, as on a Debian host: busybox's own sh runs its applets before anything on
# PATH, so these would never be reached, and the scripts meet the shell they meet outside.
extra_tools="setpriv dash"
# The container tests: GNU tar for templates (busybox's has no --numeric-owner or --xattrs), jq
# for ubcctl --json, procps's ps (-p), newuidmap/newgidmap since liblxc maps an unprivileged
# container's ids through them when the host has them, and lxc-start, the sign that lxc is
# installed, with lxc-stop (t-container starts and stops a container by hand, as an operator
# might). liblxc itself comes with ubc-lxc-starter.
extra_tools="$extra_tools tar jq ps newuidmap newgidmap lxc-start lxc-stop"

# Kernel modules a virtio disk needs; loaded by /init in this order after their dependencies,
# unless the kernel has them built in.
wanted_modules="virtio_pci virtio_blk"

say() { echo "build-image: $*" >&2; }
unavailable() {
        say "$*"
        exit 77
}
die() {
        say "$*"
        exit 1
}

for tool in cpio gzip dpkg-deb ldd; do
        command -v "$tool" >/dev/null || unavailable "'$tool' not found (apt-get install cpio dpkg libc-bin)"
done
busybox=$(command -v busybox) || unavailable "busybox not found (apt-get install busybox-static)"

mkdir -p "$cache/debs" "$cache/kernel"

# --- the kernel: download once, keep only what the VM needs ---

pkg=${UBC_VM_KERNEL_PKG:-}
if [ -z "$pkg" ]; then
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
                awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }') || true
fi
if [ -z "$pkg" ]; then
        # No package lists (no apt-get update yet): a kernel fetched earlier still does.
        deb=$(ls -1 "$cache"/debs/linux-image-*.deb 2>/dev/null | sort -V | tail -n 1) || true
        [ -n "$deb" ] || unavailable "no kernel package: apt-cache knows no linux-image-amd64 (run apt-get update) and $cache/debs holds none"
        pkg=$(basename "$deb")
        pkg=${pkg%%_*}
fi

deb=$(ls -1 "$cache/debs/${pkg}"_*.deb 2>/dev/null | sort -V | tail -n 1) || true
if [ -z "$deb" ]; then
        say "downloading $pkg"
        tmp=$(mktemp -d "$cache/debs/.download.XXXXXX")
        if ! (cd "$tmp" && apt-get download "$pkg") >"$tmp/log" 2>&1; then
                sed 's/^/  /' "$tmp/log" >&2
                rm -rf "$tmp"
                unavailable "cannot download kernel package '$pkg'"
        fi
        mv "$tmp"/*.deb "$cache/debs/"
        rm -rf "$tmp"
        deb=$(ls -1 "$cache/debs/${pkg}"_*.deb | sort -V | tail -n 1)
fi

kdir=$cache/kernel/$pkg
kstamp="$(basename "$deb") $wanted_modules"
if [ ! -f "$kdir/stamp" ] || [ "$(cat "$kdir/stamp")" != "$kstamp" ]; then
        say "extracting $(basename "$deb")"
        rm -rf "$kdir"
        tmp=$(mktemp -d "$cache/kernel/.extract.XXXXXX")
        dpkg-deb -x "$deb" "$tmp/root"
        kver=$(ls -1 "$tmp/root/lib/modules" | head -n 1)
        [ -n "$kver" ] && [ -f "$tmp/root/boot/vmlinuz-$kver" ] || die "$(basename "$deb") has no vmlinuz"
        mkdir -p "$tmp/out/modules"
        cp "$tmp/root/boot/vmlinuz-$kver" "$tmp/out/vmlinuz"
        cp "$tmp/root/boot/config-$kver" "$tmp/out/config" 2>/dev/null || true
        echo "$kver" >"$tmp/out/version"
        mdir=$tmp/root/lib/modules/$kver
        : >"$tmp/out/modules.order"

        # Module names treat - and _ alike.
        norm() { echo "$1" | tr - _; }
        is_builtin() {
                [ -f "$mdir/modules.builtin" ] &&
                        sed 's,.*/,,; s,\.ko.*$,,' "$mdir/modules.builtin" | tr - _ | grep -qx "$(norm "$1")"
        }
        find "$mdir/kernel" -name '*.ko*' |
                awk -F/ '{ b = $NF; sub(/\.ko.*$/, "", b); gsub(/-/, "_", b); print b, $0 }' >"$tmp/ko.index"
        find_ko() { awk -v m="$1" '$1 == m { print $2; exit }' "$tmp/ko.index"; }
        ko_plain() { # the module uncompressed: busybox insmod takes plain .ko only
                case $1 in
                *.ko) cat "$1" ;;
                *.ko.xz) xz -dc "$1" ;;
                *.ko.zst) zstd -dc "$1" ;;
                *.ko.gz) gzip -dc "$1" ;;
                *) return 1 ;;
                esac
        }
        add_module() { # dependencies first, each once
                local m f deps d
                m=$(norm "$1")
                grep -qx "$m" "$tmp/out/modules.order" && return 0
                is_builtin "$m" && return 0
                f=$(find_ko "$m")
                [ -n "$f" ] || die "module '$m' is neither built into $kver nor shipped with it"
                ko_plain "$f" >"$tmp/out/modules/$m.ko" || die "cannot unpack $f"
                deps=$(tr '\0' '\n' <"$tmp/out/modules/$m.ko" | sed -n 's/^depends=//p')
                deps=$(echo "${deps%%$'\n'*}" | tr , ' ')
                for d in $deps; do add_module "$d"; done
                grep -qx "$m" "$tmp/out/modules.order" || echo "$m" >>"$tmp/out/modules.order"
        }
        for m in $wanted_modules; do add_module "$m"; done

        echo "$kstamp" >"$tmp/out/stamp"
        mv "$tmp/out" "$kdir"
        rm -rf "$tmp"
fi
ln -sfn "kernel/$pkg/vmlinuz" "$cache/vmlinuz"
[ "${1:-}" = --kernel-only ] && exit 0

# --- the initramfs: rebuilt when any input is newer, or the set of inputs changed ---

elfs=() # "source:destination in the image"
add_elf() { [ -f "$1" ] && [ -x "$1" ] && elfs+=("$1:$2"); }
if [ -x "$ubcd" ]; then add_elf "$ubcd" /ubc/build/agent/ubcd; else say "no ubcd at $ubcd; tests that need it skip"; fi
if [ -x "$ubcctl" ]; then add_elf "$ubcctl" /ubc/build/agent/ubcctl; else say "no ubcctl at $ubcctl"; fi
add_elf "$build/agent/ubc-lxc-starter" /ubc/build/agent/ubc-lxc-starter || say "no ubc-lxc-starter in $build/agent"
for h in memhog forker cpuhog holder lxc-drive; do
        add_elf "$build/tests/helpers/$h" "/ubc/build/tests/helpers/$h" || say "no helper $h in $build/tests/helpers"
done
add_elf "$build/tests/host/test-cg-host" /ubc/build/tests/host/test-cg-host || true
for t in $extra_tools; do
        p=$(command -v "$t") && add_elf "$p" "/bin/$t" || true
done

scripts=("$src/tests/lib.sh")
for f in "$src"/tests/host/*.sh "$src"/tests/vm/t-*.sh "$src"/tests/helpers/*.sh; do
        [ -f "$f" ] && scripts+=("$f")
done

libs=() # every shared library the binaries load, and the loader
for e in "$busybox:/bin/busybox" "${elfs[@]}"; do
        out=$(ldd "${e%%:*}" 2>&1) || continue # static: nothing to add
        if echo "$out" | grep -q 'not found'; then
                die "${e%%:*} needs libraries this machine lacks: $(echo "$out" | grep 'not found' | tr -s ' \t' ' ')"
        fi
        while read -r l; do libs+=("$l"); done < <(echo "$out" | awk '
                $2 == "=>" && $3 ~ /^\// { print $3 }
                $1 ~ /^\// { print $1 }')
done
mapfile -t libs < <(printf '%s\n' "${libs[@]}" | sort -u)

# liblxc mounts a container's rootfs on a folder fixed when it was built ($libdir/lxc/rootfs)
# and fails a start without it.
lxc_rootfs_mount=
for l in "${libs[@]}"; do
        case ${l##*/} in
        liblxc.so*) lxc_rootfs_mount=$(grep -aoE -m 1 '/[[:alnum:]_./-]*/lxc/rootfs' "$l" | head -n 1) || true ;;
        esac
done

out=$cache/initrd.gz
inputs=("$here/build-image.sh" "$here/init" "$busybox" "$kdir/stamp" "${scripts[@]}" "${libs[@]}")
for e in "${elfs[@]}"; do inputs+=("${e%%:*}"); done
if [ -d "$src/policies/examples" ]; then
        while read -r f; do inputs+=("$f"); done < <(find "$src/policies/examples" -type f | sort)
fi
manifest=$(printf '%s\n' "${inputs[@]}" "${elfs[@]}" "$lxc_rootfs_mount")

rebuild=
if [ ! -f "$out" ] || [ "$manifest" != "$(cat "$cache/initrd.inputs" 2>/dev/null)" ]; then
        rebuild=1
else
        for f in "${inputs[@]}"; do
                [ "$f" -nt "$out" ] && { rebuild=1; break; }
        done
fi
if [ -z "$rebuild" ]; then
        exit 0
fi

say "building $out"
root=$(mktemp -d "$cache/.initrd.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root" # becomes /: mktemp's 0700 would lock out every user but root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,lib/modules/ubc}
mkdir -p "$root"/ubc/{build/agent,build/tests/helpers,build/tests/host,src/tests/host,src/tests/vm}

cp "$busybox" "$root/bin/busybox"
"$busybox" --list-full | while read -r applet; do
        [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
install -m 0755 "$here/init" "$root/init"

for e in "${elfs[@]}"; do
        rm -f "$root${e#*:}" # an extra tool replaces busybox's applet
        install -m 0755 "${e%%:*}" "$root${e#*:}"
done
[ -x "$root/bin/dash" ] && ln -sfn dash "$root/bin/sh"
[ -n "$lxc_rootfs_mount" ] && mkdir -p "$root$lxc_rootfs_mount"
for l in "${libs[@]}"; do
        mkdir -p "$root$(dirname "$l")"
        cp -L "$l" "$root$l"
done
for f in "${scripts[@]}"; do
        d=$root/ubc/src/${f#"$src"/}
        mkdir -p "$(dirname "$d")"
        cp "$f" "$d"
        case $f in *.sh) chmod 0755 "$d" ;; esac
done
chmod 0644 "$root/ubc/src/tests/lib.sh"
if [ -d "$src/policies/examples" ]; then
        mkdir -p "$root/ubc/src/policies"
        cp -R "$src/policies/examples" "$root/ubc/src/policies/"
fi

cp "$kdir/modules.order" "$root/ubc/modules.order"
cp "$kdir"/modules/*.ko "$root/lib/modules/ubc/" 2>/dev/null || true
cp "$kdir/version" "$root/ubc/kernel-version"

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -6 >"$out.tmp"
mv "$out.tmp" "$out"
printf '%s\n' "$manifest" >"$cache/initrd.inputs"
say "$(du -k "$out" | cut -f1) KiB"
