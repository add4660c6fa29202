"""What the rule modules share: turning tracker events into diagnostics."""
from __future__ import annotations

from typing import Callable, Iterable

from ..diagnostics import Diagnostic, Fix


def diagnostics(facts, kind: str, code: str, message: Callable[[dict], str | None],
                fix: Callable[[dict], str | None] | None = None) -> Iterable[Diagnostic]:
    for ev in facts.of(kind):
        text = message(ev.data)
        if text:
            title = fix(ev.data) if fix is not None and not ev.data.get("foreign") else None
            yield Diagnostic(ev.line, ev.col, code, text, facts.path or "", Fix(title) if title else None)
