"""The on-disk cache: per-module facts and per-file results, keyed by content hash.

Lives in ``<project root>/.torchlint_cache/`` (a ``.gitignore`` of ``*`` inside, like ruff's), or in
``$TORCHLINT_CACHE_DIR``. Writes are atomic (a temporary file, then ``os.replace``), so flake8's
parallel jobs never see half an entry; an unreadable or corrupt entry is ignored and rebuilt.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .. import __version__
from .._io import atomic_write

ENV_VAR = "TORCHLINT_CACHE_DIR"
SCHEMA = "8"  # bump when the shape of cached facts changes


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DiskCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._ready = False

    @classmethod
    def for_root(cls, root: Path, settings) -> "DiskCache":
        override = os.environ.get(ENV_VAR) or settings.cache_dir
        if override:
            base = Path(override)
            if not base.is_absolute() and settings.cache_dir and not os.environ.get(ENV_VAR):
                base = Path(root) / base
            # one cache folder can serve several projects: keep them apart
            directory = base / hashlib.sha256(str(root).encode()).hexdigest()[:16]
        else:
            directory = Path(root) / ".torchlint_cache"
        return cls(directory)

    def _prepare(self) -> bool:
        if self._ready:
            return True
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            top = self.directory
            if top.name != ".torchlint_cache":
                top = top.parent
            ignore = top / ".gitignore"
            if not ignore.exists():
                atomic_write(ignore, b"# Automatically created by torchlint-repro.\n*\n")
            self._ready = True
        except OSError:
            return False
        return True

    def _path(self, kind: str, key: str) -> Path:
        digest = hashlib.sha256(f"{__version__}\0{SCHEMA}\0{kind}\0{key}".encode()).hexdigest()
        return self.directory / kind / digest[:2] / f"{digest}.json"

    # what an entry of each kind must hold; anything else (a stale schema, a foreign file) is rebuilt
    REQUIRED = {
        "facts": ("module", "is_package", "imports", "classes", "functions", "constants", "argparse",
                  "mentions_torch"),
        "results": ("diags", "deps"),
        "saves": ("sites", "deps"),
    }

    def get_json(self, kind: str, key: str):
        path = self._path(kind, key)
        try:
            with open(path, "rb") as fh:
                data = json.loads(fh.read())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, UnicodeDecodeError):
            # corrupt or half-written by a crashed process: drop it, the caller rebuilds
            try:
                path.unlink()
            except OSError:
                pass
            return None
        if not isinstance(data, dict) or data.get("version") != __version__:
            return None
        value = data.get("value")
        if not isinstance(value, dict) or any(k not in value for k in self.REQUIRED.get(kind, ())):
            return None
        return value

    def put_json(self, kind: str, key: str, value) -> None:
        if not self._prepare():
            return
        path = self._path(kind, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps({"version": __version__, "value": value}).encode())
        except (OSError, TypeError, ValueError):
            pass  # a cache that cannot be written is only a slower run


class ResultCache:
    """Per-file diagnostics, valid while the file, the settings, the tool and every dependency are."""

    def __init__(self, project) -> None:
        self.project = project

    @classmethod
    def for_path(cls, path: str, settings) -> "ResultCache | None":
        if not settings.cache:
            return None
        from .project import project_for

        project = project_for(path, settings)
        if project is None or project.cache is None:
            return None
        return cls(project)

    def _key(self, path: str, source: str) -> str:
        digest = file_digest(source.encode("utf-8", "surrogatepass"))
        return f"{os.path.abspath(path)}\0{digest}\0{self.project.settings.fingerprint()}"

    def get(self, path: str, source: str):
        from ..diagnostics import Diagnostic

        entry = self.project.cache.get_json("results", self._key(path, source))
        if entry is None:
            return None
        try:
            if not self.project.deps_valid(entry["deps"]):
                return None
            return [_diagnostic_from_json(d) for d in entry["diags"]]
        except (KeyError, TypeError, IndexError, ValueError):
            return None

    def put(self, path: str, source: str, diags, deps: dict | None = None) -> None:
        deps = dict(deps if deps is not None else getattr(self.project, "last_deps", {}))
        deps.pop(os.path.abspath(path), None)
        value = {"diags": [_diagnostic_to_json(d) for d in diags], "deps": deps}
        self.project.cache.put_json("results", self._key(path, source), value)


def _diagnostic_to_json(d) -> list:
    fix = None if d.fix is None else [d.fix.title, [[e.line, e.col, e.end_line, e.end_col, e.text] for e in d.fix.edits]]
    return [d.line, d.col, d.code, d.message, fix]


def _diagnostic_from_json(row):
    """The inverse of :func:`_diagnostic_to_json`; raises ValueError on anything of another shape."""
    from ..diagnostics import Diagnostic, Edit, Fix

    if not isinstance(row, list) or len(row) != 5:
        raise ValueError("diagnostic row")
    line, col, code, message, fix = row
    if not (type(line) is int and type(col) is int and isinstance(code, str) and isinstance(message, str)):
        raise ValueError("diagnostic fields")
    out_fix = None
    if fix is not None:
        if not (isinstance(fix, list) and len(fix) == 2 and isinstance(fix[0], str) and isinstance(fix[1], list)):
            raise ValueError("fix")
        edits = []
        for e in fix[1]:
            if not (isinstance(e, list) and len(e) == 5 and all(type(x) is int for x in e[:4])
                    and isinstance(e[4], str)):
                raise ValueError("edit")
            edits.append(Edit(*e))
        out_fix = Fix(fix[0], tuple(edits))
    return Diagnostic(line, col, code, message, "", out_fix)
