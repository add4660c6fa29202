"""Every fixture's diagnostics match its `# expect:` lines exactly: (file, line, code), and the
column where one is given. Good fixtures carry no expectation of their folder's rule."""
from __future__ import annotations

from pathlib import Path

import pytest

from fixture_expect import FIXTURES, Expected, expectations, fixture_units, options, unit_files
from torchlint_repro.analysis.project import reset_projects
from torchlint_repro.config import Settings
from torchlint_repro.engine import lint_file

UNITS = fixture_units()


def _settings(path: Path) -> Settings:
    opts = options(path)
    kwargs = {"select": ("TRP",), "cache": False}
    if "seed-functions" in opts:
        kwargs["seed_functions"] = tuple(opts["seed-functions"])
    if "inference-functions" in opts:
        kwargs["inference_functions"] = tuple(opts["inference-functions"])
    return Settings(**kwargs)


@pytest.mark.parametrize("unit", UNITS, ids=[str(u.relative_to(FIXTURES)) for u in UNITS])
def test_fixture_diagnostics_match_expectations(unit: Path) -> None:

    expected: set[Expected] = set()
    actual: set[Expected] = set()
    cols: dict[tuple[str, int, str], int] = {}
    for f in unit_files(unit):
        expected |= expectations(f)
        for d in lint_file(f, _settings(f)):
            actual.add(Expected(str(f), d.line, d.code, None))
            cols[(str(f), d.line, d.code)] = d.col + 1
    want = {Expected(e.path, e.line, e.code, None) for e in expected}
    missing = sorted((Path(e.path).name, e.line, e.code) for e in want - actual)
    extra = sorted((Path(e.path).name, e.line, e.code) for e in actual - want)
    assert not missing and not extra, f"missing: {missing}\nunexpected: {extra}"
    for e in expected:
        if e.col is not None:
            assert cols[(e.path, e.line, e.code)] == e.col, f"{Path(e.path).name}:{e.line} {e.code} column"


@pytest.mark.parametrize("unit", [u for u in UNITS if u.name.startswith("good_")],
                         ids=lambda u: str(u.relative_to(FIXTURES)))
def test_good_fixtures_have_no_expectations(unit: Path) -> None:
    assert not any(expectations(f) for f in unit_files(unit)), "a good fixture must lint clean"


@pytest.mark.parametrize("unit", [u for u in UNITS if u.name.startswith("bad_")],
                         ids=lambda u: str(u.relative_to(FIXTURES)))
def test_bad_fixtures_expect_their_rule(unit: Path) -> None:
    code = unit.parent.name
    assert any(e.code == code for f in unit_files(unit) for e in expectations(f))
