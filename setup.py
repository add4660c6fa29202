"""Build hook: the wheel carries the runnable fixtures and the rule pages as package data.

The repository keeps one copy of each at its top level (fixtures/ is linted by the static tests and
docs/rules/ is linked from the README); `build_py` copies what an installed package needs into
``torchlint_repro/data/`` of the build: the fixtures ``verify`` runs (``TRPnnn/bad_*``, ``good_*``;
not the static-only ``cases_*``, the demo project or the notebooks) and the generated rule pages
``explain`` prints. An editable install reads the checkout's folders directly (resources.py).
Everything else is declared in pyproject.toml.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
RULE_DIR = re.compile(r"^TRP\d{3}$")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pt", ".torchlint_cache")


def data_files() -> list[tuple[Path, Path]]:
    """(source, destination relative to the package's data/ folder) of every shipped file or folder."""
    out: list[tuple[Path, Path]] = []
    fixtures = HERE / "fixtures"
    if (fixtures / "README.md").is_file():
        out.append((fixtures / "README.md", Path("fixtures/README.md")))
    for rule_dir in sorted(p for p in fixtures.glob("TRP*") if p.is_dir() and RULE_DIR.match(p.name)):
        for entry in sorted(rule_dir.iterdir()):
            if entry.name.startswith(("bad_", "good_")) and (entry.is_dir() or entry.suffix == ".py"):
                out.append((entry, Path("fixtures") / rule_dir.name / entry.name))
    for page in sorted((HERE / "docs" / "rules").glob("*.md")):
        out.append((page, Path("docs/rules") / page.name))
    return out


class build_py_with_data(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's own folders
        target = Path(self.build_lib) / "torchlint_repro" / "data"
        if target.exists():
            shutil.rmtree(target)
        for source, rel in data_files():
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, dest, ignore=IGNORE)
            else:
                shutil.copy2(source, dest)


setup(cmdclass={"build_py": build_py_with_data})
