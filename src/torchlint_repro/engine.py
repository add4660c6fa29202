"""lint_source: one parse, one analysis, all rules. flake8 and the CLI both call it."""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from collections.abc import Iterable
from pathlib import Path

from ._io import FileTooLarge, read_regular
from .config import Settings
from .diagnostics import Diagnostic

INTERNAL_ERROR = "TRP900"

# flake8's own noqa grammar (flake8/defaults.py NOQA_INLINE_REGEXP, NOQA_FILE), so `check` agrees with flake8.
_NOQA = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
_NOQA_FILE = re.compile(r"\s*# flake8[:=]\s*noqa", re.IGNORECASE)
_CODE_SEP = re.compile(r"[,\s]")
# libraries whose models are torch modules, imported by scripts that never say "torch" themselves (a transformers
# fine-tuning script that builds `BertForSequenceClassification(config)`)
_TORCH_LIBRARIES = re.compile(
    r"^\s*(?:from|import)\s+(?:transformers|timm|peft|lightning|pytorch_lightning|accelerate|diffusers)\b", re.M
)


class SourceError(Exception):
    """The file cannot be linted at all (unreadable, undecodable, a syntax error)."""


class SourceSkipped(SourceError):
    """The file is not linted on purpose (larger than a source file may be): a notice, not an error."""


def read_source(path: str | Path) -> str:
    """Read a Python file honouring its PEP 263 coding line and a UTF-8 BOM; only a regular file, and
    only up to :data:`MAX_FILE_BYTES` (a FIFO or a link to a device is refused, never opened for reading)."""
    return decode_source(read_source_bytes(path))


def read_source_bytes(path: str | Path) -> bytes:
    try:
        return read_regular(path)
    except FileTooLarge as exc:
        raise SourceSkipped(f"skipped: {exc.strerror}") from exc
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from exc


