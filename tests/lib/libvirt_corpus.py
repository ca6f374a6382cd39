"""libvirt 9.0's own XML test corpus, the yardstick for vrt's XML.

``corpus_dir()`` returns the ``tests/`` directory of Debian 12's libvirt
source package (qemuxml2argvdata, qemuxml2xmloutdata, networkxml2xmlin,
networkxml2xmlout, nodedevschemadata, ...). It is fetched once with
``apt-get source --download-only libvirt`` (scripts/install-deps gives the
machine's apt sources their deb-src twins) and only ``tests/`` is unpacked,
cached under $VRT_CORPUS_CACHE or ~/.cache/vrt/libvirt-corpus/, as the test
guest is cached. A machine without it gets None (require() then skips the
test, or fails it in CI).

Python 3 stdlib only.
"""
import glob
import os
import shutil
import subprocess
import tempfile

VERSION = "9.0.0"


def cache_root():
    return os.environ.get("VRT_CORPUS_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "vrt", "libvirt-corpus")


def corpus_dir():
    """The unpacked tests/ directory of libvirt's source, or None when the
    source package cannot be had (no deb-src, no network)."""
    root = cache_root()
    tests = os.path.join(root, f"libvirt-{VERSION}", "tests")
    if os.path.isdir(os.path.join(tests, "qemuxml2argvdata")):
        return tests
    if not shutil.which("apt-get"):
        return None
    os.makedirs(root, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        p = subprocess.run(["apt-get", "source", "--download-only", "-q", f"libvirt={VERSION}*"], cwd=tmp,
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            p = subprocess.run(["apt-get", "source", "--download-only", "-q", "libvirt"], cwd=tmp,
                               capture_output=True, text=True, timeout=600)
        tarballs = glob.glob(os.path.join(tmp, f"libvirt_{VERSION}.orig.tar.*"))
        if p.returncode != 0 or not tarballs:
            return None
        unpack = os.path.join(tmp, "unpack")
        os.makedirs(unpack)
        p = subprocess.run(["tar", "-xf", tarballs[0], "-C", unpack, "--wildcards", f"libvirt-{VERSION}/tests/*"],
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            return None
        # Publish whole: a second caller sees either nothing or all of it.
        try:
            os.rename(os.path.join(unpack, f"libvirt-{VERSION}"), os.path.join(root, f"libvirt-{VERSION}"))
        except OSError:
            if not os.path.isdir(os.path.join(tests, "qemuxml2argvdata")):
                raise
    return tests


if __name__ == "__main__":
    print(corpus_dir())
