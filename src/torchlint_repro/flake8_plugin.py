"""The flake8 entry point (code prefix TRP): a thin adapter over :func:`engine.lint_source`."""
from __future__ import annotations

import ast
from typing import Iterator

from . import __version__
from .config import Settings, load_settings
from .engine import lint_source


class Plugin:
    name = "torchlint-repro"
    version = __version__
    off_by_default = False

    _settings: Settings | None = None  # read once per process (parse_options), not per file
    _from_flake8 = False

    def __init__(self, tree: ast.AST, filename: str = "stdin", lines: list[str] | None = None) -> None:
        # `tree` is the ast flake8 already built for every plugin: we reuse it instead of parsing again.
        self.tree = tree
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, optmanager) -> None:
        optmanager.add_option(
            "--trp-seed-functions",
            default="",
            parse_from_config=True,
            comma_separated_list=True,
            help="Fully-qualified names of project functions that seed torch (TRP1xx), "
            "e.g. mypkg.utils.seed_all.",
        )
        optmanager.add_option(
            "--trp-inference-functions",
            default="",
            parse_from_config=True,
            comma_separated_list=True,
            help="Glob patterns of function names whose body is an inference region (TRP201). "
            "Replaces the defaults (evaluate, validate, test, predict, infer*, ...).",
        )
        optmanager.add_option(
            "--trp-no-cache",
            default=False,
            action="store_true",
            parse_from_config=True,
            help="Do not read or write torchlint-repro's cache.",
        )
        # TRP102 and TRP204 are off by default, the way bugbear keeps its opinionated checks off.
        from .rules import ALL_RULES

        optmanager.extend_default_ignore([r.code for r in ALL_RULES if not r.default_enabled])

    @classmethod
    def parse_options(cls, options) -> None:
        kwargs = {}
        if getattr(options, "trp_seed_functions", None):
            kwargs["seed_functions"] = tuple(options.trp_seed_functions)
        if getattr(options, "trp_inference_functions", None):
            kwargs["inference_functions"] = tuple(options.trp_inference_functions)
        if getattr(options, "trp_no_cache", False):
            kwargs["cache"] = False
        cls._settings = Settings(**kwargs)
        cls._from_flake8 = bool(kwargs)

    def _resolve_settings(self) -> Settings:
        base = type(self)._settings
        if base is not None and type(self)._from_flake8:
            return base
        # No flake8 options given: the same [tool.torchlint-repro] the CLI reads, found once per root.
        try:
            found = _pyproject_settings(self.filename)
        except Exception:  # noqa: BLE001 - a broken config must not break flake8
            found = Settings()
        if base is not None and not base.cache:
            from dataclasses import replace

            found = replace(found, cache=False)
        return found

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        source = "".join(self.lines) if self.lines is not None else None
        if source is None:
            try:
                from .engine import read_source

                source = read_source(self.filename)
            except Exception:  # noqa: BLE001
                return
        if "torch" not in source and "import" not in source:
            return
        settings = self._resolve_settings()
        path = None if self.filename in ("stdin", "-", None) else self.filename
        tree = self.tree if isinstance(self.tree, ast.Module) else None
        diags = None
        cache = None
        if path is not None and settings.cache:
            try:
                from .analysis.cache import ResultCache

                cache = ResultCache.for_path(path, settings)
                diags = cache.get(path, source) if cache else None
            except Exception:  # noqa: BLE001 - a broken cache is only a slower run
                cache, diags = None, None
        if diags is None:
            diags = lint_source(source, path, settings, tree)
            if cache is not None and not any(d.code == "TRP900" for d in diags):
                cache.put(path, source, diags)
        for d in diags:
            yield d.line, d.col, f"{d.code} {d.message}", type(self)


_PYPROJECT_CACHE: dict[str, Settings] = {}


def _pyproject_settings(filename: str) -> Settings:
    from pathlib import Path

    from .config import find_pyproject

    start = Path(filename).parent if filename not in ("stdin", "-") else Path.cwd()
    key = str(start)
    if key not in _PYPROJECT_CACHE:
        cfg = find_pyproject(start)
        _PYPROJECT_CACHE[key] = load_settings(start, str(cfg)) if cfg else Settings()
    return _PYPROJECT_CACHE[key]
