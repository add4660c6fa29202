"""One file, one pipeline: read, decode, parse, lint (through the result cache), ``noqa``, selection.

Every face calls :func:`lint_document`: ``check`` (files, notebooks, stdin), the flake8 plugin (the
lines and tree flake8 hands over), ``fix`` and the library's :func:`engine.lint_file`. What differs
between them is only what they already have in hand (a path, a decoded source, a tree) and what their
host does itself (flake8 applies ``noqa`` and its own selection after us), so they cannot disagree on
what a file contains, on what is cached, or on which findings a configuration keeps.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TypeGuard

from .config import Settings
from .diagnostics import Diagnostic

INTERNAL_ERROR = "TRP900"


@dataclass
class FileResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: str | None = None
    # for notebooks: concatenated-source line -> (code cell number, line in cell), both 1-based
    cells: list[tuple[int, int]] | None = None
    # the decoded program that was linted (for notebooks the joined cells); kept only on request
    source: str | None = field(default=None, repr=False, compare=False)
    # why the file, or part of it, was skipped on purpose (larger than a source file may be; a notebook cell
    # that does not parse): a notice, not an error
    notice: str | None = None
    # where a bound made the analysis widen to *maybe* (no finding is dropped for one): `function: why`
    widened: list[str] = field(default_factory=list)


def is_notebook(path: str | None) -> TypeGuard[str]:
    return path is not None and path.endswith(".ipynb")


def lint_document(
    path: str | None,
    settings: Settings,
    *,
    source: str | bytes | None = None,
    tree: ast.Module | None = None,
    display_path: str | None = None,
    noqa: bool = True,
    select: bool = True,
    result_cache: bool = True,
    keep_source: bool = False,
) -> FileResult:
    """Lint one document; never raises.

    ``path`` is where the document lives (it finds the project, the cache entry and per-file-ignores);
    None for an anonymous stdin. ``source`` is its content when the caller already has it (an editor's
    buffer, stdin; for a notebook, the notebook's JSON), as text or as bytes to decode; else the file
    is read. Bytes are decoded as Python source is (PEP 263 coding line, BOM), a notebook as UTF-8, and
    a notebook becomes its code cells joined in order. ``tree`` is the ``ast`` of ``source`` when the host
    already parsed it (flake8). ``noqa`` applies ``# noqa`` comments as flake8 does; ``select`` keeps
    only the codes ``settings`` enables for this path (``select``/``ignore`` layers and
    ``per-file-ignores``). The result cache is used when ``settings.cache`` and ``result_cache`` allow
    it and the document has a path; a result with an internal error (TRP900) is never cached, so the
    next run tries again.

    A document that cannot be read, decoded or parsed yields a result with ``error`` set and no
    diagnostics; an unexpected failure is an ``internal error: ...`` result, never an exception.
    """
    from .engine import SourceError, SourceSkipped, decode_source, lint_source, noqa_filter, parse, read_source

    shown = display_path or path or "-"
    cells = None
    notice = None
    try:
        if is_notebook(path):
            from .notebooks import decode_notebook, notebook_program

            if isinstance(source, bytes):
                source = decode_notebook(source)
            source, cells, skipped = notebook_program(path, source)
            if skipped:
                notice = "skipped cells that do not parse (" + "; ".join(skipped) + "); the other cells are linted"
            tree = None  # the tree of the JSON text, if a host parsed it, is not the program's
        elif isinstance(source, bytes):
            source = decode_source(source)
        elif source is None:
            source = read_source(path) if path else ""
        cache = None
        if path and result_cache and settings.cache:
            from .analysis.cache import ResultCache
            from .analysis.project import project_for

            try:
                cache = ResultCache.for_project(project_for(path, settings))
            except Exception:  # noqa: BLE001 - a broken cache is only a slower run
                cache = None
        hit = cache.get(path, source) if cache is not None and path else None
        widened: list[str] = []
        if hit is not None:
            diags, widened = hit
        else:
            if tree is None and source.strip():
                tree = parse(source, path)
            diags = lint_source(source, path, settings, tree, widened=widened)
            if cache is not None and path and not any(d.code == INTERNAL_ERROR for d in diags):
                cache.put(path, source, diags, widened=widened)
    except SourceSkipped as exc:
        return FileResult(shown, [], None, cells, notice=str(exc))
    except SourceError as exc:
        message = str(exc)
        if cells:
            from .notebooks import cell_message

            message = cell_message(message, cells)
        return FileResult(shown, [], message, cells)
    except Exception as exc:  # noqa: BLE001 - a file never takes the run (or the host) down
        return FileResult(shown, [], f"internal error: {type(exc).__name__}: {exc}", cells)
    if noqa:
        diags = noqa_filter(diags, source)
    if select:
        enabled = settings.enabled_codes(path)
        diags = [d for d in diags if d.code in enabled]
    if cells:  # "seeded at line 12" of the joined cells reads "at cell 3, line 2" in a notebook
        from .notebooks import cell_message

        diags = [Diagnostic(d.line, d.col, d.code, cell_message(d.message, cells), d.path, d.fix) for d in diags]
    diags = sorted(d.with_path(shown) for d in diags)
    return FileResult(shown, diags, None, cells, source if keep_source else None, widened=widened, notice=notice)
