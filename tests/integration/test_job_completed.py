"""The job-completed event (VIR_DOMAIN_EVENT_ID_JOB_COMPLETED) after a save
and a managed save of a QEMU domain through vrtd, with the save's
statistics as libvirt's typed parameters; virsh event --event
job-completed and domjobinfo --completed see them."""
import subprocess
import threading

import pytest

from vrt_fixtures import import_required, kill_vms_under, virsh, wait_for

libvirt = import_required("libvirt", "python3-libvirt is not installed")


def domain_xml(name):
    return (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            "<devices><memballoon model='none'/></devices></domain>")


def start_event_loop():
    # One default event loop per process, before the connection opens.
    if not getattr(libvirt, "_vrt_event_loop", None):
        libvirt.virEventRegisterDefaultImpl()
        t = threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)], daemon=True)
        t.start()
        libvirt._vrt_event_loop = t


@pytest.fixture
def conn(vrtd, tmproot):
    start_event_loop()
    c = libvirt.open(vrtd.uri)
    yield c
    c.close()
    kill_vms_under(tmproot)


def test_event_after_save_and_managed_save(conn, tmp_path):
    got = []
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                                lambda c, d, params, o: got.append(("job", d.name(), params)), None)
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                lambda c, d, ev, det, o: got.append(("life", d.name(), ev)), None)
    dom = conn.defineXML(domain_xml("jc1"))
    dom.create()
    dom.save(str(tmp_path / "jc1.img"))
    wait_for(lambda: any(g[0] == "job" for g in got) and ("life", "jc1", libvirt.VIR_DOMAIN_EVENT_STOPPED) in got,
             what=f"job-completed and stopped events, got {got}")
    params = next(g[2] for g in got if g[0] == "job")
    assert params["operation"] == libvirt.VIR_DOMAIN_JOB_OPERATION_SAVE
    assert params["memory_total"] > 0 and params["memory_processed"] > 0
    assert params["memory_remaining"] == 0
    assert params["data_total"] == params["memory_total"]
    assert "time_elapsed" in params and "memory_iteration" in params
    # Sent before the domain's stopped event, as libvirt does.
    order = [(g[0], g[2]) if g[0] == "life" else (g[0],) for g in got]
    assert order.index(("job",)) < order.index(("life", libvirt.VIR_DOMAIN_EVENT_STOPPED))
    # The completed job's statistics, once (kept only when asked).
    stats = dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED | libvirt.VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED)
    assert stats["type"] == libvirt.VIR_DOMAIN_JOB_COMPLETED and stats["memory_total"] == params["memory_total"]
    assert dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)["operation"] == libvirt.VIR_DOMAIN_JOB_OPERATION_SAVE
    assert dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)["type"] == libvirt.VIR_DOMAIN_JOB_NONE
    # A managed save is a save job too.
    conn.restore(str(tmp_path / "jc1.img"))
    got.clear()
    dom.managedSave()
    wait_for(lambda: any(g[0] == "job" for g in got), what=f"job-completed event, got {got}")
    assert next(g[2] for g in got if g[0] == "job")["operation"] == libvirt.VIR_DOMAIN_JOB_OPERATION_SAVE


def test_virsh_event_job_completed(conn, vrtd, tmp_path):
    dom = conn.defineXML(domain_xml("jc2"))
    dom.create()
    p = subprocess.Popen(["virsh", "-c", vrtd.uri, "event", "--all", "--loop", "--timeout", "60"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = []
    reader = threading.Thread(target=lambda: [out.append(line) for line in p.stdout], daemon=True)
    reader.start()
    try:
        # virsh prints nothing once it has registered: change the title
        # until its metadata-change event shows it listens.
        def seen():
            dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_TITLE, "t", None, None, 0)
            return any("metadata-change" in line for line in out)
        wait_for(seen, timeout=30, what=f"virsh event output, got {out}")
        virsh(vrtd.uri, "save", "jc2", str(tmp_path / "jc2.img"))
        wait_for(lambda: any("job-completed" in line for line in out), timeout=30,
                 what=f"job-completed from virsh event, got {out}")
        wait_for(lambda: any("memory_total" in line for line in out), what=f"its parameters, got {out}")
    finally:
        p.terminate()
        p.wait()
    text = "".join(out)
    assert "event 'job-completed' for domain 'jc2':" in text
    assert "\toperation: 2\n" in text
    info = virsh(vrtd.uri, "domjobinfo", "jc2", "--completed").stdout
    assert "Completed" in info and "Save" in info
