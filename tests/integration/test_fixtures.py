"""The rule for a missing prerequisite (tests/lib/vrt_fixtures.py): a
developer's run skips with the reason, a CI run fails with it, whether the
check is a call (require), a decorator (needs) or a module import."""
import pytest

from vrt_fixtures import import_required, in_ci, needs, require


@pytest.mark.parametrize("ci", ["", "0", "false", "no"])
def test_missing_skips_outside_ci(monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    assert not in_ci()
    with pytest.raises(pytest.skip.Exception, match="frobnicator is not installed"):
        require(False, "frobnicator is not installed")
    require(True, "never said")


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_missing_fails_under_ci(monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    assert in_ci()
    with pytest.raises(pytest.fail.Exception, match="frobnicator is not installed"):
        require(False, "frobnicator is not installed")
    with pytest.raises(pytest.fail.Exception, match="vrt_no_such_module"):
        import_required("vrt_no_such_module")


def test_needs_decorator(monkeypatch):
    monkeypatch.delenv("CI", raising=False)

    def present():
        return "ran"

    assert needs(True, "x")(present) is present
    missing = needs(False, "no frobnicator")(present)
    with pytest.raises(pytest.skip.Exception, match="no frobnicator"):
        missing()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no frobnicator"):
        missing()
