"""The records every part of the tool speaks in: a :class:`Diagnostic` and a :class:`Fix`.

Lines are 1-based and columns 0-based character offsets (flake8 adds 1 when it prints a column, and
the CLI does the same), so the flake8 plugin and the CLI print the same position for a finding.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Edit:
    """Replace the text between two (line, col) positions (end exclusive) with ``text``."""

    line: int
    col: int
    end_line: int
    end_col: int
    text: str


@dataclass(frozen=True)
class Fix:
    """A rewrite offered for a diagnostic (applied by ``torchlint-repro fix``).

    The rule knows what the analysis found and words the ``title``; ``args`` carry the few facts of the
    analysis the rewrite needs and the source does not show (the model's name, the checkpoint's state_dict
    keys, which way a ``module.`` prefix is wrong). The rewrite itself, and whether it is safe or unsafe,
    is decided in :mod:`..fixes` on the file's text.
    """

    title: str
    edits: tuple[Edit, ...] = ()
    args: tuple[str, ...] = ()


@dataclass(frozen=True, order=True)
class Diagnostic:
    line: int
    col: int
    code: str
    message: str
    path: str = field(default="", compare=False)
    fix: Fix | None = field(default=None, compare=False)

    def with_path(self, path: str) -> Diagnostic:
        return Diagnostic(self.line, self.col, self.code, self.message, path, self.fix)


def shown_path(path: str | None, here: str | None) -> str:
    """How a message shown in the file ``here`` names another file ``path``: relative to ``here``'s folder,
    with ``/`` (`train.py` beside it, `scripts/image_train.py` below, `../tools/test.py` elsewhere), so two
    files of one name are told apart; ``<stdin>`` for a buffer with no path."""
    if not path:
        return "<stdin>"
    if not here:
        return os.path.basename(path)
    try:
        rel = os.path.relpath(os.path.abspath(path), os.path.dirname(os.path.abspath(here)))
    except ValueError:  # another drive (Windows): no relative path
        return path.replace(os.sep, "/")
    return rel.replace(os.sep, "/")
