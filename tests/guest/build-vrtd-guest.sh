#!/bin/sh
# Builds the "vrtd guest": the test guest's Debian cloud kernel (see
# build-guest.sh) with an initramfs that runs vrt's own vrtd and vrt CLI
# inside the guest, so a network's <bandwidth> is set up by vrtd with real
# tc on a kernel that has everything libvirt's tc commands need (htb, sfq,
# ingress, u32, fw, police), whatever the host's kernel lacks. Nothing runs
# on the host but QEMU (TCG); the host's interfaces are never touched.
#
# Usage: tests/guest/build-vrtd-guest.sh BUILD_DIR
#   BUILD_DIR: a vrt build (plain or ASan) holding daemon/vrtd and client/vrt.
#   Prints "kernel PATH" and "initrd PATH".
#
# The initramfs holds: busybox (busybox-static), the kernel modules sch_htb,
# sch_sfq, sch_ingress, cls_u32, cls_fw, act_police, bridge, tun, veth with
# their dependencies (insmod'ed in order; tun and veth are loaded for taps
# and veth pairs, which no step makes yet), the host's tc and ip (iproute2),
# BUILD_DIR's vrtd and vrt, every shared library these four need (ldd; an
# ASan build's libasan and libubsan too) and /etc/passwd and /etc/group
# with root. Its /init:
#   - mounts proc, sysfs, devtmpfs, tmpfs on /tmp and /run, loads the modules;
#   - starts `vrtd --root /tmp/r` (stderr to /tmp/vrtd.log; ASAN_OPTIONS
#     from the kernel command line, else detect_leaks=0:halt_on_error=1) and
#     waits until `vrt net-list` answers;
#   - with the vrt CLI: defines and starts network 'bw' (bridge vrtbw0,
#     forward mode open with dns off, so neither dnsmasq nor nftables is
#     needed, <bandwidth> inbound average 1000 peak 2000 burst 1024,
#     outbound average 500), creates a network port with an inbound floor
#     of 200 (MAC 52:54:00:aa:00:01), deletes it, destroys the network;
#   - prints each step's output (vrt's, then tc qdisc/class/filter show of
#     the bridge, root and parent ffff:, by iproute2's tc: this busybox's
#     ash prefers its own applets, so /init names /usr/sbin/tc and
#     /usr/sbin/ip by path; vrtd finds them in PATH) between the console lines
#     "VRT-TC-BEGIN NAME" and "VRT-TC-END NAME RC";
#   - stops vrtd with SIGTERM (its exit status in step "vrtd-exit", its
#     stderr in step "vrtd-log"), prints "VRT-TC-DONE" and powers off
#     (QEMU exits). Boot with -no-reboot and panic=-1 so a crash of /init
#     ends QEMU too.
# Boot it with
#   qemu-system-x86_64 -accel tcg -m 512 -kernel K -initrd I -no-reboot \
#     -append 'console=ttyS0 quiet panic=-1' -serial stdio -display none
# (tests/guest/guest.py: vrtd_guest_paths(), Guest(paths=..., append=...);
# test: tests/integration/test_bandwidth_guest.py).
#
# Cache: under build-guest.sh's cache, in vrtd/KEY/ where KEY hashes this
# script and every file put in the initramfs but busybox and the modules
# (vrtd, vrt, tc, ip and their libraries): a rebuilt vrtd gives a new
# initramfs, an unchanged one is reused. The 5 most recently used entries
# are kept (uncompressed, 72 MB for a plain build, 111 MB for an ASan one:
# the TCG guest unpacks it faster than it would decompress it), none unused
# for 3 days. Network: only what build-guest.sh fetches (its cached .debs are
# reused here).
# Measured on the project machine (TCG, 2 shared cores, QEMU 7.2, 512 MiB):
# QEMU's start to its exit 8-16 s, plain (72 MB) and ASan (111 MB)
# builds alike, 19-22 s while the machine compiles (there /init starts at
# 5.5 s of guest uptime and vrtd answers at 10 s); building an initramfs
# 12 s (35 s while the machine compiles), finding it cached 2.5 s (ldd and
# the hashes).
set -eu

if [ $# -ne 1 ] || [ ! -x "$1/daemon/vrtd" ] || [ ! -x "$1/client/vrt" ]; then
    echo "usage: $0 BUILD_DIR (with daemon/vrtd and client/vrt)" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
case "$build" in *[[:space:]]*)
    echo "build-vrtd-guest: a build dir whose path has blanks is not supported: $build" >&2
    exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
