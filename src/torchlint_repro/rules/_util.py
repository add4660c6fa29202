"""What the rule modules share: turning tracker events into diagnostics."""
from __future__ import annotations

from typing import Callable, Iterable

from ..diagnostics import Diagnostic


def diagnostics(facts, kind: str, code: str, message: Callable[[dict], str | None]) -> Iterable[Diagnostic]:
    for ev in facts.of(kind):
        text = message(ev.data)
        if text:
            yield Diagnostic(ev.line, ev.col, code, text, facts.path or "")
