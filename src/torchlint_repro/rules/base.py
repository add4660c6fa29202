"""The rule record. A rule is metadata plus a thin query over the tracker's events."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .._record import Record

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.context import FileFacts
    from ..diagnostics import Diagnostic

FAMILIES = {"1": "seeding", "2": "train/eval mode", "3": "weight loading", "9": "internal"}


class Expect(enum.Enum):
    """The runtime contrast the verifier checks between a rule's bad and good fixtures."""

    DIFFERS_ACROSS_PROCESSES = "differs across processes"  # TRP1xx
    DIFFERS_FROM_EVAL = "differs from eval-mode output"  # TRP201/202
    TRAINS_IN_EVAL_MODE = "trains with mode-dependent layers in eval mode"  # TRP203
    LOAD_INCOMPATIBLE = "load raises or leaves parameters unloaded"  # TRP3xx
    LOAD_MISMATCH_SILENT = "non-strict load drops keys without a word"  # TRP305, fixed (verify --fixed)
    NONE = "not runtime-verifiable"  # TRP900


class Rule(Record):
    code: str
    name: str
    summary: str
    doc: str
    verify: Expect
    default_enabled: bool = True
    check: Callable[[FileFacts], Iterable[Diagnostic]] | None = None
    # ruff's tiers: "safe" fixes apply by default, "unsafe" ones with --unsafe-fixes; "safe/unsafe"
    # when the tier depends on the code around the finding (see the rule's Fix safety section)
    fix: str | None = None
    # what `verify --fixed` asks of the fixed bad fixtures when the fix removes the hazard's silence, not
    # the hazard (TRP305: a checkpoint that lacks keys still lacks them; the fix makes the load say so);
    # None: the rule's own criterion, as for a good twin
    fixed_verify: Expect | None = None

    @property
    def family(self) -> str:
        return FAMILIES[self.code[3]]

    @property
    def help_uri(self) -> str:
        return f"https://github.com/torchlint-repro/torchlint-repro/blob/main/docs/rules/{self.code}.md"
