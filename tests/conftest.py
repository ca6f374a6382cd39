"""Makes tests/lib/vrt_fixtures.py the fixtures of every test under tests/
(integration, guest, qmpemu): vrtd, libvirtd, hostsim, the QMP emulator,
the rule for missing prerequisites and the sanitizer check. Test files
import helpers from vrt_fixtures; `from conftest import ...` finds them here
too. Bytecode is not written next to the sources (see tests/pytest.ini)."""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

from vrt_fixtures import *  # noqa: E402,F401,F403 - the fixtures and helpers
