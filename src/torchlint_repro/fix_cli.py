"""`torchlint-repro fix` (and `check --fix`, `check --diff`): apply the fixes in place, or show them as a diff.

ruff's tiers: safe fixes apply by default, unsafe ones with ``--unsafe-fixes`` (each rule's page and
`torchlint-repro rules` say which tier its fix is); ``--select``/``--ignore`` choose the findings as in
`check`, and ``# noqa`` comments are honoured, since the findings are `check`'s own.

A fix never loses or corrupts anything: the file is written back in its own encoding (PEP 263 coding
line, UTF-8 BOM) and line endings; through a symbolic link, its target is fixed; the new file keeps the
mode and owner of the old one and replaces it atomically, only if nobody changed or deleted it
meanwhile. A file that cannot be fixed that way (read-only, in a read-only folder, with other hard links,
someone else's) is left as it is and reported. Notebooks are fixed inside their code cells.
"""

from __future__ import annotations

import os
import sys

import click


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--diff", "show_diff", is_flag=True, help="Print the fixes as a unified diff; change no file.")
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="Apply unsafe fixes too: they may change what the program does (see each rule's Fix safety).",
)
@click.option("--select", multiple=True, help="Only fix these codes or prefixes (comma-separated), as in check.")
@click.option("--ignore", multiple=True, help="Do not fix these codes or prefixes.")
@click.option("--extend-select", multiple=True, help="Add codes to the selection, e.g. the off-by-default TRP102.")
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), help="Read settings from this pyproject.toml."
)
def fix(paths, show_diff: bool, unsafe_fixes: bool, select, ignore, extend_select, config_path) -> None:
    """Apply fixes to PATHS (default: the current folder): the safe ones, and the unsafe ones with
    --unsafe-fixes.

    Exit 0 when no finding remains, 1 when findings remain (with --diff: when there is something to
    fix), 2 on errors (a file that could not be read, parsed or written back).
    """
    sys.exit(run_fix(paths, select, ignore, extend_select, config_path, show_diff=show_diff, unsafe=unsafe_fixes))


def run_fix(
    paths, select, ignore, extend_select, config_path, *, show_diff: bool, unsafe: bool, report_left: bool = True
) -> int:
    """Fix (or, with ``show_diff``, print the diff of) every file of ``paths``; the exit status.

    ``report_left``: whether findings left after the fixes make the status 1 (`check --fix` reports
    them itself after the fixes)."""
    from .cli import cli_overrides, with_run_root
    from .config import ConfigError, SettingsResolver
    from .runner import collect_files, path_problem

    paths = paths or (".",)
    try:
        resolver = SettingsResolver(config_path, adjust=cli_overrides(select, ignore, extend_select, True))
        files, missing = collect_files(paths, resolver)
        work = with_run_root([(f, resolver.for_path(f)) for f in files], paths)
    except ConfigError as exc:
        click.echo(f"torchlint-repro: error: {exc}", err=True)
        return 2
    code = 2 if missing else 0
    for m in missing:
        click.echo(f"torchlint-repro: error: {m}: {path_problem(m)}", err=True)
    fixed_total = hidden = 0
    for path, settings in work:
        outcome = _fix_file(path, settings, show_diff, unsafe)
        fixed_total += outcome.fixed
        hidden += outcome.hidden
        code |= outcome.code if report_left or outcome.code == 2 else 0
    if show_diff and fixed_total:
        code |= 1
    verb = "would fix" if show_diff else "fixed"
    line = f"{verb} {fixed_total} finding{'s' if fixed_total != 1 else ''}"
    if hidden:
        line += f" ({hidden} more fix{'es' if hidden != 1 else ''} available with --unsafe-fixes)"
    click.echo(line, err=True)
    return code


class _Outcome:
    def __init__(self, fixed: int = 0, code: int = 0, hidden: int = 0) -> None:
        self.fixed, self.code, self.hidden = fixed, code, hidden


def _fix_file(path: str, settings, show_diff: bool, unsafe: bool) -> _Outcome:
    from ._io import WriteRefused, replace_checked
    from .engine import SourceError, SourceSkipped

    real = os.path.realpath(path)  # through a symbolic link: the target is the file to fix
    try:
        before = os.stat(real)
        if path.endswith(".ipynb"):
            original, new, fixed, remaining, hidden = _fix_notebook(path, real, settings, unsafe)
        else:
            original, new, fixed, remaining, hidden = _fix_python(path, real, settings, unsafe)
    except SourceSkipped as exc:
        click.echo(f"torchlint-repro: notice: {path}: {exc}", err=True)
        return _Outcome()
    except SourceError as exc:
        click.echo(f"torchlint-repro: error: {path}: {exc}", err=True)
        return _Outcome(code=2)
    except OSError as exc:
        click.echo(f"torchlint-repro: error: {path}: cannot read: {exc.strerror or exc}", err=True)
        return _Outcome(code=2)
    code = 1 if remaining or (show_diff and fixed) else 0  # findings remain in the file as it is on disk
    if not fixed:
        return _Outcome(0, code, hidden)
    if show_diff:
        from .fixes import unified_diff

        click.echo(unified_diff(path, original[1], new[1]), nl=False)
        return _Outcome(fixed, code, hidden)
    try:
        replace_checked(real, original[0], before, new[0])
    except WriteRefused as exc:
        click.echo(f"torchlint-repro: error: {path}: {exc}", err=True)
        return _Outcome(0, 2)
    except OSError as exc:
        click.echo(f"torchlint-repro: error: {path}: cannot write: {exc.strerror or exc}; not fixed", err=True)
        return _Outcome(0, 2)
    return _Outcome(fixed, code, hidden)


