#!/bin/sh
# Builds the tiny bootable guest that vrt's tests boot under QEMU: a Debian
# cloud kernel plus a busybox initramfs whose /init brings up what ACPI
# shutdown, reset and PCI hot-unplug need, then prints a ready marker.
#
# Usage: tests/guest/build-guest.sh      (prints "kernel PATH" and "initrd PATH")
#
# Cache: $VRT_GUEST_CACHE, else $XDG_CACHE_HOME/vrt/guest (~/.cache/vrt/guest),
# never the source tree, and shared by every build dir and checkout. The guest
# is built once; it is rebuilt only when this script changes or a file is missing.
# Network: only Debian's apt mirrors, through `apt-get download` (packages
# linux-image-cloud-amd64's kernel and busybox-static; neither is installed,
# both are unpacked with dpkg-deb -x). Boot it with
#   qemu-system-x86_64 -accel tcg -kernel K -initrd I -append console=ttyS0 \
#     -serial stdio -display none
# Guest behaviour (what tests may rely on):
#   - prints "VRT-GUEST-READY" on the console once modules are loaded and the
#     power button is watched (pc and q35 alike; again after every reset);
#   - ACPI power button (QMP system_powerdown) -> prints "VRT-GUEST-POWEROFF"
#     and powers off, so QEMU emits SHUTDOWN and exits (unless -no-shutdown);
#   - virtio-net-pci hot-unplug (device_del) is acknowledged by the kernel's
#     ACPI/PCIe hotplug code (built into the cloud kernel), so DEVICE_DELETED
#     follows; virtio_net, virtio_pci, virtio_balloon, button and evdev are
#     modules in this kernel and are loaded by /init;
#   - a busybox shell runs on the console afterwards: typing "reboot -f" or
#     "poweroff -f" there makes the guest itself reboot or power off;
#   - networking from that shell: lo is up; `udhcpc -i eth0 -q` gets a DHCP
#     lease and its event script (/etc/udhcpc/default.script) sets the
#     address, the default route and /etc/resolv.conf from it, then prints
#     "VRT-GUEST-LEASE IFACE ADDRESS"; busybox's nslookup, ping and nc are
#     there to use the network (busybox-static 1.35's wget segfaults here,
#     even given an address).
# Measured on the project machine (TCG, 2 shared cores, QEMU 7.2, 256 MiB):
# exec to ready marker 2.45-2.9 s on pc and q35; system_reset to ready again
# 2.6-2.7 s (now and then ~5.2 s); system_powerdown to QEMU exit ~65 ms;
# device_del to DEVICE_DELETED of a virtio-net-pci (virtio_net bound) 160-210 ms
# on pc, 90-120 ms on q35 behind a pcie-root-port; of a device with no guest
# driver (e1000) 55-60 ms on both. Python helpers: tests/guest/guest.py.
set -eu

cache=${VRT_GUEST_CACHE:-${XDG_CACHE_HOME:-${HOME:-/var/tmp}/.cache}/vrt/guest}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# The stamp ties the cached guest to this script's content (and guest-lib.sh's): editing /init
# below rebuilds it, nothing else does.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/guest-lib.sh"
stamp=$(cat "$0" "$here/guest-lib.sh" | sha256sum | cut -c1-16)

emit() {
    echo "kernel $cache/kernel"
    echo "initrd $cache/initrd.img"
}

if [ -f "$cache/kernel" ] && [ -f "$cache/initrd.img" ] &&
   [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ]; then
    emit
    exit 0
fi

# Parallel test runs may all ask for the guest at once: one builds, the others wait.
exec 9>"$cache/.lock"
flock 9
if [ -f "$cache/kernel" ] && [ -f "$cache/initrd.img" ] &&
   [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ]; then
    emit
    exit 0
fi

work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
debs=$cache/debs
mkdir -p "$debs"

# linux-image-cloud-amd64 is a metapackage; the kernel is in the versioned
# package it depends on.
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
       sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' | head -n1)
if [ -z "$kpkg" ]; then
    echo "build-guest: cannot resolve linux-image-cloud-amd64 (run apt-get update?)" >&2
    exit 1
