"""Every fixture's diagnostics match its `# expect:` lines exactly: a multiset of (file, line, code),
and the column where one is given. Each fixture is linted as a project of its own (a copy in a
temporary folder), as the verifier runs it. Good fixtures carry no expectation of their folder's rule."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
from fixture_expect import (
    FIXTURES,
    FixtureError,
    expectations,
    fixture_units,
    isolated_copy,
    options,
    settings,
    unit_files,
)

from torchlint_repro.analysis.project import reset_projects
from torchlint_repro.config import Settings, settings_from_file
from torchlint_repro.engine import lint_file

UNITS = fixture_units()


def lint_unit(unit: Path, tmp_path: Path, base: Settings | None = None) -> tuple[Path, list]:
    """Lint an isolated copy of ``unit``: [(relative file, diagnostic)] in file order."""
    reset_projects()
    copy = isolated_copy(unit, tmp_path)
    root = copy if copy.is_dir() else copy.parent
    out = []
    for f in unit_files(copy):
        cfg = root / "pyproject.toml"
        here = base or (settings_from_file(cfg) if cfg.is_file() else Settings())
        for d in lint_file(f, settings(f, here)):
            out.append((f.relative_to(root).as_posix(), d))
    return root, out


@pytest.mark.parametrize("unit", UNITS, ids=[str(u.relative_to(FIXTURES)) for u in UNITS])
def test_fixture_diagnostics_match_expectations(unit: Path, tmp_path: Path) -> None:
    root, found = lint_unit(unit, tmp_path)
    expected: collections.Counter = collections.Counter()
    cols: dict[tuple[str, int, str], list[int]] = collections.defaultdict(list)
    for f in unit_files(unit):
        rel = f.relative_to(unit).as_posix() if unit.is_dir() else f.name
        for e, n in expectations(f).items():
            expected[(rel, e.line, e.code)] += n
            if e.col is not None:
                cols[(rel, e.line, e.code)].extend([e.col] * n)
    actual = collections.Counter((rel, d.line, d.code) for rel, d in found)
    missing = sorted((expected - actual).elements())
    extra = sorted((actual - expected).elements())
    assert not missing and not extra, f"missing: {missing}\nunexpected: {extra}"
    for key, want in cols.items():
        got = sorted(d.col + 1 for rel, d in found if (rel, d.line, d.code) == key)
        assert sorted(want) == got[: len(want)] if len(want) < len(got) else sorted(want) == got, (
            f"{key}: columns {got}, expected {sorted(want)}"
        )


@pytest.mark.parametrize(
    "unit", [u for u in UNITS if u.name.startswith("good_")], ids=lambda u: str(u.relative_to(FIXTURES))
)
def test_good_fixtures_have_no_expectations(unit: Path) -> None:
    assert not any(expectations(f) for f in unit_files(unit)), "a good fixture must lint clean"


@pytest.mark.parametrize(
    "unit", [u for u in UNITS if u.name.startswith("bad_")], ids=lambda u: str(u.relative_to(FIXTURES))
)
def test_bad_fixtures_expect_their_rule(unit: Path) -> None:
    code = unit.parent.name
    assert any(e.code == code for f in unit_files(unit) for e in expectations(f))


# ---------------------------------------------------------------- the expectation reader itself
def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "fx.py"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    "line",
    [
        "m = Net()  # expect TRP101",  # no colon
        "m = Net()  # expect: TRP11",  # short code
        "m = Net()  # expect: TRP101 TRP102",  # no comma
        "m = Net()  # expect: TRP101@",  # empty column
        "m = Net()  # expect: trp101",  # lower case
        "m = Net()  # expect: TRP101, and more",
        "m = Net()  # Expect: TRP101",
    ],
)
def test_malformed_expectation_is_an_error(tmp_path: Path, line: str) -> None:
    with pytest.raises(FixtureError, match="fx.py:1: malformed expectation"):
        expectations(_write(tmp_path, line + "\n"))


def test_expectations_are_a_multiset(tmp_path: Path) -> None:
    got = expectations(_write(tmp_path, "x = 1\nm = f(Net(), Net())  # expect: TRP101@7, TRP101@13, TRP305\n"))
    assert sorted((e.line, e.code, e.col, n) for e, n in got.items()) == [
        (2, "TRP101", 7, 1),
        (2, "TRP101", 13, 1),
        (2, "TRP305", None, 1),
    ]
    twice = expectations(_write(tmp_path, "m = f(Net(), Net())  # expect: TRP101, TRP101\n"))
    assert list(twice.values()) == [2]


def test_options_accept_every_setting_and_reject_the_rest(tmp_path: Path) -> None:
    p = _write(tmp_path, "# options: seed-functions=a.b, c.d; inference-functions=run_*; extend-select=TRP204\n")
    assert options(p) == {
        "seed-functions": ["a.b", "c.d"],
        "inference-functions": ["run_*"],
        "extend-select": ["TRP204"],
    }
    s = settings(p)
    assert s.seed_functions == ("a.b", "c.d") and s.inference_functions == ("run_*",)
    with pytest.raises(FixtureError, match="unknown key"):
        settings(_write(tmp_path, "# options: seed-function=a.b\n"))
    with pytest.raises(FixtureError, match="unknown rule code"):
        settings(_write(tmp_path, "# options: extend-select=TRP999\n"))
    with pytest.raises(FixtureError, match="malformed option"):
        options(_write(tmp_path, "# options: seed-functions\n"))
    with pytest.raises(FixtureError, match="line 1 only"):
        options(_write(tmp_path, "import torch\n# options: seed-functions=a.b\n"))


def test_single_file_fixtures_are_their_own_project(tmp_path: Path) -> None:
    """A checkpoint name saved by one fixture file must never match a load in another."""
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    saver = tmp_path / "cases_saver.py"
    saver.write_text(
        "import torch\nimport torch.nn as nn\ntorch.manual_seed(0)\n"
        "m = nn.Linear(2, 2)\ntorch.save({'model': m.state_dict(), 'epoch': 1}, 'shared.pt')\n",
        encoding="utf-8",
    )
    loader = tmp_path / "cases_loader.py"
    loader.write_text(
        "import torch\nimport torch.nn as nn\ntorch.manual_seed(0)\n"
        "m = nn.Linear(2, 2)\nm.load_state_dict(torch.load('shared.pt'))\n",
        encoding="utf-8",
    )
    reset_projects()
    together = [d.code for d in lint_file(loader, Settings(select=("TRP",), cache=False))]
    assert together == ["TRP304"]  # one project: the saver's checkpoint reaches the loader
    _, alone = lint_unit(loader, tmp_path / "iso")
    assert alone == []
