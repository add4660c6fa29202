"""Safe autofixes, applied with libcst so every byte the fix does not touch stays as it was.

Only rewrites that cannot change what a correct program does are offered:
- TRP202: ``model.eval`` (a statement that names the method) becomes ``model.eval()``;
- TRP302: ``model = model.load_state_dict(sd)`` becomes ``model.load_state_dict(sd)`` (the name keeps
  the model instead of the returned key report).

The analysis finds the diagnostics; this module only rewrites at their positions. A fix is written
only when the result parses again, through a temporary file and an atomic rename: a fix never loses
or corrupts a file.
"""
from __future__ import annotations

import ast
import difflib
from ._io import atomic_write
from .diagnostics import Diagnostic

FIXABLE = frozenset({"TRP202", "TRP302"})


def fix_source(source: str, diagnostics: list[Diagnostic]) -> tuple[str, int]:
    """The fixed source and how many diagnostics were fixed."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    wanted_202 = {(d.line, d.col) for d in diagnostics if d.code == "TRP202" and d.fix is not None}
    wanted_302 = {(d.line, d.col) for d in diagnostics if d.code == "TRP302" and d.fix is not None}
    if not wanted_202 and not wanted_302:
        return source, 0
    try:
        wrapper = MetadataWrapper(cst.parse_module(source))
    except cst.ParserSyntaxError:
        return source, 0

    class Fixer(cst.CSTTransformer):
        METADATA_DEPENDENCIES = (PositionProvider,)

        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        def _at(self, node: cst.CSTNode) -> tuple[int, int]:
            pos = self.get_metadata(PositionProvider, node).start
            return pos.line, pos.column

        def leave_Expr(self, original: cst.Expr, updated: cst.Expr) -> cst.Expr:
            value = original.value
            if isinstance(value, cst.Attribute) and value.attr.value in ("eval", "train") \
                    and self._at(value) in wanted_202:
                self.count += 1
                return updated.with_changes(value=cst.Call(func=updated.value))
            return updated

        def leave_Assign(self, original: cst.Assign, updated: cst.Assign):
            value = original.value
            if (len(original.targets) == 1 and isinstance(original.targets[0].target, cst.Name)
                    and isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)
                    and value.func.attr.value == "load_state_dict"
                    and isinstance(value.func.value, cst.Name)
                    and value.func.value.value == original.targets[0].target.value
                    and self._at(value) in wanted_302):
                self.count += 1
                return cst.Expr(value=updated.value)
            return updated

    fixer = Fixer()
    new = wrapper.visit(fixer).code
    try:
        ast.parse(new)
    except SyntaxError:  # pragma: no cover - the transformer only adds a call or drops a target
        return source, 0
    return new, fixer.count


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=path, tofile=path))


def write_atomically(path: str, text: str, encoding: str = "utf-8") -> None:
    atomic_write(path, text.encode(encoding), keep_mode=True)
