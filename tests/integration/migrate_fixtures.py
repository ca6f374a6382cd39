"""The module fixtures the migration tests share (test_migrate.py,
test_migrate_crash.py): the two joined network namespaces and the
certificates of migrate_env. A test module takes them by importing them."""
import shutil
import tempfile

import pytest

import migrate_env
from vrt_fixtures import require


@pytest.fixture(scope="module")
def net():
    a, b = migrate_env.make_net()
    try:
        yield a, b
    finally:
        a.close()
        b.close()


@pytest.fixture(scope="module")
def certs():
    require(shutil.which("certtool"), "certtool (gnutls-bin) is not installed")
    d = tempfile.mkdtemp(prefix="vrt-pki-")
    yield migrate_env.make_certs(d)
    shutil.rmtree(d, ignore_errors=True)
