"""Jupyter notebooks as one Python program: their code cells joined in order.

``notebook_source(path)`` returns the program and, for each of its lines, where it came from:
``cells[i] == (cell, line)`` for line ``i + 1``. ``cell`` counts **code cells only**, from 1, in
notebook order: the number Jupyter's ``In [N]:`` prompt shows after *Restart & Run All*. Markdown and
raw cells have no prompt, and a code cell that is empty or only whitespace is not executed by IPython
(its execution count does not move), so none of them is counted; their lines are not part of the
program either. ``line`` is the line within that cell, from 1.

IPython syntax is not Python, so it is replaced line for line (nothing shifts, every line keeps its
number):

- line magics (``%pip install x``, ``%matplotlib inline``), shell escapes (``!ls``), help
  (``obj?``, ``??obj``) and autocall (``/f x``) become ``pass`` at the same indentation, their ``\\``
  continuation lines blank;
- ``x = !ls`` / ``x = %sx ls`` become ``x = None`` (the name stays bound);
- ``%time stmt`` / ``%timeit stmt`` become ``stmt``: the statement does run;
- a cell magic (``%%bash``, ``%%writefile`` ...) blanks its whole cell, except the magics whose body is
  Python (``%%time``, ``%%timeit``, ``%%capture``, ``%%prun``): only their first line is blanked.

Magic syntax is recognised only where a logical line starts, never inside a string or a bracket.
The notebook's JSON is parsed here (no nbformat): nbformat 4 and the older nbformat 3 worksheets;
``source`` may be one string or a list of strings; a notebook whose kernel language is not Python
yields an empty program.
"""

from __future__ import annotations

import ast
import bisect
import io
import json
import re
import tokenize

# json.decoder.scanstring exists (the pure-Python fallback of the C scanner); typeshed does not declare it
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path

from ._io import FileTooLarge, read_regular
from .engine import SourceError, SourceSkipped

NOTEBOOK_MAX_BYTES = 100 * 1000 * 1000  # images in the outputs: notebooks are allowed ten times a source file

PY_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})
_EXEC_LINE_MAGICS = ("time", "timeit")
_ASSIGN_MAGIC = re.compile(r"^(?P<indent>\s*)(?P<target>[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*[!%]")
_LINE_REF = re.compile(r"\bline (\d+)")


# ------------------------------------------------------------------------------ reading
def read_notebook(path: str | Path) -> dict:
    """The notebook's JSON; :class:`SourceError` with a clear message when it is not a notebook."""
    return parse_notebook(decode_notebook(read_notebook_bytes(path)), json.loads)