def decode_source(data: bytes) -> str:
    try:
        return data.decode(source_encoding(data))
    except (LookupError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot decode: {exc}") from exc


def source_encoding(data: bytes) -> str:
    """The encoding a Python file declares (PEP 263 coding line; ``utf-8-sig`` with a BOM; else UTF-8):
    what :func:`decode_source` reads it with, and what ``fix`` writes it back in."""
    try:
        return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except (SyntaxError, LookupError) as exc:
        raise SourceError(f"cannot decode: {exc}") from exc


def parse(source: str, path: str | None = None) -> ast.Module:
    try:
        return ast.parse(source, filename=path or "<unknown>")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        raise SourceError(_syntax_message(exc)) from exc


# Python 2 and pre-3.7 spellings a research script still carries, and what a reader needs to know to fix them
_SYNTAX_HINTS = (
    (re.compile(r"\basync\s*="), "`async` is a reserved word since Python 3.7: write `non_blocking=True`"),
    (re.compile(r"\bexcept\s+[\w.]+\s*,\s*\w+\s*:"), "Python 2 `except E, e:`: write `except E as e:`"),
)


def _syntax_message(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        text = exc.text or ""
        hint = next((h for pattern, h in _SYNTAX_HINTS if pattern.search(text)), None)
        msg = f"{exc.msg} ({hint})" if hint else exc.msg
        return f"syntax error at line {exc.lineno}: {msg}" if exc.lineno else f"syntax error: {msg}"
    if isinstance(exc, RecursionError):
        return "too deeply nested to parse"
    return f"cannot parse: {exc}"


def lint_source(
    source: str,
    path: str | None = None,
    settings: Settings | None = None,
    tree: ast.Module | None = None,
    widened: list[str] | None = None,
) -> list[Diagnostic]:
    """Every diagnostic of every rule for one file, sorted; never raises on bad input. ``widened``, when
    given, receives where a bound made the analysis widen to *maybe* (for --statistics and --verbose).

    A syntax error yields nothing (flake8 reports E999 itself; the CLI reports it separately through
    :func:`lint_file`). An internal error becomes one TRP900 diagnostic.
    """
    settings = settings or Settings()
    main_guard_recursion()
    if (
        not source.strip()
        or "torch" not in source
        and not _TORCH_LIBRARIES.search(source)
        and not _mentions_project_model(source, path, settings)
    ):
        return []
    try:
        if tree is None:
            tree = parse(source, path)
    except SourceError:
        return []
    try:
        from .analysis.program import analyze
        from .rules import ALL_RULES

        facts = analyze(source, tree, path, settings)
        if widened is not None:
            widened.extend(facts.widened)
        out: set[Diagnostic] = set()
        for rule in ALL_RULES:
            if rule.check is not None:
                out.update(rule.check(facts))
        return sorted(_char_columns(out, source))
    except RecursionError:
        return [Diagnostic(1, 0, INTERNAL_ERROR, "internal error: code too deeply nested to analyse", path or "")]
    except Exception as exc:  # noqa: BLE001 - the host must never see our exception
        where = _where(exc)
        return [
            Diagnostic(
                1,
                0,
                INTERNAL_ERROR,
                f"internal error in torchlint-repro while analysing {path or '<stdin>'}: "
                f"{type(exc).__name__}: {exc}{where} (please report it)",
                path or "",
            )
        ]


def _char_columns(diags, source: str) -> list[Diagnostic]:
    """ast columns count UTF-8 bytes; report characters, as libcst and ruff do."""
    lines = None
    out = []
    for d in diags:
        if d.col:
            if lines is None:
                lines = source.splitlines()
            text = lines[d.line - 1] if 0 < d.line <= len(lines) else ""
            if not text.isascii():
                col = len(text.encode("utf-8")[: d.col].decode("utf-8", "replace"))
                d = Diagnostic(d.line, col, d.code, d.message, d.path, d.fix)
        out.append(d)
    return out


def _where(exc: BaseException) -> str:
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return ""
    return f" [{Path(last.tb_frame.f_code.co_filename).name}:{last.tb_lineno}]"


def _mentions_project_model(source: str, path: str | None, settings: Settings) -> bool:
    """A file that never says "torch" can still build a project model: ask the project index."""
    if path is None or "import" not in source:
        return False
    from .analysis.project import project_for

    project = project_for(path, settings)
    return project is not None and project.mentions_model_module(source, path)


def noqa_filter(diags: Iterable[Diagnostic], source: str) -> list[Diagnostic]:
    """Drop diagnostics silenced by ``# noqa`` / ``# noqa: CODE`` exactly as flake8 would.

    As in flake8: a line that *starts* with ``# flake8: noqa`` silences the whole file (whatever codes
    follow); listed codes match by prefix and case-sensitively; a noqa comment anywhere in a token run
    (a multi-line string, a backslash continuation) covers all of its lines.
    """
    diags = list(diags)
    if not diags:
        return diags
    lines = source.splitlines()
    if any(_NOQA_FILE.match(line) for line in lines):
        return []
    ranges = _logical_line_ranges(source)
    kept = []
    for d in diags:
        first, last = ranges.get(d.line, (d.line, d.line))
        text = "\n".join(lines[first - 1 : last]) if 0 < d.line <= len(lines) else ""
        m = _NOQA.search(text)
        if m is None:
            kept.append(d)
            continue
        codes = m.group("codes")
        if not codes:
            continue  # a blanket noqa comment (no codes)
        listed = tuple(c for c in _CODE_SEP.split(codes) if c)
        if d.code in listed or d.code.startswith(listed):
            continue
        kept.append(d)
    return kept


def _logical_line_ranges(source: str) -> dict[int, tuple[int, int]]:
    """Physical line -> the (first, last) lines flake8 searches for its noqa comment.

    flake8's FileProcessor._noqa_line_mapping: lines are joined only where one token spans several of
    them (a multi-line string, a backslash continuation), up to the next NL/NEWLINE token.
    """
    out: dict[int, tuple[int, int]] = {}
    first, last = None, -1
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            first = tok.start[0] if first is None else min(first, tok.start[0])
            last = max(last, tok.end[0])
            if tok.type in (tokenize.NL, tokenize.NEWLINE):
                if last > first:
                    for line in range(first, last + 1):
                        out[line] = (first, last)
                first, last = None, -1
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return out


def lint_file(path: str | Path, settings: Settings | None = None) -> list[Diagnostic]:
    """Lint one file from disk (every code the analysis reports, after ``noqa``; no selection, no result
    cache): the library's face of :func:`pipeline.lint_document`. Raises :class:`SourceError` when the
    file cannot be read or parsed."""
    from .pipeline import lint_document

    result = lint_document(str(path), settings or Settings(), select=False, result_cache=False)
    if result.error is not None:
        raise SourceError(result.error)
    return result.diagnostics


def main_guard_recursion() -> None:
    """Deeply nested input must not crash the host: allow ast/analysis enough stack (set at import
    already; again here in case the host lowered it since)."""
    from . import RECURSION_LIMIT

    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
