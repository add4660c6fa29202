"""One frozen :class:`Settings`, built from ``[tool.torchlint-repro]`` or from flake8's options.

Keys are kebab-case in pyproject.toml and ``--trp-<key>`` in flake8; values of the name options are
fully-qualified names (``mypkg.utils.seed_all``), matched against what the analysis resolves.

Configuration is found like ruff finds its own: every file uses the nearest ``pyproject.toml`` above
it that has a ``[tool.torchlint-repro]`` table (a :class:`SettingsResolver` caches the lookups), or
the one file given with ``--config``. Path patterns (``exclude``, ``per-file-ignores``) are read
relative to the folder of the pyproject.toml that defines them.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    tomllib = None  # type: ignore[assignment]

DEFAULT_INFERENCE_FUNCTIONS = (
    "evaluate",
    "evaluate_*",
    "*_evaluate",
    "eval",
    "eval_*",
    "validate",
    "validate_*",
    "validation",
    "validation_*",
    "val",
    "val_*",
    "test",
    "test_*",
    "predict",
    "predict_*",
    "infer",
    "infer_*",
    "inference",
    "inference_*",
    "run_inference",
    "generate",
    "generate_*",
)


class ConfigError(ValueError):
    """A configuration the user must fix: unknown key, unknown code, wrong type."""


@dataclass(frozen=True)
class Settings:
    # the configuration file's selection
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    seed_functions: tuple[str, ...] = ()
    inference_functions: tuple[str, ...] = DEFAULT_INFERENCE_FUNCTIONS
    # folders (relative to the configuration's folder) the project's code imports from, as PYTHONPATH would
    # add them (ruff's `src`): `from encoder import Encoder` run with `PYTHONPATH=src/transformer`
    source_roots: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    cache: bool = True
    cache_dir: str | None = None
    # the seed the TRP101/TRP103 fix writes: `torch.manual_seed(fix_seed)`
    fix_seed: int = 0
    root: str | None = field(default=None, compare=False)
    # the project root of a file with no pyproject.toml / setup.cfg / setup.py / .git above it: `check`
    # sets the common folder of the paths it was given, so that one run is one project with one cache
    project_root: str | None = field(default=None, compare=False)
    # the command line's selection, applied on top of the file's (ruff's layering): `--select` replaces
    # the configured set, `--extend-select` adds to it and `--ignore` removes from it
    cli_select: tuple[str, ...] = ()
    cli_ignore: tuple[str, ...] = ()
    cli_extend_select: tuple[str, ...] = ()

    # ---------------------------------------------------------------- selection
    def enabled_codes(self, path: str | None = None) -> frozenset[str]:
        from .rules import ALL_RULES

        codes = [r.code for r in ALL_RULES]
        on = {r.code for r in ALL_RULES if r.default_enabled}
        on = _layer(codes, on, self.select, self.extend_select, self.ignore)
        on = _layer(codes, on, self.cli_select, self.cli_extend_select, self.cli_ignore)
        if path is not None and self.per_file_ignores:
            parts = _rel_parts(path, self.root)
            for pattern, ignored in self.per_file_ignores:
                if _matches_path(parts, pattern, prefixes=True):
                    on -= {c for c in codes if _matches_any(c, ignored)}
        return frozenset(on)

    # ---------------------------------------------------------------- exclusion
    def excludes_entry(self, path: str) -> bool:
        """Whether this file or folder itself is excluded (its parents are not looked at).

        A pattern without a slash (``legacy``, ``*_pb2.py``) matches the entry's name; a pattern with
        one (``bench/corpus``, ``src/gen/*.py``) matches its path relative to the configuration's folder.
        """
        if not self.exclude:
            return False
        parts = _rel_parts(path, self.root)
        return any(_matches_path(parts, p, prefixes=False) for p in self.exclude)

    def is_excluded(self, path: str) -> bool:
        """Whether the path or one of its parents inside the configuration's folder is excluded."""
        if not self.exclude:
            return False
        parts = _rel_parts(path, self.root)
        return any(_matches_path(parts, p, prefixes=True) for p in self.exclude)

    def fingerprint(self) -> str:
        """What the analysis result depends on, for cache keys (selection is applied after)."""
        return repr((self.seed_functions, self.inference_functions, self.source_root_paths()))

    def source_root_paths(self) -> tuple[str, ...]:
        """``source-roots`` as absolute folders (relative entries are read from the configuration's folder)."""
        if not self.source_roots:
            return ()
        base = self.root or os.getcwd()
        return tuple(os.path.normpath(os.path.join(base, r)) for r in self.source_roots)

    def with_root(self, root: str | None) -> Settings:
        return replace(self, root=root)


def _layer(codes, base: set[str], select, extend, ignore) -> set[str]:
    """One layer of selection: ruff/flake8 semantics, the more specific of select and ignore wins
    (a tie goes to ignore); codes named by neither keep their state from the layer below."""
    if not (select or extend or ignore):
        return set(base)
    out = set()
    chosen = select + extend
    for c in codes:
        best_sel = max((len(p) for p in chosen if c.startswith(p)), default=-1)
        best_ign = max((len(p) for p in ignore if c.startswith(p)), default=-1)
        if best_ign >= 0 and best_ign >= best_sel:
            continue
        if best_sel >= 0 or (not select and c in base):
            out.add(c)
    return out


def _matches_any(code: str, prefixes: tuple[str, ...]) -> bool:
    return any(code.startswith(p) for p in prefixes)


def _rel_parts(path: str, root: str | None) -> list[str]:
    """The path's components relative to ``root`` (or as given when it lies outside)."""
    p = os.path.normpath(os.path.abspath(path))
    if root:
        r = os.path.normpath(os.path.abspath(root))
        if p == r:
            return []
        if p.startswith(r.rstrip(os.sep) + os.sep):
            return p[len(r.rstrip(os.sep)) + 1 :].split(os.sep)
    rel = os.path.normpath(path).replace(os.sep, "/")
    return [x for x in rel.split("/") if x not in ("", ".", "..")]


def _norm_pattern(pattern: str) -> str:
    pattern = pattern.strip().replace(os.sep, "/")
    while pattern.startswith("./"):
        pattern = pattern[2:]
    return pattern.rstrip("/")


def _matches_path(parts: list[str], pattern: str, prefixes: bool) -> bool:
    """Match ``pattern`` (a glob; ``*`` crosses ``/`` as in flake8) against a relative path.

    Without a slash the pattern matches a single name: the last one, or with ``prefixes`` any of them.
    With a slash it matches the whole relative path, or with ``prefixes`` any leading part of it (so
    a folder pattern covers the files inside). A leading ``**/`` may match nothing.
    """
    pattern = _norm_pattern(pattern)
    if not pattern or not parts:
        return False
    alternatives = [pattern, pattern[3:]] if pattern.startswith("**/") else [pattern]
    names = parts if prefixes else parts[-1:]
    paths = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)] if prefixes else ["/".join(parts)]
    for alt in alternatives:
        candidates = names if "/" not in alt else paths
        if any(fnmatch.fnmatchcase(c, alt) for c in candidates):
            return True
    return False


# ------------------------------------------------------------------ pyproject
TABLE = "torchlint-repro"
_LIST_KEYS = {
    "select",
    "ignore",
    "extend-select",
    "seed-functions",
    "inference-functions",
    "exclude",
    "source-roots",
}
_KNOWN_KEYS = _LIST_KEYS | {"per-file-ignores", "cache", "cache-dir", "fix-seed"}
KNOWN_KEYS = frozenset(_KNOWN_KEYS)


def check_codes(values: tuple[str, ...], key: str) -> None:
    from .rules import ALL_RULES

    codes = [r.code for r in ALL_RULES]
    for v in values:
        if not v.startswith("TRP") or not any(c.startswith(v) for c in codes):
            raise ConfigError(f"unknown rule code or prefix {v!r} in {key!r} (see `torchlint-repro rules`)")


def _string_list(value, key: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: {key!r} must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def settings_from_mapping(data: dict, source: str = "pyproject.toml") -> Settings:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: [tool.{TABLE}] must be a table")
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(
            f"{source}: unknown key(s) in [tool.{TABLE}]: {', '.join(unknown)}; "
            f"known keys: {', '.join(sorted(_KNOWN_KEYS))}"
        )
    kwargs: dict = {}
    for key in _LIST_KEYS & set(data):
        values = _string_list(data[key], key, source)
        if key in ("select", "ignore", "extend-select"):
            values = tuple(v.upper() for v in values)
            check_codes(values, f"{source}: {key}")
        kwargs[key.replace("-", "_")] = values
    if "per-file-ignores" in data:
        pfi = data["per-file-ignores"]
        if not isinstance(pfi, dict):
            raise ConfigError(f"{source}: 'per-file-ignores' must be a table of pattern = [codes]")
        items = []
        for pattern, codes in pfi.items():
            codes = tuple(c.upper() for c in _string_list(codes, f"per-file-ignores.{pattern}", source))
            check_codes(codes, f"{source}: per-file-ignores.{pattern}")
            items.append((pattern, codes))
        kwargs["per_file_ignores"] = tuple(items)
    if "cache" in data:
        if not isinstance(data["cache"], bool):
            raise ConfigError(f"{source}: 'cache' must be true or false")
        kwargs["cache"] = data["cache"]
    if "cache-dir" in data:
        if not isinstance(data["cache-dir"], str):
            raise ConfigError(f"{source}: 'cache-dir' must be a string")
        kwargs["cache_dir"] = data["cache-dir"]
    if "fix-seed" in data:
        if isinstance(data["fix-seed"], bool) or not isinstance(data["fix-seed"], int) or data["fix-seed"] < 0:
            raise ConfigError(f"{source}: 'fix-seed' must be a non-negative integer")
        kwargs["fix_seed"] = data["fix-seed"]
    return Settings(**kwargs)


def find_pyproject(start: str | os.PathLike) -> Path | None:
    """The nearest pyproject.toml with a [tool.torchlint-repro] table, walking up like ruff."""
    try:
        p = Path(start).resolve()
    except (OSError, RuntimeError):  # a symbolic link loop: its folder is where to look
        p = Path(os.path.abspath(start))
    if p.is_file() or not p.is_dir():
        p = p.parent
    for d in (p, *p.parents):
        cand = d / "pyproject.toml"
        if _is_config(cand) and TABLE in _read_toml(cand).get("tool", {}):
            return cand
    return None


def _is_config(path: Path) -> bool:
    """Whether a pyproject.toml is there to read; one that is not a regular file (a FIFO would block the
    read forever) is an error, not a file to skip in silence."""
    if path.is_file():
        return True
    if path.exists() and not path.is_dir():
        from ._io import file_kind

        raise ConfigError(f"{path}: not a regular file ({file_kind(path.stat().st_mode)})")
    return False


def _read_toml(path: Path) -> dict:
    if tomllib is None:  # pragma: no cover
        return {}
    from ._io import read_regular

    try:
        data = read_regular(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot read TOML: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except (tomllib.TOMLDecodeError, RecursionError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read TOML: {exc}") from exc


def settings_from_file(path: str | os.PathLike) -> Settings:
    """The settings of one pyproject.toml (defaults when it has no [tool.torchlint-repro] table)."""
    path = Path(path)
    if not _is_config(path):
        raise ConfigError(f"{path}: no such configuration file")
    data = _read_toml(path).get("tool", {}).get(TABLE, {})
    root = path.resolve().parent
    settings = settings_from_mapping(data, str(path)).with_root(str(root))
    if settings.cache_dir:
        _check_cache_dir(settings.cache_dir, root, path)
    return settings


def _check_cache_dir(cache_dir: str, root: Path, source: Path) -> None:
    """A configuration file comes with the repository: its ``cache-dir`` must not send the cache (and so
    what the tool writes) outside the project. TORCHLINT_CACHE_DIR, which only the user sets, may."""
    target = Path(cache_dir)
    if not target.is_absolute():
        target = root / target
    try:
        resolved = target.resolve()
    except (OSError, RuntimeError):
        resolved = None
    if resolved is None or (resolved != root and root not in resolved.parents):
        raise ConfigError(
            f"{source}: 'cache-dir' must stay inside the project ({root}), not {cache_dir!r}; "
            f"set TORCHLINT_CACHE_DIR to share a cache on purpose"
        )


def load_settings(start: str | os.PathLike = ".", config: str | None = None) -> Settings:
    path = Path(config) if config else find_pyproject(start)
    if path is None:
        return Settings()
    return settings_from_file(path)


class SettingsResolver:
    """Settings for every folder of a run: the nearest configuration above it (cached), or the one
    file given with ``--config``; ``adjust`` applies the command line's options on top of each."""

    def __init__(
        self,
        config: str | None = None,
        adjust: Callable[[Settings], Settings] | None = None,
        force_exclude: bool = False,
    ) -> None:
        self.adjust = adjust or (lambda s: s)
        self.force_exclude = force_exclude
        self._fixed = self.adjust(settings_from_file(config)) if config else None
        self._by_config: dict[Path | None, Settings] = {}
        self._dir_config: dict[Path, Path | None] = {}

    def config_for_dir(self, directory: str | os.PathLike) -> Path | None:
        d = Path(os.path.abspath(directory))
        seen = []
        found: Path | None = None
        for cur in (d, *d.parents):
            if cur in self._dir_config:
                found = self._dir_config[cur]
                break
            seen.append(cur)
            cand = cur / "pyproject.toml"
            if _is_config(cand) and TABLE in _read_toml(cand).get("tool", {}):
                found = cand
                break
        for s in seen:
            self._dir_config[s] = found
        return found

    def for_dir(self, directory: str | os.PathLike) -> Settings:
        if self._fixed is not None:
            return self._fixed
        cfg = self.config_for_dir(directory)
        if cfg not in self._by_config:
            base = settings_from_file(cfg) if cfg is not None else Settings()
            self._by_config[cfg] = self.adjust(base)
        return self._by_config[cfg]

    def for_path(self, path: str | os.PathLike) -> Settings:
        """The settings of a file (its folder's) or of a folder."""
        return self.for_dir(path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path)))
