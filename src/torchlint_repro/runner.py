"""Walking the paths a user names and linting them, in parallel and through the result cache."""
from __future__ import annotations

import glob
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .config import Settings
from .diagnostics import Diagnostic

PY_SUFFIXES = (".py", ".pyi", ".ipynb")
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", ".tox", ".nox", "node_modules",
              ".mypy_cache", ".pytest_cache", ".ruff_cache", ".torchlint_cache", "build", "dist", ".eggs"}


@dataclass
class FileResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: str | None = None
    # for notebooks: concatenated-source line -> (cell number, line in cell), both 1-based
    cells: list[tuple[int, int]] | None = None


def collect_files(paths, settings: Settings) -> tuple[list[str], list[str]]:
    """Files to lint (sorted, unique) and the paths that matched nothing."""
    files: dict[str, None] = {}
    missing: list[str] = []
    for raw in paths:
        matches = [raw] if os.path.exists(raw) else sorted(glob.glob(raw, recursive=True))
        if not matches:
            missing.append(raw)
            continue
        for m in matches:
            if os.path.isdir(m):
                for f in _walk(m, settings):
                    files[f] = None
            elif os.path.isfile(m):
                # a file named explicitly is linted even if excluded, like ruff without --force-exclude
                files[os.path.normpath(m)] = None
    return list(files), missing


def _walk(top: str, settings: Settings) -> list[str]:
    listed = _git_files(top)
    if listed is not None:
        out = [f for f in listed if f.endswith(PY_SUFFIXES) and not settings.is_excluded(f)]
        return sorted(out)
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in _SKIP_DIRS and not d.startswith(".") and not settings.is_excluded(os.path.join(dirpath, d))
        )
        for name in sorted(filenames):
            if name.endswith(PY_SUFFIXES):
                path = os.path.normpath(os.path.join(dirpath, name))
                if not settings.is_excluded(path):
                    out.append(path)
    return out


def _git_files(top: str) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files under ``top``, when it is inside a git work tree."""
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=top, capture_output=True, timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    rels = [p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p]
    return [os.path.normpath(os.path.join(top, r)) for r in rels if os.path.isfile(os.path.join(top, r))]


def lint_one(path: str, settings: Settings) -> FileResult:
    from .engine import SourceError, lint_source, noqa_filter, parse, read_source
    from .analysis.cache import ResultCache

    cells = None
    try:
        if path.endswith(".ipynb"):
            from .notebooks import notebook_source

            source, cells = notebook_source(path)
        else:
            source = read_source(path)
        cache = ResultCache.for_path(path, settings)
        diags = cache.get(path, source) if cache else None
        if diags is None:
            tree = parse(source, path) if source.strip() else None
            diags = lint_source(source, path, settings, tree)
            if cache and not any(d.code == "TRP900" for d in diags):
                cache.put(path, source, diags)
    except SourceError as exc:
        return FileResult(path, [], str(exc), cells)
    except Exception as exc:  # noqa: BLE001 - a file never takes the run down
        return FileResult(path, [], f"internal error: {type(exc).__name__}: {exc}", cells)
    enabled = settings.enabled_codes(path)
    diags = [d.with_path(path) for d in noqa_filter(diags, source) if d.code in enabled]
    return FileResult(path, sorted(diags), None, cells)


def _lint_star(args):
    return lint_one(*args)


def lint_many(files: list[str], settings: Settings, jobs: int = 1, progress: bool = False) -> list[FileResult]:
    start = time.monotonic()
    results: list[FileResult] = []
    if jobs <= 1 or len(files) < 8:
        for i, f in enumerate(files):
            results.append(lint_one(f, settings))
            _progress(progress, i + 1, len(files), start)
    else:
        chunk = max(1, len(files) // (jobs * 8))
        with ProcessPoolExecutor(max_workers=min(jobs, len(files))) as pool:
            for i, r in enumerate(pool.map(_lint_star, [(f, settings) for f in files], chunksize=chunk)):
                results.append(r)
                _progress(progress, i + 1, len(files), start)
    if progress and time.monotonic() - start > 2:
        sys.stderr.write("\r\033[K")
    return results


def _progress(enabled: bool, done: int, total: int, start: float) -> None:
    # only for runs long enough to need it, and only on a terminal
    if not enabled or time.monotonic() - start < 2 or total < 2:
        return
    width = 30
    filled = int(width * done / total)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} files")
    sys.stderr.flush()
