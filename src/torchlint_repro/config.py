"""One frozen :class:`Settings`, built from ``[tool.torchlint-repro]`` or from flake8's options.

Keys are kebab-case in pyproject.toml and ``--trp-<key>`` in flake8; values of the name options are
fully-qualified names (``mypkg.utils.seed_all``), matched against what the analysis resolves.
"""
from __future__ import annotations

import fnmatch
import os
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
)


class ConfigError(ValueError):
    """A configuration the user must fix: unknown key, unknown code, wrong type."""


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    seed_functions: tuple[str, ...] = ()
    inference_functions: tuple[str, ...] = DEFAULT_INFERENCE_FUNCTIONS
    exclude: tuple[str, ...] = ()
    cache: bool = True
    cache_dir: str | None = None
    root: str | None = field(default=None, compare=False)

    # ---------------------------------------------------------------- selection
    def enabled_codes(self, path: str | None = None) -> frozenset[str]:
        from .rules import ALL_RULES

        codes = {r.code for r in ALL_RULES}
        if self.select:
            on = {c for c in codes if _matches_any(c, self.select)}
        else:
            on = {r.code for r in ALL_RULES if r.default_enabled}
        on |= {c for c in codes if _matches_any(c, self.extend_select)}
        on -= {c for c in codes if _matches_any(c, self.ignore) and not _explicit(c, self.select + self.extend_select, self.ignore)}
        if path is not None and self.per_file_ignores:
            for pattern, ignored in self.per_file_ignores:
                if _path_matches(path, pattern, self.root):
                    on -= {c for c in codes if _matches_any(c, ignored)}
        return frozenset(on)

    def is_excluded(self, path: str) -> bool:
        return any(_path_matches(path, pattern, self.root) for pattern in self.exclude)

    def fingerprint(self) -> str:
        """What the analysis result depends on, for cache keys (selection is applied after)."""
        return repr((self.seed_functions, self.inference_functions))

    def with_root(self, root: str | None) -> "Settings":
        return replace(self, root=root)


def _matches_any(code: str, prefixes: tuple[str, ...]) -> bool:
    return any(code.startswith(p) for p in prefixes)


def _explicit(code: str, selected: tuple[str, ...], ignored: tuple[str, ...]) -> bool:
    """ruff/flake8 semantics: the more specific of select and ignore wins."""
    best_sel = max((len(p) for p in selected if code.startswith(p)), default=-1)
    best_ign = max((len(p) for p in ignored if code.startswith(p)), default=-1)
    return best_sel > best_ign


def _path_matches(path: str, pattern: str, root: str | None) -> bool:
    p = Path(path)
    candidates = {p.as_posix(), p.name}
    if root:
        try:
            candidates.add(p.resolve().relative_to(Path(root).resolve()).as_posix())
        except (ValueError, OSError):
            pass
    pattern = pattern.rstrip("/")
    for c in candidates:
        if fnmatch.fnmatch(c, pattern) or fnmatch.fnmatch(c, pattern + "/*") or c.startswith(pattern + "/"):
            return True
        parts = c.split("/")
        if any(fnmatch.fnmatch(part, pattern) for part in parts):
            return True
    return False


# ------------------------------------------------------------------ pyproject
_LIST_KEYS = {"select", "ignore", "extend-select", "seed-functions", "inference-functions", "exclude"}
_KNOWN_KEYS = _LIST_KEYS | {"per-file-ignores", "cache", "cache-dir"}


def _check_codes(values: tuple[str, ...], key: str) -> None:
    from .rules import ALL_RULES

    codes = [r.code for r in ALL_RULES]
    for v in values:
        if not v.startswith("TRP") or not any(c.startswith(v) for c in codes):
            raise ConfigError(f"unknown rule code or prefix {v!r} in {key!r} (see `torchlint-repro rules`)")


def settings_from_mapping(data: dict, source: str = "pyproject.toml") -> Settings:
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(
            f"{source}: unknown key(s) in [tool.torchlint-repro]: {', '.join(unknown)}; "
            f"known keys: {', '.join(sorted(_KNOWN_KEYS))}"
        )
    kwargs: dict = {}
    for key in _LIST_KEYS & set(data):
        value = data[key]
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{source}: {key!r} must be a list of strings")
        kwargs[key.replace("-", "_")] = tuple(value)
    for key in ("select", "ignore", "extend-select"):
        if key in data:
            _check_codes(kwargs[key.replace("-", "_")], key)
    if "per-file-ignores" in data:
        pfi = data["per-file-ignores"]
        if not isinstance(pfi, dict):
            raise ConfigError(f"{source}: 'per-file-ignores' must be a table of pattern = [codes]")
        items = []
        for pattern, codes in pfi.items():
            if isinstance(codes, str):
                codes = [c.strip() for c in codes.split(",") if c.strip()]
            codes = tuple(codes)
            _check_codes(codes, "per-file-ignores")
            items.append((pattern, codes))
        kwargs["per_file_ignores"] = tuple(items)
    if "cache" in data:
        if not isinstance(data["cache"], bool):
            raise ConfigError(f"{source}: 'cache' must be true or false")
        kwargs["cache"] = data["cache"]
    if "cache-dir" in data:
        kwargs["cache_dir"] = str(data["cache-dir"])
    return Settings(**kwargs)


def find_pyproject(start: str | os.PathLike) -> Path | None:
    """The nearest pyproject.toml with a [tool.torchlint-repro] table, walking up like ruff."""
    p = Path(start).resolve()
    if p.is_file():
        p = p.parent
    for d in (p, *p.parents):
        cand = d / "pyproject.toml"
        if cand.is_file():
            try:
                data = _read_toml(cand)
            except ConfigError:
                raise
            if "torchlint-repro" in data.get("tool", {}):
                return cand
    return None


def _read_toml(path: Path) -> dict:
    if tomllib is None:  # pragma: no cover
        return {}
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read TOML: {exc}") from exc


def load_settings(start: str | os.PathLike = ".", config: str | None = None) -> Settings:
    path = Path(config) if config else find_pyproject(start)
    if path is None:
        return Settings()
    data = _read_toml(path).get("tool", {}).get("torchlint-repro", {})
    return settings_from_mapping(data, str(path)).with_root(str(path.parent))
