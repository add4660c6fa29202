"""The command line: check, rules, explain, verify (click)."""
from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import click

from . import __version__
from .config import ConfigError, Settings, load_settings

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _split_codes(values: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for v in values:
        out.extend(c.strip().upper() for c in v.split(",") if c.strip())
    return tuple(out)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="torchlint-repro")
def main() -> None:
    """Catch PyTorch reproducibility bugs before they run."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--select", multiple=True, help="Only these codes or prefixes (comma-separated), e.g. TRP1,TRP201.")
@click.option("--ignore", multiple=True, help="Skip these codes or prefixes.")
@click.option("--extend-select", multiple=True, help="Add codes to the selection, e.g. the off-by-default TRP102.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "sarif", "github"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("--statistics", is_flag=True, help="Print a count of findings per code after the findings.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Read settings from this pyproject.toml.")
@click.option("-j", "--jobs", type=int, default=0, help="Parallel processes (default: all cores; 1 = in this process).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--color/--no-color", default=None, help="Colour the text output (default: only on a terminal).")
def check(paths, select, ignore, extend_select, output_format, statistics, no_cache, config_path, jobs, exit_zero, color):
    """Lint PATHS (files, folders, globs; default: the current folder)."""
    from .runner import collect_files, lint_many
    from .reporting import render

    paths = paths or (".",)
    try:
        settings = load_settings(paths[0], config_path)
        settings = _apply_cli(settings, select, ignore, extend_select, no_cache)
    except ConfigError as exc:
        click.echo(f"torchlint-repro: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    files, missing = collect_files(paths, settings)
    for m in missing:
        click.echo(f"torchlint-repro: error: {m}: no such file or directory", err=True)
    if not files and missing:
        sys.exit(EXIT_ERROR)
    results = lint_many(files, settings, jobs=jobs or (os.cpu_count() or 1), progress=sys.stderr.isatty())
    use_color = color if color is not None else (output_format == "text" and sys.stdout.isatty())
    text = render(results, output_format, color=use_color, statistics=statistics)
    if text:
        click.echo(text, nl=not text.endswith("\n"))
    errors = [r for r in results if r.error]
    for r in errors:
        if output_format == "text":
            continue  # already printed by render
        click.echo(f"torchlint-repro: error: {r.path}: {r.error}", err=True)
    code = EXIT_CLEAN
    if any(r.diagnostics for r in results) and not exit_zero:
        code |= EXIT_FINDINGS
    if errors or missing:
        code |= EXIT_ERROR
    sys.exit(code)


def _apply_cli(settings: Settings, select, ignore, extend_select, no_cache) -> Settings:
    from .config import _check_codes

    select, ignore, extend_select = _split_codes(select), _split_codes(ignore), _split_codes(extend_select)
    for values, key in ((select, "--select"), (ignore, "--ignore"), (extend_select, "--extend-select")):
        _check_codes(values, key)
    if select:
        settings = replace(settings, select=select)
    if ignore:
        settings = replace(settings, ignore=settings.ignore + ignore)
    if extend_select:
        settings = replace(settings, extend_select=settings.extend_select + extend_select)
    if no_cache:
        settings = replace(settings, cache=False)
    return settings


@main.command()
@click.option("--all", "show_all", is_flag=True, help="Also list internal codes.")
def rules(show_all: bool) -> None:
    """List every rule: code, name, default state, summary."""
    from .rules import ALL_RULES

    rows = [r for r in ALL_RULES if show_all or not r.code.startswith("TRP9")]
    width = max(len(r.name) for r in rows)
    click.echo(f"{'code':<7} {'name':<{width}}  {'default':<8} summary")
    for r in rows:
        state = "on" if r.default_enabled else "off"
        click.echo(f"{r.code:<7} {r.name:<{width}}  {state:<8} {r.summary}")


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Print the documentation page of rule CODE (e.g. TRP201)."""
    from .docs import render_rule_page
    from .rules import RULES_BY_CODE

    rule = RULES_BY_CODE.get(code.upper())
    if rule is None:
        click.echo(f"torchlint-repro: error: unknown rule code {code!r} (see `torchlint-repro rules`)", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(render_rule_page(rule))


def _register_verify() -> None:
    try:
        from .verify.cli import verify
    except ImportError:  # the verifier is optional at import time; its command explains what is missing
        return
    main.add_command(verify)


_register_verify()


def _register_fix() -> None:
    from .fix_cli import fix

    main.add_command(fix)


_register_fix()

if __name__ == "__main__":  # pragma: no cover
    main()
