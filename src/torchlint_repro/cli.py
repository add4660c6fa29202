"""The command line: check, rules, explain, verify (click)."""

from __future__ import annotations

import os
import sys
from dataclasses import replace

import click

from . import __version__
from .config import ConfigError, Settings

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
    help="Output format: text, json, sarif (SARIF 2.1.0 for GitHub code scanning), github (workflow annotations).",
)
@click.option(
    "-o",
    "--output-file",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--statistics",
    is_flag=True,
    help="Count the findings per code after the report (on stderr for json, sarif and github).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Read settings from this pyproject.toml only (default: the nearest one above each file).",
)
@click.option(
    "--force-exclude",
    is_flag=True,
    help="Apply `exclude` to files named on the command line too (what the pre-commit hook does).",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    default=0,
    help="Parallel processes (default 0: all cores; 1: in this process).",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text output (default: on a terminal, or with FORCE_COLOR set; never with NO_COLOR set).",
)
@click.option(
    "--stdin-filename",
    metavar="PATH",
    help="With PATH `-`: the name of the file read from standard input (for its project, its "
    "configuration and the report).",
)
@click.option(
    "--notebook-locations",
    type=click.Choice(["cells", "flat"]),
    default="cells",
    show_default=True,
    help="Text output for notebooks: `cell 3:line 2:5` (cells), or `path:line:col` in the .ipynb "
    "file itself (flat, for problem matchers).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only findings and errors (no progress bar).")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Also list, on stderr, where a bound made the analysis widen to *maybe* (a loop that did not "
    "settle, a function called with too many states, callers searched only so far).",
)
@click.option(
    "--fix",
    "apply_fixes",
    is_flag=True,
    help="Apply the fixes first (as `torchlint-repro fix`), then report what is left.",
)
@click.option(
    "--diff",
    "show_diff",
    is_flag=True,
    help="Print the fixes as a unified diff and change nothing (exit 1 when there is something to fix).",
)
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff: apply unsafe fixes too.")
def check(
    paths,
    select,
    ignore,
    extend_select,
    output_format,
    output_file,
    statistics,
    no_cache,
    config_path,
    force_exclude,
    jobs,
    exit_zero,
    color,
    stdin_filename,
    notebook_locations,
    quiet,
    verbose,
    apply_fixes,
    show_diff,
    unsafe_fixes,
):
    """Lint PATHS: Python files, notebooks (.ipynb), folders, globs (default: the current folder);
    `-` reads one file from standard input.

    Exit status: 0 clean, 1 findings, 2 usage or internal error (3: findings and errors). With --diff:
    0 nothing to fix, 1 something to fix, 2 errors.
    """
    if apply_fixes or show_diff:
        if "-" in paths:
            _usage_error("--fix and --diff work on files, not on standard input")
        from .fix_cli import run_fix

        status = run_fix(
            paths,
            select,
            ignore,
            extend_select,
            config_path,
            show_diff=show_diff,
            unsafe=unsafe_fixes,
            report_left=False,
        )
        if show_diff or status == EXIT_ERROR:
            sys.exit(status)
    try:
        _check(
            paths,
            select,
            ignore,
            extend_select,
            output_format,
            output_file,
            statistics,
            no_cache,
            config_path,
            force_exclude,
            jobs,
            exit_zero,
            color,
            stdin_filename,
            notebook_locations,
            quiet,
            verbose,
        )
    except (KeyboardInterrupt, SystemExit, click.exceptions.Exit, click.ClickException):
        raise
    except Exception:  # noqa: BLE001 - a crash is exit 2, never mistaken for "findings" (1)
        import traceback

        click.echo(f"torchlint-repro: internal error (please report it):\n{traceback.format_exc()}", err=True)
        sys.exit(EXIT_ERROR)


