"""Files the package ships beside its code: the runnable fixtures (for ``verify``) and the rule pages
(for ``explain``).

The repository keeps one copy of each, at its top level (``fixtures/``, ``docs/rules/``); the build
(setup.py's ``build_py``) copies them into the wheel as ``torchlint_repro/data/``. An installed package
reads its own copy; a source checkout (an editable install, the tests) reads the top-level folders.
"""

from __future__ import annotations

from pathlib import Path

PACKAGED = Path(__file__).resolve().with_name("data")
CHECKOUT = Path(__file__).resolve().parents[2]


def data_path(*parts: str) -> Path | None:
    """``data/<parts>`` of the installed package, else ``<parts>`` of the source checkout; None when
    neither exists."""
    packaged = PACKAGED.joinpath(*parts)
    if packaged.exists():
        return packaged
    if (CHECKOUT / "pyproject.toml").is_file() and (CHECKOUT / "src" / "torchlint_repro").is_dir():
        checkout = CHECKOUT.joinpath(*parts)
        if checkout.exists():
            return checkout
    return None


def fixtures_dir() -> Path | None:
    return data_path("fixtures")


def rule_page(code: str) -> Path | None:
    return data_path("docs", "rules", f"{code}.md")
