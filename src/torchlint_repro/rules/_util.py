"""What the rule modules share: turning tracker events into diagnostics."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from ..diagnostics import Diagnostic, Fix, shown_path


def via_text(via, also=()) -> str:
    """`train.py:44`: the call, in another file, through which the analysis reached a finding (and how
    many other calls reach it too); the files as ``shown`` names them."""
    path, line = via
    text = f"{path}:{line}"
    if also:
        text += (
            f" and {len(also)} other call{'s' if len(also) > 1 else ''}"
            if len(also) > 1
            else f" and {also[0][0]}:{also[0][1]}"
        )
    return text


def shown(data: dict, here: str | None) -> dict:
    """An event's data with the other files it names (the calls that reached it, an `.eval()` or a seed in
    a helper) as a message shown in ``here`` names them (``shown_path``: `../scripts/train.py`)."""
    out = dict(data)
    if data.get("via"):
        out["via"] = (shown_path(data["via"][0], here), data["via"][1])
    if data.get("also_via"):
        out["also_via"] = tuple((shown_path(p, here), line) for p, line in data["also_via"])
    src = data.get("src")
    if isinstance(src, (tuple, list)) and len(src) > 2 and isinstance(src[2], str):
        out["src"] = (*src[:2], shown_path(src[2], here), *src[3:])
    for key in ("later_seed", "earlier_seed", "parent_seed"):
        if data.get(key) is not None and len(data[key]) > 2:
            out[key] = _shown_seed(data[key], here)
    if isinstance(data.get("other_seeds"), list):
        out["other_seeds"] = [_shown_seed(v, here) if len(v) > 2 else v for v in data["other_seeds"]]
    if isinstance(data.get("builds"), tuple) and len(data["builds"]) == 2:
        count, first = data["builds"]
        out["builds"] = (count, tuple((name, shown_path(path, here), line) for name, path, line in first))
    return out


def _shown_seed(seed, here: str | None) -> tuple:
    line, name, path, *rest = seed
    return (line, name, shown_path(path, here), *rest)


def diagnostics(
    facts, kind: str, code: str, message: Callable[[dict], str | None], fix: Callable[[dict], Fix | None] | None = None
) -> Iterable[Diagnostic]:
    for ev in facts.of(kind):
        text = message(shown(ev.data, facts.path))
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
