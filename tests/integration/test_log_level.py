"""vrtd.conf's log_level with log_outputs, as libvirt's: a message reaches an
output when its level is at least log_level and at least the output's own
level (libvirt's default priority and output priority; vrt has no
log_filters to lower the first)."""
import os

from vrt_fixtures import Vrtd, virsh

DOMAIN = ("<domain type='qemu'><name>logged</name><memory>65536</memory>"
          "<os><type arch='x86_64'>hvm</type></os></domain>")


def run_with(tmproot, conf_lines):
    log = os.path.join(tmproot, "out.log")
    conf = os.path.join(tmproot, "vrtd.conf")
    with open(conf, "w") as f:
        f.write("".join(line + "\n" for line in conf_lines + [f'log_outputs = "1:file:{log}"']))
    d = Vrtd(tmproot, config=conf).start()
    try:
        xml = os.path.join(tmproot, "dom.xml")
        with open(xml, "w") as f:
            f.write(DOMAIN)
        # Start-up, a define and an undefine log info and debug messages.
        virsh(d.uri, "define", xml)
        virsh(d.uri, "undefine", "logged")
    finally:
        d.stop()
    with open(log) as f:
        return f.read()


def levels(text):
    return {line.split(": ")[2].split(" ")[0] for line in text.splitlines() if line.count(": ") >= 2}


def test_log_level_filters_an_output_with_a_lower_level(tmproot):
    text = run_with(tmproot, [])  # log_level defaults to 3
    assert levels(text) <= {"warning", "error"}, text


def test_log_level_1_lets_an_output_at_1_show_debug(tmproot):
    text = run_with(tmproot, ["log_level = 1"])
    assert "info" in levels(text) or "debug" in levels(text), text


def test_log_level_4_keeps_only_errors(tmproot):
    text = run_with(tmproot, ["log_level = 4"])
    assert levels(text) <= {"error"}, text
