"""Every fixture's full output — code, line, column, message and fix — against one reviewed snapshot
per fixture (tests/__snapshots__/test_snapshots/*.json), the way ruff snapshots its rule tests.

Run cold (no cache) and warm (the same run served from the result cache), so a cache that loses a
field fails here. After a deliberate change, review and accept the new output with

    python -m pytest tests/test_snapshots.py --snapshot-update

and read the diff of the snapshot files before committing it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from fixture_expect import FIXTURES, fixture_units, isolated_copy, settings, unit_files
from syrupy.extensions.json import JSONSnapshotExtension

from torchlint_repro.analysis.project import reset_projects
from torchlint_repro.config import Settings, settings_from_file
from torchlint_repro.runner import lint_one

UNITS = fixture_units() + sorted((FIXTURES / "notebooks").glob("*.ipynb")) + [FIXTURES / "demo_project"]


def _files(unit: Path) -> list[Path]:
    if unit.suffix == ".ipynb":
        return [unit]
    if unit.is_dir():
        return sorted(p for p in unit.rglob("*") if p.suffix in (".py", ".ipynb") and "__pycache__" not in p.parts)
    return unit_files(unit)


def _copy(unit: Path, dest: Path) -> tuple[Path, list[Path]]:
    if unit.suffix == ".ipynb":
        folder = dest / unit.stem
        folder.mkdir(parents=True)
        (folder / "pyproject.toml").write_text("", encoding="utf-8")
        target = folder / unit.name
        target.write_bytes(unit.read_bytes())
        return folder, [target]
    copy = isolated_copy(unit, dest)
    root = copy if copy.is_dir() else copy.parent
    return root, _files(copy)


def _output(unit: Path, tmp: Path, cache_dir: Path | None, runs: int = 1) -> list[list[dict]]:
    """The findings of every run over an isolated copy of ``unit``, in a stable, reviewable form."""
    root, files = _copy(unit, tmp)
    cfg = root / "pyproject.toml"
    base = settings_from_file(cfg) if cfg.is_file() else Settings()
    outs = []
    for _ in range(runs):
        reset_projects()  # each run starts as a new process would: only the disk cache carries over
        found = []
        for f in files:
            s = settings(f, base) if f.suffix == ".py" else replace(base, select=("TRP",), cache=False)
            if unit.name == "demo_project":
                s = replace(base, cache=False)  # the demo is linted with its own configuration, as `check` does
            if cache_dir is not None:
                s = replace(s, cache=True, cache_dir=str(cache_dir))
            res = lint_one(str(f), s)
            assert res.error is None, f"{f.name}: {res.error}"
            for d in res.diagnostics:
                found.append(
                    {
                        "file": f.relative_to(root).as_posix(),
                        "line": d.line,
                        "col": d.col + 1,
                        "code": d.code,
                        "message": d.message,
                        "fix": None
                        if d.fix is None
                        else {
                            "title": d.fix.title,
                            "edits": [[e.line, e.col, e.end_line, e.end_col, e.text] for e in d.fix.edits],
                        },
                    }
                )
        outs.append(found)
    return outs


def _id(unit: Path) -> str:
    return str(unit.relative_to(FIXTURES)).replace("/", "__")


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("unit", UNITS, ids=[_id(u) for u in UNITS])
def test_snapshot(unit: Path, tmp_path: Path, snapshot_json, monkeypatch) -> None:
    """The cold output equals the reviewed snapshot; then two runs sharing a cache (the second served
    from the result cache) must give exactly the same output, fixes included."""
    monkeypatch.delenv("TORCHLINT_CACHE_DIR", raising=False)
    (cold,) = _output(unit, tmp_path / "cold", None)
    assert cold == snapshot_json
    first, warm = _output(unit, tmp_path / "warm", tmp_path / "cache", runs=2)
    assert first == cold, "a run that fills the cache must not change the output"
    assert warm == cold, "the output served from the cache differs from the cold one"
