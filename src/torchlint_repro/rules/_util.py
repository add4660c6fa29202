"""What the rule modules share: turning tracker events into diagnostics."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from ..diagnostics import Diagnostic, Fix


def via_text(via, also=()) -> str:
    """`train.py:44`: the call, in another file, through which the analysis reached a finding (and how
    many other calls reach it too)."""
    path, line = via
    text = f"{Path(path).name if path else '<stdin>'}:{line}"
    if also:
        text += (
            f" and {len(also)} other call{'s' if len(also) > 1 else ''}"
            if len(also) > 1
            else f" and {Path(also[0][0]).name if also[0][0] else '<stdin>'}:{also[0][1]}"
        )
    return text


def diagnostics(
    facts, kind: str, code: str, message: Callable[[dict], str | None], fix: Callable[[dict], Fix | None] | None = None
) -> Iterable[Diagnostic]:
    for ev in facts.of(kind):
        text = message(ev.data)
        if text:
            yield Diagnostic(ev.line, ev.col, code, text, facts.path or "", fix(ev.data) if fix is not None else None)


_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def receiver_fix(title: str, *args: str) -> Callable[[dict], Fix | None]:
    """A fix that names the model (``{name}`` in ``title``): offered only when the model is a plain name
    or attribute chain (``model``, ``self.net``), a receiver a statement can be written for."""

    def make(d: dict) -> Fix | None:
        name = d.get("name") or ""
        if not _DOTTED.fullmatch(name):
            return None
        return Fix(title.format(name=name), args=(name, *(str(d.get(a, "")) for a in args)))

    return make
