"""Reading the `# expect:` lines of the fixtures (shared by the static tests and the verifier tests)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
EXPECT_RE = re.compile(r"#\s*expect:\s*(?P<items>TRP\d{3}(?:@\d+)?(?:\s*,\s*TRP\d{3}(?:@\d+)?)*)")
OPTIONS_RE = re.compile(r"#\s*options:\s*(?P<opts>.+)$")


@dataclass(frozen=True)
class Expected:
    path: str
    line: int
    code: str
    col: int | None  # 1-based, as printed


def expectations(path: Path) -> set[Expected]:
    out = set()
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = EXPECT_RE.search(line)
        if not m:
            continue
        for item in m.group("items").split(","):
            item = item.strip()
            code, _, col = item.partition("@")
            out.add(Expected(str(path), i, code, int(col) if col else None))
    return out


def options(path: Path) -> dict:
    first = path.read_text(encoding="utf-8").splitlines()[:1]
    if not first:
        return {}
    m = OPTIONS_RE.search(first[0])
    if not m:
        return {}
    opts = {}
    for part in m.group("opts").split(";"):
        key, _, value = part.strip().partition("=")
        if key:
            opts[key.strip()] = [v.strip() for v in value.split(",") if v.strip()]
    return opts


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
