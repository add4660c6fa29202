"""Safe autofixes: libcst rewrites of the few statements that have a fix, every other byte kept.

Only rewrites that cannot change what a correct program does are offered:
- TRP202: ``model.eval`` (a statement that names the method) becomes ``model.eval()``;
- TRP302: ``model = model.load_state_dict(sd)`` becomes ``model.load_state_dict(sd)`` (the name keeps
  the model instead of the returned key report).

The analysis finds the diagnostics; this module rewrites at their positions. Each affected statement is
cut out of the source by the ``ast`` positions, parsed alone with libcst, rewritten and spliced back: libcst
never sees the rest of the file (on a 40,000-line file its whole-module parse and position metadata cost
8x the lint itself), and the file's encoding, BOM and line endings (CRLF, CR) are untouched because only
the statement's own characters change. A rewrite is kept only when libcst reproduces the statement
byte for byte, the new statement's ``ast`` is exactly the intended one, and the whole result parses.

Notebooks (:func:`fix_notebook`): the same rewrites on the program of the code cells, mapped back to the
cells' source strings in the notebook's JSON text; everything else (outputs, metadata, formatting) stays
byte for byte. ``fix_cli`` writes the results through :func:`.._io.replace_checked`.
"""
from __future__ import annotations

import ast
import difflib
import json
import re
from dataclasses import dataclass

from ._io import atomic_write
from .diagnostics import Diagnostic

FIXABLE = frozenset({"TRP202", "TRP302"})
_NEWLINE = re.compile(r"\r\n|\r|\n")  # what Python's tokenizer counts as the end of a line


@dataclass(frozen=True)
class TextEdit:
    """Replace ``source[start:end]`` (one whole statement, lines ``line``..``end_line``) with ``text``."""

    start: int
    end: int
    text: str
    line: int
    end_line: int
    diagnostic: Diagnostic


class Lines:
    """Character offsets of the lines of a source, as Python counts lines (``\\r\\n``, ``\\r``, ``\\n``)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(source)]

    def text(self, line: int) -> str:
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.source)
        return self.source[start:end].rstrip("\r\n")

    def offset(self, line: int, byte_col: int) -> int:
        """The offset of an ``ast`` position (its columns count UTF-8 bytes)."""
        text = self.text(line)
        col = byte_col if text.isascii() else len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))
        return self.starts[line - 1] + col

    def char_col(self, line: int, byte_col: int) -> int:
        return self.offset(line, byte_col) - self.starts[line - 1]


def _statements(body: list[ast.stmt]):
    """Every statement, nested ones included, without visiting expressions."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, name, None)
            if children:
                stack.extend(reversed(children))


def plan_fixes(source: str, diagnostics: list[Diagnostic], tree: ast.Module | None = None) -> list[TextEdit]:
    """One edit per fixable diagnostic whose statement can be rewritten safely, in source order.

    ``tree``: the ``ast`` of ``source`` the analysis read (parsed again when not given). Only statement
    positions are taken from it; every edit is checked against the text itself.
    """
    wanted = {(d.line, d.col, d.code): d for d in diagnostics if d.code in FIXABLE and d.fix is not None}
    if not wanted:
        return []
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return []
    lines = Lines(source)
    wanted_lines = {line for line, _, _ in wanted}
    edits = []
    for stmt in _statements(tree.body):
        target = _fix_target(stmt)
        if target is None or target[0].lineno not in wanted_lines:
            continue
        node, code = target
        d = wanted.get((node.lineno, lines.char_col(node.lineno, node.col_offset), code))
        if d is None:
            continue
        edit = _rewrite(source, lines, stmt, code, d)
        if edit is not None:
            edits.append(edit)
    edits.sort(key=lambda e: e.start)
    return edits


