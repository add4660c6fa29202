"""Walking the paths a user names and linting them, in parallel and through the result cache.

A folder is walked like ruff walks one: files git would ignore are skipped (``git ls-files`` inside
a work tree; outside one, the ``.gitignore`` files found in the tree are read by a small matcher of
our own), so are the usual tool folders (``.venv``, ``__pycache__``, ``.ipynb_checkpoints``, ...) and
whatever the governing configuration's ``exclude`` names. A file named explicitly is always linted,
unless ``--force-exclude`` asks to apply ``exclude`` to it too (what the pre-commit hook does).
"""
from __future__ import annotations

import errno
import glob
import itertools
import os
import stat
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Iterable, TextIO

from ._io import file_kind, is_regular_file, read_regular
from .config import Settings, SettingsResolver
from .pipeline import FileResult, lint_document

PY_SUFFIXES = (".py", ".pyi", ".ipynb")
# ruff's default exclusions, plus our cache and build/ (a copy of the package that would report twice)
SKIP_DIRS = frozenset({
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache", ".nox",
    ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv", ".vscode",
    ".torchlint_cache", "__pypackages__", "__pycache__", "_build", "buck-out", "build", "dist",
    "node_modules", "site-packages", "venv",
})
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


def collect_files(paths: Iterable[str], settings: Settings | SettingsResolver,
                  force_exclude: bool | None = None) -> tuple[list[str], list[str]]:
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
    listed = _git_files(top)
    if listed is None:
        listed = _plain_files(top)
    out = []
    verdicts: dict[str, bool] = {}  # relative folder -> excluded (itself or a parent)

    def dir_excluded(rel_dir: str) -> bool:
        if not rel_dir:
            return False
        if rel_dir not in verdicts:
            parent, name = os.path.split(rel_dir)
            path = os.path.join(top, rel_dir)
            verdicts[rel_dir] = (
                dir_excluded(parent)
                or name in SKIP_DIRS
                or resolver.for_dir(os.path.join(top, parent)).excludes_entry(path)
            )
        return verdicts[rel_dir]

    for rel in listed:
        if not rel.endswith(PY_SUFFIXES):
            continue
        rel_dir = os.path.dirname(rel)
        if dir_excluded(rel_dir):
            continue
        path = os.path.normpath(os.path.join(top, rel))
        if resolver.for_dir(os.path.join(top, rel_dir)).excludes_entry(path):
            continue
        if not is_regular_file(path):
            continue  # a FIFO, a device, a dangling link found while walking: not a source file
        out.append(path)
    return sorted(out)


