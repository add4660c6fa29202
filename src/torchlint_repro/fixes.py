"""Autofixes: the edits of every fixable finding, applied only when the result still compiles.

Each finding with a fix gets a plan from :mod:`.fixers` (its edits and tier, ruff's: *safe* fixes apply
by default, *unsafe* ones only when asked). Plans are taken in source order; one whose edits overlap an
accepted one, or share some of its own edits, is left for the next run; shared edits (one
``torch.manual_seed`` for two unseeded models, one ``import warnings``) are made once, a plan whose
edits were all made already counts as done, and a plan is kept only if the file with it and every
plan before it compiles (``compile()``, which also catches what the parser lets through, such as
``return`` outside a function). Everything outside the edits stays byte for byte: encoding, BOM, line
endings (an inserted line takes the file's own), and files without an applicable fix are not touched.

TRP202 and TRP302 are exact statement rewrites: the statement is cut out of the source by its ``ast``
positions, parsed alone with libcst, rewritten and spliced back (libcst never sees the rest of the file:
on a 40,000-line file its whole-module parse costs 8x the lint). Such a rewrite is kept only when libcst
reproduces the statement byte for byte and the new statement's ``ast`` is exactly the intended one.

Notebooks (:func:`fix_notebook`): the same plans on the program of the code cells, mapped back to the
cells' source strings in the notebook's JSON text; everything else (outputs, metadata, formatting) stays
byte for byte. ``fix_cli`` writes the results through :func:`.._io.replace_checked`.
"""

from __future__ import annotations

import ast
import bisect
import difflib
import json
import re
from dataclasses import dataclass, field

from .diagnostics import Diagnostic
from .fixers import PLANNERS, SAFE, UNSAFE, Insertion, Lines, Plan, Source, plan_drop_rebinding

# fixes that rewrite the very statement the finding is about into the one the rule asks for (TRP202's
# `model.eval()`, TRP302's dropped rebinding): the finding is gone by construction. Every other fix
# (a mode or a seed set somewhere before the finding) is proved only by linting the result again.
REWRITES = frozenset({"TRP202", "TRP302"})


def fixable_codes() -> frozenset[str]:
    """The codes whose rule offers a fix (``Rule.fix``)."""
    from .rules import ALL_RULES

    return frozenset(r.code for r in ALL_RULES if r.fix)


@dataclass(frozen=True)
class TextEdit:
    """Replace ``source[start:end]`` (lines ``line``..``end_line``) with ``text``: an edit of the fix of
    ``diagnostic``."""

    start: int
    end: int
    text: str
    line: int
    end_line: int
    diagnostic: Diagnostic


@dataclass
class FixPlan:
    edits: list[TextEdit] = field(default_factory=list)  # in source order
    fixed: list[Diagnostic] = field(default_factory=list)  # the findings the edits fix
    unsafe_skipped: list[Diagnostic] = field(default_factory=list)  # unsafe fixes left (no --unsafe-fixes)


def plan_fixes(
    source: str, diagnostics: list[Diagnostic], tree: ast.Module | None = None, *, unsafe: bool = False, seed: int = 0
) -> FixPlan:
    """The edits of every fixable diagnostic that can be fixed together (see the module's docstring).

    ``tree``: the ``ast`` of ``source`` the analysis read (parsed again when not given). ``unsafe``:
    apply unsafe fixes too; ``seed``: the seed the TRP101/TRP103 fix writes (the ``fix-seed`` option).
    """
    codes = fixable_codes()
    wanted = [d for d in diagnostics if d.code in codes and d.fix is not None]
    out = FixPlan()
    if not wanted:
        return out
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return out
    src = Source(source, tree, seed, wanted)
    taken: list[Insertion] = []
    owner: dict[Insertion, Diagnostic] = {}
    skipped: list[tuple[Diagnostic, Plan]] = []
    for d in sorted(wanted):
        try:
            plan = _plan(src, d)
        except (ValueError, IndexError, AttributeError, RecursionError):
            plan = None  # a shape of code a planner did not foresee: no fix, never a crash
        if plan is None:
            continue
        if plan.safety == UNSAFE and not unsafe:
            skipped.append((d, plan))
            continue
        edits = [e for e in plan.edits if e not in taken]
        if edits and any(e in taken and not e.shared for e in plan.edits):
            continue  # part of another fix's own edits (two models restored in one function): next run
        if any(_overlaps(e, t) for e in edits for t in taken) or not _compiles(_apply_edits(source, taken + edits)):
            continue
        taken += edits
        owner.update((e, d) for e in edits)
        out.fixed.append(d)
    for d, plan in skipped:  # an unsafe fix whose edits a safe one made (TRP305 on TRP302's load) is done
        (out.fixed if all(e in taken for e in plan.edits) else out.unsafe_skipped).append(d)
    line_of = src.lines.starts
    for e in sorted(taken, key=lambda e: (e.start, e.end)):
        line = bisect.bisect_right(line_of, e.start)
        end_line = max(line, bisect.bisect_left(line_of, e.end)) if e.end > e.start else line
        out.edits.append(TextEdit(e.start, e.end, e.text, line, end_line, owner[e]))
    return out