def _fix_target(stmt: ast.stmt) -> tuple[ast.AST, str] | None:
    """The node a fixable diagnostic points at in this statement, and its code."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Attribute) and stmt.value.attr in ("eval", "train"):
        return stmt.value, "TRP202"
    if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
            and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute)
            and stmt.value.func.attr == "load_state_dict" and isinstance(stmt.value.func.value, ast.Name)
            and stmt.value.func.value.id == stmt.targets[0].id):
        return stmt.value, "TRP302"
    return None


def _expected(stmt: ast.stmt, code: str) -> ast.stmt:
    if code == "TRP202":
        return ast.Expr(value=ast.Call(func=stmt.value, args=[], keywords=[]))
    return ast.Expr(value=stmt.value)


def _rewrite(source: str, lines: Lines, stmt: ast.stmt, code: str, d: Diagnostic) -> TextEdit | None:
    import libcst as cst

    start = lines.offset(stmt.lineno, stmt.col_offset)
    end = lines.offset(stmt.end_lineno, stmt.end_col_offset)
    segment = source[start:end]
    nl = _NEWLINE.search(segment) or _NEWLINE.search(source)
    newline = nl.group(0) if nl else "\n"
    try:
        parsed = cst.parse_statement(segment, config=cst.PartialParserConfig(default_newline=newline))
    except (cst.ParserSyntaxError, ValueError, RecursionError):
        return None
    module = cst.Module(body=[], default_newline=newline)
    if not isinstance(parsed, cst.SimpleStatementLine) or len(parsed.body) != 1:
        return None
    small = parsed.body[0]
    if module.code_for_node(small) != segment:
        return None  # libcst would not give the statement back as it is: leave it alone
    if code == "TRP202" and isinstance(small, cst.Expr) and isinstance(small.value, cst.Attribute):
        new = small.with_changes(value=cst.Call(func=small.value))
    elif code == "TRP302" and isinstance(small, cst.Assign):
        new = cst.Expr(value=small.value)
    else:
        return None
    text = module.code_for_node(new)
    try:
        got = ast.parse(text).body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    if len(got) != 1 or ast.dump(got[0]) != ast.dump(_expected(stmt, code)):
        return None
    return TextEdit(start, end, text, stmt.lineno, stmt.end_lineno, d)


def apply_edits(source: str, edits: list[TextEdit]) -> str:
    out = []
    pos = 0
    for e in sorted(edits, key=lambda e: e.start):
        if e.start < pos:
            continue  # overlapping: cannot happen (one edit per statement), never applied twice
        out.append(source[pos:e.start])
        out.append(e.text)
        pos = e.end
    out.append(source[pos:])
    return "".join(out)


def fix_source(source: str, diagnostics: list[Diagnostic], tree: ast.Module | None = None) -> tuple[str, int]:
    """The fixed source and how many diagnostics were fixed (the source itself when none, or when the
    result would not parse)."""
    edits = plan_fixes(source, diagnostics, tree)
    if not edits:
        return source, 0
    new = apply_edits(source, edits)
    try:
        ast.parse(new)
    except (SyntaxError, ValueError, MemoryError, RecursionError):  # pragma: no cover - each edit was checked
        return source, 0
    return new, len(edits)


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=path, tofile=path))


def write_atomically(path: str, text: str, encoding: str = "utf-8") -> None:
    atomic_write(path, text.encode(encoding), keep_mode=True)


# ------------------------------------------------------------------------------ notebooks
@dataclass
class NotebookFix:
    text: str  # the notebook's new JSON text (the old one when nothing was fixed)
    fixed: int
    unfixed: list[tuple[Diagnostic, str]]  # fixable findings left, and why (for a notice)


class _Cell:
    """One code cell: its source pieces (JSON strings with their offsets in the file), its text, and
    where its program lines come from."""

    def __init__(self, number: int, pieces: list) -> None:
        self.number = number
        self.pieces = pieces
        self.text = "".join(pieces)
        self.piece_starts = []
        pos = 0
        for p in pieces:
            self.piece_starts.append(pos)
            pos += len(p)
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]


def notebook_program(nb: dict) -> tuple[str, list[tuple[int, int]], list[str]]:
    """The program of the code cells as ``check`` lints it, for each program line its (code cell, line)
    and its text as written in the cell (before IPython syntax is replaced)."""
    from .notebooks import _run_cells, _split_lines, is_python, strip_magics

    if not is_python(nb):
        return "", [], []
    lines: list[str] = []
    where: list[tuple[int, int]] = []
    originals: list[str] = []
    for number, pieces in enumerate(_run_cells(nb), 1):
        cell_lines = _split_lines("".join(pieces))
        lines.extend(strip_magics(cell_lines))
        originals.extend(cell_lines)
        where.extend((number, i) for i in range(1, len(cell_lines) + 1))
    return ("\n".join(lines) + "\n" if lines else ""), where, originals


def fix_notebook(raw: str, diagnostics: list[Diagnostic], program: str, where: list[tuple[int, int]],
                 originals: list[str]) -> NotebookFix:
    """Apply the fixable ``diagnostics`` of ``program`` (see :func:`notebook_program`) inside the cells
    of the notebook whose JSON text is ``raw``. Only the source strings of the affected cells change."""
    from .notebooks import _parse, _PositionParser, _run_cells

    fixable = [d for d in diagnostics if d.code in FIXABLE and d.fix is not None]
    edits = plan_fixes(program, fixable)
    planned = {id(e.diagnostic) for e in edits}
    unfixed = [(d, "its statement could not be rewritten safely") for d in fixable if id(d) not in planned]
    if not edits:
        return NotebookFix(raw, 0, unfixed)
    nb = _parse(raw, lambda t: _PositionParser(t).parse())
    cells = [_Cell(i, pieces) for i, pieces in enumerate(_run_cells(nb), 1)]
    plines = Lines(program)
    by_cell: dict[int, list[tuple[int, int, str]]] = {}  # cell -> [(start, end, text)] in the cell's text
    fixed = []
    for e in edits:
        first, last = where[e.line - 1], where[e.end_line - 1]
        if first[0] != last[0]:
            unfixed.append((e.diagnostic, "its statement runs into the next cell"))
            continue
        if any(program_line != originals[n - 1] for n, program_line in
               ((n, plines.text(n)) for n in range(e.line, e.end_line + 1))):
            unfixed.append((e.diagnostic, "the line is IPython syntax, not Python"))
            continue
        cell = cells[first[0] - 1]
        start = cell.line_starts[first[1] - 1] + (e.start - plines.starts[e.line - 1])
        end = cell.line_starts[last[1] - 1] + (e.end - plines.starts[e.end_line - 1])
        if cell.text[start:end] != program[e.start:e.end]:  # line endings inside the statement differ
            unfixed.append((e.diagnostic, "its statement has other line endings in the cell"))
            continue
        by_cell.setdefault(cell.number, []).append((start, end, e.text))
        fixed.append(e)
    replacements: list[tuple[int, int, str]] = []  # in the raw JSON text
    expected = json.loads(raw)
    expected_cells = _run_cells(expected)
    ascii_only = raw.isascii()
    for number, cell_edits in by_cell.items():
        cell = cells[number - 1]
        new_text = _apply(cell.text, cell_edits)
        lo = min(s for s, _, _ in cell_edits)
        hi = max(e for _, e, _ in cell_edits)
        # the pieces the edits touch, i..j, become the new text of their span, split as they were split
        i = max(k for k, a in enumerate(cell.piece_starts) if a <= lo)
        j = min((k for k in range(i, len(cell.pieces)) if cell.piece_starts[k] + len(cell.pieces[k]) >= hi),
                default=len(cell.pieces) - 1)
        span_start = cell.piece_starts[i]
        span_end = cell.piece_starts[j] + len(cell.pieces[j])
        delta = len(new_text) - len(cell.text)
        new_span = new_text[span_start:span_end + delta]
        # a piece per line (what Jupyter writes) stays a piece per line; any other split keeps one piece
        by_line = all(p.count("\n") == (1 if k < j else p.count("\n")) and (k == j or p.endswith("\n"))
                      for k, p in enumerate(cell.pieces[i:j + 1], i)) and cell.pieces[j].count("\n") <= 1
        new_pieces = (re.findall(r"[^\n]*\n|[^\n]+$", new_span) if by_line else [new_span]) or [""]
        raw_start = cell.pieces[i].pos
        raw_end = _string_end(raw, cell.pieces[j].pos)
        if len(new_pieces) == j - i + 1:
            for k, piece in enumerate(new_pieces):
                old = cell.pieces[i + k]
                if piece != old:
                    replacements.append((old.pos, _string_end(raw, old.pos), _dump(piece, ascii_only)))
        else:
            sep = raw[_string_end(raw, cell.pieces[i].pos):cell.pieces[i + 1].pos] if j > i else \
                ",\n" + _indent_before(raw, raw_start)
            replacements.append((raw_start, raw_end, sep.join(_dump(p, ascii_only) for p in new_pieces)))
        exp_pieces = expected_cells[number - 1]
        _set_cell_source(expected, number, exp_pieces[:i] + new_pieces + exp_pieces[j + 1:])
    new_raw = _apply(raw, replacements)
    try:
        if json.loads(new_raw) != expected:
            raise ValueError("changed more than the cell sources")
    except ValueError:  # pragma: no cover - the JSON strings are replaced one for one
        return NotebookFix(raw, 0, unfixed + [(e.diagnostic, "the notebook could not be rewritten safely")
                                              for e in fixed])
    return NotebookFix(new_raw, len(fixed), unfixed)


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    out, pos = [], 0
    for s, e, t in sorted(edits):
        out.append(text[pos:s])
        out.append(t)
        pos = e
    out.append(text[pos:])
    return "".join(out)


def _string_end(raw: str, pos: int) -> int:
    """The offset just after the JSON string whose opening quote is at ``pos``."""
    from json.decoder import scanstring

    return scanstring(raw, pos + 1)[1]


def _dump(piece: str, ascii_only: bool) -> str:
    return json.dumps(piece, ensure_ascii=ascii_only)


def _indent_before(raw: str, pos: int) -> str:
    line_start = raw.rfind("\n", 0, pos) + 1
    return raw[line_start:pos] if not raw[line_start:pos].strip() else ""


def _set_cell_source(nb: dict, number: int, pieces: list[str]) -> None:
    """Set the source of code cell ``number`` (1-based, counted as ``check`` counts them: the cells *Run
    All* executes) in a plain-JSON notebook, keeping its form (a string or a list of strings)."""
    from .notebooks import _code_cells

    if "cells" in nb:
        cells = nb["cells"]
    else:
        cells = [c for ws in nb["worksheets"] if isinstance(ws, dict) for c in ws.get("cells", []) or []]
    code = [c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    run = [k for k, pieces_k in enumerate(_code_cells(nb)) if "".join(pieces_k).strip()]
    cell = code[run[number - 1]]
    field = "source" if "source" in cell or "input" not in cell else "input"
    if isinstance(cell.get(field), str):
        cell[field] = "".join(pieces)
    else:
        cell[field] = list(pieces)
