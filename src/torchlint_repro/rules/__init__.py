"""The registry: every rule, in code order. Tests, docs and the CLI iterate ALL_RULES."""

from __future__ import annotations

from .base import Expect, Rule
from .eval_mode import RULES as _EVAL
from .internal import RULES as _INTERNAL
from .loading import RULES as _LOADING
from .seeding import RULES as _SEEDING

ALL_RULES: tuple[Rule, ...] = tuple(sorted((*_SEEDING, *_EVAL, *_LOADING, *_INTERNAL), key=lambda r: r.code))
RULES_BY_CODE: dict[str, Rule] = {r.code: r for r in ALL_RULES}

__all__ = ["ALL_RULES", "RULES_BY_CODE", "Expect", "Rule"]