def _git_files(top: str) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files under ``top`` (relative to it), when it is inside a
    git work tree and not itself ignored; None otherwise (then the plain walk reads .gitignore)."""
    if shutil.which("git") is None:
        return None
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=top, capture_output=True, timeout=60,
        )
        if proc.returncode != 0:
            return None
        rels = [p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p]
        if not rels:
            # an ignored folder named explicitly lists nothing: walk it as a plain folder instead
            ignored = subprocess.run(["git", "check-ignore", "-q", "."], cwd=top, capture_output=True, timeout=30)
            if ignored.returncode == 0:
                return None
    except (OSError, subprocess.SubprocessError):
        return None
    # deleted-but-tracked files and submodules (gitlinks) are listed too: keep real files
    return [os.path.normpath(r) for r in dict.fromkeys(rels) if os.path.isfile(os.path.join(top, r))]


def _plain_files(top: str) -> list[str]:
    """Every file under ``top`` (relative to it) that the .gitignore files around it do not ignore."""
    ignores = GitIgnore.for_tree(top)
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        rel_dir = os.path.relpath(dirpath, top)
        rel_dir = "" if rel_dir == "." else rel_dir
        ignores.read(dirpath, rel_dir)
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in SKIP_DIRS and not ignores.ignored(os.path.join(rel_dir, d), is_dir=True)
        )
        for name in sorted(filenames):
            rel = os.path.join(rel_dir, name)
            if not ignores.ignored(rel, is_dir=False):
                out.append(os.path.normpath(rel))
    return out


class GitIgnore:
    """Just enough of gitignore for trees outside a git work tree: ``#`` comments, ``!`` negation,
    a trailing ``/`` for folders only, a slash inside a pattern anchors it to its .gitignore's folder,
    ``*``, ``?``, ``[...]`` and ``**``. The last matching pattern wins, as in git."""

    def __init__(self, prefix: str = "") -> None:
        # paths are matched as seen from the outermost folder whose .gitignore counts; ``prefix`` is
        # the walk root's path from there
        self.prefix = prefix
        self.rules: list[tuple[str, re.Pattern, bool, bool]] = []  # (base folder, regex, negated, dir only)

    @classmethod
    def for_tree(cls, top: str) -> "GitIgnore":
        """The .gitignore files of the walk root's parents count up to a repository root (a folder
        with a ``.git`` entry); without one, only those inside the walked tree do."""
        top_abs = os.path.abspath(top)
        parents = []
        cur = top_abs
        while not os.path.exists(os.path.join(cur, ".git")):
            parent = os.path.dirname(cur)
            if parent == cur:
                return cls()
            parents.append(parent)
            cur = parent
        ig = cls(os.path.relpath(top_abs, cur).replace(os.sep, "/") if cur != top_abs else "")
        for d in reversed(parents):
            ig._load(d, os.path.relpath(d, cur))
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
        try:
            with open(os.path.join(dirpath, ".gitignore"), encoding="utf-8", errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError:
            return
        base = "" if base in ("", ".") else base.replace(os.sep, "/")
        for line in lines:
            line = line.rstrip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            if negated:
                line = line[1:]
            dir_only = line.endswith("/")
            line = line.rstrip("/")
            anchored = "/" in line
            line = line.lstrip("/")
            if line:
                regex = re.compile(("" if anchored else "(?:.*/)?") + _glob_regex(line) + "$")
                self.rules.append((base, regex, negated, dir_only))

    def ignored(self, rel: str, is_dir: bool) -> bool:
        """Whether the file or folder at ``rel`` (from the walk root) is ignored."""
        full = self._full(rel)
        verdict = False
        for base, regex, negated, dir_only in self.rules:
            if dir_only and not is_dir:
                continue
            if base:
                if not full.startswith(base + "/"):
                    continue
                sub = full[len(base) + 1:]
            else:
                sub = full
            if regex.match(sub):
                verdict = not negated
        return verdict


def _glob_regex(pattern: str) -> str:
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("/.*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            j = pattern.find("]", i + 1)
            if j == -1:
                out.append(re.escape(c))
                i += 1
            else:
                cls = pattern[i + 1:j]
                if cls.startswith("!"):
                    cls = "^" + cls[1:]
                out.append("[" + cls.replace("\\", "\\\\") + "]")
                i = j + 1
        elif c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


# ------------------------------------------------------------------------------ linting
def lint_one(path: str, settings: Settings) -> FileResult:
    """One file of a run: :func:`pipeline.lint_document` with the file's settings."""
    return lint_document(path, settings)


def _lint_star(args):
    return lint_one(*args)


def lint_many(files: list[str], settings: Settings, jobs: int = 1, progress: bool = False) -> list[FileResult]:
    """Lint ``files`` with one Settings (see :func:`lint_files` for a Settings per file)."""
    return lint_files([(f, settings) for f in files], jobs=jobs, progress=progress)


def lint_files(work: list[tuple[str, Settings]], jobs: int = 1, progress: bool | TextIO = False) -> list[FileResult]:
    """Lint every (file, settings) pair, in ``jobs`` processes; results in the order given.

    ``progress``: True for a bar on stderr, or a stream; it appears only once the run has taken
    :data:`Progress.DELAY` seconds, so short runs print nothing.
    """
    bar = Progress(len(work), progress, weights=_line_counts([f for f, _ in work]) if progress else None)
    results: list[FileResult] = []
    try:
        if jobs > 1 and len(work) >= 8:
            chunk = max(1, min(16, len(work) // (jobs * 8)))
            try:
                with ProcessPoolExecutor(max_workers=min(jobs, len(work))) as pool:
                    for r in pool.map(_lint_star, work, chunksize=chunk):
                        results.append(r)
                        bar.update(len(results))
            except BrokenProcessPool:  # a worker died (killed, out of memory): finish in this process
                pass
        for item in work[len(results):]:
            results.append(lint_one(*item))
            bar.update(len(results))
    finally:
        bar.close()
    return results


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

    def __init__(self, total: int, stream: bool | TextIO = False, clock=time.monotonic,
                 weights: list[int] | None = None) -> None:
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
        self.stream.write(f"\r\033[K[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} files "
                          f"({elapsed:.0f}s{eta})")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown and self.stream is not None:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False
