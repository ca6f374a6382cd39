"""The README's first command ends in scripts/demo, the main job: vrtd on a
private root answering vrt and virsh, a small VM defined, started, listed,
stopped and undefined. Run here against the build under test, so that a
change which breaks the main job (as QEMU's confinement once did: the demo's
mktemp root was out of QEMU's user's reach) fails the suite."""
import os
import subprocess

from vrt_fixtures import built

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_readme_demo_runs():
    vrtd = built("daemon/vrtd")
    assert vrtd, "vrtd is not built"
    build = os.path.dirname(os.path.dirname(vrtd))
    p = subprocess.run([os.path.join(REPO, "scripts", "demo")], env=dict(os.environ, VRT_BUILD=build),
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "demo done: vrtd on" in p.stdout
    # the VM ran: vrt and virsh both listed it running
    assert p.stdout.count("running") >= 2, p.stdout
