"""Reading the `# expect:` and `# options:` lines of the fixtures, strictly.

Shared by the static tests, the snapshot tests and the verifier tests. A line that mentions
`# expect` but does not follow the grammar is an error (a typo must never turn an expectation into
nothing); expectations are a multiset (two findings of one code on one line are two expectations);
`# options:` is read by the same code that reads `[tool.torchlint-repro]`, so an unknown key or a
bad value rejects the fixture.
"""

from __future__ import annotations

import collections
import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from torchlint_repro.config import ConfigError, Settings, settings_from_mapping

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
_ITEM = r"TRP\d{3}(?:@\d+)?"
EXPECT_MARK = re.compile(r"#\s*expect\b", re.IGNORECASE)
EXPECT_RE = re.compile(rf"#\s*expect:\s*(?P<items>{_ITEM}(?:\s*,\s*{_ITEM})*)\s*$")
OPTIONS_MARK = re.compile(r"#\s*options\b", re.IGNORECASE)
OPTIONS_RE = re.compile(r"^#\s*options:\s*(?P<opts>\S.*)$")


class FixtureError(ValueError):
    """A fixture whose expectations cannot be read: the test fails instead of expecting nothing."""


@dataclass(frozen=True)
class Expected:
    path: str
    line: int
    code: str
    col: int | None  # 1-based, as printed


def expectations(path: Path) -> collections.Counter:
    """Every expected finding of one file, as a multiset of :class:`Expected`."""
    out: collections.Counter = collections.Counter()
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        mark = EXPECT_MARK.search(line)
        if not mark:
            continue
        m = EXPECT_RE.search(line, mark.start())
        if m is None or m.start() != mark.start():
            raise FixtureError(
                f"{path.name}:{i}: malformed expectation {line[mark.start() :]!r} "
                f"(write `# expect: TRP201` or `# expect: TRP201@9, TRP305`)"
            )
        for item in m.group("items").split(","):
            code, _, col = item.strip().partition("@")
            out[Expected(str(path), i, code, int(col) if col else None)] += 1
    return out


def options(path: Path) -> dict[str, list[str]]:
    """The `# options:` of line 1 as a `[tool.torchlint-repro]` mapping (validated by :func:`settings`)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines[1:], 2):
        if OPTIONS_MARK.match(line.strip()):
            raise FixtureError(f"{path.name}:{i}: `# options:` is read on line 1 only")
    if not lines or not OPTIONS_MARK.match(lines[0].strip()):
        return {}
    m = OPTIONS_RE.match(lines[0].strip())
    if m is None:
        raise FixtureError(f"{path.name}:1: malformed options line {lines[0]!r}")
    opts: dict[str, list[str]] = {}
    for part in m.group("opts").split(";"):
        key, eq, value = part.strip().partition("=")
        if not key.strip() or not eq:
            raise FixtureError(f"{path.name}:1: malformed option {part.strip()!r} (write `key=a,b`)")
        opts[key.strip()] = [v.strip() for v in value.split(",") if v.strip()]
    return opts


def settings(path: Path, base: Settings | None = None) -> Settings:
    """Settings for linting one fixture file: every TRP rule on, no cache, and its `# options:` applied
    through the configuration reader (any key it knows, none it does not)."""
    opts = options(path)
    try:
        extra = settings_from_mapping(opts, f"{path.name} line 1") if opts else Settings()
    except ConfigError as exc:
        raise FixtureError(str(exc)) from exc
    base = base or Settings()
    merged = replace(
        base,
        seed_functions=extra.seed_functions if "seed-functions" in opts else base.seed_functions,
        inference_functions=extra.inference_functions if "inference-functions" in opts else base.inference_functions,
    )
    return replace(merged, select=("TRP",), ignore=(), extend_select=(), cache=False)


def fixture_units() -> list[Path]:
    """Every fixture: single files and project folders, for every rule folder."""
    units = []
    for rule_dir in sorted(FIXTURES.glob("TRP*")):
        for entry in sorted(rule_dir.iterdir()):
            if entry.name.startswith(("bad_", "good_", "cases_")) and (entry.suffix == ".py" or entry.is_dir()):
                units.append(entry)
    return units


def unit_files(unit: Path) -> list[Path]:
    if unit.is_dir():
        return sorted(p for p in unit.rglob("*.py") if "__pycache__" not in p.parts)
    return [unit]


def isolated_copy(unit: Path, dest: Path) -> Path:
    """Copy a fixture into ``dest`` as a project of its own (a single file gets a folder with a
    pyproject.toml), so that no other fixture's checkpoints or modules are part of its project. The
    verifier runs each fixture in such a copy too. Returns the copied unit."""
    if unit.is_dir():
        target = dest / unit.name
        shutil.copytree(unit, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if not any((target / m).exists() for m in ("pyproject.toml", "setup.cfg", "setup.py", ".git")):
            (target / "pyproject.toml").write_text("", encoding="utf-8")
        return target
    folder = dest / unit.stem
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text("", encoding="utf-8")
    target = folder / unit.name
    shutil.copy2(unit, target)
    return target
