#!/bin/sh
# Makes a tiny container template, STATE_DIR/template/busybox.tar.gz, from the host's static
# busybox: enough for the launcher's tests (an init that waits, a shell for attach).
# Usage: mk-busybox-template.sh STATE_DIR [NAME]
set -eu

state=${1:?usage: mk-busybox-template.sh STATE_DIR [NAME]}
name=${2:-busybox.tar.gz}
bb=${BUSYBOX:-$(command -v busybox || true)}
[ -n "$bb" ] || { echo "busybox not found (install busybox-static)" >&2; exit 1; }
# A dynamic busybox would need the host's libraries inside the rootfs (ldd fails on a static one).
if command -v ldd >/dev/null && ldd "$bb" >/dev/null 2>&1; then
        echo "$bb is not statically linked (install busybox-static)" >&2
        exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ubc-bbtpl.XXXXXX")
trap 'rm -rf "$work"' EXIT
r=$work/rootfs
mkdir -p "$r/bin" "$r/sbin" "$r/etc" "$r/dev" "$r/proc" "$r/sys" "$r/tmp" "$r/root" "$r/run" "$r/var/tmp"
chmod 1777 "$r/tmp" "$r/var/tmp"
chmod 700 "$r/root"
cp "$bb" "$r/bin/busybox"
chmod 755 "$r/bin/busybox"
for a in $("$bb" --list); do
        case $a in busybox | init) continue ;; esac
        [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
done

# init waits and halts on the signal lxc sends (SIGPWR; SIGTERM, SIGUSR1/2 as busybox's init):
# an ns init without a handler would ignore them. It mounts nothing; lxc does what it needs.
cat >"$r/sbin/init" <<'EOT'
#!/bin/sh
trap 'kill $p 2>/dev/null; exit 0' PWR TERM USR1 USR2 INT
while :; do
        sleep 3600 &
        p=$!
        wait $p
done
EOT
chmod 755 "$r/sbin/init"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
printf 'ct\n' >"$r/etc/hostname"

mkdir -p "$state/template"
tar --numeric-owner --owner=0 --group=0 -C "$r" -czf "$work/out.tar.gz" .
mv "$work/out.tar.gz" "$state/template/$name"
echo "$state/template/$name"
