"""The flake8 entry point (code prefix TRP): a thin adapter over :func:`pipeline.lint_document`.

The plugin applies the same ``[tool.torchlint-repro]`` section as ``check`` (the nearest one above the
linted file): its ``select``/``ignore``/``extend-select``, ``per-file-ignores`` and ``exclude`` filter
the plugin's own diagnostics, so an editor, pre-commit's flake8 and ``check`` show the same findings.
flake8's own options are a layer on top, the way ``check``'s command line is: the TRP codes named in
flake8's ``--select``/``--extend-select``/``--ignore``/``--extend-ignore`` (command line or flake8
configuration) form the same "command line" layer, and ``--trp-seed-functions`` /
``--trp-inference-functions`` / ``--trp-no-cache`` replace the section's values. A broken section
(invalid TOML, an unknown key or code) cannot be shown any other way through flake8, so it is reported
as one TRP901 diagnostic on line 1 of every file it governs, and nothing else is reported for them
(``check`` exits 2 in that case).

The rules that are off by default (TRP102, TRP104, TRP204) are kept off by the plugin itself rather than by
flake8's extended default ignore: a default ignore would also hide a rule the section enables.
"""

from __future__ import annotations

import ast
import multiprocessing
import os
import sys
from collections.abc import Iterator
from dataclasses import replace

from . import __version__
from .config import ConfigError, Settings, SettingsResolver

CONFIG_ERROR = "TRP901"


class Plugin:
    name = "torchlint-repro"
    version = __version__
    off_by_default = False

    _overrides: dict | None = None  # flake8's options, read once per process (parse_options)
    _noqa = True
    _resolver: SettingsResolver | None = None

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
            help="Fully-qualified names of project functions that seed torch (TRP1xx), e.g. mypkg.utils.seed_all.",
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

    @classmethod
    def parse_options(cls, options) -> None:
        overrides: dict = {}
        if getattr(options, "trp_seed_functions", None):
            overrides["seed_functions"] = tuple(options.trp_seed_functions)
        if getattr(options, "trp_inference_functions", None):
            overrides["inference_functions"] = tuple(options.trp_inference_functions)
        if getattr(options, "trp_no_cache", False):
            overrides["cache"] = False
        overrides["cli_select"] = _trp_codes(getattr(options, "select", None))
        overrides["cli_extend_select"] = _trp_codes(getattr(options, "extend_select", None))
        overrides["cli_ignore"] = _trp_codes(getattr(options, "ignore", None)) + _trp_codes(
            getattr(options, "extend_ignore", None)
        )
        cls._overrides = overrides
        cls._noqa = not getattr(options, "disable_noqa", False)
        cls._resolver = None
        if multiprocessing.parent_process() is None:  # once per run: flake8's workers parse options again
            cls._warn_seed_functions(getattr(options, "filenames", None) or ["."])

    @classmethod
    def _warn_seed_functions(cls, filenames: list[str]) -> None:
        """`seed-functions` entries that match nothing in the linted project, on standard error (flake8 has no
        place for a warning that belongs to no file). Never fails the run."""
        from .analysis.project import seed_function_warnings

        try:
            resolver = cls._settings_resolver()
            work: list[tuple[str | None, Settings]] = []
            for name in filenames[:1] or ["."]:
                if name in ("-", "stdin"):
                    work.append((None, resolver.for_dir(os.getcwd())))
                else:
                    full = os.path.abspath(name)
                    anchor = full if os.path.isfile(full) else os.path.join(full, "-")
                    work.append((anchor, resolver.for_path(anchor) if os.path.isfile(full) else resolver.for_dir(full)))
            for warning in seed_function_warnings(work):
                print(f"torchlint-repro: warning: {warning}", file=sys.stderr)
        except Exception:  # noqa: BLE001 - a broken configuration is reported on the files (TRP901)
            return

    @classmethod
    def _settings_resolver(cls) -> SettingsResolver:
        if cls._resolver is None:
            overrides = cls._overrides or {}
            cls._resolver = SettingsResolver(adjust=lambda s: replace(s, **overrides))
        return cls._resolver

    def _path(self) -> str | None:
        return None if self.filename in ("stdin", "-", None) else self.filename

    def _settings(self) -> Settings:
        """The settings that govern this file; raises ConfigError for a broken section."""
        path = self._path()
        resolver = self._settings_resolver()
        return resolver.for_path(path) if path is not None else resolver.for_dir(os.getcwd())

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        from .pipeline import lint_document

        try:
            settings = self._settings()
        except ConfigError as exc:
            yield 1, 0, f"{CONFIG_ERROR} invalid torchlint-repro configuration: {exc}", type(self)
            return
        path = self._path()
        if path is not None and settings.is_excluded(path):
            return
        source = "".join(self.lines) if self.lines is not None else None
        if source is not None and "torch" not in source and "import" not in source:
            return  # the cheap screen: nothing to find, nothing to read
        tree = self.tree if isinstance(self.tree, ast.Module) else None
        result = lint_document(path, settings, source=source, tree=tree, noqa=type(self)._noqa)
        if result.error is not None:
            return  # unreadable or a syntax error: flake8 reports E902 / E999 itself
        for d in result.diagnostics:
            yield d.line, d.col, f"{d.code} {d.message}", type(self)


def _trp_codes(values) -> tuple[str, ...]:
    """The TRP codes among a flake8 select/ignore list (flake8 itself applies the others)."""
    return tuple(v.strip().upper() for v in values or () if v.strip().upper().startswith("TRP"))