fi

fetch() {
    # apt-get download names the file after the candidate version; keep one per package.
    if ! ls "$debs/$1"_*.deb >/dev/null 2>&1; then
        (cd "$debs" && apt-get download -q "$1" >&2) || {
            echo "build-guest: apt-get download $1 failed" >&2
            exit 1
        }
    fi
    ls "$debs/$1"_*.deb | head -n1
}

kdeb=$(fetch "$kpkg")
bdeb=$(fetch busybox-static)

dpkg-deb -x "$kdeb" "$work/k"
dpkg-deb -x "$bdeb" "$work/b"
vmlinuz=$(ls "$work"/k/boot/vmlinuz-* | head -n1)
moddir=$(ls -d "$work"/k/lib/modules/* | head -n1)
bb=$work/b/bin/busybox

root=$work/root
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/etc" \
         "$root/lib/modules" "$root/tmp" "$root/root"
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done

# Modules this guest needs that the cloud kernel builds as modules, with
# their dependencies loaded first (guest-lib.sh).
ordered=""
for m in button evdev virtio_pci virtio_net virtio_balloon; do
    add_module "$m" "$root/lib/modules"
done
echo $ordered > "$root/etc/modules"

cat > "$root/init" <<'EOF'
#!/bin/sh
# PID 1 of vrt's test guest (written by tests/guest/build-guest.sh).
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
ip link set lo up
for m in $(cat /etc/modules); do
    insmod /lib/modules/$m.ko || echo "vrt-guest: insmod $m failed"
done
# The ACPI button driver reports the power button as an input device; any
# event on it means "power off", which QEMU sees as an ACPI S5 shutdown.
# The device is opened here, before the ready marker, so a press that comes
# right after the marker is queued rather than lost to a watcher not yet running.
for ev in /sys/class/input/event*; do
    [ -e "$ev" ] || continue
    case "$(cat $ev/device/name 2>/dev/null)" in
    *"Power Button"*)
        exec 3</dev/input/${ev##*/}
        (dd of=/dev/null bs=24 count=1 2>/dev/null <&3
         echo "VRT-GUEST-POWEROFF"
         poweroff -f) &
        exec 3<&-
        ;;
    esac
done
echo "VRT-GUEST-READY $(uname -r)"
while true; do
    setsid -c sh </dev/console >/dev/console 2>&1
    sleep 1
done
EOF
chmod 755 "$root/init"

# udhcpc only speaks DHCP: what a lease means for the interface is left to
# this script, run at each event ($1) with the lease in its environment.
mkdir -p "$root/etc/udhcpc"
cat > "$root/etc/udhcpc/default.script" <<'EOF'
#!/bin/sh
# udhcpc's event script in vrt's test guest (written by tests/guest/build-guest.sh):
# applies a lease to $interface: its address, the default route through the
# first router offered and /etc/resolv.conf, then says so on the console.
case "$1" in
deconfig)
    ifconfig "$interface" 0.0.0.0 up
    ;;
bound|renew)
    ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
    while route del default dev "$interface" 2>/dev/null; do :; done
    for r in $router; do
        route add default gw "$r" dev "$interface"
        break
    done
    : > /etc/resolv.conf
    if [ -n "$domain" ]; then echo "search $domain" >> /etc/resolv.conf; fi
    for s in $dns; do echo "nameserver $s" >> /etc/resolv.conf; done
    echo "VRT-GUEST-LEASE $interface $ip"
    ;;
esac
exit 0
EOF
chmod 755 "$root/etc/udhcpc/default.script"

(cd "$root" && find . | LC_ALL=C sort | "$bb" cpio -o -H newc 2>/dev/null) |
    gzip -1 > "$work/initrd.img"
cp "$vmlinuz" "$work/kernel"
mv "$work/kernel" "$cache/kernel"
mv "$work/initrd.img" "$cache/initrd.img"
echo "$kpkg" > "$cache/kernel-package"
echo "$stamp" > "$cache/stamp"
emit
