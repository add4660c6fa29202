"""Normalising checkpoint paths so a save site and a load site can be matched.

A path expression becomes a template string: literals as they are, ``{}`` for every part we cannot
know (an f-string hole, a variable), joined with ``/`` for ``os.path.join`` and ``pathlib`` ``/``.
Two sites match only when their templates are equal and not entirely holes (precision first).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from .names import dotted

HOLE = "{}"
JOIN_FUNCS = frozenset({"os.path.join", "posixpath.join", "ntpath.join"})
PATH_CTORS = frozenset(
    {
        "pathlib.Path",
        "pathlib.PurePath",
        "pathlib.PosixPath",
        "str",
        "os.fspath",
        "os.path.abspath",
        "os.path.expanduser",
        "os.path.normpath",
        "os.path.realpath",
    }
)


def path_template(
    expr: ast.AST, resolve: Callable[[ast.AST], str | None], lookup: Callable[[str], str | None], depth: int = 0
) -> str | None:
    """The template of ``expr``, or None when nothing of it is known.

    ``resolve`` maps a dotted expression to a qualified name; ``lookup`` maps a name (or ``args.x``
    attribute, or a qualified module constant) to a template already known for it.
    """
    if depth > 8:
        return None
    rec = lambda e: path_template(e, resolve, lookup, depth + 1)  # noqa: E731
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return _norm(expr.value)
    if isinstance(expr, ast.JoinedStr):
        out = []
        for v in expr.values:
            if isinstance(v, ast.Constant) and isinstance(v.value, str):
                out.append(v.value)
            elif isinstance(v, ast.FormattedValue):
                inner = rec(v.value)
                out.append(inner if inner is not None and HOLE not in inner else HOLE)
        return _norm("".join(out))
    if isinstance(expr, (ast.Name, ast.Attribute)):
        known = lookup(_key(expr))
        if known is not None:
            return known
        q = resolve(expr)
        if q is not None:
            return lookup(q)
        return None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):  # pathlib: a / "b"
        left, right = rec(expr.left), rec(expr.right)
        if left is None and right is None:
            return None
        return _norm(f"{left or HOLE}/{right or HOLE}")
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        left, right = rec(expr.left), rec(expr.right)
        if left is None and right is None:
            return None
        return _norm(f"{left or HOLE}{right or HOLE}")
    if isinstance(expr, ast.Call):
        q = resolve(expr.func)
        if q in JOIN_FUNCS and expr.args:
            parts = [rec(a) for a in expr.args]
            if all(p is None for p in parts):
                return None
            return _norm("/".join(p or HOLE for p in parts))
        if q in PATH_CTORS and len(expr.args) == 1:
            return rec(expr.args[0])
        if q is not None and q.startswith("pathlib.") and len(expr.args) > 1:
            parts = [rec(a) for a in expr.args]
            return _norm("/".join(p or HOLE for p in parts))
        if (
            isinstance(expr.func, ast.Attribute)
            and expr.func.attr == "format"
            and isinstance(expr.func.value, ast.Constant)
            and isinstance(expr.func.value.value, str)
        ):
            return _norm(re.sub(r"\{[^{}]*\}", HOLE, expr.func.value.value))
        if isinstance(expr.func, ast.Attribute) and expr.func.attr in ("joinpath",):
            base = rec(expr.func.value)
            parts = [rec(a) for a in expr.args]
            return _norm("/".join([base or HOLE, *(p or HOLE for p in parts)]))
    return None


def _key(expr: ast.AST) -> str:
    return dotted(expr) or ""


def _norm(s: str) -> str:
    s = s.replace("\\", "/")
    while "//" in s:
        s = s.replace("//", "/")
    if s.startswith("./"):
        s = s[2:]
    return s


def matchable(template: str | None) -> bool:
    """A template made only of holes and separators matches everything: never use it."""
    if not template:
        return False
    return bool(template.replace(HOLE, "").replace("/", "").replace(".", "").strip())
