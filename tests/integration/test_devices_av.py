"""Display, sound and character devices applied, not only parsed: each
<audio> backend becomes a QEMU -audiodev with its <input>/<output>
settings, the VNC display plays the first one, and QEMU runs with them
(TCG)."""
import json
import os
import re
import xml.etree.ElementTree as ET

from vrt_fixtures import qom_get, virsh


def qemu_argv(root, name):
    with open(os.path.join(root, "run", "vrt", "qemu", f"{name}.xml")) as f:
        pid = int(re.search(r"pid=['\"](\d+)['\"]", f.read()).group(1))
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().decode().split("\0")


def option_args(argv, option):
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == option]


def define_start(uri, tmp_path, xml):
    path = tmp_path / "dom.xml"
    path.write_text(xml)
    virsh(uri, "define", str(path))
    name = ET.fromstring(xml).find("name").text
    virsh(uri, "start", name)
    assert virsh(uri, "domstate", name).stdout.strip() == "running"
    return name


AUDIO_XML = """<domain type='qemu'><name>audio</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <graphics type='vnc' autoport='yes'/>
    <audio id='1' type='alsa' timerPeriod='50'>
      <input mixingEngine='yes' fixedSettings='yes' voices='1' dev='default'>
        <settings frequency='44100' channels='2' format='s16'/>
      </input>
      <output mixingEngine='yes' fixedSettings='yes' voices='2' bufferLength='200' dev='default'>
        <settings frequency='22050' channels='4' format='f32'/>
      </output>
    </audio>
    <audio id='2' type='file' path='{wav}'/>
    <audio id='3' type='none'><output mixingEngine='no'/></audio>
  </devices>
</domain>"""


def test_audio_backends_reach_qemu(vrtd, tmp_path):
    name = define_start(vrtd.uri, tmp_path, AUDIO_XML.format(wav=tmp_path / "out.wav"))
    argv = qemu_argv(vrtd.root, name)
    audiodevs = [json.loads(a) for a in option_args(argv, "-audiodev")]
    assert audiodevs == [
        {"id": "audio1", "driver": "alsa", "timer-period": 50,
         "in": {"mixing-engine": True, "fixed-settings": True, "voices": 1, "frequency": 44100,
                "channels": 2, "format": "s16", "dev": "default"},
         "out": {"mixing-engine": True, "fixed-settings": True, "voices": 2, "buffer-length": 200,
                 "frequency": 22050, "channels": 4, "format": "f32", "dev": "default"}},
        {"id": "audio2", "driver": "wav", "path": str(tmp_path / "out.wav")},
        {"id": "audio3", "driver": "none", "out": {"mixing-engine": False}},
    ]
    # the display's audio capture takes the first backend, as libvirt's
    assert option_args(argv, "-vnc")[0].endswith(",audiodev=audio1")
    inactive = virsh(vrtd.uri, "dumpxml", "--inactive", name).stdout
    assert "<audio id='1' type='alsa' timerPeriod='50'>" in inactive
    assert "<settings frequency='22050' channels='4' format='f32'/>" in inactive
    virsh(vrtd.uri, "destroy", name)
    virsh(vrtd.uri, "undefine", name)


def test_default_audio_reaches_qemu(vrtd, tmp_path):
    """The <audio type='none'> libvirt adds to every domain is QEMU's
    backend too (libvirt passes it; QEMU would otherwise pick a host one)."""
    name = define_start(vrtd.uri, tmp_path, """<domain type='qemu'><name>noaudio</name>
        <memory unit='MiB'>64</memory><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>""")
    assert [json.loads(a) for a in option_args(qemu_argv(vrtd.root, name), "-audiodev")] == [
        {"id": "audio1", "driver": "none"}]
    virsh(vrtd.uri, "destroy", name)
    virsh(vrtd.uri, "undefine", name)


VIRTIO_OPTS_XML = """<domain type='qemu'><name>vopts</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <input type='mouse' bus='virtio'><driver ats='on' packed='on'/></input>
    <input type='keyboard' bus='virtio'><driver iommu='off'/></input>
    <video><driver page_per_vq='on' packed='off'/><model type='virtio'/></video>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend><driver ats='on' page_per_vq='on'/></rng>
    <memballoon model='virtio' freePageReporting='on'><driver packed='on'/></memballoon>
  </devices>
</domain>"""


def test_virtio_driver_options_reach_qemu(vrtd, tmp_path):
    """<driver ats|iommu|packed|page_per_vq> of the virtio input, video, RNG
    and balloon, and the balloon's freePageReporting: the device properties
    QEMU runs with."""
    name = define_start(vrtd.uri, tmp_path, VIRTIO_OPTS_XML)
    devs = {}
    for a in option_args(qemu_argv(vrtd.root, name), "-device"):
        d = json.loads(a)
        devs[d["id"]] = d
    assert devs["input0"]["ats"] is True and devs["input0"]["packed"] is True
    assert devs["input1"]["iommu_platform"] is False
    assert devs["video0"]["page-per-vq"] is True and devs["video0"]["packed"] is False
    assert devs["rng0"]["ats"] is True and devs["rng0"]["page-per-vq"] is True
    assert devs["balloon0"]["packed"] is True and devs["balloon0"]["free-page-reporting"] is True
    # what QEMU's devices hold
    assert qom_get(vrtd.uri, name, "/machine/peripheral/input0", "ats") is True
    assert qom_get(vrtd.uri, name, "/machine/peripheral/input0", "packed") is True
    assert qom_get(vrtd.uri, name, "/machine/peripheral/rng0", "page-per-vq") is True
    assert qom_get(vrtd.uri, name, "/machine/peripheral/balloon0", "packed") is True
    assert qom_get(vrtd.uri, name, "/machine/peripheral/balloon0", "free-page-reporting") is True
    inactive = virsh(vrtd.uri, "dumpxml", "--inactive", name).stdout
    assert "<driver ats='on' page_per_vq='on'/>" in inactive
    assert "<driver page_per_vq='on' packed='off'/>" not in inactive  # libvirt's order
    assert "<driver packed='off' page_per_vq='on'/>" in inactive
    virsh(vrtd.uri, "destroy", name)
    virsh(vrtd.uri, "undefine", name)

    # on a device that is not virtio they are refused, not dropped
    path = tmp_path / "ps2.xml"
    path.write_text("""<domain type='qemu'><name>vopts2</name><memory unit='MiB'>64</memory>
        <os><type arch='x86_64' machine='pc'>hvm</type></os>
        <devices><video><driver iommu='on'/><model type='vga'/></video></devices></domain>""")
    p = virsh(vrtd.uri, "define", str(path), check=False)
    assert p.returncode != 0 and "iommu driver option is only supported for virtio devices" in p.stderr


