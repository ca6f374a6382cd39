"""Node device events through vrtd on the simulated SR-IOV host
(tests/hostsim) with python3-libvirt's event loop and virsh: LIFECYCLE
created/deleted when the PF's VF count changes (the VFs' PCI and net
devices come and go), UPDATE when a VF is detached to vfio-pci and
reattached, a callback for one device seeing only that device's events,
and deregistration ending them."""
import os
import threading

import pytest

from vrt_fixtures import import_required, virsh, wait_for

libvirt = import_required("libvirt", "python3-libvirt is not installed")

PF = "/sys/bus/pci/devices/0000:06:00.0"


class Events:
    def __init__(self):
        self.lock = threading.Lock()
        self.seen = []

    def lifecycle(self, conn, dev, event, detail, opaque):
        with self.lock:
            self.seen.append(("lifecycle", dev.name(), event))

    def update(self, conn, dev, opaque):
        with self.lock:
            self.seen.append(("update", dev.name()))

    def has(self, item):
        with self.lock:
            return item in self.seen

    def all(self):
        with self.lock:
            return list(self.seen)


_loop_started = False


def event_loop():
    global _loop_started
    if _loop_started:
        return
    libvirt.virEventRegisterDefaultImpl()

    def run():
        while True:
            libvirt.virEventRunDefaultImpl()
    threading.Thread(target=run, daemon=True).start()
    _loop_started = True


def write(host_root, path, value):
    with open(host_root + path, "w") as f:
        f.write(value)


def test_vf_count_change_and_detach_raise_events(hostsim_vrtd):
    event_loop()
    conn = libvirt.open(hostsim_vrtd.uri)
    ev, one = Events(), Events()
    try:
        ids = [conn.nodeDeviceEventRegisterAny(None, libvirt.VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE, ev.lifecycle, None),
               conn.nodeDeviceEventRegisterAny(None, libvirt.VIR_NODE_DEVICE_EVENT_ID_UPDATE, ev.update, None)]
        vf3 = conn.nodeDeviceLookupByName("pci_0000_06_10_3")
        ids.append(conn.nodeDeviceEventRegisterAny(vf3, libvirt.VIR_NODE_DEVICE_EVENT_ID_UPDATE, one.update, None))

        # Four VFs down to two: VFs 2 and 3 and their net devices go.
        write(hostsim_vrtd.host, PF + "/sriov_numvfs", "0")
        write(hostsim_vrtd.host, PF + "/sriov_numvfs", "2")
        for name in ("pci_0000_06_10_2", "pci_0000_06_10_3"):
            wait_for(lambda: ev.has(("lifecycle", name, libvirt.VIR_NODE_DEVICE_EVENT_DELETED)),
                     what=f"{name} deleted: {ev.all()}")
        assert not ev.has(("lifecycle", "pci_0000_06_10_0", libvirt.VIR_NODE_DEVICE_EVENT_DELETED)) or \
            ev.has(("lifecycle", "pci_0000_06_10_0", libvirt.VIR_NODE_DEVICE_EVENT_CREATED))
        # Back to four: created.
        write(hostsim_vrtd.host, PF + "/sriov_numvfs", "0")
        write(hostsim_vrtd.host, PF + "/sriov_numvfs", "4")
        wait_for(lambda: ev.has(("lifecycle", "pci_0000_06_10_3", libvirt.VIR_NODE_DEVICE_EVENT_CREATED)),
                 what=f"pci_0000_06_10_3 created: {ev.all()}")

        # Detach to vfio-pci and back: the device's XML (its driver) changes.
        virsh(hostsim_vrtd.uri, "nodedev-detach", "pci_0000_06_10_1")
        wait_for(lambda: ev.has(("update", "pci_0000_06_10_1")), timeout=30, what=f"an update of VF 1: {ev.all()}")
        virsh(hostsim_vrtd.uri, "nodedev-detach", "pci_0000_06_10_3")
        wait_for(lambda: one.has(("update", "pci_0000_06_10_3")), timeout=30, what=f"an update of VF 3: {one.all()}")
        # The callback for VF 3 alone saw nothing of VF 1.
        assert all(e[1] == "pci_0000_06_10_3" for e in one.all()), one.all()

        for cid in ids:
            conn.nodeDeviceEventDeregisterAny(cid)
        before = len(ev.all())
        virsh(hostsim_vrtd.uri, "nodedev-reattach", "pci_0000_06_10_1")
        virsh(hostsim_vrtd.uri, "nodedev-reattach", "pci_0000_06_10_3")
        # A fresh registration sees the next change, and the deregistered
        # callbacks got nothing meanwhile. (The fresh one may also see the
        # reattaches above: the inventory is compared every 500 ms, so a
        # change can be noticed after it registered.)
        again = Events()
        cid = conn.nodeDeviceEventRegisterAny(None, libvirt.VIR_NODE_DEVICE_EVENT_ID_UPDATE, again.update, None)
        virsh(hostsim_vrtd.uri, "nodedev-detach", "pci_0000_06_10_2")
        wait_for(lambda: again.has(("update", "pci_0000_06_10_2")), timeout=30, what=f"an update of VF 2: {again.all()}")
        conn.nodeDeviceEventDeregisterAny(cid)
        assert len(ev.all()) == before
        assert {e[1] for e in again.all()} <= {"pci_0000_06_10_1", "pci_0000_06_10_2", "pci_0000_06_10_3"}
        with pytest.raises(libvirt.libvirtError):
            conn.nodeDeviceEventDeregisterAny(cid)
    finally:
        conn.close()