def decode_notebook(data: bytes) -> str:
    """A notebook file's text: UTF-8 (nbformat's encoding), with or without a BOM."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"invalid notebook: not UTF-8 ({exc.reason} at byte {exc.start})") from exc


def parse_notebook_text(text: str) -> dict:
    """The JSON of a notebook already decoded (stdin, an editor's buffer)."""
    return parse_notebook(text.removeprefix("\ufeff"), json.loads)


def read_notebook_bytes(path: str | Path) -> bytes:
    """A notebook's bytes: a regular file only, up to :data:`NOTEBOOK_MAX_BYTES` (outputs make notebooks
    bigger than source files)."""
    try:
        return read_regular(path, NOTEBOOK_MAX_BYTES, "a notebook")
    except FileTooLarge as exc:
        raise SourceSkipped(f"skipped: {exc.strerror}") from exc
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from exc


def parse_notebook(text: str, loads) -> dict:
    try:
        nb = loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"invalid notebook: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except RecursionError as exc:
        raise SourceError("invalid notebook: JSON nested too deeply") from exc
    if not isinstance(nb, dict) or not isinstance(nb.get("cells", nb.get("worksheets")), list):
        raise SourceError("invalid notebook: no 'cells' list (is this a Jupyter notebook?)")
    return nb


def code_cells(nb: dict) -> list[list[str]]:
    """The source pieces of every code cell, in order (nbformat 4 ``source``, nbformat 3 ``input``)."""
    if "cells" in nb:
        cells = nb["cells"]
    else:
        cells = [c for ws in nb["worksheets"] if isinstance(ws, dict) for c in ws.get("cells", []) or []]
    out: list[list[str]] = []
    for i, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            raise SourceError(f"invalid notebook: cell {i} is not an object")
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", cell.get("input", ""))
        if src is None:
            src = ""
        if isinstance(src, str):
            pieces = [src]
        elif isinstance(src, list) and all(isinstance(s, str) for s in src):
            pieces = list(src)
        else:
            raise SourceError(
                f"invalid notebook: the source of code cell {len(out) + 1} is not a string or a list of strings"
            )
        out.append(pieces)
    return out


def run_cells(nb: dict) -> list[list[str]]:
    """The code cells *Run All* executes and numbers: not those that are empty or only whitespace."""
    return [pieces for pieces in code_cells(nb) if "".join(pieces).strip()]


def is_python(nb: dict) -> bool:
    meta = nb.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
    for key, field in (("kernelspec", "language"), ("language_info", "name")):
        info = meta.get(key)
        if isinstance(info, dict) and isinstance(info.get(field), str):
            return info[field].strip().lower() in ("python", "python3", "ipython", "")
    return True


def split_lines(text: str) -> list[str]:
    if not text:
        return []
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


# ------------------------------------------------------------------------------ the program
def notebook_source(path: str | Path) -> tuple[str, list[tuple[int, int]]]:
    """The code cells as one program, and ``cells[i] = (code cell, line in cell)`` for line ``i + 1``."""
    source, cells, _ = _program(read_notebook(path))
    return source, cells


def notebook_source_from_text(text: str) -> tuple[str, list[tuple[int, int]]]:
    """:func:`notebook_source` of a notebook's JSON text."""
    source, cells, _ = _program(parse_notebook_text(text))
    return source, cells


def notebook_program(path: str | Path | None, text: str | None = None) -> tuple[str, list[tuple[int, int]], list[str]]:
    """:func:`notebook_source` (of the file, or of its JSON ``text``) and the cells it left out: a cell that
    does not parse (an exercise's `x = # TODO`) fails alone when the notebook runs, so it is blanked (its
    lines kept, empty) and the other cells are linted in order; each skipped cell is one line of notice."""
    return _program(parse_notebook_text(text) if text is not None else read_notebook(path or ""))


def _program(nb: dict) -> tuple[str, list[tuple[int, int]], list[str]]:
    if not is_python(nb):
        return "", [], []
    lines: list[str] = []
    cells: list[tuple[int, int]] = []
    skipped: list[str] = []
    for number, pieces in enumerate(run_cells(nb), 1):
        cell_lines, why = cell_program(split_lines("".join(pieces)))
        if why is not None:
            skipped.append(f"cell {number}{why}")
        lines.extend(cell_lines)
        cells.extend((number, i) for i in range(1, len(cell_lines) + 1))
    return ("\n".join(lines) + "\n" if lines else ""), cells, skipped


def cell_program(cell_lines: list[str]) -> tuple[list[str], str | None]:
    """One code cell as the program has it: IPython syntax replaced (:func:`strip_magics`), and, when the
    cell does not parse on its own (Jupyter compiles each cell alone: it fails alone), its lines blanked
    with why (`, line 2: invalid syntax`). The line count never changes."""
    lines = strip_magics(cell_lines)
    try:
        ast.parse("\n".join(lines) + "\n")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        where = f", line {exc.lineno}" if isinstance(exc, SyntaxError) and exc.lineno else ""
        why = exc.msg if isinstance(exc, SyntaxError) else type(exc).__name__
        return [""] * len(lines), f"{where}: {why}"
    return lines, None


def strip_magics(lines: list[str]) -> list[str]:
    """One cell's lines with IPython syntax replaced by Python of the same line count."""
    out = list(lines)
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        name = lines[first].strip()[2:].split(None, 1)[0] if lines[first].strip()[2:] else ""
        if name not in PY_CELL_MAGICS:
            return [""] * len(lines)
        out[first] = ""
        start = first + 1
    else:
        start = 0
    pending: list[str] = []  # the logical line being read (open bracket, string, backslash)
    i = start
    while i < len(out):
        line = out[i]
        if not pending:
            replaced = _replace_magic(line)
            if replaced is not None:
                out[i] = replaced
                # a magic continued with backslashes: its continuation lines go blank
                while line.rstrip().endswith("\\") and i + 1 < len(out):
                    i += 1
                    line = out[i]
                    out[i] = ""
                i += 1
                continue
        pending.append(line)
        if not _incomplete("\n".join(pending) + "\n"):
            pending = []
        i += 1
    return out


def _replace_magic(line: str) -> str | None:
    stripped = line.strip()
    if not stripped:
        return None
    indent = line[: len(line) - len(line.lstrip())]
    if stripped[0] in "%!":
        word = stripped[1:].split(None, 1)
        if (
            stripped[0] == "%"
            and word
            and word[0] in _EXEC_LINE_MAGICS
            and len(word) == 2
            and not word[1].startswith("-")
        ):
            return indent + word[1]
        return indent + "pass"
    if stripped[0] in "?/;," or (stripped.endswith("?") and "#" not in stripped):
        return indent + "pass"  # help, and IPython's autocall (`/f x`, `;f a b`, `,f a b`)
    m = _ASSIGN_MAGIC.match(line)
    if m:
        return f"{m['indent']}{m['target']} = None"
    return None


def _incomplete(text: str) -> bool:
    """Whether ``text`` stops inside a bracket, a string or after a backslash."""
    try:
        for _ in tokenize.generate_tokens(io.StringIO(text).readline):
            pass
    except tokenize.TokenError:
        return True
    except (SyntaxError, ValueError):
        return False
    return False


def cell_message(message: str, cells: list[tuple[int, int]]) -> str:
    """Rewrite ``line N`` of the joined program in an error message as ``cell C, line L``."""

    def sub(m: re.Match) -> str:
        n = int(m.group(1))
        if 0 < n <= len(cells):
            cell, line = cells[n - 1]
            return f"cell {cell}, line {line}"
        return m.group(0)

    return _LINE_REF.sub(sub, message)


# ------------------------------------------------------------------------------ positions in the file
class _Str(str):
    """A JSON string that remembers the offset of its opening quote in the file's text."""

    pos: int


class PositionParser:
    """A small JSON parser that keeps the position of every string (json.loads forgets them)."""

    _NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
    _WS = re.compile(r"[ \t\n\r]*")

    def __init__(self, text: str) -> None:
        self.s = text

    def parse(self):
        value, i = self._value(self._ws(0))
        if self._ws(i) != len(self.s):
            raise json.JSONDecodeError("Extra data", self.s, i)
        return value

    def _ws(self, i: int) -> int:
        m = self._WS.match(self.s, i)
        assert m is not None  # (it matches the empty string)
        return m.end()

    def _value(self, i: int):
        s = self.s
        if i >= len(s):
            raise json.JSONDecodeError("Expecting value", s, i)
        c = s[i]
        if c == '"':
            text, end = scanstring(s, i + 1)
            out = _Str(text)
            out.pos = i
            return out, end
        if c == "{":
            obj: dict = {}
            i = self._ws(i + 1)
            if s.startswith("}", i):
                return obj, i + 1
            while True:
                if not s.startswith('"', i):
                    raise json.JSONDecodeError("Expecting property name enclosed in double quotes", s, i)
                key, i = scanstring(s, i + 1)
                i = self._ws(i)
                if not s.startswith(":", i):
                    raise json.JSONDecodeError("Expecting ':' delimiter", s, i)
                obj[key], i = self._value(self._ws(i + 1))
                i = self._ws(i)
                if s.startswith("}", i):
                    return obj, i + 1
                if not s.startswith(",", i):
                    raise json.JSONDecodeError("Expecting ',' delimiter", s, i)
                i = self._ws(i + 1)
        if c == "[":
            arr: list = []
            i = self._ws(i + 1)
            if s.startswith("]", i):
                return arr, i + 1
            while True:
                item, i = self._value(i)
                arr.append(item)
                i = self._ws(i)
                if s.startswith("]", i):
                    return arr, i + 1
                if not s.startswith(",", i):
                    raise json.JSONDecodeError("Expecting ',' delimiter", s, i)
                i = self._ws(i + 1)
        for word, value in (("true", True), ("false", False), ("null", None)):
            if s.startswith(word, i):
                return value, i + len(word)
        m = self._NUMBER.match(s, i)
        if m:
            num = m.group(0)
            return (float(num) if any(ch in num for ch in ".eE") else int(num)), m.end()
        raise json.JSONDecodeError("Expecting value", s, i)


def _raw_advance(text: str, i: int, nchars: int) -> int:
    """The offset in the file's text after ``nchars`` decoded characters of a JSON string at ``i``."""
    for _ in range(nchars):
        if i >= len(text) or text[i] == '"':
            break
        if text[i] == "\\":
            if text.startswith("u", i + 1):
                code = int(text[i + 2 : i + 6], 16)
                i += 6
                if 0xD800 <= code < 0xDC00 and text.startswith("\\u", i):  # a surrogate pair: one character
                    i += 6
            else:
                i += 2
        else:
            i += 1
    return i


class SourceMap:
    """Where each line of :func:`notebook_source`'s program sits in the notebook file itself.

    ``position(line, col)`` gives the 1-based (line, column) in the file's text, for reports that
    point into the file (SARIF, GitHub annotations): in a notebook saved by Jupyter every source line
    is a JSON string on a line of its own, so this is the line that shows the code.
    """

    def __init__(self, path: str | Path | None = None, text: str | None = None) -> None:
        if text is None:
            assert path is not None, "a path or a text"
            text = read_notebook_bytes(path).decode("utf-8-sig")
        text = text.removeprefix("\ufeff")
        self.text = text
        nb = parse_notebook(text, lambda t: PositionParser(t).parse())
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.starts: list[int | None] = []  # file offset of each program line's first character
        self.originals: list[str] = []  # each program line as written in the cell (before magics)
        if not is_python(nb):
            return
        for pieces in run_cells(nb):
            joined = "".join(pieces)
            cell_lines = split_lines(joined)
            self.originals.extend(cell_lines)
            # (piece, index in piece) of the first character of each line of the cell
            origins: list[tuple[int, int]] = []
            if cell_lines:
                origins.append(self._first(pieces, 0, 0))
            for p, piece in enumerate(pieces):
                for k, ch in enumerate(piece):
                    if ch == "\n" and len(origins) < len(cell_lines):
                        origins.append(self._first(pieces, p, k + 1))
            for p, k in origins[: len(cell_lines)]:
                origin = pieces[p] if p < len(pieces) else None
                if isinstance(origin, _Str):
                    self.starts.append(_raw_advance(text, origin.pos + 1, k))
                else:
                    self.starts.append(None)

    @staticmethod
    def _first(pieces: list[str], p: int, k: int) -> tuple[int, int]:
        while p < len(pieces) and k >= len(pieces[p]) and p + 1 < len(pieces):
            p, k = p + 1, 0
        return p, k

    def position(self, line: int, col: int = 0) -> tuple[int, int] | None:
        """The file's (line, column), both 1-based, of program line ``line`` and 0-based ``col``."""
        start = self.starts[line - 1] if 0 < line <= len(self.starts) else None
        if start is None:
            return None
        offset = start
        if col:
            # a line rewritten for a magic no longer lines up with the file: point at its start
            transformed = notebook_line_changed(self.originals[line - 1])
            if not transformed:
                offset = _raw_advance(self.text, start, col)
        raw_line = bisect.bisect_right(self._line_starts, offset) - 1
        return raw_line + 1, offset - self._line_starts[raw_line] + 1


def notebook_line_changed(original: str) -> bool:
    """Whether the magic rewriting may change this line (so its columns no longer line up)."""
    s = original.lstrip()
    return bool(s) and (s[0] in "%!?/;," or s.endswith("?") or "=" in s and bool(_ASSIGN_MAGIC.match(original)))
