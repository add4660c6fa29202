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
SCHEMA = "7"  # bump when the shape of cached facts changes


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
            return [Diagnostic(d[0], d[1], d[2], d[3]) for d in entry["diags"]]
        except (KeyError, TypeError, IndexError, ValueError):
            return None

    def put(self, path: str, source: str, diags, deps: dict | None = None) -> None:
        deps = dict(deps if deps is not None else getattr(self.project, "last_deps", {}))
        deps.pop(os.path.abspath(path), None)
        value = {"diags": [[d.line, d.col, d.code, d.message] for d in diags], "deps": deps}
        self.project.cache.put_json("results", self._key(path, source), value)
