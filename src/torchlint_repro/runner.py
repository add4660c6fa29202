"""Walking the paths a user names and linting them, in parallel and through the result cache.

A folder is walked like ruff walks one: files git would ignore are skipped (the ``.gitignore`` files
and ``.git/info/exclude`` are read with ``pathspec``; git itself is never run, see :class:`GitIgnore`),
so are the usual tool folders (``.venv``, ``__pycache__``, ``.ipynb_checkpoints``, ...) and whatever the
governing configuration's ``exclude`` names. Only regular files are linted. A file named explicitly is
always linted, unless ``--force-exclude`` asks to apply ``exclude`` to it too (what the pre-commit hook
does).
"""

from __future__ import annotations

import contextlib
import errno
import glob
import itertools
import os
import stat
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, TextIO

from ._io import file_kind, is_regular_file, read_regular
from .analysis.cache import run_scratch
from .config import Settings, SettingsResolver
from .pipeline import FileResult, lint_document

if TYPE_CHECKING:
    import pathspec

PY_SUFFIXES = (".py", ".pyi", ".ipynb")
# ruff's default exclusions, plus our cache and build/ (a copy of the package that would report twice)
SKIP_DIRS = frozenset(
    {
        ".bzr",
        ".direnv",
        ".eggs",
        ".git",
        ".git-rewrite",
        ".hg",
        ".ipynb_checkpoints",
        ".mypy_cache",
        ".nox",
        ".pants.d",
        ".pyenv",
        ".pytest_cache",
        ".pytype",
        ".ruff_cache",
        ".svn",
        ".tox",
        ".venv",
        ".vscode",
        ".torchlint_cache",
        "__pypackages__",
        "__pycache__",
        "_build",
        "buck-out",
        "build",
        "dist",
        "node_modules",
        "site-packages",
        "venv",
    }
)
_SKIP_DIRS = SKIP_DIRS  # the name earlier versions exported


class _FixedResolver:
    """One Settings for every path (what a caller passing a plain Settings gets)."""

    def __init__(self, settings: Settings, force_exclude: bool = False) -> None:
        self.settings = settings
        self.force_exclude = force_exclude

    def for_dir(self, directory) -> Settings:
        return self.settings

    def for_path(self, path) -> Settings:
        return self.settings


def collect_files(
    paths: Iterable[str], settings: Settings | SettingsResolver, force_exclude: bool | None = None
) -> tuple[list[str], list[str]]:
    """Files to lint (sorted, unique) and the paths that cannot be linted: missing, a dangling link, a
    link loop, a FIFO or a device (:func:`path_problem` says which, for the error message).

    ``settings`` is one Settings for all files or a :class:`SettingsResolver` (the nearest
    configuration of every folder); the resolver may raise ConfigError for a broken configuration.
    """
    resolver = settings if not isinstance(settings, Settings) else _FixedResolver(settings)
    if force_exclude is None:
        force_exclude = getattr(resolver, "force_exclude", False)
    files: dict[str, None] = {}
    missing: list[str] = []
    for raw in paths:
        matches = [raw] if os.path.lexists(raw) else sorted(glob.glob(raw, recursive=True))
        if not matches:
            missing.append(raw)
            continue
        for m in matches:
            if force_exclude and resolver.for_path(m).is_excluded(m):
                continue
            if os.path.isdir(m):
                for f in _walk(m, resolver):
                    files.setdefault(f, None)
            elif is_regular_file(m):
                # a file named explicitly is linted whatever its suffix, and even if excluded (like ruff
                # without --force-exclude)
                files.setdefault(os.path.normpath(m), None)
            else:  # a dangling link, a link loop, a FIFO, a device: reported, never opened
                missing.append(m)
    return sorted(files), missing


