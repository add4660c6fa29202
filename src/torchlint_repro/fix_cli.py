"""`torchlint-repro fix`: apply the safe fixes (TRP202, TRP302) in place, or show them as a diff."""
from __future__ import annotations

import sys

import click


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--diff", "show_diff", is_flag=True, help="Print the fixes as a unified diff; change no file.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Read settings from this pyproject.toml.")
def fix(paths, show_diff: bool, config_path) -> None:
    """Apply safe fixes to PATHS (default: the current folder).

    Exit 0 when nothing fixable is left unfixed and no other finding remains, 1 when findings remain,
    2 on errors.
    """
    from dataclasses import replace

    from .config import ConfigError, load_settings
    from .fixes import fix_source, unified_diff, write_atomically
    from .pipeline import lint_document
    from .runner import collect_files, path_problem

    paths = paths or (".",)
    try:
        settings = replace(load_settings(paths[0], config_path), cache=False)
    except ConfigError as exc:
        click.echo(f"torchlint-repro: error: {exc}", err=True)
        sys.exit(2)
    files, missing = collect_files(paths, settings)
    code = 2 if missing else 0
    for m in missing:
        click.echo(f"torchlint-repro: error: {m}: {path_problem(m)}", err=True)
    fixed_total = 0
    for path in files:
        if path.endswith(".ipynb"):
            continue  # notebooks are reported by `check`; rewriting cells is left to the user
        result = lint_document(path, settings, keep_source=True)
        if result.error is not None:
            click.echo(f"torchlint-repro: error: {path}: {result.error}", err=True)
            code |= 2
            continue
        source, diags = result.source, result.diagnostics
        new, n = fix_source(source, diags)
        if n:
            fixed_total += n
            if show_diff:
                click.echo(unified_diff(path, source, new), nl=False)
            else:
                write_atomically(path, new)
        if len(diags) > n or (show_diff and diags):
            code |= 1  # findings remain in the file as it is on disk
    verb = "would fix" if show_diff else "fixed"
    click.echo(f"{verb} {fixed_total} finding{'s' if fixed_total != 1 else ''}", err=True)
    sys.exit(code)