def free_port(kind=None):
    import socket
    s = socket.socket(socket.AF_INET, kind or socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_network_and_null_serials_reach_qemu(vrtd, tmp_path):
    """<serial type='tcp'|'udp'|'null'>: QEMU's chardevs (query-chardev),
    a TCP serial in bind mode listening where the XML says, and the
    console following the first serial as libvirt writes it."""
    import socket
    import socket as s_
    tcp, udp_remote, udp_local = free_port(), free_port(s_.SOCK_DGRAM), free_port(s_.SOCK_DGRAM)
    xml = f"""<domain type='qemu'><name>serials</name><memory unit='MiB'>64</memory>
      <os><type arch='x86_64' machine='pc'>hvm</type></os>
      <devices>
        <serial type='tcp'><source mode='bind' host='127.0.0.1' service='{tcp}'/>
          <protocol type='telnet'/><target port='0'/></serial>
        <serial type='udp'><source mode='connect' host='127.0.0.1' service='{udp_remote}'/>
          <source mode='bind' host='127.0.0.1' service='{udp_local}'/><target port='1'/></serial>
        <serial type='null'><target port='2'/></serial>
        <console type='tcp'><source mode='bind' host='127.0.0.1' service='{tcp}'/>
          <protocol type='telnet'/><target type='serial' port='0'/></console>
      </devices></domain>"""
    name = define_start(vrtd.uri, tmp_path, xml)
    chardevs = option_args(qemu_argv(vrtd.root, name), "-chardev")
    assert f"socket,id=charserial0,host=127.0.0.1,port={tcp},telnet=on,server=on,wait=off" in chardevs
    assert (f"udp,id=charserial1,host=127.0.0.1,port={udp_remote},localaddr=127.0.0.1,"
            f"localport={udp_local}") in chardevs
    assert "null,id=charserial2" in chardevs
    out = json.loads(virsh(vrtd.uri, "qemu-monitor-command", name, '{"execute":"query-chardev"}').stdout)
    files = {c["label"]: c["filename"] for c in out["return"]}
    assert files["charserial0"] == f"disconnected:telnet:127.0.0.1:{tcp},server=on"
    assert files["charserial1"] == "udp"
    assert files["charserial2"] == "null"
    # QEMU listens on the serial's port
    with socket.create_connection(("127.0.0.1", tcp), timeout=10):
        pass
    inactive = virsh(vrtd.uri, "dumpxml", "--inactive", name).stdout
    assert inactive.count(f"<source mode='bind' host='127.0.0.1' service='{tcp}'/>") == 2  # serial and console
    assert inactive.count("<protocol type='telnet'/>") == 2
    assert f"<source mode='bind' host='127.0.0.1' service='{udp_local}'/>" in inactive
    virsh(vrtd.uri, "destroy", name)
    virsh(vrtd.uri, "undefine", name)

    # what vrt cannot apply is refused, not dropped
    path = tmp_path / "rc.xml"
    path.write_text(f"""<domain type='qemu'><name>rc</name><memory unit='MiB'>64</memory>
        <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
        <serial type='tcp'><source mode='connect' host='127.0.0.1' service='{tcp}' tls='yes'/></serial>
        </devices></domain>""")
    p = virsh(vrtd.uri, "define", str(path), check=False)
    assert p.returncode != 0 and "TLS for a TCP character device is not supported" in p.stderr


def test_vnc_listen_none_reaches_qemu(vrtd, tmp_path):
    """<listen type='none'/>: a VNC server without any listener (-vnc none,
    libvirt's argument), written back without port or autoport."""
    name = define_start(vrtd.uri, tmp_path, """<domain type='qemu'><name>vncnone</name>
        <memory unit='MiB'>64</memory><os><type arch='x86_64' machine='pc'>hvm</type></os>
        <devices><graphics type='vnc'><listen type='none'/></graphics></devices></domain>""")
    assert option_args(qemu_argv(vrtd.root, name), "-vnc") == ["none,audiodev=audio1"]
    # a VNC server exists, listening nowhere
    out = json.loads(virsh(vrtd.uri, "qemu-monitor-command", name, '{"execute":"query-vnc-servers"}').stdout)
    assert [(s["id"], s["server"]) for s in out["return"]] == [("default", [])]
    for flags in ([], ["--inactive"]):
        xml = virsh(vrtd.uri, "dumpxml", *flags, name).stdout
        assert "<graphics type='vnc'>\n      <listen type='none'/>\n    </graphics>" in xml
    virsh(vrtd.uri, "destroy", name)
    virsh(vrtd.uri, "undefine", name)