def path_problem(path: str) -> str:
    """Why a path named on the command line cannot be linted, in words."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if os.path.islink(path):
            return "symbolic link loop" if exc.errno == errno.ELOOP else "dangling symbolic link"
        return "no such file or directory" if exc.errno == errno.ENOENT else (exc.strerror or str(exc)).lower()
    if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
        return "no such file or directory"  # gone since it was looked at
    return f"not a regular file or folder ({file_kind(st.st_mode)})"


def _walk(top: str, resolver) -> list[str]:
    """The lintable files under ``top``: what git would not ignore, the tool folders and what the
    configuration excludes left out, regular files only."""
    ignores = GitIgnore.for_tree(top)
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        rel_dir = os.path.relpath(dirpath, top)
        rel_dir = "" if rel_dir == "." else rel_dir
        ignores.read(dirpath, rel_dir)
        settings = resolver.for_dir(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS
            and not ignores.ignored(os.path.join(rel_dir, d), is_dir=True)
            and not settings.excludes_entry(os.path.normpath(os.path.join(dirpath, d)))
        )
        for name in sorted(filenames):
            if not name.endswith(PY_SUFFIXES):
                continue
            rel = os.path.join(rel_dir, name)
            path = os.path.normpath(os.path.join(top, rel))
            if ignores.ignored(rel, is_dir=False) or settings.excludes_entry(path):
                continue
            if not is_regular_file(path):
                continue  # a FIFO, a device, a dangling link found while walking: not a source file
            out.append(path)
    return sorted(out)


class GitIgnore:
    """What git would ignore, read from the ``.gitignore`` files and ``.git/info/exclude`` themselves.

    git is never run: a repository's ``.git/config`` can name commands (``core.fsmonitor``, hooks, filters)
    that any git command may run, and a linted repository is not trusted. The patterns are matched by
    ``pathspec`` (git's wildmatch rules: ``!`` negation, a trailing ``/`` for folders only, a slash inside
    a pattern anchoring it to its file's folder, ``*``, ``?``, ``[...]``, ``**``). Within one file the last
    matching pattern wins; a deeper ``.gitignore`` wins over the ones above it, and those over
    ``.git/info/exclude``, as in git. A folder git ignores is not walked, so nothing inside it comes back.
    Not read: the user's global excludes file (``core.excludesFile``), which only git's configuration names.
    """

    def __init__(self, prefix: str = "") -> None:
        # paths are matched as seen from the repository root (or the walk root outside a repository);
        # ``prefix`` is the walk root's path from there
        self.prefix = prefix
        self.specs: dict[str, pathspec.GitIgnoreSpec] = {}  # base folder (from the repository root) -> its patterns
        self.exclude: pathspec.GitIgnoreSpec | None = None  # .git/info/exclude

    @classmethod
    def for_tree(cls, top: str) -> GitIgnore:
        """The .gitignore files of the walk root's parents count up to a repository root (a folder
        with a ``.git`` entry); without one, only those inside the walked tree do."""
        top_abs = os.path.abspath(top)
        parents = []
        cur = top_abs
        while not os.path.lexists(os.path.join(cur, ".git")):
            parent = os.path.dirname(cur)
            if parent == cur:
                return cls()
            parents.append(parent)
            cur = parent
        ig = cls(os.path.relpath(top_abs, cur).replace(os.sep, "/") if cur != top_abs else "")
        ig.exclude = _read_patterns(os.path.join(cur, ".git", "info", "exclude"))
        for d in reversed(parents):
            ig._load(d, os.path.relpath(d, cur))
        if ig.prefix:
            # a folder git ignores, named explicitly, is walked all the same: as a plain folder, with the
            # .gitignore files inside it only
            parts = ig.prefix.split("/")
            saved, ig.prefix = ig.prefix, ""
            if any(ig.ignored("/".join(parts[:i]), is_dir=True) for i in range(1, len(parts) + 1)):
                return cls(saved)
            ig.prefix = saved
        return ig

    def read(self, dirpath: str, rel_dir: str) -> None:
        """Add the rules of ``dirpath/.gitignore`` (``rel_dir``: its path from the walk root)."""
        self._load(dirpath, self._full(rel_dir))

    def _full(self, rel: str) -> str:
        rel = rel.replace(os.sep, "/")
        if rel in ("", "."):
            return self.prefix
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def _load(self, dirpath: str, base: str) -> None:
        spec = _read_patterns(os.path.join(dirpath, ".gitignore"))
        if spec is not None:
            self.specs["" if base in ("", ".") else base.replace(os.sep, "/")] = spec

    def ignored(self, rel: str, is_dir: bool) -> bool:
        """Whether the file or folder at ``rel`` (from the walk root) is ignored."""
        full = self._full(rel)
        suffix = "/" if is_dir else ""
        base = full
        while True:  # the deepest .gitignore with a matching pattern decides
            parent = base.rpartition("/")[0] if "/" in base else ("" if base else None)
            if parent is None:
                break
            base = parent
            spec = self.specs.get(base)
            if spec is not None:
                verdict = spec.check_file(full[len(base) + 1 :] + suffix if base else full + suffix).include
                if verdict is not None:
                    return verdict
        if self.exclude is not None:
            verdict = self.exclude.check_file(full + suffix).include
            if verdict is not None:
                return verdict
        return False


def _read_patterns(path: str) -> pathspec.GitIgnoreSpec | None:
    """The patterns of one gitignore-style file, or None when there is none to read."""
    import pathspec

    try:
        data = read_regular(path, limit=1_000_000)
    except OSError:
        return None
    lines = data.decode("utf-8", "replace").splitlines()
    if not any(ln.strip() and not ln.startswith("#") for ln in lines):
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


# ------------------------------------------------------------------------------ linting
def lint_one(path: str, settings: Settings) -> FileResult:
    """One file of a run: :func:`pipeline.lint_document` with the file's settings."""
    return lint_document(path, settings)