def _plan(src: Source, d: Diagnostic) -> Plan | None:
    if d.code == "TRP202":
        chain = src.chain(d)
        stmt = chain[-1] if len(chain) > 1 else None  # (after the module, the chain holds statements)
        edit = _rewrite(src, stmt, "TRP202", d) if isinstance(stmt, ast.stmt) else None
        return Plan(SAFE, (edit,)) if edit is not None else None
    if d.code == "TRP302":
        return plan_drop_rebinding(src, d, lambda stmt: _rewrite(src, stmt, "TRP302", d))
    planner = PLANNERS.get(d.code)
    return planner(src, d) if planner is not None else None


def _overlaps(a: Insertion, b: Insertion) -> bool:
    if a.start == a.end and b.start == b.end:
        return False
    if a.start == a.end:
        return b.start < a.start < b.end
    if b.start == b.end:
        return a.start < b.start < a.end
    return a.start < b.end and b.start < a.end


def _compiles(source: str) -> bool:
    try:
        compile(source, "<fixed>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


def _apply_edits(source: str, edits) -> str:
    out, pos = [], 0
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        out.append(source[pos : e.start])
        out.append(e.text)
        pos = e.end
    out.append(source[pos:])
    return "".join(out)


def _fix_target(stmt: ast.stmt) -> tuple[ast.expr, str] | None:
    """The node a fixable diagnostic points at in this statement, and its code."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Attribute) and stmt.value.attr in ("eval", "train"):
        return stmt.value, "TRP202"
    if (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Attribute)
        and stmt.value.func.attr == "load_state_dict"
        and isinstance(stmt.value.func.value, ast.Name)
        and stmt.value.func.value.id == stmt.targets[0].id
    ):
        return stmt.value, "TRP302"
    return None


def _expected(stmt: ast.stmt, code: str) -> ast.stmt:
    assert isinstance(stmt, (ast.Expr, ast.Assign))  # the statements _fix_target accepts
    if code == "TRP202":
        return ast.Expr(value=ast.Call(func=stmt.value, args=[], keywords=[]))
    return ast.Expr(value=stmt.value)


def _rewrite(src: Source, stmt: ast.stmt, code: str, d: Diagnostic) -> Insertion | None:
    """The exact libcst rewrite of a TRP202 / TRP302 statement (see the module's docstring)."""
    import libcst as cst

    target = _fix_target(stmt)
    if (
        target is None
        or target[1] != code
        or (target[0].lineno, src.lines.char_col(target[0].lineno, target[0].col_offset)) != (d.line, d.col)
    ):
        return None
    start, end = src.start(stmt), src.end(stmt)
    segment = src.source[start:end]
    try:
        parsed = cst.parse_statement(segment, config=cst.PartialParserConfig(default_newline=src.newline))
    except (cst.ParserSyntaxError, ValueError, RecursionError):
        return None
    module = cst.Module(body=[], default_newline=src.newline)
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
    return Insertion(start, end, text)


def fix_source(
    source: str, diagnostics: list[Diagnostic], tree: ast.Module | None = None, *, unsafe: bool = False, seed: int = 0
) -> tuple[str, FixPlan]:
    """The fixed source (the source itself when nothing could be fixed) and the plan applied."""
    plan = plan_fixes(source, diagnostics, tree, unsafe=unsafe, seed=seed)
    return (_apply_edits(source, plan.edits) if plan.edits else source), plan


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile=path, tofile=path
        )
    )