. "$here/guest-lib.sh"
self=$here/$(basename "$0")

# The kernel (and the .debs in the cache) come from the plain test guest.
base=$("$here/build-guest.sh")
kernel=$(echo "$base" | sed -n 's/^kernel //p')
cache=$(dirname "$kernel")
kpkg=$(cat "$cache/kernel-package")

# What goes in besides busybox and the modules: binaries, then their libraries.
bins="/usr/sbin/tc /usr/sbin/ip $build/daemon/vrtd $build/client/vrt"
for b in $bins; do
    [ -x "$b" ] || { echo "build-vrtd-guest: $b is missing" >&2; exit 1; }
done
# ldd lines: "libX.so.N => /path (addr)" and "/lib64/ld-linux-x86-64.so.2 (addr)".
lddout=$(ldd $bins 2>&1)
if echo "$lddout" | grep -q 'not found'; then
    echo "build-vrtd-guest: a library is missing: $(echo "$lddout" | grep 'not found')" >&2
    exit 1
fi
libs=$(echo "$lddout" | awk '$2 == "=>" && $3 ~ /^\// { print $1 " " $3 }
                             $1 ~ /^\// && $2 ~ /^\(/ { print "interp " $1 }' | LC_ALL=C sort -u)
key=$( (sha256sum "$self" "$here/guest-lib.sh" $bins; echo "$kpkg";
        echo "$libs" | awk '{ print $2 }' | xargs -r readlink -f | xargs -r sha256sum) |
       sha256sum | cut -c1-16)
out=$cache/vrtd/$key

emit() {
    echo "kernel $kernel"
    echo "initrd $out/initrd.img"
}

if [ -f "$out/initrd.img" ]; then
    touch "$out"
    emit
    exit 0
fi

mkdir -p "$cache/vrtd"
exec 9>"$cache/vrtd/.lock"
flock 9
if [ -f "$out/initrd.img" ]; then
    touch "$out"
    emit
    exit 0
fi
# An entry is touched at each use: the 4 most recently used stay beside the
# new one (plain and ASan builds of a few checkouts), none unused for 3 days.
ls -1dt "$cache/vrtd"/*/ 2>/dev/null | tail -n +5 | xargs -r rm -rf
find "$cache/vrtd" -mindepth 1 -maxdepth 1 -type d -mtime +3 -exec rm -rf {} + 2>/dev/null || :

work=$(mktemp -d "$cache/vrtd/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
kdeb=$(ls "$cache/debs/$kpkg"_*.deb | head -n1)
bdeb=$(ls "$cache/debs/busybox-static"_*.deb | head -n1)
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$work" --wildcards './lib/modules/*'
dpkg-deb -x "$bdeb" "$work/b"
moddir=$(ls -d "$work"/lib/modules/* | head -n1)
bb=$work/b/bin/busybox

root=$work/root
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/etc" "$root/tmp" "$root/root" \
         "$root/usr/bin" "$root/usr/sbin" "$root/usr/lib/x86_64-linux-gnu" "$root/usr/lib/modules" \
         "$root/usr/lib64" "$root/run"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
cp /usr/sbin/tc /usr/sbin/ip "$root/usr/sbin/"
cp "$build/daemon/vrtd" "$root/usr/sbin/vrtd"
cp "$build/client/vrt" "$root/usr/bin/vrt"
# Every library by its soname in the loader's default directory, so a
# build tree's RUNPATH (libvrt.so.0 of the client) needs no copy of that tree.
echo "$libs" | while read -r name path; do
    if [ "$name" = interp ]; then
        cp -L "$path" "$root/usr/lib64/$(basename "$path")"
    else
        cp -L "$path" "$root/usr/lib/x86_64-linux-gnu/$name"
    fi
done

# Modules with their dependencies first (guest-lib.sh).
ordered=""
for m in sch_htb sch_sfq sch_ingress cls_u32 cls_fw act_police bridge tun veth; do
    add_module "$m" "$root/usr/lib/modules"
done
echo $ordered > "$root/etc/modules"

echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"

mkdir -p "$root/etc/vrt-tc"
cat > "$root/etc/vrt-tc/bw.xml" <<'EOF'
<network>
  <name>bw</name>
  <forward mode='open'/>
  <bridge name='vrtbw0'/>
  <bandwidth>
    <inbound average='1000' peak='2000' burst='1024'/>
    <outbound average='500'/>
  </bandwidth>
  <dns enable='no'/>
  <ip address='10.87.0.1' prefix='24'/>
</network>
EOF
cat > "$root/etc/vrt-tc/port.xml" <<'EOF'
<networkport>
  <uuid>7b8e1f5a-3c2d-4e6f-9a0b-1c2d3e4f5a6b</uuid>
  <owner>
    <name>vm1</name>
    <uuid>11111111-2222-3333-4444-555555555555</uuid>
  </owner>
  <mac address='52:54:00:aa:00:01'/>
  <bandwidth>
    <inbound floor='200'/>
  </bandwidth>
</networkport>
EOF

cat > "$root/init" <<'EOF'
#!/bin/sh
# PID 1 of vrt's vrtd guest (written by tests/guest/build-vrtd-guest.sh).
# This busybox's ash runs its own applets first, whatever PATH says: tc and
# ip here are called by their full paths to get iproute2's (vrtd looks
# them up in PATH itself and finds iproute2's).
export PATH=/usr/sbin:/usr/bin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
ip link set lo up
for m in $(cat /etc/modules); do
    insmod /lib/modules/$m.ko || echo "vrt-guest: insmod $m failed"
done
echo "VRT-TC-GUEST $(uname -r) uptime $(cut -d" " -f1 /proc/uptime)"

# step NAME COMMAND...: the command's output (stdout and stderr) between markers.
step() {
    name=$1
    shift
    echo "VRT-TC-BEGIN $name"
    "$@" 2>&1
    rc=$?
    echo "VRT-TC-END $name $rc"
    return $rc
}
show_tc() {
    step "$1-qdisc" /usr/sbin/tc qdisc show dev vrtbw0
    step "$1-class" /usr/sbin/tc class show dev vrtbw0
    step "$1-filter" /usr/sbin/tc filter show dev vrtbw0
    step "$1-ingress" /usr/sbin/tc filter show dev vrtbw0 parent ffff:
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1}
export VRT_DEFAULT_URI="qemu+unix:///system?socket=/tmp/r/run/vrt/vrtd-sock"
mkdir -p /tmp/r
vrtd --root /tmp/r 2>/tmp/vrtd.log &
vrtd_pid=$!
tries=0
until vrt net-list --all >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ $tries -gt 600 ] || ! kill -0 $vrtd_pid 2>/dev/null; then
        echo "VRT-TC-BEGIN vrtd-log"; cat /tmp/vrtd.log; echo "VRT-TC-END vrtd-log 1"
        echo "VRT-TC-FAILED vrtd did not answer"
        poweroff -f
    fi
    sleep 0.1
done
echo "VRT-TC-VRTD-READY uptime $(cut -d" " -f1 /proc/uptime)"

step net-define vrt net-define /etc/vrt-tc/bw.xml
step net-start vrt net-start bw
show_tc started
step port-create vrt net-port-create bw /etc/vrt-tc/port.xml
show_tc port
step port-delete vrt net-port-delete bw 7b8e1f5a-3c2d-4e6f-9a0b-1c2d3e4f5a6b
show_tc unplugged
step net-destroy vrt net-destroy bw
step destroyed-link /usr/sbin/ip link show vrtbw0
step destroyed-qdisc-all /usr/sbin/tc qdisc show
step destroyed-class /usr/sbin/tc class show dev vrtbw0
step net-list vrt net-list --all

kill -TERM $vrtd_pid
wait $vrtd_pid
rc=$?
echo "VRT-TC-BEGIN vrtd-exit"; echo "VRT-TC-END vrtd-exit $rc"
echo "VRT-TC-BEGIN vrtd-log"; cat /tmp/vrtd.log; echo "VRT-TC-END vrtd-log 0"
echo "VRT-TC-DONE uptime $(cut -d" " -f1 /proc/uptime)"
poweroff -f
EOF
chmod 755 "$root/init"

# Uncompressed: QEMU hands the kernel the archive in memory, and unpacking
# it costs the TCG guest less than decompressing it would.
(cd "$root" && find . | LC_ALL=C sort | "$bb" cpio -o -H newc 2>/dev/null) > "$work/initrd.img"
mkdir -p "$work/out"
mv "$work/initrd.img" "$work/out/initrd.img"
rm -rf "$out"
mv "$work/out" "$out"
emit
