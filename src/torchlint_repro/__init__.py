"""torchlint-repro: catch PyTorch reproducibility bugs before they run."""

from __future__ import annotations

import sys

__version__ = "0.1.0"

# Deeply nested input must not crash the host, and results must not depend on which file was parsed
# first: the recursion limit that parsing and the analysis need is set when the package is imported,
# before flake8 or the CLI parses anything.
RECURSION_LIMIT = 10_000
if sys.getrecursionlimit() < RECURSION_LIMIT:
    sys.setrecursionlimit(RECURSION_LIMIT)

__all__ = ["__version__", "lint_source", "lint_file", "Diagnostic", "Settings"]


def __getattr__(name: str):  # lazy: `import torchlint_repro` stays cheap for flake8's start-up
    if name in ("lint_source", "lint_file"):
        from . import engine

        return getattr(engine, name)
    if name == "Diagnostic":
        from .diagnostics import Diagnostic

        return Diagnostic
    if name == "Settings":
        from .config import Settings

        return Settings
    raise AttributeError(name)