# ------------------------------------------------------------------------------ notebooks
@dataclass
class NotebookFix:
    text: str  # the notebook's new JSON text (the old one when nothing was fixed)
    fixed: int
    unfixed: list[tuple[Diagnostic, str]]  # fixable findings left, and why (for a notice)
    unsafe_skipped: list[Diagnostic] = field(default_factory=list)
    fixed_findings: list[Diagnostic] = field(default_factory=list)  # the ``fixed`` findings themselves


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
    from .notebooks import cell_program, is_python, run_cells, split_lines

    if not is_python(nb):
        return "", [], []
    lines: list[str] = []
    where: list[tuple[int, int]] = []
    originals: list[str] = []
    for number, pieces in enumerate(run_cells(nb), 1):
        cell_lines = split_lines("".join(pieces))
        lines.extend(cell_program(cell_lines)[0])  # a cell that does not parse: blank, as check has it
        originals.extend(cell_lines)
        where.extend((number, i) for i in range(1, len(cell_lines) + 1))
    return ("\n".join(lines) + "\n" if lines else ""), where, originals


def fix_notebook(
    raw: str,
    diagnostics: list[Diagnostic],
    program: str,
    where: list[tuple[int, int]],
    originals: list[str],
    *,
    unsafe: bool = False,
    seed: int = 0,
) -> NotebookFix:
    """Apply the fixable ``diagnostics`` of ``program`` (see :func:`notebook_program`) inside the cells
    of the notebook whose JSON text is ``raw``. Only the source strings of the affected cells change; a
    finding whose edits cannot all be mapped into cells is left whole."""
    from .notebooks import PositionParser, parse_notebook, run_cells

    codes = fixable_codes()
    fixable = [d for d in diagnostics if d.code in codes and d.fix is not None]
    plan = plan_fixes(program, fixable, unsafe=unsafe, seed=seed)
    planned = {id(d) for d in plan.fixed + plan.unsafe_skipped}
    unfixed = [(d, "no fix could be written for it here") for d in fixable if id(d) not in planned]
    if not plan.edits:
        return NotebookFix(raw, 0, unfixed, plan.unsafe_skipped)
    nb = parse_notebook(raw, lambda t: PositionParser(t).parse())
    cells = [_Cell(i, pieces) for i, pieces in enumerate(run_cells(nb), 1)]
    plines = Lines(program)
    mapped: list[tuple[TextEdit, int, int, int]] = []  # edit, cell, start, end in the cell's text
    failed: dict[int, tuple[Diagnostic, str]] = {}
    for e in plan.edits:
        if e.end_line > len(where):
            failed[id(e.diagnostic)] = (e.diagnostic, "its fix goes after the last cell")
            continue
        first, last = where[e.line - 1], where[e.end_line - 1]
        if first[0] != last[0]:
            failed[id(e.diagnostic)] = (e.diagnostic, "its statement runs into the next cell")
            continue
        if any(
            program_line != originals[n - 1]
            for n, program_line in ((n, plines.text(n)) for n in range(e.line, e.end_line + 1))
        ):
            failed[id(e.diagnostic)] = (e.diagnostic, "the line is IPython syntax, not Python")
            continue
        cell = cells[first[0] - 1]
        start = cell.line_starts[first[1] - 1] + (e.start - plines.starts[e.line - 1])
        end = cell.line_starts[last[1] - 1] + (e.end - plines.starts[e.end_line - 1])
        if cell.text[start:end] != program[e.start : e.end]:  # line endings inside the statement differ
            failed[id(e.diagnostic)] = (e.diagnostic, "its statement has other line endings in the cell")
            continue
        mapped.append((e, cell.number, start, end))
    unfixed += list(failed.values())
    by_cell: dict[int, list[tuple[int, int, str]]] = {}  # cell -> [(start, end, text)] in the cell's text
    for e, number, start, end in mapped:
        if id(e.diagnostic) not in failed:
            by_cell.setdefault(number, []).append((start, end, e.text))
    fixed = [d for d in plan.fixed if id(d) not in failed]
    replacements: list[tuple[int, int, str]] = []  # in the raw JSON text
    expected = json.loads(raw)
    expected_cells = run_cells(expected)
    ascii_only = raw.isascii()
    for number, cell_edits in by_cell.items():
        cell = cells[number - 1]
        new_text = _apply(cell.text, cell_edits)
        lo = min(s for s, _, _ in cell_edits)
        hi = max(e for _, e, _ in cell_edits)
        # the pieces the edits touch, i..j, become the new text of their span, split as they were split
        i = max(k for k, a in enumerate(cell.piece_starts) if a <= lo)
        j = min(
            (k for k in range(i, len(cell.pieces)) if cell.piece_starts[k] + len(cell.pieces[k]) >= hi),
            default=len(cell.pieces) - 1,
        )
        span_start = cell.piece_starts[i]
        span_end = cell.piece_starts[j] + len(cell.pieces[j])
        delta = len(new_text) - len(cell.text)
        new_span = new_text[span_start : span_end + delta]
        # a piece per line (what Jupyter writes) stays a piece per line; any other split keeps one piece
        by_line = (
            all(
                p.count("\n") == (1 if k < j else p.count("\n")) and (k == j or p.endswith("\n"))
                for k, p in enumerate(cell.pieces[i : j + 1], i)
            )
            and cell.pieces[j].count("\n") <= 1
        )
        new_pieces = (re.findall(r"[^\n]*\n|[^\n]+$", new_span) if by_line else [new_span]) or [""]
        raw_start = cell.pieces[i].pos
        raw_end = _string_end(raw, cell.pieces[j].pos)
        if len(new_pieces) == j - i + 1:
            for k, piece in enumerate(new_pieces):
                old = cell.pieces[i + k]
                if piece != old:
                    replacements.append((old.pos, _string_end(raw, old.pos), _dump(piece, ascii_only)))
        else:
            sep = (
                raw[_string_end(raw, cell.pieces[i].pos) : cell.pieces[i + 1].pos]
                if j > i
                else ",\n" + _indent_before(raw, raw_start)
            )
            replacements.append((raw_start, raw_end, sep.join(_dump(p, ascii_only) for p in new_pieces)))
        exp_pieces = expected_cells[number - 1]
        _set_cell_source(expected, number, exp_pieces[:i] + new_pieces + exp_pieces[j + 1 :])
    new_raw = _apply(raw, replacements)
    try:
        if json.loads(new_raw) != expected:
            raise ValueError("changed more than the cell sources")
    except ValueError:  # pragma: no cover - the JSON strings are replaced one for one
        return NotebookFix(
            raw, 0, unfixed + [(d, "the notebook could not be rewritten safely") for d in fixed], plan.unsafe_skipped
        )
    return NotebookFix(new_raw, len(fixed), unfixed, plan.unsafe_skipped, list(fixed))


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    out, pos = [], 0
    for s, e, t in sorted(edits, key=lambda x: (x[0], x[1])):
        out.append(text[pos:s])
        out.append(t)
        pos = e
    out.append(text[pos:])
    return "".join(out)