def _check(
    paths,
    select,
    ignore,
    extend_select,
    output_format,
    output_file,
    statistics,
    no_cache,
    config_path,
    force_exclude,
    jobs,
    exit_zero,
    color,
    stdin_filename=None,
    notebook_locations="cells",
    quiet=False,
    verbose=False,
) -> None:
    from .config import SettingsResolver
    from .reporting import render, render_statistics
    from .runner import collect_files, lint_files, path_problem

    paths = paths or (".",)
    if "-" in paths and len(paths) > 1:
        _usage_error("`-` (standard input) cannot be combined with other paths")
    if stdin_filename and paths != ("-",):
        _usage_error("--stdin-filename needs the path `-`")
    missing: list[str] = []
    try:
        overrides = cli_overrides(select, ignore, extend_select, no_cache)
        resolver = SettingsResolver(config_path, adjust=overrides, force_exclude=force_exclude)
        if paths == ("-",):
            results = [_lint_stdin(resolver, stdin_filename, force_exclude)]
        else:
            for p in paths:  # report a broken configuration before any work
                if os.path.exists(p):
                    resolver.for_path(p)
            files, missing = collect_files(paths, resolver)
            work = with_run_root([(f, resolver.for_path(f)) for f in files], paths)
    except ConfigError as exc:
        _usage_error(str(exc))
    if paths != ("-",):
        for m in missing:
            click.echo(f"torchlint-repro: error: {m}: {path_problem(m)}", err=True)
        if missing and not files:
            sys.exit(EXIT_ERROR)
        results = lint_files(work, jobs=jobs or (os.cpu_count() or 1), progress=_stderr_is_terminal() and not quiet)

    to_stdout = output_file is None
    if color is None:
        color = output_format == "text" and to_stdout and _color_wanted(sys.stdout.isatty())
    text = render(
        results, output_format, color=bool(color), statistics=statistics, flat_notebooks=notebook_locations == "flat"
    )
    if output_file:
        try:
            with open(output_file, "w", encoding="utf-8") as fh:
                fh.write(text + ("\n" if text else ""))
        except OSError as exc:
            click.echo(f"torchlint-repro: error: cannot write {output_file}: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_ERROR)
    elif text:
        click.echo(text, color=bool(color))  # click strips ANSI codes off a non-terminal unless told
    if statistics and output_format != "text":
        click.echo(render_statistics(results), err=True)

    if not quiet:
        from .analysis.project import seed_function_warnings

        checked: list[tuple[str | None, Settings]]
        if paths != ("-",):
            checked = list(work)
        elif stdin_filename:
            checked = [(stdin_filename, resolver.for_path(stdin_filename))]
        else:
            checked = [(None, resolver.for_dir(os.getcwd()))]
        for warning in seed_function_warnings(checked):
            click.echo(f"torchlint-repro: warning: {warning}", err=True)
    for r in results:
        if r.notice:
            click.echo(f"torchlint-repro: notice: {r.path}: {r.notice}", err=True)
        if verbose:
            for note in r.widened:
                click.echo(f"torchlint-repro: widened: {r.path}: {note}", err=True)
    errors = [r for r in results if r.error]
    for r in errors:
        click.echo(f"torchlint-repro: error: {r.path}: {r.error}", err=True)
    internal = any(d.code == "TRP900" for r in results for d in r.diagnostics)
    code = EXIT_CLEAN
    if any(r.diagnostics for r in results) and not exit_zero:
        code |= EXIT_FINDINGS
    if errors or missing or internal:
        code |= EXIT_ERROR
    sys.exit(code)


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _usage_error(message: str) -> None:
    click.echo(f"torchlint-repro: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _color_wanted(terminal: bool) -> bool:
    """NO_COLOR (https://no-color.org) wins, then FORCE_COLOR (https://force-color.org), then whether the
    output is a terminal: CPython's own order."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return terminal


def _lint_stdin(resolver, name: str | None, force_exclude: bool):
    """`check -`: one file from standard input, linted as if it were ``name`` (its project, its
    configuration, its per-file-ignores), reported under that name or `-`."""
    from .pipeline import FileResult, lint_document

    settings = resolver.for_path(name) if name else resolver.for_dir(os.getcwd())
    data = sys.stdin.buffer.read()
    if name and force_exclude and settings.is_excluded(name):
        return FileResult(name)
    return lint_document(name, settings, source=data, display_path=name or "-")


def run_root(paths, files) -> str | None:
    """The root of a run for files with no project marker above them: the common folder of the paths
    named (and of the files they matched); None when that is the filesystem root or the home folder,
    too wide to be one project (each file then keeps its own folder)."""
    folders = [os.path.realpath(p) for p in paths if os.path.isdir(p)]
    folders += [os.path.dirname(os.path.realpath(f)) for f in files]
    if not folders:
        return None
    try:
        common = os.path.commonpath(folders)
    except ValueError:  # different drives
        return None
    if os.path.dirname(common) == common or common == os.path.realpath(os.path.expanduser("~")):
        return None
    return common


def with_run_root(work: list[tuple[str, Settings]], paths) -> list[tuple[str, Settings]]:
    root = run_root(paths, [f for f, _ in work])
    if root is None:
        return work
    rooted: dict[int, Settings] = {}
    out = []
    for f, s in work:
        if id(s) not in rooted:
            rooted[id(s)] = replace(s, project_root=root)
        out.append((f, rooted[id(s)]))
    return out


def cli_overrides(select, ignore, extend_select, no_cache):
    """The command line's options as a function applied to every configuration file's settings:
    they form a layer on top of the file's selection (ruff's order), so `--ignore TRP2` wins over a
    configured `select = ["TRP201"]` and `--select` replaces the configured selection."""
    from .config import check_codes

    select, ignore, extend_select = _split_codes(select), _split_codes(ignore), _split_codes(extend_select)
    for values, key in ((select, "--select"), (ignore, "--ignore"), (extend_select, "--extend-select")):
        check_codes(values, key)

    def adjust(settings: Settings) -> Settings:
        settings = replace(settings, cli_select=select, cli_ignore=ignore, cli_extend_select=extend_select)
        if no_cache:
            settings = replace(settings, cache=False)
        return settings

    return adjust


@main.command()
@click.option("--all", "show_all", is_flag=True, help="Also list internal codes.")
def rules(show_all: bool) -> None:
    """List every rule: code, name, default state, fix (safe, unsafe, or safe/unsafe as the code around
    the finding decides; - when none), summary."""
    from .rules import ALL_RULES

    rows = [r for r in ALL_RULES if show_all or not r.code.startswith("TRP9")]
    width = max(len(r.name) for r in rows)
    click.echo(f"{'code':<7} {'name':<{width}}  {'default':<8} {'fix':<12} summary")
    for r in rows:
        state = "on" if r.default_enabled else "off"
        click.echo(f"{r.code:<7} {r.name:<{width}}  {state:<8} {r.fix or '-':<12} {r.summary}")


@main.command(short_help="Print the documentation page of a rule, for example TRP201.")
@click.argument("code")
def explain(code: str) -> None:
    """Print the documentation page of rule CODE, for example TRP201."""
    from .docs import BANNER, render_rule_page
    from .rules import RULES_BY_CODE

    rule = RULES_BY_CODE.get(code.upper())
    if rule is None:
        click.echo(f"torchlint-repro: error: unknown rule code {code!r} (see `torchlint-repro rules`)", err=True)
        sys.exit(EXIT_ERROR)
    page = render_rule_page(rule)
    if page.startswith(BANNER + "\n"):
        page = page[len(BANNER) + 1 :]  # (a note to the page's editors, not to its reader)
    click.echo(page)


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