def _lint_star(args):
    return lint_one(*args)


def lint_files(work: list[tuple[str, Settings]], jobs: int = 1, progress: bool | TextIO = False) -> list[FileResult]:
    """Lint every (file, settings) pair, in ``jobs`` processes; results in the order given.

    ``progress``: True for a bar on stderr, or a stream; it appears only once the run has taken
    :data:`Progress.DELAY` seconds, so short runs print nothing.
    """
    bar = Progress(len(work), progress, weights=_line_counts([f for f, _ in work]) if progress else None)
    results: list[FileResult] = []
    parallel = jobs > 1 and len(work) >= 8
    # workers share the project's work (facts, programs' walks, checkpoint saves) through the cache; a
    # run without the cache gives them a private one that goes with the run
    scratch = run_scratch() if parallel and not all(s.cache for _, s in work) else contextlib.nullcontext()
    try:
        with scratch:
            _lint_into(results, work, jobs if parallel else 1, bar)
    finally:
        bar.close()
    return results


def _lint_into(results: list[FileResult], work: list[tuple[str, Settings]], jobs: int, bar: Progress) -> None:
    if jobs > 1:
        chunk = max(1, min(16, len(work) // (jobs * 8)))
        try:
            with ProcessPoolExecutor(max_workers=min(jobs, len(work))) as pool:
                for r in pool.map(_lint_star, work, chunksize=chunk):
                    results.append(r)
                    bar.update(len(results))
        except BrokenProcessPool:  # a worker died (killed, out of memory): finish in this process
            pass
    for item in work[len(results) :]:
        results.append(lint_one(*item))
        bar.update(len(results))


def _line_counts(paths: list[str]) -> list[int]:
    """Each file's line count (at least 1): the work a file costs is about its length, not 1."""
    out = []
    for path in paths:
        try:
            out.append(read_regular(path).count(b"\n") + 1)  # never blocks on a file swapped for a FIFO
        except OSError:
            out.append(1)
    return out


class Progress:
    """A one-line progress bar on a terminal, shown only for runs longer than ``DELAY`` seconds.

    The bar counts files; the time left is estimated from the lines done (``weights``: each file's
    line count, in the order results arrive), since a 5,000-line module costs a hundred small ones.
    """

    DELAY = 2.0
    INTERVAL = 0.1

    def __init__(
        self, total: int, stream: bool | TextIO = False, clock=time.monotonic, weights: list[int] | None = None
    ) -> None:
        self.total = total
        self.stream: TextIO | None = sys.stderr if stream is True else (stream or None)
        self.clock = clock
        self.start = clock()
        self.last = -1.0
        self.shown = False
        self.weights = weights if weights is not None and len(weights) == total else None
        self._cumulative = list(itertools.accumulate(self.weights)) if self.weights else None

    def update(self, done: int) -> None:
        if self.stream is None or self.total < 2:
            return
        now = self.clock()
        elapsed = now - self.start
        if elapsed < self.DELAY or (now - self.last < self.INTERVAL and done < self.total):
            return
        self.last = now
        width = 30
        filled = int(width * done / self.total)
        if self._cumulative:
            work_done, work_total = (self._cumulative[done - 1] if done else 0), self._cumulative[-1]
        else:
            work_done, work_total = done, self.total
        rate = work_done / elapsed if elapsed > 0 else 0.0
        eta = f", ~{(work_total - work_done) / rate:.0f}s left" if rate > 0 and done < self.total else ""
        self.stream.write(
            f"\r\033[K[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} files ({elapsed:.0f}s{eta})"
        )
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown and self.stream is not None:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False