def _string_end(raw: str, pos: int) -> int:
    """The offset just after the JSON string whose opening quote is at ``pos``."""
    # json.decoder.scanstring exists (the pure-Python fallback of the C scanner); typeshed does not declare it
    from json.decoder import scanstring  # type: ignore[attr-defined]

    return scanstring(raw, pos + 1)[1]


def _dump(piece: str, ascii_only: bool) -> str:
    return json.dumps(piece, ensure_ascii=ascii_only)


def _indent_before(raw: str, pos: int) -> str:
    line_start = raw.rfind("\n", 0, pos) + 1
    return raw[line_start:pos] if not raw[line_start:pos].strip() else ""


def _set_cell_source(nb: dict, number: int, pieces: list[str]) -> None:
    """Set the source of code cell ``number`` (1-based, counted as ``check`` counts them: the cells *Run
    All* executes) in a plain-JSON notebook, keeping its form (a string or a list of strings)."""
    from .notebooks import code_cells

    if "cells" in nb:
        cells = nb["cells"]
    else:
        cells = [c for ws in nb["worksheets"] if isinstance(ws, dict) for c in ws.get("cells", []) or []]
    code = [c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    run = [k for k, pieces_k in enumerate(code_cells(nb)) if "".join(pieces_k).strip()]
    cell = code[run[number - 1]]
    field = "source" if "source" in cell or "input" not in cell else "input"
    if isinstance(cell.get(field), str):
        cell[field] = "".join(pieces)
    else:
        cell[field] = list(pieces)