def _findings(source: str | bytes, path: str, settings):
    """The findings of the file's content, already read, as ``check`` gives them (the one pipeline decodes,
    parses, lints and applies ``noqa`` and the selection), and the decoded program."""
    from .engine import SourceError
    from .pipeline import lint_document

    result = lint_document(path, settings, source=source, result_cache=False, keep_source=True)
    if result.error is not None:
        raise SourceError(result.error)
    return result.diagnostics, (result.source, result.cells)


def _fix_python(path: str, real: str, settings, unsafe: bool):
    """((old bytes, old text), (new bytes, new text), fixed, findings left, unsafe fixes left) of a
    Python file."""
    from .engine import read_source_bytes, source_encoding
    from .fixes import fix_source

    data = read_source_bytes(real)  # read once: what is linted, fixed and compared before writing
    encoding = source_encoding(data)
    diags, (source, _) = _findings(data, path, settings)
    new, plan = fix_source(source, diags, unsafe=unsafe, seed=settings.fix_seed)
    hidden = len(plan.unsafe_skipped)
    if not plan.fixed:
        return (data, source), (data, source), 0, len(diags), hidden
    try:
        # the file's own encoding (utf-8-sig puts the BOM back), and nothing it cannot say
        new_data = new.encode(encoding)
        if new_data.decode(encoding) != new:
            raise UnicodeError("does not round-trip")
    except (UnicodeError, LookupError):
        return (data, source), (data, source), 0, len(diags), hidden
    fixed, left = _outcome(diags, plan.fixed, source, new_data, path, settings)
    if not fixed:  # the edits removed no finding: the file stays as it is
        return (data, source), (data, source), 0, len(diags), hidden
    return (data, source), (new_data, new), fixed, left, hidden


def _outcome(before: list, fixed: list, old: str, new, path: str, settings) -> tuple[int, int]:
    """(findings the fixes really removed, findings left), of the findings ``before`` whose fixes are
    ``fixed``: the fixed text is linted again, and a finding
    of the old text counts as fixed only when the new text no longer has it (the same code at the same
    place on a line that reads the same). A planned fix is no proof: an ``eval()`` that cannot reach the
    forward leaves the finding where it was."""
    from collections import Counter

    from .engine import SourceError
    from .fixes import REWRITES

    if all(d.code in REWRITES for d in fixed):
        return len(fixed), len(before) - len(fixed)
    try:
        after, (text, _) = _findings(new, path, settings)
    except SourceError:
        return 0, len(before)

    def place(d, source: str) -> tuple:
        lines = source.splitlines()
        line = lines[d.line - 1] if 0 < d.line <= len(lines) else ""
        indent = len(line) - len(line.lstrip())
        return d.code, line.strip(), d.col - indent

    still = Counter(place(d, text or "") for d in after)
    planned = {id(d) for d in fixed}
    gone = 0
    # a finding no fix was planned for is not fixed (its line may read otherwise only because another finding's
    # fix rewrote it, `return a(x) + b(x)` becoming `output = a(x) + b(x)`): those are matched first, so one
    # left on a line that reads like a fixed one's (`out = model(x)` in two functions) is not taken for it
    for d in sorted(before, key=lambda d: id(d) in planned):
        key = place(d, old)
        if still[key]:
            still[key] -= 1
        elif id(d) in planned:
            gone += 1
    return gone, len(after)


def _fix_notebook(path: str, real: str, settings, unsafe: bool):
    """The same for a notebook: the fixes go into the code cells' source strings."""
    from .engine import SourceError
    from .fixes import fix_notebook, notebook_program
    from .notebooks import parse_notebook, read_notebook_bytes

    data = read_notebook_bytes(real)
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"invalid notebook: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    import json

    program, where, originals = notebook_program(parse_notebook(raw, json.loads))
    diags, (linted, cells) = _findings(raw, path, settings)
    if linted != program or (cells or []) != where:  # pragma: no cover - both come from the same cells
        raise SourceError("the notebook's cells could not be mapped back for fixing")
    result = fix_notebook(raw, diags, program, where, originals, unsafe=unsafe, seed=settings.fix_seed)
    for d, why in result.unfixed:
        cell, line = where[d.line - 1] if 0 < d.line <= len(where) else (0, d.line)
        click.echo(f"torchlint-repro: notice: {path}: cell {cell}, line {line}: {d.code} not fixed: {why}", err=True)
    if not result.fixed:
        return (data, raw), (data, raw), 0, len(diags), len(result.unsafe_skipped)
    fixed, left = _outcome(diags, result.fixed_findings, linted, result.text, path, settings)
    if not fixed:
        return (data, raw), (data, raw), 0, len(diags), len(result.unsafe_skipped)
    new_data = (b"\xef\xbb\xbf" if bom else b"") + result.text.encode("utf-8")
    return (data, raw), (new_data, result.text), fixed, left, len(result.unsafe_skipped)
